#!/usr/bin/env bash
# Everything ngd-bench needs on a fresh Debian machine: system packages (real Fashion-MNIST, OpenBLAS
# and LAPACKE for the accelerated CPU path, Open MPI to test launching ranks with mpirun), npm
# dependencies, the native BLAS addon, the build.
set -euo pipefail
cd "$(dirname "$0")/.."
packages=(dataset-fashion-mnist libopenblas-dev liblapacke-dev openmpi-bin)
missing=()
for p in "${packages[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if ((${#missing[@]})); then
  sudo_cmd=()
  [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq "${missing[@]}"
fi
npm ci --no-audit --no-fund
# The BLAS addon is optional: without it everything still runs on the plain CPU backend, slower.
npm run build:native || echo "setup: native BLAS addon not built; continuing on the plain CPU backend" >&2
npm run build
