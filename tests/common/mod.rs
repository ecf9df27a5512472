//! Helpers shared by the tests that build and run foreign programs
//! (tests/c_api.rs, tests/consumers.rs, tests/mpi_nas.rs) or the `penguin`
//! program (tests/bench.rs, tests/budget.rs, tests/intervals.rs,
//! tests/late_bloomers.rs), the
//! bundled Fashion-MNIST curves, and skip_outside_ci for the tests that need
//! tools .ci/run installs. Each test crate uses only some of them.
#![allow(dead_code)]

use std::path::PathBuf;

/// Where cargo put libpenguin.so / libpenguin.a for this test run.
pub fn library_dir() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let deps = exe.parent().unwrap();
    for d in [deps, deps.parent().unwrap()] {
        if d.join("libpenguin.so").exists() && d.join("libpenguin.a").exists() {
            return d.to_path_buf();
        }
    }
    panic!("libpenguin.so/.a not found next to {}", exe.display());
}

/// Whether an executable named `tool` is on the PATH.
pub fn on_path(tool: &str) -> bool {
    std::env::var_os("PATH").is_some_and(|paths| {
        std::env::split_paths(&paths).any(|dir| {
            let p = dir.join(tool);
            p.is_file()
                && std::fs::metadata(&p)
                    .map(|m| {
                        use std::os::unix::fs::PermissionsExt;
                        m.permissions().mode() & 0o111 != 0
                    })
                    .unwrap_or(false)
        })
    })
}

/// Runs the `penguin` program with `args`; returns its standard output, and
/// fails the test with its standard error unless it succeeds.
pub fn penguin(args: &[&str]) -> String {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_penguin"))
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "penguin {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// `penguin replay --no-progress ARGS --json FILE`: the JSON report.
pub fn replay_json(args: &[&str]) -> serde_json::Value {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "penguin-test-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let json = dir.join("report.json");
    let mut all = vec!["replay", "--no-progress"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--json", json.to_str().unwrap()]);
    penguin(&all);
    let report = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    report
}

/// A test that cannot run here (tools missing): fails when CI=true (where
/// .ci/run installs what the tests need), else prints why it is skipped; the
/// caller then returns.
pub fn skip_outside_ci(why: &str) {
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("CI=true: {why}");
    }
    eprintln!("SKIPPED: {why}");
}

/// The bundled Fashion-MNIST CNN curves: (id, [(epoch, val_acc)]), in file
/// order.
pub fn fmnist_curves() -> Vec<(String, Vec<(f64, f64)>)> {
    parse_curves(include_str!("../data/fmnist_random_cnn.csv"))
}

/// The curves of a bundled file (`tests/data/<file>`), as [`fmnist_curves`].
pub fn bundled_curves(file: &str) -> Vec<(String, Vec<(f64, f64)>)> {
    let path = format!("{}/tests/data/{file}", env!("CARGO_MANIFEST_DIR"));
    parse_curves(&std::fs::read_to_string(path).unwrap())
}

/// Curves of a CSV with `model_id`, `epoch` and `val_acc` columns, rows of a
/// network together, in file order.
fn parse_curves(text: &str) -> Vec<(String, Vec<(f64, f64)>)> {
    let mut lines = text.lines();
    let head: Vec<&str> = lines.next().unwrap().split(',').collect();
    let col = |n: &str| head.iter().position(|h| *h == n).unwrap();
    let (id, epoch, acc) = (col("model_id"), col("epoch"), col("val_acc"));
    let mut out: Vec<(String, Vec<(f64, f64)>)> = Vec::new();
    for line in lines {
        let f: Vec<&str> = line.split(',').collect();
        let point = (f[epoch].parse().unwrap(), f[acc].parse().unwrap());
        match out.last_mut() {
            Some((last, points)) if *last == f[id] => points.push(point),
            _ => out.push((f[id].to_string(), vec![point])),
        }
    }
    out
}

/// Every status of every bundled CNN, observed one by one (each network to
/// its stop) by one engine configured with `keys`.
pub fn fmnist_statuses(keys: &[(&str, &str)]) -> Vec<Vec<penguin::Status>> {
    let mut config = penguin::Config::default();
    for (k, v) in keys {
        config.set(k, v).unwrap();
    }
    let mut engine = penguin::Engine::new(config).unwrap();
    fmnist_curves()
        .iter()
        .enumerate()
        .map(|(k, (_, points))| {
            let mut seen = Vec::new();
            for &(e, v) in points {
                let s = engine.observe(k as u64, e, v).unwrap();
                let stop = s.state != penguin::State::Continue;
                seen.push(s);
                if stop {
                    break;
                }
            }
            seen
        })
        .collect()
}

/// The report of the one data set in a bundled file (`tests/data/<file>`)
/// replayed by `penguin replay` with `options`.
pub fn replay_bundled(file: &str, options: &[&str]) -> serde_json::Value {
    let csv = format!("{}/tests/data/{file}", env!("CARGO_MANIFEST_DIR"));
    let mut r = replay_json(&[&[csv.as_str()], options].concat());
    let sets = r["datasets"].as_object_mut().unwrap();
    assert_eq!(sets.len(), 1, "{file}: one data set");
    sets.values_mut().next().unwrap().take()
}
