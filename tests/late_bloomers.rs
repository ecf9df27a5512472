//! The late-bloomer guard (config `chance_level`, `chance_margin`, `loss_patience`):
//! a network flat at chance whose validation loss still falls keeps training
//! and is not written off; one whose loss has stalled stops as before; without
//! losses nothing changes; the bundled curves lose their anomalies; with
//! `loss_min_delta` a loss that only creeps down does not hold a network. The
//! never-learner stop (`chance_patience`) ends flat networks early without
//! writing off late bloomers.

mod common;

use penguin::{Config, Engine, ErrorCode, State};

fn engine(loss_patience: &str) -> Engine {
    engine_with(&[("loss_patience", loss_patience)])
}

/// An engine with chance level 10 and these keys set.
fn engine_with(keys: &[(&str, &str)]) -> Engine {
    let mut c = Config::default();
    c.set("chance_level", "10").unwrap();
    for (k, v) in keys {
        c.set(k, v).unwrap();
    }
    Engine::new(c).unwrap()
}

/// Flat at chance for 4 epochs, then learning: accuracy and loss per half epoch.
fn late_bloomer(k: usize) -> (f64, f64) {
    let x = k as f64 * 0.5;
    let acc = if x <= 4.0 {
        10.0 + 0.05 * (k % 2) as f64
    } else {
        10.0 + 70.0 * (1.0 - (-(x - 4.0) / 2.0).exp())
    };
    (acc, 2.3 - 0.05 * k as f64)
}

/// Runs a curve until the engine stops it; returns (stop epoch, prediction).
fn run(e: &mut Engine, curve: impl Fn(usize) -> (f64, f64), with_loss: bool) -> (f64, f64) {
    for k in 1..=40 {
        let (acc, loss) = curve(k);
        let loss = if with_loss { loss } else { f64::NAN };
        let s = e.observe_with_loss(1, 0.5 * k as f64, acc, loss).unwrap();
        if s.state != State::Continue {
            return (s.epoch, s.prediction);
        }
    }
    unreachable!("e_pred = 20 ends every curve")
}

#[test]
fn a_learning_loss_keeps_a_flat_network_training() {
    let (paper_stop, paper_pred) = run(&mut engine("0"), late_bloomer, true);
    assert!(
        paper_stop < 4.0 && paper_pred < 15.0,
        "{paper_stop} {paper_pred}"
    );
    let (stop, pred) = run(&mut engine("2"), late_bloomer, true);
    assert!(stop > 4.0 && pred > 50.0, "guarded: {stop} {pred}");
    // Without losses the guard cannot judge: the paper's decision.
    assert_eq!(
        run(&mut engine("2"), late_bloomer, false),
        (paper_stop, paper_pred)
    );
}

#[test]
fn a_stalled_loss_lets_a_never_learner_stop() {
    let never = |k: usize| (10.0 + 0.1 * (k % 3) as f64, 2.30 + 0.01 * (k % 2) as f64);
    let (paper_stop, _) = run(&mut engine("0"), never, true);
    let (stop, pred) = run(&mut engine("2"), never, true);
    assert!(pred < 15.0);
    assert!(stop <= paper_stop + 1.5, "{stop} vs {paper_stop}");
}

#[test]
fn loss_min_delta_ignores_a_creeping_loss_but_not_a_learning_one() {
    let with_delta = |patience: &str, delta: &str| {
        engine_with(&[("loss_patience", patience), ("loss_min_delta", delta)])
    };
    // Flat at chance, its loss falling by 0.0001 (0.004 %) per observation, as
    // some never-learners' do: every observation is a new best.
    let creeping = |k: usize| (10.0 + 0.1 * (k % 3) as f64, 2.3045 - 0.0001 * k as f64);
    let (paper_stop, _) = run(&mut with_delta("0", "0"), creeping, true);
    let (plain_stop, _) = run(&mut with_delta("2", "0"), creeping, true);
    let (delta_stop, pred) = run(&mut with_delta("2", "0.001"), creeping, true);
    assert!(
        plain_stop > paper_stop + 2.0,
        "{plain_stop} vs {paper_stop}"
    );
    assert!(pred < 15.0);
    assert!(
        delta_stop <= paper_stop + 1.0,
        "{delta_stop} vs {paper_stop}"
    );
    // A loss falling by 2 % per observation is still learning: held.
    let (stop, pred) = run(&mut with_delta("2", "0.001"), late_bloomer, true);
    assert!(
        stop > 4.0 && pred > 50.0,
        "guarded with delta: {stop} {pred}"
    );
}

#[test]
fn a_loss_min_delta_set_in_the_struct_is_checked_too() {
    for bad in [f64::NAN, -0.1, 1.0] {
        let c = Config {
            loss_min_delta: bad,
            ..Config::default()
        };
        let err = Engine::new(c).unwrap_err();
        assert_eq!(err.code, ErrorCode::InconsistentConfig, "{bad}");
    }
}

#[test]
fn it_needs_the_chance_level() {
    let mut c = Config::default();
    c.set("loss_patience", "3").unwrap();
    let err = Engine::new(c).unwrap_err();
    assert_eq!(err.code, ErrorCode::InconsistentConfig);
    assert!(err.message.contains("chance"), "{}", err.message);
}

#[test]
fn the_bundled_curves_lose_their_anomalies() {
    let anomalies = |k: &str| {
        let csv = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/data/fmnist_random_cnn.csv"
        );
        let r = common::replay_json(&[csv, "--set", "chance_level=10", "--loss_patience", k]);
        r["datasets"]["FashionMNIST"]["full"]["anomalies"]
            .as_u64()
            .unwrap()
    };
    let (paper, guarded) = (anomalies("0"), anomalies("2"));
    assert!(
        paper > 0,
        "the paper's method has anomalies on these curves"
    );
    assert!(guarded < paper, "guard: {guarded}, paper: {paper}");
}

/// An engine with the never-learner stop (`chance_patience`), and the guard
/// when `loss_patience` > 0.
fn never_learner_engine(chance_patience: &str, loss_patience: &str) -> Engine {
    engine_with(&[
        ("chance_patience", chance_patience),
        ("loss_patience", loss_patience),
        ("loss_min_delta", "0.001"),
    ])
}

#[test]
fn chance_patience_stops_a_flat_network_without_waiting_for_its_fits() {
    let never = |k: usize| (10.0 + 0.1 * (k % 3) as f64, 2.30 + 0.01 * (k % 2) as f64);
    let (paper_stop, _) = run(&mut engine("0"), never, true);
    assert!(paper_stop > 1.5, "{paper_stop}");
    // Without losses: the third observation at chance stops it, answering the
    // mean of the three values, with no interval (it extrapolates nothing).
    let mut e = never_learner_engine("3", "0");
    let mut last = None;
    for k in 1..=3 {
        let (acc, _) = never(k);
        last = Some(e.observe(1, 0.5 * k as f64, acc).unwrap());
    }
    let s = last.unwrap();
    assert_eq!(s.state, State::Converged, "{s:?}");
    assert_eq!(s.epoch, 1.5);
    assert!(
        (s.prediction - (10.1 + 10.2 + 10.0) / 3.0).abs() < 1e-12,
        "{s:?}"
    );
    assert!(
        s.prediction_lo.is_nan() && s.prediction_hi.is_nan(),
        "{s:?}"
    );
    // With losses: once the loss has also not improved for three
    // observations (2.30 at k = 2 is its best, then 2.31, 2.30, 2.31).
    let (stop, pred) = run(&mut never_learner_engine("3", "0"), never, true);
    assert_eq!(stop, 2.5);
    assert!(pred < 10.5, "{pred}");
    assert!(stop < paper_stop, "{stop} vs {paper_stop}");
}

#[test]
fn chance_patience_lets_a_late_bloomer_whose_loss_falls_learn() {
    // Its loss falls by 2 % per observation: never stalled, so the rule never
    // stops it; with the guard it learns, without it the paper's rule writes
    // it off as before (the rule adds no protection of its own).
    let (stop, pred) = run(&mut never_learner_engine("3", "2"), late_bloomer, true);
    assert!(stop > 4.0 && pred > 50.0, "guarded: {stop} {pred}");
    assert_eq!(
        run(&mut never_learner_engine("3", "0"), late_bloomer, true),
        run(&mut engine("0"), late_bloomer, true)
    );
    // Without losses the rule cannot tell: it stops after three values at chance.
    let (stop, pred) = run(&mut never_learner_engine("3", "2"), late_bloomer, false);
    assert_eq!(stop, 1.5);
    assert!(pred < 11.0, "{pred}");
    // Values above chance never trigger it.
    let learner = |k: usize| (20.0 + k as f64, 2.0);
    let (stop, pred) = run(&mut never_learner_engine("1", "0"), learner, true);
    assert!(pred > 20.0 && stop > 1.5, "{stop} {pred}");
}

#[test]
fn chance_patience_waits_as_long_as_the_guard_does() {
    // Flat at chance for 4 epochs; its loss pauses for two observations (k = 2,
    // 3) and then falls: a late bloomer. The guard (loss_patience = 4) keeps it;
    // the never-learner stop with K = 2 must not write it off earlier.
    let pausing = |k: usize| {
        let (acc, _) = late_bloomer(k);
        let loss = if k <= 3 { 2.3 } else { 2.3 - 0.05 * k as f64 };
        (acc, loss)
    };
    let (stop, pred) = run(&mut never_learner_engine("2", "4"), pausing, true);
    assert!(stop > 4.0 && pred > 50.0, "{stop} {pred}");
}

#[test]
fn chance_settings_set_in_the_struct_are_checked_too() {
    let bad = [
        Config {
            chance_level: f64::INFINITY,
            chance_patience: 2,
            ..Config::default()
        },
        Config {
            chance_level: f64::INFINITY,
            loss_patience: 2,
            ..Config::default()
        },
        Config {
            chance_margin: -1.0,
            ..Config::default()
        },
        Config {
            chance_margin: f64::NAN,
            ..Config::default()
        },
    ];
    for c in bad {
        let err = Engine::new(c).unwrap_err();
        assert_eq!(err.code, ErrorCode::InconsistentConfig, "{}", err.message);
    }
}

#[test]
fn chance_patience_needs_the_chance_level() {
    let mut c = Config::default();
    c.set("chance_patience", "3").unwrap();
    let err = Engine::new(c).unwrap_err();
    assert_eq!(err.code, ErrorCode::InconsistentConfig);
    assert!(err.message.contains("chance_level"), "{}", err.message);
}

/// Never-learners' (networks that end at chance) mean stop epoch and the
/// anomalies, replaying a bundled file with extra options.
fn never_learners(file: &str, options: &[&str]) -> (f64, u64) {
    let d = common::replay_bundled(file, options);
    let stops: Vec<f64> = d["per_network"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| !n["learning"].as_bool().unwrap())
        .map(|n| n["stop_epoch"].as_f64().unwrap())
        .collect();
    assert!(stops.len() >= 10, "{file}: {} never-learners", stops.len());
    let mean = stops.iter().sum::<f64>() / stops.len() as f64;
    (mean, d["full"]["anomalies"].as_u64().unwrap())
}

#[test]
fn the_bundled_never_learners_stop_within_three_epochs_without_more_anomalies() {
    let guard = ["--chance_level", "10", "--loss_patience", "2"];
    let options = [
        &guard[..],
        &["--loss_min_delta", "0.001", "--chance_patience", "3"],
    ]
    .concat();
    for file in ["fmnist_random_cnn.csv", "fmnist_mlp_mpi.csv"] {
        let (paper_stop, paper_anomalies) = never_learners(file, &[]);
        let (stop, anomalies) = never_learners(file, &options);
        assert!(paper_stop > 3.0, "{file}: the paper's method {paper_stop}");
        assert!(
            stop <= 3.0,
            "{file}: never-learners stop at {stop} on average"
        );
        assert!(
            anomalies <= paper_anomalies,
            "{file}: {anomalies} anomalies, the paper's method {paper_anomalies}"
        );
    }
}

#[test]
fn the_budget_overrides_the_late_bloomer_guard() {
    // The guard holds the late bloomer past epoch 4 (above); a budget of 3
    // epochs stops it at 3 all the same.
    let mut e = engine_with(&[("loss_patience", "2"), ("max_epoch", "3")]);
    let (stop, _) = run(&mut e, late_bloomer, true);
    assert_eq!(stop, 3.0);
}

#[test]
fn the_budget_pre_empts_the_never_learner_stop() {
    // Two values at chance and no loss: at epoch 1 the never-learner stop
    // (K = 2) would answer their mean, 10; the budget comes first and, with
    // no fit yet, answers the observed value, with no interval.
    let flat = |k: usize| (if k % 2 == 1 { 10.2 } else { 9.8 }, f64::NAN);
    let (stop, answer) = run(&mut engine_with(&[("chance_patience", "2")]), flat, false);
    assert_eq!((stop, answer), (1.0, 10.0), "the never-learner stop alone");
    let mut e = engine_with(&[("chance_patience", "2"), ("max_epoch", "1")]);
    let (stop, answer) = run(&mut e, flat, false);
    assert_eq!((stop, answer), (1.0, 9.8));
    let s = e.status(1).unwrap();
    assert!(
        s.prediction_lo.is_nan() && s.prediction_hi.is_nan(),
        "{s:?}"
    );
}
