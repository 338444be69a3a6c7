# Shared by golden.cmake (replay) and analyze_golden.cmake (analyze): compare
# an output with its golden and show how they differ.

# Prints a unified diff of two files (or both files whole, without diff(1)).
function(show_diff what expected got)
  find_program(DIFF diff)
  if(DIFF)
    execute_process(COMMAND "${DIFF}" -u --label "${what} (golden)" --label "${what} (now)" "${expected}" "${got}"
                    OUTPUT_VARIABLE diff_text)
  else()
    file(READ "${expected}" a)
    file(READ "${got}" b)
    set(diff_text "--- golden\n${a}\n--- now\n${b}")
  endif()
  string(LENGTH "${diff_text}" length)
  if(length GREATER 20000)
    string(SUBSTRING "${diff_text}" 0 20000 diff_text)
    string(APPEND diff_text "\n... (diff cut at 20000 characters; the whole output is ${got})")
  endif()
  message("${diff_text}")
endfunction()

# Appends `why` to the caller's list `failures` when `got` differs from the
# golden `expected` (shown as `what`), after printing the diff.
function(compare_with_golden what expected got why)
  execute_process(COMMAND "${CMAKE_COMMAND}" -E compare_files "${expected}" "${got}" RESULT_VARIABLE differs)
  if(differs)
    show_diff("${what}" "${expected}" "${got}")
    list(APPEND failures "${why}")
    set(failures "${failures}" PARENT_SCOPE)
  endif()
endfunction()
