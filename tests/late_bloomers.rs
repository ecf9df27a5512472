//! The late-bloomer guard (config `chance_level`, `chance_margin`, `loss_patience`):
//! a network flat at chance whose validation loss still falls keeps training
//! and is not written off; one whose loss has stalled stops as before; without
//! losses nothing changes; the bundled curves lose their anomalies; with
//! `loss_min_delta` a loss that only creeps down does not hold a network.

mod common;

use penguin::{Config, Engine, ErrorCode, State};

fn engine(loss_patience: &str) -> Engine {
    let mut c = Config::default();
    c.set("chance_level", "10").unwrap();
    c.set("loss_patience", loss_patience).unwrap();
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
        let mut c = Config::default();
        c.set("chance_level", "10").unwrap();
        c.set("loss_patience", patience).unwrap();
        c.set("loss_min_delta", delta).unwrap();
        Engine::new(c).unwrap()
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
