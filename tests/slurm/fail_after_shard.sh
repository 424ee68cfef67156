#!/bin/sh
# Stands in for bsnpu in tests/slurm/test_sweep_array.sh: runs the real bsnpu ($BSNPU_TEST_BSNPU)
# with every argument, then, while the file $BSNPU_TEST_FAIL_MARK exists, makes array task
# $BSNPU_TEST_FAIL_TASK's sweep exit 1 after it finished, as a task whose node died at its end
# would. The resubmitted sweep must then find that shard's points done and redo none of them.
"$BSNPU_TEST_BSNPU" "$@" || exit
if [ "$1" = sweep ] && [ "${SLURM_ARRAY_TASK_ID:-}" = "$BSNPU_TEST_FAIL_TASK" ] &&
  [ -e "$BSNPU_TEST_FAIL_MARK" ]; then
  echo "fail_after_shard: task $SLURM_ARRAY_TASK_ID fails after its sweep, on purpose" >&2
  exit 1
fi
