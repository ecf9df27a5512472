#!/usr/bin/env bash
# Consumer tests (issue 6): build Penguin with CMake, install it into a
# temporary prefix, then build and run what an HPC site's NAS code would:
#   (a) examples/cmake_consumer: find_package(Penguin 0.2 REQUIRED), Penguin::penguin
#   (b) the same program linked with Penguin::penguin_static
#   (c) examples/fortran: the module `penguin` (shipped as source), the
#       example against the shared and the static library, built with CMake
#       and with make + gfortran + pkg-config; api_check (layout of
#       penguin_nn_status_t and constants against C, every wrapper, ierr and
#       error stop); user_function_f (a two-parameter function written in
#       Fortran as bind(C) callbacks, registered with config%set_function, run
#       on the bundled curves sequentially, batched on 2 threads, without a
#       Jacobian and with failing callbacks; checks itself)
#   (d) examples/cpp: penguin.hpp, the MENNDL-style loop (sequential and
#       batched), api_check as C++14 and C++20
#   (e) examples/makefile: plain make with `pkg-config --cflags --libs penguin`
#       (and a static link from Libs.private)
#   (f) cmake/FindPenguin.cmake on a plain cargo tree (Penguin_ROOT) and on a
#       prefix found through pkg-config only
#   (g) version requests: 0.2 accepted; 0.3 and 0.1 rejected (config and module)
# Every program's decisions are compared, line by line and bit for bit, with
# examples/penguin_curves.c linked the way docs/guide.md says (and, when
# PENGUIN_EXPECTED_DECISIONS names a file, with that file: tests/consumers.rs
# writes the Rust engine's decisions there).
#
# Needs cmake (>= 3.18), make, cc, c++, gfortran, pkg-config, readelf, ldd, cargo.
# Environment (all optional):
#   PENGUIN_CONSUMERS_CARGO_TARGET_DIR  cargo target dir for the CMake build
#                                       (default: inside the temporary directory)
#   PENGUIN_CARGO_OFFLINE=1             configure with -DPENGUIN_CARGO_OFFLINE=ON
#   PENGUIN_EXPECTED_DECISIONS=FILE     decisions every program must reproduce
#   PENGUIN_CONSUMERS_KEEP=1            keep the temporary directory
#   CARGO                               the cargo to use (set by `cargo test`)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
data="$root/tests/data/fmnist_random_cnn.csv"
jobs=${PENGUIN_CONSUMERS_JOBS:-2}

# The programs must load the libraries just installed, through their RUNPATH;
# LD_LIBRARY_PATH would take precedence (`cargo test` sets it to target/debug,
# where a libpenguin.so.0.2 from another build may be).
unset LD_LIBRARY_PATH

for tool in cmake make cc c++ gfortran pkg-config readelf ldd; do
  command -v "$tool" >/dev/null 2>&1 || { echo "consumers.sh: '$tool' not found" >&2; exit 1; }
done

work=$(mktemp -d "${TMPDIR:-/tmp}/penguin-consumers.XXXXXX")
if [ "${PENGUIN_CONSUMERS_KEEP:-0}" = 1 ]; then
  echo "consumers.sh: keeping $work"
else
  trap 'rm -rf "$work"' EXIT
fi
target=${PENGUIN_CONSUMERS_CARGO_TARGET_DIR:-$work/cargo}
prefix="$work/prefix"
logs="$work/logs"
mkdir -p "$logs"
passed=0
start=$SECONDS

fail() { echo "FAILED: $*" >&2; exit 1; }
ok() { passed=$((passed + 1)); printf 'ok %2d  %s\n' "$passed" "$*"; }

# run LOGNAME CMD...: runs CMD with its output in a log; shows the log on failure.
run() {
  local name=$1
  shift
  if ! "$@" >"$logs/$name.log" 2>&1; then
    echo "--- $name failed: $*" >&2
    tail -n 80 "$logs/$name.log" >&2
    fail "$name"
  fi
}

# same_decisions EXPECTED ACTUAL LABEL: the decision lines (not #) agree:
# id, model, state and observations as text, stop epoch and prediction as
# numbers (exactly; NaN equals NaN).
same_decisions() {
  awk -v label="$3" '
    function same_number(a, b,   la, lb) {
      la = tolower(a); lb = tolower(b)
      if (la ~ /nan/ || lb ~ /nan/) return (la ~ /nan/ && lb ~ /nan/)
      return (a + 0 == b + 0)
    }
    FNR == 1 { file++ }
    /^#/ || NF == 0 { next }
    file == 1 { want[++n] = $0; next }
    {
      m++
      split(want[m], w, " ")
      if (NF != 6 || w[1] != $1 || w[2] != $2 || w[3] != $3 || w[6] != $6 ||
          !same_number(w[4], $4) || !same_number(w[5], $5)) {
        if (bad++ < 5) printf "%s: line %d differs:\n  expected %s\n  got      %s\n", label, m, want[m], $0
      }
    }
    END {
      if (m != n) { printf "%s: %d decisions, expected %d\n", label, m, n; exit 1 }
      if (n == 0) { printf "%s: no decisions\n", label; exit 1 }
      exit bad > 0
    }' "$1" "$2" >&2 || fail "$3: decisions differ from $1"
}

# loads_from EXE DIR: EXE loads the shared libpenguin from DIR.
loads_from() {
  ldd "$1" | grep "libpenguin\.so[.0-9]* => $2/libpenguin" >/dev/null ||
    { ldd "$1" >&2; fail "$1 does not load libpenguin from $2"; }
}

# ------------------------------------------------------------ build, install
cmake_args=(-DPENGUIN_CARGO_TARGET_DIR="$target")
[ "${PENGUIN_CARGO_OFFLINE:-0}" = 1 ] && cmake_args+=(-DPENGUIN_CARGO_OFFLINE=ON)
[ -n "${CARGO:-}" ] && cmake_args+=(-DPENGUIN_CARGO="$CARGO")
run configure cmake -S "$root" -B "$work/build" "${cmake_args[@]}"
t0=$SECONDS
run build cmake --build "$work/build"
run install cmake --install "$work/build" --prefix "$prefix"
ok "Penguin built with CMake (cargo: $((SECONDS - t0)) s) and installed into a temporary prefix"

# The C library is the engine and the C API: the CMake build compiles none of
# the `penguin` program's dependencies (cargo feature `cli`) nor cbindgen (the
# header is committed; feature `header` regenerates it for the tests).
program_deps=$(ls "$target/release/deps" | grep -E '^lib(serde_json|plotters|indicatif|cbindgen)-' || true)
[ -z "$program_deps" ] || fail "the CMake build compiled what the C library does not need: $program_deps"
ok "the CMake build compiled none of the penguin program's dependencies (serde_json, plotters, indicatif) nor cbindgen"

lib="$prefix/lib"
version=$(awk -F'"' '/^version *=/ { print $2; exit }' "$root/Cargo.toml")
minor=$(echo "$version" | cut -d. -f2)
soname="libpenguin.so.0.$minor"
for f in "lib/libpenguin.so.$version" lib/libpenguin.a include/penguin.h include/penguin.hpp \
         include/penguin.f90 lib/pkgconfig/penguin.pc lib/cmake/Penguin/PenguinConfig.cmake \
         lib/cmake/Penguin/PenguinConfigVersion.cmake share/doc/Penguin/LICENSE; do
  [ -f "$prefix/$f" ] || fail "not installed: $f"
done
[ "$(readlink "$lib/$soname")" = "libpenguin.so.$version" ] || fail "$soname is not a link to libpenguin.so.$version"
[ "$(readlink "$lib/libpenguin.so")" = "$soname" ] || fail "libpenguin.so is not a link to $soname"
if command -v readelf >/dev/null 2>&1; then
  readelf -d "$lib/libpenguin.so.$version" | grep "Library soname: \[$soname\]" >/dev/null ||
    fail "the installed library's SONAME is not $soname"
fi
cmp -s "$root/include/penguin.h" "$prefix/include/penguin.h" || fail "installed penguin.h differs"
ok "installed: libpenguin.so.$version, $soname -> it, libpenguin.so -> $soname, libpenguin.a, headers, Fortran source, .pc, CMake package"

export PKG_CONFIG_PATH="$lib/pkgconfig"
[ "$(pkg-config --modversion penguin)" = "$version" ] || fail "pkg-config --modversion penguin"
native=$(cat "$work/build/penguin-native-static-libs.txt")
[ -n "$native" ] || fail "no native-static-libs recorded"
static_libs=$(pkg-config --static --libs penguin)
case " $static_libs " in *" $native "*) ;; *) fail "pkg-config --static --libs ($static_libs) lacks Libs.private ($native)" ;; esac
[ "$(pkg-config --variable=fortran_source penguin)" = "$prefix/include/penguin.f90" ] ||
  fail "pkg-config --variable=fortran_source"
ok "penguin.pc: version $version, Libs.private from rustc: $native"

# ---------------------------------------------------------------- reference
# examples/penguin_curves.c linked the way docs/guide.md says, without CMake or
# pkg-config.
cc -O2 -I"$prefix/include" "$root/examples/penguin_curves.c" "$lib/libpenguin.a" \
  -lpthread -ldl -lrt -lgcc_s -lm -o "$work/reference" 2>"$logs/reference.log" ||
  { cat "$logs/reference.log" >&2; fail "reference build"; }
ref="$work/reference.out"
"$work/reference" "$data" >"$ref"
# One line per network with a finite validation, in file order, each stopped.
networks=$(awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) { if ($i == "model_id") c = i; if ($i == "val_acc") v = i }; next }
  tolower($v) !~ /nan|inf/ && $v != "" && !($c in seen) { seen[$c] = 1; n++ } END { print n }' "$data")
[ "$(wc -l <"$ref")" -eq "$networks" ] || fail "reference: $(wc -l <"$ref") lines for $networks networks"
awk '$3 != "converged" && $3 != "reached_e_pred" { exit 1 }' "$ref" || fail "reference: a network was not stopped"
converged=$(awk '$3 == "converged"' "$ref" | wc -l)
if [ -n "${PENGUIN_EXPECTED_DECISIONS:-}" ]; then
  same_decisions "$PENGUIN_EXPECTED_DECISIONS" "$ref" "reference vs Rust engine"
  ok "reference (penguin_curves.c, static): $networks networks, $converged converged; identical to the Rust engine's decisions"
else
  ok "reference (penguin_curves.c, static): $networks networks, $converged converged"
fi

# ------------------------------------------------ (a), (b) CMake consumer
run cmake_consumer_configure cmake -S "$root/examples/cmake_consumer" -B "$work/cmake_consumer" \
  -DCMAKE_PREFIX_PATH="$prefix"
grep -q "Found Penguin $version" "$logs/cmake_consumer_configure.log" || fail "cmake_consumer did not report Penguin $version"
run cmake_consumer_build cmake --build "$work/cmake_consumer" -j "$jobs"
readelf -d "$work/cmake_consumer/penguin_curves" 2>/dev/null | grep "NEEDED.*\[$soname\]" >/dev/null ||
  fail "penguin_curves (Penguin::penguin) does not need $soname"
loads_from "$work/cmake_consumer/penguin_curves" "$lib"
if readelf -d "$work/cmake_consumer/penguin_curves_static" 2>/dev/null | grep "libpenguin" >/dev/null; then
  fail "penguin_curves_static (Penguin::penguin_static) needs a shared libpenguin"
fi
"$work/cmake_consumer/penguin_curves" "$data" >"$work/a.out"
same_decisions "$ref" "$work/a.out" "(a) CMake Penguin::penguin"
ok "(a) find_package(Penguin 0.2 REQUIRED) + Penguin::penguin: same decisions"
"$work/cmake_consumer/penguin_curves_static" "$data" >"$work/b.out"
same_decisions "$ref" "$work/b.out" "(b) CMake Penguin::penguin_static"
ok "(b) Penguin::penguin_static (no shared libpenguin needed): same decisions"

# ------------------------------------------------------------- (c) Fortran
run fortran_configure cmake -S "$root/examples/fortran" -B "$work/fortran" -DCMAKE_PREFIX_PATH="$prefix"
run fortran_build cmake --build "$work/fortran" -j "$jobs"
loads_from "$work/fortran/penguin_curves_f" "$lib"
loads_from "$work/fortran/api_check" "$lib"
(cd "$work/fortran" && ./api_check) >"$work/api_check_f.out" 2>&1 ||
  { cat "$work/api_check_f.out" >&2; fail "(c) Fortran api_check"; }
grep -q "^api_check: [0-9]* checks, 0 failed$" "$work/api_check_f.out" ||
  { cat "$work/api_check_f.out" >&2; fail "(c) Fortran api_check output"; }
ok "(c) Fortran module vs C: $(grep '^# penguin_nn_status' "$work/api_check_f.out" | cut -c3-); $(tail -n 1 "$work/api_check_f.out")"
if (cd "$work/fortran" && ./api_check die) >"$work/die.out" 2>"$work/die.err"; then
  fail "(c) an error without ierr did not stop the Fortran program"
fi
grep -q "penguin: error 7 .*unknown config key 'no_such_key'" "$work/die.err" ||
  { cat "$work/die.err" >&2; fail "(c) the error-stop message"; }
grep -q "still running" "$work/die.out" && fail "(c) the program went on after error stop"
ok "(c) Fortran: an error without ierr prints the message and stops (error stop, exit status != 0)"
for variant in penguin_curves_f penguin_curves_f_static; do
  "$work/fortran/$variant" "$data" >"$work/$variant.out"
  same_decisions "$ref" "$work/$variant.out" "(c) Fortran CMake $variant"
  grep -q "^# rejected as expected: ierr = 2: penguin_observe: " "$work/$variant.out" ||
    fail "(c) $variant: ierr and penguin_last_error"
done
ok "(c) Fortran example via CMake, shared and static: same decisions; ierr + message"
# user_function_f: "user_function: N checks, 0 failed" and exit status 0.
user_function_ok() {
  local rc=0
  "$1" "$data" >"$2" 2>&1 || rc=$?
  [ "$rc" = 0 ] || { cat "$2" >&2; fail "(c) $1 exited with status $rc"; }
  grep -q "^user_function: [0-9]* checks, 0 failed$" "$2" || { cat "$2" >&2; fail "(c) $1 output"; }
}
loads_from "$work/fortran/user_function_f" "$lib"
user_function_ok "$work/fortran/user_function_f" "$work/user_function_f.out"
ok "(c) Fortran user-defined function hyper2 (2 parameters, bind(C) value + Jacobian): \
$(sed -n 's/^# sequential, value + Jacobian: //p' "$work/user_function_f.out"); \
batched on 2 threads bit for bit; finite differences; failing callbacks; $(tail -n 1 "$work/user_function_f.out")"
# Plain make + gfortran, module source and flags from pkg-config.
mkdir -p "$work/gfortran"
run gfortran_make make -C "$root/examples/fortran" O="$work/gfortran"
grep -q "^gfortran .*$prefix/include/penguin.f90 .*-lpenguin" "$logs/gfortran_make.log" ||
  { cat "$logs/gfortran_make.log" >&2; fail "(c) examples/fortran/Makefile did not use pkg-config"; }
loads_from "$work/gfortran/penguin_curves_f" "$lib"
for variant in penguin_curves_f penguin_curves_f_static; do
  "$work/gfortran/$variant" "$data" >"$work/gf_$variant.out"
  same_decisions "$ref" "$work/gf_$variant.out" "(c) gfortran $variant"
done
loads_from "$work/gfortran/user_function_f" "$lib"
user_function_ok "$work/gfortran/user_function_f" "$work/gf_user_function_f.out"
ok "(c) Fortran example via examples/fortran/Makefile (gfortran + pkg-config), shared and static: same decisions; user_function_f passes"

# ----------------------------------------------------------------- (d) C++
run cpp_configure cmake -S "$root/examples/cpp" -B "$work/cpp" -DCMAKE_PREFIX_PATH="$prefix"
run cpp_build cmake --build "$work/cpp" -j "$jobs"
loads_from "$work/cpp/menndl_loop" "$lib"
loads_from "$work/cpp/api_check_cxx14" "$lib"
for std in 14 20; do
  "$work/cpp/api_check_cxx$std" >"$work/api_check_cxx$std.out" 2>&1 ||
    { cat "$work/api_check_cxx$std.out" >&2; fail "(d) C++$std api_check"; }
  grep -q "^api_check (C++$std): [0-9]* checks, 0 failed$" "$work/api_check_cxx$std.out" ||
    fail "(d) C++$std api_check output"
done
grep -q "std::span overload checked" "$work/api_check_cxx20.out" || fail "(d) C++20 did not check std::span"
ok "(d) penguin.hpp: $(tail -n 1 "$work/api_check_cxx14.out"); $(tail -n 1 "$work/api_check_cxx20.out") (static)"
for mode in sequential batch; do
  "$work/cpp/menndl_loop" "$data" "$mode" >"$work/menndl_$mode.out"
  same_decisions "$ref" "$work/menndl_$mode.out" "(d) C++ menndl_loop $mode"
  grep -q "^# rejected as expected: code 2: " "$work/menndl_$mode.out" || fail "(d) penguin::Error code and message"
done
ok "(d) C++ MENNDL-style loop, sequential and batched (std::span): same decisions; $(sed -n 's/^# sequential: //p' "$work/menndl_sequential.out")"

# ---------------------------------------------------------- (e) Makefile
mkdir -p "$work/make"
run make make -C "$root/examples/makefile" O="$work/make"
grep -q -- "-lpenguin" "$logs/make.log" || fail "(e) the Makefile did not use pkg-config's -lpenguin"
loads_from "$work/make/penguin_curves" "$lib"
for variant in penguin_curves penguin_curves_static; do
  "$work/make/$variant" "$data" >"$work/make_$variant.out"
  same_decisions "$ref" "$work/make_$variant.out" "(e) make $variant"
done
ok "(e) plain Makefile with pkg-config --cflags --libs penguin (and --static): same decisions"

# ------------------------------------------------------- (f) FindPenguin
# A plain cargo tree: the source's include/ and the cargo target directory
# the CMake build used (cargo's own output: no SONAME link, no .pc, no
# CMake package).
tree="$work/cargo-tree"
mkdir -p "$tree"
ln -s "$root/include" "$tree/include"
ln -s "$target" "$tree/target"
[ ! -e "$target/release/$soname" ] || fail "(f) the cargo tree unexpectedly has $soname"
run find_tree_configure env -u PKG_CONFIG_PATH cmake -S "$root/examples/cmake_consumer" -B "$work/find_tree" \
  -DCMAKE_MODULE_PATH="$root/cmake" -DPenguin_ROOT="$tree"
grep -q "Found Penguin: $tree/target/release/libpenguin.so (found suitable version \"$version\"" \
  "$logs/find_tree_configure.log" || { cat "$logs/find_tree_configure.log" >&2; fail "(f) FindPenguin on the cargo tree"; }
run find_tree_build cmake --build "$work/find_tree" -j "$jobs"
loads_from "$work/find_tree/penguin_curves" "$work/find_tree/_penguin_soname"
for variant in penguin_curves penguin_curves_static; do
  "$work/find_tree/$variant" "$data" >"$work/find_tree_$variant.out"
  same_decisions "$ref" "$work/find_tree_$variant.out" "(f) FindPenguin cargo tree $variant"
done
ok "(f) FindPenguin.cmake + Penguin_ROOT on a plain cargo tree: shared (SONAME link made in the build tree) and static: same decisions"
# An installation with only a .pc file (no CMake package): pkg-config route.
pconly="$work/pc-only"
mkdir -p "$pconly/lib/pkgconfig"
cp -a "$lib"/libpenguin.* "$pconly/lib/"
cp -a "$prefix/include" "$pconly/"
sed "s|^prefix=.*|prefix=$pconly|" "$lib/pkgconfig/penguin.pc" >"$pconly/lib/pkgconfig/penguin.pc"
run find_pc_configure env PKG_CONFIG_PATH="$pconly/lib/pkgconfig" cmake -S "$root/examples/cmake_consumer" \
  -B "$work/find_pc" -DCMAKE_MODULE_PATH="$root/cmake"
grep -q "Found Penguin: $pconly/lib/libpenguin.so" "$logs/find_pc_configure.log" ||
  { cat "$logs/find_pc_configure.log" >&2; fail "(f) FindPenguin through pkg-config"; }
grep -q "^Penguin_NATIVE_STATIC_LIBS:STRING=$(echo "$native" | sed 's/-l//g; s/ /;/g')$" "$work/find_pc/CMakeCache.txt" ||
  fail "(f) FindPenguin did not take the native libraries from Libs.private"
run find_pc_build cmake --build "$work/find_pc" -j "$jobs"
loads_from "$work/find_pc/penguin_curves" "$pconly/lib"
for variant in penguin_curves penguin_curves_static; do
  "$work/find_pc/$variant" "$data" >"$work/find_pc_$variant.out"
  same_decisions "$ref" "$work/find_pc_$variant.out" "(f) FindPenguin via pkg-config $variant"
done
ok "(f) FindPenguin.cmake through pkg-config only (native libraries from Libs.private): same decisions"

# --------------------------------------------------- (g) version requests
# want_version DIR REQUEST accept|reject [extra cmake args]
want_version() {
  local dir=$1 request=$2 expect=$3
  shift 3
  mkdir -p "$work/version/$dir"
  cat >"$work/version/$dir/CMakeLists.txt" <<EOF
cmake_minimum_required(VERSION 3.16)
project(penguin_version_request LANGUAGES C)
find_package(Penguin $request REQUIRED)
EOF
  if cmake -S "$work/version/$dir" -B "$work/version/$dir/build" "$@" >"$logs/version_$dir.log" 2>&1; then
    [ "$expect" = accept ] || { cat "$logs/version_$dir.log" >&2; fail "(g) find_package(Penguin $request) accepted $version ($dir)"; }
  else
    [ "$expect" = reject ] || { cat "$logs/version_$dir.log" >&2; fail "(g) find_package(Penguin $request) rejected $version ($dir)"; }
    grep -qi "compatible" "$logs/version_$dir.log" || { cat "$logs/version_$dir.log" >&2; fail "(g) $dir: no version message"; }
  fi
}
# On 0.x only the same minor version is compatible: 0.MINOR is accepted,
# 0.(MINOR+1) and 0.(MINOR-1) are rejected.
rejected="0.$((minor + 1))"
[ "$minor" -gt 0 ] && rejected="$rejected 0.$((minor - 1))"
for how in config module; do
  if [ $how = config ]; then args=(-DCMAKE_PREFIX_PATH="$prefix"); else args=(-DCMAKE_MODULE_PATH="$root/cmake" -DPenguin_ROOT="$tree"); fi
  want_version "${how}_same" "0.$minor" accept "${args[@]}"
  for r in $rejected; do
    want_version "${how}_$r" "$r" reject "${args[@]}"
  done
done
ok "(g) version $version: find_package(Penguin 0.$minor) accepted; $rejected rejected (PenguinConfigVersion.cmake and FindPenguin.cmake)"

echo "consumers.sh: all $passed checks passed in $((SECONDS - start)) s"
