//! The committed C header must be exactly what cbindgen generates from the
//! current source (build.rs writes it into OUT_DIR).

#[test]
fn committed_header_is_up_to_date() {
    let generated = std::fs::read_to_string(concat!(env!("OUT_DIR"), "/penguin.h"))
        .expect("build.rs generated penguin.h");
    let committed = include_str!("../include/penguin.h");
    assert!(
        generated == committed,
        "include/penguin.h is stale: copy {}/penguin.h over it",
        env!("OUT_DIR")
    );
}

/// One prefix: every name the header defines starts with `penguin_` or
/// `PENGUIN_` (nothing from the engine's Rust modules leaks into C).
#[test]
fn every_name_in_the_header_has_the_prefix() {
    let header = include_str!("../include/penguin.h");
    let mut names = Vec::new();
    for line in header.lines() {
        let t = line.trim();
        if t.starts_with("typedef") && t.contains("(*") {
            // A function pointer type: typedef int (*name)(...
            let after = t.split("(*").nth(1).unwrap();
            names.push(after.split(')').next().unwrap().to_string());
        } else if let Some(rest) = t.strip_prefix("#define ") {
            names.push(rest.split_whitespace().next().unwrap().to_string());
        } else if t.starts_with("typedef ") && t.ends_with(';') {
            let last = t.trim_end_matches(';').split_whitespace().last().unwrap();
            names.push(last.trim_start_matches('*').to_string());
        } else if let Some(rest) = t.strip_prefix("} ") {
            if !rest.trim().starts_with("//") {
                names.push(rest.trim_end_matches(';').to_string());
            }
        } else if t.contains('(')
            && !t.starts_with('*')
            && !t.starts_with("//")
            && !t.starts_with('#')
        {
            // A function declaration: the name is the word before '('.
            let before = t.split('(').next().unwrap();
            if let Some(name) = before.split_whitespace().last() {
                names.push(name.trim_start_matches('*').to_string());
            }
        }
    }
    let guards = ["PENGUIN_H"];
    for n in &names {
        let ok =
            n.starts_with("penguin_") || n.starts_with("PENGUIN_") || guards.contains(&n.as_str());
        assert!(ok, "unprefixed name in penguin.h: {n}");
    }
    assert!(names.iter().any(|n| n == "penguin_observe"), "{names:?}");
}
