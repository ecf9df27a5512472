//! Gives the shared library its SONAME and, with the default feature `header`,
//! generates the C header into OUT_DIR (never into the source tree).

use std::env;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    #[cfg(feature = "header")]
    header();

    // SONAME libpenguin.so.MAJOR.MINOR while on 0.x (rustc sets none by itself).
    let major = env::var("CARGO_PKG_VERSION_MAJOR").unwrap();
    let minor = env::var("CARGO_PKG_VERSION_MINOR").unwrap();
    let soname = if major == "0" {
        format!("libpenguin.so.0.{minor}")
    } else {
        format!("libpenguin.so.{major}")
    };
    if env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("linux") {
        println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,{soname}");
    }
    println!("cargo:rustc-env=PENGUIN_SONAME={soname}");
    // For the C test harness (tests/c_api.rs), which compiles C with the cc crate.
    println!(
        "cargo:rustc-env=PENGUIN_TARGET={}",
        env::var("TARGET").unwrap()
    );
    println!("cargo:rustc-env=PENGUIN_HOST={}", env::var("HOST").unwrap());
}

/// Writes the header cbindgen generates into OUT_DIR (feature `header`, on by
/// default; tests/header.rs compares it with include/penguin.h). cbindgen
/// parses the whole crate (a public integer constant anywhere reaches the
/// header), so any change under src/ reruns it, not only src/ffi/.
#[cfg(feature = "header")]
fn header() {
    use std::path::PathBuf;
    let crate_dir = PathBuf::from(env::var("CARGO_MANIFEST_DIR").unwrap());
    let out_dir = PathBuf::from(env::var("OUT_DIR").unwrap());
    println!("cargo:rerun-if-changed=src");
    println!("cargo:rerun-if-changed=cbindgen.toml");

    let config = cbindgen::Config::from_file(crate_dir.join("cbindgen.toml"))
        .expect("cbindgen.toml is readable");
    match cbindgen::Builder::new()
        .with_crate(&crate_dir)
        .with_config(config)
        .generate()
    {
        Ok(bindings) => {
            bindings.write_to_file(out_dir.join("penguin.h"));
        }
        Err(e) => println!("cargo:warning=cbindgen could not generate penguin.h: {e}"),
    }
}
