#!/usr/bin/env bash
# Submits a design-space sweep to Slurm: a job array with one task per shard (`bsnpu sweep
# --shard I/N`, into OUT/shard-I) and a merge job that starts once every task has succeeded
# (`bsnpu merge`, into OUT/merged). Prints the two job ids. OUT must be on a filesystem that the
# submit host and every compute node mount at the same path (as must bsnpu, the model and the
# data). Submitting again with the same --space and --out after a failure resumes: each shard
# skips the points it already finished. See docs/slurm.md.
set -euo pipefail

usage() {
  cat <<'EOF'
usage: scripts/slurm/submit.sh --space SPACE.json --out DIR [options] [-- SWEEP OPTION...]
  --space FILE          the sweep space (required)
  --out DIR             output folder on a shared filesystem (required): DIR/shard-I/ per task,
                        DIR/merged/ the merged result, DIR/logs/ the jobs' output
  --shards N            array tasks, one shard each (default 4)
  --cpus-per-task C     CPUs per task, the sweep's -j (default 4)
  --partition P         Slurm partition (default: the cluster's default partition)
  --account A           Slurm account to charge (default: the user's default account)
  --time T              time limit of each task, Slurm format: MIN, H:MM:SS, D-HH (default: the partition's)
  --merge-time T        time limit of the merge job (default: the partition's)
  --mem M               memory per task, Slurm format: 4G (default: the partition's)
  --max-running M       run at most M tasks at once (array throttle %M)
  --job-name NAME       job names NAME-sweep and NAME-merge (default bsnpu)
  --bsnpu PATH          the bsnpu executable (default: build/bsnpu of this repository)
  --setup COMMAND       shell command each job runs first, e.g. 'module load gcc boost systemc'
  --sbatch-option OPT   one more option for both sbatch calls, e.g. --sbatch-option=--qos=short
                        (repeatable)
  --parsable            print only "ARRAY_JOB_ID MERGE_JOB_ID"
  --dry-run             print the sbatch commands instead of running them
Options after -- go to every `bsnpu sweep` (e.g. -- --images 500); jobs run in DIR, so give
paths there absolute. Submitting again into the same DIR resumes (same space, same --shards).
EOF
}

fail() {
  echo "submit.sh: $*" >&2
  exit 2
}

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
space="" out="" shards=4 cpus=4 partition="" account="" time_limit="" merge_time="" mem=""
max_running="" job_name=bsnpu bsnpu="$here/../../build/bsnpu" setup="" parsable=0 dry_run=0
extra_sbatch=() sweep_options=()
while [[ $# -gt 0 ]]; do
  option=$1
  value=""
  case "$option" in
    --*=*)
      value=${option#*=}
      option=${option%%=*}
      ;;
    --space | --out | --shards | --cpus-per-task | --partition | --account | --time | --merge-time | \
      --mem | --max-running | --job-name | --bsnpu | --setup | --sbatch-option)
      [[ $# -ge 2 ]] || fail "$option: needs a value"
      value=$2
      shift
      ;;
  esac
  case "$option" in
    --space) space=$value ;;
    --out) out=$value ;;
    --shards) shards=$value ;;
    --cpus-per-task) cpus=$value ;;
    --partition) partition=$value ;;
    --account) account=$value ;;
    --time) time_limit=$value ;;
    --merge-time) merge_time=$value ;;
    --mem) mem=$value ;;
    --max-running) max_running=$value ;;
    --job-name) job_name=$value ;;
    --bsnpu) bsnpu=$value ;;
    --setup) setup=$value ;;
    --sbatch-option) extra_sbatch+=("$value") ;;
    --parsable) parsable=1 ;;
    --dry-run) dry_run=1 ;;
    -h | --help)
      usage
      exit 0
      ;;
    --)
      shift
      sweep_options=("$@")
      break
      ;;
    *) fail "unknown option '$1' (--help lists them)" ;;
  esac
  shift
done

positive_integer() {  # NAME VALUE
  [[ "$2" =~ ^[1-9][0-9]*$ ]] || fail "$1: '$2' is not a positive integer"
}
[[ -n "$space" ]] || fail "--space: missing (--help lists the options)"
[[ -n "$out" ]] || fail "--out: missing (--help lists the options)"
positive_integer --shards "$shards"
positive_integer --cpus-per-task "$cpus"
[[ -z "$max_running" ]] || positive_integer --max-running "$max_running"
[[ "$job_name" =~ ^[A-Za-z0-9._-]+$ ]] || fail "--job-name: '$job_name': use letters, digits, . _ -"
[[ -f "$space" ]] || fail "--space: $space: no such file"
[[ -r "$space" ]] || fail "--space: $space: not readable"
[[ -x "$bsnpu" && -f "$bsnpu" ]] ||
  fail "--bsnpu: $bsnpu: no executable there (build it with 'bash scripts/setup.sh', or name it)"
if [[ $dry_run -eq 0 ]]; then
  for tool in sbatch squeue; do
    command -v "$tool" >/dev/null 2>&1 ||
      fail "$tool: not found on PATH: run this on a Slurm submit (login) node, or load Slurm first (e.g. 'module load slurm')"
  done
fi

# Jobs run on other machines, maybe in another working folder: every path absolute.
space=$(cd "$(dirname "$space")" && pwd)/$(basename "$space")
bsnpu=$(cd "$(dirname "$bsnpu")" && pwd)/$(basename "$bsnpu")
[[ "$out" == /* ]] || out="$PWD/$out"
if [[ $dry_run -eq 0 ]]; then
  mkdir -p "$out/logs" 2>/dev/null || fail "--out: $out: cannot create it"
  [[ -w "$out" ]] || fail "--out: $out: not writable"
fi

# OUT/slurm-submission records the last submission into OUT: the space's SHA-256, the shard
# count and the job ids. Resuming needs the same space cut into the same shards (shard I of N
# holds other points than shard I of M), and two submissions running at once would run each
# shard twice.
record="$out/slurm-submission"
space_sha256=$(sha256sum <"$space")
space_sha256=${space_sha256%% *}
if [[ $dry_run -eq 0 && -s "$record" ]]; then
  previous_sha256="" previous_shards="" previous_array="" previous_merge=""
  while IFS='=' read -r key value; do
    case "$key" in
      space_sha256) previous_sha256=$value ;;
      shards) previous_shards=$value ;;
      array_job) previous_array=$value ;;
      merge_job) previous_merge=$value ;;
    esac
  done <"$record"
  [[ "$previous_sha256" == "$space_sha256" ]] ||
    fail "--space: $space differs from the space of the earlier submission into $out: use another --out"
  [[ "$previous_shards" == "$shards" ]] ||
    fail "--shards: $shards, but the earlier submission into $out cut it into $previous_shards: resume with --shards $previous_shards, or use another --out"
  if [[ -n "$previous_array" ]]; then
    active=$(squeue -h -o %i -u "$(id -un)" -j "$previous_array,$previous_merge" 2>/dev/null || true)
    [[ -z "$active" ]] ||
      fail "--out: $out: jobs $previous_array and $previous_merge of an earlier submission are still queued or running: wait for them, or 'scancel $previous_array $previous_merge'"
  fi
fi

[[ $dry_run -eq 1 || ! -e "$out/merged" ]] ||
  fail "--out: $out: already merged into $out/merged: nothing to do (remove it to merge again)"

common=(--parsable "--chdir=$out")
[[ -z "$partition" ]] || common+=("--partition=$partition")
[[ -z "$account" ]] || common+=("--account=$account")
common+=("${extra_sbatch[@]}")
array_range="0-$((shards - 1))${max_running:+%$max_running}"
array_command=(sbatch "${common[@]}" "--job-name=$job_name-sweep" "--array=$array_range"
  --ntasks=1 "--cpus-per-task=$cpus" "--output=$out/logs/shard-%a.%A.out")
[[ -z "$time_limit" ]] || array_command+=("--time=$time_limit")
[[ -z "$mem" ]] || array_command+=("--mem=$mem")
array_command+=("$here/shard.sbatch" "$bsnpu" "$space" "$out" "$shards" "$setup" "${sweep_options[@]}")
merge_command=(sbatch "${common[@]}" "--job-name=$job_name-merge" --ntasks=1 --cpus-per-task=1
  "--output=$out/logs/merge.%j.out" --kill-on-invalid-dep=yes)
[[ -z "$merge_time" ]] || merge_command+=("--time=$merge_time")

if [[ $dry_run -eq 1 ]]; then
  printf '%q ' "${array_command[@]}"
  echo
  merge_command+=("--dependency=afterok:ARRAY_JOB_ID" "$here/merge.sbatch" "$bsnpu" "$out" "$shards" "$setup")
  printf '%q ' "${merge_command[@]}"
  echo
  exit 0
fi

array_job=$("${array_command[@]}") || fail "sbatch refused the array job (its error is above)"
array_job=${array_job%%;*}  # --parsable prints ID or ID;CLUSTER
merge_command+=("--dependency=afterok:$array_job" "$here/merge.sbatch" "$bsnpu" "$out" "$shards" "$setup")
if ! merge_job=$("${merge_command[@]}"); then
  scancel "$array_job" 2>/dev/null || true
  fail "sbatch refused the merge job (its error is above); array job $array_job cancelled"
fi
merge_job=${merge_job%%;*}
printf 'space=%s\nspace_sha256=%s\nshards=%s\narray_job=%s\nmerge_job=%s\n' \
  "$space" "$space_sha256" "$shards" "$array_job" "$merge_job" >"$record.tmp"
mv -f "$record.tmp" "$record"

if [[ $parsable -eq 1 ]]; then
  echo "$array_job $merge_job"
else
  echo "array job $array_job: $shards shards of $space, $cpus CPUs each, into $out/shard-0 .. shard-$((shards - 1))"
  echo "merge job $merge_job: after every shard succeeds, into $out/merged"
  echo "logs: $out/logs/; follow with: squeue -j $array_job,$merge_job"
  echo "if a shard fails, the merge job is cancelled: run the same command again to resume"
fi
