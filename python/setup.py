"""Builds the Python package `penguin` from a Penguin checkout.

`pip install ./python` runs this: `cargo build --release --lib
--no-default-features --locked` on the repository's Cargo.toml (the C library
only: libc, nalgebra, rayon), then copies the shared library into the package
under its SONAME (libpenguin.so.0.2), where `penguin._capi` loads it by
absolute path. The wheel is platform-specific (py3-none-<platform>): it holds a
native library but no CPython extension, so any Python 3.9+ on that platform
can use it.

Environment (all optional):
  PENGUIN_SOURCE_DIR        the checkout (default: the directory above this one)
  PENGUIN_CARGO_TARGET_DIR  cargo's target directory (default: cargo's own,
                            CARGO_TARGET_DIR or <checkout>/target)
  PENGUIN_CARGO_OFFLINE=1   pass --offline to cargo (every crate already fetched)
  CARGO                     the cargo program (default: cargo on PATH, then
                            ~/.cargo/bin/cargo)
"""

import json
import os
import re
import shutil
import subprocess
import sys

from setuptools import setup
from setuptools.command.build_py import build_py

try:  # setuptools >= 70.1
    from setuptools.command.bdist_wheel import bdist_wheel
except ImportError:  # older setuptools: the `wheel` package's
    from wheel.bdist_wheel import bdist_wheel

HERE = os.path.dirname(os.path.abspath(__file__))


def checkout():
    root = os.environ.get("PENGUIN_SOURCE_DIR") or os.path.dirname(HERE)
    manifest = os.path.join(root, "Cargo.toml")
    if not os.path.isfile(manifest) or 'name = "penguin"' not in open(manifest).read():
        sys.exit(
            "penguin: %s is not a Penguin checkout (no Cargo.toml of the crate "
            "`penguin`); build the package from the repository (`pip install ./python`) "
            "or set PENGUIN_SOURCE_DIR" % root
        )
    return root


def crate_version(root):
    text = open(os.path.join(root, "Cargo.toml")).read()
    return re.search(r'^version\s*=\s*"([^"]+)"', text, re.M).group(1)


def soname(version):
    major, minor = version.split(".")[:2]
    if sys.platform == "darwin":
        return "libpenguin.dylib"
    if sys.platform == "win32":
        return "penguin.dll"
    return "libpenguin.so.%s.%s" % (major, minor) if major == "0" else "libpenguin.so.%s" % major


def cargo_program():
    cargo = os.environ.get("CARGO") or shutil.which("cargo")
    if not cargo:
        home = os.path.join(os.path.expanduser("~"), ".cargo", "bin", "cargo")
        if os.path.isfile(home):
            cargo = home
    if not cargo:
        sys.exit("penguin: cargo not found: install Rust (https://rustup.rs) to build the package")
    return cargo


def build_library(root):
    """Runs cargo; returns the path of the shared library it built."""
    cmd = [
        cargo_program(),
        "build",
        "--release",
        "--lib",
        "--no-default-features",
        "--locked",
        "--message-format=json-render-diagnostics",
        "--manifest-path",
        os.path.join(root, "Cargo.toml"),
    ]
    if os.environ.get("PENGUIN_CARGO_OFFLINE") == "1":
        cmd.append("--offline")
    target_dir = os.environ.get("PENGUIN_CARGO_TARGET_DIR")
    if target_dir:
        cmd += ["--target-dir", target_dir]
    print("penguin: " + " ".join(cmd), flush=True)
    out = subprocess.run(cmd, stdout=subprocess.PIPE, cwd=root)
    if out.returncode != 0:
        sys.exit("penguin: cargo failed (exit %d)" % out.returncode)
    for line in out.stdout.decode().splitlines():
        try:
            msg = json.loads(line)
        except ValueError:
            continue
        if msg.get("reason") != "compiler-artifact" or msg["target"]["name"] != "penguin":
            continue
        if "cdylib" not in msg["target"]["kind"]:
            continue
        for f in msg["filenames"]:
            if f.endswith((".so", ".dylib", ".dll")):
                return f
    sys.exit("penguin: cargo did not report the shared library")


class build_with_cargo(build_py):
    """build_py, plus the C library built by cargo, copied into the package."""

    def run(self):
        # A stale copy of a file since removed from penguin/ must not ship.
        shutil.rmtree(os.path.join(self.build_lib, "penguin"), ignore_errors=True)
        super().run()
        root = checkout()
        library = build_library(root)
        dest = os.path.join(self.build_lib, "penguin", soname(crate_version(root)))
        self.mkpath(os.path.dirname(dest))
        shutil.copyfile(library, dest)
        os.chmod(dest, 0o755)
        print("penguin: shipped %s as %s" % (library, dest), flush=True)


class platform_wheel(bdist_wheel):
    """A wheel for this platform only (it holds a native library), for any
    Python 3 (it has no CPython extension)."""

    def finalize_options(self):
        super().finalize_options()
        self.root_is_pure = False

    def get_tag(self):
        _, _, plat = super().get_tag()
        return "py3", "none", plat


setup(
    version=crate_version(checkout()),
    cmdclass={"build_py": build_with_cargo, "bdist_wheel": platform_wheel},
)
