//! The stopping rules: what a network's newest observation and prediction
//! decide, read top to bottom in the order they apply.
//!
//! [`decide`] runs the chain; each rule is one function that takes the
//! decision the rule before it left and returns its own:
//!
//! 1. [`algorithm_2`]: the paper's prediction analyzer (the last N predictions
//!    agree within `t`; `e_pred` stops with the observed value);
//! 2. [`width_gate`] (`stop_width`): a converged network whose prediction
//!    interval is too wide keeps training;
//! 3. [`rank_aware`] (`select_top`): a network that cannot make the cohort's
//!    top X stops; one whose interval straddles the cutoff keeps training;
//! 4. [`late_bloomer_guard`] (`loss_patience`): a network about to stop at
//!    chance keeps training while its validation loss improves;
//! 5. [`budget`] (`max_epoch`): a network still training at the budget stops;
//! 6. [`fallback`] (`fallback_width`): a stop on a wide interval answers the
//!    observed value;
//! 7. [`never_learner_stop`] (`chance_patience`): a network still training
//!    that has sat at chance for K observations stops.
//!
//! The rules are pure: they read a network's [`Facts`] and change nothing; the
//! caller ([`crate::network::Network`]) stores the [`Verdict`].

use crate::analyzer::{Decision, analyze};
use crate::config::{Config, Direction};

/// What the rules read about one network after its newest observation.
#[derive(Clone, Copy, Debug)]
pub struct Facts<'a> {
    /// The configuration.
    pub config: &'a Config,
    /// Epoch of the newest observation.
    pub epoch: f64,
    /// The newest observed fitness.
    pub value: f64,
    /// The cohort's top-X cutoff for `select_top` (NaN: none).
    pub cutoff: f64,
    /// The window of recent predictions (newest last).
    pub window: &'a [f64],
    /// The newest Algorithm 1 prediction `fit_P` (NaN when none).
    pub fit_p: f64,
    /// Its prediction interval (NaN when none).
    pub interval: [f64; 2],
    /// Every observed fitness value, oldest first.
    pub values: &'a [f64],
    /// Lowest validation loss reported (NaN while none).
    pub best_loss: f64,
    /// Observations with a loss since `best_loss` last improved.
    pub since_best_loss: u32,
}

/// What the rules decide: the decision and the interval that goes with its
/// answer (NaN when the answer is no fit's extrapolation).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Verdict {
    /// Continue, converged (with the answer) or reached `e_pred`.
    pub decision: Decision,
    /// The prediction interval reported with the answer.
    pub interval: [f64; 2],
}

/// The whole chain, in its documented order (see the module docs).
pub fn decide(f: &Facts) -> Verdict {
    let decision = algorithm_2(f);
    let decision = width_gate(f, decision);
    let decision = rank_aware(f, decision);
    let decision = late_bloomer_guard(f, decision);
    let verdict = budget(
        f,
        Verdict {
            decision,
            interval: f.interval,
        },
    );
    let verdict = fallback(f, verdict);
    never_learner_stop(f, verdict)
}

/// Algorithm 2, the prediction analyzer ([`analyze`]): after the warm-up,
/// converged when the last N predictions agree within `t` and the newest is a
/// valid fitness; `e_pred` stops with the observed value.
pub fn algorithm_2(f: &Facts) -> Decision {
    analyze(f.config, f.epoch, f.value, f.window)
}

/// The width of an interval (NaN without one).
fn width([lo, hi]: [f64; 2]) -> f64 {
    hi - lo
}

/// The width gate (config `stop_width` = W): a network that Algorithm 2 finds
/// converged keeps training while its prediction interval is wider than W (or
/// it has none). Rank-aware stopping, the training budget and the
/// never-learner stop, which come after it, may still stop it.
pub fn width_gate(f: &Facts, decision: Decision) -> Decision {
    let Decision::Converged { .. } = decision else {
        return decision;
    };
    let w = width(f.interval);
    if f.config.stop_width.is_finite() && (w.is_nan() || w > f.config.stop_width) {
        Decision::Continue
    } else {
        decision
    }
}

/// Rank-aware stopping (config `select_top`): given the cohort's current
/// top-X cutoff, a network whose prediction interval lies entirely on the
/// wrong side of it stops after the warm-up (it cannot make the cut), and a
/// converged one whose interval straddles it keeps training; otherwise the
/// decision stands. Without a cutoff or an interval nothing changes.
pub fn rank_aware(f: &Facts, decision: Decision) -> Decision {
    let config = f.config;
    let [lo, hi] = f.interval;
    if config.select_top == 0 || !f.cutoff.is_finite() || !lo.is_finite() || !hi.is_finite() {
        return decision;
    }
    let (worse, better) = match config.direction {
        Direction::Maximize => (hi < f.cutoff, lo > f.cutoff),
        Direction::Minimize => (lo > f.cutoff, hi < f.cutoff),
    };
    let valid = config.is_valid_fitness(f.fit_p);
    match decision {
        Decision::Converged { .. } if !worse && !better => Decision::Continue,
        Decision::Continue if worse && valid && f.epoch > config.n as f64 * config.e => {
            Decision::Converged {
                prediction: f.fit_p,
            }
        }
        d => d,
    }
}

/// Whether the late-bloomer dial (config `chance_wait`) still holds a network
/// at chance: before epoch `chance_wait` x `e_pred`.
fn waits(f: &Facts) -> bool {
    f.epoch < f.config.chance_wait * f.config.e_pred
}

/// The late-bloomer guard (config `loss_patience` = K with `chance_level`): a
/// network about to stop with a prediction at chance level
/// ([`Config::at_chance`]) keeps training until its validation loss has not
/// improved for K observations, as the authors' "loss check" does: a network
/// that is still learning shows it in its loss before its accuracy moves.
/// Without reported losses the decision stands.
pub fn late_bloomer_guard(f: &Facts, decision: Decision) -> Decision {
    let config = f.config;
    let Decision::Converged { prediction } = decision else {
        return decision;
    };
    if !config.chance_level.is_finite() {
        return decision;
    }
    if config.at_chance(prediction) && waits(f) {
        return Decision::Continue;
    }
    if config.loss_patience == 0 || f.best_loss.is_nan() {
        return decision;
    }
    let patience = u32::try_from(config.loss_patience).unwrap_or(u32::MAX);
    if config.at_chance(prediction) && f.since_best_loss < patience {
        Decision::Continue
    } else {
        decision
    }
}

/// The training budget (config `max_epoch` = M): a network still training at
/// an epoch from M up to (not including) `e_pred` stops, answering its newest
/// prediction if that is a valid fitness, else its observed value (then with
/// no interval: the answer is no fit's extrapolation). It comes after
/// rank-aware stopping and the late-bloomer guard (the budget is hard) and
/// before the fallback, which may still swap a wide prediction for the
/// observation, and the never-learner stop, which it pre-empts.
pub fn budget(f: &Facts, verdict: Verdict) -> Verdict {
    let config = f.config;
    if verdict.decision.is_final() || f.epoch < config.max_epoch || f.epoch >= config.e_pred {
        return verdict;
    }
    if config.is_valid_fitness(f.fit_p) {
        return Verdict {
            decision: Decision::Converged {
                prediction: f.fit_p,
            },
            interval: verdict.interval,
        };
    }
    Verdict {
        decision: Decision::Converged {
            prediction: f.value,
        },
        interval: [f64::NAN; 2],
    }
}

/// The fallback to the observation (config `fallback_width` = W): a network
/// that stops on a prediction whose interval is wider than W (or has none)
/// reports its newest observed value instead: an unreliable extrapolation
/// ranks worse than what was seen. The interval reported stays the fit's.
pub fn fallback(f: &Facts, verdict: Verdict) -> Verdict {
    let Decision::Converged { .. } = verdict.decision else {
        return verdict;
    };
    let w = width(verdict.interval);
    let wide = w.is_nan() || w > f.config.fallback_width;
    if f.config.fallback_width.is_finite() && wide {
        Verdict {
            decision: Decision::Converged {
                prediction: f.value,
            },
            ..verdict
        }
    } else {
        verdict
    }
}

/// The never-learner stop (config `chance_patience` = K with `chance_level`):
/// a network still training whose last K observed values are all at chance
/// ([`Config::at_chance`]) and whose validation loss, if reported, has not
/// improved for K observations (by `loss_min_delta`; for `loss_patience`
/// observations when that is longer) stops now, answering the mean of those K
/// values, with no interval. It does not wait for N agreeing predictions nor
/// for the warm-up: the fits of a flat, noisy curve disagree for many epochs.
/// The loss condition is the late-bloomer guard's: a network that is about to
/// learn shows it in its loss first. It comes last and wins over rank-aware
/// stopping, the width gate and the fallback; a network at or past the
/// training budget has stopped already.
pub fn never_learner_stop(f: &Facts, verdict: Verdict) -> Verdict {
    let config = f.config;
    let k = config.chance_patience;
    if k == 0 || verdict.decision.is_final() || !config.chance_level.is_finite() || waits(f) {
        return verdict;
    }
    let Some(start) = f.values.len().checked_sub(k) else {
        return verdict;
    };
    let last = &f.values[start..];
    // As long as the late-bloomer guard would wait, too.
    let patience = u32::try_from(k.max(config.loss_patience)).unwrap_or(u32::MAX);
    let loss_stalled = f.best_loss.is_nan() || f.since_best_loss >= patience;
    if !loss_stalled || !last.iter().all(|&v| config.at_chance(v)) {
        return verdict;
    }
    // Each value divided first: the sum of K huge values could overflow.
    let answer = last.iter().map(|v| v / k as f64).sum();
    Verdict {
        decision: Decision::Converged { prediction: answer },
        interval: [f64::NAN; 2],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(keys: &[(&str, &str)]) -> Config {
        let mut c = Config::default();
        for (k, v) in keys {
            c.set(k, v).unwrap();
        }
        c
    }

    fn facts<'a>(c: &'a Config, epoch: f64, values: &'a [f64], fit_p: f64) -> Facts<'a> {
        Facts {
            config: c,
            epoch,
            value: *values.last().unwrap(),
            cutoff: f64::NAN,
            window: &[],
            fit_p,
            interval: [fit_p - 5.0, fit_p + 5.0],
            values,
            best_loss: f64::NAN,
            since_best_loss: 0,
        }
    }

    const GOING: Verdict = Verdict {
        decision: Decision::Continue,
        interval: [f64::NAN; 2],
    };

    #[test]
    fn chance_wait_holds_a_network_at_chance_until_its_share_of_e_pred() {
        // e_pred 20, chance_wait 0.2: nothing at chance stops before epoch 4.
        let c = config(&[
            ("chance_level", "10"),
            ("chance_patience", "3"),
            ("chance_wait", "0.2"),
        ]);
        let flat = [10.1, 9.9, 10.2, 10.0, 10.1, 9.8, 10.0, 10.1];
        let early = facts(&c, 3.5, &flat[..7], 10.0);
        assert_eq!(
            never_learner_stop(&early, GOING).decision,
            Decision::Continue
        );
        let converged = Decision::Converged { prediction: 10.0 };
        assert_eq!(late_bloomer_guard(&early, converged), Decision::Continue);
        let due = facts(&c, 4.0, &flat, 10.0);
        assert!(never_learner_stop(&due, GOING).decision.is_final());
        assert_eq!(late_bloomer_guard(&due, converged), converged);
        // A network that is not at chance is not held.
        let learning = Decision::Converged { prediction: 60.0 };
        assert_eq!(late_bloomer_guard(&early, learning), learning);
        // Without the wait, the never-learner stop fires at once.
        let c0 = config(&[("chance_level", "10"), ("chance_patience", "3")]);
        assert!(
            never_learner_stop(&facts(&c0, 1.5, &flat[..3], 10.0), GOING)
                .decision
                .is_final()
        );
    }
}
