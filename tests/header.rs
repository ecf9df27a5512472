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
