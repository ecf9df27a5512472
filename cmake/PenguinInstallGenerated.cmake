# Install step of Penguin's CMake build (included by cmake_install.cmake):
# writes penguin.pc and PenguinConfig.cmake, which need both the install-time
# prefix (`cmake --install build --prefix PREFIX`) and the native libraries
# recorded by the build step, and installs them.
#
# Input variables (set by CMakeLists.txt's install(CODE)): PENGUIN_VERSION,
# PENGUIN_DESCRIPTION, PENGUIN_SONAME, PENGUIN_REALNAME, PENGUIN_LIBDIR,
# PENGUIN_INCLUDEDIR, PENGUIN_CMAKEDIR, PENGUIN_PKGCONFIGDIR,
# PENGUIN_NATIVE_STATIC_LIBS_FILE, PENGUIN_TEMPLATE_DIR, PENGUIN_GENERATED_DIR;
# CMAKE_INSTALL_PREFIX as given to the install.

if(NOT EXISTS "${PENGUIN_NATIVE_STATIC_LIBS_FILE}")
  message(FATAL_ERROR "${PENGUIN_NATIVE_STATIC_LIBS_FILE} is missing: build before installing "
                      "(cmake --build BUILD_DIR)")
endif()
file(READ "${PENGUIN_NATIVE_STATIC_LIBS_FILE}" PENGUIN_NATIVE_STATIC_LIBS)
string(STRIP "${PENGUIN_NATIVE_STATIC_LIBS}" PENGUIN_NATIVE_STATIC_LIBS)

# For CMake: `-lfoo` becomes `foo`; anything else (e.g. macOS's
# `-framework X`) is passed through as a link option.
separate_arguments(_flags UNIX_COMMAND "${PENGUIN_NATIVE_STATIC_LIBS}")
set(PENGUIN_NATIVE_STATIC_LIBS_CMAKE "")
set(_pending "")
foreach(f IN LISTS _flags)
  if(_pending)
    list(APPEND PENGUIN_NATIVE_STATIC_LIBS_CMAKE "SHELL:${_pending} ${f}")
    set(_pending "")
  elseif(f STREQUAL "-framework")
    set(_pending "${f}")
  elseif(f MATCHES "^-l(.+)$")
    list(APPEND PENGUIN_NATIVE_STATIC_LIBS_CMAKE "${CMAKE_MATCH_1}")
  else()
    list(APPEND PENGUIN_NATIVE_STATIC_LIBS_CMAKE "${f}")
  endif()
endforeach()

# Directories relative to the prefix, or absolute if given so.
foreach(v LIBDIR INCLUDEDIR CMAKEDIR PKGCONFIGDIR)
  if(IS_ABSOLUTE "${PENGUIN_${v}}")
    set(_abs_${v} "${PENGUIN_${v}}")
  else()
    set(_abs_${v} "${CMAKE_INSTALL_PREFIX}/${PENGUIN_${v}}")
  endif()
endforeach()

# penguin.pc: absolute paths under the install prefix.
set(prefix "${CMAKE_INSTALL_PREFIX}")
if(IS_ABSOLUTE "${PENGUIN_LIBDIR}")
  set(PC_LIBDIR "${PENGUIN_LIBDIR}")
else()
  set(PC_LIBDIR "\${prefix}/${PENGUIN_LIBDIR}")
endif()
if(IS_ABSOLUTE "${PENGUIN_INCLUDEDIR}")
  set(PC_INCLUDEDIR "${PENGUIN_INCLUDEDIR}")
else()
  set(PC_INCLUDEDIR "\${prefix}/${PENGUIN_INCLUDEDIR}")
endif()
configure_file("${PENGUIN_TEMPLATE_DIR}/penguin.pc.in"
               "${PENGUIN_GENERATED_DIR}/penguin.pc" @ONLY)

# PenguinConfig.cmake: paths relative to its own directory (relocatable).
file(RELATIVE_PATH PENGUIN_CONFIG_TO_PREFIX "${_abs_CMAKEDIR}" "${CMAKE_INSTALL_PREFIX}")
file(RELATIVE_PATH PENGUIN_PREFIX_TO_LIBDIR "${CMAKE_INSTALL_PREFIX}" "${_abs_LIBDIR}")
file(RELATIVE_PATH PENGUIN_PREFIX_TO_INCLUDEDIR "${CMAKE_INSTALL_PREFIX}" "${_abs_INCLUDEDIR}")
configure_file("${PENGUIN_TEMPLATE_DIR}/PenguinConfig.cmake.in"
               "${PENGUIN_GENERATED_DIR}/PenguinConfig.cmake" @ONLY)

file(INSTALL DESTINATION "${_abs_PKGCONFIGDIR}" TYPE FILE
     FILES "${PENGUIN_GENERATED_DIR}/penguin.pc")
file(INSTALL DESTINATION "${_abs_CMAKEDIR}" TYPE FILE
     FILES "${PENGUIN_GENERATED_DIR}/PenguinConfig.cmake")
