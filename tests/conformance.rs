//! Conformance with the PENGUIN authors' own code on real learning curves
//! (copies in tests/data; provenance in tests/data/PROVENANCE.md).

use penguin::analyzer::{Decision, analyze, push_prediction};
use penguin::config::Config;
use penguin::curves::{CurveColumns, Table, read_curves};
use penguin::engine::{Engine, State};
use penguin::predict::predict;

/// The authors' PENGUIN (Dataverse evaluation) in Penguin's terms.
fn authors_dataverse_config() -> Config {
    let mut c = Config::default();
    c.load_str(include_str!("data/authors_dataverse.conf"))
        .unwrap();
    c
}

/// The A4NN workflow's settings.
fn a4nn_config() -> Config {
    let mut c = Config::default();
    c.load_str(include_str!("data/a4nn.conf")).unwrap();
    c
}

#[test]
fn dataverse_stop_epochs_and_predictions_match_the_authors() {
    let table = Table::parse(include_str!("data/dataverse_cifar100_3nets.csv")).unwrap();
    let curves = read_curves(&table, &CurveColumns::default()).unwrap();
    let expected =
        Table::parse(include_str!("data/dataverse_cifar100_3nets_expected.csv")).unwrap();
    let (c_id, c_stop, c_pred) = (
        expected.column("modelID").unwrap(),
        expected.column("timeStabilized").unwrap(),
        expected.column("predictedAcc").unwrap(),
    );
    assert_eq!(expected.rows.len(), 3);
    let mut engine = Engine::new(authors_dataverse_config()).unwrap();
    for (_, row) in &expected.rows {
        let id = row[c_id].trim_end_matches(".txt");
        let stop: f64 = row[c_stop].parse().unwrap();
        let pred: f64 = row[c_pred].parse().unwrap();
        let (k, curve) = curves.iter().enumerate().find(|(_, c)| c.id == id).unwrap();
        let mut last = None;
        for (e, v) in curve.epochs.iter().zip(&curve.values) {
            let s = engine.observe(k as u64, *e, *v).unwrap();
            if s.state != State::Continue {
                last = Some(s);
                break;
            }
        }
        let s = last.expect("network stopped");
        println!(
            "{id}: stop {} (authors {stop}), prediction {} (authors {pred})",
            s.epoch, s.prediction
        );
        assert_eq!(s.state, State::Converged, "{id}");
        assert_eq!(s.epoch, stop, "{id}: stop epoch");
        assert!(
            (s.prediction - pred).abs() < 1e-3,
            "{id}: prediction {} vs {pred}",
            s.prediction
        );
    }
}

#[test]
fn a4nn_predictions_and_flags_match_the_workflow() {
    let table = Table::parse(include_str!("data/a4nn_xfel_complete.csv")).unwrap();
    let cols = CurveColumns {
        extra: &["penguin_prediction", "penguin_converged"],
        ..CurveColumns::default()
    };
    // penguin_converged is True/False: read it as text.
    let conv = table.column("penguin_converged").unwrap();
    let mut flags = table.rows.iter().map(|(_, r)| r[conv] == "True");
    let curves = read_curves(&table, &cols).unwrap();
    let config = a4nn_config();
    let (mut points, mut pred_ok, mut flag_ok, mut flag_points) = (0, 0, 0, 0);
    let mut mismatches = Vec::new();
    for c in &curves {
        let stored = &c.extra["penguin_prediction"];
        let mut window = Vec::new();
        for (k, &stored_k) in stored.iter().enumerate() {
            let flag = flags.next().unwrap();
            let p = if k + 1 >= config.min_points() {
                predict(&config, &c.epochs[..=k], &c.values[..=k], None)
            } else {
                penguin::predict::Prediction::none()
            };
            push_prediction(&config, &mut window, p.value, p.at_upper_bound);
            let d = analyze(&config, c.epochs[k], c.values[k], &window);
            let converged = matches!(d, Decision::Converged { .. });
            flag_points += 1;
            if converged == flag {
                flag_ok += 1;
            }
            if stored_k.is_finite() {
                points += 1;
                if (p.value - stored_k).abs() <= 1e-3 {
                    pred_ok += 1;
                } else {
                    mismatches.push((c.id.clone(), c.epochs[k], p.value, stored_k));
                }
            } else if p.value.is_finite() {
                points += 1;
                mismatches.push((c.id.clone(), c.epochs[k], p.value, stored_k));
            }
        }
    }
    let pred_rate = pred_ok as f64 / points as f64;
    let flag_rate = flag_ok as f64 / flag_points as f64;
    println!(
        "predictions within 1e-3: {pred_ok}/{points} = {:.2} %",
        100.0 * pred_rate
    );
    println!(
        "converged flag equal: {flag_ok}/{flag_points} = {:.2} %",
        100.0 * flag_rate
    );
    for m in mismatches.iter().take(15) {
        println!("  mismatch {m:?}");
    }
    assert!(pred_rate >= 0.99);
    assert!(flag_rate >= 0.995);
}
