//! Algorithm 2 (prediction analyzer): a pure function from a network's recent
//! predictions to a decision.

use crate::config::{Agreement, Config, FailedFit, Threshold, Validity, Warmup};

/// What the analyzer says after an observation.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Decision {
    /// Keep training.
    Continue,
    /// Stop: the predictions agree; `prediction` (FIT_P) is final.
    Converged {
        /// The final predicted fitness at `e_pred`.
        prediction: f64,
    },
    /// Stop: `e_pred` is reached; the observed `value` is final.
    ReachedEPred {
        /// The observed fitness at the stop epoch.
        value: f64,
    },
}

impl Decision {
    /// Whether training stops.
    pub fn is_final(&self) -> bool {
        !matches!(self, Decision::Continue)
    }
}

/// Updates the window of recent predictions with the newest Algorithm 1 result,
/// following the configured rules, and keeps at most N entries.
///
/// `prediction` is NaN when there is none (failed fit or too few points);
/// `reset` asks to empty the window (a fit that hit an upper bound).
pub fn push_prediction(config: &Config, window: &mut Vec<f64>, prediction: f64, reset: bool) {
    if reset {
        window.clear();
        return;
    }
    if prediction.is_nan() {
        // A missing prediction (`Breaks`) blocks agreement until N newer ones
        // have pushed it out, exactly as an empty window does: the window is
        // emptied instead of keeping the NaN, which also leaves a network that
        // has no fit yet without a window buffer to touch.
        if config.failed_fit == FailedFit::Breaks {
            window.clear();
        }
        return;
    }
    window.push(prediction);
    if window.len() > config.n {
        let extra = window.len() - config.n;
        window.drain(..extra);
    }
}

fn in_range(config: &Config, v: f64) -> bool {
    v.is_finite() && config.is_valid_fitness(v)
}

/// The centre of the window: mean or median.
fn centre(agreement: Agreement, window: &[f64]) -> f64 {
    match agreement {
        Agreement::Mean => window.iter().sum::<f64>() / window.len() as f64,
        Agreement::Median => {
            let mut v = window.to_vec();
            v.sort_by(f64::total_cmp);
            let k = v.len();
            if k % 2 == 1 {
                v[k / 2]
            } else {
                (v[k / 2 - 1] + v[k / 2]) / 2.0
            }
        }
    }
}

/// Algorithm 2 after an observation at `epoch` with observed `value`, given the
/// window of recent predictions (newest last; NaN = missing: no window holding
/// one agrees; [`push_prediction`] empties the window instead, which decides
/// the same, but a state saved by Penguin 0.2.0 may hold NaNs).
pub fn analyze(config: &Config, epoch: f64, value: f64, window: &[f64]) -> Decision {
    // Line 1: not enough history yet.
    if config.warmup == Warmup::Epochs && epoch <= config.n as f64 * config.e {
        return Decision::Continue;
    }
    // Line 2: the cap.
    if epoch >= config.e_pred {
        return Decision::ReachedEPred { value };
    }
    if window.len() < config.n {
        return Decision::Continue;
    }
    let last = &window[window.len() - config.n..];
    let newest = last[last.len() - 1];
    // Line 3 (the prose, not the typo): an invalid newest prediction cannot converge.
    let valid = match config.validity {
        Validity::Newest => in_range(config, newest),
        Validity::All => last.iter().all(|v| in_range(config, *v)),
    };
    if !valid || last.iter().any(|v| !v.is_finite()) {
        return Decision::Continue;
    }
    // Line 4: the last N predictions (not measurements) agree.
    let m = centre(config.agreement, last);
    let tol = match config.threshold {
        Threshold::Absolute => config.t,
        Threshold::Relative => config.t / 100.0 * m.abs(),
    };
    if last.iter().all(|q| m - tol <= *q && *q <= m + tol) {
        Decision::Converged { prediction: newest }
    } else {
        Decision::Continue
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_for_n_times_e() {
        let c = Config::default();
        assert_eq!(
            analyze(&c, 1.5, 50.0, &[60.0, 60.0, 60.0]),
            Decision::Continue
        );
        assert_eq!(
            analyze(&c, 2.0, 50.0, &[60.0, 60.0, 60.0]),
            Decision::Converged { prediction: 60.0 }
        );
    }

    #[test]
    fn stops_at_e_pred_with_the_observed_value() {
        let c = Config::default();
        assert_eq!(
            analyze(&c, 20.0, 42.0, &[10.0, 90.0, f64::NAN]),
            Decision::ReachedEPred { value: 42.0 }
        );
    }

    #[test]
    fn invalid_newest_prediction_cannot_converge() {
        let c = Config::default();
        assert_eq!(
            analyze(&c, 5.0, 1.0, &[100.2, 100.2, 100.2]),
            Decision::Continue
        );
        assert_eq!(
            analyze(&c, 5.0, 1.0, &[60.0, f64::NAN, 60.0]),
            Decision::Continue
        );
    }

    #[test]
    fn predictions_must_lie_within_t_of_their_mean() {
        let c = Config::default();
        assert!(analyze(&c, 5.0, 1.0, &[60.0, 60.5, 61.0]).is_final());
        assert!(!analyze(&c, 5.0, 1.0, &[60.0, 60.0, 61.1]).is_final());
        let m = Config {
            agreement: Agreement::Median,
            ..Config::default()
        };
        // Mean 60.1: every value within 0.4; median 60.3: 59.7 is 0.6 away.
        assert!(analyze(&c, 5.0, 1.0, &[59.7, 60.3, 60.3]).is_final());
        assert!(!analyze(&m, 5.0, 1.0, &[59.7, 60.3, 60.3]).is_final());
    }

    #[test]
    fn skipped_failures_do_not_enter_the_window() {
        let mut c = Config::default();
        let mut w = vec![60.0, 60.0];
        // Breaks: the missing prediction empties the window.
        push_prediction(&c, &mut w, f64::NAN, false);
        assert!(w.is_empty());
        c.failed_fit = FailedFit::Skipped;
        w = vec![60.0, 60.0];
        push_prediction(&c, &mut w, f64::NAN, false);
        assert_eq!(w, vec![60.0, 60.0]);
        w.clear();
        for v in [1.0, 2.0, 3.0, 4.0] {
            push_prediction(&c, &mut w, v, false);
        }
        assert_eq!(w, vec![2.0, 3.0, 4.0]);
        push_prediction(&c, &mut w, 5.0, true);
        assert!(w.is_empty());
    }
}
