#!/bin/sh
# expect_output.sh PATTERN COMMAND [ARGS...]: passes when COMMAND exits 0 and its standard output
# matches the extended regular expression PATTERN (a match alone would let a late crash pass).
pattern=$1
shift
output=$("$@")
status=$?
printf '%s\n' "$output"
[ "$status" -eq 0 ] || { echo "expect_output: exit status $status"; exit 1; }
printf '%s\n' "$output" | grep -Eq "$pattern" || { echo "expect_output: no match for /$pattern/"; exit 1; }
