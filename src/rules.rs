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
//! 3. [`rank_aware`] (`select_top`, `select_stop_reach`, `select_hold_reach`,
//!    `select_hold_until`, `select_clear_observed`, `select_hold_observed`):
//!    a network that cannot make the cohort's top X stops; one that may
//!    still make it, or that is among the K that show the most, but does not
//!    clear it, keeps training (off under `select_halving`);
//! 4. [`halving`] (`select_halving`): successive halving on the observed
//!    values takes the place of the stops above: a network stops where it
//!    meets a rung short of the rung's threshold, and nowhere else;
//! 5. [`late_bloomer_guard`] (`loss_patience`): a network about to stop at
//!    chance keeps training while its validation loss improves;
//! 6. [`budget`] (`max_epoch`): a network still training at the budget stops;
//! 7. [`fallback`] (`fallback_width`): a stop on a wide interval answers the
//!    observed value;
//! 8. [`answer_floor`] (`answer_floor`): a network that stops before
//!    `e_pred` answers no worse than the mean of its last N observed values;
//! 9. [`never_learner_stop`] (`chance_patience`): a network still training
//!    that has sat at chance for K observations stops (its answer, the mean
//!    of those K values, is not floored).
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
    /// The K-th best of what the cohort's networks show (the mean of each
    /// one's last N observed values) for `select_hold_observed` = K (NaN:
    /// none).
    pub shown_cutoff: f64,
    /// When this observation reaches a `select_halving` rung: the value at
    /// least as good as which it goes on (NaN: every one goes on).
    pub rung_threshold: Option<f64>,
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
    let decision = halving(f, decision);
    let decision = late_bloomer_guard(f, decision);
    // Under halving only its own rule stops a network here; when it answers
    // the observed value (no valid prediction), that answer has no interval.
    let observed_answer =
        f.config.select_halving > 0.0 && decision.is_final() && !f.config.is_valid_fitness(f.fit_p);
    let verdict = budget(
        f,
        Verdict {
            decision,
            interval: if observed_answer {
                [f64::NAN; 2]
            } else {
                f.interval
            },
        },
    );
    let verdict = fallback(f, verdict);
    let verdict = answer_floor(f, verdict);
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
/// top-X cutoff, a network still training whose prediction cannot reach the
/// cutoff stops after the warm-up (it cannot make the cut; judged on less
/// than the whole interval, only with a full window of N predictions, the
/// evidence Algorithm 2 asks for), and a converged
/// one that may still reach it, but whose interval does not clear it either
/// (with `select_clear_observed`: or whose last N observed values do not),
/// keeps training; otherwise the decision stands. How far a prediction
/// reaches is the prediction moved toward its interval's better end by a
/// share of the distance: `select_stop_reach` to stop, `select_hold_reach` to
/// hold (1, the default: the whole interval). With `select_hold_observed` =
/// K, a network whose mean of its last N observed values (this one
/// included) is at least the shown cutoff (the K-th best such mean in the
/// cohort, taken at the start of the call) is held too, whatever its
/// prediction says, and does not stop for falling short either. Holding ends
/// at epoch `select_hold_until` x `e_pred`. Without a cutoff or an interval,
/// or under `select_halving`, nothing changes.
pub fn rank_aware(f: &Facts, decision: Decision) -> Decision {
    let config = f.config;
    let [lo, hi] = f.interval;
    if !config.takes_cutoff() || !f.cutoff.is_finite() || !lo.is_finite() || !hi.is_finite() {
        return decision;
    }
    let maximize = config.direction == Direction::Maximize;
    // The prediction moved `share` of the way to the interval's better end
    // (exactly that end at 1, as before the shares existed). An averaged
    // prediction can lie outside the averaged interval (`mean_fitted` averages
    // the intervals of fewer families): it counts from inside it, so that no
    // share reaches beyond the whole interval.
    let centre = f.fit_p.clamp(lo.min(hi), hi.max(lo));
    let reach = |share: f64| match (maximize, share >= 1.0) {
        (true, true) => hi,
        (false, true) => lo,
        (true, false) => centre + share * (hi - centre),
        (false, false) => centre - share * (centre - lo),
    };
    let cannot_make_it = short_of(config.direction, reach(config.select_stop_reach), f.cutoff);
    let out_of_reach = short_of(config.direction, reach(config.select_hold_reach), f.cutoff);
    let beyond = |v: f64| if maximize { v > f.cutoff } else { v < f.cutoff };
    // What the network shows: the mean of its last N observed values.
    let shows = recent_mean(f.values, config.n);
    // A sure pick by its interval; with `select_clear_observed`, only when
    // what the network shows clears it too.
    let shows_clear = shows.is_some_and(beyond);
    let clears =
        beyond(if maximize { lo } else { hi }) && (!config.select_clear_observed || shows_clear);
    let holding = f.epoch < config.select_hold_until * config.e_pred;
    // With `select_hold_observed`: among the K networks that show the most,
    // whatever its prediction says.
    let shown_top = f.shown_cutoff.is_finite()
        && shows.is_some_and(|m| !short_of(config.direction, m, f.shown_cutoff));
    let valid = config.is_valid_fitness(f.fit_p);
    match decision {
        Decision::Converged { .. } if holding && !clears && (!out_of_reach || shown_top) => {
            Decision::Continue
        }
        Decision::Continue
            if cannot_make_it
                && !(holding && shown_top)
                && valid
                && (config.select_stop_reach >= 1.0 || f.window.len() >= config.n)
                && f.epoch > config.n as f64 * config.e =>
        {
            Decision::Converged {
                prediction: f.fit_p,
            }
        }
        d => d,
    }
}

/// Whether `v` falls short of `cutoff` (below it for `maximize`, above it
/// for `minimize`).
fn short_of(direction: Direction, v: f64, cutoff: f64) -> bool {
    match direction {
        Direction::Maximize => v < cutoff,
        Direction::Minimize => v > cutoff,
    }
}

/// Successive halving (config `select_halving`, with `select_top`): it takes
/// the place of Algorithm 2's and rank-aware stops. A network still training
/// goes on, unless this observation reaches a rung and its value there falls
/// short of the rung's threshold: then it stops, answering its newest
/// prediction when that is a valid fitness, else its observed value (with no
/// interval, see [`decide`]). The
/// late-bloomer guard after it may keep a network at chance training (it meets
/// the next rung then), the budget and the never-learner stop still stop, and
/// the fallback may still swap a wide prediction for the observed value.
pub fn halving(f: &Facts, decision: Decision) -> Decision {
    let config = f.config;
    if config.select_halving == 0.0 || matches!(decision, Decision::ReachedEPred { .. }) {
        return decision;
    }
    let short = |t: f64| match config.direction {
        Direction::Maximize => f.value < t,
        Direction::Minimize => f.value > t,
    };
    match f.rung_threshold {
        Some(t) if t.is_finite() && short(t) => Decision::Converged {
            prediction: if config.is_valid_fitness(f.fit_p) {
                f.fit_p
            } else {
                f.value
            },
        },
        _ => Decision::Continue,
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
    Verdict {
        decision: Decision::Converged {
            prediction: mean_within(last),
        },
        interval: [f64::NAN; 2],
    }
}

/// The answer floor (config `answer_floor = on`): a network that stops
/// before `e_pred` with an answer worse than the mean of its last N observed
/// values (below it for `maximize`, above it for `minimize`) answers that
/// mean: a fit pulled down by a jumpy curve (the A4NN run's: 50, 89, 87, 83,
/// 70, 94, ...) would answer below what the network already shows. The stop
/// and the interval reported are unchanged; a mean that is no valid fitness
/// changes nothing. It comes after the fallback (which it may lift from a
/// dip to the recent mean) and before the never-learner stop, whose answer
/// is the mean of its own K values.
pub fn answer_floor(f: &Facts, verdict: Verdict) -> Verdict {
    let Decision::Converged { prediction } = verdict.decision else {
        return verdict;
    };
    if !f.config.answer_floor || prediction.is_nan() {
        return verdict;
    }
    let Some(mean) = recent_mean(f.values, f.config.n) else {
        return verdict;
    };
    if !f.config.is_valid_fitness(mean) {
        return verdict;
    }
    let worse = match f.config.direction {
        Direction::Maximize => prediction < mean,
        Direction::Minimize => prediction > mean,
    };
    if worse {
        Verdict {
            decision: Decision::Converged { prediction: mean },
            ..verdict
        }
    } else {
        verdict
    }
}

/// The mean of a network's last `n` observed values (all of them when it has
/// fewer), within their range; None without any: what the network shows, for
/// the answer floor, the sure-pick check and the cohort's shown cutoff
/// (`select_hold_observed`, see `Network::shown`).
pub(crate) fn recent_mean(values: &[f64], n: usize) -> Option<f64> {
    let tail = &values[values.len().saturating_sub(n)..];
    (!tail.is_empty()).then(|| mean_within(tail))
}

/// The mean of some observed values (at least one), each divided first and
/// the result kept within them: the sum of huge values could overflow.
fn mean_within(values: &[f64]) -> f64 {
    let k = values.len() as f64;
    let lo = values.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    values.iter().map(|v| v / k).sum::<f64>().clamp(lo, hi)
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
            shown_cutoff: f64::NAN,
            rung_threshold: None,
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
    fn the_answer_floor_lifts_a_stop_to_the_mean_of_the_last_n_values() {
        // A jumpy curve whose fit answers 65 while its last three values are
        // 88, 91 and 94 (mean 91).
        let values = [50.0, 89.0, 70.0, 88.0, 91.0, 94.0];
        let stop = |p: f64| Verdict {
            decision: Decision::Converged { prediction: p },
            interval: [p - 5.0, p + 5.0],
        };
        let on = config(&[("answer_floor", "on")]);
        let f = facts(&on, 3.0, &values, 65.0);
        let lifted = answer_floor(&f, stop(65.0));
        assert_eq!(lifted.decision, Decision::Converged { prediction: 91.0 });
        // The stop and the fit's interval stand.
        assert_eq!(lifted.interval, [60.0, 70.0]);
        // An answer already above the floor, a network still training and
        // one that reached e_pred keep theirs; off, nothing changes.
        assert_eq!(answer_floor(&f, stop(93.0)), stop(93.0));
        assert_eq!(answer_floor(&f, GOING).decision, Decision::Continue);
        let done = Verdict {
            decision: Decision::ReachedEPred { value: 70.0 },
            interval: [f64::NAN; 2],
        };
        assert_eq!(answer_floor(&f, done).decision, done.decision);
        let off = config(&[]);
        assert_eq!(
            answer_floor(&facts(&off, 3.0, &values, 65.0), stop(65.0)),
            stop(65.0)
        );
        // N = 2 averages the last two; fewer values than N average them all.
        let n2 = config(&[("answer_floor", "on"), ("N", "2")]);
        let f = facts(&n2, 3.0, &values, 65.0);
        assert_eq!(
            answer_floor(&f, stop(65.0)).decision,
            Decision::Converged { prediction: 92.5 }
        );
        let f = facts(&on, 1.0, &values[..2], 30.0);
        assert_eq!(
            answer_floor(&f, stop(30.0)).decision,
            Decision::Converged { prediction: 69.5 }
        );
        // Minimize mirrors it: a loss answer above the recent losses falls.
        let min = config(&[
            ("answer_floor", "on"),
            ("direction", "minimize"),
            ("trend", "decreasing"),
        ]);
        let losses = [2.0, 0.9, 0.6, 0.7, 0.5];
        let f = facts(&min, 2.5, &losses, 0.2);
        assert_eq!(
            answer_floor(&f, stop(0.9)).decision,
            Decision::Converged { prediction: 0.6 }
        );
        assert_eq!(answer_floor(&f, stop(0.2)), stop(0.2));
        // A mean that is no valid fitness (observations above valid_max)
        // changes nothing.
        let high = [120.0, 130.0, 140.0];
        let f = facts(&on, 3.0, &high, 65.0);
        assert_eq!(answer_floor(&f, stop(65.0)), stop(65.0));
        // A never-learner stop answers the mean of its own K values, not the
        // floor's N (here 10, not the mean of 60, 55, 10, 10, 10).
        let nl = config(&[
            ("answer_floor", "on"),
            ("N", "5"),
            ("chance_level", "10"),
            ("chance_patience", "3"),
        ]);
        let flat = [60.0, 55.0, 10.0, 10.0, 10.0];
        let f = facts(&nl, 2.5, &flat, f64::NAN);
        assert_eq!(
            decide(&f).decision,
            Decision::Converged { prediction: 10.0 }
        );
        // In the chain, Algorithm 2's converged answer is lifted.
        let chain = config(&[("answer_floor", "on"), ("t", "100")]);
        let f = Facts {
            window: &[65.0, 65.0, 65.0],
            ..facts(&chain, 3.0, &values, 65.0)
        };
        assert_eq!(
            decide(&f).decision,
            Decision::Converged { prediction: 91.0 }
        );
    }

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

    /// Facts for rank-aware stopping: prediction 80, interval [75, 85]
    /// (reach with share s: 80 + 5 s), a full window, cutoff `cutoff`.
    fn ranked<'a>(c: &'a Config, epoch: f64, cutoff: f64, window: &'a [f64]) -> Facts<'a> {
        Facts {
            cutoff,
            window,
            ..facts(c, epoch, &[70.0, 75.0, 78.0], 80.0)
        }
    }

    #[test]
    fn a_network_among_those_that_show_the_most_is_held_whatever_it_predicts() {
        // Prediction 80 in [75, 85], last values 70, 75, 78 (shown: 74.33),
        // cutoff 90: the whole interval falls short, so without the shown
        // cutoff (NaN, as with select_hold_observed = 0) it stops either way.
        let window = [79.8, 80.1, 80.0];
        let converged = Decision::Converged { prediction: 80.0 };
        let c = config(&[
            ("select_top", "10"),
            ("select_hold_observed", "3"),
            ("select_hold_until", "0.6"),
        ]);
        let at = |epoch: f64, cutoff: f64, shown_cutoff: f64| Facts {
            shown_cutoff,
            ..ranked(&c, epoch, cutoff, &window)
        };
        assert_eq!(rank_aware(&at(5.0, 90.0, f64::NAN), converged), converged);
        assert_eq!(
            rank_aware(&at(5.0, 90.0, f64::NAN), Decision::Continue),
            converged
        );
        // Among the K that show the most (74.33 >= 74): held, and not
        // stopped for falling short, until 0.6 x e_pred = epoch 12.
        let top = at(5.0, 90.0, 74.0);
        assert_eq!(rank_aware(&top, converged), Decision::Continue);
        assert_eq!(rank_aware(&top, Decision::Continue), Decision::Continue);
        let late = at(12.0, 90.0, 74.0);
        assert_eq!(rank_aware(&late, converged), converged);
        assert_eq!(rank_aware(&late, Decision::Continue), converged);
        // Not among them (74.33 < 75): as before.
        let below = at(5.0, 90.0, 75.0);
        assert_eq!(rank_aware(&below, converged), converged);
        assert_eq!(rank_aware(&below, Decision::Continue), converged);
        // A sure pick (its interval clears 74) still stops.
        assert_eq!(rank_aware(&at(5.0, 74.0, 74.0), converged), converged);
        // Minimize mirrors it: 74.33 is among the best below 75, not below 74.
        let min = config(&[
            ("select_top", "10"),
            ("select_hold_observed", "3"),
            ("direction", "minimize"),
            ("trend", "decreasing"),
        ]);
        let at_min = |shown_cutoff: f64| Facts {
            shown_cutoff,
            ..ranked(&min, 5.0, 70.0, &window)
        };
        assert_eq!(rank_aware(&at_min(75.0), converged), Decision::Continue);
        assert_eq!(rank_aware(&at_min(74.0), converged), converged);
    }

    #[test]
    fn halving_stops_at_a_rung_below_its_threshold_and_nowhere_else() {
        let c = config(&[("select_top", "10"), ("select_halving", "3")]);
        let values = [70.0, 75.0, 78.0];
        let at = |threshold: Option<f64>, fit_p: f64| Facts {
            rung_threshold: threshold,
            cutoff: 90.0,
            ..facts(&c, 2.5, &values, fit_p)
        };
        let converged = Decision::Converged { prediction: 80.0 };
        // Short of the rung's threshold: stops with its prediction, or its
        // observed value when the prediction is no valid fitness.
        assert_eq!(
            halving(&at(Some(79.0), 80.0), Decision::Continue),
            converged
        );
        assert_eq!(
            halving(&at(Some(79.0), 120.0), Decision::Continue),
            Decision::Converged { prediction: 78.0 }
        );
        // At or above it, or with every one going on (NaN), or between
        // rungs: it trains on, whatever Algorithm 2 found; the cutoff of
        // rank-aware stopping (90, above its interval) plays no part.
        for t in [Some(78.0), Some(f64::NAN), None] {
            assert_eq!(halving(&at(t, 80.0), converged), Decision::Continue);
            assert_eq!(
                rank_aware(&at(t, 80.0), Decision::Continue),
                Decision::Continue
            );
        }
        let reached = Decision::ReachedEPred { value: 78.0 };
        assert_eq!(halving(&at(Some(79.0), 80.0), reached), reached);
        // The whole chain: the observed value as the answer has no interval;
        // a prediction keeps its own.
        let observed = decide(&at(Some(79.0), 120.0));
        assert_eq!(observed.decision, Decision::Converged { prediction: 78.0 });
        assert!(observed.interval.iter().all(|v| v.is_nan()));
        assert_eq!(decide(&at(Some(79.0), 80.0)).interval, [75.0, 85.0]);
        // Off, the decision stands.
        let off = config(&[]);
        let f = Facts {
            rung_threshold: Some(79.0),
            ..facts(&off, 2.5, &values, 80.0)
        };
        assert_eq!(halving(&f, converged), converged);
    }

    #[test]
    fn rank_aware_shares_decide_how_far_a_prediction_reaches() {
        let window = [79.8, 80.1, 80.0];
        let converged = Decision::Converged { prediction: 80.0 };
        let whole = config(&[("select_top", "10")]);
        let shares = config(&[
            ("select_top", "10"),
            ("select_stop_reach", "0.75"),
            ("select_hold_reach", "0.5"),
            ("select_hold_until", "0.6"),
        ]);
        // Cutoff 84: the whole interval (85) reaches it, three quarters
        // (83.75) do not: only the shares stop a network still training.
        let f = ranked(&whole, 5.0, 84.0, &window);
        assert_eq!(rank_aware(&f, Decision::Continue), Decision::Continue);
        let f = ranked(&shares, 5.0, 84.0, &window);
        assert_eq!(rank_aware(&f, Decision::Continue), converged);
        // On less than the whole interval, not before N predictions in a row
        // (the whole interval asks for none, as before the shares existed);
        // never in the warm-up.
        let f = ranked(&shares, 5.0, 84.0, &window[..2]);
        assert_eq!(rank_aware(&f, Decision::Continue), Decision::Continue);
        let f = ranked(&whole, 5.0, 86.0, &window[..2]);
        assert_eq!(rank_aware(&f, Decision::Continue), converged);
        let f = ranked(&shares, 1.5, 84.0, &window);
        assert_eq!(rank_aware(&f, Decision::Continue), Decision::Continue);
        // Cutoff 82: half the reach (82.5) gets there, so a converged network
        // is held, with either setting, until 0.6 x e_pred = epoch 12.
        for c in [&whole, &shares] {
            let f = ranked(c, 11.5, 82.0, &window);
            assert_eq!(rank_aware(&f, converged), Decision::Continue);
        }
        let f = ranked(&shares, 12.0, 82.0, &window);
        assert_eq!(rank_aware(&f, converged), converged);
        let f = ranked(&whole, 12.0, 82.0, &window);
        assert_eq!(rank_aware(&f, converged), Decision::Continue);
        // Cutoff 83: half the reach falls short, the whole interval does not:
        // only the shares let it stop.
        let f = ranked(&shares, 8.0, 83.0, &window);
        assert_eq!(rank_aware(&f, converged), converged);
        let f = ranked(&whole, 8.0, 83.0, &window);
        assert_eq!(rank_aware(&f, converged), Decision::Continue);
        // An interval that clears the cutoff (75 > 74) stops as converged.
        let f = ranked(&shares, 8.0, 74.0, &window);
        assert_eq!(rank_aware(&f, converged), converged);
        // Minimize mirrors it: prediction 80 in [75, 85], better end 75.
        let min = config(&[
            ("select_top", "10"),
            ("direction", "minimize"),
            ("trend", "decreasing"),
            ("select_stop_reach", "0.75"),
        ]);
        let f = ranked(&min, 5.0, 76.0, &window);
        assert_eq!(rank_aware(&f, Decision::Continue), converged);
        let f = ranked(&min, 5.0, 77.0, &window);
        assert_eq!(rank_aware(&f, Decision::Continue), Decision::Continue);
        // ... and on the hold side: held while the reach (77.5 at 0.5) gets
        // below the cutoff and the worse end (85) does not; released when it
        // clears (85 < 86) or the reach falls short (77.5 > 77).
        let min_hold = config(&[
            ("select_top", "10"),
            ("direction", "minimize"),
            ("trend", "decreasing"),
            ("select_hold_reach", "0.5"),
        ]);
        let f = ranked(&min_hold, 8.0, 78.0, &window);
        assert_eq!(rank_aware(&f, converged), Decision::Continue);
        let f = ranked(&min_hold, 8.0, 86.0, &window);
        assert_eq!(rank_aware(&f, converged), converged);
        let f = ranked(&min_hold, 8.0, 77.0, &window);
        assert_eq!(rank_aware(&f, converged), converged);
        // select_hold_until = 0 never holds.
        let never = config(&[("select_top", "10"), ("select_hold_until", "0")]);
        let f = ranked(&never, 1.0, 82.0, &window);
        assert_eq!(rank_aware(&f, converged), converged);
    }

    #[test]
    fn a_sure_pick_must_show_it_with_select_clear_observed() {
        // Prediction 80 in [75, 85]; observed 70, 75, 78 (mean of the last
        // N = 3: 74.33). A cutoff of 74.5 is cleared by the interval's worse
        // end (75) but not by what the network shows.
        let window = [79.8, 80.1, 80.0];
        let converged = Decision::Converged { prediction: 80.0 };
        let plain = config(&[("select_top", "10")]);
        let shown = config(&[("select_top", "10"), ("select_clear_observed", "on")]);
        let f = ranked(&plain, 8.0, 74.5, &window);
        assert_eq!(rank_aware(&f, converged), converged);
        let f = ranked(&shown, 8.0, 74.5, &window);
        assert_eq!(rank_aware(&f, converged), Decision::Continue);
        // Held only while holding lasts (select_hold_until, here e_pred).
        let f = ranked(&shown, 20.0, 74.5, &window);
        assert_eq!(rank_aware(&f, converged), converged);
        // Shown too (74.33 > 74): a sure pick, it stops. Only the last N
        // count: with an older 60 first, all four average 70.75.
        let f = ranked(&shown, 8.0, 74.0, &window);
        assert_eq!(rank_aware(&f, converged), converged);
        let longer = [60.0, 70.0, 75.0, 78.0];
        let f = Facts {
            values: &longer,
            ..ranked(&shown, 8.0, 74.0, &window)
        };
        assert_eq!(rank_aware(&f, converged), converged);
        // A network still training is not touched by it.
        let f = ranked(&shown, 8.0, 74.5, &window);
        assert_eq!(rank_aware(&f, Decision::Continue), Decision::Continue);
        // Minimize mirrors it: the worse end 85 clears a cutoff of 86, the
        // observed values (90, 91, 92) do not.
        let min = config(&[
            ("select_top", "10"),
            ("direction", "minimize"),
            ("trend", "decreasing"),
            ("select_clear_observed", "on"),
        ]);
        let values = [90.0, 91.0, 92.0];
        let f = Facts {
            cutoff: 86.0,
            window: &window,
            ..facts(&min, 8.0, &values, 80.0)
        };
        assert_eq!(rank_aware(&f, converged), Decision::Continue);
        let f = Facts { cutoff: 93.0, ..f };
        assert_eq!(rank_aware(&f, converged), converged);
    }

    #[test]
    fn a_share_counts_from_inside_the_interval() {
        // An averaged prediction (90) above its averaged interval [75, 85]:
        // half the reach is 85, not 92.5, so a cutoff of 86 is out of reach.
        let c = config(&[("select_top", "10"), ("select_hold_reach", "0.5")]);
        let window = [89.8, 90.1, 90.0];
        let f = Facts {
            interval: [75.0, 85.0],
            ..ranked(&c, 8.0, 86.0, &window)
        };
        let f = Facts { fit_p: 90.0, ..f };
        let converged = Decision::Converged { prediction: 90.0 };
        assert_eq!(rank_aware(&f, converged), converged);
    }
}
