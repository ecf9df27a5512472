//! The replay report as aligned text tables (the paper's layout: one column pair
//! per data set, full set and learning networks) and as JSON.

use super::{
    Report,
    metrics::{Metrics, PerX},
};
use penguin::config::Direction;
use serde_json::{Map, Value, json};
use std::fmt::Write as _;

/// Absent numbers in the tables.
const NA: &str = "n/a";
/// Baselines whose epochs the data do not reach.
const NO_DATA: &str = "-";

fn fmt_opt(v: Option<f64>, f: impl Fn(f64) -> String) -> String {
    v.map_or_else(|| NA.to_string(), f)
}

fn fixed(v: Option<f64>, decimals: usize) -> String {
    fmt_opt(v, |v| format!("{v:.decimals$}"))
}

fn count(v: Option<usize>) -> String {
    v.map_or_else(|| NA.to_string(), |v| v.to_string())
}

/// A number as it reads best: no trailing `.0` for whole numbers.
pub fn short(v: f64) -> String {
    if v.is_finite() && v == v.trunc() && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}

enum Row {
    Section(String),
    Cells(String, Vec<String>),
}

/// Renders rows: a left-aligned label column and right-aligned value columns,
/// grouped in pairs under each data set's name.
fn render(groups: &[String], sub: &[&str], rows: &[Row]) -> String {
    let ncols = groups.len() * sub.len();
    let label_w = rows
        .iter()
        .map(|r| match r {
            Row::Section(_) => 0,
            Row::Cells(l, _) => l.len(),
        })
        .max()
        .unwrap_or(0)
        .max(10);
    let mut w = vec![0usize; ncols];
    for (c, width) in w.iter_mut().enumerate() {
        *width = sub[c % sub.len()].len();
        for r in rows {
            if let Row::Cells(_, cells) = r {
                *width = (*width).max(cells.get(c).map_or(0, |s| s.len()));
            }
        }
    }
    // Widen a pair when the data set's name is longer than its two columns.
    let gap = 2;
    for (g, name) in groups.iter().enumerate() {
        let cols = g * sub.len()..(g + 1) * sub.len();
        let span: usize = w[cols.clone()].iter().sum::<usize>() + gap * (sub.len() - 1);
        if name.len() > span {
            // Share the extra width among the pair's columns.
            let extra = name.len() - span;
            let k = sub.len();
            for (j, c) in cols.enumerate() {
                w[c] += extra / k + usize::from(j < extra % k);
            }
        }
    }
    let mut out = String::new();
    let group_gap = 4;
    let _ = write!(out, "{:label_w$}", "");
    for (g, name) in groups.iter().enumerate() {
        let cols = g * sub.len()..(g + 1) * sub.len();
        let span: usize = w[cols].iter().sum::<usize>() + gap * (sub.len() - 1);
        let _ = write!(out, "{:group_gap$}{name:>span$}", "");
    }
    out.push('\n');
    let _ = write!(out, "{:label_w$}", "");
    for c in 0..ncols {
        let sep = if c % sub.len() == 0 { group_gap } else { gap };
        let _ = write!(
            out,
            "{:sep$}{:>width$}",
            "",
            sub[c % sub.len()],
            width = w[c]
        );
    }
    out.push('\n');
    for r in rows {
        match r {
            Row::Section(s) => {
                let _ = writeln!(out, "{s}");
            }
            Row::Cells(label, cells) => {
                let mut line = format!("{label:label_w$}");
                for (c, width) in w.iter().enumerate() {
                    let sep = if c % sub.len() == 0 { group_gap } else { gap };
                    let cell = cells.get(c).map_or("", |s| s.as_str());
                    let _ = write!(line, "{:sep$}{cell:>width$}", "");
                }
                let _ = writeln!(out, "{}", line.trim_end());
            }
        }
    }
    out
}

/// A configuration value for people: a number that `pairs()` spells with many
/// digits (`5e-324` as 324 decimals) in scientific notation.
fn readable(value: &str) -> String {
    match value.parse::<f64>() {
        Ok(v) if value.len() > 12 && format!("{v:e}").len() < value.len() => format!("{v:e}"),
        _ => value.to_string(),
    }
}

fn description(report: &Report) -> String {
    let mut out = String::new();
    let n: usize = report.datasets.iter().map(|d| d.full.networks).sum();
    let from = if report.bundled {
        format!("the bundled curves ({})", report.sources.join(", "))
    } else {
        report.sources.join(", ")
    };
    let c = &report.options.config;
    out.push_str(&wrap(
        &format!(
            "Penguin replay: {n} networks in {} data set{} from {from}",
            report.datasets.len(),
            if report.datasets.len() == 1 { "" } else { "s" }
        ),
        88,
    ));
    let dir = match c.direction {
        Direction::Maximize => "higher is better",
        Direction::Minimize => "lower is better",
    };
    out.push_str(&wrap(
        &format!(
            "fitness: {} ({dir}); ground truth: the observed {} at each network's last \
             observation at or before e_pred",
            report.metric, report.metric
        ),
        88,
    ));
    let pairs: Vec<String> = c
        .pairs()
        .iter()
        .map(|(k, v)| format!("{k}={}", readable(v)))
        .collect();
    let mut line = String::from("config:");
    for p in pairs {
        if line.len() + p.len() + 1 > 88 {
            let _ = writeln!(out, "{line}");
            line = String::from("       ");
        }
        line.push(' ');
        line.push_str(&p);
    }
    let _ = writeln!(out, "{line}");
    out
}

/// The report as aligned text tables with notes.
pub fn to_text(report: &Report) -> String {
    let opts = &report.options;
    let e_pred = short(opts.config.e_pred);
    let groups: Vec<String> = report
        .datasets
        .iter()
        .map(|d| d.dataset.name.clone())
        .collect();
    // Each data set's two metric columns.
    let cols: Vec<(&Metrics, Option<&Metrics>)> = report
        .datasets
        .iter()
        .map(|d| (&d.full, d.learning_metrics.as_ref()))
        .collect();
    let row = |label: String, f: &dyn Fn(&Metrics) -> String| {
        let cells = cols
            .iter()
            .flat_map(|(full, learning)| [f(full), learning.map_or(NA.to_string(), f)])
            .collect();
        Row::Cells(label, cells)
    };
    let per_dataset = |label: String, f: &dyn Fn(&super::DatasetReport) -> String| {
        let cells = report
            .datasets
            .iter()
            .flat_map(|d| [f(d), String::new()])
            .collect();
        Row::Cells(label, cells)
    };
    let mut rows = vec![row("networks".into(), &|m| m.networks.to_string())];
    if opts.config.direction == Direction::Maximize {
        rows.push(per_dataset("  chance level (%)".into(), &|d| {
            short(d.chance)
        }));
    }
    rows.push(per_dataset(
        format!("  rows skipped (non-finite {})", report.metric),
        &|d| d.dataset.skipped_nonfinite.to_string(),
    ));
    if report.datasets.iter().any(|d| d.dataset.skipped_epoch > 0) {
        rows.push(per_dataset("  rows skipped (epoch <= 0)".into(), &|d| {
            d.dataset.skipped_epoch.to_string()
        }));
    }
    if report.datasets.iter().any(|d| d.dataset.empty_networks > 0) {
        rows.push(per_dataset(
            "  networks without a usable row (left out)".into(),
            &|d| d.dataset.empty_networks.to_string(),
        ));
    }
    rows.push(Row::Section(format!(
        "Ranking of the predicted top x at e_pred = {e_pred} (paper's Tables 8, 9)"
    )));
    for (k, &x) in opts.top.iter().enumerate() {
        rows.push(row(format!("  sensitivity, top {x}"), &|m| {
            fixed(m.sensitivity[k].1, 2)
        }));
    }
    for (k, &x) in opts.top.iter().enumerate() {
        rows.push(row(format!("  specificity, top {x}"), &|m| {
            fixed(m.specificity[k].1, 2)
        }));
    }
    rows.push(Row::Section(
        "Equal-budget truncation: rank by what was observed at Penguin's mean stop epoch"
            .to_string(),
    ));
    rows.push(row("  truncation epoch".into(), &|m| {
        fixed(m.truncation.as_ref().map(|t| t.epoch), 1)
    }));
    // The two rows of a ranking by what was observed, for the k-th x.
    let ranking_rows = |k: usize, pick: fn(&Metrics) -> Option<(&PerX, &PerX)>| {
        let x = opts.top[k];
        [
            row(format!("  sensitivity, top {x}, last value"), &|m| {
                fixed(pick(m).and_then(|(last, _)| last[k].1), 2)
            }),
            row(format!("  sensitivity, top {x}, best so far"), &|m| {
                fixed(pick(m).and_then(|(_, best)| best[k].1), 2)
            }),
        ]
    };
    for (k, &x) in opts.top.iter().enumerate() {
        rows.extend(ranking_rows(k, |m| {
            m.truncation
                .as_ref()
                .map(|t| (&t.sensitivity_last, &t.sensitivity_best))
        }));
        rows.push(row(format!("  Penguin's skill, top {x}"), &|m| {
            fixed(m.skill[k].1, 2)
        }));
    }
    rows.push(Row::Section(
        "One observation short: rank by each network's observation just before e_pred".to_string(),
    ));
    rows.push(row("  mean epoch of that observation".into(), &|m| {
        fixed(m.one_short.as_ref().and_then(|t| t.mean_epoch), 2)
    }));
    for k in 0..opts.top.len() {
        rows.extend(ranking_rows(k, |m| {
            m.one_short
                .as_ref()
                .map(|t| (&t.sensitivity_last, &t.sensitivity_best))
        }));
    }
    rows.push(Row::Section(
        "Regret of the chosen top x: mean fitness of the true top x minus the chosen's (points)"
            .to_string(),
    ));
    for (k, &x) in opts.top.iter().enumerate() {
        rows.push(row(format!("  Penguin, top {x}"), &|m| {
            fixed(m.regret[k].1, 2)
        }));
        rows.push(row(
            format!("  truncation within 0.5 epoch of the mean stop, top {x}"),
            &|m| fixed(m.truncation.as_ref().and_then(|t| t.regret[k].1), 2),
        ));
        rows.push(row(format!("  successive halving, top {x}"), &|m| {
            fixed(m.halving[k].as_ref().map(|h| h.regret), 2)
        }));
        rows.push(row("    its mean epochs (r0, eta)".to_string(), &|m| {
            m.halving[k].as_ref().map_or(NA.to_string(), |h| {
                format!("{:.2} ({}, {})", h.mean_epochs, short(h.r0), short(h.eta))
            })
        }));
        rows.push(row(
            format!("  noise floor (one observation short), top {x}"),
            &|m| fixed(m.one_short.as_ref().and_then(|t| t.regret[k].1), 2),
        ));
    }
    rows.push(Row::Section(
        "Training epochs (paper's Tables 10, 11)".to_string(),
    ));
    rows.push(row(format!("  mean stop epoch, e_pred = {e_pred}"), &|m| {
        fixed(m.mean_stop_epoch, 2)
    }));
    for (k, b) in opts.baselines.iter().enumerate() {
        let rule = match b.loss_patience {
            Some(p) => format!(
                "{} epochs or train loss stalled {}",
                short(b.epochs),
                short(p)
            ),
            None => format!("{} epochs", short(b.epochs)),
        };
        rows.push(Row::Section(format!("  vs {} ({rule})", b.name)));
        let available = |m: &Metrics, f: &dyn Fn(&super::metrics::Savings) -> String| {
            let s = &m.savings[k];
            if s.penguin_mean_epochs.is_none() && m.networks > 0 {
                NO_DATA.to_string()
            } else {
                f(s)
            }
        };
        rows.push(row(format!("    {} mean epochs", b.name), &|m| {
            available(m, &|s| fixed(s.baseline_mean_epochs, 2))
        }));
        rows.push(row(
            format!("    Penguin mean epochs, e_pred = {}", short(b.epochs)),
            &|m| available(m, &|s| fixed(s.penguin_mean_epochs, 2)),
        ));
        rows.push(row("    epochs saved (%)".into(), &|m| {
            available(m, &|s| fixed(s.epochs_saved.map(|v| 100.0 * v), 1))
        }));
        rows.push(row("    throughput gain (x)".into(), &|m| {
            available(m, &|s| fixed(s.throughput_gain, 2))
        }));
    }
    rows.push(Row::Section(format!("Decisions at e_pred = {e_pred}")));
    rows.push(row("  converged".into(), &|m| m.converged.to_string()));
    rows.push(row("  reached e_pred".into(), &|m| {
        m.reached_e_pred.to_string()
    }));
    if report.datasets.iter().any(|d| d.full.ended > 0) {
        rows.push(row("  curve ended before a decision".into(), &|m| {
            m.ended.to_string()
        }));
    }
    rows.push(row("  never-learners (observed)".into(), &|m| {
        count(m.never_learn)
    }));
    rows.push(row("  predicted never-learners".into(), &|m| {
        count(m.predicted_never_learn)
    }));
    rows.push(row("  anomalies".into(), &|m| count(m.anomalies)));
    if opts.config.direction == Direction::Maximize {
        rows.push(row(
            "  late bloomers lost (> chance + 20 at e_pred)".into(),
            &|m| count(m.late_bloomers_lost),
        ));
        rows.push(row("  never-learners' mean stop epoch".into(), &|m| {
            fixed(m.never_learners_mean_stop, 2)
        }));
    }
    rows.push(row(
        format!("  MAE of the final prediction ({})", report.metric),
        &|m| fixed(m.mae, 2),
    ));
    rows.push(row("  median absolute error".into(), &|m| {
        fixed(m.median_abs_error, 2)
    }));
    rows.push(row("  share within 2 points".into(), &|m| {
        fixed(m.within_2, 2)
    }));
    if report.options.config.interval > 0.0 {
        rows.push(row(
            format!(
                "  {:.0} % interval holds the observed value (converged)",
                100.0 * report.options.config.interval
            ),
            &|m| match m.interval_coverage {
                Some((n, share)) => format!("{:.2} of {n}", share),
                None => "n/a".to_string(),
            },
        ));
    }

    let mut out = description(report);
    out.push('\n');
    out.push_str(&render(&groups, &["full", "learning"], &rows));
    out.push('\n');
    out.push_str(&notes(report));
    out
}

/// Wraps `text` at `width` columns, continuation lines indented by two spaces.
fn wrap(text: &str, width: usize) -> String {
    let mut out = String::new();
    let mut line = String::new();
    for word in text.split(' ') {
        if !line.trim().is_empty() && line.len() + 1 + word.len() > width {
            out.push_str(line.trim_end());
            out.push('\n');
            line = String::from("  ");
        } else if !line.is_empty() && !line.ends_with("  ") {
            line.push(' ');
        }
        line.push_str(word);
    }
    out.push_str(line.trim_end());
    out.push('\n');
    out
}

fn notes(report: &Report) -> String {
    let opts = &report.options;
    let margin = short(opts.learn_margin);
    let mut notes = Vec::new();
    if opts.config.direction == Direction::Maximize {
        notes.push(format!(
            "learning: observed {} at e_pred more than {margin} points above chance. \
             anomalies: Penguin's answer at most {margin} above chance, but learning.",
            report.metric
        ));
    }
    notes.extend([
        "epochs saved = 1 - Penguin's epochs / the baseline's epochs (sums over the \
         networks), Penguin run with e_pred = the baseline's epochs; throughput gain = \
         1 / (1 - saved)."
            .to_string(),
        format!("{NA}: not defined (top x with x >= the number of networks, or no such networks)."),
    ]);
    if opts.config.direction == Direction::Minimize {
        notes.push(
            "direction = minimize: the learning subset, never-learners and anomalies need \
             an accuracy chance level and are not reported."
                .to_string(),
        );
    }
    for d in &report.datasets {
        let max = d.dataset.max_epoch();
        for run in &d.baselines {
            if let Some(why) = &run.refused {
                notes.push(format!(
                    "{NO_DATA}: {}: not replayed with e_pred = {} for {}, where the \
                     configuration does not hold: {why}.",
                    d.dataset.name,
                    short(run.baseline.epochs),
                    run.baseline.name
                ));
            } else if !run.available {
                notes.push(format!(
                    "{NO_DATA}: {}'s curves end at epoch {}, before {}'s {} epochs: not replayed.",
                    d.dataset.name,
                    short(max),
                    run.baseline.name,
                    short(run.baseline.epochs)
                ));
            } else if run.baseline.loss_patience.is_some() && !run.loss_rule {
                notes.push(format!(
                    "{}: no training-loss column, so {} stops at its {}-epoch cap only.",
                    d.dataset.name,
                    run.baseline.name,
                    short(run.baseline.epochs)
                ));
            }
        }
        if max < opts.config.e_pred {
            notes.push(format!(
                "{}: curves end at epoch {}, before e_pred = {}: networks still training \
                 then stop at their last epoch with their last observed value.",
                d.dataset.name,
                short(max),
                short(opts.config.e_pred)
            ));
        }
    }
    notes.iter().map(|n| wrap(n, 88)).collect()
}

fn num(v: f64) -> Value {
    if v.is_finite() { json!(v) } else { Value::Null }
}

fn opt(v: Option<f64>) -> Value {
    v.map_or(Value::Null, num)
}

fn metrics_json(m: &Metrics) -> Value {
    let by_x = |v: &[(usize, Option<f64>)]| {
        Value::Object(v.iter().map(|(x, s)| (x.to_string(), opt(*s))).collect())
    };
    // A ranking by what was observed: its epoch, then both sensitivities.
    let ranking = |(key, value): (&str, Value), last: &PerX, best: &PerX| json!({key: value, "sensitivity_last": by_x(last), "sensitivity_best": by_x(best)});
    let by_baseline = |f: &dyn Fn(&super::metrics::Savings) -> Option<f64>| {
        Value::Object(
            m.savings
                .iter()
                .map(|s| (s.key.to_string(), opt(f(s))))
                .collect(),
        )
    };
    json!({
        "networks": m.networks,
        "ranked": m.ranked,
        "mean_stop_epoch": opt(m.mean_stop_epoch),
        "sensitivity": by_x(&m.sensitivity),
        "specificity": by_x(&m.specificity),
        "epochs_saved": by_baseline(&|s| s.epochs_saved),
        "throughput_gain": by_baseline(&|s| s.throughput_gain),
        "penguin_mean_epochs": by_baseline(&|s| s.penguin_mean_epochs),
        "baseline_mean_epochs": by_baseline(&|s| s.baseline_mean_epochs),
        "never_learn": m.never_learn,
        "predicted_never_learn": m.predicted_never_learn,
        "converged": m.converged,
        "reached_e_pred": m.reached_e_pred,
        "ended": m.ended,
        "anomalies": m.anomalies,
        "mae": opt(m.mae),
        "median_abs_error": opt(m.median_abs_error),
        "within_2_points": opt(m.within_2),
        "late_bloomers_lost": m.late_bloomers_lost,
        "never_learners_mean_stop_epoch": opt(m.never_learners_mean_stop),
        "regret": by_x(&m.regret),
        "truncation": m.truncation.as_ref().map_or(Value::Null, |t| {
            let mut v = ranking(("epoch", json!(t.epoch)), &t.sensitivity_last, &t.sensitivity_best);
            v["regret_epochs"] = json!(t.regret_epochs);
            v["regret"] = by_x(&t.regret);
            v
        }),
        "successive_halving": Value::Object(
            m.halving
                .iter()
                .zip(&m.regret)
                .map(|(h, (x, _))| {
                    (
                        x.to_string(),
                        h.as_ref().map_or(Value::Null, |h| {
                            json!({"r0": h.r0, "eta": h.eta, "mean_epochs": num(h.mean_epochs), "regret": num(h.regret)})
                        }),
                    )
                })
                .collect(),
        ),
        "skill": by_x(&m.skill),
        "one_observation_short": m.one_short.as_ref().map_or(Value::Null, |t| {
            let mut v = ranking(("mean_epoch", opt(t.mean_epoch)), &t.sensitivity_last, &t.sensitivity_best);
            v["regret"] = by_x(&t.regret);
            v
        }),
        "interval_coverage": match m.interval_coverage {
            Some((n, share)) => json!({"networks": n, "share": share}),
            None => Value::Null,
        },
    })
}

/// The report as JSON: `{"config": {...}, "replay": {...}, "datasets": {"<name>":
/// {"full": M, "learning": M, ...}}}` (docs/replay.md lists the fields).
pub fn to_json(report: &Report) -> Value {
    let opts = &report.options;
    let config: Map<String, Value> = opts
        .config
        .pairs()
        .into_iter()
        .map(|(k, v)| (k.to_string(), Value::String(v)))
        .collect();
    let baselines: Map<String, Value> = opts
        .baselines
        .iter()
        .map(|b| {
            (
                b.key.to_string(),
                json!({"name": b.name, "epochs": b.epochs, "rule": b.rule()}),
            )
        })
        .collect();
    let mut datasets = Map::new();
    for d in &report.datasets {
        let per_network: Vec<Value> = d
            .dataset
            .networks
            .iter()
            .enumerate()
            .map(|(i, n)| {
                let o = &d.outcomes[i];
                let mut by_baseline = Map::new();
                for run in &d.baselines {
                    by_baseline.insert(
                        run.baseline.key.to_string(),
                        if run.available {
                            json!({
                                "baseline_epochs": num(run.baseline_epochs[i]),
                                "penguin_epochs": num(run.penguin[i].stop_epoch),
                            })
                        } else {
                            Value::Null
                        },
                    );
                }
                json!({
                    "id": n.id,
                    "stop": o.stop.as_str(),
                    "stop_epoch": num(o.stop_epoch),
                    "prediction": num(o.output),
                    "prediction_lo": num(o.interval[0]),
                    "prediction_hi": num(o.interval[1]),
                    "observed": num(d.ground_truth[i]),
                    "learning": d.learning.as_ref().map(|l| l[i]),
                    "observations": o.observations,
                    "fits": o.fits,
                    "params": o.params.iter().map(|p| num(*p)).collect::<Vec<_>>(),
                    "baselines": by_baseline,
                })
            })
            .collect();
        let runs: Map<String, Value> = d
            .baselines
            .iter()
            .map(|r| {
                (
                    r.baseline.key.to_string(),
                    json!({"available": r.available, "loss_rule": r.loss_rule, "refused": r.refused}),
                )
            })
            .collect();
        datasets.insert(
            d.dataset.name.clone(),
            json!({
                "full": metrics_json(&d.full),
                "learning": d.learning_metrics.as_ref().map(metrics_json),
                "chance": d.chance,
                "max_epoch": num(d.dataset.max_epoch()),
                "skipped_rows": d.dataset.skipped_nonfinite,
                "skipped_epoch_rows": d.dataset.skipped_epoch,
                "empty_networks": d.dataset.empty_networks,
                "baselines": runs,
                "per_network": per_network,
            }),
        );
    }
    json!({
        "config": config,
        "replay": {
            "sources": report.sources,
            "bundled": report.bundled,
            "metric": report.metric,
            "e_pred": opts.config.e_pred,
            "top": opts.top,
            "learn_margin": opts.learn_margin,
            "ground_truth": "observed fitness at the last observation at or before e_pred",
            "baselines": baselines,
        },
        "datasets": datasets,
    })
}
