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
fn api_checks_run_with_the_chance_level_rules() {
    // The extra byte's high bit: guard, never-learner stop and a loss byte per
    // observation. Network 2 stays flat at 0 % with a flat loss and stops as
    // a never-learner in the configurations that maximize accuracy (in the
    // loss configurations 0 is no chance level).
    let mut stops = 0;
    for sel in 0..6u8 {
        let mut s = vec![sel, 0x80 | 0x20 | 0x0c];
        for k in 0..10u8 {
            s.extend_from_slice(&[0, k % 2, 11, 8 + (k % 8) * 16, 40 + 8 * k]);
            s.extend_from_slice(&[0, 2, 11, 5, 1]);
        }
        let summary = api::run(&s);
        assert_eq!(summary.calls, 20, "config {sel}: {summary:?}");
        stops += summary.never_learner_stops;
    }
    assert!(stops >= 3, "{stops} never-learner stops");
}

#[test]
fn api_checks_run_with_select_top() {
    // The selector's high bit: rank-aware stopping (select_top 1, then 2 with
    // the same variants). Three networks on curves of different noise, a batch
    // of distinct networks, a fork, more observations. The cutoff must change
    // some decisions against the same script without it, and some networks
    // must stop wholly below it (the model checks each such stop).
    let script = |selector: u8| {
        let mut s = vec![selector, 3];
        let curve = |s: &mut Vec<u8>| {
            for k in 0..12u8 {
                s.extend_from_slice(&[0, k % 3, 11, 8 + (k % 3) * 0x50]);
            }
        };
        curve(&mut s);
        s.extend_from_slice(&[3, 3, 0, 11, 40, 1, 11, 40, 2, 11, 40, 6]);
        curve(&mut s);
        s
    };
    let (mut differ, mut below) = (0, 0);
    for sel in 0..6u8 {
        let without = api::run(&script(sel));
        assert_eq!(without.below_cutoff_stops, 0);
        for top in [0x80, 0x86] {
            let summary = api::run(&script(top + sel));
            assert_eq!(summary.calls, 26, "config {top:#x} + {sel}: {summary:?}");
            assert_eq!(
                summary.forked_calls, 13,
                "config {top:#x} + {sel}: {summary:?}"
            );
            differ += usize::from(summary != without);
            below += summary.below_cutoff_stops;
        }
    }
    assert!(differ >= 4, "select_top changed {differ} of 12 runs");
    assert!(below >= 2, "{below} stops below the cutoff");
}

#[test]
fn api_checks_run_with_the_budget() {
    // Selectors 12-17: each variant with the training budget (max_epoch 3);
    // 36-41: with the width gate (stop_width 10) too. Three networks every
    // half epoch to epoch 4: none trains past epoch 3, and some stop there in
    // a way the paper's rule cannot (the model checks each such stop).
    let mut budget = 0;
    for base in [12u8, 36] {
        for sel in 0..6u8 {
            let mut s = vec![base + sel, 3];
            for k in 0..24u8 {
                s.extend_from_slice(&[0, k % 3, 11, 8 + (k % 3) * 0x50]);
            }
            let summary = api::run(&s);
            assert_eq!(summary.calls, 24, "config {base} + {sel}: {summary:?}");
            assert_eq!(summary.finals, 3, "config {base} + {sel}: {summary:?}");
            budget += summary.budget_stops;
        }
    }
    assert!(budget >= 6, "{budget} budget stops");
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

// ---------------------------------------------------------------------------
// fuzz/regressions/state/: the inputs, rebuilt for the current state format.
//
// The fuzzer's own inputs were written in state format 1 with an older
// configuration text; once FORMAT_VERSION or the configuration's keys changed,
// every one of them was refused at the version check or at the canonical-form
// check and no longer reached the code it was kept to guard. So they are now
// built here from a state `to_bytes` writes, with the one defect of each bug
// put in by hand, and `state_inputs_reach_their_paths` checks that each is
// refused (or loaded) exactly where its bug was. After a format or
// configuration change, rebuild them:
//
//   PENGUIN_REBUILD_FUZZ_REGRESSIONS=1 cargo test --test fuzz_regressions state_inputs_are_current
// ---------------------------------------------------------------------------

use penguin::state::{from_bytes, to_bytes};
use penguin::{Config, Engine, ErrorCode};

/// The refusal message of `from_bytes`'s last check (src/state.rs).
const NOT_CANONICAL: &str =
    "saved state is not in canonical form (corrupted or not written by Penguin)";
/// How `from_bytes` introduces a refused configuration text (src/state.rs).
const CONFIG_PREFIX: &str = "saved state's configuration: ";

/// One network of a saved state, field by field as src/state.rs writes it
/// (floats as their bits, so NaN payloads survive).
#[derive(Clone)]
struct RawNet {
    id: u64,
    epochs: Vec<u64>,
    values: Vec<u64>,
    window: Vec<u64>,
    params: Vec<u64>,
    converged: u8,
    prediction: u64,
    interval: [u64; 2],
    best_loss: u64,
    since_best_loss: u32,
    tag: u8,
    tag_value: u64,
    fits: u32,
}

/// A cursor for [`RawState::parse`]: panics (never allocates) on a length
/// the bytes cannot hold.
struct RawReader<'a> {
    b: &'a [u8],
    pos: usize,
}

impl RawReader<'_> {
    fn take(&mut self, n: usize) -> &[u8] {
        assert!(
            n <= self.b.len() - self.pos,
            "not a format-2 state: truncated"
        );
        self.pos += n;
        &self.b[self.pos - n..self.pos]
    }
    fn u32(&mut self) -> u32 {
        u32::from_le_bytes(self.take(4).try_into().unwrap())
    }
    fn u64(&mut self) -> u64 {
        u64::from_le_bytes(self.take(8).try_into().unwrap())
    }
    fn floats(&mut self, n: usize) -> Vec<u64> {
        let bytes = self.take(n.checked_mul(8).unwrap());
        bytes
            .chunks(8)
            .map(|c| u64::from_le_bytes(c.try_into().unwrap()))
            .collect()
    }
    fn floats_with_len(&mut self) -> Vec<u64> {
        let n = self.u32() as usize;
        self.floats(n)
    }
}

/// A saved state taken apart: format version, configuration text, networks.
#[derive(Clone)]
struct RawState {
    version: u32,
    text: Vec<u8>,
    nets: Vec<RawNet>,
}

impl RawState {
    /// Takes apart bytes written by `to_bytes` (panics on anything else).
    fn parse(b: &[u8]) -> RawState {
        assert_eq!(&b[..8], penguin::state::MAGIC);
        let mut r = RawReader { b, pos: 8 };
        let version = r.u32();
        let len = r.u32() as usize;
        let text = r.take(len).to_vec();
        let count = r.u64();
        let mut nets = Vec::new();
        for _ in 0..count {
            let id = r.u64();
            let n = r.u32() as usize;
            nets.push(RawNet {
                id,
                epochs: r.floats(n),
                values: r.floats(n),
                window: r.floats_with_len(),
                params: r.floats_with_len(),
                converged: r.take(1)[0],
                prediction: r.u64(),
                interval: [r.u64(), r.u64()],
                best_loss: r.u64(),
                since_best_loss: r.u32(),
                tag: r.take(1)[0],
                tag_value: r.u64(),
                fits: r.u32(),
            });
        }
        r.u64(); // the checksum
        assert_eq!(r.pos, b.len(), "trailing bytes after the checksum");
        RawState {
            version,
            text,
            nets,
        }
    }

    /// Writes the fields back in order, with the checksum of the result.
    fn bytes(&self) -> Vec<u8> {
        let mut w = penguin::state::MAGIC.to_vec();
        let floats = |w: &mut Vec<u8>, v: &[u64]| {
            for x in v {
                w.extend_from_slice(&x.to_le_bytes());
            }
        };
        w.extend_from_slice(&self.version.to_le_bytes());
        w.extend_from_slice(&(self.text.len() as u32).to_le_bytes());
        w.extend_from_slice(&self.text);
        w.extend_from_slice(&(self.nets.len() as u64).to_le_bytes());
        for n in &self.nets {
            w.extend_from_slice(&n.id.to_le_bytes());
            w.extend_from_slice(&(n.epochs.len() as u32).to_le_bytes());
            floats(&mut w, &n.epochs);
            floats(&mut w, &n.values);
            w.extend_from_slice(&(n.window.len() as u32).to_le_bytes());
            floats(&mut w, &n.window);
            w.extend_from_slice(&(n.params.len() as u32).to_le_bytes());
            floats(&mut w, &n.params);
            w.push(n.converged);
            floats(
                &mut w,
                &[n.prediction, n.interval[0], n.interval[1], n.best_loss],
            );
            w.extend_from_slice(&n.since_best_loss.to_le_bytes());
            w.push(n.tag);
            floats(&mut w, &[n.tag_value]);
            w.extend_from_slice(&n.fits.to_le_bytes());
        }
        let sum = state::fnv1a64(&w);
        w.extend_from_slice(&sum.to_le_bytes());
        w
    }

    fn text(&self) -> &str {
        std::str::from_utf8(&self.text).unwrap()
    }

    /// The configuration text with the line `from` (without its newline)
    /// replaced by `to`.
    fn replace_line(&mut self, from: &str, to: &str) {
        let text = self.text();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines.iter().filter(|l| **l == from).count(),
            1,
            "no single line '{from}' in:\n{text}"
        );
        let new: String = lines
            .iter()
            .map(|l| format!("{}\n", if *l == from { to } else { l }))
            .collect();
        self.text = new.into_bytes();
    }
}

/// A state `to_bytes` writes today: the cheap solver setting of the fuzz
/// targets, and networks `ids`, each with two observations (one short of
/// exp3's first fit, so `fits` is 0 and the decision carries no value).
fn base_state(ids: &[u64]) -> RawState {
    let mut c = Config::default();
    for (k, v) in [
        ("fit_patience", "20"),
        ("fit_restarts", "0"),
        ("threads", "1"),
    ] {
        c.set(k, v).unwrap();
    }
    let mut e = Engine::new(c).unwrap();
    for &id in ids {
        e.observe(id, 0.5, 10.0).unwrap();
        e.observe(id, 1.0, 20.0).unwrap();
    }
    let bytes = to_bytes(&e);
    let raw = RawState::parse(&bytes);
    assert!(raw.bytes() == bytes, "RawState does not match src/state.rs");
    assert_eq!(raw.version, penguin::state::FORMAT_VERSION);
    for n in &raw.nets {
        assert_eq!(n.fits, 0);
        assert!(n.tag <= 1 && n.tag_value == 0, "a valued decision");
    }
    from_bytes(&bytes).expect("the base state loads");
    raw
}

/// Every kept input of the state target, by file name, as it is to be today.
fn state_inputs() -> Vec<(&'static str, Vec<u8>)> {
    let mut out = Vec::new();
    let mut add = |name, raw: RawState| out.push((name, raw.bytes()));

    // A configuration value `Config::set` refuses (InvalidConfigValue).
    let mut s = base_state(&[1]);
    s.replace_line("N = 3", "N = 0");
    add("config-text-error-code", s);

    // A text that parses but contradicts itself: Engine::new's
    // InconsistentConfig (valid_min > valid_max).
    let mut s = base_state(&[1]);
    s.replace_line("valid_min = 0", "valid_min = 200");
    add("inconsistent-config-code", s);

    // The same configuration spaced otherwise.
    let mut s = base_state(&[1]);
    s.replace_line("N = 3", "N=3");
    add("noncanonical-config-spacing", s);

    // Padding after a decision without a value.
    let mut s = base_state(&[1]);
    s.nets[0].tag_value = 1f64.to_bits();
    add("noncanonical-decision-padding", s);

    // No configuration text at all (it loads as the defaults, whose text is
    // not empty).
    let mut s = base_state(&[]);
    s.text.clear();
    add("noncanonical-empty-config-text", s);

    // A convergence flag of 2 (read as true, written as 1).
    let mut s = base_state(&[1]);
    s.nets[0].converged = 2;
    add("noncanonical-flag-byte", s);

    // Networks 2 then 1.
    let mut s = base_state(&[1, 2]);
    s.nets.reverse();
    add("noncanonical-ids-unsorted", s);

    // A canonical state whose network has made 2^32 - 1 fits; its next
    // observation is its third point, so it fits again.
    let mut s = base_state(&[1]);
    s.nets[0].fits = u32::MAX;
    add("fit-count-overflow", s);
    out
}

fn state_input_path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/regressions/state")
        .join(name)
}

/// The kept state inputs are what `state_inputs` builds today (with
/// PENGUIN_REBUILD_FUZZ_REGRESSIONS=1: writes them).
#[test]
fn state_inputs_are_current() {
    let rebuild = std::env::var_os("PENGUIN_REBUILD_FUZZ_REGRESSIONS").is_some();
    let mut stale = Vec::new();
    for (name, bytes) in state_inputs() {
        let path = state_input_path(name);
        if rebuild {
            std::fs::write(&path, &bytes).unwrap();
        } else if std::fs::read(&path).ok().as_deref() != Some(&bytes[..]) {
            stale.push(name);
        }
    }
    assert!(
        stale.is_empty(),
        "stale inputs in fuzz/regressions/state/: {stale:?}; rebuild them with \
         PENGUIN_REBUILD_FUZZ_REGRESSIONS=1 cargo test --test fuzz_regressions state_inputs_are_current"
    );
}

/// The configuration text inside a saved state (after magic and version).
fn config_text(bytes: &[u8]) -> &str {
    let len = u32::from_le_bytes(bytes[12..16].try_into().unwrap()) as usize;
    std::str::from_utf8(&bytes[16..16 + len]).unwrap()
}

/// `from_bytes(bytes)`'s refusal, or a panic naming what loaded.
fn refusal(bytes: &[u8]) -> penguin::Error {
    match from_bytes(bytes) {
        Ok(_) => panic!("loaded"),
        Err(e) => e,
    }
}

/// `bytes` with the one defect of input `name` undone: a state that must load,
/// so that the defect is all that is wrong with the input.
fn repaired(name: &str, bytes: &[u8]) -> Vec<u8> {
    let mut s = RawState::parse(bytes);
    match name {
        "config-text-error-code" => s.replace_line("N = 0", "N = 3"),
        "inconsistent-config-code" => s.replace_line("valid_min = 200", "valid_min = 0"),
        "noncanonical-config-spacing" => s.replace_line("N=3", "N = 3"),
        "noncanonical-decision-padding" => s.nets[0].tag_value = 0,
        "noncanonical-empty-config-text" => {
            assert!(s.text.is_empty());
            s.text = Config::default().to_text().into_bytes();
        }
        "noncanonical-flag-byte" => {
            assert_eq!(s.nets[0].converged, 2);
            s.nets[0].converged = 1;
        }
        "noncanonical-ids-unsorted" => {
            assert!(s.nets.windows(2).any(|w| w[0].id > w[1].id));
            s.nets.sort_by_key(|n| n.id);
        }
        _ => {}
    }
    s.bytes()
}

/// Checks that the kept input `name` gets as far as its bug's code path today.
fn reaches_its_path(name: &str, bytes: &[u8]) {
    match name {
        // The configuration's own code (InvalidConfigValue) becomes InvalidState.
        "config-text-error-code" => {
            let e = refusal(bytes);
            assert_eq!(e.code, ErrorCode::InvalidState, "{}", e.message);
            assert!(
                e.message.starts_with(CONFIG_PREFIX) && e.message.contains("'N'"),
                "{}",
                e.message
            );
            let own = Config::default().load_str(config_text(bytes)).unwrap_err();
            assert_eq!(own.code, ErrorCode::InvalidConfigValue, "{}", own.message);
        }
        // The text parses; Engine::new's InconsistentConfig becomes InvalidState.
        "inconsistent-config-code" => {
            let e = refusal(bytes);
            assert_eq!(e.code, ErrorCode::InvalidState, "{}", e.message);
            assert!(
                e.message.starts_with(CONFIG_PREFIX) && e.message.contains("valid_min"),
                "{}",
                e.message
            );
            let mut c = Config::default();
            c.load_str(config_text(bytes)).unwrap();
            let Err(own) = Engine::new(c) else {
                panic!("a consistent configuration")
            };
            assert_eq!(own.code, ErrorCode::InconsistentConfig, "{}", own.message);
        }
        // Everything parses and is valid; only the last check refuses.
        n if n.starts_with("noncanonical-") => {
            let e = refusal(bytes);
            assert_eq!(e.code, ErrorCode::InvalidState, "{}", e.message);
            assert_eq!(e.message, NOT_CANONICAL);
        }
        // Loads; the next observation fits once more and the count saturates.
        "fit-count-overflow" => {
            let mut e = from_bytes(bytes).unwrap_or_else(|e| panic!("{e:?}"));
            let before = e.status(1).unwrap();
            assert_eq!((before.observations, before.fits), (2, u32::MAX));
            let after = e.observe(1, 1.5, 30.0).unwrap();
            assert_eq!((after.observations, after.fits), (3, u32::MAX));
            // That observation does fit: from a count of 0 it counts 1.
            let mut s = RawState::parse(bytes);
            s.nets[0].fits = 0;
            let mut e = from_bytes(&s.bytes()).unwrap();
            assert_eq!(e.observe(1, 1.5, 30.0).unwrap().fits, 1);
        }
        _ => panic!("no expectation for state input {name}"),
    }
    // And only the input's own defect stands between it and a load.
    let fixed = repaired(name, bytes);
    if let Err(e) = from_bytes(&fixed) {
        panic!("still refused with its defect undone: {e:?}");
    }
}

#[test]
fn state_inputs_reach_their_paths() {
    let mut failed = Vec::new();
    for (name, _) in state_inputs() {
        let bytes = std::fs::read(state_input_path(name)).unwrap();
        if let Err(p) = std::panic::catch_unwind(|| reaches_its_path(name, &bytes)) {
            let why = p
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            failed.push(format!("{name}: {why}"));
        }
    }
    assert!(
        failed.is_empty(),
        "state inputs that miss their code path: {failed:#?}"
    );
}
