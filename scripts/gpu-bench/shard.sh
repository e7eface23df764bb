#!/usr/bin/env bash
# One shard of a suite (the gpu-bench job matrix): its runs into OUT_ROOT/SUITE-shard-I, and on shard 1 the
# suite's timing probes into the same directory (merge keeps them). Exit: the run's (0 ok, 1 a run failed
# or diverged, 2 bad input).
source "$(dirname "$0")/common.sh"
[ $# -eq 4 ] || usage "shard.sh SUITE_FILE SHARD_INDEX SHARD_COUNT OUT_ROOT"
suite_file=$1 index=$2 count=$3 out_root=$4
suite=$(basename "$suite_file"); suite=${suite%.*}
out="$out_root/$suite-shard-$index"
status=0
"${cli[@]}" run "$suite_file" --out "$out" --shard "$index/$count" --quiet || status=$?
if [ "$index" = 1 ] && [ "$status" -ne 2 ]; then
  "${cli[@]}" probe "$suite_file" --out "$out/probes.json" > /dev/null
fi
exit "$status"
