#!/usr/bin/env bash
# After the shards: merge SHARD_DIR... into OUT_ROOT/SUITE (results, probes, tuning runs), write the
# report to REPORTS_DIR/SUITE-gpu.md, and check the merged results against baselines/SUITE.json (JUnit XML
# and github-action-benchmark JSON in OUT_ROOT/SUITE-check/: beside the results directory, never inside it,
# where they would be read as run results; the verdict goes to $GITHUB_STEP_SUMMARY when set).
# Exit: the check's (0 pass, 1 regression or missing, 2 bad input); the report is written either way.
source "$(dirname "$0")/common.sh"
[ $# -ge 4 ] || usage "merge-check.sh SUITE OUT_ROOT REPORTS_DIR SHARD_DIR..."
suite=$1 out_root=$2 reports=$3
shift 3
out="$out_root/$suite"
checks="$out_root/$suite-check"
mkdir -p "$checks"
baseline=${NGD_BENCH_BASELINE:-$root/baselines/$suite.json}
"${cli[@]}" merge "$@" --out "$out"
"${cli[@]}" report "$out" --out "$reports/$suite-gpu.md" --baseline "$baseline"
"${cli[@]}" check "$out" --baseline "$baseline" --junit "$checks/junit.xml" --benchmark-json "$checks/benchmark.json"
