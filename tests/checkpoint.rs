//! Checkpoint/restart: a restored engine decides exactly as the original.

use penguin::curves::{CurveColumns, Table, read_curves};
use penguin::state::{FORMAT_VERSION, from_bytes, load_file, save_file, to_bytes};
use penguin::{Config, Engine, ErrorCode, Observation, Status};

/// The bundled curves as NAS-order batches: batch k holds every network's k-th
/// finite observation.
fn batches() -> Vec<Vec<Observation>> {
    let text = include_str!("data/fmnist_random_cnn.csv");
    let curves = read_curves(&Table::parse(text).unwrap(), &CurveColumns::default()).unwrap();
    let mut out: Vec<Vec<Observation>> = Vec::new();
    for (id, c) in curves.iter().enumerate() {
        let finite = c
            .epochs
            .iter()
            .zip(&c.values)
            .filter(|(_, v)| v.is_finite());
        for (k, (e, v)) in finite.enumerate() {
            if out.len() <= k {
                out.push(Vec::new());
            }
            out[k].push(Observation {
                id: id as u64,
                epoch: *e,
                value: *v,
            });
        }
    }
    out
}

/// Feeds a batch, dropping networks that have stopped; returns their statuses.
fn feed(engine: &mut Engine, batch: &[Observation]) -> Vec<Status> {
    let live: Vec<Observation> = batch
        .iter()
        .copied()
        .filter(|o| {
            engine
                .status(o.id)
                .map_or(true, |s| s.state == penguin::State::Continue)
        })
        .collect();
    engine.observe_batch(&live).unwrap()
}

fn same(a: &[Status], b: &[Status]) -> bool {
    let bits = |s: &Status| {
        (
            s.state,
            s.prediction.to_bits(),
            s.fit_prediction.to_bits(),
            s.epoch.to_bits(),
            s.observations,
            s.fits,
            s.params.iter().map(|p| p.to_bits()).collect::<Vec<_>>(),
        )
    };
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| bits(x) == bits(y))
}

#[test]
fn restored_engine_makes_identical_decisions() {
    let batches = batches();
    let mut original = Engine::new(Config::default()).unwrap();
    // Early enough that most networks are still training (mean stop ~5.5 epochs).
    let half = 6;
    for b in &batches[..half] {
        feed(&mut original, b);
    }
    let bytes = to_bytes(&original);
    let mut restored = from_bytes(&bytes).unwrap();
    assert_eq!(to_bytes(&restored), bytes, "re-saving gives the same bytes");
    let path = std::env::temp_dir().join(format!("penguin-ckpt-{}.state", std::process::id()));
    save_file(&original, &path).unwrap();
    let mut from_file = load_file(&path).unwrap();
    std::fs::remove_file(&path).unwrap();
    let mut compared = 0;
    for b in &batches[half..] {
        let a = feed(&mut original, b);
        let r = feed(&mut restored, b);
        let f = feed(&mut from_file, b);
        assert!(
            same(&a, &r) && same(&a, &f),
            "decisions differ after restore"
        );
        compared += a.len();
    }
    assert!(compared > 100, "only {compared} later decisions compared");
}

#[test]
fn saving_leaves_no_temporary_file_and_replaces_atomically() {
    let dir = std::env::temp_dir().join(format!("penguin-atomic-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("engine.state");
    let mut e = Engine::new(Config::default()).unwrap();
    save_file(&e, &path).unwrap();
    e.observe(1, 0.5, 10.0).unwrap();
    save_file(&e, &path).unwrap();
    let names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|d| d.unwrap().file_name())
        .collect();
    assert_eq!(names.len(), 1, "{names:?}");
    assert_eq!(load_file(&path).unwrap().len(), 1);
    let missing = load_file(&dir.join("missing.state")).unwrap_err();
    assert_eq!(missing.code, ErrorCode::Io);
    std::fs::remove_dir_all(&dir).unwrap();
}

fn with_checksum(mut body: Vec<u8>) -> Vec<u8> {
    // FNV-1a 64, as the format specifies.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in &body {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    body.extend_from_slice(&h.to_le_bytes());
    body
}

#[test]
fn bad_states_are_refused_with_a_clear_error() {
    let mut e = Engine::new(Config::default()).unwrap();
    for k in 1..=8 {
        e.observe(7, 0.5 * k as f64, 10.0 + k as f64).unwrap();
    }
    let good = to_bytes(&e);
    let code = |b: &[u8]| from_bytes(b).map(|_| ()).unwrap_err().code;
    assert_eq!(code(&[]), ErrorCode::InvalidState);
    assert_eq!(code(b"not a penguin state at all"), ErrorCode::InvalidState);
    // Every truncation.
    for n in 0..good.len() {
        assert!(from_bytes(&good[..n]).is_err(), "truncated at {n} accepted");
    }
    // Every single-byte corruption.
    for i in 0..good.len() {
        let mut b = good.clone();
        b[i] ^= 0x5a;
        let err = from_bytes(&b).map(|_| ()).unwrap_err();
        assert!(
            matches!(err.code, ErrorCode::InvalidState | ErrorCode::StateVersion),
            "byte {i}: {err:?}"
        );
    }
    // Another format version, with a valid checksum.
    let mut other = good[..good.len() - 8].to_vec();
    other[8..12].copy_from_slice(&(FORMAT_VERSION + 1).to_le_bytes());
    let err = from_bytes(&with_checksum(other)).map(|_| ()).unwrap_err();
    assert_eq!(err.code, ErrorCode::StateVersion);
    assert!(err.message.contains("version"), "{}", err.message);
    // Trailing garbage is corruption too.
    let mut long = good.clone();
    long.push(0);
    assert_eq!(code(&long), ErrorCode::InvalidState);
}

/// A state saved by Penguin 0.2.0 (commit bb131c8, `tests/data/state_0.2.0.bin`:
/// the first 6 bundled CNN curves, network k with its first 2 + k
/// observations, default configuration) still loads, and the loaded engine
/// then decides bit for bit as an engine that saw the same observations now.
/// 0.2.0 kept NaNs in the prediction window for missing predictions (networks
/// 0-2 were saved with [NaN, NaN], [NaN, NaN, p], [NaN, p, q]) where Penguin
/// now empties the window, so this also checks that the two decide the same.
#[test]
fn a_state_saved_by_0_2_0_loads_and_decides_as_now() {
    let bytes = include_bytes!("data/state_0.2.0.bin");
    let mut old = from_bytes(bytes).expect("a 0.2.0 state loads");
    assert_eq!(old.len(), 6);
    let mut now = Engine::new(Config::default()).unwrap();
    let mut seen = [0usize; 6];
    for batch in batches() {
        for o in batch.into_iter().filter(|o| o.id < 6) {
            let k = o.id as usize;
            seen[k] += 1;
            if seen[k] <= 2 + k {
                now.observe(o.id, o.epoch, o.value).unwrap();
                continue;
            }
            match (
                old.observe(o.id, o.epoch, o.value),
                now.observe(o.id, o.epoch, o.value),
            ) {
                (Ok(a), Ok(b)) => assert_eq!(
                    (a.state, a.prediction.to_bits(), a.params),
                    (b.state, b.prediction.to_bits(), b.params),
                    "network {} at epoch {}",
                    o.id,
                    o.epoch
                ),
                (Err(a), Err(b)) => assert_eq!(a.code, b.code),
                (a, b) => panic!("network {}: {a:?} vs {b:?}", o.id),
            }
        }
    }
    assert!(seen.iter().enumerate().all(|(k, n)| *n > 2 + k));
    // The saved windows did hold NaNs.
    let saved = from_bytes(bytes).unwrap();
    assert!(saved.networks()[&1].window[0].is_nan());
}

/// Keys added after 0.2.0 travel in a state when set, and restore exactly.
#[test]
fn a_state_carries_keys_added_after_0_2_0() {
    let mut c = Config::default();
    for (k, v) in [
        ("chance_level", "10"),
        ("loss_patience", "2"),
        ("loss_min_delta", "0.001"),
        ("chance_patience", "3"),
        ("alternatives", "vap3"),
        ("combine", "mean"),
        ("stop_width", "30"),
        ("max_epoch", "10"),
        ("chance_wait", "0.2"),
        ("select_top", "10"),
        ("select_stop_reach", "0.75"),
        ("select_hold_reach", "0.5"),
        ("select_hold_until", "0.6"),
        ("answer_floor", "on"),
        ("select_clear_observed", "on"),
        ("select_hold_observed", "8"),
    ] {
        c.set(k, v).unwrap();
    }
    let mut e = Engine::new(c.clone()).unwrap();
    e.observe(7, 0.5, 10.2).unwrap();
    let restored = from_bytes(&to_bytes(&e)).unwrap();
    assert_eq!(restored.config().to_text(), c.to_text());
    let text = c.to_text();
    for key in [
        "chance_patience",
        "loss_min_delta",
        "combine",
        "stop_width",
        "max_epoch",
        "chance_wait",
        "select_stop_reach",
        "select_hold_reach",
        "select_hold_until",
        "answer_floor",
        "select_clear_observed",
        "select_hold_observed",
    ] {
        assert!(text.contains(key), "{key} missing from {text}");
    }
    assert_eq!(restored.config().chance_patience, 3);
    assert_eq!(restored.config().stop_width, 30.0);
    assert_eq!(restored.config().max_epoch, 10.0);
    assert_eq!(restored.config().select_stop_reach, 0.75);
    assert_eq!(restored.config().select_hold_reach, 0.5);
    assert_eq!(restored.config().select_hold_until, 0.6);
    assert!(restored.config().answer_floor);
    assert!(restored.config().select_clear_observed);
    assert_eq!(restored.config().select_hold_observed, 8);
}
