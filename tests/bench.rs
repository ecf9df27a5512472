//! `penguin bench`: the JSON line has the SciPy peer's fields and the replay's
//! decisions; the scale mode tracks the networks asked for; the scaling mode
//! runs both thread counts the same number of times on the same work.

mod common;

use serde_json::Value;
use std::process::Command;

const CNN: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/data/fmnist_random_cnn.csv"
);

fn bench(args: &[&str]) -> Value {
    let text = common::penguin(&[&["bench"], args].concat());
    assert_eq!(text.lines().count(), 1, "one JSON line: {text}");
    serde_json::from_str(&text).unwrap()
}

#[test]
fn the_replay_line_has_the_scipy_peers_fields_and_the_replays_decisions() {
    let b = bench(&[CNN, "--threads", "1"]);
    for field in [
        "models",
        "observations",
        "fits",
        "fit_seconds",
        "fits_per_second",
        "replay_seconds",
        "observations_per_second",
        "mean_stop_epoch",
    ] {
        assert!(b[field].is_number(), "{field} missing: {b}");
    }
    assert_eq!(b["models"].as_u64(), Some(127));
    assert!(b["fits"].as_u64().unwrap() > 0);
    assert!(b["fits"].as_u64() < b["observations"].as_u64());
    // The same decisions as `penguin replay` with the paper's settings.
    let r = common::replay_json(&[CNN]);
    let replay_stop = r["datasets"]["FashionMNIST"]["full"]["mean_stop_epoch"]
        .as_f64()
        .unwrap();
    let bench_stop = b["mean_stop_epoch"].as_f64().unwrap();
    assert!(
        (replay_stop - bench_stop).abs() < 1e-3,
        "bench {bench_stop} vs replay {replay_stop}"
    );
}

#[test]
fn the_scale_mode_tracks_every_network() {
    let b = bench(&[CNN, "--networks", "300", "--chunk", "64", "--threads", "1"]);
    assert_eq!(b["networks"].as_u64(), Some(300));
    let per = b["observations_per_network"].as_f64().unwrap();
    assert!(per > 2.0 && per <= 41.0, "{per}");
    assert!(b["heap_bytes_per_network"].as_f64().unwrap() > 0.0);
    // Batches of 64: the first ones carry every network of their chunk.
    assert!(b["full_batches"].as_u64().unwrap() >= 2 * 300 / 64, "{b}");
}

#[test]
fn the_scale_mode_through_the_c_api_makes_the_rust_paths_decisions() {
    let args = [CNN, "--networks", "300", "--chunk", "64", "--threads", "1"];
    let rust = bench(&args);
    assert_eq!(rust["path"], "rust");
    for (path, name) in [("single", "c_single"), ("batch", "c_batch")] {
        let c = bench(&[&args[..], &["--c-api", path]].concat());
        assert_eq!(c["path"], name, "{c}");
        // The same networks stopped at the same observations after the same
        // number of fits.
        for field in ["networks", "observations", "fits"] {
            assert_eq!(c[field], rust[field], "{field}: {c} vs {rust}");
        }
        assert!(c["heap_bytes_per_network"].is_null(), "{c}");
    }
}

#[test]
fn the_scaling_mode_times_both_thread_counts_on_the_same_work() {
    let args = ["--networks", "200", "--chunk", "200"];
    let b = bench(&[&[CNN, "--scaling", "2", "--threads", "2"], &args[..]].concat());
    let one = b["seconds_one_thread"].as_array().unwrap();
    let many = b["seconds_threads"].as_array().unwrap();
    assert_eq!((one.len(), many.len()), (2, 2), "{b}");
    assert_eq!(b["seconds_independent"].as_array().map(Vec::len), Some(2));
    assert!(b["speedup_independent_of_medians"].as_f64().unwrap() > 0.0);
    let full = b["full_batch_seconds_threads"].as_array().unwrap();
    assert_eq!(full.len(), 2);
    assert!(full.iter().all(|s| s.as_f64().unwrap() > 0.0), "{b}");
    assert_eq!(b["threads"].as_u64(), Some(2));
    assert!(b["speedup_of_medians"].as_f64().unwrap() > 0.0);
    // The lockstep run: both engines timed on every batch (it fails the run
    // should their decisions differ).
    for k in ["lockstep_seconds_one_thread", "lockstep_seconds_threads"] {
        let v = b[k].as_array().unwrap();
        assert_eq!(v.len(), 2, "{k}: {b}");
        assert!(v.iter().all(|s| s.as_f64().unwrap() > 0.0), "{k}: {b}");
    }
    assert!(b["speedup_lockstep_of_medians"].as_f64().unwrap() > 0.0);
    // The single batch: every network's stopping observation in one call,
    // timed five times per round on each thread count.
    assert_eq!(b["single_batch_networks"].as_u64(), Some(200), "{b}");
    for k in [
        "single_batch_seconds_one_thread",
        "single_batch_seconds_threads",
    ] {
        let v = b[k].as_array().unwrap();
        assert_eq!(v.len(), 2 * 5, "{k}: {b}");
        assert!(v.iter().all(|s| s.as_f64().unwrap() > 0.0), "{k}: {b}");
    }
    assert!(b["speedup_single_batch_of_medians"].as_f64().unwrap() > 0.0);
    // The machine's own scaling: a loop that shares nothing, five times per
    // round on one thread and on two.
    for k in ["machine_seconds_one_thread", "machine_seconds_threads"] {
        let v = b[k].as_array().unwrap();
        assert_eq!(v.len(), 2 * 5, "{k}: {b}");
        assert!(v.iter().all(|s| s.as_f64().unwrap() > 0.0), "{k}: {b}");
    }
    assert!(b["speedup_machine_of_medians"].as_f64().unwrap() > 0.0);
    // The same fits as the scale mode on its own.
    let scale = bench(&[&[CNN, "--threads", "1"], &args[..]].concat());
    assert_eq!(b["fits"], scale["fits"]);
    // --scaling belongs to the scale mode.
    let out = Command::new(env!("CARGO_BIN_EXE_penguin"))
        .args(["bench", CNN, "--scaling", "2"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--networks"));
}

#[test]
fn the_scaling_mode_runs_with_rank_aware_stopping() {
    // In a cohort with select_top networks stop earlier than alone: the single
    // batch leaves those out instead of failing on them.
    let args = ["--networks", "400", "--scaling", "1", "--threads", "2"];
    let b = bench(&[&[CNN, "--select_top", "10"], &args[..]].concat());
    let n = b["single_batch_networks"].as_u64().unwrap();
    assert!(n > 0 && n < 400, "{b}");
}
