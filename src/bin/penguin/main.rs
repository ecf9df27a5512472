//! The `penguin` command-line program: `penguin replay [OPTIONS] [CURVES.csv ...]`
//! replays learning curves through Penguin and reports what it saves (see
//! `penguin replay --help` and docs/replay.md); `penguin bench` times the engine
//! (`penguin bench --help`, docs/performance.md).
//!
//! The program is its own target, built only with the default `cli` feature:
//! the C library (`cargo build --lib --no-default-features`, as the CMake build
//! runs it) compiles none of its dependencies (serde_json, plotters, indicatif).

mod bench;
mod cli;
mod replay;

fn main() {
    let args: Vec<String> = std::env::args_os()
        .skip(1)
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let code = cli::run(&args, &mut std::io::stdout().lock(), &mut std::io::stderr());
    std::process::exit(code);
}
