#!/usr/bin/env bash
# Slurm for real (issue 13, item 7): ranks launched by srun, and a suite shard submitted with sbatch.
#
# On a machine without Slurm (CI, a fresh Debian box; run as root): installs slurm-wlm and munge if
# missing, then starts a private single-node cluster under a temp dir -- munged on its own socket and key,
# slurmctld and slurmd in the foreground-in-background style on their own ports, no cgroups, no
# systemd -- and stops it all again on exit. On a real cluster (`sinfo` already answers, or
# NGD_BENCH_SLURM_EXISTING=1) nothing is installed or started: the same checks run as jobs there.
#
# The checks:
#   1. srun -N 1 -n 2 ngd-bench train ... : two ranks from SLURM_PROCID/SLURM_NTASKS; the result says
#      launcher "slurm" and workers 2. And srun -n 1 ... train --workers 2: that one rank starts two
#      workers of its own (launcher "ngd-bench", workers 2).
#   2. sbatch --wait a job script running shard 1/2 of a tiny suite (one 1-worker and one 2-worker
#      run): every planned run of the shard has a result, status ok.
#
# Needs the build (npm run build). Exit 0 on success; otherwise one line "slurm-check: ..." on stderr
# (with the tail of the daemon's log when a daemon is at fault) and a non-zero exit.
# NGD_BENCH_SLURM_KEEP=1 keeps the temp dir (logs, results) for a look afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
cli="$repo/dist/src/cli.js"
started=$SECONDS

fail() {
  echo "slurm-check: $*" >&2
  exit 1
}
[ -f "$cli" ] || fail "$cli is missing; run npm run build first"

# Where temp files go: node-local, shared with the job on one node. On a multi-node cluster set
# NGD_BENCH_SLURM_TMP to a directory every node sees (the sbatch job writes its results there).
work=$(mktemp -d "${NGD_BENCH_SLURM_TMP:-${TMPDIR:-/tmp}}/ngd-bench-slurm.XXXXXX")
chmod 755 "$work" # slurmd may run job steps as another user on a real cluster
pids=()
cleanup() {
  local code=$?
  # Daemons in reverse order of starting; wait so none outlives the script.
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do kill "${pids[i]}" 2>/dev/null || true; done
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
    for _ in $(seq 50); do kill -0 "${pids[i]}" 2>/dev/null || break; sleep 0.1; done
    kill -9 "${pids[i]}" 2>/dev/null || true
    wait "${pids[i]}" 2>/dev/null || true
  done
  if [ "${NGD_BENCH_SLURM_KEEP:-}" = 1 ]; then echo "slurm-check: kept $work" >&2; else rm -rf "$work"; fi
  exit "$code"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Tail of a daemon's log, for a failure message.
log_tail() { if [ -f "$1" ]; then tail -n 15 "$1" | sed 's/^/    /' >&2; fi; }

wait_for() { # <seconds> <command...>: poll until the command succeeds
  local seconds=$1
  shift
  for _ in $(seq $((seconds * 4))); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.25
  done
  return 1
}

existing=0
if [ "${NGD_BENCH_SLURM_EXISTING:-}" = 1 ] || { command -v sinfo >/dev/null && sinfo -h >/dev/null 2>&1; }; then
  existing=1
fi

if ((existing)); then
  echo "slurm-check: using the existing cluster ($(sinfo -h -o '%P %D nodes %t' | head -n 1))" >&2
else
  [ "$(id -u)" -eq 0 ] || fail "starting a private Slurm needs root (or run on a cluster where sinfo works)"
  missing=()
  for p in slurm-wlm munge; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  if ((${#missing[@]})); then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
  # The packages' own services are not started (no systemd here); ours run from $work only.
  host=$(hostname -s)
  ctld_port=${NGD_BENCH_SLURMCTLD_PORT:-16817}
  slurmd_port=${NGD_BENCH_SLURMD_PORT:-16818}
  mkdir -p "$work"/{munge,state,spool,log}
  chmod 700 "$work/munge"

  # munge: the system key if there is one (a copy owned by root, as munged insists), else a fresh one.
  key="$work/munge/munge.key"
  if [ -s /etc/munge/munge.key ]; then
    cp /etc/munge/munge.key "$key"
  else
    dd if=/dev/urandom of="$key" bs=1024 count=1 status=none
  fi
  chmod 400 "$key"
  munge_socket="$work/munge/munge.socket"
  /usr/sbin/munged --foreground --force --key-file="$key" --socket="$munge_socket" \
    --pid-file="$work/munge/munged.pid" --log-file="$work/log/munged.log" --seed-file="$work/munge/munged.seed" >"$work/log/munged.out" 2>&1 &
  pids+=($!)
  wait_for 20 munge --socket="$munge_socket" -n ||
    { log_tail "$work/log/munged.log"; fail "munged did not answer on $munge_socket within 20 s (log above)"; }

  export SLURM_CONF="$work/slurm.conf"
  cat >"$SLURM_CONF" <<EOF
ClusterName=ngdbench
SlurmctldHost=$host
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$munge_socket
CredType=cred/munge
StateSaveLocation=$work/state
SlurmdSpoolDir=$work/spool
SlurmctldPidFile=$work/slurmctld.pid
SlurmdPidFile=$work/slurmd.pid
SlurmctldLogFile=$work/log/slurmctld.log
SlurmdLogFile=$work/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SwitchType=switch/none
MpiDefault=none
ReturnToService=2
SlurmdTimeout=60
NodeName=$host NodeAddr=127.0.0.1 CPUs=$(nproc) State=UNKNOWN
PartitionName=check Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
  /usr/sbin/slurmctld -D -i -f "$SLURM_CONF" >"$work/log/slurmctld.out" 2>&1 &
  pids+=($!)
  wait_for 30 scontrol ping ||
    { log_tail "$work/log/slurmctld.log"; fail "slurmctld did not answer scontrol ping within 30 s (log above)"; }
  /usr/sbin/slurmd -D -f "$SLURM_CONF" >"$work/log/slurmd.out" 2>&1 &
  pids+=($!)
  node_idle() { [ "$(sinfo -h -n "$host" -o '%t')" = idle ]; }
  wait_for 60 node_idle ||
    {
      log_tail "$work/log/slurmd.log"
      log_tail "$work/log/slurmctld.log"
      fail "node $host is not idle within 60 s (sinfo says: $(sinfo -h -N -o '%N %t %E' 2>&1 | head -n 1); slurmd and slurmctld logs above)"
    }
  echo "slurm-check: private cluster up in $((SECONDS - started)) s (node $host, $(nproc) CPUs, logs in $work/log)" >&2
fi

# 1. srun -n 2: each process one rank. srun -N 1 keeps both ranks on one node, so rank 0 listens on
# loopback (across nodes: MASTER_ADDR=$(scontrol show hostnames "$SLURM_JOB_NODELIST" | head -n 1) and
# NGD_BENCH_BIND_ADDR=0.0.0.0). The port comes from the job id, inside the job: both ranks agree on it,
# and concurrent jobs on the node do not.
t0=$SECONDS
# shellcheck disable=SC2016 # expanded by the job's shell
srun -N 1 -n 2 --cpus-per-task=1 --time=10 --job-name=ngd-bench-srun \
  bash -c 'MASTER_ADDR=127.0.0.1 MASTER_PORT=$((20000 + SLURM_JOB_ID % 20000)) exec "$@"' rank \
  node "$cli" train --dataset synthetic --train-size 256 --test-size 64 --model mlp --hidden-widths 8 --optimizer sgd \
  --batch-size 64 --epochs 1 --backend cpu --quiet --out "$work/srun.json" >"$work/srun.log" 2>&1 ||
  { sed 's/^/    /' "$work/srun.log" >&2; fail "srun -n 2 ngd-bench train failed (output above)"; }
# shellcheck disable=SC2016 # JavaScript template literals, not shell
node -e '
  const r = JSON.parse(require("node:fs").readFileSync(process.argv[1], "utf8"));
  const p = r.parallel ?? {};
  if (r.status !== "ok" || p.launcher !== "slurm" || p.workers !== 2) {
    console.error(`slurm-check: srun result: status ${r.status}, launcher ${p.launcher}, workers ${p.workers} (want ok, slurm, 2)`);
    process.exit(1);
  }' "$work/srun.json"
echo "slurm-check: srun -n 2 train ok: launcher slurm, 2 workers ($((SECONDS - t0)) s)" >&2

# 1b. srun -n 1 with --workers 2: a launcher's world of one starts its own two workers (what a suite
# run under srun -n 1 does for its 2-worker runs); our launcher is then the one recorded.
t0=$SECONDS
srun -N 1 -n 1 --cpus-per-task=2 --time=10 --job-name=ngd-bench-srun1 \
  node "$cli" train --dataset synthetic --train-size 256 --test-size 64 --model mlp --hidden-widths 8 --optimizer sgd \
  --batch-size 64 --epochs 1 --backend cpu --workers 2 --quiet --out "$work/srun1.json" >"$work/srun1.log" 2>&1 ||
  { sed 's/^/    /' "$work/srun1.log" >&2; fail "srun -n 1 ngd-bench train --workers 2 failed (output above)"; }
# shellcheck disable=SC2016 # JavaScript template literals, not shell
node -e '
  const r = JSON.parse(require("node:fs").readFileSync(process.argv[1], "utf8"));
  const p = r.parallel ?? {};
  if (r.status !== "ok" || p.launcher !== "ngd-bench" || p.workers !== 2) {
    console.error(`slurm-check: srun -n 1 --workers 2 result: status ${r.status}, launcher ${p.launcher}, workers ${p.workers} (want ok, ngd-bench, 2)`);
    process.exit(1);
  }' "$work/srun1.json"
echo "slurm-check: srun -n 1 train --workers 2 ok: launcher ngd-bench, 2 workers ($((SECONDS - t0)) s)" >&2

# 2. sbatch: shard 1/2 of a tiny suite (a 1-worker and a 2-worker run) as a batch job.
cat >"$work/suite.json" <<'EOF'
{
  "name": "slurm-check",
  "description": "Tiny runs on synthetic data; scripts/slurm-check.sh runs shard 1/2 of it (a 1-worker and a 2-worker run) under sbatch.",
  "model": { "name": "mlp", "hiddenWidths": [8] },
  "dataset": { "name": "synthetic", "trainSize": 256, "testSize": 64 },
  "epochs": 1,
  "backend": "cpu",
  "defaults": { "lr": 0.05 },
  "optimizers": [{ "name": "sgd" }],
  "batchSizes": [64],
  "workers": [1, 2],
  "seeds": [0, 1]
}
EOF
cat >"$work/shard.sbatch" <<EOF
#!/usr/bin/env bash
#SBATCH --job-name=ngd-bench-shard
#SBATCH --nodes=1
#SBATCH --ntasks=1
#SBATCH --cpus-per-task=2
#SBATCH --time=15
#SBATCH --output=$work/shard.log
set -euo pipefail
cd "$repo"
node "$cli" run "$work/suite.json" --out "$work/shard1" --shard 1/2 --quiet
EOF
t0=$SECONDS
sbatch --wait --parsable "$work/shard.sbatch" >"$work/sbatch.out" 2>&1 ||
  {
    sed 's/^/    /' "$work/sbatch.out" "$work/shard.log" >&2 2>/dev/null || true
    fail "sbatch --wait of the suite shard failed (job output above)"
  }
# shellcheck disable=SC2016 # JavaScript template literals, not shell
node -e '
  const { readFileSync, existsSync } = require("node:fs");
  const dir = process.argv[1];
  const manifest = JSON.parse(readFileSync(`${dir}/manifest.json`, "utf8"));
  const ids = manifest.runIds ?? [];
  const bad = [];
  if (ids.length !== 2) bad.push(`${ids.length} planned runs, want 2`);
  for (const id of ids) {
    const file = `${dir}/${id}.json`;
    if (!existsSync(file)) { bad.push(`${id}: no result`); continue; }
    const r = JSON.parse(readFileSync(file, "utf8"));
    if (r.status !== "ok") bad.push(`${id}: status ${r.status}${r.error ? ` (${r.error})` : ""}`);
  }
  if (bad.length) { console.error(`slurm-check: sbatch shard 1/2: ${bad.join("; ")}`); process.exit(1); }
  console.error(`slurm-check: sbatch shard 1/2 ok: ${ids.join(", ")}`);' "$work/shard1"
echo "slurm-check: sbatch shard ok ($((SECONDS - t0)) s); all checks passed in $((SECONDS - started)) s" >&2
