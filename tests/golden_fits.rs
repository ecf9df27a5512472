//! Penguin's fit against SciPy's `curve_fit` on the golden vectors
//! (`tests/data/golden_fits.csv`, a copy of the project's shared `golden/fits.csv`).

use penguin::fit::{Bounds, FitSettings};
use penguin::functions::{Model, builtin};
use penguin::predict::{WarmStart, fit_curve};
use std::collections::BTreeMap;

struct Case {
    case: usize,
    curve: String,
    function: String,
    bounded: bool,
    x: Vec<f64>,
    y: Vec<f64>,
    p0: Vec<f64>,
    sse: f64,
}

fn floats(s: &str) -> Vec<f64> {
    s.split_whitespace().map(|v| v.parse().unwrap()).collect()
}

fn cases() -> Vec<Case> {
    let text = include_str!("data/golden_fits.csv");
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).unwrap();
    let (c_src, c_model) = (col("source"), col("model_id"));
    let (c_case, c_fn, c_b, c_x, c_y, c_p0, c_sse) = (
        col("case"),
        col("function"),
        col("bounded"),
        col("x"),
        col("y"),
        col("p0"),
        col("sse"),
    );
    lines
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            Case {
                case: f[c_case].parse().unwrap(),
                curve: format!("{}/{}", f[c_src], f[c_model]),
                function: f[c_fn].to_string(),
                bounded: f[c_b] == "1",
                x: floats(f[c_x]),
                y: floats(f[c_y]),
                p0: floats(f[c_p0]),
                sse: f[c_sse].parse().unwrap_or(f64::NAN),
            }
        })
        .collect()
}

/// The authors' bounds for the bounded exp3 cases: a in [0.5, 200], b >= 1, c >= 0.
fn authors_bounds() -> Bounds {
    Bounds {
        lower: vec![0.5, 1.0, 0.0],
        upper: vec![200.0, f64::INFINITY, f64::INFINITY],
    }
}

#[test]
fn penguin_fits_at_least_as_well_as_scipy() {
    // The engine's default solver settings, cold starts (the configured p0, then
    // the function's data-driven start).
    let settings = FitSettings::default();
    let mut per_fn: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    let mut failures = Vec::new();
    for c in cases() {
        let Some(f) = builtin(&c.function) else {
            continue;
        };
        let bounds = if c.bounded {
            authors_bounds()
        } else {
            Bounds::unbounded(f.n_params())
        };
        let r = fit_curve(f, &c.x, &c.y, Some(&c.p0), &bounds, None, &settings);
        let key = format!(
            "{}{}",
            c.function,
            if c.bounded { " (bounded)" } else { "" }
        );
        let e = per_fn.entry(key).or_default();
        e.1 += 1;
        let ok = match &r {
            Some(r) => {
                r.sse.is_finite()
                    && (!c.sse.is_finite() || r.sse <= c.sse * (1.0 + 1e-6) + 1e-9)
                    && (!c.bounded || bounds.contains(&r.params))
            }
            None => !c.sse.is_finite(),
        };
        if ok {
            e.0 += 1;
        } else {
            failures.push((
                c.case,
                c.function.clone(),
                c.bounded,
                c.sse,
                r.as_ref().map(|r| r.sse),
            ));
        }
        // Never non-finite where SciPy succeeded.
        if c.sse.is_finite() {
            assert!(
                r.as_ref().is_some_and(|r| r.sse.is_finite()),
                "case {}: no finite fit",
                c.case
            );
        }
    }
    let (mut pass, mut total) = (0, 0);
    for (k, (p, t)) in &per_fn {
        println!(
            "{k:20} {p:5}/{t:5} = {:.2} %",
            100.0 * *p as f64 / *t as f64
        );
        pass += p;
        total += t;
    }
    for f in failures.iter().take(30) {
        println!("worse than SciPy: {f:?}");
    }
    let rate = pass as f64 / total as f64;
    println!("all: {pass}/{total} = {:.2} %", 100.0 * rate);
    assert!(rate >= 0.99, "pass rate {rate}");
}

/// As the engine fits: each prefix of a curve warm-started from the previous
/// prefix's fit (the cases are prefixes n = 3..40 of the same curves).
#[test]
fn warm_started_fits_are_at_least_as_good_as_scipy() {
    let settings = FitSettings::default();
    let mut all = cases();
    all.sort_by(|a, b| {
        (&a.curve, &a.function, a.bounded, a.x.len()).cmp(&(
            &b.curve,
            &b.function,
            b.bounded,
            b.x.len(),
        ))
    });
    let (mut pass, mut total) = (0, 0);
    let mut warm: Option<(String, Vec<f64>, bool)> = None;
    for c in &all {
        let Some(f) = builtin(&c.function) else {
            continue;
        };
        let bounds = if c.bounded {
            authors_bounds()
        } else {
            Bounds::unbounded(f.n_params())
        };
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
        if let Some(r) = &r
            && r.sse.is_finite()
            && r.sse <= c.sse * (1.0 + 1e-6) + 1e-9
            && (!c.bounded || bounds.contains(&r.params))
        {
            pass += 1;
        }
        if c.sse.is_finite() {
            assert!(
                r.as_ref().is_some_and(|r| r.sse.is_finite()),
                "case {}: no finite fit",
                c.case
            );
        }
        warm = r.map(|r| (series, r.params, r.converged));
    }
    let rate = pass as f64 / total as f64;
    println!("warm-started: {pass}/{total} = {:.2} %", 100.0 * rate);
    assert!(rate >= 0.99, "pass rate {rate}");
}
