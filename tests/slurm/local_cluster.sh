#!/usr/bin/env bash
# A real, throwaway single-node Slurm cluster on this machine, for the Slurm tests: starts munged,
# slurmctld and slurmd (Debian's munge and slurm-wlm) from a temporary folder, waits until the
# node is idle, runs COMMAND with SLURM_CONF pointing at that cluster, then stops every daemon and
# removes the folder, whatever COMMAND did (trap). Exit status: COMMAND's (with the daemons' logs
# printed when it is not 0); 1 if the cluster would not start; 77 (CTest's "skipped") when the
# daemons are not installed, except under CI=true, where that is an error (exit 1): CI must run
# the Slurm test.
# Usage: tests/slurm/local_cluster.sh COMMAND [ARG...]
#   e.g. tests/slurm/local_cluster.sh bash     (a shell with sinfo, sbatch, squeue on the cluster)
#
# Runs as root or as any user. What it needs, found on Debian 12 (slurm-wlm 22.05.8, munge
# 0.5.15) in a container without systemd and without a writable cgroup tree:
# - munged with its own key, socket, pid, log and seed files (--key-file, --socket, ...): the key
#   is 1 KiB from /dev/urandom, mode 0400. munged refuses a socket whose folder is not executable
#   by all ("Socket is inaccessible: execute permissions for all required"), hence chmod 0755 on
#   the temporary folder. As root it needs no --force. The Slurm daemons and commands find this
#   munged through AuthInfo=socket=... in slurm.conf (auth/munge and cred/munge both read it).
# - slurm.conf: SlurmctldHost=localhost(127.0.0.1); the node line exactly as `slurmd -C` prints
#   it (its CPUs, sockets, cores, threads and RealMemory: a node configured with more than it has
#   is drained) plus NodeAddr=127.0.0.1, so that the host name need not resolve; SlurmUser and
#   SlurmdUser = the current user (root, or an unprivileged user whose slurmd runs that user's
#   jobs only); ports picked free at start, so a real cluster on the same machine is not
#   disturbed; state, spool, pid and log files in the temporary folder; no cgroups
#   (ProctrackType=proctrack/linuxproc, TaskPlugin=task/none, JobAcctGatherType=jobacct_gather/none)
#   and no accounting (AccountingStorageType=accounting_storage/none), hence no slurmdbd and no
#   cgroup.conf; select/cons_tres with CR_Core. slurmd needs no -Z (that is for dynamic nodes).
# - the daemons run in the foreground (-D, munged --foreground) as children of this script, which
#   stops and reaps them; slurmd logs two harmless errors at start (mpi/pmix: "can not load PMIx
#   library").
set -euo pipefail

if [[ $# -eq 0 ]]; then
  echo "usage: tests/slurm/local_cluster.sh COMMAND [ARG...]" >&2
  exit 2
fi

PATH="$PATH:/usr/sbin:/sbin"  # the daemons, on an unprivileged user's PATH too
missing=""
for tool in munged munge slurmctld slurmd sbatch squeue sinfo scontrol scancel; do
  command -v "$tool" >/dev/null 2>&1 || missing="$missing $tool"
done
if [[ -n "$missing" ]]; then
  if [[ "${CI:-}" == "true" ]]; then
    echo "local_cluster: not installed:$missing; CI must run the Slurm test: apt-get install slurm-wlm munge" >&2
    exit 1
  fi
  echo "local_cluster: skipped: not installed:$missing (apt-get install slurm-wlm munge)" >&2
  exit 77
fi

# Nothing from an enclosing Slurm job or another cluster's configuration may leak in.
while IFS='=' read -r name _; do
  case "$name" in SLURM_* | SBATCH_* | SALLOC_* | SQUEUE_* | SINFO_* | SCANCEL_*) unset "$name" ;; esac
done < <(env)

dir=$(mktemp -d "${TMPDIR:-/tmp}/bsnpu-slurm.XXXXXX")
chmod 0755 "$dir"  # munged: the socket's folder must be executable by all
daemons=()

print_logs() {
  local log
  for log in "$dir"/*.log; do
    [[ -f "$log" ]] || continue
    echo "---- $log (last 30 lines)" >&2
    tail -n 30 "$log" >&2
  done
}

stop_cluster() {
  local status=$?
  trap - EXIT INT TERM
  set +e
  trap '' PIPE  # a reader gone (| head) must not stop the cleanup half way
  if [[ -f "$dir/slurm.conf" ]] && [[ ${#daemons[@]} -gt 1 ]]; then
    # Cancel what is left so that no job step outlives its slurmd (proctrack/linuxproc).
    SLURM_CONF="$dir/slurm.conf" scancel --quiet --user "$(id -un)" >/dev/null 2>&1 || true
    for _ in $(seq 50); do
      [[ -z "$(SLURM_CONF="$dir/slurm.conf" squeue -h -o %i 2>/dev/null)" ]] && break
      sleep 0.2
    done
  fi
  local pid
  for pid in "${daemons[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${daemons[@]}"; do
    for _ in $(seq 50); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.2
    done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  [[ $status -eq 0 ]] || print_logs
  rm -rf "$dir"
  exit "$status"
}
command_pid=""
on_signal() {  # pass the signal on to COMMAND, then stop the cluster (EXIT)
  [[ -z "$command_pid" ]] || kill -TERM "$command_pid" 2>/dev/null
  exit "$1"
}
trap stop_cluster EXIT
trap 'on_signal 130' INT
trap 'on_signal 143' TERM

fail_start() {  # the logs follow from stop_cluster
  echo "local_cluster: $1" >&2
  exit 1
}

# munge: key, daemon, and a round trip through it before anything relies on it.
head -c 1024 /dev/urandom >"$dir/munge.key"
chmod 0400 "$dir/munge.key"
munged --foreground --key-file="$dir/munge.key" --socket="$dir/munge.socket" \
  --pid-file="$dir/munged.pid" --log-file="$dir/munged.log" --seed-file="$dir/munged.seed" \
  >"$dir/munged.stdout.log" 2>&1 &
daemons+=($!)
for _ in $(seq 50); do
  munge -n -S "$dir/munge.socket" 2>/dev/null | unmunge -S "$dir/munge.socket" >/dev/null 2>&1 && break
  kill -0 "${daemons[0]}" 2>/dev/null || fail_start "munged exited at start"
  sleep 0.2
done
munge -n -S "$dir/munge.socket" | unmunge -S "$dir/munge.socket" >/dev/null ||
  fail_start "munged does not answer on $dir/munge.socket"

read -r controller_port node_port < <(/usr/bin/python3 -c '
import socket
sockets = [socket.socket() for _ in range(2)]
for s in sockets:
    s.bind(("127.0.0.1", 0))
print(*(s.getsockname()[1] for s in sockets))')
node_line=$(slurmd -C | head -n 1)  # NodeName=<host> CPUs=... RealMemory=...
[[ "$node_line" == NodeName=* ]] || fail_start "slurmd -C printed no node line: $node_line"
user=$(id -un)
mkdir -p "$dir/state" "$dir/spool"
cat >"$dir/slurm.conf" <<EOF
ClusterName=bsnputest
SlurmctldHost=localhost(127.0.0.1)
SlurmctldPort=$controller_port
SlurmdPort=$node_port
SlurmUser=$user
SlurmdUser=$user
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$dir/munge.socket
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/slurmctld.log
SlurmdLogFile=$dir/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
MpiDefault=none
ReturnToService=2
$node_line NodeAddr=127.0.0.1 State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF
export SLURM_CONF="$dir/slurm.conf"

slurmctld -D -f "$SLURM_CONF" >"$dir/slurmctld.stdout.log" 2>&1 &
daemons+=($!)
slurmd -D -f "$SLURM_CONF" >"$dir/slurmd.stdout.log" 2>&1 &
daemons+=($!)
state=""
for _ in $(seq 150); do
  state=$(sinfo -h -o %t 2>/dev/null || true)
  [[ "$state" == idle ]] && break
  for pid in "${daemons[@]}"; do
    kill -0 "$pid" 2>/dev/null || fail_start "a daemon exited at start"
  done
  sleep 0.2
done
[[ "$state" == idle ]] || fail_start "the node is not idle after 30 s (sinfo: '${state}')"
echo "local_cluster: slurmctld and slurmd up (node idle) in $dir" >&2

# COMMAND runs in the background, its standard input kept, and this script waits for it: a signal
# to this script (CTest's timeout, Ctrl-C) is then handled at once, not after COMMAND ends.
"$@" <&0 &
command_pid=$!
set +e
wait "$command_pid"
status=$?
set -e
exit "$status"
