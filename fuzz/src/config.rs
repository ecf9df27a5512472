//! Fuzz target (c): the C API's configuration layer with arbitrary strings,
//! then an engine built from whatever configuration resulted.
//!
//! The input is lines `key=value` (no `=`: the whole line is the key and the
//! value is empty; a NUL ends a string, as C sees it). Each line goes to
//! `penguin_config_set` and, when it is UTF-8, to `Config::set`: the codes must
//! agree and a refused value must change nothing. The whole text must load with
//! `Config::load_str` exactly as its lines set one by one (all or nothing).
//! Then `penguin_new`, a short learning curve through `penguin_observe` and
//! `penguin_observe_batch`, and a save/load through a memory buffer: no call may
//! end in `PENGUIN_ERROR_INTERNAL` (a caught panic).
//!
//! Plain std + penguin, so tests/fuzz_regressions.rs includes this file as it is.

use penguin::config::Direction;
use penguin::ffi::*;
use penguin::{Config, Engine, ErrorCode};
use std::ffi::CString;
use std::ptr;

/// Lines per input.
const MAX_LINES: usize = 12;

/// Set before the input's lines (which may set them again).
const CHEAP: &[(&str, &str)] = &[
    ("fit_patience", "20"),
    ("fit_restarts", "0"),
    ("threads", "1"),
];

fn c_string(bytes: &[u8]) -> CString {
    let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    CString::new(&bytes[..end]).unwrap()
}

fn code_of(r: Result<(), penguin::Error>) -> i32 {
    match r {
        Ok(()) => PENGUIN_OK,
        Err(e) => e.code as i32,
    }
}

/// `Config::load_str`'s documented grammar, line by line through `Config::set`.
fn load_like_set(text: &str) -> Result<Config, ErrorCode> {
    let mut c = Config::default();
    for line in text.lines() {
        let line = line.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        let (k, v) = line.split_once('=').ok_or(ErrorCode::InvalidConfigValue)?;
        c.set(k.trim(), v.trim()).map_err(|e| e.code)?;
    }
    Ok(c)
}

/// Runs one input. Panics when the configuration layer or the engine misbehaves.
pub fn run(data: &[u8]) {
    // The whole text through load_str, against the same lines set one by one.
    if let Ok(text) = std::str::from_utf8(data) {
        let mut loaded = Config::default();
        let before = loaded.to_text();
        match (loaded.load_str(text), load_like_set(text)) {
            (Ok(()), Ok(c)) => assert_eq!(loaded.to_text(), c.to_text()),
            (Err(e), Err(code)) => {
                assert_eq!(e.code, code, "{}", e.message);
                assert_eq!(
                    loaded.to_text(),
                    before,
                    "a refused load_str changed the configuration"
                );
            }
            (a, b) => panic!("load_str {a:?}, line by line {:?}", b.map(|c| c.to_text())),
        }
    }

    let mut cfg: *mut penguin_config_t = ptr::null_mut();
    assert_eq!(penguin_config_new(&mut cfg), PENGUIN_OK);
    // The Rust twin of `cfg`, while every line so far was UTF-8.
    let mut twin = Some(Config::default());
    // Shorter solver runs unless the input says otherwise: the paper's
    // defaults cost ~40 ms an input under ASan, which starves the fuzzer.
    for (k, v) in CHEAP {
        let (ck, cv) = (CString::new(*k).unwrap(), CString::new(*v).unwrap());
        assert_eq!(
            penguin_config_set(cfg, ck.as_ptr(), cv.as_ptr()),
            PENGUIN_OK
        );
        twin.as_mut().unwrap().set(k, v).unwrap();
    }
    for line in data.split(|&b| b == b'\n').take(MAX_LINES) {
        let (key, value) = match line.iter().position(|&b| b == b'=') {
            Some(i) => (&line[..i], &line[i + 1..]),
            None => (line, &[][..]),
        };
        let (ck, cv) = (c_string(key), c_string(value));
        let code = penguin_config_set(cfg, ck.as_ptr(), cv.as_ptr());
        assert_ne!(
            code, PENGUIN_ERROR_INTERNAL,
            "penguin_config_set({ck:?}, {cv:?})"
        );
        match (ck.to_str(), cv.to_str()) {
            (Ok(k), Ok(v)) => {
                if let Some(t) = &mut twin {
                    let before = t.to_text();
                    let r = t.set(k, v);
                    if r.is_err() {
                        assert_eq!(
                            t.to_text(),
                            before,
                            "a refused set({k:?}, {v:?}) changed the configuration"
                        );
                    }
                    assert_eq!(code, code_of(r), "penguin_config_set({k:?}, {v:?})");
                }
            }
            _ => {
                assert_eq!(
                    code, PENGUIN_ERROR_INVALID_ARGUMENT,
                    "not UTF-8: {ck:?} = {cv:?}"
                );
                twin = None;
            }
        }
    }

    let mut engine: *mut penguin_t = ptr::null_mut();
    let code = penguin_new(cfg, &mut engine);
    penguin_config_free(cfg);
    assert_ne!(code, PENGUIN_ERROR_INTERNAL);
    let rust = twin.map(Engine::new);
    if let Some(r) = &rust {
        assert_eq!(
            code,
            code_of(r.as_ref().map(|_| ()).map_err(Clone::clone)),
            "penguin_new"
        );
    }
    if code != PENGUIN_OK {
        assert!(engine.is_null(), "an output written on failure");
        return;
    }
    let Some(Ok(rust)) = rust else {
        penguin_free(engine);
        return;
    };
    let config = rust.config();
    // The configuration's text reads back to the same configuration, every
    // float to the same bits (saved states carry the configuration as text,
    // and a restored engine must decide exactly as the original).
    let mut again = Config::default();
    again
        .load_str(&config.to_text())
        .expect("to_text reads back");
    assert_eq!(again.to_text(), config.to_text());
    assert_eq!(numbers(&again), numbers(config), "{}", config.to_text());

    let costly = config.fit.patience > 400
        || config.fit.warm_patience > 400
        || config.fit.restarts > 4
        || config.threads > 4
        || config.min_points() > 16;
    if !costly {
        exercise(engine, config.direction == Direction::Minimize);
    }
    penguin_free(engine);
}

/// A short learning curve and a save/load on an engine from the C API.
fn exercise(engine: *mut penguin_t, minimize: bool) {
    let curve = |k: u32| {
        let x = 0.7f64.powi(k as i32);
        if minimize {
            0.3 + 2.0 * x
        } else {
            85.0 - 70.0 * x
        }
    };
    let mut st = penguin_nn_status_t::from(&penguin::Status::EMPTY);
    let mut stopped = false;
    for k in 1..=8u32 {
        let code = penguin_observe(engine, 7, 0.5 * f64::from(k), curve(k), &mut st);
        assert_ne!(
            code,
            PENGUIN_ERROR_INTERNAL,
            "penguin_observe at epoch {}",
            0.5 * f64::from(k)
        );
        if stopped {
            assert_eq!(code, PENGUIN_ERROR_ALREADY_DECIDED);
        } else {
            assert_eq!(code, PENGUIN_OK);
            assert_eq!(st.observations, k);
            stopped = st.state != PENGUIN_CONTINUE;
        }
    }
    let ids = [1u64, 2, 1, 2];
    let epochs = [0.5, 0.5, 1.0, 1.0];
    let fitness = [curve(1), curve(1), curve(2), curve(2)];
    let mut out = [st; 4];
    let code = penguin_observe_batch(
        engine,
        4,
        ids.as_ptr(),
        epochs.as_ptr(),
        fitness.as_ptr(),
        out.as_mut_ptr(),
    );
    assert!(
        code == PENGUIN_OK || code == PENGUIN_ERROR_ALREADY_DECIDED,
        "penguin_observe_batch: {code}"
    );

    let mut size = 0usize;
    assert_eq!(penguin_state_size(engine, &mut size), PENGUIN_OK);
    let mut buf = vec![0u8; size];
    let mut written = 0usize;
    if size > 0 {
        assert_eq!(
            penguin_save_to_buffer(engine, buf.as_mut_ptr(), size - 1, &mut written),
            PENGUIN_ERROR_BUFFER_TOO_SMALL
        );
    }
    assert_eq!(
        penguin_save_to_buffer(engine, buf.as_mut_ptr(), size, &mut written),
        PENGUIN_OK
    );
    assert_eq!(written, size);
    let mut loaded: *mut penguin_t = ptr::null_mut();
    assert_eq!(
        penguin_load_from_buffer(buf.as_ptr(), size, &mut loaded),
        PENGUIN_OK
    );
    let mut size2 = 0usize;
    assert_eq!(penguin_state_size(loaded, &mut size2), PENGUIN_OK);
    let mut buf2 = vec![0u8; size2];
    assert_eq!(
        penguin_save_to_buffer(loaded, buf2.as_mut_ptr(), size2, ptr::null_mut()),
        PENGUIN_OK
    );
    assert!(buf == buf2, "a loaded engine saves different bytes");
    penguin_free(loaded);
}

/// Every number of a configuration, floats as bits.
fn numbers(c: &Config) -> Vec<u64> {
    let mut v: Vec<u64> = [
        c.e,
        c.t,
        c.e_pred,
        c.valid_min,
        c.valid_max,
        c.x_shift,
        c.fit.tolerance,
        c.upper_bound_reject.unwrap_or(f64::NAN),
        c.interval,
        c.chance_level,
        c.chance_margin,
        c.loss_min_delta,
        c.fallback_width,
        c.stop_width,
        c.max_epoch,
    ]
    .iter()
    .map(|x| x.to_bits())
    .collect();
    v.extend(
        [
            c.n,
            c.min_points.unwrap_or(0),
            c.fit.patience,
            c.fit.restarts,
            c.fit.warm_patience,
            c.threads,
            c.select_top,
            c.loss_patience,
            c.chance_patience,
        ]
        .map(|n| n as u64),
    );
    for list in [
        c.p0.as_deref(),
        c.bounds.as_ref().map(|b| &b.lower[..]),
        c.bounds.as_ref().map(|b| &b.upper[..]),
    ] {
        let list = list.unwrap_or(&[]);
        v.push(list.len() as u64);
        v.extend(list.iter().map(|x| x.to_bits()));
    }
    v
}
