//! The `penguin` command line: `penguin replay [OPTIONS] [CURVES.csv ...]` and
//! `penguin bench [OPTIONS] [CURVES.csv ...]`.
//!
//! Every configuration key of the C API is an option, spelled as in the C API
//! (`--e_pred 20`) or with dashes (`--e-pred 20`), taken from
//! [`penguin::config::KEYS`] so that new keys need no change here. `--config FILE`
//! files are applied first, in order, then the single keys, in order.

use crate::replay::data::{self, Columns};
use crate::replay::{Options, Report, plots, report};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use penguin::config::{Config, DIRECTIVES, KEYS};
use penguin::error::{Error, ErrorCode, Result};
use std::io::{IsTerminal, Write};
use std::path::Path;
use std::time::{Duration, Instant};

/// A mistake in the command line (exit status 2).
#[derive(Clone, Debug, PartialEq)]
pub struct UsageError(pub String);

/// What the command line asks for.
#[derive(Clone, Debug, PartialEq)]
pub enum Command {
    /// Print this help text.
    Help(String),
    /// Print the version.
    Version,
    /// Replay curves.
    Replay(Box<ReplayArgs>),
    /// Time a replay (`penguin bench`).
    Bench(Box<ReplayArgs>),
    /// Choose settings (`penguin tune`).
    Tune(Box<crate::tune::TuneArgs>),
}

/// The options of `penguin replay`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ReplayArgs {
    /// CSV files (none: the bundled curves).
    pub files: Vec<String>,
    /// Column names.
    pub columns: Columns,
    /// `--config FILE`, in order.
    pub config_files: Vec<String>,
    /// Configuration keys and values, in order.
    pub keys: Vec<(String, String)>,
    /// `--top`.
    pub top: Option<Vec<usize>>,
    /// `--chance DATASET=PCT`, in order.
    pub chance: Vec<(String, f64)>,
    /// `--classes`.
    pub classes: Option<f64>,
    /// `--learn-margin`.
    pub learn_margin: Option<f64>,
    /// `--json FILE`.
    pub json: Option<String>,
    /// `--plots DIR`.
    pub plots: Option<String>,
    /// `--show ID`, in order.
    pub show: Vec<String>,
    /// Whether a progress bar may be shown.
    pub no_progress: bool,
    /// `penguin bench --networks N`: the scale mode with N networks.
    pub networks: Option<usize>,
    /// `penguin bench --chunk N`: networks per batch in the scale mode.
    pub chunk: Option<usize>,
    /// `penguin bench --scaling R`: the scale mode R times on one thread and R
    /// times on `threads`, alternated, and the speed-up.
    pub scaling: Option<usize>,
    /// `penguin bench --c-api single|batch`: the scale mode through the C API.
    pub c_api: Option<crate::bench::CApi>,
}

/// The top-level help.
pub fn help() -> String {
    format!(
        "penguin {} - early termination of neural-network training for NAS (PENGUIN, TPDS 2022)

Usage:
  penguin replay [OPTIONS] [CURVES.csv ...]   replay learning curves, report what Penguin saves
  penguin bench [OPTIONS] [CURVES.csv ...]    time the replay (JSON line, the SciPy peer's fields);
      --networks N [--chunk C]                N networks in batches of C (default 10,000): time,
                                              memory per network
      --networks N --scaling R                that, R times on one thread and R times on
                                              `--threads K` (0 = all cores), alternated: speed-up;
                                              also both engines in lockstep, timed batch by batch,
                                              and one batch in which every network fits, and
                                              a loop sharing nothing: the machine's own speed-up
  penguin tune [OPTIONS] POPULATION ...        choose settings on past searches' curves,
                                              leaving one population out (out-of-sample
                                              numbers), print the choice as a config file
  penguin help | --help                       this text
  penguin --version

Run 'penguin replay --help', 'penguin bench --help' or 'penguin tune --help' for a\ncommand's options.
",
        env!("CARGO_PKG_VERSION")
    )
}

/// The help of `penguin bench`.
pub fn bench_help() -> String {
    "Usage: penguin bench [OPTIONS] [CURVES.csv ...]

Times Penguin's batched engine path (the one `penguin_observe_batch` takes) on
recorded learning curves and prints one JSON line. Without a file it uses the
bundled curves. Timings move from run to run: compare two settings in one run
of each, several times (docs/performance.md).

Modes:
  (default)             replay every network in NAS order (one batch per epoch),
                        repeated from a fresh engine until a second has passed;
                        prints the SciPy peer's fields (examples/scipy_peer.py):
                        models, observations, fits, fit_seconds, fits_per_second,
                        replay_seconds, observations_per_second, mean_stop_epoch,
                        threads, repeats, engine
  --networks N          the scale mode: N networks (the curves under offset ids,
                        stopped as Penguin decides) in batches of --chunk; prints
                        seconds, ns_per_observation, peak_rss_bytes,
                        rss_bytes_per_network, heap_bytes_per_network, ...
  --chunk C             networks per batch in the scale mode (default 10000)
  --c-api single|batch  the scale mode through the C API, as a C caller: one
                        penguin_observe call per observation, or one
                        penguin_observe_batch call per batch (JSON \"path\":
                        c_single, c_batch; rust otherwise)
  --scaling R           with --networks: the scale mode R times on one thread and
                        R times on --threads K (0 = all cores), alternated, and the
                        speed-ups (whole runs, lockstep batches, one batch in
                        which every network fits, independent engines, and a loop
                        sharing nothing: the machine's own speed-up)

Input (as penguin replay):
  --id COL, --epoch COL, --metric COL, --group COL, --no-group

Penguin configuration: every key of the C API as an option (--KEY VALUE,
--KEY=VALUE, dashes for underscores), --config FILE, --set KEY=VALUE; see
'penguin replay --help' for the list. `E` defaults to the data's first epoch (as
the SciPy peer), the rest to the paper's settings. Examples:
  penguin bench tests/data/fmnist_random_cnn.csv --threads 1
  penguin bench --networks 100000 --min_points 1000 --threads 1
  penguin bench --networks 100000 --min_points 1000 --threads 1 --c-api single
  penguin bench --networks 10000 --chunk 10000 --scaling 7
"
    .to_string()
}

/// The help of `penguin replay`.
pub fn replay_help() -> String {
    let pairs = Config::default().pairs();
    let width = pairs.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
    let keys: Vec<String> = pairs
        .iter()
        .map(|(k, v)| format!("  --{k:<width$} default {v}"))
        .collect();
    let unlisted: Vec<String> = KEYS
        .iter()
        .filter(|k| !pairs.iter().any(|(p, _)| p == *k))
        .map(|k| format!("  --{k}"))
        .collect();
    format!(
        "Usage: penguin replay [OPTIONS] [CURVES.csv ...]

Replays recorded learning curves through Penguin as a NAS would (all networks
advance epoch by epoch, one batched call per epoch), and reports per data set, for
all networks and for the learning ones: sensitivity and specificity of the
predicted top x, the mean stop epoch, epochs saved and throughput gain against
MENNDL, EvoCNN and NSGA-Net, decision counts and the error of the predictions.
Without a file it replays the bundled curves (127 Fashion-MNIST CNNs, 3
CIFAR-100 networks, 100 Fashion-MNIST MLPs from examples/nas).

Input (long-format CSV with a header, one row per network and epoch):
  --id COL              network id column (default model_id)
  --epoch COL           epoch column (default epoch)
  --metric COL          fitness column (default val_acc)
  --group COL           data set column, one report column per value (default
                        dataset; a file without the default column is one data
                        set named after the file)
  --no-group            one data set per file
  --train-loss COL      training loss for MENNDL's early stop (default train_loss;
                        without the default column MENNDL has its cap only)
  --no-train-loss       MENNDL stops at 20 epochs only

Report:
  --top LIST            x of the predicted top x, comma separated
                        (default 10,20,50,100,150; n/a when x >= networks)
  --chance DATASET=PCT  chance level of a data set in % (repeatable)
  --classes N           default chance = 100 / N (default 10)
  --learn-margin PTS    learning = more than PTS above chance at e_pred (default 5)
  --json FILE           also write the report as JSON
  --plots DIR           write SVG figures (Figs. 4, 5, 6 of the paper) into DIR
  --show ID             draw this network in Fig. 4 (repeatable; default: a few
                        typical ones per data set)
  --no-progress         no progress bar (it is only shown on a terminal anyway)

Penguin configuration (the C API's keys; also --KEY=VALUE, and dashes for
underscores, e.g. --e-pred 20):
  --config FILE         read `key = value` lines (applied before single keys)
  --set KEY=VALUE       set any key
  --preset NAME         paper, authors, a4nn or robust: every key but the data's
                        back to the paper's default, then the preset's (keys
                        after it override it; robust needs --chance_level)
{}{}
",
        keys.join("\n"),
        if unlisted.is_empty() {
            String::new()
        } else {
            format!("\n{}", unlisted.join("\n"))
        }
    )
}

/// The configuration key an option names, if any: its exact spelling or with
/// dashes for underscores.
pub fn config_key(name: &str) -> Option<&'static str> {
    let all = || KEYS.iter().chain(DIRECTIVES).copied();
    all().find(|k| *k == name).or_else(|| {
        let underscored = name.replace('-', "_");
        all().find(|k| *k == underscored)
    })
}

/// An option `--NAME` or `--NAME=VALUE`: its name as written, the inline
/// value if any, and the name with dashes for underscores (how the program's
/// own options are matched).
pub fn split_option(arg: &str) -> (&str, Option<String>, String) {
    let body = arg.strip_prefix("--").unwrap_or(arg);
    let (name, inline) = match body.split_once('=') {
        Some((n, v)) => (n, Some(v.to_string())),
        None => (body, None),
    };
    (name, inline, name.replace('_', "-"))
}

fn usage(msg: impl Into<String>) -> UsageError {
    UsageError(msg.into())
}

fn parse_top(v: &str) -> std::result::Result<Vec<usize>, UsageError> {
    let top: Vec<usize> = v
        .split(',')
        .map(|x| x.trim().parse::<usize>().ok().filter(|x| *x > 0))
        .collect::<Option<_>>()
        .ok_or_else(|| {
            usage(format!(
                "--top '{v}': expected positive whole numbers separated by commas"
            ))
        })?;
    Ok(top)
}

fn parse_number(
    option: &str,
    v: &str,
    min_exclusive: Option<f64>,
) -> std::result::Result<f64, UsageError> {
    let x: f64 = v
        .trim()
        .parse()
        .ok()
        .filter(|x: &f64| x.is_finite())
        .ok_or_else(|| usage(format!("--{option} '{v}': not a finite number")))?;
    if let Some(m) = min_exclusive
        && x <= m
    {
        return Err(usage(format!("--{option} '{v}': must be greater than {m}")));
    }
    Ok(x)
}

/// Parses the arguments after the program name.
pub fn parse(args: &[String]) -> std::result::Result<Command, UsageError> {
    let Some(first) = args.first() else {
        return Err(usage("no command given; try 'penguin replay'"));
    };
    match first.as_str() {
        "help" | "--help" | "-h" => return Ok(Command::Help(help())),
        "--version" | "-V" => return Ok(Command::Version),
        "replay" | "bench" => {}
        "tune" => {
            let t = crate::tune::parse(&args[1..])?;
            if t.help {
                return Ok(Command::Help(crate::tune::help()));
            }
            return Ok(Command::Tune(Box::new(t)));
        }
        other => {
            return Err(usage(format!(
                "unknown command '{other}' (commands: replay, bench, tune, help)"
            )));
        }
    }
    let bench = first == "bench";
    let command_help = || {
        Ok(Command::Help(if bench {
            bench_help()
        } else {
            replay_help()
        }))
    };
    let mut a = ReplayArgs::default();
    let mut i = 1;
    let mut only_files = false;
    while i < args.len() {
        let arg = &args[i];
        i += 1;
        if only_files || !arg.starts_with('-') || arg == "-" {
            a.files.push(arg.clone());
            continue;
        }
        if arg == "-h" {
            return command_help();
        }
        if !arg.starts_with("--") {
            return Err(usage(format!(
                "unknown option '{arg}' (options start with --)"
            )));
        }
        if arg == "--" {
            only_files = true;
            continue;
        }
        let (name, inline, own) = split_option(arg);
        let flag = |inline: &Option<String>| match inline {
            Some(_) => Err(usage(format!("option --{name} takes no value"))),
            None => Ok(()),
        };
        match own.as_str() {
            "help" => return command_help(),
            "no-group" => {
                flag(&inline)?;
                a.columns.group = None;
                a.columns.group_required = false;
                continue;
            }
            "no-train-loss" => {
                flag(&inline)?;
                a.columns.train_loss = None;
                a.columns.train_loss_required = false;
                continue;
            }
            "no-progress" => {
                flag(&inline)?;
                a.no_progress = true;
                continue;
            }
            _ => {}
        }
        let takes_value = matches!(
            own.as_str(),
            "id" | "epoch"
                | "metric"
                | "group"
                | "train-loss"
                | "top"
                | "chance"
                | "classes"
                | "learn-margin"
                | "config"
                | "set"
                | "json"
                | "plots"
                | "show"
                | "networks"
                | "chunk"
                | "scaling"
                | "c-api"
        );
        let key = if takes_value { None } else { config_key(name) };
        if !takes_value && key.is_none() {
            return Err(usage(format!(
                "unknown option '--{name}' (neither a replay option nor a config key; \
                 config keys: {})",
                KEYS.join(", ")
            )));
        }
        let value = match inline {
            Some(v) => v,
            None => {
                let Some(v) = args.get(i) else {
                    return Err(usage(format!("option --{name} needs a value")));
                };
                i += 1;
                v.clone()
            }
        };
        if let Some(k) = key {
            a.keys.push((k.to_string(), value));
            continue;
        }
        match own.as_str() {
            "id" => a.columns.id = value,
            "epoch" => a.columns.epoch = value,
            "metric" => a.columns.metric = value,
            "group" => {
                a.columns.group = Some(value).filter(|g| !g.is_empty());
                a.columns.group_required = a.columns.group.is_some();
            }
            "train-loss" => {
                a.columns.train_loss = Some(value).filter(|g| !g.is_empty());
                a.columns.train_loss_required = a.columns.train_loss.is_some();
            }
            "top" => a.top = Some(parse_top(&value)?),
            "chance" => {
                let (d, pct) = value
                    .rsplit_once('=')
                    .ok_or_else(|| usage(format!("--chance '{value}': expected DATASET=PCT")))?;
                let pct = parse_number("chance", pct, None)?;
                a.chance.push((d.to_string(), pct));
            }
            "classes" => a.classes = Some(parse_number("classes", &value, Some(0.0))?),
            "learn-margin" => a.learn_margin = Some(parse_number("learn-margin", &value, None)?),
            "config" => a.config_files.push(value),
            "set" => {
                let (k, v) = value
                    .split_once('=')
                    .ok_or_else(|| usage(format!("--set '{value}': expected KEY=VALUE")))?;
                let k = config_key(k.trim()).ok_or_else(|| {
                    usage(format!(
                        "--set '{value}': unknown config key '{}'",
                        k.trim()
                    ))
                })?;
                a.keys.push((k.to_string(), v.trim().to_string()));
            }
            "json" => a.json = Some(value),
            "plots" => a.plots = Some(value),
            "show" => a.show.push(value),
            "networks" | "chunk" | "scaling" | "c-api" if !bench => {
                return Err(usage(format!("--{own} is an option of 'penguin bench'")));
            }
            "networks" => a.networks = Some(parse_count("networks", &value)?),
            "chunk" => a.chunk = Some(parse_count("chunk", &value)?),
            "scaling" => a.scaling = Some(parse_count("scaling", &value)?),
            "c-api" => {
                a.c_api = Some(match value.as_str() {
                    "single" => crate::bench::CApi::Single,
                    "batch" => crate::bench::CApi::Batch,
                    _ => {
                        return Err(usage(format!(
                            "--c-api '{value}': expected single or batch"
                        )));
                    }
                })
            }
            _ => unreachable!("every option taking a value is handled"),
        }
    }
    if !a.show.is_empty() && a.plots.is_none() {
        return Err(usage("--show needs --plots DIR to draw into"));
    }
    if a.c_api.is_some() && (a.networks.is_none() || a.scaling.is_some()) {
        return Err(usage(
            "--c-api needs --networks N and no --scaling (it drives the scale mode)",
        ));
    }
    if a.scaling.is_some() && a.networks.is_none() {
        return Err(usage(
            "--scaling needs --networks N (it times the scale mode)",
        ));
    }
    if bench {
        return Ok(Command::Bench(Box::new(a)));
    }
    Ok(Command::Replay(Box::new(a)))
}

fn parse_count(name: &str, value: &str) -> std::result::Result<usize, UsageError> {
    value
        .trim()
        .parse::<usize>()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| usage(format!("--{name} '{value}': expected a positive integer")))
}

/// `penguin bench`: the paper's settings (E taken from the data unless given),
/// the curves replayed through the batched engine path, one JSON line with the
/// SciPy peer's fields; with `--networks N`, the scale mode.
pub fn bench_command(args: &ReplayArgs, out: &mut dyn Write) -> Result<()> {
    let mut args = args.clone();
    let sources = if args.files.is_empty() {
        data::bundled_sources()
    } else {
        args.files
            .iter()
            .map(|f| read(f, "curves file").map(|t| (f.clone(), t)))
            .collect::<Result<Vec<_>>>()?
    };
    let datasets = data::load(&sources, &args.columns)?;
    let has = |k: &str| args.keys.iter().any(|(key, _)| key == k) || !args.config_files.is_empty();
    if !has("E") {
        // As the SciPy peer: the first network's first epoch, or its step.
        let first = datasets
            .iter()
            .flat_map(|d| d.networks.first())
            .next()
            .map(|n| n.points.as_slice())
            .unwrap_or(&[]);
        let e = match first {
            [p, ..] if p.epoch > 0.0 => p.epoch,
            [p, q, ..] => q.epoch - p.epoch,
            _ => 0.5,
        };
        args.keys.insert(0, ("E".to_string(), format!("{e:?}")));
    }
    let config = build_config(&args)?;
    let chunk = args.chunk.unwrap_or(10_000);
    let line = match (args.networks, args.scaling) {
        (Some(n), Some(rounds)) => {
            crate::bench::scaling(&datasets, &config, n, chunk, rounds)?.to_json()
        }
        (Some(n), None) => match args.c_api {
            Some(path) => crate::bench::scale_c_api(&datasets, &config, n, chunk, path)?.to_json(),
            None => crate::bench::scale(&datasets, &config, n, chunk)?.to_json(),
        },
        (None, _) => crate::bench::run(&datasets, &config)?.to_json(),
    };
    writeln!(out, "{line}")
        .map_err(|e| Error::new(ErrorCode::Io, format!("cannot write output: {e}")))
}

fn read(path: &str, what: &str) -> Result<String> {
    std::fs::read_to_string(path)
        .map_err(|e| Error::new(ErrorCode::Io, format!("cannot read {what} {path}: {e}")))
}

/// The configuration: defaults, then each `--config` file, then each key.
pub fn build_config(args: &ReplayArgs) -> Result<Config> {
    let mut config = Config::default();
    for f in &args.config_files {
        let text = read(f, "config file")?;
        config
            .load_str(&text)
            .map_err(|e| Error::new(e.code, format!("{f}: {}", e.message)))?;
    }
    for (k, v) in &args.keys {
        config
            .set(k, v)
            .map_err(|e| Error::new(e.code, format!("--{k} {v}: {}", e.message)))?;
    }
    config.validate()?;
    Ok(config)
}

/// What a command line asks to replay.
#[derive(Clone, Debug)]
pub struct Plan {
    /// The replay options.
    pub options: Options,
    /// `(file name, CSV text)` of each source.
    pub sources: Vec<(String, String)>,
    /// Whether the sources are the bundled curves.
    pub bundled: bool,
}

/// The replay options and the sources a command line asks for.
pub fn build(args: &ReplayArgs) -> Result<Plan> {
    let config = build_config(args)?;
    let bundled = args.files.is_empty();
    let sources = if bundled {
        data::bundled_sources()
    } else {
        args.files
            .iter()
            .map(|f| read(f, "curves file").map(|t| (f.clone(), t)))
            .collect::<Result<Vec<_>>>()?
    };
    let mut options = Options {
        config,
        ..Options::default()
    };
    if let Some(top) = &args.top {
        options.top = top.clone();
    }
    if let Some(c) = args.classes {
        options.classes = c;
    }
    if let Some(m) = args.learn_margin {
        options.learn_margin = m;
    }
    if bundled {
        options.chance = data::BUNDLED_CHANCE
            .iter()
            .map(|(d, c)| (d.to_string(), *c))
            .collect();
    }
    options.chance.extend(args.chance.iter().cloned());
    Ok(Plan {
        options,
        sources,
        bundled,
    })
}

/// Runs a replay as the command line asks, writing the tables to `out`.
pub fn replay_command(args: &ReplayArgs, out: &mut dyn Write) -> Result<Report> {
    let Plan {
        options,
        sources,
        bundled,
    } = build(args)?;
    let datasets = data::load(&sources, &args.columns)?;
    let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::hidden());
    bar.set_style(
        ProgressStyle::with_template(
            "replaying {bar:40} {pos}/{len} observations, {elapsed} (eta {eta})",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let may_show = !args.no_progress && std::io::stderr().is_terminal();
    let start = Instant::now();
    let mut shown = false;
    let reports = crate::replay::replay(datasets, &options, &mut |done, total| {
        bar.set_length(total);
        bar.set_position(done);
        if may_show && !shown && start.elapsed() > Duration::from_secs(1) {
            bar.set_draw_target(ProgressDrawTarget::stderr());
            shown = true;
        }
    });
    bar.finish_and_clear();
    let report = Report {
        options,
        sources: sources.iter().map(|(f, _)| f.clone()).collect(),
        bundled,
        metric: args.columns.metric.clone(),
        datasets: reports?,
    };
    let _ = write!(out, "{}", report::to_text(&report));
    if let Some(path) = &args.json {
        let text = serde_json::to_string_pretty(&report::to_json(&report))
            .map_err(|e| Error::new(ErrorCode::Internal, e.to_string()))?;
        std::fs::write(path, text + "\n")
            .map_err(|e| Error::new(ErrorCode::Io, format!("cannot write {path}: {e}")))?;
        let _ = writeln!(out, "JSON report written to {path}");
    }
    if let Some(dir) = &args.plots {
        let files = plots::write(&report, Path::new(dir), &args.show)?;
        let _ = writeln!(out, "{} SVG figures written to {dir}", files.len());
    }
    Ok(report)
}

/// The program: parses `args` (without the program name), runs, and returns the
/// exit status (0 ok, 1 failure, 2 usage error).
pub fn run(args: &[String], out: &mut dyn Write, err: &mut dyn Write) -> i32 {
    match parse(args) {
        Err(UsageError(msg)) => {
            // The options of the command that was given (replay's by default).
            let command = args
                .first()
                .map(String::as_str)
                .filter(|c| matches!(*c, "bench" | "tune"))
                .unwrap_or("replay");
            let _ = writeln!(
                err,
                "penguin: error: {msg}\nRun 'penguin {command} --help' for the options."
            );
            2
        }
        Ok(Command::Help(text)) => {
            let _ = write!(out, "{text}");
            0
        }
        Ok(Command::Version) => {
            let _ = writeln!(out, "penguin {}", env!("CARGO_PKG_VERSION"));
            0
        }
        Ok(Command::Bench(a)) => match bench_command(&a, out) {
            Ok(()) => 0,
            Err(e) => {
                let _ = writeln!(err, "penguin: error: {}", e.message);
                1
            }
        },
        Ok(Command::Tune(a)) => match crate::tune::run(&a, out) {
            Ok(_) => 0,
            Err(e) => {
                let _ = writeln!(err, "penguin: error: {}", e.message);
                1
            }
        },
        Ok(Command::Replay(a)) => match replay_command(&a, out) {
            Ok(_) => 0,
            Err(e) => {
                let _ = writeln!(err, "penguin: error: {}", e.message);
                1
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &[&str]) -> Vec<String> {
        s.iter().map(|a| a.to_string()).collect()
    }

    fn replay(s: &[&str]) -> ReplayArgs {
        match parse(&args(s)) {
            Ok(Command::Replay(a)) => *a,
            other => panic!("{s:?}: {other:?}"),
        }
    }

    #[test]
    fn config_keys_in_every_spelling() {
        let a = replay(&[
            "replay",
            "--e_pred",
            "10",
            "--e-pred=12",
            "--set",
            "N=4",
            "f.csv",
        ]);
        assert_eq!(
            a.keys,
            vec![
                ("e_pred".to_string(), "10".to_string()),
                ("e_pred".to_string(), "12".to_string()),
                ("N".to_string(), "4".to_string()),
            ]
        );
        assert_eq!(a.files, vec!["f.csv".to_string()]);
        assert_eq!(build_config(&a).unwrap().e_pred, 12.0);
        for key in KEYS {
            assert_eq!(config_key(key), Some(*key));
            assert_eq!(config_key(&key.replace('_', "-")), Some(*key));
        }
    }

    #[test]
    fn own_options() {
        let a = replay(&[
            "replay",
            "--top",
            "5,7",
            "--chance",
            "CIFAR100=1",
            "--classes",
            "100",
            "--group",
            "ds",
            "--no-train-loss",
            "--",
            "--odd.csv",
        ]);
        assert_eq!(a.top, Some(vec![5, 7]));
        assert_eq!(a.chance, vec![("CIFAR100".to_string(), 1.0)]);
        assert_eq!(a.classes, Some(100.0));
        assert_eq!(a.columns.group.as_deref(), Some("ds"));
        assert!(a.columns.group_required);
        assert_eq!(a.columns.train_loss, None);
        assert_eq!(a.files, vec!["--odd.csv".to_string()]);
    }

    #[test]
    fn each_command_prints_its_own_help() {
        for (command, own, other) in [
            ("bench", "Usage: penguin bench", "Usage: penguin replay"),
            ("replay", "Usage: penguin replay", "Usage: penguin bench"),
        ] {
            for flag in ["--help", "-h"] {
                let Ok(Command::Help(text)) = parse(&args(&[command, flag])) else {
                    panic!("{command} {flag} is no help");
                };
                assert!(text.starts_with(own), "{command} {flag}:\n{text}");
                assert!(!text.contains(other), "{command} {flag}:\n{text}");
            }
        }
        assert!(bench_help().contains("--scaling R"));
        assert!(replay_help().contains("--preset NAME"));
        let Ok(Command::Replay(a)) = parse(&args(&["replay", "--preset", "robust"])) else {
            panic!("--preset is a replay option");
        };
        assert_eq!(a.keys, [("preset".to_string(), "robust".to_string())]);
        assert!(!replay_help().contains("--scaling"));
    }

    #[test]
    fn mistakes() {
        for bad in [
            &["replay", "--nope"][..],
            &["replay", "--top", "a"],
            &["replay", "--chance", "10"],
            &["replay", "--classes", "0"],
            &["replay", "--set", "nope=1"],
            &["replay", "--metric"],
            &["nope"],
        ] {
            assert!(parse(&args(bad)).is_err(), "{bad:?}");
        }
    }
}
