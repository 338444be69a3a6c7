# Runs proctape-replay on one sample and compares its output with the goldens,
# or (with -DUPDATE=ON) writes the goldens. One command line for both, so the
# test and scripts/update-goldens cannot drift apart.
#
#   cmake -DREPLAY=/path/proctape-replay -DCASE_DIR=samples/<case> -DFORMAT=text|json
#         [-DOUT_DIR=dir-for-actual-output] [-DUPDATE=ON] -P samples/golden.cmake
#
# In CASE_DIR:
#   trace.pt               the input; replay runs in CASE_DIR on "trace.pt", so
#                          paths in messages are the same on every machine
#   replay.args            optional: extra arguments, one per line (# comments)
#   replay.golden          text output (--time=relative)
#   replay.jsonl.golden    JSON Lines output (--format json)
#   replay.stderr.golden   present for damaged traces: the exit code must be 1
#                          and stderr must match it; absent: exit 0, no stderr
cmake_minimum_required(VERSION 3.25)

foreach(var REPLAY CASE_DIR FORMAT)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "golden.cmake: -D${var}=... is required")
  endif()
endforeach()

if(FORMAT STREQUAL "text")
  set(format_args --time=relative)
  set(golden "${CASE_DIR}/replay.golden")
elseif(FORMAT STREQUAL "json")
  set(format_args --format json)
  set(golden "${CASE_DIR}/replay.jsonl.golden")
else()
  message(FATAL_ERROR "golden.cmake: FORMAT must be text or json, not '${FORMAT}'")
endif()
set(stderr_golden "${CASE_DIR}/replay.stderr.golden")
get_filename_component(case "${CASE_DIR}" NAME)

set(extra_args "")
if(EXISTS "${CASE_DIR}/replay.args")
  file(STRINGS "${CASE_DIR}/replay.args" lines)
  foreach(line IN LISTS lines)
    string(STRIP "${line}" line)
    if(line STREQUAL "" OR line MATCHES "^#")
      continue()
    endif()
    list(APPEND extra_args "${line}")
  endforeach()
endif()

if(NOT DEFINED OUT_DIR)
  set(OUT_DIR "${CMAKE_CURRENT_BINARY_DIR}/samples-out/${case}")
endif()
file(MAKE_DIRECTORY "${OUT_DIR}")
set(actual "${OUT_DIR}/${FORMAT}.out")
set(actual_stderr "${OUT_DIR}/${FORMAT}.stderr")

execute_process(COMMAND "${REPLAY}" ${format_args} ${extra_args} trace.pt
                WORKING_DIRECTORY "${CASE_DIR}"
                OUTPUT_FILE "${actual}" ERROR_FILE "${actual_stderr}"
                RESULT_VARIABLE code)
file(READ "${actual_stderr}" stderr_text)
set(shown proctape-replay ${format_args} ${extra_args} trace.pt)
list(JOIN shown " " shown)
set(command "cd samples/${case} && ${shown}")
if(NOT code MATCHES "^[01]$")
  message(FATAL_ERROR "${case} (${FORMAT}): `${command}` exited with '${code}' (expected 0, or 1 for a damaged "
                      "trace):\n${stderr_text}")
endif()

if(UPDATE)
  if(code EQUAL 0 AND NOT stderr_text STREQUAL "")
    message(FATAL_ERROR "${case} (${FORMAT}): exit 0 but something on stderr; not writing goldens:\n${stderr_text}")
  endif()
  file(COPY_FILE "${actual}" "${golden}" ONLY_IF_DIFFERENT)
  if(code EQUAL 1)
    file(COPY_FILE "${actual_stderr}" "${stderr_golden}" ONLY_IF_DIFFERENT)
  else()
    file(REMOVE "${stderr_golden}")
  endif()
  return()
endif()

include(${CMAKE_CURRENT_LIST_DIR}/golden_common.cmake)

set(failures "")
set(hint "If the change is intended, run scripts/update-goldens and review the git diff.")
if(NOT EXISTS "${golden}")
  message(FATAL_ERROR "${case} (${FORMAT}): no golden ${golden}. ${hint}")
endif()
get_filename_component(golden_name "${golden}" NAME)
compare_with_golden("samples/${case}/${golden_name}" "${golden}" "${actual}" "the output differs from the golden")

if(EXISTS "${stderr_golden}")
  if(NOT code EQUAL 1)
    list(APPEND failures "exit code ${code}, expected 1 (a damaged trace)")
  endif()
  compare_with_golden("samples/${case}/replay.stderr.golden" "${stderr_golden}" "${actual_stderr}"
                      "stderr differs from replay.stderr.golden")
else()
  if(NOT code EQUAL 0)
    list(APPEND failures "exit code ${code}, expected 0")
  endif()
  if(NOT stderr_text STREQUAL "")
    message("stderr:\n${stderr_text}")
    list(APPEND failures "unexpected output on stderr")
  endif()
endif()

if(failures)
  list(JOIN failures "; " why)
  message(FATAL_ERROR "${case} (${FORMAT}): ${why}.\n  command: ${command}\n  ${hint}")
endif()
