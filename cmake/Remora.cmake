# Build conventions shared by every folder.
#
#   remora_library(NAME SOURCES a.cc b.cc DEPS lib...)   static library, includes from src/
#   remora_test(NAME SOURCES a_test.cc DEPS lib... [LABELS l...])
#       one gtest binary; every TEST() becomes one CTest test so the count is real.
#       Tests live beside the code they test and are named <thing>_test.cc.

# Envoy's API marks fields deprecated that Istio (and the seed) still set, such
# as max_grpc_timeout; using them is deliberate, so deprecation is not an error.
set(REMORA_WARNINGS -Wall -Wextra -Werror -Wno-unused-parameter -Wno-deprecated-declarations)

if(REMORA_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
endif()

function(remora_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_library(${name} STATIC ${ARG_SOURCES})
  target_include_directories(${name} PUBLIC ${CMAKE_SOURCE_DIR}/src)
  target_compile_options(${name} PRIVATE ${REMORA_WARNINGS})
  target_link_libraries(${name} PUBLIC ${ARG_DEPS})
endfunction()

function(remora_binary name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_compile_options(${name} PRIVATE ${REMORA_WARNINGS})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS})
endfunction()

function(remora_test name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS;LABELS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_include_directories(${name} PRIVATE ${CMAKE_SOURCE_DIR}/src ${CMAKE_SOURCE_DIR}/test)
  target_compile_options(${name} PRIVATE ${REMORA_WARNINGS})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} GTest::gmock GTest::gtest_main)
  # test/support/paths.h: where test data and built binaries are.
  target_compile_definitions(${name} PRIVATE
    REMORA_TEST_SOURCE_DIR="${CMAKE_SOURCE_DIR}" REMORA_TEST_BUILD_DIR="${CMAKE_BINARY_DIR}")
  if(NOT ARG_LABELS)
    set(ARG_LABELS unit)
  endif()
  # gtest_discover_tests flattens PROPERTIES into one list: without escaping,
  # a second label would be read as a property name and lost.
  string(REPLACE ";" "\\;" ARG_LABELS "${ARG_LABELS}")
  gtest_discover_tests(${name}
    WORKING_DIRECTORY ${CMAKE_SOURCE_DIR}
    DISCOVERY_TIMEOUT 60
    PROPERTIES LABELS "${ARG_LABELS}" TIMEOUT 300)
endfunction()
