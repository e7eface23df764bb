#!/usr/bin/env bash
# A GPU check that travels (issue 13, item 6): everything the WebGPU path needs, packed here into one
# folder under 64 MiB, run on a Linux x86-64 machine with an NVIDIA GPU and no network or packages.
#
#   scripts/gpu-check.sh pack DIR        here (after setup-debian.sh): builds DIR
#   DIR/gpu-check.sh run OUT [SUITE...]  there: writes OUT/{gpu.json,equivalence.json,probes-*.json}
#
# DIR holds: Node (xz), Dawn's dawn.node (xz) in node_modules/webgpu, the Vulkan loader libvulkan.so.1,
# ngd-bench bundled by esbuild (tfjs and the webgpu backend inside; the BLAS addon left out, so the
# reference backend there is tfjs's plain CPU one), Fashion-MNIST (raw IDX files, xz) and the probe
# suites (scripts/gpu-check/*.json). `run` unpacks Node and Dawn (xz, or Python's lzma where xz is
# missing), finds the NVIDIA Vulkan ICD (writing one for libGLX_nvidia.so.0 if the driver's JSON is not
# installed, as in containers without the 'graphics' capability), then:
#   1. gpu.json: nvidia-smi's name, driver and memory, and the GPU's fp32 peak where this script knows it;
#   2. verify-backend --backend webgpu --reference cpu: one mlp/cnn sgd/ngd step equal to the CPU's
#      within stated tolerances (exit 1 otherwise);
#   3. probe on each suite: step phases of mlp and cnn with sgd and ngd at b1024 and b8192, and a
#      4096^2 matMul in GFLOP/s, on the hardware adapter.
# Exit: 0 all ran and the steps agree; 1 a check failed; 2 bad usage or a missing piece.
# GPU_CHECK_ALLOW_SOFTWARE=1 lets `run` use a software adapter (the CI test of this script, on lavapipe).
set -euo pipefail

die() {
  echo "gpu-check: $*" >&2
  exit 2
}

# 64 MiB: what a device session may carry beside the working tree.
LIMIT_BYTES=$((64 * 1024 * 1024))

pack() {
  local dir=$1 repo
  repo=$(cd "$(dirname "$0")/.." && pwd)
  [ -d "$repo/node_modules/webgpu" ] || die "node_modules/webgpu is missing: run scripts/setup-debian.sh first"
  command -v xz > /dev/null || die "xz is missing: apt-get install xz-utils"
  local dawn="$repo/node_modules/webgpu/dist/linux-x64/dawn.node"
  local loader
  # No early exit in awk: ldconfig would die of SIGPIPE, and pipefail would stop the script.
  loader=$(ldconfig -p | awk '/libvulkan\.so\.1 .*x86-64/ && !found {print $NF; found = 1}')
  [ -n "$loader" ] || die "libvulkan.so.1 is missing: apt-get install libvulkan1"
  local data=${NGD_BENCH_DATA_DIR:-/usr/share/datasets}/fashion-mnist
  [ -f "$data/train-images-idx3-ubyte.gz" ] || die "Fashion-MNIST is missing at $data: apt-get install dataset-fashion-mnist"
  rm -rf "$dir"
  mkdir -p "$dir"/{bin,lib,app,data/fashion-mnist,suites,node_modules/webgpu/dist/linux-x64}
  # The CLI with everything it loads lazily (training code, tfjs-backend-webgpu) in chunks of its own;
  # --ignore-annotations: tfjs marks its backend registration side-effect free, which it is not.
  (cd "$repo" && npx esbuild src/cli.ts --bundle --platform=node --format=esm --splitting --target=node20 \
    --outdir="$dir/app" --external:webgpu --ignore-annotations --minify --log-level=error \
    --banner:js="import { createRequire as __ngdRequire } from 'node:module'; const require = __ngdRequire(import.meta.url);")
  node -e 'const p = require(process.argv[1]); process.stdout.write(JSON.stringify({ name: p.name, version: p.version, type: "module" }))' \
    "$repo/package.json" > "$dir/package.json"
  cp "$repo"/node_modules/webgpu/{package.json,index.js,LICENSE.md} "$dir/node_modules/webgpu/"
  xz -6 -T0 -c "$dawn" > "$dir/node_modules/webgpu/dist/linux-x64/dawn.node.xz"
  xz -6 -T0 -c "$(readlink -f "$(command -v node)")" > "$dir/bin/node.xz"
  cp -L "$loader" "$dir/lib/libvulkan.so.1"
  # Raw IDX under xz: 4 MB smaller than the published .gz, and the loader reads raw IDX as well.
  local file
  for file in "$data"/*-ubyte.gz; do
    gunzip -c "$file" | xz -6 -T0 -c > "$dir/data/fashion-mnist/$(basename "$file" .gz).xz"
  done
  cp "$repo"/scripts/gpu-check/*.json "$dir/suites/"
  cp "$0" "$dir/gpu-check.sh"
  local bytes
  bytes=$(du -sb "$dir" | cut -f1)
  ((bytes < LIMIT_BYTES)) || die "$dir is $bytes bytes, over the 64 MiB limit"
  echo "gpu-check: packed $dir ($((bytes / 1024 / 1024)) MiB of 64): run '$dir/gpu-check.sh run OUT' on the GPU machine"
}

# Decompresses FILE.xz next to itself (xz, else Python's lzma), once.
unxz_once() {
  local target=$1
  [ -e "$target" ] && return
  if command -v xz > /dev/null; then
    xz -dc "$target.xz" > "$target.part"
  elif command -v python3 > /dev/null; then
    python3 -c 'import lzma, shutil, sys; shutil.copyfileobj(lzma.open(sys.argv[1]), open(sys.argv[2], "wb"))' "$target.xz" "$target.part"
  else
    die "neither xz nor python3 here to unpack $target.xz"
  fi
  mv "$target.part" "$target"
}

# fp32 peak TFLOP/s of GPUs this script knows (vendor data sheets: boost clock, dense, no sparsity).
fp32_peak() {
  case "$1" in
    *H200* | *"H100 80GB HBM3"* | *"H100 SXM"*) echo 66.9 ;;
    *"H100 PCIe"* | *"H100 NVL"*) echo 51.2 ;;
    *A100*) echo 19.5 ;;
    *L40S*) echo 91.6 ;;
    *L4) echo 30.3 ;;
    *A10G* | *A10) echo 31.2 ;;
    *V100*) echo 15.7 ;;
    *T4) echo 8.1 ;;
    *) echo null ;;
  esac
}

run() {
  local out=$1 here
  shift
  here=$(cd "$(dirname "$0")" && pwd)
  [ -f "$here/app/cli.js" ] || die "$here is not a packed gpu-check folder (run 'scripts/gpu-check.sh pack DIR' first)"
  mkdir -p "$out"
  out=$(cd "$out" && pwd)
  unxz_once "$here/bin/node"
  chmod +x "$here/bin/node"
  unxz_once "$here/node_modules/webgpu/dist/linux-x64/dawn.node"
  local packed
  for packed in "$here"/data/fashion-mnist/*.xz; do unxz_once "${packed%.xz}"; done
  export LD_LIBRARY_PATH="$here/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  export NGD_BENCH_DATA_DIR="$here/data"
  if [ -z "${VK_DRIVER_FILES:-}${VK_ICD_FILENAMES:-}" ] && ! ls /usr/share/vulkan/icd.d/nvidia_icd.json /etc/vulkan/icd.d/nvidia_icd.json > /dev/null 2>&1; then
    if ldconfig -p 2> /dev/null | grep 'libGLX_nvidia\.so\.0' > /dev/null; then
      mkdir -p "$here/icd"
      echo '{"file_format_version": "1.0.1", "ICD": {"library_path": "libGLX_nvidia.so.0", "api_version": "1.3.0"}}' > "$here/icd/nvidia_icd.json"
      export VK_DRIVER_FILES="$here/icd/nvidia_icd.json"
      echo "gpu-check: no nvidia_icd.json installed; using the driver's libGLX_nvidia.so.0 through $VK_DRIVER_FILES" >&2
    fi
  fi
  local node="$here/bin/node" cli="$here/app/cli.js" name="" status=0
  if command -v nvidia-smi > /dev/null; then
    name=$(nvidia-smi --query-gpu=name --format=csv,noheader | awk 'NR == 1')
    nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader > "$out/nvidia-smi.csv" || true
  fi
  "$node" -e 'const [name, peak, smi] = process.argv.slice(1); process.stdout.write(JSON.stringify({ gpu: name || null, fp32PeakTflops: peak === "null" ? null : Number(peak), nvidiaSmi: smi || null }, null, 2) + "\n")' \
    "$name" "$(fp32_peak "$name")" "$(cat "$out/nvidia-smi.csv" 2> /dev/null || true)" > "$out/gpu.json"
  # A software adapter refused unless allowed: numbers from lavapipe are not GPU numbers.
  local adapter
  adapter=$("$node" "$cli" train --backend webgpu -d synthetic -m mlp --hidden-widths 8 -b 32 --steps 1 --train-size 64 --test-size 32 -q --json |
    "$node" -e 'let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => { const a = JSON.parse(s).environment.gpuAdapter; process.stdout.write(`${a.software} ${a.device}`); })') ||
    die "the webgpu backend did not start (see above)"
  if [ "${adapter%% *}" = true ] && [ "${GPU_CHECK_ALLOW_SOFTWARE:-0}" != 1 ]; then
    die "only a software adapter (${adapter#* }): no GPU driver reached; set GPU_CHECK_ALLOW_SOFTWARE=1 to run on it anyway"
  fi
  echo "gpu-check: adapter ${adapter#* } (software: ${adapter%% *})" >&2
  "$node" "$cli" verify-backend --backend webgpu --reference cpu --out "$out/equivalence.json" || status=1
  local suites=("$@")
  ((${#suites[@]} > 0)) || suites=("$here"/suites/probes-*.json)
  for suite in "${suites[@]}"; do
    "$node" "$cli" probe "$suite" --no-allreduce --out "$out/$(basename "$suite")" || status=1
  done
  return "$status"
}

case "${1:-}" in
  pack)
    [ $# -eq 2 ] || die "usage: gpu-check.sh pack DIR"
    pack "$2"
    ;;
  run)
    [ $# -ge 2 ] || die "usage: gpu-check.sh run OUT [SUITE...]"
    shift
    run "$@"
    ;;
  *) die "usage: gpu-check.sh pack DIR | gpu-check.sh run OUT [SUITE...]" ;;
esac
