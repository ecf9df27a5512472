//! The `levenberg-marquardt` crate against Penguin's own `src/lmder.rs`, both
//! sides in one process (issue 18, item 5):
//!
//! ```sh
//! cargo bench --bench lm_crate --features lm-crate            # 9 rounds
//! cargo bench --bench lm_crate --features lm-crate -- 15      # 15 rounds
//! ```
//!
//! Only the solver call inside `penguin::fit::fit` is swapped
//! (`penguin::fit::use_lm_crate`); exp3's profile route, the warm starts, the
//! restarts and the change of variables for bounds are the same code on both
//! sides. It prints:
//! 1. fits per second on one thread, as `penguin bench
//!    tests/data/fmnist_random_cnn.csv --threads 1` counts them (the same
//!    replay through `observe_batch_with_loss`, repeated until a second has
//!    passed; fits / wall time), alternating the two solvers round by round
//!    (which one goes first alternates too): the median and range of each, and
//!    the ratio crate / lmder of the medians and the range of the per-round
//!    ratios;
//! 2. the golden-fit pass rate of each (`tests/data/golden_fits.csv`, the
//!    criterion of `tests/golden_fits.rs`: sse <= scipy_sse (1 + 1e-6) + 1e-9,
//!    within bounds), cold starts per function and overall, and warm-started
//!    along each curve; how many of those fits end at a different sum of
//!    squares; and the golden fits per second of each (one pass per three
//!    rounds, alternating), where the solver's share of the time is larger
//!    than in the replay (pow3, expd3 and lossexp3 have no profile route);
//! 3. how many of the bundled replay's decisions differ between the two (the
//!    networks of the three bundled files, default configuration, replayed as
//!    `penguin replay` does at e_pred = 20 and at the baselines' 10 and 25).

use penguin::curves::{CurveColumns, Table, read_curves};
use penguin::fit::{Bounds, FitSettings, use_lm_crate};
use penguin::functions::{Model, builtin};
use penguin::predict::{WarmStart, fit_curve};
use penguin::{Config, Engine, Observation, State};
use std::collections::BTreeMap;
use std::time::Instant;

const BENCH: (&str, &str) = (
    "fmnist_random_cnn.csv",
    include_str!("../tests/data/fmnist_random_cnn.csv"),
);
const BUNDLED: [(&str, &str); 3] = [
    BENCH,
    (
        "fmnist_mlp_mpi.csv",
        include_str!("../tests/data/fmnist_mlp_mpi.csv"),
    ),
    (
        "dataverse_cifar100_3nets.csv",
        include_str!("../tests/data/dataverse_cifar100_3nets.csv"),
    ),
];
const GOLDEN: &str = include_str!("../tests/data/golden_fits.csv");

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Solver {
    Lmder,
    Crate,
}

impl Solver {
    fn select(self) {
        use_lm_crate(self == Solver::Crate);
    }
}

/// One network's curve: (epoch, value, validation loss), as `penguin replay`
/// reads it (rows with a non-finite value or an epoch <= 0 left out).
struct Net {
    points: Vec<(f64, f64, f64)>,
}

fn networks(text: &str) -> Vec<Net> {
    let table = Table::parse(text).unwrap();
    let cols = CurveColumns {
        extra: &["val_loss"],
        ..CurveColumns::default()
    };
    read_curves(&table, &cols)
        .unwrap()
        .into_iter()
        .map(|c| {
            let losses = c.extra.get("val_loss").cloned();
            let points = (0..c.epochs.len())
                .map(|k| {
                    let loss = losses.as_ref().map_or(f64::NAN, |l| l[k]);
                    (c.epochs[k], c.values[k], loss)
                })
                .filter(|(e, v, _)| v.is_finite() && *e > 0.0)
                .collect();
            Net { points }
        })
        .filter(|n| !n.points.is_empty())
        .collect()
}

/// Why and where a network stopped, and Penguin's answer (as `penguin
/// replay`'s per_network: the converged prediction, the prediction at
/// e_pred, or the last observed value when the curve ended first).
#[derive(Clone, Debug, PartialEq)]
struct Outcome {
    stop: &'static str,
    epoch: f64,
    output: f64,
    fits: u32,
}

/// `penguin replay`'s loop: one `observe_batch_with_loss` per epoch that
/// occurs in the data, with every network still training that has a point
/// there.
fn replay(nets: &[Net], config: &Config) -> Vec<Outcome> {
    let mut engine = Engine::new(config.clone()).unwrap();
    let mut epochs: Vec<f64> = nets
        .iter()
        .flat_map(|n| n.points.iter().map(|p| p.0))
        .collect();
    epochs.sort_by(f64::total_cmp);
    epochs.dedup();
    let mut cursor = vec![0usize; nets.len()];
    let mut out: Vec<Option<Outcome>> = vec![None; nets.len()];
    let mut members = Vec::with_capacity(nets.len());
    let mut batch = Vec::with_capacity(nets.len());
    let mut losses = Vec::with_capacity(nets.len());
    for &epoch in &epochs {
        members.clear();
        batch.clear();
        losses.clear();
        for (i, n) in nets.iter().enumerate() {
            if out[i].is_none()
                && let Some(&(e, v, l)) = n.points.get(cursor[i])
                && e == epoch
            {
                members.push(i);
                batch.push(Observation {
                    id: i as u64,
                    epoch,
                    value: v,
                });
                losses.push(l);
            }
        }
        if batch.is_empty() {
            continue;
        }
        let statuses = engine
            .observe_batch_with_loss(&batch, Some(&losses))
            .unwrap();
        for (&i, s) in members.iter().zip(&statuses) {
            cursor[i] += 1;
            let points = &nets[i].points;
            let ended = cursor[i] == points.len();
            let (stop, output) = match s.state {
                State::Converged => ("converged", s.prediction),
                State::ReachedEPred => ("reached_e_pred", s.prediction),
                State::Continue if ended => ("ended", points[cursor[i] - 1].1),
                State::Continue => continue,
            };
            out[i] = Some(Outcome {
                stop,
                epoch: s.epoch,
                output,
                fits: s.fits,
            });
        }
    }
    out.into_iter().map(|o| o.unwrap()).collect()
}

/// `penguin bench`'s timing: the replay repeated (from a fresh engine) until
/// a second has passed, at most 1000 times; fits per second of wall time.
fn fits_per_second(nets: &[Net], config: &Config) -> (f64, u64, f64) {
    let start = Instant::now();
    let mut outcomes = replay(nets, config);
    let mut repeats = 1u32;
    while start.elapsed().as_secs_f64() < 1.0 && repeats < 1000 {
        outcomes = replay(nets, config);
        repeats += 1;
    }
    let seconds = start.elapsed().as_secs_f64() / f64::from(repeats);
    let fits: u64 = outcomes.iter().map(|o| u64::from(o.fits)).sum();
    let stops: Vec<f64> = outcomes.iter().map(|o| o.epoch).collect();
    let mean_stop = stops.iter().sum::<f64>() / stops.len() as f64;
    (fits as f64 / seconds, fits, mean_stop)
}

fn median(v: &[f64]) -> f64 {
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    let k = s.len();
    if k % 2 == 1 {
        s[k / 2]
    } else {
        0.5 * (s[k / 2 - 1] + s[k / 2])
    }
}

fn range(v: &[f64]) -> (f64, f64) {
    v.iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), &x| {
            (l.min(x), h.max(x))
        })
}

fn timing(rounds: usize) {
    let nets = networks(BENCH.1);
    // `penguin bench FILE --threads 1`: the default configuration (its E, 0.5,
    // is the file's first epoch, which `penguin bench` would set) on one thread.
    let mut config = Config::default();
    config.set("threads", "1").unwrap();
    let mut rates: BTreeMap<&str, Vec<f64>> = BTreeMap::new();
    let mut ratios = Vec::new();
    let mut seen: BTreeMap<&str, (u64, f64)> = BTreeMap::new();
    // One untimed replay each first (caches, the thread pool, lazy statics).
    for s in [Solver::Lmder, Solver::Crate] {
        s.select();
        replay(&nets, &config);
    }
    println!(
        "1. fits per second, one thread, {} ({rounds} rounds, alternating)",
        BENCH.0
    );
    for round in 0..rounds {
        let order = if round % 2 == 0 {
            [Solver::Lmder, Solver::Crate]
        } else {
            [Solver::Crate, Solver::Lmder]
        };
        let mut this = [0.0; 2];
        for s in order {
            s.select();
            let (rate, fits, mean_stop) = fits_per_second(&nets, &config);
            let name = if s == Solver::Crate { "crate" } else { "lmder" };
            rates.entry(name).or_default().push(rate);
            seen.insert(name, (fits, mean_stop));
            this[usize::from(s == Solver::Crate)] = rate;
        }
        ratios.push(this[1] / this[0]);
        println!(
            "   round {:2}: lmder {:9.0}  crate {:9.0}  crate/lmder {:.3}",
            round + 1,
            this[0],
            this[1],
            this[1] / this[0]
        );
    }
    for name in ["lmder", "crate"] {
        let v = &rates[name];
        let (lo, hi) = range(v);
        let (fits, mean_stop) = seen[name];
        println!(
            "   {name}: median {:.0} fits/s (range {lo:.0}-{hi:.0}); {fits} fits per replay, mean stop epoch {mean_stop:.4}",
            median(v)
        );
    }
    let (lo, hi) = range(&ratios);
    println!(
        "   crate/lmder: {:.3} (ratio of the medians); per round {lo:.3}-{hi:.3}, median {:.3}",
        median(&rates["crate"]) / median(&rates["lmder"]),
        median(&ratios)
    );
}

struct Case {
    curve: String,
    function: String,
    bounded: bool,
    x: Vec<f64>,
    y: Vec<f64>,
    p0: Vec<f64>,
    sse: f64,
}

fn golden_cases() -> Vec<Case> {
    let floats =
        |s: &str| -> Vec<f64> { s.split_whitespace().map(|v| v.parse().unwrap()).collect() };
    let mut lines = GOLDEN.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).unwrap();
    let (src, model, function, bounded) = (
        col("source"),
        col("model_id"),
        col("function"),
        col("bounded"),
    );
    let (x, y, p0, sse) = (col("x"), col("y"), col("p0"), col("sse"));
    lines
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            Case {
                curve: format!("{}/{}", f[src], f[model]),
                function: f[function].to_string(),
                bounded: f[bounded] == "1",
                x: floats(f[x]),
                y: floats(f[y]),
                p0: floats(f[p0]),
                sse: f[sse].parse().unwrap_or(f64::NAN),
            }
        })
        .collect()
}

/// The authors' bounds of the bounded exp3 cases (as tests/golden_fits.rs).
fn authors_bounds() -> Bounds {
    Bounds {
        lower: vec![0.5, 1.0, 0.0],
        upper: vec![200.0, f64::INFINITY, f64::INFINITY],
    }
}

/// What one solver made of the golden cases.
struct Golden {
    /// Cold starts (as tests/golden_fits.rs): passes and cases by function.
    per_fn: BTreeMap<String, (usize, usize)>,
    /// Warm-started along each curve: passes and cases.
    warm: (usize, usize),
    /// Every fit's sum of squares (NaN: no fit), cold then warm-started.
    sse: Vec<f64>,
    /// Residual evaluations of all those fits.
    evaluations: usize,
    /// Seconds of the cold and of the warm-started pass.
    seconds: [f64; 2],
}

fn golden(cases: &[Case]) -> Golden {
    let settings = FitSettings::default();
    let bounds_of = |c: &Case, n: usize| {
        if c.bounded {
            authors_bounds()
        } else {
            Bounds::unbounded(n)
        }
    };
    let passes = |c: &Case, bounds: &Bounds, r: &Option<penguin::fit::FitResult>| match r {
        Some(r) => {
            r.sse.is_finite()
                && (!c.sse.is_finite() || r.sse <= c.sse * (1.0 + 1e-6) + 1e-9)
                && (!c.bounded || bounds.contains(&r.params))
        }
        None => !c.sse.is_finite(),
    };
    let mut per_fn: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    let mut sse = Vec::with_capacity(2 * cases.len());
    let sse_of = |r: &Option<penguin::fit::FitResult>| r.as_ref().map_or(f64::NAN, |r| r.sse);
    let evals = |r: &Option<penguin::fit::FitResult>| r.as_ref().map_or(0, |r| r.evaluations);
    let mut evaluations = 0;
    let start = Instant::now();
    for c in cases {
        let Some(f) = builtin(&c.function) else {
            continue;
        };
        let bounds = bounds_of(c, f.n_params());
        let r = fit_curve(f, &c.x, &c.y, Some(&c.p0), &bounds, None, &settings);
        let key = format!(
            "{}{}",
            c.function,
            if c.bounded { " (bounded)" } else { "" }
        );
        let e = per_fn.entry(key).or_default();
        e.1 += 1;
        e.0 += usize::from(passes(c, &bounds, &r));
        sse.push(sse_of(&r));
        evaluations += evals(&r);
    }
    let cold_seconds = start.elapsed().as_secs_f64();
    // Warm-started along each curve, prefix after prefix (the second test of
    // tests/golden_fits.rs, whose criterion leaves out the no-fit case).
    let mut order: Vec<&Case> = cases.iter().collect();
    order.sort_by(|a, b| {
        (&a.curve, &a.function, a.bounded, a.x.len()).cmp(&(
            &b.curve,
            &b.function,
            b.bounded,
            b.x.len(),
        ))
    });
    let (mut pass, mut total) = (0, 0);
    let mut warm: Option<(String, Vec<f64>, bool)> = None;
    let start = Instant::now();
    for c in order {
        let Some(f) = builtin(&c.function) else {
            continue;
        };
        let bounds = bounds_of(c, f.n_params());
        let series = format!("{} {} {}", c.curve, c.function, c.bounded);
        let w = warm
            .as_ref()
            .filter(|(s, _, _)| *s == series)
            .map(|(_, p, conv)| WarmStart {
                params: p,
                converged: *conv,
            });
        let r = fit_curve(f, &c.x, &c.y, Some(&c.p0), &bounds, w, &settings);
        total += 1;
        pass += usize::from(r.is_some() && passes(c, &bounds, &r));
        sse.push(sse_of(&r));
        evaluations += evals(&r);
        warm = r.map(|r| (series, r.params, r.converged));
    }
    Golden {
        per_fn,
        warm: (pass, total),
        sse,
        evaluations,
        seconds: [cold_seconds, start.elapsed().as_secs_f64()],
    }
}

fn pct(p: usize, t: usize) -> String {
    format!("{p:5}/{t:5} = {:6.2} %", 100.0 * p as f64 / t.max(1) as f64)
}

/// The golden passes of both solvers, `passes` times each, alternating (and
/// which goes first alternating too), for their timing; the fits of every pass
/// are the same, so the rates are those of the first.
fn golden_rates(passes: usize) {
    let cases = golden_cases();
    let mut runs: [Vec<Golden>; 2] = [Vec::new(), Vec::new()];
    for k in 0..passes {
        let order = if k % 2 == 0 {
            [Solver::Lmder, Solver::Crate]
        } else {
            [Solver::Crate, Solver::Lmder]
        };
        for s in order {
            s.select();
            runs[usize::from(s == Solver::Crate)].push(golden(&cases));
        }
    }
    let (lm, cr) = (&runs[0][0], &runs[1][0]);
    println!(
        "2. golden-fit pass rate, tests/data/golden_fits.csv (sse <= scipy_sse (1 + 1e-6) + 1e-9, within bounds)"
    );
    println!("   {:22} {:>24}   {:>24}", "function", "lmder", "crate");
    let (mut lp, mut cp, mut t) = (0, 0, 0);
    for (k, (p, n)) in &lm.per_fn {
        let (q, _) = cr.per_fn[k];
        println!("   {k:22} {}   {}", pct(*p, *n), pct(q, *n));
        lp += p;
        cp += q;
        t += n;
    }
    println!("   {:22} {}   {}", "all, cold", pct(lp, t), pct(cp, t));
    println!(
        "   {:22} {}   {}",
        "all, warm-started",
        pct(lm.warm.0, lm.warm.1),
        pct(cr.warm.0, cr.warm.1)
    );
    // How often the two end at a different sum of squares at all.
    let pairs: Vec<(f64, f64)> = lm.sse.iter().copied().zip(cr.sse.iter().copied()).collect();
    let differ = |tol: f64| {
        pairs
            .iter()
            .filter(|(a, b)| a.is_nan() != b.is_nan() || (a - b).abs() > tol * a.abs().max(b.abs()))
            .count()
    };
    let lower = |x: fn(&(f64, f64)) -> bool| pairs.iter().filter(|p| x(p)).count();
    println!(
        "   sum of squares, cold and warm-started fits ({}): differs in {} (any bit), {} (relative > 1e-9), {} (relative > 1e-6); crate lower in {}, lmder lower in {}",
        pairs.len(),
        pairs
            .iter()
            .filter(|(a, b)| a.to_bits() != b.to_bits() && !(a.is_nan() && b.is_nan()))
            .count(),
        differ(1e-9),
        differ(1e-6),
        lower(|(a, b)| b < a),
        lower(|(a, b)| a < b),
    );
    println!(
        "   residual evaluations reported by those fits (the run kept): lmder {}, crate {}",
        lm.evaluations, cr.evaluations
    );
    for (k, what) in ["cold", "warm-started"].iter().enumerate() {
        let rate = |g: &[Golden]| -> Vec<f64> {
            g.iter()
                .map(|g| cases.len() as f64 / g.seconds[k])
                .collect()
        };
        let (a, b) = (rate(&runs[0]), rate(&runs[1]));
        let ((alo, ahi), (blo, bhi)) = (range(&a), range(&b));
        println!(
            "   golden fits per second, {what} ({passes} passes each, alternating): lmder median {:.0} (range {alo:.0}-{ahi:.0}), crate median {:.0} (range {blo:.0}-{bhi:.0}), crate/lmder {:.3}",
            median(&a),
            median(&b),
            median(&b) / median(&a)
        );
    }
}

fn decisions() {
    println!(
        "3. bundled replay, default configuration: networks whose outcome differs (crate vs lmder)"
    );
    println!(
        "   {:30} {:>6} {:>8} {:>9} {:>9} {:>9} {:>10}   mean stop epoch",
        "file", "e_pred", "networks", "decision", "of which", "answer", "answer"
    );
    println!(
        "   {:30} {:>6} {:>8} {:>9} {:>9} {:>9} {:>10}   lmder / crate",
        "", "", "", "differs", "kind", "any bit", "by > 1e-3"
    );
    let (mut all, mut any_decision) = (0, 0);
    for (file, text) in BUNDLED {
        let nets = networks(text);
        let max_epoch = nets
            .iter()
            .filter_map(|n| n.points.last().map(|p| p.0))
            .fold(0.0, f64::max);
        // `penguin replay`'s runs: the main e_pred (20, also MENNDL's), and
        // EvoCNN's 10 and NSGA-Net's 25 where the curves reach them.
        for e_pred in [20.0, 10.0, 25.0] {
            if e_pred != 20.0 && max_epoch < e_pred {
                continue;
            }
            let config = Config {
                e_pred,
                ..Config::default()
            };
            Solver::Lmder.select();
            let a = replay(&nets, &config);
            Solver::Crate.select();
            let b = replay(&nets, &config);
            let stop = a.iter().zip(&b).filter(|(x, y)| x.stop != y.stop).count();
            let decision = a
                .iter()
                .zip(&b)
                .filter(|(x, y)| x.stop != y.stop || x.epoch != y.epoch)
                .count();
            let bits = |x: f64| if x.is_nan() { u64::MAX } else { x.to_bits() };
            let pred_any = a
                .iter()
                .zip(&b)
                .filter(|(x, y)| bits(x.output) != bits(y.output))
                .count();
            let far = |x: f64, y: f64| match (x.is_nan(), y.is_nan()) {
                (false, false) => (x - y).abs() > 1e-3,
                (p, q) => p != q,
            };
            let pred_big = a
                .iter()
                .zip(&b)
                .filter(|(x, y)| far(x.output, y.output))
                .count();
            let mean = |o: &[Outcome]| o.iter().map(|o| o.epoch).sum::<f64>() / o.len() as f64;
            println!(
                "   {file:30} {e_pred:>6} {:>8} {decision:>9} {stop:>9} {pred_any:>9} {pred_big:>10}   {:.4} / {:.4}",
                nets.len(),
                mean(&a),
                mean(&b)
            );
            if e_pred == 20.0 {
                all += nets.len();
                any_decision += decision;
            }
        }
    }
    println!(
        "   at e_pred = 20: {any_decision} of {all} networks stop differently (kind or epoch)"
    );
}

fn main() {
    // `cargo bench` passes `--bench`; a number is the count of rounds.
    let rounds = std::env::args()
        .skip(1)
        .find_map(|a| a.parse::<usize>().ok())
        .unwrap_or(9)
        .max(1);
    timing(rounds);
    golden_rates(rounds.div_ceil(3));
    decisions();
    Solver::Lmder.select();
}
