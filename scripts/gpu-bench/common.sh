# Shared by the gpu-bench steps: the checkout's root, the CLI to call (NGD_BENCH_CLI overrides it, e.g.
# for tests running from source) and a usage helper. Sourced, not run. Paths given to the steps are
# taken as they are (relative to the caller's directory).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
read -r -a cli <<< "${NGD_BENCH_CLI:-node $root/dist/src/cli.js}"
usage() {
  echo "usage: $1" >&2
  exit 2
}
