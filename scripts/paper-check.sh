#!/usr/bin/env bash
# The committed paper results against their committed baselines (no training), then one committed run
# re-run and compared bit for bit with its result file. Override the run with NGD_BENCH_REPRODUCE_FILTER.
# Exit code: the first failure's (check: 1 regression or missing, 2 bad input; reproduce: 1 differs).
set -euo pipefail
cd "$(dirname "$0")/.."
cli=(node dist/src/cli.js)
[ -f dist/src/cli.js ] || npm run -s build
for suite in paper-fashion-mnist paper-lr-sweep paper-sensitivity paper-b16384; do
  "${cli[@]}" check "results/$suite" --baseline "baselines/$suite.json"
done
"${cli[@]}" reproduce results/paper-fashion-mnist --filter "${NGD_BENCH_REPRODUCE_FILTER:-smoothed-ngd-b8192-w2-s0}" --quiet --other-cpu-ok
