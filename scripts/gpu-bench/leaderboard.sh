#!/usr/bin/env bash
# The leaderboard over every result set given (committed CPU results and a run's GPU results).
source "$(dirname "$0")/common.sh"
[ $# -ge 2 ] || usage "leaderboard.sh OUT_MD RESULTS_DIR..."
out=$1
shift
"${cli[@]}" leaderboard "$@" --out "$out"
