//! The Python package (issue 20): `python/` installed with pip into a fresh
//! virtual environment, then its tests (`python/tests/run.py`) run with that
//! environment's Python against the Rust engine's decisions, written here.
//!
//! The environment is made with `python3 -m venv --system-site-packages`, so
//! it sees what `.ci/run` installed into the system Python (numpy, optuna,
//! setuptools, wheel, deephyper), and the package is installed with
//! `pip install --no-build-isolation --no-deps --no-index ./python`: offline,
//! building the C library with cargo (`--offline`, in
//! `target/tmp/python-cargo`, kept between runs) exactly as a user's
//! `pip install ./python` does.
//!
//! The Python tests check: the ctypes declarations against
//! `include/penguin.h`; every decision, one by one and batched, bit for bit
//! against the Rust engine's on both bundled Fashion-MNIST files under two
//! configurations (`reference.json`, below); every C error code as an
//! exception that leaves the engine unchanged, and the Python-side bad inputs;
//! Python user-defined functions; the Optuna pruner on a real study replaying
//! the bundled curves (pruned at exactly Penguin's stop epochs); the DeepHyper
//! stopper with the real DeepHyper; `python -m penguin.compare` on a small file
//! and its Penguin rows against `penguin replay`; the documented examples.
//!
//! Needs python3 (3.9+) with venv, pip, numpy, optuna, setuptools and wheel.
//! When one is missing the test is skipped with a message, except under
//! `CI=true`, where it fails (`.ci/run` installs them).

use penguin::{Config, Engine, Observation, State, Status};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::Command;

mod common;

/// The configurations the Python tests replay, as (name, keys).
const CONFIGS: [(&str, &[(&str, &str)]); 2] = [
    ("paper", &[]),
    (
        "guarded",
        &[
            ("chance_level", "10"),
            ("loss_patience", "2"),
            ("loss_min_delta", "0.001"),
            ("chance_patience", "3"),
            ("alternatives", "vap3"),
            ("combine", "mean"),
        ],
    ),
];

const FILES: [&str; 2] = ["fmnist_random_cnn.csv", "fmnist_mlp_mpi.csv"];

/// A network's (epoch, val_acc, val_loss) rows, in file order.
type Curve = Vec<(f64, f64, f64)>;

fn curves(file: &Path) -> Vec<Curve> {
    let text = std::fs::read_to_string(file).unwrap();
    let mut lines = text.lines();
    let head: Vec<&str> = lines.next().unwrap().split(',').collect();
    let col = |n: &str| head.iter().position(|h| *h == n).unwrap();
    let (id, epoch, acc, loss) = (
        col("model_id"),
        col("epoch"),
        col("val_acc"),
        col("val_loss"),
    );
    let mut names: Vec<String> = Vec::new();
    let mut out: Vec<Curve> = Vec::new();
    for line in lines {
        let f: Vec<&str> = line.split(',').collect();
        let point = (
            f[epoch].parse().unwrap(),
            f[acc].parse().unwrap(),
            f[loss].parse().unwrap_or(f64::NAN),
        );
        match names.iter().position(|n| n == f[id]) {
            Some(k) => out[k].push(point),
            None => {
                names.push(f[id].to_string());
                out.push(vec![point]);
            }
        }
    }
    out
}

fn state_code(s: &State) -> u32 {
    match s {
        State::Continue => 0,
        State::Converged => 1,
        State::ReachedEPred => 2,
    }
}

/// `k state epoch prediction lo hi observations`, floats as their bits in hex.
fn line(k: usize, s: &Status) -> String {
    format!(
        "{k} {} {:016x} {:016x} {:016x} {:016x} {}",
        state_code(&s.state),
        s.epoch.to_bits(),
        s.prediction.to_bits(),
        s.prediction_lo.to_bits(),
        s.prediction_hi.to_bits(),
        s.observations
    )
}

fn engine(keys: &[(&str, &str)]) -> Engine {
    let mut config = Config::default();
    for (k, v) in keys {
        config.set(k, v).unwrap();
    }
    Engine::new(config).unwrap()
}

/// Network after network, each observed to its stop (with its loss when
/// `loss`): every status.
fn sequential(curves: &[Curve], keys: &[(&str, &str)], loss: bool) -> Vec<String> {
    let mut e = engine(keys);
    let mut out = Vec::new();
    for (k, c) in curves.iter().enumerate() {
        for &(epoch, v, l) in c {
            let s = if loss {
                e.observe_with_loss(k as u64, epoch, v, l).unwrap()
            } else {
                e.observe(k as u64, epoch, v).unwrap()
            };
            out.push(line(k, &s));
            if s.state != State::Continue {
                break;
            }
        }
    }
    out
}

/// `penguin replay`'s order: one batch per epoch with the next observation of
/// every network still training: every entry's status.
fn batched(curves: &[Curve], keys: &[(&str, &str)], loss: bool) -> Vec<String> {
    let mut e = engine(keys);
    let mut epochs: Vec<f64> = curves.iter().flatten().map(|p| p.0).collect();
    epochs.sort_by(f64::total_cmp);
    epochs.dedup();
    let mut cursor = vec![0usize; curves.len()];
    let mut done = vec![false; curves.len()];
    let mut out = Vec::new();
    for epoch in epochs {
        let members: Vec<usize> = (0..curves.len())
            .filter(|&k| !done[k] && curves[k].get(cursor[k]).is_some_and(|p| p.0 == epoch))
            .collect();
        if members.is_empty() {
            continue;
        }
        let batch: Vec<Observation> = members
            .iter()
            .map(|&k| Observation {
                id: k as u64,
                epoch,
                value: curves[k][cursor[k]].1,
            })
            .collect();
        let losses: Vec<f64> = members.iter().map(|&k| curves[k][cursor[k]].2).collect();
        let statuses = if loss {
            e.observe_batch_with_loss(&batch, Some(&losses)).unwrap()
        } else {
            e.observe_batch(&batch).unwrap()
        };
        for (&k, s) in members.iter().zip(&statuses) {
            cursor[k] += 1;
            out.push(line(k, s));
            if s.state != State::Continue || cursor[k] == curves[k].len() {
                done[k] = true;
            }
        }
    }
    out
}

/// The Rust engine's decisions the Python package must reproduce.
fn reference(root: &Path) -> Value {
    let mut cases = Vec::new();
    for file in FILES {
        let c = curves(&root.join("tests/data").join(file));
        for (name, keys) in CONFIGS {
            // The paper's configuration through the plain calls, the other
            // through the calls with losses: all four C entry points.
            let loss = name != "paper";
            for (mode, lines) in [
                ("sequential", sequential(&c, keys, loss)),
                ("batch", batched(&c, keys, loss)),
            ] {
                cases.push(json!({
                    "file": file, "config": name, "mode": mode, "loss": loss, "lines": lines,
                }));
            }
        }
    }
    let configs: serde_json::Map<String, Value> = CONFIGS
        .iter()
        .map(|(name, keys)| {
            let keys: serde_json::Map<String, Value> = keys
                .iter()
                .map(|(k, v)| (k.to_string(), Value::String(v.to_string())))
                .collect();
            (name.to_string(), Value::Object(keys))
        })
        .collect();
    json!({"configs": configs, "cases": cases})
}

/// Runs a command; returns (success, stdout + stderr).
fn run(cmd: &mut Command) -> (bool, String) {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

/// What the test needs of the system Python, or why it cannot run.
fn python_ready(python: &str) -> Result<(), String> {
    if !common::on_path(python) {
        return Err(format!("{python} not found"));
    }
    let check = "import sys\n\
        assert sys.version_info >= (3, 9), 'Python 3.9+ needed, this is ' + sys.version\n\
        import setuptools, venv, ensurepip, pip, numpy, optuna\n\
        try:\n    import setuptools.command.bdist_wheel\n\
        except ImportError:\n    import wheel.bdist_wheel\n";
    let (ok, text) = run(Command::new(python).args(["-c", check]));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{python} lacks what the Python tests need (venv, pip, numpy, optuna, \
             setuptools, wheel; `python3 -m pip install numpy optuna setuptools wheel`):\n{text}"
        ))
    }
}

#[test]
fn python_package() {
    let python = std::env::var("PENGUIN_PYTHON").unwrap_or_else(|_| "python3".into());
    if let Err(why) = python_ready(&python) {
        common::skip_outside_ci(&why);
        return;
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let tmp = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    let work = tmp.join("python");
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work).unwrap();

    // A fresh virtual environment.
    let venv = work.join("venv");
    let (ok, text) = run(Command::new(&python)
        .args(["-m", "venv", "--system-site-packages"])
        .arg(&venv));
    assert!(ok, "python3 -m venv failed:\n{text}");
    let vpython = venv.join("bin/python");

    // pip install ./python, offline.
    let started = std::time::Instant::now();
    let (ok, text) = run(Command::new(&vpython)
        .args([
            "-m",
            "pip",
            "install",
            "--no-build-isolation",
            "--no-deps",
            "--no-index",
            "--disable-pip-version-check",
        ])
        .arg(root.join("python"))
        .env("PENGUIN_CARGO_TARGET_DIR", tmp.join("python-cargo"))
        .env("PENGUIN_CARGO_OFFLINE", "1")
        // The outer cargo's jobserver is not for the inner one.
        .env_remove("MAKEFLAGS")
        .env_remove("MFLAGS")
        .env_remove("CARGO_MAKEFLAGS")
        .env_remove("CARGO_TARGET_DIR"));
    assert!(ok, "pip install ./python failed:\n{text}");
    println!(
        "pip install ./python: {:.1} s",
        started.elapsed().as_secs_f64()
    );

    let reference_path = work.join("reference.json");
    std::fs::write(&reference_path, reference(root).to_string()).unwrap();

    let started = std::time::Instant::now();
    let (ok, text) = run(Command::new(&vpython)
        .arg(root.join("python/tests/run.py"))
        .current_dir(&work)
        .env("PENGUIN_REPO", root)
        .env("PENGUIN_REFERENCE", &reference_path)
        .env("PENGUIN_BIN", env!("CARGO_BIN_EXE_penguin"))
        .env("PENGUIN_TEST_TMP", &work)
        // target/debug's libpenguin must not stand in for the package's.
        .env_remove("LD_LIBRARY_PATH"));
    println!("{text}");
    println!(
        "python/tests/run.py: {:.1} s",
        started.elapsed().as_secs_f64()
    );
    assert!(ok, "the Python tests failed:\n{text}");
}
