#!/bin/sh
# expect_outputs_kept.sh FSIZE_BLOCKS PATTERN COMMAND [ARGS...]: in a fresh directory holding
# r.json and t.json ("old"), runs COMMAND there (under ulimit -f FSIZE_BLOCKS unless it is 0) and
# passes when it fails with one line on stderr matching PATTERN, both files are still "old", and
# no other file was left behind (no temporary, no partial output).
limit=$1
pattern=$2
shift 2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
printf 'old\n' >"$work/r.json"
printf 'old\n' >"$work/t.json"
errors=$(cd "$work" && { [ "$limit" -eq 0 ] || ulimit -f "$limit"; } && "$@" 2>&1 >/dev/null)
status=$?
printf '%s\n' "$errors"
[ "$status" -ne 0 ] || { echo "expect_outputs_kept: exit status 0, expected failure"; exit 1; }
[ "$(printf '%s\n' "$errors" | wc -l)" -eq 1 ] || { echo "expect_outputs_kept: not a one-line error"; exit 1; }
printf '%s\n' "$errors" | grep -Eq "$pattern" || { echo "expect_outputs_kept: no match for /$pattern/"; exit 1; }
for file in r.json t.json; do
  [ "$(cat "$work/$file")" = old ] || { echo "expect_outputs_kept: $file was changed"; exit 1; }
done
[ "$(ls -A "$work" | wc -l)" -eq 2 ] || { echo "expect_outputs_kept: left behind: $(ls -A "$work")"; exit 1; }
