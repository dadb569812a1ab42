# find_package(msstore) support. Imported targets:
#   msstore::msstore         the shared library (libmsstore.so / .dylib / msstore.dll)
#   msstore::msstore_static  the static library (defines MSSTORE_STATIC; brings the system
#                            libraries the Rust runtime needs)
# Both carry the include directory with msstore.h and msstore.hpp (C++17).
# Relocatable: every path is derived from this file's location (<prefix>/lib/cmake/msstore).
get_filename_component(_msstore_prefix "${CMAKE_CURRENT_LIST_DIR}/../../.." ABSOLUTE)

include(CMakeFindDependencyMacro)
find_dependency(Threads)

if(NOT TARGET msstore::msstore)
  add_library(msstore::msstore SHARED IMPORTED)
  set_target_properties(msstore::msstore PROPERTIES
    INTERFACE_INCLUDE_DIRECTORIES "${_msstore_prefix}/include")
  if(WIN32)
    set_target_properties(msstore::msstore PROPERTIES
      IMPORTED_LOCATION "${_msstore_prefix}/bin/msstore.dll"
      IMPORTED_IMPLIB "${_msstore_prefix}/lib/msstore.dll.lib")
  elseif(APPLE)
    set_target_properties(msstore::msstore PROPERTIES
      IMPORTED_LOCATION "${_msstore_prefix}/lib/libmsstore.dylib")
  else()
    # cargo sets no SONAME: link by name (-lmsstore) so the binary does not record the
    # absolute path of the staging directory, and find it through the build RPATH.
    set_target_properties(msstore::msstore PROPERTIES
      IMPORTED_LOCATION "${_msstore_prefix}/lib/libmsstore.so"
      IMPORTED_NO_SONAME TRUE)
  endif()

  add_library(msstore::msstore_static STATIC IMPORTED)
  set_target_properties(msstore::msstore_static PROPERTIES
    INTERFACE_INCLUDE_DIRECTORIES "${_msstore_prefix}/include"
    INTERFACE_COMPILE_DEFINITIONS "MSSTORE_STATIC"
    IMPORTED_LINK_INTERFACE_LANGUAGES "C")
  if(WIN32)
    set_target_properties(msstore::msstore_static PROPERTIES
      IMPORTED_LOCATION "${_msstore_prefix}/lib/msstore.lib"
      INTERFACE_LINK_LIBRARIES "ws2_32;userenv;bcrypt;ntdll;advapi32;kernel32")
  elseif(APPLE)
    set_target_properties(msstore::msstore_static PROPERTIES
      IMPORTED_LOCATION "${_msstore_prefix}/lib/libmsstore.a"
      INTERFACE_LINK_LIBRARIES "Threads::Threads;-framework Security;-framework CoreFoundation;m")
  else()
    set_target_properties(msstore::msstore_static PROPERTIES
      IMPORTED_LOCATION "${_msstore_prefix}/lib/libmsstore.a"
      INTERFACE_LINK_LIBRARIES "Threads::Threads;${CMAKE_DL_LIBS};m")
  endif()
endif()

set(msstore_INCLUDE_DIRS "${_msstore_prefix}/include")
set(msstore_LIBRARIES msstore::msstore)
unset(_msstore_prefix)
