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
fn api_checks_run_with_a_noisy_never_learner() {
    // A network at chance whose values differ (given by their bits, value
    // selector 6), with a flat loss: its never-learner stop must answer the
    // engine's mean of its last K = 3 values bit for bit (each divided by 3,
    // then summed: summing first rounds differently for each three of these
    // values). Selectors 0-5 with the chance rules (K = 3), and the robust
    // family (K = 3, after chance_wait) in its modes 0-2.
    let values = [
        7.1, 9.6, 1.8, 9.5, 4.8, 5.3, 9.3, 6.1, 3.4, 5.2, 8.9, 5.1, 7.1, 9.6, 1.8, 9.5,
    ];
    let configs = (0..6u8)
        .map(|sel| (sel, 0x80 | 0x0c))
        .chain((112..118u8).flat_map(|sel| (0..3u8).map(move |mode| (sel, 0x80 | mode << 2))));
    let mut stops = 0;
    for (selector, extra) in configs {
        let mut s = vec![selector, extra];
        for v in values {
            s.extend_from_slice(&[0, 1, 11, 6]);
            s.extend_from_slice(&f64::to_le_bytes(v));
            s.push(1);
        }
        let summary = api::run(&s);
        stops += summary.never_learner_stops;
    }
    assert!(stops >= 9, "{stops} never-learner stops");
}

#[test]
fn api_checks_run_with_a_late_bloomer() {
    // A network flat at chance (5, or 2.5 for a loss; given by their bits)
    // whose loss improves at every observation: the late-bloomer guard must
    // keep it training through epoch 8, or to e_pred or the budget
    // (Algorithm 2 would stop it), and the model checks that no stop at chance comes while the loss
    // improves.
    // Selectors 0-5 with the chance rules (loss_patience 1-3, K = 3), and the
    // robust family (loss_patience 2) in its modes 0-2.
    let configs = (0..6u8)
        .flat_map(|sel| [0x9c, 0xac, 0xbc].map(|extra| (sel, extra)))
        .chain((112..118u8).flat_map(|sel| (0..3u8).map(move |mode| (sel, 0x80 | mode << 2))));
    for (selector, extra) in configs {
        let config = api::config_for(selector, extra);
        let v: f64 = if config.direction == penguin::config::Direction::Minimize {
            2.5
        } else {
            5.0
        };
        let mut s = vec![selector, extra];
        for k in 0..16u8 {
            s.extend_from_slice(&[0, 1, 11, 6]);
            s.extend_from_slice(&v.to_le_bytes());
            s.push(10 + 10 * k);
        }
        let summary = api::run(&s);
        assert_eq!(
            summary.calls, 16,
            "config {selector}, {extra:#x}: {summary:?}"
        );
        // Stopped only at e_pred (4 and 6 for variants 2 and 5) or by the
        // budget (3 in mode 2).
        let at_e_pred = usize::from(config.e_pred.min(config.max_epoch) <= 8.0);
        assert_eq!(
            summary.finals, at_e_pred,
            "config {selector}, {extra:#x}: {summary:?}"
        );
    }
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
fn api_checks_run_with_the_robust_preset() {
    // Selectors 112-127: `preset = robust`'s keys on each variant with
    // select_top 1 or 2 (high bit: select_halving too); the extra byte's
    // bits 2-3 pick the mode (robust; with select_stop_reach; with the
    // budget and the width gate; answer_floor alone), bit 4 the shown
    // cutoff's K. Three networks on curves of different noise, a batch of
    // distinct networks, a fork, more observations, then a network flat at
    // chance (0) with a flat loss. The cohort paths must run: shown cutoffs,
    // stops below the cutoff, rung stops, floored answers, budget stops,
    // never-learner stops, some of them held back by chance_wait first (due
    // before chance_wait x e_pred, they stop only after it).
    let script = |selector: u8, extra: u8| {
        let mut s = vec![selector, extra];
        let loss = extra & 0x80 != 0;
        let curve = |s: &mut Vec<u8>| {
            for k in 0..12u8 {
                s.extend_from_slice(&[0, k % 3, 11, 8 + (k % 3) * 0x50]);
                if loss {
                    s.push(40 + 8 * k);
                }
            }
        };
        curve(&mut s);
        s.extend_from_slice(&[3, 3, 0, 11, 40]);
        s.extend_from_slice(if loss {
            &[90, 1, 11, 40, 90]
        } else {
            &[1, 11, 40]
        });
        s.extend_from_slice(&[2, 11, 40]);
        if loss {
            s.push(90);
        }
        s.push(6);
        curve(&mut s);
        for _ in 0..12 {
            s.extend_from_slice(&[0, 3, 11, 5]);
            if loss {
                s.push(1);
            }
        }
        s
    };
    let mut total = api::Summary::default();
    let mut runs = 0;
    for r in 0..16u8 {
        for high in [0u8, 0x80] {
            for mode in 0..4u8 {
                for loss in [0u8, 0x80] {
                    let extra = loss | (mode << 2) | ((r & 1) << 4);
                    let selector = high + 112 + r;
                    let summary = api::run(&script(selector, extra));
                    assert_eq!(
                        summary.calls, 38,
                        "config {selector}, {extra:#x}: {summary:?}"
                    );
                    assert_eq!(
                        summary.forked_calls, 25,
                        "config {selector}, {extra:#x}: {summary:?}"
                    );
                    runs += 1;
                    total.finals += summary.finals;
                    total.never_learner_stops += summary.never_learner_stops;
                    total.below_cutoff_stops += summary.below_cutoff_stops;
                    total.budget_stops += summary.budget_stops;
                    total.shown_cutoff_calls += summary.shown_cutoff_calls;
                    total.rung_stops += summary.rung_stops;
                    total.floored_answers += summary.floored_answers;
                    total.waited_never_learner_stops += summary.waited_never_learner_stops;
                }
            }
        }
    }
    // Half or less of what the engine gives today: the paths run.
    assert_eq!(runs, 256);
    assert!(total.shown_cutoff_calls >= 1100, "{total:?}");
    assert!(total.below_cutoff_stops >= 40, "{total:?}");
    assert!(total.rung_stops >= 8, "{total:?}");
    assert!(total.never_learner_stops >= 80, "{total:?}");
    assert!(total.waited_never_learner_stops >= 40, "{total:?}");
    assert!(total.budget_stops >= 60, "{total:?}");
    assert!(total.floored_answers >= 1, "{total:?}");
}

#[test]
fn api_checks_run_with_the_stop_reach() {
    // Robust mode 1 (select_stop_reach 0.75; select_top 1 for 112-117, 2
    // for 118-119; K = 1 or 2 by bit 4): three networks on one curve, d
    // and 2d below it, with alternating noise, each value given by its bits.
    // Some observations must fall short of the cutoff only at the share
    // (the model then requires the stop) and some networks stop.
    let obs = |s: &mut Vec<u8>, id: u8, v: f64| {
        s.extend_from_slice(&[0, id, 11, 6]);
        s.extend_from_slice(&v.to_le_bytes());
    };
    let (mut share, mut finals) = (0, 0);
    for selector in [112u8, 113, 115, 118, 119] {
        for k in [0u8, 0x10] {
            for d in [2.0, 4.0, 8.0, 12.0] {
                for noise in [0.0, 1.0, 2.0, 4.0] {
                    let mut s = vec![selector, 0x04 | k];
                    for e in 0..14 {
                        let a = 85.0 - 60.0 * 0.7f64.powi(e);
                        let sign = if e % 2 == 0 { 1.0 } else { -1.0 };
                        obs(&mut s, 0, a);
                        obs(&mut s, 1, a - d + noise * sign);
                        obs(&mut s, 2, a - 2.0 * d - noise * sign);
                    }
                    let summary = api::run(&s);
                    share += summary.share_judgements;
                    finals += summary.finals;
                }
            }
        }
    }
    // Half or less of what the engine gives today.
    assert!(share >= 45, "{share} judgements on the share");
    assert!(finals >= 95, "{finals} stops");
}

#[test]
fn api_checks_run_with_the_answer_floor() {
    // Network 0 rises to 90, network 1 rises and then falls (its fits
    // answer below what it shows), network 2 stays low; each value given by
    // its bits (value selector 6). Under the robust family, and answer_floor
    // alone (mode 3), some stops must answer the floor's mean.
    let obs = |s: &mut Vec<u8>, id: u8, v: f64| {
        s.extend_from_slice(&[0, id, 11, 6]);
        s.extend_from_slice(&v.to_le_bytes());
    };
    let nets: [&[f64]; 3] = [
        &[20.0, 40.0, 60.0, 75.0, 82.0, 86.0, 88.0, 89.0, 89.5, 90.0],
        &[30.0, 50.0, 70.0, 60.0, 55.0, 52.0, 50.0, 49.0, 48.5, 48.0],
        &[15.0, 20.0, 24.0, 27.0, 29.0, 30.0, 30.5, 31.0, 31.2, 31.3],
    ];
    let mut floored = 0;
    for selector in (112..124u8).flat_map(|s| [s, s + 0x80]) {
        for mode in 0..4u8 {
            let mut s = vec![selector, mode << 2];
            for k in 0..10 {
                for (id, values) in nets.iter().enumerate() {
                    obs(&mut s, id as u8, values[k]);
                }
            }
            let summary = api::run(&s);
            floored += summary.floored_answers;
        }
    }
    assert!(floored >= 5, "{floored} floored answers");
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
fn state_checks_compare_the_kept_cohort_index() {
    // Robust configurations without select_halving (selectors 112-127 with
    // the high bit clear: select_top 1 for 112-117, 2 for 118-123; the extra
    // byte's bit 4 makes select_hold_observed 2, bits 2-3 the mode), on four
    // networks in the warm-up, network 0 far ahead of the others. The check
    // observes each network once (still in the warm-up), forgets network 0,
    // then observes the others after the warm-up on the engine and on a
    // copy loaded from its saved state: the engine judges them by the
    // cohort's indexes it kept through those calls (network 0 gone), the
    // copy by indexes built afresh, and both must answer alike.
    let curves: [[f64; 4]; 4] = [
        [80.0, 84.0, 86.0, 87.0],
        [50.0, 54.0, 56.0, 57.0],
        [30.0, 34.0, 36.0, 37.0],
        [40.0, 44.0, 46.0, 47.0],
    ];
    for (selector, extra) in [
        (113, 0),
        (119, 0),
        (113, 0x10),
        (119, 0x10),
        (113, 4),
        (112, 0),
    ] {
        let mut e = penguin::Engine::new(api::config_for(selector, extra)).unwrap();
        for (k, epoch) in [0.25, 0.5, 0.75, 1.0].into_iter().enumerate() {
            for (id, curve) in curves.iter().enumerate() {
                let s = e.observe(id as u64, epoch, curve[k]).unwrap();
                assert_eq!(s.state, penguin::State::Continue);
            }
        }
        assert!(e.cutoff().is_finite(), "config {selector}, {extra:#x}");
        assert!(
            e.shown_cutoff().is_finite(),
            "config {selector}, {extra:#x}"
        );
        state::run(&penguin::state::to_bytes(&e));
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
