#!/bin/sh
# expect_status.sh STATUS PATTERN COMMAND [ARGS...]: passes when COMMAND exits with exactly STATUS
# and its standard output and error together match the extended regular expression PATTERN; when
# STATUS is not 0 and nothing went to standard output, the error must be one line.
status_expected=$1
pattern=$2
shift 2
errors_file=$(mktemp)
trap 'rm -f "$errors_file"' EXIT
output=$("$@" 2>"$errors_file")
status=$?
errors=$(cat "$errors_file")
printf '%s\n%s\n' "$output" "$errors"
[ "$status" -eq "$status_expected" ] || { echo "expect_status: exit status $status, expected $status_expected"; exit 1; }
if [ "$status" -ne 0 ] && [ -z "$output" ]; then
  [ "$(printf '%s\n' "$errors" | wc -l)" -eq 1 ] || { echo "expect_status: not a one-line error"; exit 1; }
fi
printf '%s\n%s\n' "$output" "$errors" | grep -Eq "$pattern" || { echo "expect_status: no match for /$pattern/"; exit 1; }
