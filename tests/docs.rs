//! The documentation cannot drift from the code:
//!
//! - every C, C++, Fortran, CMake and make block in README.md, CHANGELOG.md,
//!   CONTRIBUTING.md and docs/*.md is copied, line for line, from a file the
//!   tests build or run;
//! - the key table of docs/configuration.md lists exactly the configuration's
//!   keys, each with the default the configuration prints;
//! - the README's table holds what `penguin replay` prints, and
//!   docs/replay.md names every field of its JSON report;
//! - every relative link points to a file that exists, and every `#anchor` to
//!   a heading of that file;
//! - the API reference (Doxygen, docs/Doxyfile) builds from include/penguin.h
//!   without a warning and documents every function.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// README.md, CHANGELOG.md, CONTRIBUTING.md and docs/*.md (those that exist).
fn markdown_files() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = ["README.md", "CHANGELOG.md", "CONTRIBUTING.md"]
        .iter()
        .map(|f| root().join(f))
        .filter(|p| p.is_file())
        .collect();
    let mut docs: Vec<PathBuf> = std::fs::read_dir(root().join("docs"))
        .expect("docs/ exists")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "md"))
        .collect();
    docs.sort();
    files.extend(docs);
    files
}

fn relative(path: &Path) -> String {
    path.strip_prefix(root()).unwrap().display().to_string()
}

/// A fenced code block: its info string (language), its lines, the line of
/// the opening fence (1-based), and the source file named before it.
struct Block {
    lang: String,
    lines: Vec<String>,
    line: usize,
    source: Option<String>,
}

/// The fenced blocks of a Markdown text. A block's source is the last file
/// named as "from `path`" (or "From `path`", also across a line break) in the
/// prose before it, within the same section: a heading forgets it.
fn blocks(text: &str) -> Vec<Block> {
    let mut out = Vec::new();
    let mut source: Option<String> = None;
    let mut prose = String::new();
    let mut lines = text.lines().enumerate();
    while let Some((n, line)) = lines.next() {
        if let Some(info) = line.strip_prefix("```") {
            for part in prose.replace("From `", "from `").split("from `").skip(1) {
                if let Some(path) = part.split('`').next() {
                    if root().join(path).is_file() {
                        source = Some(path.to_string());
                    }
                }
            }
            prose.clear();
            let mut body = Vec::new();
            for (_, l) in lines.by_ref() {
                if l.starts_with("```") {
                    break;
                }
                body.push(l.to_string());
            }
            out.push(Block {
                lang: info.trim().to_string(),
                lines: body,
                line: n + 1,
                source: source.clone(),
            });
        } else if line.starts_with('#') {
            source = None;
            prose.clear();
        } else {
            prose.push(' ');
            prose.push_str(line.trim());
        }
    }
    out
}

/// A line as compared between a document and its source: without
/// indentation and without a leading comment marker (`#`, `!`, `//`), so
/// that a snippet may be dedented or taken from a usage comment.
fn normalize(line: &str) -> &str {
    let t = line.trim();
    for marker in ["//", "#", "!"] {
        if let Some(rest) = t.strip_prefix(marker) {
            if rest.is_empty() || rest.starts_with(' ') {
                return rest.trim();
            }
        }
    }
    t
}

/// Languages whose blocks must be copied from a built file.
const CHECKED: [&str; 10] = [
    "c", "cpp", "c++", "fortran", "f90", "cmake", "make", "makefile", "python", "py",
];
/// Blocks exempt from the check: shell commands (`sh`, `bash`, `console`)
/// and program output or formats (`text`, `json`). They are not code a
/// reader compiles.
const EXEMPT: [&str; 5] = ["sh", "bash", "console", "text", "json"];
/// Where the files are that the tests build or run: the examples
/// (tests/c_api.rs, .ci/consumers.sh via tests/consumers.rs, tests/mpi_nas.rs),
/// the C test programs (tests/c_api.rs), the header and the CMake files
/// (the consumer tests), and the Python examples (python/tests/test_examples.py,
/// run by tests/python.rs).
const BUILT: [&str; 6] = [
    "examples/",
    "c-tests/",
    "include/",
    "cmake/",
    "CMakeLists.txt",
    "python/examples/",
];

/// Every C, C++, Fortran, CMake and make block of the documentation appears,
/// line for line, in the file named just before it ("from `examples/...`"),
/// up to indentation and comment markers (see `normalize`); a line `...`
/// (after its comment marker) elides lines, and each piece between elisions
/// must appear on its own. The file must be one the tests build or run
/// (`BUILT`). Shell-command and output blocks are exempt (`EXEMPT`); a block
/// with no language, or another one, fails, so that no code escapes the check.
#[test]
fn code_blocks_are_copied_from_built_files() {
    let mut checked = 0;
    let mut failures = Vec::new();
    for md in markdown_files() {
        let doc = relative(&md);
        for b in blocks(&std::fs::read_to_string(&md).unwrap()) {
            let at = format!("{doc}:{}", b.line);
            if EXEMPT.contains(&b.lang.as_str()) {
                continue;
            }
            if !CHECKED.contains(&b.lang.as_str()) {
                failures.push(format!(
                    "{at}: a block tagged {:?}: tag it with its language ({}) or as \
                     one of {EXEMPT:?}",
                    b.lang,
                    CHECKED.join(", ")
                ));
                continue;
            }
            let Some(path) = b.source else {
                failures.push(format!(
                    "{at}: {} block without a source: name its file as \"from `path`\" before it",
                    b.lang
                ));
                continue;
            };
            if !BUILT.iter().any(|p| path.starts_with(p)) {
                failures.push(format!(
                    "{at}: {path} is not among the files the tests build ({BUILT:?})"
                ));
                continue;
            }
            let text = std::fs::read_to_string(root().join(&path)).unwrap();
            let file: Vec<&str> = text.lines().map(normalize).collect();
            let block: Vec<&str> = b.lines.iter().map(|l| normalize(l)).collect();
            for chunk in block.split(|l| *l == "...") {
                if chunk.is_empty() {
                    continue;
                }
                if !file.windows(chunk.len()).any(|w| w == chunk) {
                    failures.push(format!(
                        "{at}: not found verbatim in {path}:\n{}",
                        chunk.join("\n")
                    ));
                }
            }
            checked += 1;
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    // The README's C example, and the guide's C, C++, Fortran, CMake and make
    // snippets, at least.
    assert!(checked >= 20, "only {checked} blocks checked");
}

/// The cells of the Markdown table rows (lines starting with `|`) of `text`
/// below `heading`, up to the next heading, without the separator row.
fn table_under(text: &str, heading: &str) -> Vec<Vec<String>> {
    let start = text
        .lines()
        .position(|l| l.trim_end() == heading)
        .unwrap_or_else(|| panic!("no heading {heading:?}"));
    text.lines()
        .skip(start + 1)
        .take_while(|l| !l.starts_with('#'))
        .filter(|l| l.starts_with('|') && !l.starts_with("|---"))
        .map(|l| {
            l.trim()
                .trim_matches('|')
                .split(" | ")
                .map(|c| c.trim().to_string())
                .collect()
        })
        .collect()
}

/// docs/configuration.md's key table lists every key of `config::KEYS` once,
/// no other, and each with the default that `Config::default().pairs()`
/// prints (the text `penguin replay` shows and a saved state holds).
#[test]
fn configuration_md_lists_every_key_with_its_default() {
    let text = std::fs::read_to_string(root().join("docs/configuration.md")).unwrap();
    let rows = table_under(&text, "## Keys");
    assert_eq!(rows[0][..2], ["key", "default"], "header row");
    let mut documented: BTreeMap<String, String> = BTreeMap::new();
    for row in &rows[1..] {
        let key = row[0].trim_matches('`').to_string();
        let default = row[1].trim_matches('`').to_string();
        assert!(
            documented.insert(key.clone(), default).is_none(),
            "docs/configuration.md lists {key} twice"
        );
    }
    let defaults: BTreeMap<String, String> = penguin::Config::default()
        .pairs()
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
    let keys: BTreeSet<&str> = penguin::config::KEYS.iter().copied().collect();
    assert_eq!(
        keys,
        defaults.keys().map(String::as_str).collect(),
        "config::KEYS and Config::pairs disagree"
    );
    for key in &keys {
        let Some(doc) = documented.get(*key) else {
            panic!("docs/configuration.md does not document the key {key}");
        };
        assert_eq!(
            doc, &defaults[*key],
            "docs/configuration.md: the default of {key}"
        );
    }
    for key in documented.keys() {
        assert!(
            keys.contains(key.as_str()),
            "docs/configuration.md documents {key}, which is no configuration key"
        );
    }
}

/// docs/configuration.md's table of presets ("## Presets") names every preset
/// of `penguin::config::PRESETS`, and no other.
#[test]
fn configuration_md_lists_every_preset() {
    let text = std::fs::read_to_string(root().join("docs/configuration.md")).unwrap();
    let rows = table_under(&text, "## Presets");
    assert_eq!(rows[0][0], "preset", "header row");
    let documented: BTreeSet<String> = rows[1..]
        .iter()
        .map(|r| r[0].trim_matches('`').to_string())
        .collect();
    let presets: BTreeSet<String> = penguin::config::PRESETS
        .iter()
        .map(|(n, _)| n.to_string())
        .collect();
    assert_eq!(documented, presets, "docs/configuration.md's presets");
    // Each preset's keys as documented are its keys.
    for row in &rows[1..] {
        let name = row[0].trim_matches('`');
        let (_, lines) = penguin::config::PRESETS
            .iter()
            .find(|(n, _)| *n == name)
            .unwrap();
        for line in lines.lines().filter(|l| !l.trim().is_empty()) {
            let (k, v) = line.split_once('=').unwrap();
            let shown = format!("`{} = {}`", k.trim(), v.trim());
            assert!(
                row[2].contains(&shown),
                "preset {name}: {shown} not in {:?}",
                row[2]
            );
        }
    }
}

/// The README's table ("## What it saves") holds what `penguin replay`
/// prints for the bundled curves: each row's label names a figure of the
/// `full` column of each data set, formatted as the replay prints it.
#[test]
fn readme_table_is_what_replay_prints() {
    let text = std::fs::read_to_string(root().join("README.md")).unwrap();
    let rows = table_under(&text, "## What it saves");
    let sets: Vec<String> = rows[0][1..].to_vec();
    let report = common::replay_json(&[]);
    let fixed = |v: &serde_json::Value, digits: usize| match v.as_f64() {
        Some(x) => format!("{x:.digits$}"),
        None => "n/a".to_string(),
    };
    for row in &rows[1..] {
        let label = row[0].as_str();
        for (set, cell) in sets.iter().zip(&row[1..]) {
            let m = &report["datasets"][set.as_str()]["full"];
            assert!(m.is_object(), "README: no data set {set} in the replay");
            let want = match label {
                "networks" => m["networks"].to_string(),
                "mean stop epoch, e_pred = 20" => fixed(&m["mean_stop_epoch"], 2),
                "MENNDL mean epochs" => fixed(&m["baseline_mean_epochs"]["menndl"], 2),
                "epochs saved (%), vs MENNDL" => m["epochs_saved"]["menndl"]
                    .as_f64()
                    .map_or("n/a".into(), |x| format!("{:.1}", 100.0 * x)),
                "throughput gain (x), vs MENNDL" => fixed(&m["throughput_gain"]["menndl"], 2),
                "MAE of the final prediction (val_acc)" => fixed(&m["mae"], 2),
                "sensitivity, top 10" => fixed(&m["sensitivity"]["10"], 2),
                "Penguin's skill, top 10" => fixed(&m["skill"]["10"], 2),
                other => panic!("README table: no rule for the row {other:?}: add one here"),
            };
            assert_eq!(cell, &want, "README table, {label}, {set}");
        }
    }
    assert_eq!(report["replay"]["e_pred"], 20.0);
}

/// docs/replay.md names every field of the bundled replay's JSON report (as
/// `` `field` ``): the top level, `replay`, a data set, its metrics `M` and
/// their nested objects, and a network of `per_network`.
#[test]
fn replay_md_names_every_json_field() {
    let text = std::fs::read_to_string(root().join("docs/replay.md")).unwrap();
    let report = common::replay_json(&[]);
    let set = &report["datasets"]["FashionMNIST"];
    let full = &set["full"];
    let objects = [
        &report,
        &report["replay"],
        set,
        full,
        &full["truncation"],
        &full["one_observation_short"],
        &full["interval_coverage"],
        &full["successive_halving"]["10"],
        &set["baselines"]["menndl"],
        &set["per_network"][0],
        &set["per_network"][0]["baselines"]["menndl"],
    ];
    let mut missing = BTreeSet::new();
    for object in objects {
        let fields = object.as_object().expect("a JSON object");
        for key in fields.keys() {
            let numeric = key.parse::<usize>().is_ok();
            let baseline = ["menndl", "evocnn", "nsganet"].contains(&key.as_str());
            if !numeric && !baseline && !text.contains(&format!("`{key}`")) {
                missing.insert(key.clone());
            }
        }
    }
    assert!(
        missing.is_empty(),
        "docs/replay.md does not name these JSON fields: {missing:?}"
    );
}

/// GitHub's anchor of a heading: lower case, without punctuation but `-` and
/// `_`, spaces as `-`.
fn slug(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter(|c| c.is_alphanumeric() || *c == ' ' || *c == '-' || *c == '_')
        .map(|c| if c == ' ' { '-' } else { c })
        .collect()
}

/// The anchors of a Markdown file's headings (outside code blocks).
fn anchors(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut fenced = false;
    for line in text.lines() {
        if line.starts_with("```") {
            fenced = !fenced;
        } else if !fenced && line.starts_with('#') {
            out.insert(slug(line.trim_start_matches('#')));
        }
    }
    out
}

/// Every relative link of the documentation (`[text](path)`,
/// `[text](path#anchor)`, `[text](#anchor)`) points to an existing file, and
/// its anchor to a heading of that file.
#[test]
fn relative_links_resolve() {
    let mut failures = Vec::new();
    let mut links = 0;
    for md in markdown_files() {
        let text = std::fs::read_to_string(&md).unwrap();
        let mut fenced = false;
        for (n, line) in text.lines().enumerate() {
            if line.starts_with("```") {
                fenced = !fenced;
            }
            if fenced {
                continue;
            }
            for part in line.split("](").skip(1) {
                let Some(target) = part.split(')').next() else {
                    continue;
                };
                if target.contains("://") || target.starts_with("mailto:") {
                    continue;
                }
                links += 1;
                let (file, anchor) = match target.split_once('#') {
                    Some((f, a)) => (f, Some(a)),
                    None => (target, None),
                };
                let path = if file.is_empty() {
                    md.clone()
                } else {
                    md.parent().unwrap().join(file)
                };
                let at = format!("{}:{}", relative(&md), n + 1);
                if !path.exists() {
                    failures.push(format!("{at}: {target}: no such file"));
                    continue;
                }
                if let Some(a) = anchor {
                    let heads = anchors(&std::fs::read_to_string(&path).unwrap());
                    if !heads.contains(a) {
                        failures.push(format!("{at}: {target}: no heading with this anchor"));
                    }
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(links > 0);
}

/// The API reference: Doxygen builds docs/Doxyfile (include/penguin.h) with
/// no warning at all, neither in its warning log nor on stderr, and the page
/// of penguin.h documents every function the header declares. Skipped where
/// doxygen is not installed, except under `CI=true` (.ci/run installs it).
#[test]
fn api_reference_builds_without_a_warning() {
    if !common::on_path("doxygen") {
        common::skip_outside_ci("doxygen is not installed (.ci/run installs it)");
        return;
    }
    let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join("doxygen");
    let _ = std::fs::remove_dir_all(&out);
    std::fs::create_dir_all(&out).unwrap();
    let log = out.join("warnings.log");
    let mut config = std::fs::read_to_string(root().join("docs/Doxyfile")).unwrap();
    config.push_str(&format!(
        "\nOUTPUT_DIRECTORY = \"{}\"\nWARN_LOGFILE = \"{}\"\n",
        out.display(),
        log.display()
    ));
    let mut child = std::process::Command::new("doxygen")
        .arg("-")
        .current_dir(root())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("doxygen runs");
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(config.as_bytes())
        .unwrap();
    let result = child.wait_with_output().unwrap();
    let warnings = std::fs::read_to_string(&log).unwrap_or_default();
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert!(
        result.status.success() && warnings.trim().is_empty() && stderr.trim().is_empty(),
        "doxygen docs/Doxyfile: {}\n{warnings}\n{stderr}\nFix each warning at its source: \
         the /// comments in src/ffi/*.rs or the header block in cbindgen.toml, then \
         regenerate include/penguin.h (CONTRIBUTING.md)",
        result.status
    );
    let page = std::fs::read_to_string(out.join("html/penguin_8h.html"))
        .expect("doxygen wrote the page of penguin.h");
    let header = std::fs::read_to_string(root().join("include/penguin.h")).unwrap();
    let functions: Vec<&str> = header
        .lines()
        .filter(|l| {
            l.contains('(')
                && !l.starts_with([' ', '#', '/', '*', '}'])
                && !l.starts_with("typedef")
        })
        .filter_map(|l| l.split('(').next()?.split_whitespace().last())
        .map(|name| name.trim_start_matches('*'))
        .filter(|name| name.starts_with("penguin_"))
        .collect();
    assert!(functions.len() >= 20, "{functions:?}");
    for f in &functions {
        assert!(
            page.contains(&format!(">{f}</a>")),
            "the API reference does not document {f}"
        );
    }
}
