# FindPenguin.cmake: finds a Penguin that has no CMake package files: a source
# tree built with plain `cargo build --release` (libraries in target/release),
# or an installation with only a pkg-config file or only lib/ and include/.
# For an installation made by Penguin's CMake build, find_package uses the
# installed PenguinConfig.cmake instead (it takes precedence only when this
# module is not on CMAKE_MODULE_PATH, or with find_package(... CONFIG)).
#
#   list(APPEND CMAKE_MODULE_PATH <penguin source>/cmake)
#   find_package(Penguin 0.2 REQUIRED)      # -DPenguin_ROOT=<tree or prefix>
#   target_link_libraries(app PRIVATE Penguin::penguin)   # or Penguin::penguin_static
#
# Search order: Penguin_ROOT (CMake variable or environment variable), then
# pkg-config (`penguin`), then the usual system paths. In a source tree,
# target/release is preferred to target/debug.
#
# Defines
#   Penguin::penguin         the shared library (when found)
#   Penguin::penguin_static  the static library (when found) with the system
#                            libraries a static link needs
#   Penguin_FOUND, Penguin_VERSION (from penguin.h), Penguin_INCLUDE_DIRS,
#   Penguin_LIBRARIES, Penguin_STATIC_LIBRARIES, Penguin_Fortran_SOURCE
#   (penguin.f90 when found next to penguin.h)
# Cache variables
#   Penguin_INCLUDE_DIR, Penguin_LIBRARY, Penguin_STATIC_LIBRARY
#   Penguin_NATIVE_STATIC_LIBS  system libraries for the static library: from
#       pkg-config's Libs.private when Penguin was found through pkg-config,
#       otherwise the list rustc prints for x86_64/aarch64-unknown-linux-gnu
#       (`--print native-static-libs`: gcc_s util rt pthread m dl c). Set it
#       for another platform.
# Components: shared, static (by default at least one must be found).
#
# Versions: on 0.x a request for another minor version is rejected (0.2 does
# not accept 0.3, as PenguinConfigVersion.cmake's SameMinorVersion); from 1.0
# on, the major version must match and the found version be at least the
# requested one.
#
# A plain cargo build does not create the SONAME link (libpenguin.so.0.2):
# when it is missing next to the library, this module creates it in the
# build tree and points Penguin::penguin there, so programs run from the
# build tree find the library.

cmake_policy(PUSH)
cmake_policy(SET CMP0057 NEW) # if(IN_LIST)

set(_penguin_hints)
foreach(_penguin_root IN ITEMS "${Penguin_ROOT}" "$ENV{Penguin_ROOT}" "${PENGUIN_ROOT}" "$ENV{PENGUIN_ROOT}")
  if(_penguin_root)
    list(APPEND _penguin_hints "${_penguin_root}")
  endif()
endforeach()

find_package(PkgConfig QUIET)
if(PKG_CONFIG_FOUND)
  pkg_check_modules(PC_Penguin QUIET penguin)
endif()

find_path(Penguin_INCLUDE_DIR penguin.h
  HINTS ${_penguin_hints} ${PC_Penguin_INCLUDEDIR} ${PC_Penguin_INCLUDE_DIRS}
  PATH_SUFFIXES include
  DOC "Directory of penguin.h")
find_library(Penguin_LIBRARY NAMES penguin
  HINTS ${_penguin_hints} ${PC_Penguin_LIBDIR} ${PC_Penguin_LIBRARY_DIRS}
  PATH_SUFFIXES target/release target/debug lib lib64
  DOC "libpenguin.so")
find_library(Penguin_STATIC_LIBRARY NAMES libpenguin.a
  HINTS ${_penguin_hints} ${PC_Penguin_LIBDIR} ${PC_Penguin_LIBRARY_DIRS}
  PATH_SUFFIXES target/release target/debug lib lib64
  DOC "libpenguin.a")
mark_as_advanced(Penguin_INCLUDE_DIR Penguin_LIBRARY Penguin_STATIC_LIBRARY)
# find_library may return the static library for NAMES penguin when no
# shared one exists.
if(Penguin_LIBRARY MATCHES "\\.a$")
  set(Penguin_LIBRARY "Penguin_LIBRARY-NOTFOUND" CACHE FILEPATH "libpenguin.so" FORCE)
endif()

# The version from the header.
unset(Penguin_VERSION)
if(Penguin_INCLUDE_DIR AND EXISTS "${Penguin_INCLUDE_DIR}/penguin.h")
  file(STRINGS "${Penguin_INCLUDE_DIR}/penguin.h" _penguin_defs
       REGEX "^#define PENGUIN_VERSION_(MAJOR|MINOR|PATCH) [0-9]+")
  foreach(_penguin_part MAJOR MINOR PATCH)
    if(_penguin_defs MATCHES "PENGUIN_VERSION_${_penguin_part} ([0-9]+)")
      set(Penguin_VERSION_${_penguin_part} "${CMAKE_MATCH_1}")
    endif()
  endforeach()
  if(DEFINED Penguin_VERSION_PATCH)
    set(Penguin_VERSION "${Penguin_VERSION_MAJOR}.${Penguin_VERSION_MINOR}.${Penguin_VERSION_PATCH}")
  endif()
endif()

# Same compatibility rule as the installed PenguinConfigVersion.cmake.
set(_penguin_version_ok TRUE)
set(_penguin_reason "")
if(Penguin_FIND_VERSION AND Penguin_VERSION)
  if(Penguin_VERSION_MAJOR EQUAL 0)
    if(NOT Penguin_FIND_VERSION_MAJOR EQUAL 0
       OR NOT Penguin_FIND_VERSION_MINOR EQUAL Penguin_VERSION_MINOR
       OR Penguin_VERSION VERSION_LESS Penguin_FIND_VERSION)
      set(_penguin_version_ok FALSE)
    endif()
  elseif(NOT Penguin_FIND_VERSION_MAJOR EQUAL Penguin_VERSION_MAJOR
         OR Penguin_VERSION VERSION_LESS Penguin_FIND_VERSION)
    set(_penguin_version_ok FALSE)
  endif()
  if(Penguin_FIND_VERSION_EXACT AND NOT Penguin_VERSION VERSION_EQUAL Penguin_FIND_VERSION)
    set(_penguin_version_ok FALSE)
  endif()
  if(NOT _penguin_version_ok)
    set(_penguin_reason "found version ${Penguin_VERSION} in ${Penguin_INCLUDE_DIR} is not "
                        "compatible with the requested ${Penguin_FIND_VERSION} (0.x: same minor version)")
    string(CONCAT _penguin_reason ${_penguin_reason})
    set(_penguin_version_ok "")
  endif()
endif()

if(Penguin_VERSION_MAJOR EQUAL 0)
  set(_penguin_soname "libpenguin.so.0.${Penguin_VERSION_MINOR}")
else()
  set(_penguin_soname "libpenguin.so.${Penguin_VERSION_MAJOR}")
endif()

# System libraries for the static library.
if(NOT DEFINED Penguin_NATIVE_STATIC_LIBS)
  set(_penguin_native "gcc_s;util;rt;pthread;m;dl;c")
  if(PC_Penguin_FOUND AND PC_Penguin_STATIC_LIBRARIES)
    set(_penguin_native ${PC_Penguin_STATIC_LIBRARIES})
    list(REMOVE_ITEM _penguin_native penguin)
  endif()
  set(Penguin_NATIVE_STATIC_LIBS "${_penguin_native}" CACHE STRING
      "System libraries to link with libpenguin.a (rustc --print native-static-libs)")
endif()

# Components: shared and static; by default at least one must be found.
set(Penguin_shared_FOUND FALSE)
set(Penguin_static_FOUND FALSE)
if(Penguin_LIBRARY)
  set(Penguin_shared_FOUND TRUE)
endif()
if(Penguin_STATIC_LIBRARY)
  set(Penguin_static_FOUND TRUE)
endif()
set(_penguin_any_library "${Penguin_LIBRARY}")
if(NOT _penguin_any_library)
  set(_penguin_any_library "${Penguin_STATIC_LIBRARY}")
endif()

include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(Penguin
  REQUIRED_VARS _penguin_any_library Penguin_INCLUDE_DIR _penguin_version_ok
  VERSION_VAR Penguin_VERSION
  HANDLE_COMPONENTS
  REASON_FAILURE_MESSAGE "${_penguin_reason}")

if(Penguin_FOUND)
  set(Penguin_INCLUDE_DIRS "${Penguin_INCLUDE_DIR}")
  if(EXISTS "${Penguin_INCLUDE_DIR}/penguin.f90")
    set(Penguin_Fortran_SOURCE "${Penguin_INCLUDE_DIR}/penguin.f90")
  endif()
  if(Penguin_LIBRARY AND NOT TARGET Penguin::penguin)
    # Link through a file named like the SONAME so that the runtime finds it.
    get_filename_component(_penguin_libdir "${Penguin_LIBRARY}" DIRECTORY)
    get_filename_component(_penguin_real "${Penguin_LIBRARY}" REALPATH)
    set(_penguin_location "${Penguin_LIBRARY}")
    if(NOT EXISTS "${_penguin_libdir}/${_penguin_soname}")
      set(_penguin_linkdir "${CMAKE_BINARY_DIR}/_penguin_soname")
      file(MAKE_DIRECTORY "${_penguin_linkdir}")
      file(CREATE_LINK "${_penguin_real}" "${_penguin_linkdir}/${_penguin_soname}" SYMBOLIC)
      set(_penguin_location "${_penguin_linkdir}/${_penguin_soname}")
    endif()
    add_library(Penguin::penguin SHARED IMPORTED)
    set_target_properties(Penguin::penguin PROPERTIES
      IMPORTED_LOCATION "${_penguin_location}"
      IMPORTED_SONAME "${_penguin_soname}"
      INTERFACE_INCLUDE_DIRECTORIES "${Penguin_INCLUDE_DIR}")
  endif()
  if(Penguin_STATIC_LIBRARY AND NOT TARGET Penguin::penguin_static)
    add_library(Penguin::penguin_static STATIC IMPORTED)
    set_target_properties(Penguin::penguin_static PROPERTIES
      IMPORTED_LOCATION "${Penguin_STATIC_LIBRARY}"
      INTERFACE_INCLUDE_DIRECTORIES "${Penguin_INCLUDE_DIR}"
      INTERFACE_LINK_LIBRARIES "${Penguin_NATIVE_STATIC_LIBS}")
  endif()
  set(Penguin_LIBRARIES)
  if(TARGET Penguin::penguin)
    set(Penguin_LIBRARIES Penguin::penguin)
  endif()
  set(Penguin_STATIC_LIBRARIES)
  if(TARGET Penguin::penguin_static)
    set(Penguin_STATIC_LIBRARIES Penguin::penguin_static)
  endif()
endif()

unset(_penguin_hints)
unset(_penguin_root)
unset(_penguin_defs)
unset(_penguin_part)
unset(_penguin_native)
unset(_penguin_any_library)
unset(_penguin_libdir)
unset(_penguin_real)
unset(_penguin_location)
unset(_penguin_linkdir)
cmake_policy(POP)
