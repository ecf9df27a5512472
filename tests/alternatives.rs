//! Function selection (config `alternatives`): the fit with the lowest AICc
//! gives the prediction, so a curve drawn from one of the candidates is
//! predicted by that candidate; unknown names are refused. With
//! `combine = mean` the predictions are averaged, and a failing function
//! leaves no prediction.

use penguin::functions::Model;
use penguin::predict::{aicc, predict};
use penguin::{Config, ErrorCode};
use std::sync::Arc;

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

#[test]
fn combine_mean_averages_every_functions_prediction_and_keeps_exp3s_parameters() {
    // A rising curve both exp3 and pow3 fit with their own error.
    let epochs: Vec<f64> = (1..=12).map(|k| 0.5 * f64::from(k)).collect();
    let values: Vec<f64> = epochs
        .iter()
        .map(|e| 80.0 - 60.0 * (-0.4 * e).exp() + 0.3 * e)
        .collect();
    let mut exp3 = Config::default();
    exp3.set("bounds", "-inf,-inf,-inf;inf,inf,inf").unwrap();
    let mut pow3 = exp3.clone();
    pow3.set("function", "pow3").unwrap();
    pow3.set("bounds", "default").unwrap();
    let mut mean = exp3.clone();
    mean.set("alternatives", "pow3").unwrap();
    mean.set("combine", "mean").unwrap();
    let a = predict(&exp3, &epochs, &values, None);
    let b = predict(&pow3, &epochs, &values, None);
    let m = predict(&mean, &epochs, &values, None);
    assert!(a.value.is_finite() && b.value.is_finite(), "{a:?} {b:?}");
    assert!((a.value - b.value).abs() > 1.0, "the two should differ");
    assert!((m.value - 0.5 * (a.value + b.value)).abs() < 1e-9, "{m:?}");
    assert!((m.lo - 0.5 * (a.lo + b.lo)).abs() < 1e-9);
    assert!((m.hi - 0.5 * (a.hi + b.hi)).abs() < 1e-9);
    // The next warm start is exp3's own fit.
    assert_eq!(m.params, a.params);
    // With aicc, the chosen function's value, but still exp3's parameters.
    let mut select = mean.clone();
    select.set("combine", "aicc").unwrap();
    let s = predict(&select, &epochs, &values, None);
    let lower = if aicc(b.sse, 12, 3) < aicc(a.sse, 12, 3) {
        &b
    } else {
        &a
    };
    assert_eq!(s.value.to_bits(), lower.value.to_bits(), "{s:?}");
    assert_eq!(s.params, a.params);
    // Unknown rule refused.
    let err = mean.set("combine", "median").unwrap_err();
    assert_eq!(err.code, ErrorCode::InvalidConfigValue);
}

/// A function whose every evaluation fails.
#[derive(Debug)]
struct Failing;

impl Model for Failing {
    fn name(&self) -> &str {
        "failing"
    }
    fn n_params(&self) -> usize {
        2
    }
    fn eval(&self, _x: &[f64], _p: &[f64], _y: &mut [f64]) -> bool {
        false
    }
    fn jacobian(&self, _x: &[f64], _p: &[f64], _j: &mut [f64]) -> bool {
        false
    }
}

#[test]
fn combine_mean_gives_no_prediction_when_an_alternative_fails() {
    let epochs = [0.5, 1.0, 1.5, 2.0, 2.5];
    let values = [30.0, 40.0, 45.0, 47.0, 48.0];
    let mut c = Config::default();
    c.set("bounds", "-inf,-inf,-inf;inf,inf,inf").unwrap();
    let alone = predict(&c, &epochs, &values, None);
    assert!(alone.value.is_finite());
    // Registering makes it the function; exp3 stays the main one here.
    c.register_function(Arc::new(Failing)).unwrap();
    c.set("function", "exp3").unwrap();
    c.set("bounds", "-inf,-inf,-inf;inf,inf,inf").unwrap();
    c.set("alternatives", "failing").unwrap();
    c.set("combine", "mean").unwrap();
    let p = predict(&c, &epochs, &values, None);
    assert!(p.value.is_nan() && p.lo.is_nan() && p.hi.is_nan(), "{p:?}");
    // exp3's fit still serves as the next warm start.
    assert_eq!(p.params, alone.params);
    // With aicc the failing function is never chosen.
    c.set("combine", "aicc").unwrap();
    assert_eq!(
        predict(&c, &epochs, &values, None).value.to_bits(),
        alone.value.to_bits()
    );
    // A function with as many parameters as there are points is skipped.
    let mut d = Config::default();
    d.set("bounds", "-inf,-inf,-inf;inf,inf,inf").unwrap();
    d.set("alternatives", "pow4").unwrap();
    d.set("combine", "mean").unwrap();
    let three = predict(&d, &epochs[..3], &values[..3], None);
    let exp3_three = predict(
        &Config {
            alternatives: Vec::new(),
            ..d.clone()
        },
        &epochs[..3],
        &values[..3],
        None,
    );
    assert_eq!(three.value.to_bits(), exp3_three.value.to_bits());
}
