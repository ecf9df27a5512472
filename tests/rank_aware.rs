//! Rank-aware stopping (config `select_top`) on the bundled Fashion-MNIST
//! curves, replayed as a NAS would (one batch per epoch; one observation at a
//! time for `select_hold_observed`): no network stops
//! while its interval straddles the cutoff it was judged against, none keeps
//! training wholly below it after the warm-up, the rule changes nothing when
//! off, and it needs intervals.

use penguin::{Config, Engine, ErrorCode, Observation, State};

mod common;

fn curves() -> Vec<Vec<(f64, f64)>> {
    common::fmnist_curves()
        .into_iter()
        .map(|(_, c)| c)
        .collect()
}

/// Replays every curve step by step in batches; returns each network's stop
/// epoch and checks every stop against the cutoff of its batch.
fn replay(select_top: usize) -> Vec<f64> {
    replay_with(select_top, f64::INFINITY).0
}

/// [`replay`] with the width gate `stop_width`; also returns how many
/// networks stopped with an interval wider than it, which only rank-aware
/// stopping may do, wholly below the cutoff (checked).
fn replay_with(select_top: usize, stop_width: f64) -> (Vec<f64>, usize) {
    let curves = curves();
    let mut config = Config::default();
    config.set("select_top", &select_top.to_string()).unwrap();
    config.set("stop_width", &stop_width.to_string()).unwrap();
    let mut wide = 0;
    let mut engine = Engine::new(config).unwrap();
    let mut stop = vec![f64::NAN; curves.len()];
    let steps = curves.iter().map(Vec::len).max().unwrap();
    for step in 0..steps {
        let batch: Vec<Observation> = curves
            .iter()
            .enumerate()
            .filter(|(k, c)| stop[*k].is_nan() && step < c.len())
            .map(|(k, c)| Observation {
                id: k as u64,
                epoch: c[step].0,
                value: c[step].1,
            })
            .collect();
        if batch.is_empty() {
            break;
        }
        let cutoff = engine.cutoff();
        if select_top == 0 || select_top > curves.len() {
            assert!(cutoff.is_nan());
        }
        for (o, s) in batch.iter().zip(engine.observe_batch(&batch).unwrap()) {
            let judged = cutoff.is_finite() && s.prediction_lo.is_finite();
            if s.state == State::Continue {
                // Wholly below the cutoff after the warm-up (N * E = 1.5
                // epochs), with a valid prediction: it cannot make the cut.
                let valid = (0.0..=100.0).contains(&s.fit_prediction);
                assert!(
                    !(judged && s.prediction_hi < cutoff && valid && s.epoch > 1.5),
                    "network {} kept training below the cutoff {cutoff}: {s:?}",
                    o.id
                );
                continue;
            }
            stop[o.id as usize] = s.epoch;
            let width = s.prediction_hi - s.prediction_lo;
            if s.state == State::Converged && (width.is_nan() || width > stop_width) {
                wide += 1;
                assert!(
                    judged && s.prediction_hi < cutoff,
                    "network {} stopped with width {width} above the cutoff {cutoff}: {s:?}",
                    o.id
                );
            }
            if s.state == State::Converged && judged {
                assert!(
                    s.prediction_hi < cutoff || s.prediction_lo > cutoff,
                    "network {} stopped straddling the cutoff {cutoff}: {s:?}",
                    o.id
                );
            }
        }
    }
    (stop, wide)
}

#[test]
fn no_network_stops_while_straddling_the_cutoff() {
    let paper = replay(0);
    let ranked = replay(20);
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    // Straddlers train longer than the paper's rule lets them, and at least
    // one network is kept training past its paper stop; networks that cannot
    // make the cut stop before it.
    assert!(ranked.iter().zip(&paper).any(|(r, p)| r > p));
    assert!(ranked.iter().zip(&paper).any(|(r, p)| r < p));
    assert!(mean(&ranked) > mean(&paper));
}

#[test]
fn the_width_gate_does_not_hold_a_network_that_cannot_make_the_cut() {
    // stop_width = 1: the gate holds nearly every stop of the paper's rule,
    // but networks wholly below the cutoff still stop, however wide their
    // intervals (the gate comes before rank-aware stopping).
    let (stop, wide) = replay_with(20, 1.0);
    assert!(wide > 20, "{wide} networks stopped wide below the cutoff");
    let (paper, _) = replay_with(20, f64::INFINITY);
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    assert!(mean(&stop) > mean(&paper));
}

#[test]
fn without_a_cutoff_the_papers_decisions_stand_and_it_needs_intervals() {
    // More places than networks: no cutoff, so the paper's decisions.
    assert_eq!(replay(0), replay(500));
    let mut c = Config::default();
    c.set("select_top", "10").unwrap();
    c.set("interval", "0").unwrap();
    let err = Engine::new(c).unwrap_err();
    assert_eq!(err.code, ErrorCode::InconsistentConfig);
    assert!(err.message.contains("select_top"), "{}", err.message);
}

/// `select_hold_observed` through single observations (`penguin_observe`'s
/// path, which keeps the cutoffs in an index): `robust` on MLPs s89, every
/// network observed one at a time, epoch after epoch. Before the hold ends,
/// no network stops converged while the mean of its last N values is at
/// least the shown cutoff it was judged against, unless it is a sure pick
/// (its interval and that mean clear the top-X cutoff); and the key makes
/// networks train longer than without it.
#[test]
fn single_observations_hold_the_networks_that_show_the_most() {
    let curves: Vec<Vec<(f64, f64)>> = common::bundled_curves("fmnist_mlp_s89.csv")
        .into_iter()
        .map(|(_, c)| c)
        .collect();
    let run = |k: &str| {
        let mut config = Config::default();
        config.set("preset", "robust").unwrap();
        config.set("chance_level", "10").unwrap();
        config.set("select_hold_observed", k).unwrap();
        let mut engine = Engine::new(config.clone()).unwrap();
        let mut stop = vec![f64::NAN; curves.len()];
        let mut held = 0;
        let steps = curves.iter().map(Vec::len).max().unwrap();
        for step in 0..steps {
            for (id, c) in curves.iter().enumerate() {
                if !stop[id].is_nan() || step >= c.len() {
                    continue;
                }
                let (epoch, value) = c[step];
                let (cutoff, shown_cutoff) = (engine.cutoff(), engine.shown_cutoff());
                let s = engine.observe(id as u64, epoch, value).unwrap();
                let tail = &c[(step + 1).saturating_sub(config.n)..=step];
                let shows = tail.iter().map(|p| p.1).sum::<f64>() / tail.len() as f64;
                let among = shown_cutoff.is_finite() && shows >= shown_cutoff;
                let ranked = cutoff.is_finite() && s.prediction_lo.is_finite();
                let holding = epoch < config.select_hold_until * config.e_pred;
                if among && ranked && holding {
                    if s.state == State::Continue {
                        held += 1;
                    } else {
                        let sure = s.prediction_lo > cutoff && shows > cutoff;
                        assert!(
                            sure || s.state == State::ReachedEPred,
                            "network {id} stopped at epoch {epoch} showing {shows} \
                             (shown cutoff {shown_cutoff}, cutoff {cutoff})"
                        );
                    }
                }
                if s.state != State::Continue {
                    stop[id] = epoch;
                }
            }
        }
        let mean = stop.iter().sum::<f64>() / stop.len() as f64;
        (mean, held)
    };
    let (with, held) = run("8");
    let (without, _) = run("0");
    assert!(held > 100, "only {held} observations held");
    assert!(
        with > without + 0.2,
        "{with} epochs with the key, {without} without"
    );
}
