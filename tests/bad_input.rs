//! The catalogue of bad input (docs/reliability.md, "Bad input"): every case gets its
//! documented code, a message naming what was wrong, and leaves the engine or
//! configuration exactly as it was (compared through a saved state).

use penguin::state::to_bytes;
use penguin::{Config, Engine, ErrorCode};

fn engine_with_history() -> Engine {
    let mut e = Engine::new(Config::default()).unwrap();
    for k in 1..=4 {
        e.observe(1, 0.5 * k as f64, 10.0 + k as f64).unwrap();
    }
    // Network 2 has a final decision.
    for k in 1..=40 {
        if e.observe(2, 0.5 * k as f64, 50.0).unwrap().state != penguin::State::Continue {
            break;
        }
    }
    e
}

#[test]
fn bad_observations() {
    let cases: &[(u64, f64, f64, ErrorCode, &str)] = &[
        (1, 3.0, f64::NAN, ErrorCode::InvalidFitness, "fitness"),
        (1, 3.0, f64::INFINITY, ErrorCode::InvalidFitness, "fitness"),
        (
            1,
            3.0,
            f64::NEG_INFINITY,
            ErrorCode::InvalidFitness,
            "fitness",
        ),
        (1, f64::NAN, 10.0, ErrorCode::InvalidEpoch, "epoch"),
        (1, -1.0, 10.0, ErrorCode::InvalidEpoch, "epoch"),
        (1, 0.0, 10.0, ErrorCode::InvalidEpoch, "epoch"),
        (1, f64::INFINITY, 10.0, ErrorCode::InvalidEpoch, "epoch"),
        (
            1,
            2.0,
            10.0,
            ErrorCode::EpochNotIncreasing,
            "previous epoch",
        ),
        (
            1,
            1.0,
            10.0,
            ErrorCode::EpochNotIncreasing,
            "previous epoch",
        ),
        (2, 100.0, 10.0, ErrorCode::AlreadyDecided, "already"),
    ];
    let mut e = engine_with_history();
    let before = to_bytes(&e);
    for (id, epoch, value, code, needle) in cases {
        let err = e.observe(*id, *epoch, *value).unwrap_err();
        assert_eq!(err.code, *code, "observe({id}, {epoch}, {value})");
        assert!(err.message.contains(needle), "{}", err.message);
        assert_eq!(
            to_bytes(&e),
            before,
            "observe({id}, {epoch}, {value}) changed the engine"
        );
        let batch = [penguin::Observation {
            id: *id,
            epoch: *epoch,
            value: *value,
        }];
        assert_eq!(e.observe_batch(&batch).unwrap_err().code, *code);
        assert_eq!(to_bytes(&e), before);
    }
    // Unknown ids.
    assert_eq!(e.status(99).unwrap_err().code, ErrorCode::UnknownNetwork);
    assert_eq!(e.forget(99).unwrap_err().code, ErrorCode::UnknownNetwork);
    assert_eq!(to_bytes(&e), before);
    // Finite fitness of any sign or size is accepted; the fit copes or fails.
    for (k, v) in [-5.0, 1e308, 1e308, 1e308, -1e308].iter().enumerate() {
        e.observe(7, 0.5 * (k + 1) as f64, *v).unwrap();
    }
}

#[test]
fn bad_configuration_values() {
    let cases: &[(&str, &str, ErrorCode)] = &[
        ("colour", "red", ErrorCode::UnknownConfigKey),
        ("function", "nope", ErrorCode::UnknownFunction),
        ("function", "", ErrorCode::UnknownFunction),
        ("N", "", ErrorCode::InvalidConfigValue),
        ("N", "0", ErrorCode::InvalidConfigValue),
        ("N", "-1", ErrorCode::InvalidConfigValue),
        ("N", "2.5", ErrorCode::InvalidConfigValue),
        ("t", "", ErrorCode::InvalidConfigValue),
        ("t", "-0.1", ErrorCode::InvalidConfigValue),
        ("t", "nan", ErrorCode::InvalidConfigValue),
        ("E", "0", ErrorCode::InvalidConfigValue),
        ("E", "-0.5", ErrorCode::InvalidConfigValue),
        ("E", "x", ErrorCode::InvalidConfigValue),
        ("e_pred", "0", ErrorCode::InvalidConfigValue),
        ("e_pred", "-20", ErrorCode::InvalidConfigValue),
        ("e_pred", "inf", ErrorCode::InvalidConfigValue),
        ("valid_min", "nan", ErrorCode::InvalidConfigValue),
        ("valid_max", "", ErrorCode::InvalidConfigValue),
        ("min_points", "0", ErrorCode::InvalidConfigValue),
        ("x_shift", "inf", ErrorCode::InvalidConfigValue),
        ("agreement", "mode", ErrorCode::InvalidConfigValue),
        ("validity", "some", ErrorCode::InvalidConfigValue),
        ("threshold", "", ErrorCode::InvalidConfigValue),
        ("direction", "up", ErrorCode::InvalidConfigValue),
        ("trend", "flat", ErrorCode::InvalidConfigValue),
        ("p0", "", ErrorCode::InvalidConfigValue),
        ("p0", "1,x,3", ErrorCode::InvalidConfigValue),
        ("p0", "1,inf,3", ErrorCode::InvalidConfigValue),
        ("bounds", "", ErrorCode::InvalidConfigValue),
        ("bounds", "1,2", ErrorCode::InvalidConfigValue),
        ("bounds", "1,2;3", ErrorCode::InvalidConfigValue),
        ("bounds", "5;1", ErrorCode::InvalidConfigValue),
        ("warmup", "never", ErrorCode::InvalidConfigValue),
        ("failed_fit", "x", ErrorCode::InvalidConfigValue),
        ("upper_bound_reject", "-1", ErrorCode::InvalidConfigValue),
        ("warm_start", "maybe", ErrorCode::InvalidConfigValue),
        ("fit_tolerance", "2", ErrorCode::InvalidConfigValue),
        ("fit_patience", "0", ErrorCode::InvalidConfigValue),
        ("fit_restarts", "-2", ErrorCode::InvalidConfigValue),
        ("fit_warm_patience", "0", ErrorCode::InvalidConfigValue),
        ("unconverged_fit", "x", ErrorCode::InvalidConfigValue),
        ("solver", "newton", ErrorCode::InvalidConfigValue),
        ("threads", "-1", ErrorCode::InvalidConfigValue),
        ("interval", "1", ErrorCode::InvalidConfigValue),
        ("interval", "-0.1", ErrorCode::InvalidConfigValue),
        ("interval", "nan", ErrorCode::InvalidConfigValue),
        ("select_top", "-1", ErrorCode::InvalidConfigValue),
        ("select_top", "ten", ErrorCode::InvalidConfigValue),
        ("chance_level", "inf", ErrorCode::InvalidConfigValue),
        ("chance_margin", "-1", ErrorCode::InvalidConfigValue),
        ("loss_patience", "-3", ErrorCode::InvalidConfigValue),
        ("chance_patience", "-1", ErrorCode::InvalidConfigValue),
        ("chance_patience", "2.5", ErrorCode::InvalidConfigValue),
        ("loss_min_delta", "-0.1", ErrorCode::InvalidConfigValue),
        ("loss_min_delta", "1", ErrorCode::InvalidConfigValue),
        ("loss_min_delta", "nan", ErrorCode::InvalidConfigValue),
        ("alternatives", "exp3,nosuch", ErrorCode::UnknownFunction),
        ("combine", "median", ErrorCode::InvalidConfigValue),
        ("fallback_width", "-1", ErrorCode::InvalidConfigValue),
        ("fallback_width", "nan", ErrorCode::InvalidConfigValue),
        ("stop_width", "-1", ErrorCode::InvalidConfigValue),
        ("stop_width", "nan", ErrorCode::InvalidConfigValue),
        ("max_epoch", "0", ErrorCode::InvalidConfigValue),
        ("max_epoch", "nan", ErrorCode::InvalidConfigValue),
        ("chance_wait", "-0.1", ErrorCode::InvalidConfigValue),
        ("chance_wait", "1.5", ErrorCode::InvalidConfigValue),
        ("chance_wait", "nan", ErrorCode::InvalidConfigValue),
        ("select_stop_reach", "-0.1", ErrorCode::InvalidConfigValue),
        ("select_stop_reach", "1.01", ErrorCode::InvalidConfigValue),
        ("select_hold_reach", "nan", ErrorCode::InvalidConfigValue),
        ("select_hold_reach", "2", ErrorCode::InvalidConfigValue),
        ("select_hold_until", "-1", ErrorCode::InvalidConfigValue),
        ("select_hold_until", "half", ErrorCode::InvalidConfigValue),
        ("select_halving", "1", ErrorCode::InvalidConfigValue),
        ("select_halving", "-3", ErrorCode::InvalidConfigValue),
        ("select_halving", "inf", ErrorCode::InvalidConfigValue),
        ("answer_floor", "maybe", ErrorCode::InvalidConfigValue),
        ("answer_floor", "1", ErrorCode::InvalidConfigValue),
        (
            "select_clear_observed",
            "yes",
            ErrorCode::InvalidConfigValue,
        ),
        ("select_hold_observed", "-1", ErrorCode::InvalidConfigValue),
        ("select_hold_observed", "2.5", ErrorCode::InvalidConfigValue),
        ("preset", "fast", ErrorCode::InvalidConfigValue),
    ];
    let mut c = Config::default();
    let before = c.to_text();
    for (k, v, code) in cases {
        let err = c.set(k, v).unwrap_err();
        assert_eq!(err.code, *code, "{k} = '{v}'");
        assert!(err.message.contains(k), "{k}: {}", err.message);
        assert_eq!(c.to_text(), before, "{k} = '{v}' changed the configuration");
    }
    // Every key is covered above.
    for key in penguin::config::KEYS {
        assert!(
            cases.iter().any(|(k, _, _)| k == key),
            "no bad-value case for {key}"
        );
    }
}

#[test]
fn contradictory_configurations() {
    let cases: &[(&[(&str, &str)], &str)] = &[
        (&[("valid_min", "60"), ("valid_max", "50")], "valid_min"),
        (&[("bounds", "0,0;1,1")], "bounds"),
        (&[("p0", "1,2")], "p0"),
        (&[("bounds", "0,0,0;10,10,10"), ("p0", "20,1,1")], "p0"),
        (&[("direction", "minimize")], "direction"),
        (&[("function", "lossexp3")], "direction"),
    ];
    for (settings, needle) in cases {
        let mut c = Config::default();
        for (k, v) in *settings {
            c.set(k, v).unwrap();
        }
        let err = Engine::new(c).unwrap_err();
        assert_eq!(err.code, ErrorCode::InconsistentConfig, "{settings:?}");
        assert!(
            err.message.contains(needle),
            "{settings:?}: {}",
            err.message
        );
    }
}
