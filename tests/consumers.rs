//! Consumer tests (issue 6): runs `.ci/consumers.sh`, which builds Penguin with
//! CMake, installs it into a temporary prefix and builds and runs CMake, Fortran,
//! C++ and Makefile consumers against it, each compared with the decisions of
//! the Rust engine computed here. Among them, `examples/fortran/user_function.f90`
//! (issue 8): a two-parameter function written in Fortran, registered with
//! `config%set_function`, run on the bundled curves; it checks itself and
//! exits non-zero on a failure, which fails consumers.sh and this test.
//!
//! Needs cmake, make, cc, c++, gfortran, pkg-config and readelf. When one is
//! missing the test is skipped with a message, except under `CI=true`, where it
//! fails: in CI the consumer tests are required.
//!
//! The CMake build uses its own cargo target directory,
//! `target/tmp/consumers-cargo` (release profile), kept between runs so that a
//! second run only rebuilds what changed; `cargo clean` removes it.

use penguin::curves::{CurveColumns, Table, read_curves};
use penguin::{Config, Engine, State};
use std::path::{Path, PathBuf};
use std::process::Command;

mod common;
use common::on_path;

const TOOLS: [&str; 7] = [
    "cmake",
    "make",
    "cc",
    "c++",
    "gfortran",
    "pkg-config",
    "readelf",
];

/// The Rust engine's decisions on the bundled curves, in the format of
/// examples/penguin_curves.c (`{:?}` prints floats exactly).
fn rust_decisions(csv: &Path) -> String {
    let text = std::fs::read_to_string(csv).unwrap();
    let table = Table::parse(&text).unwrap();
    let curves = read_curves(&table, &CurveColumns::default()).unwrap();
    let mut engine = Engine::new(Config::default()).unwrap();
    let mut out = String::new();
    for (id, c) in curves.iter().enumerate() {
        let mut last = None;
        for (e, v) in c.epochs.iter().zip(&c.values) {
            if !v.is_finite() {
                continue;
            }
            let s = engine.observe(id as u64, *e, *v).unwrap();
            let stop = s.state != State::Continue;
            last = Some(s);
            if stop {
                break;
            }
        }
        if let Some(s) = last {
            let state = match s.state {
                State::Continue => "continue",
                State::Converged => "converged",
                State::ReachedEPred => "reached_e_pred",
            };
            out.push_str(&format!(
                "{id} {} {state} {:?} {:?} {}\n",
                c.id, s.epoch, s.prediction, s.observations
            ));
        }
    }
    out
}

#[test]
fn cmake_fortran_cpp_and_pkg_config_consumers() {
    let missing: Vec<&str> = TOOLS.iter().copied().filter(|t| !on_path(t)).collect();
    if !missing.is_empty() {
        let msg = format!(
            "consumer tests need {} (missing: {}); on Debian/Ubuntu: \
             apt-get install cmake make gcc g++ gfortran pkg-config binutils",
            TOOLS.join(", "),
            missing.join(", ")
        );
        common::skip_outside_ci(&msg);
        return;
    }

    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let tmp = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    let expected = tmp.join("consumers-expected-decisions.txt");
    std::fs::write(
        &expected,
        rust_decisions(&root.join("tests/data/fmnist_random_cnn.csv")),
    )
    .unwrap();

    let mut cmd = Command::new("bash");
    cmd.arg(root.join(".ci/consumers.sh"))
        .env(
            "PENGUIN_CONSUMERS_CARGO_TARGET_DIR",
            tmp.join("consumers-cargo"),
        )
        .env("PENGUIN_EXPECTED_DECISIONS", &expected)
        // Every crate is in cargo's cache: this test's own build needed them.
        .env("PENGUIN_CARGO_OFFLINE", "1")
        // The outer cargo's jobserver is not for the inner one.
        .env_remove("MAKEFLAGS")
        .env_remove("MFLAGS")
        .env_remove("CARGO_MAKEFLAGS")
        // cargo points it at target/debug, whose libpenguin.so.0.2 would shadow
        // the installed one (consumers.sh unsets it too).
        .env_remove("LD_LIBRARY_PATH");
    let out = cmd.output().expect("bash runs .ci/consumers.sh");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    print!("{stdout}");
    assert!(
        out.status.success(),
        ".ci/consumers.sh failed ({}):\n{stdout}\n{stderr}",
        out.status
    );
    assert!(stdout.contains("consumers.sh: all "), "{stdout}");
    // The Fortran user-defined function ran (CMake and make builds) and passed
    // its own checks.
    assert!(
        stdout.lines().any(|l| {
            l.contains("(c) Fortran user-defined function hyper2 (2 parameters")
                && l.contains("user_function: ")
                && l.ends_with(" checks, 0 failed")
        }),
        "consumers.sh did not run user_function_f (CMake):\n{stdout}"
    );
    assert!(
        stdout.contains("user_function_f passes"),
        "consumers.sh did not run user_function_f (make):\n{stdout}"
    );
}
