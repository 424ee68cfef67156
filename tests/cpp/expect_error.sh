#!/bin/sh
# expect_error.sh PATTERN COMMAND [ARGS...]: passes when COMMAND exits non-zero and its stderr is
# one line matching the extended regular expression PATTERN.
pattern=$1
shift
errors=$("$@" 2>&1 >/dev/null)
status=$?
printf '%s\n' "$errors"
[ "$status" -ne 0 ] || { echo "expect_error: exit status 0, expected failure"; exit 1; }
[ "$(printf '%s\n' "$errors" | wc -l)" -eq 1 ] || { echo "expect_error: not a one-line error"; exit 1; }
printf '%s\n' "$errors" | grep -Eq "$pattern" || { echo "expect_error: no match for /$pattern/"; exit 1; }
