//! The `penguin` command-line program: `penguin replay [OPTIONS] [CURVES.csv ...]`
//! replays learning curves through Penguin and reports what it saves (see
//! `penguin replay --help` and the README's "Replay: the main job").

fn main() {
    let args: Vec<String> = std::env::args_os()
        .skip(1)
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let code =
        penguin::replay::cli::run(&args, &mut std::io::stdout().lock(), &mut std::io::stderr());
    std::process::exit(code);
}
