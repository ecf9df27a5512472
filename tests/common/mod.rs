//! Helpers shared by the tests that build and run foreign programs
//! (tests/c_api.rs, tests/consumers.rs, tests/mpi_nas.rs). Each test crate
//! uses only some of them.
#![allow(dead_code)]

use std::path::PathBuf;

/// Where cargo put libpenguin.so / libpenguin.a for this test run.
pub fn library_dir() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let deps = exe.parent().unwrap();
    for d in [deps, deps.parent().unwrap()] {
        if d.join("libpenguin.so").exists() && d.join("libpenguin.a").exists() {
            return d.to_path_buf();
        }
    }
    panic!("libpenguin.so/.a not found next to {}", exe.display());
}

/// Whether an executable named `tool` is on the PATH.
pub fn on_path(tool: &str) -> bool {
    std::env::var_os("PATH").is_some_and(|paths| {
        std::env::split_paths(&paths).any(|dir| {
            let p = dir.join(tool);
            p.is_file()
                && std::fs::metadata(&p)
                    .map(|m| {
                        use std::os::unix::fs::PermissionsExt;
                        m.permissions().mode() & 0o111 != 0
                    })
                    .unwrap_or(false)
        })
    })
}
