//! Prediction intervals (config `interval`): on the bundled curves every
//! interval holds its prediction, a lower level gives a narrower one, level 0
//! gives none, and the replay report's coverage is what its per-network
//! entries say.

mod common;

use penguin::{Config, Engine, State};

const FMNIST: &str = include_str!("data/fmnist_random_cnn.csv");

/// The bundled Fashion-MNIST curves: (id, [(epoch, val_acc)]), in file order.
fn curves() -> Vec<(String, Vec<(f64, f64)>)> {
    let mut lines = FMNIST.lines();
    let head: Vec<&str> = lines.next().unwrap().split(',').collect();
    let col = |n: &str| head.iter().position(|h| *h == n).unwrap();
    let (id, epoch, acc) = (col("model_id"), col("epoch"), col("val_acc"));
    let mut out: Vec<(String, Vec<(f64, f64)>)> = Vec::new();
    for line in lines {
        let f: Vec<&str> = line.split(',').collect();
        let point = (f[epoch].parse().unwrap(), f[acc].parse().unwrap());
        match out.last_mut() {
            Some((last, points)) if *last == f[id] => points.push(point),
            _ => out.push((f[id].to_string(), vec![point])),
        }
    }
    out
}

/// Every status of every network, observed one by one, with `interval = level`.
fn statuses(level: &str) -> Vec<Vec<penguin::Status>> {
    let mut config = Config::default();
    config.set("interval", level).unwrap();
    let mut engine = Engine::new(config).unwrap();
    curves()
        .iter()
        .enumerate()
        .map(|(k, (_, points))| {
            let mut seen = Vec::new();
            for &(e, v) in points {
                let s = engine.observe(k as u64, e, v).unwrap();
                let stop = s.state != State::Continue;
                seen.push(s);
                if stop {
                    break;
                }
            }
            seen
        })
        .collect()
}

#[test]
fn intervals_hold_their_predictions_and_shrink_with_the_level() {
    let wide = statuses("0.9");
    let narrow = statuses("0.5");
    let (mut with_interval, mut fits) = (0, 0);
    for (w, n) in wide.iter().zip(&narrow) {
        assert_eq!(w.len(), n.len(), "the level changes no decision");
        for (s, t) in w.iter().zip(n) {
            assert_eq!(s.state, t.state);
            assert_eq!(s.prediction.to_bits(), t.prediction.to_bits());
            match s.state {
                State::ReachedEPred => {
                    assert_eq!(s.prediction_lo, s.prediction);
                    assert_eq!(s.prediction_hi, s.prediction);
                }
                _ if s.fit_prediction.is_finite() => {
                    fits += 1;
                    if s.prediction_lo.is_finite() {
                        with_interval += 1;
                        assert!(
                            s.prediction_lo <= s.fit_prediction
                                && s.fit_prediction <= s.prediction_hi,
                            "{s:?}"
                        );
                        assert!(
                            t.prediction_lo >= s.prediction_lo
                                && t.prediction_hi <= s.prediction_hi
                                && (t.prediction_hi - t.prediction_lo
                                    < s.prediction_hi - s.prediction_lo
                                    || s.prediction_hi == s.prediction_lo),
                            "0.5 inside 0.9: {s:?} {t:?}"
                        );
                    }
                }
                _ => {
                    assert!(
                        s.prediction_lo.is_nan() && s.prediction_hi.is_nan(),
                        "{s:?}"
                    );
                }
            }
        }
    }
    // An interval needs more points than parameters: all but the first
    // prediction of each network have one.
    assert!(fits > 300, "{fits} predictions");
    assert!(
        with_interval * 10 >= fits * 7,
        "{with_interval} of {fits} predictions have an interval"
    );
}

#[test]
fn level_zero_gives_no_interval() {
    for s in statuses("0").iter().flatten() {
        if s.state != State::ReachedEPred {
            assert!(
                s.prediction_lo.is_nan() && s.prediction_hi.is_nan(),
                "{s:?}"
            );
        }
    }
}

#[test]
fn replay_coverage_is_what_its_networks_say() {
    let report = common::replay_json(&[]);
    let d = &report["datasets"]["FashionMNIST"];
    let (mut n, mut inside) = (0, 0);
    for p in d["per_network"].as_array().unwrap() {
        let (lo, hi, obs) = (
            p["prediction_lo"].as_f64(),
            p["prediction_hi"].as_f64(),
            p["observed"].as_f64(),
        );
        if p["stop"] == "converged"
            && let (Some(lo), Some(hi), Some(obs)) = (lo, hi, obs)
        {
            n += 1;
            inside += usize::from(lo <= obs && obs <= hi);
        }
    }
    let c = &d["full"]["interval_coverage"];
    assert_eq!(c["networks"].as_u64(), Some(n as u64));
    let share = c["share"].as_f64().unwrap();
    assert!((share - inside as f64 / n as f64).abs() < 1e-12);
}

#[test]
fn a_wide_interval_falls_back_to_the_observation() {
    // fallback_width = 0: every converged network reports its newest
    // observed value; inf (the default): its prediction.
    let mut narrow = Config::default();
    narrow.set("fallback_width", "0").unwrap();
    let mut engine = Engine::new(narrow).unwrap();
    let paper = statuses("0.9");
    let (mut converged, mut differ) = (0, 0);
    for (k, (_, points)) in curves().iter().enumerate() {
        for (j, &(e, v)) in points.iter().enumerate() {
            let s = engine.observe(k as u64, e, v).unwrap();
            assert_eq!(s.state, paper[k][j].state, "the stop itself is unchanged");
            if s.state == State::Converged {
                converged += 1;
                assert_eq!(s.prediction, v, "network {k}: the observed value");
                differ += usize::from(paper[k][j].prediction != v);
            }
            if s.state != State::Continue {
                break;
            }
        }
    }
    assert!(converged > 100 && differ > 100, "{converged} {differ}");
}
