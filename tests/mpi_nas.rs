//! Issue 10: the MPI NAS (`examples/nas`, the program `penguin-nas`) built with
//! CMake against this build's libpenguin and run under
//! `mpirun --oversubscribe --allow-run-as-root -np 3` (Penguin on rank 0, two
//! trainers) on a small search: few networks, few epochs, a data subset.
//!
//! Checks:
//! - the trainer's own tests pass (`nas-selftest`: gradient check in float and
//!   in double, the SGD update, the search space, deterministic training,
//!   accuracy well above chance on an easy configuration);
//! - the decisions the MPI run got from `penguin_observe_batch` (its
//!   `--results` file) are exactly those of `penguin replay` on the curves the
//!   run recorded (`--curves`), with the same configuration keys: decision,
//!   stop epoch and prediction, bit for bit, for every network; and each curve
//!   ends at its decision (a trainer stops as soon as it hears "stop");
//! - the same search with `--no-penguin` trains the same networks to the same
//!   curves (bit for bit, whichever rank trained them) up to `e_pred`;
//! - the last line on stdout is the JSON object of the contract;
//! - `--arch cnn --recipe adamw-cosine` trains convolutional networks to
//!   complete curves under the data set FMNIST-CNN-ADAMW-COS.
//!
//! Needs mpirun and mpicc (Debian: openmpi-bin libopenmpi-dev), cmake, make, cc,
//! zlib (zlib1g-dev) and the data (dataset-fashion-mnist). When one is missing
//! the test is skipped with a message, except under `CI=true`, where it fails.

use serde_json::Value;
use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

mod common;
use common::{library_dir, on_path};

const TOOLS: [&str; 5] = ["mpirun", "mpicc", "cmake", "make", "cc"];
const DATA_DIR: &str = "/usr/share/datasets/fashion-mnist";
const DATA_FILES: [&str; 4] = [
    "train-images-idx3-ubyte.gz",
    "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
];
const ZLIB_HEADERS: [&str; 2] = ["/usr/include/zlib.h", "/usr/local/include/zlib.h"];

/// The small search: 8 networks, e_pred 5 (10 observations each), 2,000
/// training and 1,000 validation images. `--t 1` (not the default 0.5) shows
/// that Penguin keys reach the engine: replay gets the same key.
const NETWORKS: usize = 8;
const E_PRED: f64 = 5.0;
const SEARCH: [&str; 10] = [
    "--networks",
    "8",
    "--epochs",
    "5",
    "--seed",
    "11",
    "--train-subset",
    "2000",
    "--val-size",
    "1000",
];
const PENGUIN_KEYS: [&str; 3] = ["--t", "1", "--fit-patience=200"];

/// Longest a command may run before the test gives up on it (a deadlock).
const TIMEOUT: Duration = Duration::from_secs(300);

fn missing_requirements() -> Vec<String> {
    let mut missing: Vec<String> = TOOLS
        .iter()
        .filter(|t| !on_path(t))
        .map(|t| t.to_string())
        .collect();
    for f in DATA_FILES {
        let p = Path::new(DATA_DIR).join(f);
        if !p.exists() {
            missing.push(p.display().to_string());
        }
    }
    if !ZLIB_HEADERS.iter().any(|h| Path::new(h).exists()) {
        missing.push("zlib.h".into());
    }
    missing
}

/// A Penguin "installation" of this build: the source's include/ and this
/// test run's libraries in lib/, for `-DPenguin_ROOT` (cmake/FindPenguin.cmake).
fn penguin_tree(work: &Path) -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let tree = work.join("penguin-tree");
    let lib = tree.join("lib");
    std::fs::create_dir_all(&lib).unwrap();
    let include = tree.join("include");
    if !include.exists() {
        std::os::unix::fs::symlink(root.join("include"), &include).unwrap();
    }
    let src = library_dir();
    for name in ["libpenguin.so", "libpenguin.a"] {
        let from = src.join(name);
        let to = lib.join(name);
        // Copy only when changed, so that the example relinks only then.
        let same = std::fs::read(&from).ok() == std::fs::read(&to).ok();
        if !same {
            let _ = std::fs::remove_file(&to);
            std::fs::copy(&from, &to).unwrap();
        }
    }
    tree
}

/// Runs a command to its end (or kills it after TIMEOUT) and returns stdout;
/// fails the test, showing both streams, when it does not succeed.
fn run(what: &str, cmd: &mut Command) -> String {
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    // The outer cargo's jobserver is not for the inner make; cargo's
    // LD_LIBRARY_PATH would shadow the RUNPATH of the programs built here.
    for var in ["MAKEFLAGS", "MFLAGS", "CARGO_MAKEFLAGS", "LD_LIBRARY_PATH"] {
        cmd.env_remove(var);
    }
    let mut child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("{what}: cannot start {cmd:?}: {e}"));
    let mut out_pipe = child.stdout.take().unwrap();
    let mut err_pipe = child.stderr.take().unwrap();
    let out_reader = std::thread::spawn(move || {
        let mut s = String::new();
        out_pipe.read_to_string(&mut s).unwrap();
        s
    });
    let err_reader = std::thread::spawn(move || {
        let mut s = String::new();
        err_pipe.read_to_string(&mut s).unwrap();
        s
    });
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break Some(status);
        }
        if start.elapsed() > TIMEOUT {
            // SIGTERM first: mpirun passes it on to its ranks.
            unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGTERM) };
            std::thread::sleep(Duration::from_secs(5));
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let stdout = out_reader.join().unwrap();
    let stderr = err_reader.join().unwrap();
    match status {
        Some(s) if s.success() => stdout,
        Some(s) => {
            panic!("{what} failed ({s}): {cmd:?}\n--- stdout\n{stdout}\n--- stderr\n{stderr}")
        }
        None => panic!(
            "{what} did not finish in {} s: {cmd:?}\n--- stdout\n{stdout}\n--- stderr\n{stderr}",
            TIMEOUT.as_secs()
        ),
    }
}

/// A CSV file as rows of (column -> value).
fn read_csv(path: &Path) -> Vec<BTreeMap<String, String>> {
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().expect("a header").split(',').collect();
    lines
        .map(|l| {
            let fields: Vec<&str> = l.split(',').collect();
            assert_eq!(fields.len(), header.len(), "{}: {l}", path.display());
            header
                .iter()
                .zip(fields)
                .map(|(h, f)| (h.to_string(), f.to_string()))
                .collect()
        })
        .collect()
}

fn num(s: &str) -> f64 {
    s.parse().unwrap_or_else(|_| panic!("not a number: '{s}'"))
}

/// The contract's last stdout line.
fn summary(stdout: &str) -> Value {
    let last = stdout.trim_end().lines().last().expect("stdout is empty");
    let v: Value = serde_json::from_str(last)
        .unwrap_or_else(|e| panic!("last stdout line is not JSON ({e}): {last}"));
    let keys: Vec<&str> = v.as_object().unwrap().keys().map(|k| k.as_str()).collect();
    assert_eq!(
        keys,
        [
            "networks",
            "epochs_trained",
            "walltime_s",
            "best_id",
            "best_observed"
        ],
        "{last}"
    );
    assert!(v["networks"].is_u64(), "{last}");
    assert!(v["epochs_trained"].is_f64() || v["epochs_trained"].is_u64());
    assert!(v["walltime_s"].as_f64().unwrap() > 0.0, "{last}");
    assert!(v["best_id"].is_string(), "{last}");
    assert!(v["best_observed"].as_f64().unwrap().is_finite(), "{last}");
    v
}

/// One search under mpirun; returns stdout, the curves and the results files.
fn search(exe: &Path, work: &Path, label: &str, extra: &[&str]) -> (String, PathBuf, PathBuf) {
    let curves = work.join(format!("{label}-curves.csv"));
    let results = work.join(format!("{label}-results.csv"));
    let mut cmd = Command::new("mpirun");
    cmd.args(["--oversubscribe", "--allow-run-as-root", "-np", "3"])
        .arg(exe)
        .args(SEARCH)
        .arg("--curves")
        .arg(&curves)
        .arg("--results")
        .arg(&results)
        .args(extra)
        .args(PENGUIN_KEYS);
    let stdout = run(&format!("mpirun penguin-nas ({label})"), &mut cmd);
    print!("{label}:\n{stdout}");
    (stdout, curves, results)
}

#[test]
fn mpi_nas_decisions_equal_a_replay_of_its_curves() {
    let missing = missing_requirements();
    if !missing.is_empty() {
        let msg = format!(
            "the MPI NAS test needs {}, zlib.h and the Fashion-MNIST files in {DATA_DIR} \
             (missing: {}); on Debian/Ubuntu: apt-get install openmpi-bin libopenmpi-dev \
             zlib1g-dev dataset-fashion-mnist cmake make gcc",
            TOOLS.join(", "),
            missing.join(", ")
        );
        common::skip_outside_ci(&msg);
        return;
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let work = Path::new(env!("CARGO_TARGET_TMPDIR")).join("mpi-nas");
    std::fs::create_dir_all(&work).unwrap();
    let tree = penguin_tree(&work);

    // Build examples/nas with CMake against this build's library.
    let build = work.join("build");
    run(
        "cmake configure",
        Command::new("cmake")
            .arg("-S")
            .arg(root.join("examples/nas"))
            .arg("-B")
            .arg(&build)
            .arg(format!("-DPenguin_ROOT={}", tree.display()))
            .arg("-DCMAKE_BUILD_TYPE=Release"),
    );
    run(
        "cmake build",
        Command::new("cmake")
            .arg("--build")
            .arg(&build)
            .args(["-j", "2"]),
    );

    // The trainer's own tests.
    for test in ["nas-selftest", "nas-selftest-double"] {
        let out = run(test, &mut Command::new(build.join(test)));
        print!("{out}");
        assert!(
            out.trim_end().ends_with("passed, 0 failed"),
            "{test}:\n{out}"
        );
    }

    // The search with Penguin, then its curves replayed in one process.
    let exe = build.join("penguin-nas");
    let (stdout, curves, results) = search(&exe, &work, "penguin", &[]);
    let json = summary(&stdout);
    assert_eq!(json["networks"].as_u64(), Some(NETWORKS as u64));
    assert!(
        stdout.contains("# decisions on rank 0 (penguin_observe_batch): "),
        "{stdout}"
    );
    let replay_json = work.join("replay.json");
    let mut replay = Command::new(env!("CARGO_BIN_EXE_penguin"));
    replay
        .arg("replay")
        .arg(&curves)
        .args(["--e_pred", "5", "--no-progress", "--json"])
        .arg(&replay_json)
        .args(PENGUIN_KEYS);
    run("penguin replay", &mut replay);
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(&replay_json).unwrap()).unwrap();
    let per_network = report["datasets"]["FMNIST-MLP"]["per_network"]
        .as_array()
        .expect("replay has the data set FMNIST-MLP");
    let replayed: BTreeMap<String, &Value> = per_network
        .iter()
        .map(|n| (n["id"].as_str().unwrap().to_string(), n))
        .collect();

    let rows = read_csv(&curves);
    let outcomes = read_csv(&results);
    assert_eq!(outcomes.len(), NETWORKS);
    assert_eq!(replayed.len(), NETWORKS);
    let mut decisions = BTreeMap::new();
    for o in &outcomes {
        let id = &o["model_id"];
        let r = replayed
            .get(id)
            .unwrap_or_else(|| panic!("{id} is not in the replay"));
        let stop_epoch = num(&o["stop_epoch"]);
        // Same decision, same epoch, same prediction (bit for bit).
        assert_eq!(r["stop"].as_str().unwrap(), o["decision"], "{id}");
        assert_eq!(r["stop_epoch"].as_f64().unwrap(), stop_epoch, "{id}");
        assert_eq!(
            r["prediction"].as_f64().unwrap().to_bits(),
            num(&o["predicted"]).to_bits(),
            "{id}: prediction"
        );
        assert_eq!(
            r["observations"].as_u64().unwrap(),
            num(&o["observations"]) as u64,
            "{id}"
        );
        // The network stopped when told: its curve ends at the decision.
        let epochs: Vec<f64> = rows
            .iter()
            .filter(|row| &row["model_id"] == id)
            .map(|row| num(&row["epoch"]))
            .collect();
        assert_eq!(epochs.last().copied(), Some(stop_epoch), "{id}");
        assert_eq!(epochs.len() as u64, num(&o["observations"]) as u64, "{id}");
        *decisions.entry(o["decision"].clone()).or_insert(0) += 1;
    }
    // The small search exercises both ways of stopping.
    assert!(
        decisions.get("converged").copied().unwrap_or(0) > 0,
        "{decisions:?}"
    );
    assert!(
        decisions.get("reached_e_pred").copied().unwrap_or(0) > 0,
        "{decisions:?}"
    );
    let epochs_trained: f64 = outcomes.iter().map(|o| num(&o["stop_epoch"])).sum();
    assert_eq!(json["epochs_trained"].as_f64().unwrap(), epochs_trained);
    assert_eq!(json["best_id"].as_str().unwrap(), outcomes[0]["model_id"]);
    assert_eq!(
        json["best_observed"].as_f64().unwrap(),
        num(&outcomes[0]["observed"])
    );

    // The baseline: the same networks to e_pred, the same curves.
    let (base_stdout, base_curves, base_results) =
        search(&exe, &work, "no-penguin", &["--no-penguin"]);
    let base_json = summary(&base_stdout);
    assert_eq!(base_json["networks"].as_u64(), Some(NETWORKS as u64));
    assert_eq!(
        base_json["epochs_trained"].as_f64().unwrap(),
        NETWORKS as f64 * E_PRED
    );
    assert!(json["epochs_trained"].as_f64().unwrap() < NETWORKS as f64 * E_PRED);
    for o in read_csv(&base_results) {
        assert_eq!(o["decision"], "reached_e_pred");
        assert_eq!(num(&o["stop_epoch"]), E_PRED);
    }
    let base_rows = read_csv(&base_curves);
    assert_eq!(base_rows.len(), NETWORKS * (E_PRED / 0.5) as usize);
    let curve_of = |rows: &[BTreeMap<String, String>], id: &str| -> Vec<String> {
        rows.iter()
            .filter(|r| r["model_id"] == id)
            .map(|r| {
                // everything but the seconds
                format!(
                    "{} {} {} {} {} {}",
                    r["epoch"],
                    r["val_acc"],
                    r["val_loss"],
                    r["train_loss"],
                    r["train_acc"],
                    r["arch"]
                )
            })
            .collect()
    };
    for o in &outcomes {
        let id = &o["model_id"];
        let with = curve_of(&rows, id);
        let without = curve_of(&base_rows, id);
        assert!(
            without.len() >= with.len() && without[..with.len()] == with[..],
            "{id}: the curve differs between the modes\nwith Penguin: {with:#?}\nwithout: {without:#?}"
        );
    }
    // The CNN family with the cosine recipe: complete curves, its data set,
    // convolutional architectures ("c8-16/64/relu").
    let (cnn_stdout, cnn_curves, _) = search(
        &exe,
        &work,
        "cnn",
        &["--arch", "cnn", "--recipe", "adamw-cosine", "--no-penguin"],
    );
    assert_eq!(
        summary(&cnn_stdout)["networks"].as_u64(),
        Some(NETWORKS as u64)
    );
    let cnn_rows = read_csv(&cnn_curves);
    assert_eq!(cnn_rows.len(), NETWORKS * (E_PRED / 0.5) as usize);
    for r in &cnn_rows {
        assert_eq!(r["dataset"], "FMNIST-CNN-ADAMW-COS");
        assert!(r["arch"].starts_with('c'), "{}", r["arch"]);
        assert!(num(&r["val_acc"]).is_finite(), "{r:?}");
    }
    // They learn: the best ends well above chance (10 %).
    let best_last = cnn_rows
        .iter()
        .filter(|r| num(&r["epoch"]) == E_PRED)
        .map(|r| num(&r["val_acc"]))
        .fold(f64::NAN, f64::max);
    assert!(best_last > 50.0, "best CNN at epoch {E_PRED}: {best_last}");
}
