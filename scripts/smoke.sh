#!/usr/bin/env bash
# `npm start`: the smoke suite end to end on this machine's default backend. Runs every optimizer on a
# Fashion-MNIST subset (the large batch on 2 data-parallel workers), times the step phases, writes
# reports/smoke.md, checks the results against baselines/smoke.json, and prints the verdict and the
# accuracy table. Exit code: check's (0 pass, 1 regression or missing, 2 bad input), or run's if the
# suite itself failed.
set -uo pipefail
cd "$(dirname "$0")/.."
cli=(node dist/src/cli.js)
out=${NGD_BENCH_SMOKE_OUT:-results/smoke}
[ -f dist/src/cli.js ] || npm run -s build
rm -rf "$out"
"${cli[@]}" run suites/smoke.json --out "$out"
run_status=$?
"${cli[@]}" probe suites/smoke.json --out "$out/probes.json" > /dev/null || run_status=1
"${cli[@]}" report "$out" --out reports/smoke.md --baseline baselines/smoke.json --title "Smoke suite" || exit 2
echo
"${cli[@]}" check "$out" --baseline baselines/smoke.json --junit "$out/check-junit.xml"
check_status=$?
echo
# The accuracy table of the report, as GitHub shows it.
awk '/^## Test accuracy/{p=1} p&&/^## /&&!/^## Test accuracy/{exit} p' reports/smoke.md | sed '/^!\[/d'
if [ "$run_status" -ne 0 ]; then exit "$run_status"; fi
exit "$check_status"
