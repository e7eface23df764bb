#!/usr/bin/env bash
# Everything ngd-bench needs on a fresh Debian machine: system packages (real Fashion-MNIST, OpenBLAS
# and LAPACKE for the accelerated CPU path, Open MPI to test launching ranks with mpirun, the Vulkan
# loader and Mesa's software Vulkan driver for the WebGPU backend), npm dependencies (the optional
# WebGPU packages included), the native BLAS addon, the build.
set -euo pipefail
cd "$(dirname "$0")/.."
sudo_cmd=()
[ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
packages=(dataset-fashion-mnist libopenblas-dev liblapacke-dev openmpi-bin libvulkan1)
missing=()
for p in "${packages[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
# Dawn (the WebGPU backend) refuses bookworm's Mesa 22.3 lavapipe; Mesa >= 25 comes from bookworm-backports.
mesa_version=$(dpkg-query -W -f '${Version}' mesa-vulkan-drivers 2>/dev/null || true)
need_mesa=1
if [ -n "$mesa_version" ] && dpkg --compare-versions "$mesa_version" ge 25; then need_mesa=0; fi
if ((${#missing[@]})) || ((need_mesa)); then
  codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
  if ((need_mesa)) && [ "$codename" = bookworm ] && ! grep -rqs 'bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/; then
    printf 'Types: deb\nURIs: http://deb.debian.org/debian\nSuites: bookworm-backports\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' |
      "${sudo_cmd[@]}" tee /etc/apt/sources.list.d/bookworm-backports.sources >/dev/null
  fi
  "${sudo_cmd[@]}" apt-get update -qq
  ((${#missing[@]} == 0)) || DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq "${missing[@]}"
  if ((need_mesa)); then
    backports=()
    [ "$codename" = bookworm ] && backports=(-t bookworm-backports)
    DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq "${backports[@]}" mesa-vulkan-drivers
    mesa_version=$(dpkg-query -W -f '${Version}' mesa-vulkan-drivers)
    dpkg --compare-versions "$mesa_version" ge 25 ||
      echo "setup: mesa-vulkan-drivers $mesa_version is older than 25; Dawn refuses its lavapipe, so the WebGPU tests will fail" >&2
  fi
fi
# Installs the optional WebGPU packages (webgpu = Dawn's Node bindings, @tensorflow/tfjs-backend-webgpu) too.
npm ci --no-audit --no-fund
# The BLAS addon is optional: without it everything still runs on the plain CPU backend, slower.
npm run build:native || echo "setup: native BLAS addon not built; continuing on the plain CPU backend" >&2
npm run build
