#!/usr/bin/env bash
# The committed paper results against their committed baselines (no training), then one committed run
# re-run and compared bit for bit with its result file (override it with NGD_BENCH_REPRODUCE_FILTER), and one
# final run and one tuning run of the protocol study (paper-protocols: validation split, target budget,
# evaluation curve), one weight-decay run (paper-weight-decay: the preconditioned-objective placement) and one
# sharpness-aware NGD run (paper-regularizers: sam-ngd, rho 0.01, at b8192).
# Exit code: the first failure's (check: 1 regression or missing, 2 bad input; reproduce: 1 differs).
set -euo pipefail
cd "$(dirname "$0")/.."
cli=(node dist/src/cli.js)
[ -f dist/src/cli.js ] || npm run -s build
for suite in paper-fashion-mnist paper-lr-sweep paper-sensitivity paper-b16384 paper-protocols paper-weight-decay paper-regularizers paper-cnn paper-cnn-b4096-ngd deepobs-fmnist-2c2d; do
  "${cli[@]}" check "results/$suite" --baseline "baselines/$suite.json"
done
"${cli[@]}" reproduce results/paper-fashion-mnist --filter "${NGD_BENCH_REPRODUCE_FILTER:-smoothed-ngd-b8192-w2-s0}" --quiet --other-cpu-ok
"${cli[@]}" reproduce results/paper-protocols --filter "${NGD_BENCH_REPRODUCE_PROTOCOLS_FILTER:-ngd-b2048-w1-s0}" --quiet --other-cpu-ok
"${cli[@]}" reproduce results/paper-weight-decay --filter "${NGD_BENCH_REPRODUCE_WEIGHT_DECAY_FILTER:-ngd-objective-b8192-w1-s0-weightDecay=0.0005}" --quiet --other-cpu-ok
"${cli[@]}" reproduce results/paper-regularizers --filter "${NGD_BENCH_REPRODUCE_REGULARIZERS_FILTER:-sam-ngd-b8192-w1-s0-rho=0.01}" --quiet --other-cpu-ok
"${cli[@]}" reproduce results/paper-protocols/tuning --filter "${NGD_BENCH_REPRODUCE_TUNING_FILTER:-sgd-b2048-w1-s100-lr=0.03}" --quiet --other-cpu-ok
