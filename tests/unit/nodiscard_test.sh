#!/usr/bin/env bash
# Results that must be kept are [[nodiscard]]: compiles nodiscard_cases.cpp once per case
# and expects every case that drops one to fail with the compiler's unused-result
# diagnostic, and case 0 (which keeps them all) to compile.
# usage: nodiscard_test.sh CXX INCLUDE_DIR
set -uo pipefail
cxx=$1
include=$2
src=$(dirname "$0")/nodiscard_cases.cpp
status=0
for case in 0 1 2 3 4 5 6 7 8 9 10 11 12; do
  out=$("$cxx" -std=c++20 -fsyntax-only -Wall -Werror=unused-result -I"$include" -DCASE=$case "$src" 2>&1)
  rc=$?
  if [ "$case" = 0 ]; then
    if [ $rc -ne 0 ]; then echo "case 0 (results kept) does not compile:"; echo "$out"; status=1; fi
  elif [ $rc -eq 0 ]; then
    echo "case $case: a dropped result compiled without a diagnostic"; status=1
  elif ! grep -q "unused-result\|nodiscard" <<<"$out"; then
    echo "case $case failed for another reason:"; echo "$out"; status=1
  fi
done
[ $status -eq 0 ] && echo "nodiscard: 12 dropped results rejected, kept results compile"
exit $status
