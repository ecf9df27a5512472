//! `cargo bench`: micro-benchmarks of one fit and one observation, printed as
//! nanoseconds per operation (no pass/fail: timings belong here, not in tests).

use penguin::fit::{Bounds, FitSettings};
use penguin::functions::builtin;
use penguin::predict::fit_curve;
use penguin::{Config, Engine};
use std::hint::black_box;
use std::time::Instant;

fn time<F: FnMut()>(name: &str, iterations: usize, mut f: F) {
    f(); // warm up
    let start = Instant::now();
    for _ in 0..iterations {
        f();
    }
    let ns = start.elapsed().as_nanos() as f64 / iterations as f64;
    println!("{name:60} {ns:12.0} ns/op ({iterations} runs)");
}

fn main() {
    let exp3 = builtin("exp3").unwrap();
    // A real, well-behaved prefix (a CIFAR-100 network, 12 half-epochs).
    let y = [
        9.68, 14.91, 17.29, 19.5, 20.97, 22.67, 23.36, 24.2, 24.1, 24.87, 25.3, 25.12,
    ];
    let x: Vec<f64> = (1..=y.len()).map(|i| i as f64).collect();
    let free = Bounds::unbounded(3);
    let settings = FitSettings::default();
    time(
        "fit exp3, 12 points, cold (data-driven start)",
        2000,
        || {
            black_box(fit_curve(exp3, &x, &y, None, &free, None, &settings));
        },
    );
    let warm = fit_curve(exp3, &x, &y, None, &free, None, &settings).unwrap();
    time(
        "fit exp3, 12 points, warm start at the optimum (+ cold)",
        2000,
        || {
            let w = penguin::predict::WarmStart {
                params: &warm.params,
                converged: true,
            };
            black_box(fit_curve(exp3, &x, &y, None, &free, Some(w), &settings));
        },
    );
    // Observations that trigger no fit: the bookkeeping alone.
    let mut config = Config::default();
    config.set("min_points", "1000000").unwrap();
    let mut engine = Engine::new(config).unwrap();
    let mut id = 0u64;
    let mut k = 0u32;
    time(
        "observe without a fit (engine bookkeeping)",
        1_000_000,
        || {
            k += 1;
            if k > 40 {
                k = 1;
                id += 1;
            }
            black_box(engine.observe(id, 0.5 * k as f64, 50.0).unwrap());
        },
    );
    // Observations with the paper's settings on a saturating curve.
    let mut engine = Engine::new(Config::default()).unwrap();
    let mut id = 0u64;
    let mut k = 0u32;
    time(
        "observe with the paper's settings (fits from the 3rd point)",
        20_000,
        || {
            k += 1;
            let s = engine
                .observe(id, 0.5 * k as f64, 90.0 - 80.0 * 0.8f64.powi(k as i32))
                .unwrap();
            if s.state != penguin::State::Continue {
                k = 0;
                id += 1;
            }
            black_box(s);
        },
    );
}
