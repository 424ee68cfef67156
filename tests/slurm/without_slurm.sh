#!/bin/sh
# without_slurm.sh COMMAND [ARGS...]: runs COMMAND with a PATH that holds the few tools
# scripts/slurm/submit.sh and tests/cpp/expect_error.sh use but no Slurm command, as on a machine
# without Slurm (on Debian, sbatch sits in /usr/bin beside everything else).
bin=$(mktemp -d "${TMPDIR:-/tmp}/bsnpu-no-slurm.XXXXXX") || exit 1
for tool in sh bash dirname basename mkdir sha256sum grep wc printf cat; do
  ln -s "$(command -v "$tool")" "$bin/$tool"
done
PATH=$bin "$@"
status=$?
rm -rf "$bin"
exit $status
