//! SVG figures of a replay, like the paper's:
//! - Fig. 4: one network's curve, the fitted model at its stop and the stop epoch
//!   (`fig4_<dataset>_<id>.svg`);
//! - Fig. 5: predicted against observed fitness at `e_pred` for all networks,
//!   coloured by true/false positives/negatives of the predicted top x
//!   (`fig5_<dataset>_top<x>.svg`, for each x smaller than the number of networks);
//! - Fig. 6: histogram of the % of a baseline's epochs saved per network
//!   (`fig6_<dataset>_<baseline>.svg`, for each baseline the data reach).

use super::metrics::{pick_key, rank};
use super::{DatasetReport, Report, Stop};
use penguin::config::Config;
use penguin::error::{Error, ErrorCode, Result};
use plotters::prelude::*;
use std::path::{Path, PathBuf};

type DrawResult = std::result::Result<(), Box<dyn std::error::Error>>;

const SIZE: (u32, u32) = (860, 540);
const FONT: &str = "sans-serif";

fn io_error(path: &Path, e: impl std::fmt::Display) -> Error {
    Error::new(
        ErrorCode::Io,
        format!("cannot write {}: {e}", path.display()),
    )
}

/// A name safe in a file name.
pub fn file_part(s: &str) -> String {
    let t: String = s
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if t.is_empty() { "_".into() } else { t }
}

/// Range of finite values with a margin; (0, 1) when there are none.
fn padded_range(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let (lo, hi) = values
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), v| {
            (l.min(v), h.max(v))
        });
    if !lo.is_finite() {
        return (0.0, 1.0);
    }
    let pad = ((hi - lo) * 0.05).max(0.5);
    (lo - pad, hi + pad)
}

/// Networks worth drawing in Fig. 4 when none is asked for: a converged network
/// with the median stop epoch, the best one as the report's top X is picked, a
/// predicted never-learner
/// and an anomaly (when there are such), without repeats.
pub fn typical(d: &DatasetReport, options_margin: f64, config: &Config) -> Vec<usize> {
    let direction = config.direction;
    let n = d.outcomes.len();
    let all: Vec<usize> = (0..n).collect();
    let mut picks = Vec::new();
    let learns = |i: usize| d.learning.as_ref().is_none_or(|l| l[i]);
    let mut converged: Vec<usize> = all
        .iter()
        .copied()
        .filter(|&i| d.outcomes[i].stop == Stop::Converged && learns(i))
        .collect();
    converged.sort_by(|&a, &b| {
        d.outcomes[a]
            .stop_epoch
            .total_cmp(&d.outcomes[b].stop_epoch)
            .then(a.cmp(&b))
    });
    if !converged.is_empty() {
        picks.push(converged[converged.len() / 2]);
    }
    // the best as the report picks its top (under select_halving, a network
    // trained to e_pred before any other)
    if let Some(&best) = rank(&all, pick_key(&d.outcomes, config), direction).first() {
        picks.push(best);
    }
    if d.learning.is_some() {
        let level = d.chance + options_margin;
        let never = |i: &usize| d.outcomes[*i].output <= level;
        if let Some(i) = all.iter().copied().find(|i| never(i) && !learns(*i)) {
            picks.push(i);
        }
        if let Some(i) = all.iter().copied().find(|i| never(i) && learns(*i)) {
            picks.push(i);
        }
    }
    let mut seen = Vec::new();
    picks.retain(|i| {
        let new = !seen.contains(i);
        seen.push(*i);
        new
    });
    picks
}

fn fig4(path: &Path, d: &DatasetReport, i: usize, config: &Config, metric: &str) -> DrawResult {
    let net = &d.dataset.networks[i];
    let o = &d.outcomes[i];
    let e_pred = config.e_pred;
    let x_max = net.last_epoch().max(e_pred) * 1.03;
    let x_min = 0.0;
    // The fitted model, where it is finite.
    let mut model: Vec<(f64, f64)> = Vec::new();
    if !o.params.is_empty() {
        let first = net.points[0].epoch;
        let steps = 300;
        let epochs: Vec<f64> = (0..=steps)
            .map(|k| first + (x_max - first) * k as f64 / steps as f64)
            .collect();
        let xs: Vec<f64> = epochs.iter().map(|e| config.x_of(*e)).collect();
        let mut ys = vec![f64::NAN; xs.len()];
        if config.function.eval(&xs, &o.params, &mut ys) {
            model = epochs
                .into_iter()
                .zip(ys)
                .filter(|(_, y)| y.is_finite())
                .collect();
        }
    }
    let (lo, hi) = padded_range(
        net.points
            .iter()
            .map(|p| p.value)
            .chain([o.output, d.ground_truth[i]]),
    );
    // Keep the model inside the picture (an extrapolation can run far off).
    let model: Vec<(f64, f64)> = model
        .into_iter()
        .map(|(x, y)| (x, y.clamp(lo, hi)))
        .collect();
    let root = SVGBackend::new(path, SIZE).into_drawing_area();
    root.fill(&WHITE)?;
    let title = format!(
        "{} {}: {} at epoch {}, answer {:.2} for epoch {} (observed {:.2})",
        d.dataset.name,
        net.id,
        match o.stop {
            Stop::Converged => "converged",
            Stop::ReachedEPred => "reached e_pred",
            Stop::Ended => "curve ended",
        },
        super::report::short(o.stop_epoch),
        o.output,
        super::report::short(e_pred),
        d.ground_truth[i],
    );
    let mut chart = ChartBuilder::on(&root)
        .caption(title, (FONT, 17))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(55)
        .build_cartesian_2d(x_min..x_max, lo..hi)?;
    chart
        .configure_mesh()
        .x_desc("epoch")
        .y_desc(metric)
        .light_line_style(WHITE)
        .draw()?;
    let seen = BLUE;
    let unseen = BLACK.mix(0.35);
    chart
        .draw_series(
            net.points
                .iter()
                .filter(|p| p.epoch <= o.stop_epoch)
                .map(|p| Circle::new((p.epoch, p.value), 3, seen.filled())),
        )?
        .label("observed, given to Penguin")
        .legend(move |(x, y)| Circle::new((x, y), 3, seen.filled()));
    chart
        .draw_series(
            net.points
                .iter()
                .filter(|p| p.epoch > o.stop_epoch)
                .map(|p| Circle::new((p.epoch, p.value), 3, unseen)),
        )?
        .label("observed after the stop")
        .legend(move |(x, y)| Circle::new((x, y), 3, unseen));
    if !model.is_empty() {
        chart
            .draw_series(LineSeries::new(model, RED.stroke_width(2)))?
            .label(format!("{} fitted at the stop", config.function.name()))
            .legend(|(x, y)| PathElement::new(vec![(x - 8, y), (x + 8, y)], RED.stroke_width(2)));
    }
    let green = RGBColor(0, 150, 0);
    chart
        .draw_series(DashedLineSeries::new(
            vec![(o.stop_epoch, lo), (o.stop_epoch, hi)],
            6,
            4,
            green.stroke_width(2),
        ))?
        .label("stop epoch")
        .legend(move |(x, y)| {
            PathElement::new(vec![(x - 8, y), (x + 8, y)], green.stroke_width(2))
        });
    chart.draw_series(DashedLineSeries::new(
        vec![(e_pred, lo), (e_pred, hi)],
        2,
        4,
        BLACK.mix(0.5).stroke_width(1),
    ))?;
    chart
        .draw_series(std::iter::once(Cross::new(
            (e_pred, o.output),
            7,
            RED.stroke_width(3),
        )))?
        .label("Penguin's answer for e_pred")
        .legend(|(x, y)| Cross::new((x, y), 5, RED.stroke_width(3)));
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::LowerRight)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK.mix(0.4))
        .draw()?;
    root.present()?;
    Ok(())
}

fn fig5(path: &Path, d: &DatasetReport, x: usize, config: &Config, metric: &str) -> DrawResult {
    let (direction, e_pred) = (config.direction, config.e_pred);
    let ranked: Vec<usize> = (0..d.outcomes.len())
        .filter(|&i| d.ground_truth[i].is_finite())
        .collect();
    let pick = pick_key(&d.outcomes, config);
    let predicted = &rank(&ranked, &pick, direction)[..x];
    let actual = &rank(&ranked, |i| d.ground_truth[i], direction)[..x];
    let (lo, hi) = padded_range(
        ranked
            .iter()
            .flat_map(|&i| [d.outcomes[i].output, d.ground_truth[i]]),
    );
    let tp = predicted.iter().filter(|i| actual.contains(i)).count();
    let n = ranked.len();
    let title = format!(
        "{}: Penguin's answer vs observed {metric} at epoch {}, top {x}: sensitivity {:.2}, specificity {:.2}",
        d.dataset.name,
        super::report::short(e_pred),
        tp as f64 / x as f64,
        (n - (2 * x - tp)) as f64 / (n - x) as f64
    );
    let root = SVGBackend::new(path, SIZE).into_drawing_area();
    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(title, (FONT, 16))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(55)
        .build_cartesian_2d(lo..hi, lo..hi)?;
    chart
        .configure_mesh()
        .x_desc(format!("observed {metric} at e_pred"))
        .y_desc("Penguin's answer")
        .light_line_style(WHITE)
        .draw()?;
    chart.draw_series(LineSeries::new(vec![(lo, lo), (hi, hi)], BLACK.mix(0.3)))?;
    let classes: [(&str, RGBColor, bool, bool); 4] = [
        ("true positive", RGBColor(0, 150, 0), true, true),
        ("false positive", RGBColor(230, 140, 0), true, false),
        ("false negative", RGBColor(210, 0, 0), false, true),
        ("true negative", RGBColor(120, 120, 120), false, false),
    ];
    for (label, color, in_p, in_t) in classes {
        let members: Vec<usize> = ranked
            .iter()
            .copied()
            .filter(|i| predicted.contains(i) == in_p && actual.contains(i) == in_t)
            .collect();
        let count = members.len();
        chart
            .draw_series(members.into_iter().map(|i| {
                Circle::new(
                    (d.ground_truth[i], d.outcomes[i].output),
                    4,
                    color.mix(0.8).filled(),
                )
            }))?
            .label(format!("{label} ({count})"))
            .legend(move |(x, y)| Circle::new((x, y), 4, color.filled()));
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK.mix(0.4))
        .draw()?;
    root.present()?;
    Ok(())
}

fn fig6(path: &Path, d: &DatasetReport, k: usize) -> DrawResult {
    let run = &d.baselines[k];
    let saved: Vec<f64> = run
        .penguin
        .iter()
        .zip(&run.baseline_epochs)
        .filter(|(_, b)| **b > 0.0)
        .map(|(p, b)| 100.0 * (1.0 - p.stop_epoch / b))
        .collect();
    let width = 10.0;
    let first = (saved.iter().copied().fold(0.0, f64::min) / width).floor() * width;
    let bins = ((100.0 - first) / width).round().max(1.0) as usize;
    let mut counts = vec![0usize; bins];
    for s in &saved {
        let b = (((s - first) / width).floor().max(0.0) as usize).min(bins - 1);
        counts[b] += 1;
    }
    let top = (counts.iter().copied().max().unwrap_or(0) as f64 * 1.1).ceil() as u32 + 1;
    let (p, b): (f64, f64) = run
        .penguin
        .iter()
        .zip(&run.baseline_epochs)
        .fold((0.0, 0.0), |(p, b), (o, e)| (p + o.stop_epoch, b + e));
    let title = format!(
        "{}: % of {}'s epochs saved per network ({} networks; {:.1} % of all epochs)",
        d.dataset.name,
        run.baseline.name,
        saved.len(),
        100.0 * (1.0 - p / b)
    );
    let root = SVGBackend::new(path, SIZE).into_drawing_area();
    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(title, (FONT, 16))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(50)
        .build_cartesian_2d(first..100.0, 0u32..top)?;
    chart
        .configure_mesh()
        .x_desc("% of epochs saved")
        .y_desc("networks")
        .x_label_formatter(&|v| format!("{v:.0}"))
        .light_line_style(WHITE)
        .draw()?;
    chart.draw_series(counts.iter().enumerate().map(|(b, &c)| {
        let x0 = first + b as f64 * width;
        Rectangle::new(
            [(x0 + 0.4, 0), (x0 + width - 0.4, c as u32)],
            BLUE.mix(0.6).filled(),
        )
    }))?;
    root.present()?;
    Ok(())
}

/// Writes the figures into `dir` (created if needed) and returns their paths.
/// `show` names networks for Fig. 4 (by id, in any data set); when it is empty,
/// a few typical networks of each data set are drawn.
pub fn write(report: &Report, dir: &Path, show: &[String]) -> Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir).map_err(|e| io_error(dir, e))?;
    let opts = &report.options;
    let mut written = Vec::new();
    for wanted in show {
        let found = report
            .datasets
            .iter()
            .any(|d| d.dataset.networks.iter().any(|n| &n.id == wanted));
        if !found {
            return Err(Error::new(
                ErrorCode::InvalidArgument,
                format!("--show {wanted}: no network with this id in the curves"),
            ));
        }
    }
    for d in &report.datasets {
        let name = file_part(&d.dataset.name);
        let picks: Vec<usize> = if show.is_empty() {
            typical(d, opts.learn_margin, &opts.config)
        } else {
            (0..d.dataset.networks.len())
                .filter(|&i| show.contains(&d.dataset.networks[i].id))
                .collect()
        };
        for i in picks {
            let path = dir.join(format!(
                "fig4_{name}_{}.svg",
                file_part(&d.dataset.networks[i].id)
            ));
            fig4(&path, d, i, &opts.config, &report.metric).map_err(|e| io_error(&path, e))?;
            written.push(path);
        }
        let ranked = d.ground_truth.iter().filter(|g| g.is_finite()).count();
        for &x in &opts.top {
            if x == 0 || x >= ranked {
                continue;
            }
            let path = dir.join(format!("fig5_{name}_top{x}.svg"));
            fig5(&path, d, x, &opts.config, &report.metric).map_err(|e| io_error(&path, e))?;
            written.push(path);
        }
        for (k, run) in d.baselines.iter().enumerate() {
            if !run.available || run.penguin.is_empty() {
                continue;
            }
            let path = dir.join(format!("fig6_{name}_{}.svg", run.baseline.key));
            fig6(&path, d, k).map_err(|e| io_error(&path, e))?;
            written.push(path);
        }
    }
    Ok(written)
}
