#!/usr/bin/env bash
# Regenerates the published paper reports and the leaderboard from the committed results (no training):
# each supporting study's own report, then reports/paper-fashion-mnist.md with the studies inside it, and
# the protocol study (reports/paper-protocols.md), the regularizer studies, the CNN study and the DeepOBS comparison.
# Run after `ngd-bench run ... --resume` or `check --update`; the reports are deterministic.
set -euo pipefail
cd "$(dirname "$0")/.."
cli=(node dist/src/cli.js)
[ -f dist/src/cli.js ] || npm run -s build
for suite in paper-lr-sweep paper-sensitivity paper-b16384; do
  "${cli[@]}" report "results/$suite" --out "reports/$suite.md" --baseline "baselines/$suite.json"
done
"${cli[@]}" report results/paper-fashion-mnist --out reports/paper-fashion-mnist.md \
  --title "Naganuma & Yokota (CCGRID 2019) on Fashion-MNIST: does smoothing make large-batch NGD generalize like SGD?" \
  --baseline baselines/paper-fashion-mnist.json --notes reports/paper-fashion-mnist.notes.md \
  --supplement results/paper-lr-sweep --supplement results/paper-sensitivity --supplement results/paper-b16384 \
  --supplement results/paper-rejected-lr0.3 --supplement results/paper-rejected-smoothed-sgd-lr0.1
"${cli[@]}" report results/paper-protocols --out reports/paper-protocols.md \
  --title "Naganuma & Yokota (CCGRID 2019) under the field's protocols: tuned per batch size on a validation split, steps to a target, matched fit" \
  --baseline baselines/paper-protocols.json --notes reports/paper-protocols.notes.md
"${cli[@]}" report results/paper-weight-decay --out reports/paper-weight-decay.md \
  --title "Does weight decay remove K-FAC NGD's generalization gap at large batch, and does its placement matter?" \
  --baseline baselines/paper-weight-decay.json --notes reports/paper-weight-decay.notes.md
"${cli[@]}" report results/paper-regularizers --out reports/paper-regularizers.md \
  --title "Does random or sharpness-aware smoothing remove K-FAC NGD's generalization gap at large batch?" \
  --baseline baselines/paper-regularizers.json --notes reports/paper-regularizers.notes.md
"${cli[@]}" report results/paper-cnn-b4096-ngd --out reports/paper-cnn-b4096-ngd.md \
  --title "K-FAC NGD and smoothed NGD at batch 4096 on fmnist_2c2d with the rate tuned at b4096: do they still diverge?" \
  --baseline baselines/paper-cnn-b4096-ngd.json --notes reports/paper-cnn-b4096-ngd.notes.md
"${cli[@]}" report results/paper-cnn --out reports/paper-cnn.md \
  --title "Naganuma & Yokota (CCGRID 2019) on a CNN (DeepOBS's fmnist_2c2d): tuned on a validation split, steps to a target, matched fit" \
  --baseline baselines/paper-cnn.json --notes reports/paper-cnn.notes.md --supplement results/paper-cnn-b4096-ngd
"${cli[@]}" report results/deepobs-fmnist-2c2d --out reports/deepobs-fmnist-2c2d.md \
  --title "Our SGD and momentum against DeepOBS's published fmnist_2c2d baselines" \
  --baseline baselines/deepobs-fmnist-2c2d.json --notes reports/deepobs-fmnist-2c2d.notes.md \
  --reference reports/deepobs/published-fmnist_2c2d.json
"${cli[@]}" leaderboard results/paper-fashion-mnist results/paper-b16384 --out reports/leaderboard.md --title "ngd-bench leaderboard: Fashion-MNIST, MLP, 10 epochs"
