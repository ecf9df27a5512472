//! The documentation cannot drift from the code: every C, C++, Fortran,
//! CMake and make block in README.md, CHANGELOG.md, CONTRIBUTING.md and
//! docs/*.md is copied, line for line, from a file the tests build or run.

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
const CHECKED: [&str; 8] = [
    "c", "cpp", "c++", "fortran", "f90", "cmake", "make", "makefile",
];
/// Blocks exempt from the check: shell commands (`sh`, `bash`, `console`)
/// and program output or formats (`text`, `json`). They are not code a
/// reader compiles.
const EXEMPT: [&str; 5] = ["sh", "bash", "console", "text", "json"];
/// Where the files are that the tests build or run: the examples
/// (tests/c_api.rs, .ci/consumers.sh via tests/consumers.rs, tests/mpi_nas.rs),
/// the C test programs (tests/c_api.rs), the header and the CMake files
/// (the consumer tests).
const BUILT: [&str; 5] = [
    "examples/",
    "c-tests/",
    "include/",
    "cmake/",
    "CMakeLists.txt",
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
