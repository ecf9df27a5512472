//! Rank-aware stopping (config `select_top`) on the bundled Fashion-MNIST
//! curves, replayed as a NAS would (one batch per epoch): no network stops
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
