//! Function selection (config `alternatives`): the fit with the lowest AICc
//! gives the prediction, so a curve drawn from one of the candidates is
//! predicted by that candidate; unknown names are refused.

use penguin::predict::{aicc, predict};
use penguin::{Config, ErrorCode};

#[test]
fn the_lowest_aicc_gives_the_prediction() {
    // A pow3 curve (a x^b + c), noise-free: exp3 cannot fit it exactly.
    let epochs: Vec<f64> = (1..=16).map(|k| 0.5 * f64::from(k)).collect();
    let pow3 = |x: f64| 8.0 * x.powf(0.5) + 20.0;
    let values: Vec<f64> = epochs.iter().map(|e| pow3(e / 0.5)).collect();
    let mut alone = Config::default();
    alone.set("bounds", "-inf,-inf,-inf;inf,inf,inf").unwrap();
    let mut with = alone.clone();
    with.set("alternatives", "pow3").unwrap();
    let p_alone = predict(&alone, &epochs, &values, None);
    let p_with = predict(&with, &epochs, &values, None);
    let truth = pow3(20.0 / 0.5);
    assert!((p_with.value - truth).abs() < 1e-3, "{p_with:?} vs {truth}");
    assert!(
        (p_alone.value - truth).abs() > 0.1,
        "exp3 alone should miss it: {p_alone:?}"
    );
    assert!(aicc(p_with.sse, 16, 3) < aicc(p_alone.sse, 16, 3));
    // Nothing better on offer: exp3's own prediction stands.
    let exp3_values: Vec<f64> = epochs
        .iter()
        .map(|e| 80.0 - 1.3f64.powf(9.0 - e / 0.5))
        .collect();
    let a = predict(&alone, &epochs, &exp3_values, None);
    let b = predict(&with, &epochs, &exp3_values, None);
    assert_eq!(a.value.to_bits(), b.value.to_bits());
}

#[test]
fn aicc_penalises_parameters_and_needs_degrees_of_freedom() {
    assert!(aicc(1.0, 20, 4) > aicc(1.0, 20, 3));
    assert!(aicc(1.0, 20, 3) > aicc(0.5, 20, 3));
    assert_eq!(aicc(1.0, 4, 3), f64::INFINITY);
}

#[test]
fn unknown_alternatives_are_refused_and_none_clears() {
    let mut c = Config::default();
    let err = c.set("alternatives", "pow3,nosuch").unwrap_err();
    assert_eq!(err.code, ErrorCode::UnknownFunction);
    assert!(err.message.contains("nosuch"), "{}", err.message);
    c.set("alternatives", "pow3, log2").unwrap();
    assert_eq!(c.alternatives.len(), 2);
    c.set("alternatives", "none").unwrap();
    assert!(c.alternatives.is_empty());
}
