# Build step of Penguin's CMake build (run with cmake -P by the penguin_cargo
# target): builds the library with cargo and records the native libraries a
# static link needs.
#
# Input variables: CARGO, SOURCE_DIR, TARGET_DIR, OFFLINE, FLAGS (a
# space-separated string), NATIVE_LIBS_FILE.
#
# `cargo rustc --lib --no-default-features -- --print native-static-libs`
# builds the same artifacts as `cargo build --lib --no-default-features` (the
# engine and the C API without the `penguin` program's dependencies; the crate
# types of Cargo.toml: cdylib, staticlib,
# rlib) and makes rustc print, for the staticlib, a line
#   note: native-static-libs: -lgcc_s -lutil -lrt -lpthread -lm -ldl -lc
# When nothing changed, cargo replays that note from its cache.

set(args rustc --release --locked --lib --no-default-features --color never --target-dir "${TARGET_DIR}")
if(OFFLINE)
  list(APPEND args --offline)
endif()
if(FLAGS)
  separate_arguments(extra UNIX_COMMAND "${FLAGS}")
  list(APPEND args ${extra})
endif()
list(APPEND args -- --print native-static-libs)

execute_process(
  COMMAND "${CARGO}" ${args}
  WORKING_DIRECTORY "${SOURCE_DIR}"
  RESULT_VARIABLE rc
  ERROR_VARIABLE err
  ECHO_ERROR_VARIABLE)
if(NOT rc EQUAL 0)
  list(JOIN args " " shown)
  message(FATAL_ERROR "`cargo ${shown}` failed (${rc})")
endif()

if(err MATCHES "native-static-libs: ([^\r\n]*)")
  string(STRIP "${CMAKE_MATCH_1}" libs)
  set(old "")
  if(EXISTS "${NATIVE_LIBS_FILE}")
    file(READ "${NATIVE_LIBS_FILE}" old)
  endif()
  if(NOT old STREQUAL libs)
    file(WRITE "${NATIVE_LIBS_FILE}" "${libs}")
  endif()
elseif(NOT EXISTS "${NATIVE_LIBS_FILE}")
  message(FATAL_ERROR
    "cargo succeeded but rustc printed no `native-static-libs` line; remove "
    "${TARGET_DIR}/release/.fingerprint/penguin-* and build again")
endif()

foreach(f libpenguin.so libpenguin.a)
  if(NOT EXISTS "${TARGET_DIR}/release/${f}")
    message(FATAL_ERROR "cargo did not produce ${TARGET_DIR}/release/${f}")
  endif()
endforeach()
