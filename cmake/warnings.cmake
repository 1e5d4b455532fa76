# Warning flags shared by every sluice target.
function(sluice_target_warnings target)
  # Shadowed locals: GCC's -Wshadow=local; clang (the fuzz build) spells it
  # -Wshadow-uncaptured-local.
  if(CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    set(shadow_local -Wshadow-uncaptured-local)
  else()
    set(shadow_local -Wshadow=local)
  endif()
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic ${shadow_local}
                         -Wnon-virtual-dtor -Wimplicit-fallthrough)
  if(SLUICE_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
  # GCC 12 reports false positives inside libstdc++ when optimising
  # (std::string concatenation: -Wrestrict, GCC bug 105329; std::regex and
  # std::function: -Wmaybe-uninitialized, GCC bug 105562). Both warnings stay
  # on for clang and for other GCC versions.
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)
    target_compile_options(${target} PRIVATE -Wno-restrict -Wno-maybe-uninitialized)
  endif()
endfunction()

# sluice_module(NAME DEPS ...): one static library per module, made of the
# .cc files in the module's folder (and its internal/ folder).
function(sluice_module name)
  cmake_parse_arguments(M "" "" "DEPS" ${ARGN})
  file(GLOB M_SOURCES CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/*.cc
       ${CMAKE_CURRENT_SOURCE_DIR}/internal/*.cc)
  list(FILTER M_SOURCES EXCLUDE REGEX "_test\\.cc$")
  if(M_SOURCES)
    add_library(sluice_${name} STATIC ${M_SOURCES})
    target_include_directories(sluice_${name} PUBLIC ${PROJECT_SOURCE_DIR}/include ${PROJECT_SOURCE_DIR}/src)
    target_link_libraries(sluice_${name} PUBLIC ${M_DEPS})
    sluice_target_warnings(sluice_${name})
  else()
    add_library(sluice_${name} INTERFACE)
    target_include_directories(sluice_${name} INTERFACE ${PROJECT_SOURCE_DIR}/include ${PROJECT_SOURCE_DIR}/src)
    target_link_libraries(sluice_${name} INTERFACE ${M_DEPS})
  endif()
endfunction()

# sluice_tests(MODULE DEPS ...): one GoogleTest binary per test folder, made
# of its *_test.cc files.
function(sluice_tests name)
  cmake_parse_arguments(T "" "" "DEPS" ${ARGN})
  file(GLOB T_SOURCES CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/*_test.cc)
  if(NOT T_SOURCES)
    return()
  endif()
  add_executable(${name}_tests ${T_SOURCES})
  target_link_libraries(${name}_tests PRIVATE ${T_DEPS} GTest::gtest GTest::gtest_main)
  target_compile_definitions(${name}_tests PRIVATE
    SLUICE_SOURCE_DIR="${PROJECT_SOURCE_DIR}" SLUICE_BINARY_DIR="${PROJECT_BINARY_DIR}")
  sluice_target_warnings(${name}_tests)
  gtest_discover_tests(${name}_tests DISCOVERY_TIMEOUT 60
    PROPERTIES ENVIRONMENT "SLUICE_BIN=$<TARGET_FILE:sluice>")
endfunction()
