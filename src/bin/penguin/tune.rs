//! `penguin tune`: choose Penguin's settings on the learning curves of past
//! searches and say how well the choice holds on curves it was not chosen on.
//!
//! Each population (a file, a data set of a file, or a part of one split by a
//! column) is replayed under every setting of a grid (a file of option lines,
//! or the built-in grid) as `penguin replay` replays it. Then, leaving one
//! population out at a time, the setting that scores best on the others (see
//! [`Objective`]) is reported with its numbers on the population left out:
//! out-of-sample numbers. Last comes the setting chosen on every population,
//! printed as a configuration file for `--config`.

use crate::cli::{UsageError, config_key, split_option};
use crate::replay::data::{self, Columns, Dataset};
use crate::replay::metrics::Metrics;
use crate::replay::{Options, replay};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use penguin::config::Config;
use penguin::error::{Error, ErrorCode, Result};
use rayon::prelude::*;
use serde_json::{Value, json};
use std::fmt::Write as _;
use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// One setting of the grid: configuration keys applied over the defaults.
#[derive(Clone, Debug, PartialEq)]
pub struct Setting {
    /// The keys and values, in order.
    pub keys: Vec<(String, String)>,
}

impl Setting {
    /// `key=value key=value ...` (`paper` for none: the paper's method).
    pub fn label(&self) -> String {
        if self.keys.is_empty() {
            return "paper".to_string();
        }
        let parts: Vec<String> = self.keys.iter().map(|(k, v)| format!("{k}={v}")).collect();
        parts.join(" ")
    }

    /// The setting as a configuration file.
    pub fn config_text(&self) -> String {
        self.keys
            .iter()
            .map(|(k, v)| format!("{k} = {v}\n"))
            .collect()
    }
}

/// What a setting is chosen by, over a set of populations.
///
/// Every population has a budget: the paper's method's mean stop epoch on it
/// plus `budget` epochs. A setting is eligible when its mean stop epoch is
/// within the budget on every population. Among eligible settings the lowest
/// score wins (ties: the one needing the smaller budget, then the earlier in
/// the grid); when none is eligible, the
/// lowest score of all, flagged. The score is the mean over the populations of
/// - `balanced`: the median absolute error, plus the regret of the chosen top
///   10 beyond successive halving's at the same mean epochs (0 when Penguin
///   ranks as well), plus 10 times the distance of the 90 % interval coverage
///   from [0.80, 0.97] (0 inside), plus 10 times the share of the networks that
///   are late bloomers lost;
/// - `median`: the median absolute error;
/// - `regret`: the regret of the chosen top 10.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Objective {
    /// See the type's docs.
    Balanced,
    /// See the type's docs.
    Median,
    /// See the type's docs.
    Regret,
}

impl Objective {
    fn name(self) -> &'static str {
        match self {
            Objective::Balanced => "balanced",
            Objective::Median => "median",
            Objective::Regret => "regret",
        }
    }
}

/// One population: a data set and the keys that hold for it alone.
#[derive(Clone, Debug)]
pub struct Population {
    /// Its name (the data set's, made unique).
    pub name: String,
    /// The curves.
    pub dataset: Dataset,
    /// Keys for this population only (e.g. `E=1,e_pred=26`), applied after
    /// the setting's.
    pub keys: Vec<(String, String)>,
    /// Chance level in % for the report (its `chance_level` key, else 100 /
    /// classes).
    pub chance: f64,
}

/// A population argument: `FILE[@key=value,...]`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PopulationSpec {
    /// The CSV file.
    pub file: String,
    /// Configuration keys for it.
    pub keys: Vec<(String, String)>,
    /// `split=COLUMN[:SEP]` for it (else the command's `--split-by`).
    pub split: Option<String>,
    /// `classes=N` for it.
    pub classes: Option<f64>,
}

/// The options of `penguin tune`.
#[derive(Clone, Debug, PartialEq)]
pub struct TuneArgs {
    /// The populations.
    pub populations: Vec<PopulationSpec>,
    /// `--split-by COLUMN[:SEP]`.
    pub split: Option<String>,
    /// Column names (id, epoch, metric).
    pub columns: Columns,
    /// `--grid FILE`.
    pub grid: Option<String>,
    /// `--objective`.
    pub objective: Objective,
    /// `--budget EPOCHS`.
    pub budget: f64,
    /// `--classes N`.
    pub classes: f64,
    /// Keys applied to every population before each setting.
    pub keys: Vec<(String, String)>,
    /// `--config FILE`s applied before those keys.
    pub config_files: Vec<String>,
    /// `--json FILE`.
    pub json: Option<String>,
    /// `--out FILE`: the chosen setting as a configuration file.
    pub out: Option<String>,
    /// `--threads K` (0 = all cores).
    pub threads: usize,
    /// `--print-grid`.
    pub print_grid: bool,
    /// `--no-progress`.
    pub no_progress: bool,
    /// `--help`.
    pub help: bool,
}

impl Default for TuneArgs {
    fn default() -> Self {
        TuneArgs {
            populations: Vec::new(),
            split: None,
            columns: Columns::default(),
            grid: None,
            objective: Objective::Balanced,
            budget: 1.0,
            classes: 10.0,
            keys: Vec::new(),
            config_files: Vec::new(),
            json: None,
            out: None,
            threads: 0,
            print_grid: false,
            no_progress: false,
            help: false,
        }
    }
}

/// The help of `penguin tune`.
pub fn help() -> String {
    "Usage: penguin tune [OPTIONS] POPULATION ...

Chooses Penguin's settings on learning curves of past searches, and tells how
well the choice holds on curves it was not chosen on. Every population is
replayed (as penguin replay does) under every setting of a grid; then, leaving
one population out at a time, the setting that scores best on the others is
reported with its numbers on the one left out (out of sample). Last, what each
budget buys on all populations (the settings no other beats on both the budget
they need and the score) and the setting chosen on all populations, as a
configuration file for --config.

Populations (at least two):
  FILE[@KEY=VALUE,...]  a learning-curve CSV (penguin replay's format); each data
                        set of it (column `dataset`) is a population. KEYs are
                        configuration keys for this population only, applied
                        after the setting's (e.g. the A4NN curves'
                        @E=1,x_shift=-1,e_pred=26,chance_level=50,classes=2), and
                        split=COLUMN[:SEP], classes=N, as below, for it alone
  --split-by COLUMN[:SEP]  one population per value of COLUMN (its part before
                        the first SEP, e.g. model_id:_ for ids like s7_m0)
  --no-group            one population per file
  --id COL, --epoch COL, --metric COL   columns, as penguin replay
  --classes N           chance = 100 / N for the report where chance_level is not
                        set (default 10)

Grid and choice:
  --grid FILE           one setting per line: KEY=VALUE KEY=VALUE ... (# comments;
                        a line `paper` or empty of keys: the defaults); default:
                        the built-in grid (--print-grid shows it)
  --objective O         balanced (default): the mean over populations of the median
                        absolute error + the regret of the chosen top 10 beyond
                        successive halving's at the same mean epochs + 10 x the
                        90 % interval coverage's distance from [0.80, 0.97] + 10 x
                        the share of networks that are late bloomers lost;
                        median: the median absolute error; regret: the regret of
                        the chosen top 10
  --budget EPOCHS       a setting is eligible when its mean stop epoch is at most
                        the paper's method's + EPOCHS on every population
                        (default 1)
  --KEY VALUE, --set KEY=VALUE, --config FILE   keys for every population, applied
                        before each setting (e.g. --chance_level 10)

Output:
  --json FILE           everything as JSON
  --out FILE            the setting chosen on all populations as a config file
  --threads K           settings replayed in parallel (default 0: all cores)
  --print-grid          print the built-in grid and exit
  --no-progress         no progress bar (shown on a terminal only)

Example (the bundled populations):
  penguin tune --chance_level 10 tests/data/fmnist_random_cnn.csv@split=model_id:_ \\
      tests/data/fmnist_mlp_mpi.csv \\
      tests/data/a4nn_xfel_complete.csv@E=1,x_shift=-1,e_pred=26,chance_level=50,classes=2
"
    .to_string()
}

fn usage(msg: impl Into<String>) -> UsageError {
    UsageError(msg.into())
}

/// `KEY=VALUE,KEY=VALUE` after a population's `@`.
fn parse_population(arg: &str) -> std::result::Result<PopulationSpec, UsageError> {
    let (file, rest) = match arg.split_once('@') {
        Some((f, r)) => (f, Some(r)),
        None => (arg, None),
    };
    let mut spec = PopulationSpec {
        file: file.to_string(),
        ..PopulationSpec::default()
    };
    for item in rest.into_iter().flat_map(|r| r.split(',')) {
        if item.trim().is_empty() {
            continue;
        }
        let (k, v) = item
            .split_once('=')
            .ok_or_else(|| usage(format!("{arg}: '{item}' is not KEY=VALUE")))?;
        let (k, v) = (k.trim(), v.trim());
        match k {
            "split" => spec.split = Some(v.to_string()),
            "classes" => {
                spec.classes = Some(
                    v.parse::<f64>()
                        .ok()
                        .filter(|c| *c > 0.0)
                        .ok_or_else(|| usage(format!("{arg}: classes '{v}'")))?,
                )
            }
            _ => {
                let key = config_key(k)
                    .ok_or_else(|| usage(format!("{arg}: unknown config key '{k}'")))?;
                spec.keys.push((key.to_string(), v.to_string()));
            }
        }
    }
    Ok(spec)
}

/// Parses the arguments after `tune`.
pub fn parse(args: &[String]) -> std::result::Result<TuneArgs, UsageError> {
    let mut a = TuneArgs::default();
    let mut i = 0;
    while i < args.len() {
        let arg = &args[i];
        i += 1;
        if !arg.starts_with("--") {
            if arg == "-h" {
                a.help = true;
                return Ok(a);
            }
            a.populations.push(parse_population(arg)?);
            continue;
        }
        let (name, inline, own) = split_option(arg);
        match own.as_str() {
            "help" => {
                a.help = true;
                return Ok(a);
            }
            "no-group" => {
                a.columns.group = None;
                continue;
            }
            "print-grid" => {
                a.print_grid = true;
                continue;
            }
            "no-progress" => {
                a.no_progress = true;
                continue;
            }
            _ => {}
        }
        let mut value = || -> std::result::Result<String, UsageError> {
            if let Some(v) = &inline {
                return Ok(v.clone());
            }
            let v = args
                .get(i)
                .cloned()
                .ok_or_else(|| usage(format!("option --{name} needs a value")))?;
            i += 1;
            Ok(v)
        };
        match own.as_str() {
            "split-by" => a.split = Some(value()?),
            "id" => a.columns.id = value()?,
            "epoch" => a.columns.epoch = value()?,
            "metric" => a.columns.metric = value()?,
            "classes" => {
                let v = value()?;
                a.classes = v
                    .parse::<f64>()
                    .ok()
                    .filter(|c| *c > 0.0)
                    .ok_or_else(|| usage(format!("--classes '{v}': expected a number > 0")))?;
            }
            "grid" => a.grid = Some(value()?),
            "objective" => {
                let v = value()?;
                a.objective = match v.as_str() {
                    "balanced" => Objective::Balanced,
                    "median" => Objective::Median,
                    "regret" => Objective::Regret,
                    _ => {
                        return Err(usage(format!(
                            "--objective '{v}': balanced, median or regret"
                        )));
                    }
                };
            }
            "budget" => {
                let v = value()?;
                a.budget = v
                    .parse::<f64>()
                    .ok()
                    .filter(|b| b.is_finite())
                    .ok_or_else(|| usage(format!("--budget '{v}': expected epochs")))?;
            }
            "json" => a.json = Some(value()?),
            "out" => a.out = Some(value()?),
            "threads" => {
                let v = value()?;
                a.threads = v
                    .parse()
                    .map_err(|_| usage(format!("--threads '{v}': expected a count")))?;
            }
            "config" => a.config_files.push(value()?),
            "set" => {
                let v = value()?;
                let (k, val) = v
                    .split_once('=')
                    .ok_or_else(|| usage(format!("--set '{v}': expected KEY=VALUE")))?;
                let k = config_key(k.trim())
                    .ok_or_else(|| usage(format!("--set '{v}': unknown config key")))?;
                a.keys.push((k.to_string(), val.trim().to_string()));
            }
            _ => match config_key(name) {
                Some(k) => {
                    let v = value()?;
                    a.keys.push((k.to_string(), v));
                }
                None => {
                    return Err(usage(format!(
                        "unknown option '--{name}' (see 'penguin tune --help')"
                    )));
                }
            },
        }
    }
    if !a.print_grid && a.populations.len() < 2 {
        return Err(usage(
            "penguin tune needs at least two populations (files or their parts)",
        ));
    }
    Ok(a)
}

/// The built-in grid (336 settings): the paper's method and every combination
/// of the options that the bundled curves' experiments found worth trying
/// (docs/research.md): averaged families (`combine = mean_fitted` with vap3,
/// with pow3 and log_power, or with all three), the never-learner stop with
/// the late-bloomer guard, with or without waiting a fifth of `e_pred` for
/// late bloomers (`chance_wait`), five agreeing predictions instead of three,
/// and rank-aware stopping for the top 10, judged on the whole interval or
/// with the shares that a leave-one-population-out search chose (stop on
/// three quarters of the reach, hold on half of it, hold until 0.6 of
/// `e_pred`), the same shares holding on a quarter of the reach (cheaper),
/// the quarter hold with the stop judged on the whole interval, the same
/// with `robust`'s two later keys (a sure pick must show it,
/// `select_clear_observed`, and the 8 networks that show the most are held,
/// `select_hold_observed = 8`: so `robust` itself is a line), or
/// successive halving (`select_halving = 3`, at least 10 finalists) instead
/// of rank-aware stopping; each with and without the answer floor
/// (`answer_floor`). Every setting works without numbers of the data but
/// `chance_level` (given once for all, e.g. --chance_level 10).
pub fn default_grid() -> Vec<Setting> {
    let families = [
        "",
        "alternatives=vap3 combine=mean_fitted",
        "alternatives=pow3,log_power combine=mean_fitted",
        "alternatives=vap3,pow3,log_power combine=mean_fitted",
    ];
    let chance = [
        "",
        "chance_patience=3 loss_patience=2 loss_min_delta=0.001",
        "chance_patience=3 loss_patience=2 loss_min_delta=0.001 chance_wait=0.2",
    ];
    let agreement = ["", "N=5"];
    let rank = [
        "",
        "select_top=10",
        "select_top=10 select_stop_reach=0.75 select_hold_reach=0.5 select_hold_until=0.6",
        "select_top=10 select_stop_reach=0.75 select_hold_reach=0.25 select_hold_until=0.6",
        "select_top=10 select_hold_reach=0.25 select_hold_until=0.6",
        "select_top=10 select_hold_reach=0.25 select_hold_until=0.6 \
         select_clear_observed=on select_hold_observed=8",
        "select_top=10 select_halving=3",
    ];
    let floor = ["", "answer_floor=on"];
    // Every combination, the first factor varying slowest.
    let factors: [&[&str]; 5] = [&families, &chance, &agreement, &rank, &floor];
    let lines = factors.iter().fold(vec![String::new()], |lines, factor| {
        lines
            .iter()
            .flat_map(|line| {
                factor
                    .iter()
                    .map(move |part| match (line.is_empty(), part.is_empty()) {
                        (_, true) => line.clone(),
                        (true, false) => part.to_string(),
                        (false, false) => format!("{line} {part}"),
                    })
            })
            .collect()
    });
    lines
        .iter()
        .map(|l| parse_setting(l).expect("the built-in grid parses"))
        .collect()
}

/// One line of a grid: `KEY=VALUE ...` (`paper`: none).
fn parse_setting(line: &str) -> Result<Setting> {
    let mut keys = Vec::new();
    for item in line.split_whitespace() {
        if item == "paper" {
            continue;
        }
        let (k, v) = item.split_once('=').ok_or_else(|| {
            Error::new(
                ErrorCode::InvalidArgument,
                format!("grid: '{item}' is not KEY=VALUE"),
            )
        })?;
        let key = config_key(k).ok_or_else(|| {
            Error::new(
                ErrorCode::UnknownConfigKey,
                format!("grid: unknown config key '{k}'"),
            )
        })?;
        keys.push((key.to_string(), v.to_string()));
    }
    Ok(Setting { keys })
}

/// Reads a grid file (the paper's method is always added first).
fn read_grid(text: &str) -> Result<Vec<Setting>> {
    let mut grid = vec![Setting { keys: Vec::new() }];
    for (n, line) in text.lines().enumerate() {
        let line = line.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        let s = parse_setting(line)
            .map_err(|e| Error::new(e.code, format!("line {}: {}", n + 1, e.message)))?;
        if !grid.contains(&s) {
            grid.push(s);
        }
    }
    Ok(grid)
}

fn read(path: &str, what: &str) -> Result<String> {
    std::fs::read_to_string(path)
        .map_err(|e| Error::new(ErrorCode::Io, format!("cannot read {what} {path}: {e}")))
}

/// Applies `keys` to `config`, naming the key in an error.
fn apply(config: &mut Config, keys: &[(String, String)], what: &str) -> Result<()> {
    for (k, v) in keys {
        config
            .set(k, v)
            .map_err(|e| Error::new(e.code, format!("{what}: {k}={v}: {}", e.message)))?;
    }
    Ok(())
}

/// Loads the populations.
fn load_populations(args: &TuneArgs) -> Result<Vec<Population>> {
    let mut out: Vec<Population> = Vec::new();
    for spec in &args.populations {
        let text = read(&spec.file, "curves file")?;
        let mut cols = args.columns.clone();
        cols.train_loss = None;
        if let Some(split) = spec.split.as_ref().or(args.split.as_ref()) {
            let (column, sep) = match split.split_once(':') {
                Some((c, s)) => (c.to_string(), Some(s.to_string())),
                None => (split.clone(), None),
            };
            cols.group = Some(column);
            cols.group_required = true;
            cols.group_prefix = sep;
        }
        let datasets = data::load(&[(spec.file.clone(), text)], &cols)?;
        let mut config = Config::default();
        apply(&mut config, &spec.keys, &spec.file)?;
        let classes = spec.classes.unwrap_or(args.classes);
        for d in datasets {
            let mut name = d.name.clone();
            if out.iter().any(|p| p.name == name) {
                name = format!("{}:{}", data::file_stem(&spec.file), d.name);
            }
            let chance = args
                .keys
                .iter()
                .chain(&spec.keys)
                .filter(|(k, _)| k == "chance_level")
                .filter_map(|(_, v)| v.parse::<f64>().ok())
                .next_back()
                .unwrap_or(100.0 / classes);
            out.push(Population {
                name,
                dataset: d,
                keys: spec.keys.clone(),
                chance,
            });
        }
    }
    if out.len() < 2 {
        return Err(Error::new(
            ErrorCode::InvalidArgument,
            format!(
                "penguin tune needs at least two populations; found {}",
                out.len()
            ),
        ));
    }
    Ok(out)
}

/// The numbers of one setting on one population.
#[derive(Clone, Debug)]
pub struct Outcome {
    /// The replay's metrics over all networks.
    pub metrics: Metrics,
    /// The configured `e_pred`.
    pub e_pred: f64,
}

/// Replays one population under one configuration.
fn evaluate(pop: &Population, config: &Config) -> Result<Outcome> {
    let options = Options {
        config: config.clone(),
        top: vec![10],
        chance: vec![(pop.dataset.name.clone(), pop.chance)],
        classes: 100.0 / pop.chance,
        learn_margin: 5.0,
        baselines: Vec::new(),
    };
    let reports = replay(vec![pop.dataset.clone()], &options, &mut |_, _| {})?;
    let metrics = reports
        .into_iter()
        .next()
        .map(|r| r.full)
        .ok_or_else(|| Error::new(ErrorCode::Internal, "tune: empty replay"))?;
    Ok(Outcome {
        metrics,
        e_pred: config.e_pred,
    })
}

/// The configuration of `setting` on `pop`: the defaults, the command's config
/// files and keys, the setting, the population's keys; one thread (settings
/// run in parallel instead).
fn configure(
    base: &Config,
    setting: &Setting,
    pop: &Population,
    args: &TuneArgs,
) -> Result<Config> {
    let mut config = base.clone();
    apply(&mut config, &args.keys, "--KEY")?;
    apply(&mut config, &setting.keys, &setting.label())?;
    apply(&mut config, &pop.keys, &pop.name)?;
    config.threads = 1;
    config.validate()?;
    Ok(config)
}

/// Whether `setting` has `select_halving` and holds on `pop` without it: then
/// halving alone is why it does not hold there.
fn halving_alone_fails(
    base: &Config,
    setting: &Setting,
    pop: &Population,
    args: &TuneArgs,
) -> bool {
    let without = Setting {
        keys: setting
            .keys
            .iter()
            .filter(|(k, _)| k != "select_halving")
            .cloned()
            .collect(),
    };
    without.keys.len() < setting.keys.len() && configure(base, &without, pop, args).is_ok()
}

fn regret10(m: &Metrics) -> Option<f64> {
    m.regret.first().and_then(|r| r.1)
}

fn halving10(m: &Metrics) -> Option<f64> {
    m.halving.first().and_then(|h| h.as_ref().map(|h| h.regret))
}

fn coverage(m: &Metrics) -> Option<f64> {
    m.interval_coverage.map(|c| c.1)
}

/// A setting's score on one population (lower is better; NaN where a number
/// is missing, e.g. a population too small for a top 10).
fn score(objective: Objective, m: &Metrics) -> f64 {
    let median = m.median_abs_error.unwrap_or(f64::NAN);
    let regret = regret10(m).unwrap_or(f64::NAN);
    match objective {
        Objective::Median => median,
        Objective::Regret => regret,
        Objective::Balanced => {
            let excess = (regret - halving10(m).unwrap_or(f64::NAN)).max(0.0);
            let cov = coverage(m).unwrap_or(0.0);
            let gap = (0.80 - cov).max(0.0) + (cov - 0.97).max(0.0);
            let lost = m.late_bloomers_lost.unwrap_or(0) as f64 / m.networks.max(1) as f64;
            median + excess + 10.0 * gap + 10.0 * lost
        }
    }
}

/// The choice on a set of populations: the setting's index, whether it is
/// within every budget, and its mean score.
#[derive(Clone, Copy, Debug)]
pub struct Choice {
    /// Index into the grid.
    pub setting: usize,
    /// Within the budget on every population of the set.
    pub eligible: bool,
    /// Mean score over the set.
    pub score: f64,
}

/// Chooses a setting on the populations `on` (indices).
fn choose(results: &[Vec<Outcome>], on: &[usize], objective: Objective, budget: f64) -> Choice {
    let paper = &results[0];
    let mut best: Option<(Choice, f64)> = None;
    for (s, per_pop) in results.iter().enumerate() {
        let eligible = on.iter().all(|&p| {
            let stop = per_pop[p].metrics.mean_stop_epoch.unwrap_or(f64::INFINITY);
            let limit = paper[p].metrics.mean_stop_epoch.unwrap_or(f64::INFINITY) + budget;
            stop <= limit + 1e-9
        });
        let needed = budget_needed(results, s, on);
        let Some(mean) = mean_score(results, s, on, objective) else {
            continue;
        };
        let c = Choice {
            setting: s,
            eligible,
            score: mean,
        };
        // Ties: the one needing the smaller budget, then the earlier in the
        // grid (as the frontier orders them).
        let better = match best {
            None => true,
            Some((b, b_needed)) => {
                (c.eligible && !b.eligible)
                    || (c.eligible == b.eligible
                        && (c.score < b.score || (c.score == b.score && needed < b_needed)))
            }
        };
        if better {
            best = Some((c, needed));
        }
    }
    best.map_or(
        Choice {
            setting: 0,
            eligible: true,
            score: f64::NAN,
        },
        |b| b.0,
    )
}

/// Setting `s`'s mean score over the populations `on` where it has one (None
/// where it has none).
fn mean_score(
    results: &[Vec<Outcome>],
    s: usize,
    on: &[usize],
    objective: Objective,
) -> Option<f64> {
    let scores: Vec<f64> = on
        .iter()
        .map(|&p| score(objective, &results[s][p].metrics))
        .filter(|v| v.is_finite())
        .collect();
    (!scores.is_empty()).then(|| scores.iter().sum::<f64>() / scores.len() as f64)
}

/// The budget setting `s` needs on the populations `on`: its largest mean
/// stop epoch above the paper's method's (populations where either has none
/// are left out; -inf when none is left).
fn budget_needed(results: &[Vec<Outcome>], s: usize, on: &[usize]) -> f64 {
    on.iter()
        .map(|&p| {
            results[s][p]
                .metrics
                .mean_stop_epoch
                .unwrap_or(f64::INFINITY)
                - results[0][p]
                    .metrics
                    .mean_stop_epoch
                    .unwrap_or(f64::INFINITY)
        })
        .filter(|d| !d.is_nan())
        .fold(f64::NEG_INFINITY, f64::max)
}

/// One point of the frontier: a setting, the budget it needs (its largest
/// mean stop epoch above the paper's method's over the populations), and
/// its mean score on them.
#[derive(Clone, Copy, Debug)]
pub struct FrontierPoint {
    /// Index into the grid.
    pub setting: usize,
    /// The smallest `--budget` under which it is eligible on every population.
    pub budget_needed: f64,
    /// Mean score over the populations.
    pub score: f64,
}

/// The settings that no other setting beats on both the budget it needs and
/// the score, on the populations `on`, cheapest first: what each budget
/// would buy. The choice under `--budget B` is the last point whose budget
/// needed is at most B (the last point of all when none is: the best score).
/// Exact ties in score keep the cheaper setting, as [`choose`] does.
fn frontier(results: &[Vec<Outcome>], on: &[usize], objective: Objective) -> Vec<FrontierPoint> {
    let mut points: Vec<FrontierPoint> = (0..results.len())
        .filter_map(|s| {
            let budget_needed = budget_needed(results, s, on);
            let score = mean_score(results, s, on, objective)?;
            if !budget_needed.is_finite() {
                return None;
            }
            Some(FrontierPoint {
                setting: s,
                budget_needed,
                score,
            })
        })
        .collect();
    // Cheapest first (ties: the better score, then the earlier in the grid);
    // a point stays when it scores better than every cheaper one.
    points.sort_by(|a, b| {
        a.budget_needed
            .total_cmp(&b.budget_needed)
            .then(a.score.total_cmp(&b.score))
            .then(a.setting.cmp(&b.setting))
    });
    let mut kept: Vec<FrontierPoint> = Vec::new();
    for p in points {
        if kept.last().is_none_or(|k| p.score < k.score) {
            kept.push(p);
        }
    }
    kept
}

fn fixed(v: Option<f64>, d: usize) -> String {
    v.filter(|v| v.is_finite())
        .map_or_else(|| "n/a".to_string(), |v| format!("{v:.d$}"))
}

/// One line of numbers.
fn numbers(o: &Outcome) -> String {
    let m = &o.metrics;
    let halving = m.halving.first().and_then(|h| h.as_ref());
    format!(
        "stop {:>5}  median {:>5}  MAE {:>5}  within2 {:>4}  coverage {:>4}  regret@10 {:>5}  truncation {:>5}  halving {:>5} @{:>5}  floor {:>5}  late bloomers lost {}  never-learners' stop {:>5}",
        fixed(m.mean_stop_epoch, 2),
        fixed(m.median_abs_error, 2),
        fixed(m.mae, 2),
        fixed(m.within_2, 2),
        fixed(coverage(m), 2),
        fixed(regret10(m), 2),
        fixed(
            m.truncation
                .as_ref()
                .and_then(|t| t.regret.first().and_then(|r| r.1)),
            2
        ),
        fixed(halving10(m), 2),
        fixed(halving.map(|h| h.mean_epochs), 2),
        fixed(
            m.one_short
                .as_ref()
                .and_then(|s| s.regret.first().and_then(|r| r.1)),
            2
        ),
        m.late_bloomers_lost
            .map_or("n/a".to_string(), |v| v.to_string()),
        fixed(m.never_learners_mean_stop, 2),
    )
}

fn numbers_json(o: &Outcome) -> Value {
    let m = &o.metrics;
    let opt = |v: Option<f64>| {
        v.filter(|v| v.is_finite())
            .map_or(Value::Null, |v| json!(v))
    };
    let halving = m.halving.first().and_then(|h| h.as_ref());
    json!({
        "e_pred": o.e_pred,
        "networks": m.networks,
        "mean_stop_epoch": opt(m.mean_stop_epoch),
        "median_abs_error": opt(m.median_abs_error),
        "mae": opt(m.mae),
        "within_2_points": opt(m.within_2),
        "interval_coverage": opt(coverage(m)),
        "regret_at_10": opt(regret10(m)),
        "truncation_regret_at_10": opt(m.truncation.as_ref().and_then(|t| t.regret.first().and_then(|r| r.1))),
        "successive_halving_regret_at_10": opt(halving10(m)),
        "successive_halving_mean_epochs": opt(halving.map(|h| h.mean_epochs)),
        "noise_floor_regret_at_10": opt(m.one_short.as_ref().and_then(|s| s.regret.first().and_then(|r| r.1))),
        "late_bloomers_lost": m.late_bloomers_lost,
        "never_learners_mean_stop_epoch": opt(m.never_learners_mean_stop),
    })
}

/// `penguin tune`: replays, chooses, prints; returns the setting chosen on all
/// populations.
pub fn run(args: &TuneArgs, out: &mut dyn Write) -> Result<Setting> {
    let io = |e: std::io::Error| Error::new(ErrorCode::Io, format!("cannot write output: {e}"));
    let grid = match &args.grid {
        Some(path) => read_grid(&read(path, "grid file")?)
            .map_err(|e| Error::new(e.code, format!("{path}: {}", e.message)))?,
        None => default_grid(),
    };
    if args.print_grid {
        for s in &grid {
            writeln!(out, "{}", s.label()).map_err(io)?;
        }
        return Ok(grid[0].clone());
    }
    let pops = load_populations(args)?;
    let mut base = Config::default();
    for f in &args.config_files {
        base.load_str(&read(f, "config file")?)
            .map_err(|e| Error::new(e.code, format!("{f}: {}", e.message)))?;
    }
    // Every configuration first: a mistake stops before any replay. A
    // setting of the built-in grid whose halving does not hold on some
    // population (no rung between the warm-up and its e_pred), while the same
    // setting without halving does, is left out instead, and the report says
    // so; any other error stops as a mistake.
    let mut configs: Vec<Vec<Config>> = Vec::with_capacity(grid.len());
    let mut left_out: Vec<(String, String)> = Vec::new();
    let mut kept: Vec<Setting> = Vec::with_capacity(grid.len());
    'settings: for s in grid {
        let mut row = Vec::with_capacity(pops.len());
        for p in &pops {
            match configure(&base, &s, p, args) {
                Ok(c) => row.push(c),
                Err(e) if args.grid.is_none() && halving_alone_fails(&base, &s, p, args) => {
                    left_out.push((s.label(), format!("{}: {}", p.name, e.message)));
                    continue 'settings;
                }
                Err(e) => return Err(e),
            }
        }
        configs.push(row);
        kept.push(s);
    }
    let grid = kept;
    let jobs: Vec<(usize, usize)> = (0..grid.len())
        .flat_map(|s| (0..pops.len()).map(move |p| (s, p)))
        .collect();
    let bar = ProgressBar::with_draw_target(Some(jobs.len() as u64), ProgressDrawTarget::hidden());
    bar.set_style(
        ProgressStyle::with_template("tuning {bar:40} {pos}/{len} replays, {elapsed} (eta {eta})")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    if !args.no_progress && std::io::stderr().is_terminal() {
        bar.set_draw_target(ProgressDrawTarget::stderr());
    }
    let start = Instant::now();
    let done = AtomicU64::new(0);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(args.threads)
        .build()
        .map_err(|e| Error::new(ErrorCode::Internal, format!("thread pool: {e}")))?;
    let flat: Vec<Result<Outcome>> = pool.install(|| {
        jobs.par_iter()
            .map(|&(s, p)| {
                let r = evaluate(&pops[p], &configs[s][p]);
                bar.set_position(done.fetch_add(1, Ordering::Relaxed) + 1);
                r
            })
            .collect()
    });
    bar.finish_and_clear();
    let seconds = start.elapsed();
    let mut results: Vec<Vec<Outcome>> = Vec::with_capacity(grid.len());
    let mut it = flat.into_iter();
    for s in &grid {
        let mut row = Vec::with_capacity(pops.len());
        for p in &pops {
            row.push(it.next().expect("one result per job").map_err(|e| {
                Error::new(
                    e.code,
                    format!("{} on {}: {}", s.label(), p.name, e.message),
                )
            })?);
        }
        results.push(row);
    }

    let mut text = String::new();
    let names: Vec<&str> = pops.iter().map(|p| p.name.as_str()).collect();
    let _ = writeln!(
        text,
        "Penguin tune: {} settings x {} populations ({}) replayed in {:.1} s",
        grid.len(),
        pops.len(),
        names.join(", "),
        seconds.max(Duration::ZERO).as_secs_f64()
    );
    let _ = writeln!(
        text,
        "objective: {} (lower is better), among settings whose mean stop epoch is at most the \
         paper's + {} on every population",
        args.objective.name(),
        args.budget
    );
    if !left_out.is_empty() {
        let _ = writeln!(
            text,
            "{} settings of the built-in grid do not hold on every population and were left out:",
            left_out.len()
        );
        for (label, why) in &left_out {
            let _ = writeln!(text, "  {label}: {why}");
        }
    }
    let _ = writeln!(text, "\nThe paper's method on each population:");
    for (p, pop) in pops.iter().enumerate() {
        let _ = writeln!(text, "  {:<24} {}", pop.name, numbers(&results[0][p]));
    }
    let _ = writeln!(
        text,
        "\nLeave one population out: the setting chosen on the others, and its numbers on the \
         one left out (out of sample)"
    );
    let mut loo = Vec::new();
    for (p, pop) in pops.iter().enumerate() {
        let others: Vec<usize> = (0..pops.len()).filter(|&q| q != p).collect();
        let c = choose(&results, &others, args.objective, args.budget);
        let s = &grid[c.setting];
        let _ = writeln!(
            text,
            "  {:<24} chosen on the others: {}{}",
            pop.name,
            s.label(),
            if c.eligible {
                ""
            } else {
                " (none within the budget)"
            }
        );
        let _ = writeln!(text, "  {:<24} {}", "", numbers(&results[c.setting][p]));
        loo.push(json!({
            "population": pop.name,
            "chosen": s.label(),
            "within_budget": c.eligible,
            "score_on_others": c.score,
            "held_out": numbers_json(&results[c.setting][p]),
            "paper": numbers_json(&results[0][p]),
        }));
    }
    let all: Vec<usize> = (0..pops.len()).collect();
    let c = choose(&results, &all, args.objective, args.budget);
    let chosen = grid[c.setting].clone();
    let _ = writeln!(
        text,
        "\nChosen on all populations: {}{} (score {:.3}); its numbers are in-sample:",
        chosen.label(),
        if c.eligible {
            ""
        } else {
            " (none within the budget)"
        },
        c.score
    );
    for (p, pop) in pops.iter().enumerate() {
        let _ = writeln!(
            text,
            "  {:<24} {}",
            pop.name,
            numbers(&results[c.setting][p])
        );
    }
    let front = frontier(&results, &all, args.objective);
    let _ = writeln!(
        text,
        "\nWhat each budget buys on all populations (in-sample; budget: the setting's largest mean stop above the paper's; --budget B chooses the last row within B):"
    );
    for f in &front {
        // Rounded up, so that `--budget` with the printed value chooses it.
        let _ = writeln!(
            text,
            "  budget {:>+6.2}  score {:.3}  {}",
            (f.budget_needed * 100.0).ceil() / 100.0,
            f.score,
            grid[f.setting].label()
        );
    }
    let _ = writeln!(text, "\n# config file (penguin replay --config FILE):");
    let _ = write!(text, "{}", chosen.config_text());
    write!(out, "{text}").map_err(io)?;

    if let Some(path) = &args.out {
        let header = format!(
            "# Chosen by penguin tune (objective {}, budget {}) on {}\n",
            args.objective.name(),
            args.budget,
            names.join(", ")
        );
        std::fs::write(path, header + &chosen.config_text())
            .map_err(|e| Error::new(ErrorCode::Io, format!("cannot write {path}: {e}")))?;
    }
    if let Some(path) = &args.json {
        let grid_json: Vec<Value> = grid
            .iter()
            .enumerate()
            .map(|(s, g)| {
                json!({
                    "setting": g.label(),
                    "populations": pops.iter().enumerate().map(|(p, pop)| (pop.name.clone(), numbers_json(&results[s][p]))).collect::<serde_json::Map<_, _>>(),
                })
            })
            .collect();
        let doc = json!({
            "populations": names,
            "objective": args.objective.name(),
            "budget_epochs": args.budget,
            "leave_one_out": loo,
            "chosen_on_all": {
                "setting": chosen.label(),
                "within_budget": c.eligible,
                "score": c.score,
                "config": chosen.config_text(),
                "in_sample": pops.iter().enumerate().map(|(p, pop)| (pop.name.clone(), numbers_json(&results[c.setting][p]))).collect::<serde_json::Map<_, _>>(),
            },
            "frontier": front.iter().map(|f| json!({
                "setting": grid[f.setting].label(),
                "budget_needed": f.budget_needed,
                "score": f.score,
            })).collect::<Vec<_>>(),
            "grid": grid_json,
            "left_out": left_out.iter().map(|(label, why)| json!({
                "setting": label,
                "reason": why,
            })).collect::<Vec<_>>(),
        });
        let text = serde_json::to_string_pretty(&doc)
            .map_err(|e| Error::new(ErrorCode::Internal, e.to_string()))?;
        std::fs::write(path, text + "\n")
            .map_err(|e| Error::new(ErrorCode::Io, format!("cannot write {path}: {e}")))?;
    }
    Ok(chosen)
}
