//! Replays every input kept under fuzz/regressions/<target>/ through the same
//! checks as the fuzz targets (the very files of fuzz/src/, included here), so
//! `cargo test` covers what the fuzzers found on stable Rust, without libFuzzer.
//! Also runs each target's checks on a few inputs built here, so the checks
//! themselves stay compiled and working while the directories are empty.

#[path = "../fuzz/src/api.rs"]
#[allow(dead_code)]
mod api;
#[path = "../fuzz/src/bytes.rs"]
#[allow(dead_code)]
mod bytes;
#[path = "../fuzz/src/config.rs"]
#[allow(dead_code)]
mod config;
#[path = "../fuzz/src/state.rs"]
#[allow(dead_code)]
mod state;

use std::path::{Path, PathBuf};

/// The kept inputs of one target, sorted by name.
fn inputs(target: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/regressions")
        .join(target);
    let mut files: Vec<PathBuf> = match std::fs::read_dir(&dir) {
        Ok(entries) => entries
            .map(|e| e.unwrap().path())
            .filter(|p| p.is_file() && !p.file_name().unwrap().to_string_lossy().starts_with('.'))
            .collect(),
        Err(_) => Vec::new(),
    };
    files.sort();
    files
}

/// Inputs of bugs in src/ that are reported and not fixed yet, as
/// "<target>/<file>". `cargo test` skips them; `cargo test --test
/// fuzz_regressions -- --ignored` shows them failing. Remove an entry once its
/// fix lands: from then on it is an ordinary regression test.
const OPEN: &[&str] = &[];

fn is_open(target: &str, path: &Path) -> bool {
    let name = format!("{target}/{}", path.file_name().unwrap().to_string_lossy());
    OPEN.contains(&name.as_str())
}

fn api_check(data: &[u8]) {
    api::run(data);
}

/// Runs `check` on the kept inputs of `target` (`open`: only the open bugs'
/// inputs; otherwise all the others) and returns those that fail.
fn failing(target: &str, check: fn(&[u8]), open: bool) -> Vec<String> {
    let mut failed = Vec::new();
    for path in inputs(target) {
        if is_open(target, &path) != open {
            continue;
        }
        let data = std::fs::read(&path).unwrap();
        if std::panic::catch_unwind(|| check(&data)).is_err() {
            failed.push(path.display().to_string());
        }
    }
    failed
}

fn replay(target: &str, check: fn(&[u8])) {
    let failed = failing(target, check, false);
    assert!(failed.is_empty(), "fuzz regressions fail: {failed:#?}");
}

#[test]
fn api_regressions() {
    replay("api", api_check);
}

#[test]
fn state_regressions() {
    replay("state", state::run);
}

#[test]
fn config_regressions() {
    replay("config", config::run);
}

#[test]
#[ignore = "bugs in src/ reported and not fixed yet: see OPEN"]
fn open_bugs() {
    let mut failed = failing("api", api_check, true);
    failed.extend(failing("state", state::run, true));
    failed.extend(failing("config", config::run, true));
    assert!(failed.is_empty(), "open bugs still fail: {failed:#?}");
}

#[test]
fn open_entries_exist() {
    for name in OPEN {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fuzz/regressions")
            .join(name);
        assert!(path.is_file(), "OPEN names a missing file: {name}");
    }
}

#[test]
fn api_checks_run_on_a_short_script() {
    // Every configuration: a learning curve on two networks, a fork (save and
    // restore), a batch, invalid epochs and values, status, len and forget, an
    // epoch far past e_pred.
    for sel in 0..6u8 {
        let mut s = vec![sel, 3];
        for k in 0..10u8 {
            s.extend_from_slice(&[0, k % 2, 11, 8 + (k % 8) * 16]);
        }
        s.extend_from_slice(&[6, 3, 3, 0, 11, 40, 1, 11, 40, 3, 11, 40]);
        s.extend_from_slice(&[0, 0, 0, 8, 0, 0, 6, 8, 0, 0, 11, 0, 0, 1, 7, 40]);
        s.extend_from_slice(&[4, 0, 4, 2, 7, 5, 1, 5, 1, 7, 0, 1, 11, 8, 0, 0, 9, 8]);
        let summary = api::run(&s);
        assert_eq!(summary.calls, 24, "config {sel}: {summary:?}");
        assert!(summary.changes >= 8, "config {sel}: {summary:?}");
        assert!(summary.finals >= 1, "config {sel}: {summary:?}");
        assert_eq!(summary.forked_calls, 14, "config {sel}: {summary:?}");
    }
}

#[test]
fn state_checks_run_on_saved_states() {
    let mut e = penguin::Engine::new(api::config_for(1, 0)).unwrap();
    state::run(&penguin::state::to_bytes(&e));
    for k in 1..=6 {
        e.observe(3, 0.5 * f64::from(k), 50.0 + f64::from(k))
            .unwrap();
    }
    let good = penguin::state::to_bytes(&e);
    state::run(&good);
    // Every truncation and flipped bytes, each with and without a repaired
    // checksum.
    for n in 0..good.len() {
        state::run(&good[..n]);
    }
    for i in 0..good.len() {
        let mut b = good.clone();
        b[i] ^= 0x21;
        state::run(&b);
    }
}

#[test]
fn config_checks_run_on_key_lines() {
    config::run(b"fit_patience=20\nfit_restarts=0\nthreads=1\nN=2\n");
    config::run(b"function=lossexp3\ndirection=minimize\nvalid_max=inf\nfit_patience=20\n");
    config::run(b"N=0\nE=x\nbounds=1,2;3\ncolour=red\n\xff=1\n");
}
