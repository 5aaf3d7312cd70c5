# Runs FUZZER once over every seed in CORPUS and every reproducer CRASHES/NAME-*: a crash
# found once stays a test case after it is fixed.
file(GLOB seeds ${CORPUS}/*)
file(GLOB crashes ${CRASHES}/${NAME}-*)
list(LENGTH seeds n)
if(n EQUAL 0)
  message(FATAL_ERROR "${NAME}: no seeds in ${CORPUS}")
endif()
execute_process(COMMAND ${FUZZER} -runs=0 ${seeds} ${crashes} RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "${NAME}: an input failed (exit ${rc})")
endif()
