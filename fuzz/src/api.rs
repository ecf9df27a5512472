//! Fuzz target (a): random sequences of engine calls, checked against a simple
//! model of what the engine must hold.
//!
//! Input layout: byte 0 picks a configuration; then each call is a tag byte and
//! its arguments (see [`run`]). The model tracks, per network id, the accepted
//! epochs and whether the last decision was final, and predicts for every call
//! either success or the exact error code. Every rejected call must leave the
//! saved state byte for byte unchanged. A "fork" call restores a second engine
//! from the saved state; from then on every call goes to both and their answers
//! must agree bit for bit.
//!
//! Plain std + penguin, so tests/fuzz_regressions.rs includes this file as it is.

use crate::bytes::Bytes;
use penguin::config::{Direction, FailedFit, Warmup};
use penguin::functions::{CATALOGUE, Trend};
use penguin::state::{from_bytes, to_bytes};
use penguin::{Config, Engine, Error, ErrorCode, Observation, State, Status};
use std::collections::BTreeMap;

/// Calls per input.
const MAX_CALLS: usize = 64;
/// Observations (accepted or not) per input: each accepted one may cost a fit.
const MAX_OBSERVATIONS: usize = 96;
/// Network ids: a small space so that calls hit the same networks, plus the
/// extreme id.
const IDS: [u64; 4] = [0, 1, 2, u64::MAX];

/// The configuration chosen by the first input byte (its high bit adds
/// rank-aware stopping, see [`add_select_top`]; some values add the training
/// budget, see [`add_budget`]) and the second.
pub fn config_for(selector: u8, extra: u8) -> Config {
    let mut c = config_without_select_top(selector, extra);
    add_select_top(&mut c, selector);
    add_budget(&mut c, selector);
    c
}

/// From the selector's low seven bits s (the variant is s % 6, select_top's
/// choice (s / 6) % 2): the training budget when (s / 12) is odd (`max_epoch`
/// 3, or 1, inside the warm-up, when (s / 48) is odd too), and the width gate
/// (`stop_width` 10) when (s / 24) is odd.
fn add_budget(c: &mut Config, selector: u8) {
    let s = selector & 0x7f;
    if (s / 12) % 2 == 1 {
        let epoch = if (s / 48) % 2 == 1 { "1" } else { "3" };
        c.set("max_epoch", epoch).unwrap();
    }
    if (s / 24) % 2 == 1 {
        c.set("stop_width", "10").unwrap();
    }
}

/// With the selector's high bit, rank-aware stopping: `select_top` = 1 or 2
/// of the four network ids (by the parity of the rest over 6, so that the
/// variant, the rest modulo 6, is free). A batch judges its entries against the cutoff at
/// its start, so with it batches are not compared with one-by-one calls (see
/// [`observe_batch`]) and hold each id at most once.
fn add_select_top(c: &mut Config, selector: u8) {
    if selector & 0x80 != 0 {
        let x = 1 + ((selector & 0x7f) / 6) % 2;
        c.set("select_top", &x.to_string()).unwrap();
    }
}

fn config_without_select_top(selector: u8, extra: u8) -> Config {
    let mut c = Config::default();
    let set = |c: &mut Config, k: &str, v: &str| c.set(k, v).unwrap();
    let variant = (selector & 0x7f) % 6;
    if variant == 0 {
        // The paper's defaults, untouched (threads = 0: all cores for batches).
        add_chance_rules(&mut c, extra);
        return c;
    }
    // Cheaper fits: the same code paths, shorter solver runs.
    set(&mut c, "fit_patience", "20");
    set(&mut c, "fit_restarts", "0");
    set(&mut c, "threads", if extra & 1 == 0 { "1" } else { "2" });
    match variant {
        1 => {}
        2 => {
            // Final decisions early: N = 1, warm-up by predictions, e_pred = 4.
            set(&mut c, "N", "1");
            set(&mut c, "warmup", "predictions");
            set(&mut c, "e_pred", "4");
        }
        3 => {
            // The authors' variants of every rule, and SciPy's solver.
            set(&mut c, "solver", "trf");
            set(&mut c, "failed_fit", "skipped");
            set(&mut c, "validity", "all");
            set(&mut c, "agreement", "median");
            set(&mut c, "threshold", "relative");
            set(&mut c, "upper_bound_reject", "0.01");
            set(&mut c, "t", "2");
        }
        4 => {
            // Any catalogue function, in its direction.
            let f = &CATALOGUE[usize::from(extra >> 1) % CATALOGUE.len()];
            set(&mut c, "function", f.name);
            if f.trend == Trend::Decreasing {
                set(&mut c, "direction", "minimize");
                set(&mut c, "valid_max", "inf");
            }
            set(&mut c, "N", "2");
            set(&mut c, "t", "5");
        }
        _ => {
            set(&mut c, "min_points", "1");
            set(&mut c, "E", "1");
            set(&mut c, "N", "2");
            set(&mut c, "x_shift", "-1");
            set(&mut c, "e_pred", "6");
            set(&mut c, "warm_start", "off");
            set(&mut c, "t", "3");
        }
    }
    add_chance_rules(&mut c, extra);
    c
}

/// With the extra byte's high bit, the chance-level rules (then every
/// observation carries a loss): the late-bloomer guard and the never-learner
/// stop.
fn add_chance_rules(c: &mut Config, extra: u8) {
    if !uses_loss(extra) {
        return;
    }
    let minimize = c.direction == Direction::Minimize;
    let mut set = |k: &str, v: &str| c.set(k, v).unwrap();
    set("chance_level", if minimize { "2" } else { "10" });
    set("chance_margin", if extra & 0x40 != 0 { "1" } else { "5" });
    set("loss_patience", &((extra >> 4) & 3).to_string());
    set("chance_patience", &((extra >> 2) & 3).to_string());
    set("loss_min_delta", "0.001");
}

/// Whether inputs for this configuration carry a loss byte per observation.
fn uses_loss(extra: u8) -> bool {
    extra & 0x80 != 0
}

/// A validation loss from one input byte: 0 = not reported (NaN), 255 = an
/// infinite loss (ignored by the engine), else a loss between 0.3 and 2.3.
fn loss_from(b: u8) -> f64 {
    match b {
        0 => f64::NAN,
        255 => f64::INFINITY,
        b => 2.3 - f64::from(b) / 127.0,
    }
}

/// What the model knows of one network.
#[derive(Clone, Debug, Default)]
struct Net {
    epochs: Vec<f64>,
    /// The accepted values, in order.
    values: Vec<f64>,
    /// The lowest finite loss reported (None: none yet), and the
    /// observations with a loss since it last improved by `loss_min_delta`.
    best_loss: Option<f64>,
    since_best_loss: u32,
    final_: bool,
    /// Its last status is a select_top stop wholly below the cutoff.
    below_cutoff_stop: bool,
    /// The last status the engine returned for it.
    last: Option<Status>,
}

/// The model of the engine.
#[derive(Clone, Debug, Default)]
struct Model {
    nets: BTreeMap<u64, Net>,
}

impl Model {
    /// The code `observe` must return (None = success).
    fn expect(&self, id: u64, epoch: f64, value: f64) -> Option<ErrorCode> {
        if !epoch.is_finite() || epoch <= 0.0 {
            return Some(ErrorCode::InvalidEpoch);
        }
        if !value.is_finite() {
            return Some(ErrorCode::InvalidFitness);
        }
        let net = self.nets.get(&id)?;
        if net.final_ {
            return Some(ErrorCode::AlreadyDecided);
        }
        match net.epochs.last() {
            Some(&last) if epoch <= last => Some(ErrorCode::EpochNotIncreasing),
            _ => None,
        }
    }

    /// The engine's cutoff, from the statuses the model saw.
    fn cutoff(&self, config: &Config) -> f64 {
        let x = config.select_top;
        if x == 0 || self.nets.len() < x {
            return f64::NAN;
        }
        let mut scores: Vec<f64> = self
            .nets
            .values()
            .filter_map(|n| {
                let s = n.last.as_ref()?;
                let v = if s.state == State::Continue {
                    s.fit_prediction
                } else {
                    s.prediction
                };
                (v >= config.valid_min && v <= config.valid_max).then_some(v)
            })
            .collect();
        if scores.len() < x {
            return f64::NAN;
        }
        scores.sort_by(|a, b| match config.direction {
            Direction::Maximize => b.total_cmp(a),
            Direction::Minimize => a.total_cmp(b),
        });
        scores[x - 1]
    }

    fn last_epoch(&self, id: u64) -> f64 {
        self.nets
            .get(&id)
            .and_then(|n| n.epochs.last().copied())
            .unwrap_or(0.0)
    }
}

/// Notes an accepted observation's loss as the engine does (NaN or infinite:
/// not reported).
fn note_loss(config: &Config, net: &mut Net, loss: f64) {
    if !loss.is_finite() {
        return;
    }
    match net.best_loss {
        Some(best) if loss >= best - config.loss_min_delta * best.abs() => {
            net.since_best_loss = net.since_best_loss.saturating_add(1);
        }
        _ => {
            net.best_loss = Some(loss);
            net.since_best_loss = 0;
        }
    }
}

/// The never-learner stop's loss condition: no loss reported, or none better
/// for max(chance_patience, loss_patience) observations.
fn loss_stalled(config: &Config, net: &Net) -> bool {
    let patience = config.chance_patience.max(config.loss_patience) as u32;
    net.best_loss.is_none() || net.since_best_loss >= patience
}

/// Whether a converged status has the never-learner stop's shape
/// (`chance_patience` = K): no interval, and its answer the mean of the last
/// K values, all at chance. Such a stop must also satisfy the rule's loss
/// condition and lie within those values; the caller asserts that.
fn never_learner_stop(config: &Config, net: &Net, s: &Status) -> bool {
    let k = config.chance_patience;
    if k == 0 || net.values.len() < k || !s.prediction_lo.is_nan() || !s.prediction_hi.is_nan() {
        return false;
    }
    let last = &net.values[net.values.len() - k..];
    let mean: f64 = last.iter().map(|v| v / k as f64).sum();
    last.iter().all(|&v| config.at_chance(v)) && s.prediction.to_bits() == mean.to_bits()
}

/// Whether a network observed at `epoch` is past its training budget
/// (`max_epoch`) but not at `e_pred`: then it has stopped, and no
/// never-learner stop (which only stops a network still training) applies.
fn over_budget(config: &Config, epoch: f64) -> bool {
    epoch >= config.max_epoch && epoch < config.e_pred
}

/// Everything a status must satisfy after an accepted observation.
fn check_status(config: &Config, net: &Net, value: f64, s: &Status) {
    let n = net.epochs.len();
    let epoch = *net.epochs.last().unwrap();
    let budget = over_budget(config, epoch);
    assert_eq!(s.observations as usize, n, "observation count");
    assert_eq!(s.epoch.to_bits(), epoch.to_bits(), "status epoch");
    let fits = (n + 1).saturating_sub(config.min_points());
    assert_eq!(
        s.fits as usize,
        fits,
        "fit count (min_points {})",
        config.min_points()
    );
    assert!(
        s.params.is_empty() || s.params.len() == config.n_params(),
        "params {:?}",
        s.params
    );
    assert!(
        s.fit_prediction.is_nan() || s.fit_prediction.is_finite(),
        "fit_prediction {}",
        s.fit_prediction
    );
    let warming = config.warmup == Warmup::Epochs && epoch <= config.n as f64 * config.e;
    // The engine gives a never-learner stop no interval. A stop of the paper's
    // rule on a flat curve can look the same (its fit answers the values'
    // mean, its interval may be NaN); it answers its own fit, so when that is
    // the answer and the never-learner rule's loss condition does not hold,
    // it is checked as the paper's stop.
    let paper_like = s.prediction.to_bits() == s.fit_prediction.to_bits();
    let never_learner = s.state == State::Converged
        && !budget
        && never_learner_stop(config, net, s)
        && (!paper_like || loss_stalled(config, net));
    if warming && !never_learner && !budget {
        assert_eq!(
            s.state,
            State::Continue,
            "final during warm-up at epoch {epoch}"
        );
    } else if epoch >= config.e_pred {
        assert_eq!(s.state, State::ReachedEPred, "epoch {epoch} >= e_pred");
    }
    match s.state {
        State::Continue => {
            assert_eq!(
                s.prediction.to_bits(),
                s.fit_prediction.to_bits(),
                "prediction while training"
            );
            // The never-learner stop is applied last: when its conditions
            // hold, the network must have stopped.
            let k = config.chance_patience;
            let due = k > 0
                && n >= k
                && net.values[n - k..].iter().all(|&v| config.at_chance(v))
                && loss_stalled(config, net);
            assert!(!due, "never-learner stop missed at epoch {epoch}");
            assert!(!budget, "still training at {epoch} >= max_epoch");
        }
        State::ReachedEPred => {
            assert!(epoch >= config.e_pred, "reached e_pred at {epoch}");
            assert_eq!(
                s.prediction.to_bits(),
                value.to_bits(),
                "answer at e_pred is the observed value"
            );
        }
        State::Converged if never_learner => {
            assert!(
                epoch < config.e_pred,
                "never-learner stop at {epoch} >= e_pred"
            );
            assert!(
                loss_stalled(config, net),
                "never-learner stop while the loss improved {} observations ago",
                net.since_best_loss
            );
            let last = &net.values[n - config.chance_patience..];
            let (lo, hi) = last
                .iter()
                .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| {
                    (a.min(v), b.max(v))
                });
            assert!(
                s.prediction.is_finite() && lo <= s.prediction && s.prediction <= hi,
                "never-learner answer {} outside its values [{lo}, {hi}]",
                s.prediction
            );
        }
        State::Converged if budget => {
            // The budget answers the newest prediction when it is a valid
            // fitness, the observed value otherwise (a stop of the paper's
            // rule at the same epoch answers the same).
            // With failed_fit = skipped, a failed fit leaves the window's
            // newest (older) prediction, on which the paper's rule may stop
            // (the width gate, when on, forbids that: no interval).
            let fp = s.fit_prediction;
            let valid = fp >= config.valid_min && fp <= config.valid_max;
            let expected = if valid { fp } else { value };
            let skipped = config.failed_fit == FailedFit::Skipped
                && fp.is_nan()
                && config.stop_width.is_infinite();
            let in_range = config.valid_min <= s.prediction && s.prediction <= config.valid_max;
            assert!(
                s.prediction.to_bits() == expected.to_bits() || (skipped && in_range),
                "budget stop at {epoch}: {s:?}"
            );
            if s.prediction.to_bits() == value.to_bits() && !valid {
                assert!(
                    s.prediction_lo.is_nan() && s.prediction_hi.is_nan(),
                    "budget stop on the observed value with an interval: {s:?}"
                );
            }
        }
        State::Converged => {
            assert!(epoch < config.e_pred, "converged at {epoch} >= e_pred");
            // The width gate holds a converged network while its interval is
            // wider than stop_width; only rank-aware stopping (checked
            // against the cutoff elsewhere) stops one regardless.
            if config.stop_width.is_finite() && config.select_top == 0 {
                let width = s.prediction_hi - s.prediction_lo;
                assert!(
                    width <= config.stop_width,
                    "stopped with interval width {width} > {}",
                    config.stop_width
                );
            }
            // Rank-aware stopping stops a network below the cutoff after the
            // warm-up, whether or not N predictions agree.
            assert!(
                n >= config.n || config.select_top > 0,
                "converged after {n} observations with N = {}",
                config.n
            );
            // On the newest prediction; with failed_fit = skipped a failed fit
            // stays out of the window, so the newest one there may be older.
            let skipped = config.failed_fit == FailedFit::Skipped && s.fit_prediction.is_nan();
            if !skipped {
                assert_eq!(
                    s.prediction.to_bits(),
                    s.fit_prediction.to_bits(),
                    "converged on the newest prediction"
                );
            }
            assert!(
                s.prediction.is_finite()
                    && config.valid_min <= s.prediction
                    && s.prediction <= config.valid_max,
                "converged prediction {} outside [{}, {}]",
                s.prediction,
                config.valid_min,
                config.valid_max
            );
        }
    }
}

/// Rank-aware stopping against the cutoff the call was judged by: a network
/// stops with fewer than N observations only wholly below the cutoff after
/// the warm-up epoch, never stops while its interval straddles it, and keeps
/// training wholly below it only for the late-bloomer guard. Returns whether
/// the status is a stop wholly below the cutoff.
fn check_rank_aware(config: &Config, net: &Net, s: &Status, cutoff: f64) -> bool {
    let n = net.epochs.len();
    let epoch = *net.epochs.last().unwrap();
    // The budget stops a network wherever its interval lies.
    if config.select_top == 0 || s.state == State::ReachedEPred || over_budget(config, epoch) {
        return false;
    }
    let (lo, hi) = (s.prediction_lo, s.prediction_hi);
    let paper_like = s.prediction.to_bits() == s.fit_prediction.to_bits();
    let never_learner = s.state == State::Converged
        && never_learner_stop(config, net, s)
        && (!paper_like || loss_stalled(config, net));
    if never_learner {
        return false;
    }
    let judged = cutoff.is_finite() && lo.is_finite() && hi.is_finite();
    let (worse, better) = match config.direction {
        Direction::Maximize => (hi < cutoff, lo > cutoff),
        Direction::Minimize => (lo > cutoff, hi < cutoff),
    };
    let late = epoch > config.n as f64 * config.e;
    match s.state {
        State::Converged => {
            if n < config.n {
                assert!(
                    judged && worse && late,
                    "rank-aware stop at {epoch} with cutoff {cutoff}: {s:?}"
                );
            }
            assert!(
                !judged || worse || better,
                "stopped straddling the cutoff {cutoff}: {s:?}"
            );
            judged && worse
        }
        State::Continue => {
            let fp = s.fit_prediction;
            let valid = fp >= config.valid_min && fp <= config.valid_max;
            if judged && worse && valid && late {
                let guard = config.loss_patience > 0
                    && config.chance_level.is_finite()
                    && net.best_loss.is_some()
                    && config.at_chance(fp)
                    && (net.since_best_loss as usize) < config.loss_patience;
                assert!(guard, "not stopped below the cutoff {cutoff}: {s:?}");
            }
            false
        }
        State::ReachedEPred => false,
    }
}

/// A status as bits, for exact comparison.
fn bits(s: &Status) -> (State, u64, u64, u64, u32, u32, Vec<u64>) {
    (
        s.state,
        s.prediction.to_bits(),
        s.fit_prediction.to_bits(),
        s.epoch.to_bits(),
        s.observations,
        s.fits,
        s.params.iter().map(|p| p.to_bits()).collect(),
    )
}

fn same<T: std::fmt::Debug>(
    a: &Result<T, Error>,
    b: &Result<T, Error>,
    eq: impl Fn(&T, &T) -> bool,
    what: &str,
) {
    let ok = match (a, b) {
        (Ok(x), Ok(y)) => eq(x, y),
        (Err(x), Err(y)) => x == y,
        _ => false,
    };
    assert!(ok, "{what}: restored engine differs: {a:?} vs {b:?}");
}

fn same_status(a: &Status, b: &Status) -> bool {
    bits(a) == bits(b)
}

fn same_statuses(a: &[Status], b: &[Status]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| same_status(x, y))
}

/// An epoch after `last` (0 when none): every kind of valid and invalid value.
fn epoch_from(sel: u8, last: f64, input: &mut Bytes) -> f64 {
    let step = 0.5 * f64::from(1 + (sel >> 4) % 4);
    match sel % 16 {
        0 => f64::NAN,
        1 => f64::INFINITY,
        2 => f64::NEG_INFINITY,
        3 => 0.0,
        4 => -0.0,
        5 => -f64::from(1 + (sel >> 4)),
        6 => last,                                     // repeated
        7 => last - step,                              // decreasing
        8 => f64::from_bits(last.to_bits() + 1),       // the next float up
        9 => 1e300,                                    // far past e_pred
        10 => input.f64_bits().unwrap_or(last + step), // any bit pattern
        _ => last + step,                              // the usual case
    }
}

/// A fitness for `epoch`: mostly a noisy learning curve, sometimes anything.
fn value_from(sel: u8, epoch: f64, minimize: bool, input: &mut Bytes) -> f64 {
    let noise = f64::from(sel >> 4) * 0.3 - 2.0;
    let x = if epoch.is_finite() {
        epoch.clamp(0.0, 1e3)
    } else {
        1.0
    };
    match sel % 16 {
        0 => f64::NAN,
        1 => f64::INFINITY,
        2 => f64::NEG_INFINITY,
        3 => 1e308,
        4 => -1e308,
        5 => 0.0,
        6 => input.f64_bits().unwrap_or(50.0),
        7 => -0.0,
        _ if minimize => 0.2 + 2.0 * 0.7f64.powf(x) + noise / 50.0,
        _ => 90.0 - 80.0 * 0.7f64.powf(x) + noise,
    }
}

/// Both engines (the second exists after a fork).
struct Engines {
    main: Engine,
    fork: Option<Engine>,
}

impl Engines {
    /// The batch on the main engine and, after a fork, on the restored copy,
    /// which must answer the same bit for bit.
    fn observe_batch(
        &mut self,
        batch: &[Observation],
        losses: &[f64],
    ) -> Result<Vec<Status>, Error> {
        let got = self.main.observe_batch_with_loss(batch, Some(losses));
        if let Some(f) = &mut self.fork {
            same(
                &got,
                &f.observe_batch_with_loss(batch, Some(losses)),
                |a: &Vec<Status>, b: &Vec<Status>| same_statuses(a, b),
                "observe_batch",
            );
        }
        got
    }

    fn saved(&self) -> Vec<u8> {
        let b = to_bytes(&self.main);
        if let Some(f) = &self.fork {
            assert!(to_bytes(f) == b, "restored engine's state differs");
        }
        b
    }
}

/// What one input did (for tests that check their scripts do something).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    /// Calls made.
    pub calls: usize,
    /// Calls that changed the engine.
    pub changes: usize,
    /// Networks that reached a final decision.
    pub finals: usize,
    /// Calls made while a restored copy ran alongside.
    pub forked_calls: usize,
    /// Networks whose final decision is a never-learner stop, at the end.
    pub never_learner_stops: usize,
    /// Networks whose final decision is a stop wholly below the select_top
    /// cutoff, at the end.
    pub below_cutoff_stops: usize,
    /// Networks whose final decision is a stop by the training budget that
    /// the paper's rule could not have made (too few observations, or an
    /// answer that is not the newest prediction), at the end.
    pub budget_stops: usize,
}

/// Runs one input. Panics when the engine disagrees with the model.
pub fn run(data: &[u8]) -> Summary {
    let mut summary = Summary::default();
    let mut input = Bytes::new(data);
    let (Some(selector), Some(extra)) = (input.u8(), input.u8()) else {
        return summary;
    };
    let config = config_for(selector, extra);
    let minimize = config.direction == Direction::Minimize;
    let mut engines = Engines {
        main: Engine::new(config.clone()).expect("fuzz configurations are valid"),
        fork: None,
    };
    let config = engines.main.config().clone();
    let mut model = Model::default();
    let mut observations = 0;

    for _ in 0..MAX_CALLS {
        let Some(tag) = input.u8() else { break };
        let before = engines.saved();
        let finals_before = finals(&model);
        let changed = match tag % 8 {
            0..=2 => {
                if observations >= MAX_OBSERVATIONS {
                    break;
                }
                observations += 1;
                let (Some(i), Some(es), Some(vs)) = (input.u8(), input.u8(), input.u8()) else {
                    break;
                };
                let id = IDS[usize::from(i) % IDS.len()];
                let epoch = epoch_from(es, model.last_epoch(id), &mut input);
                let value = value_from(vs, epoch, minimize, &mut input);
                let loss = if uses_loss(extra) {
                    let Some(b) = input.u8() else { break };
                    loss_from(b)
                } else {
                    f64::NAN
                };
                observe(&config, &mut engines, &mut model, id, epoch, value, loss)
            }
            3 => {
                let Some(k) = input.u8() else { break };
                let mut batch = Vec::new();
                let mut losses = Vec::new();
                // Epochs continue from the model as if earlier entries were accepted.
                let mut scratch = model.clone();
                for _ in 0..k % 6 {
                    let (Some(i), Some(es), Some(vs)) = (input.u8(), input.u8(), input.u8()) else {
                        break;
                    };
                    let id = IDS[usize::from(i) % IDS.len()];
                    let epoch = epoch_from(es, scratch.last_epoch(id), &mut input);
                    let value = value_from(vs, epoch, minimize, &mut input);
                    let loss = if uses_loss(extra) {
                        input.u8().map_or(f64::NAN, loss_from)
                    } else {
                        f64::NAN
                    };
                    if config.select_top > 0 && batch.iter().any(|o: &Observation| o.id == id) {
                        continue;
                    }
                    if epoch.is_finite() && epoch > scratch.last_epoch(id) {
                        scratch.nets.entry(id).or_default().epochs.push(epoch);
                    }
                    batch.push(Observation { id, epoch, value });
                    losses.push(loss);
                }
                if observations + batch.len() > MAX_OBSERVATIONS {
                    break;
                }
                observations += batch.len();
                observe_batch(&config, &mut engines, &mut model, &batch, &losses)
            }
            4 => {
                let Some(i) = input.u8() else { break };
                let id = IDS[usize::from(i) % IDS.len()];
                let got = engines.main.status(id);
                if let Some(f) = &engines.fork {
                    same(&got, &f.status(id), same_status, "status");
                }
                match (model.nets.get(&id), got) {
                    (Some(net), Ok(s)) => {
                        let last = net.last.as_ref().expect("a tracked network has a status");
                        assert!(
                            same_status(last, &s),
                            "status changed without a call: {last:?} -> {s:?}"
                        );
                    }
                    (None, Err(e)) => assert_eq!(e.code, ErrorCode::UnknownNetwork, "{e:?}"),
                    (m, g) => panic!("status({id}): model {m:?}, engine {g:?}"),
                }
                false
            }
            5 => {
                let Some(i) = input.u8() else { break };
                let id = IDS[usize::from(i) % IDS.len()];
                let got = engines.main.forget(id);
                if let Some(f) = &mut engines.fork {
                    same(&got, &f.forget(id), |_, _| true, "forget");
                }
                match (model.nets.remove(&id), got) {
                    (Some(_), Ok(())) => true,
                    (None, Err(e)) => {
                        assert_eq!(e.code, ErrorCode::UnknownNetwork, "{e:?}");
                        false
                    }
                    (m, g) => panic!("forget({id}): model {m:?}, engine {g:?}"),
                }
            }
            6 => {
                // Save and restore; the restored engine must re-save identically
                // and from now on answer exactly as the original.
                let restored = from_bytes(&before).expect("a saved state loads");
                assert!(
                    to_bytes(&restored) == before,
                    "re-saving a restored engine changes the bytes"
                );
                assert_eq!(restored.len(), model.nets.len());
                engines.fork = if engines.fork.is_some() {
                    None
                } else {
                    Some(restored)
                };
                false
            }
            _ => {
                assert_eq!(engines.main.len(), model.nets.len(), "len()");
                assert_eq!(engines.main.is_empty(), model.nets.is_empty());
                if let Some(f) = &engines.fork {
                    assert_eq!(f.len(), model.nets.len(), "len() of the restored engine");
                }
                false
            }
        };
        summary.calls += 1;
        summary.changes += usize::from(changed);
        summary.finals += finals(&model).saturating_sub(finals_before);
        summary.forked_calls += usize::from(engines.fork.is_some());
        let after = engines.saved();
        if !changed {
            assert!(
                before == after,
                "a call that changed nothing changed the saved state"
            );
        }
    }
    summary.never_learner_stops = model
        .nets
        .values()
        .filter(|n| {
            n.last
                .as_ref()
                .is_some_and(|s| s.state == State::Converged && never_learner_stop(&config, n, s))
        })
        .count();
    summary.below_cutoff_stops = model.nets.values().filter(|n| n.below_cutoff_stop).count();
    summary.budget_stops = model
        .nets
        .values()
        .filter(|n| {
            n.last.as_ref().is_some_and(|s| {
                let over = over_budget(&config, *n.epochs.last().unwrap());
                let unlike_paper = n.epochs.len() < config.n
                    || s.prediction.to_bits() != s.fit_prediction.to_bits();
                s.state == State::Converged && over && unlike_paper
            })
        })
        .count();
    summary
}

/// Notes an accepted observation `o` (with `loss`) and the status the engine
/// gave it in the model, after checking the status (against `cutoff`, the
/// one the call was judged by, for `select_top`).
fn accept(config: &Config, model: &mut Model, o: Observation, loss: f64, s: Status, cutoff: f64) {
    let net = model.nets.entry(o.id).or_default();
    net.epochs.push(o.epoch);
    net.values.push(o.value);
    note_loss(config, net, loss);
    check_status(config, net, o.value, &s);
    net.below_cutoff_stop = check_rank_aware(config, net, &s, cutoff);
    net.final_ = s.state != State::Continue;
    net.last = Some(s);
}

/// A refused batch: the expected code, and a message naming entry `i`.
fn check_batch_error(i: usize, code: ErrorCode, e: &Error) {
    assert_eq!(e.code, code, "batch entry {i}: {}", e.message);
    assert!(
        e.message.starts_with(&format!("batch entry {i}:")),
        "the message names entry {i}: {}",
        e.message
    );
}

fn finals(model: &Model) -> usize {
    model.nets.values().filter(|n| n.final_).count()
}

/// One `observe` call checked against the model; whether it was accepted.
fn observe(
    config: &Config,
    engines: &mut Engines,
    model: &mut Model,
    id: u64,
    epoch: f64,
    value: f64,
    loss: f64,
) -> bool {
    let expected = model.expect(id, epoch, value);
    let cutoff = model.cutoff(config);
    assert_eq!(cutoff.to_bits(), engines.main.cutoff().to_bits(), "cutoff");
    let got = engines.main.observe_with_loss(id, epoch, value, loss);
    if let Some(f) = &mut engines.fork {
        let other = f.observe_with_loss(id, epoch, value, loss);
        same(&got, &other, same_status, "observe");
    }
    match (expected, got) {
        (None, Ok(s)) => {
            accept(
                config,
                model,
                Observation { id, epoch, value },
                loss,
                s,
                cutoff,
            );
            true
        }
        (Some(code), Err(e)) => {
            assert_eq!(
                e.code, code,
                "observe({id}, {epoch}, {value}): {}",
                e.message
            );
            assert!(!e.message.is_empty());
            false
        }
        (x, g) => panic!("observe({id}, {epoch:e}, {value:e}): expected {x:?}, got {g:?}"),
    }
}

/// One `observe_batch` call checked against the model and against the same
/// observations made one by one on a copy of the engine; with `select_top`
/// (each id at most once per batch), against the model alone.
fn observe_batch(
    config: &Config,
    engines: &mut Engines,
    model: &mut Model,
    batch: &[Observation],
    losses: &[f64],
) -> bool {
    if config.select_top > 0 {
        return observe_batch_select_top(config, engines, model, batch, losses);
    }
    // What observing in order gives: the model predicts each entry's code, the
    // copy supplies the decisions (a final one makes the network's next entry
    // AlreadyDecided).
    let mut next = model.clone();
    let mut one_by_one = engines.main.clone();
    let mut expected = Ok(Vec::new());
    for (i, o) in batch.iter().enumerate() {
        let single = one_by_one.observe_with_loss(o.id, o.epoch, o.value, losses[i]);
        match (next.expect(o.id, o.epoch, o.value), single) {
            (None, Ok(s)) => {
                if let Ok(v) = &mut expected {
                    v.push(s.clone());
                }
                accept(config, &mut next, *o, losses[i], s, f64::NAN);
            }
            (Some(code), Err(e)) => {
                assert_eq!(e.code, code, "entry {i} one by one: {}", e.message);
                expected = Err((i, code));
                break;
            }
            (x, g) => panic!("batch entry {i} {o:?} one by one: expected {x:?}, got {g:?}"),
        }
    }
    let got = engines.observe_batch(batch, losses);
    match (expected, got) {
        (Ok(want), Ok(statuses)) => {
            assert_eq!(statuses.len(), batch.len(), "one status per entry");
            assert!(
                same_statuses(&want, &statuses),
                "batch {statuses:?} vs one by one {want:?}"
            );
            assert!(
                to_bytes(&one_by_one) == to_bytes(&engines.main),
                "batch and one-by-one states differ"
            );
            *model = next;
            !batch.is_empty()
        }
        (Err((i, code)), Err(e)) => {
            check_batch_error(i, code, &e);
            false
        }
        (want, got) => panic!("observe_batch({batch:?}): expected {want:?}, got {got:?}"),
    }
}

/// [`observe_batch`] with `select_top`: the entries' networks are distinct, so
/// the model alone predicts the first bad entry's code; on success every
/// status must satisfy [`check_status`]. The decisions may differ from
/// one-by-one calls (the batch's cutoff is the one at its start).
fn observe_batch_select_top(
    config: &Config,
    engines: &mut Engines,
    model: &mut Model,
    batch: &[Observation],
    losses: &[f64],
) -> bool {
    let expected = batch
        .iter()
        .enumerate()
        .find_map(|(i, o)| model.expect(o.id, o.epoch, o.value).map(|code| (i, code)));
    let cutoff = model.cutoff(config);
    assert_eq!(cutoff.to_bits(), engines.main.cutoff().to_bits(), "cutoff");
    let got = engines.observe_batch(batch, losses);
    match (expected, got) {
        (None, Ok(statuses)) => {
            assert_eq!(statuses.len(), batch.len(), "one status per entry");
            for ((o, s), &loss) in batch.iter().zip(statuses).zip(losses) {
                accept(config, model, *o, loss, s, cutoff);
            }
            !batch.is_empty()
        }
        (Some((i, code)), Err(e)) => {
            check_batch_error(i, code, &e);
            false
        }
        (want, got) => panic!("observe_batch({batch:?}): expected {want:?}, got {got:?}"),
    }
}
