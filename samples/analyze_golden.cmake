# Runs proctape-analyze on one sample and compares one of its outputs with
# the golden, or (with -DUPDATE=ON) writes the golden. One command line for
# both, so the tests and scripts/update-goldens cannot drift apart. The
# replay goldens have their own script, golden.cmake.
#
#   cmake -DANALYZE=/path/proctape-analyze -DCASE_DIR=samples/<case> -DOUTPUT=<output>
#         [-DOUT_DIR=dir-for-actual-output] [-DUPDATE=ON] -P samples/analyze_golden.cmake
#
# OUTPUT and its golden in CASE_DIR (analyze runs in CASE_DIR on "trace.pt",
# with the default scope: the recorded command's subtree, or every process
# when the trace names no command):
#   tree             analyze-tree.golden               tree
#   summary          analyze-summary.golden            summary (text)
#   summary-json     analyze-summary.json.golden       summary --format json
#   processes        analyze-processes.csv.golden      processes (CSV)
#   processes-json   analyze-processes.jsonl.golden    processes --format json (JSON Lines)
#   timeline         analyze-timeline.json.golden      timeline, one trace event per line
#   analyze-stderr.golden   present when analyze writes to stderr (damage,
#                    gaps) or exits nonzero: its first line is "exit code: N",
#                    the rest is stderr, the same for every output; absent:
#                    exit 0, no stderr.
#
# Two edits of stdout, the same for the test and for the update:
# - the recording machine's host name (from the trace's meta) becomes
#   <host>, in the places the reports print it: "(host H)", "host":"H", and
#   the first CSV cell. The goldens must not name a machine, and live-build's
#   host is the machine that recorded it.
# - the timeline gets a line break before each trace event (JSON whitespace:
#   the file means the same), so that a change shows as a readable diff.
cmake_minimum_required(VERSION 3.25)

foreach(var ANALYZE CASE_DIR OUTPUT)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "analyze_golden.cmake: -D${var}=... is required")
  endif()
endforeach()

if(OUTPUT STREQUAL "tree")
  set(args tree)
  set(golden_name analyze-tree.golden)
elseif(OUTPUT STREQUAL "summary")
  set(args summary)
  set(golden_name analyze-summary.golden)
elseif(OUTPUT STREQUAL "summary-json")
  set(args summary --format json)
  set(golden_name analyze-summary.json.golden)
elseif(OUTPUT STREQUAL "processes")
  set(args processes)
  set(golden_name analyze-processes.csv.golden)
elseif(OUTPUT STREQUAL "processes-json")
  set(args processes --format json)
  set(golden_name analyze-processes.jsonl.golden)
elseif(OUTPUT STREQUAL "timeline")
  set(args timeline)
  set(golden_name analyze-timeline.json.golden)
else()
  message(FATAL_ERROR "analyze_golden.cmake: OUTPUT must be tree, summary, summary-json, processes, "
                      "processes-json or timeline, not '${OUTPUT}'")
endif()
set(golden "${CASE_DIR}/${golden_name}")
set(stderr_golden "${CASE_DIR}/analyze-stderr.golden")
get_filename_component(case "${CASE_DIR}" NAME)

if(NOT DEFINED OUT_DIR)
  set(OUT_DIR "${CMAKE_CURRENT_BINARY_DIR}/samples-out/${case}")
endif()
file(MAKE_DIRECTORY "${OUT_DIR}")
set(raw "${OUT_DIR}/analyze-${OUTPUT}.raw")
set(actual "${OUT_DIR}/analyze-${OUTPUT}.out")
set(actual_stderr "${OUT_DIR}/analyze-${OUTPUT}.stderr")

set(shown proctape-analyze ${args} trace.pt)
list(JOIN shown " " shown)
set(command "cd samples/${case} && ${shown}")

execute_process(COMMAND "${ANALYZE}" ${args} trace.pt
                WORKING_DIRECTORY "${CASE_DIR}"
                OUTPUT_FILE "${raw}" ERROR_FILE "${actual_stderr}"
                RESULT_VARIABLE code)
file(READ "${actual_stderr}" stderr_text)
if(NOT code MATCHES "^[01]$")
  message(FATAL_ERROR "${case} (analyze ${OUTPUT}): `${command}` exited with '${code}' (expected 0, or 1 for a "
                      "damaged trace):\n${stderr_text}")
endif()

# The host name as the trace's meta gives it, from the JSON summary.
execute_process(COMMAND "${ANALYZE}" summary --format json trace.pt
                WORKING_DIRECTORY "${CASE_DIR}"
                OUTPUT_VARIABLE summary_json ERROR_QUIET
                RESULT_VARIABLE host_code)
if(NOT host_code MATCHES "^[01]$" OR NOT summary_json MATCHES "^{\"traces\":\\[{\"trace\":\"trace\\.pt\",\"index\":0,\"host\":\"([^\"]*)\"")
  message(FATAL_ERROR "${case} (analyze ${OUTPUT}): cannot find the host name in the output of "
                      "`cd samples/${case} && proctape-analyze summary --format json trace.pt` (exit ${host_code})")
endif()
set(host "${CMAKE_MATCH_1}")
if(host MATCHES "[\\\\ ,()\"]")
  message(FATAL_ERROR "${case} (analyze ${OUTPUT}): the host name '${host}' needs escaping in some outputs; "
                      "analyze_golden.cmake does not replace such names")
endif()

file(READ "${raw}" text)
if(NOT host STREQUAL "")
  string(REPLACE "(host ${host})" "(host <host>)" text "${text}")
  string(REPLACE "\"host\":\"${host}\"" "\"host\":\"<host>\"" text "${text}")
  if(OUTPUT STREQUAL "processes")
    string(REPLACE "\n${host}," "\n<host>," text "${text}")
  endif()
endif()
if(OUTPUT STREQUAL "timeline")
  # A '{' followed by '"' is structure: inside a JSON string that quote would be escaped.
  string(REPLACE "[{\"ph\":" "[\n{\"ph\":" text "${text}")
  string(REPLACE "},{\"ph\":" "},\n{\"ph\":" text "${text}")
  string(REPLACE "}],\"displayTimeUnit\":" "}\n],\"displayTimeUnit\":" text "${text}")
endif()
file(WRITE "${actual}" "${text}")

# What goes to the stderr golden: the exit code, then stderr.
set(outcome "")
if(NOT code EQUAL 0 OR NOT stderr_text STREQUAL "")
  set(outcome "exit code: ${code}\n${stderr_text}")
endif()
set(actual_outcome "${OUT_DIR}/analyze-${OUTPUT}.outcome")
file(WRITE "${actual_outcome}" "${outcome}")

if(UPDATE)
  file(COPY_FILE "${actual}" "${golden}" ONLY_IF_DIFFERENT)
  if(outcome STREQUAL "")
    file(REMOVE "${stderr_golden}")
  else()
    file(COPY_FILE "${actual_outcome}" "${stderr_golden}" ONLY_IF_DIFFERENT)
  endif()
  return()
endif()

include(${CMAKE_CURRENT_LIST_DIR}/golden_common.cmake)

set(failures "")
set(hint "If the change is intended, run scripts/update-goldens and review the git diff.")
if(NOT EXISTS "${golden}")
  message(FATAL_ERROR "${case} (analyze ${OUTPUT}): no golden ${golden}. ${hint}")
endif()
compare_with_golden("samples/${case}/${golden_name}" "${golden}" "${actual}" "the output differs from the golden")

if(EXISTS "${stderr_golden}")
  compare_with_golden("samples/${case}/analyze-stderr.golden" "${stderr_golden}" "${actual_outcome}"
                      "the exit code or stderr differs from analyze-stderr.golden")
elseif(NOT outcome STREQUAL "")
  message("exit code ${code}, stderr:\n${stderr_text}")
  list(APPEND failures "exit code ${code} or output on stderr, and no analyze-stderr.golden (expected exit 0, "
                       "no stderr)")
endif()

if(failures)
  list(JOIN failures "; " why)
  message(FATAL_ERROR "${case} (analyze ${OUTPUT}): ${why}.\n  command: ${command}\n"
                      "  (the host name is shown as <host>; the timeline has one event per line)\n  ${hint}")
endif()
