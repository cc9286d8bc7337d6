#!/usr/bin/env bash
# Installs what Helion-C needs on a Debian/Ubuntu machine that already has the
# CUDA Toolkit (nvcc, NVRTC and headers under /usr/local/cuda), then
# configures and builds into build/ with warnings as errors.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(build-essential cmake clang libclang-rt-dev libcjson-dev
          libcmocka-dev libcurl4-openssl-dev zlib1g-dev python3
          python3-sklearn pkg-config nginx)
sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" \
    || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}"
fi

cuda_root="${CUDA_HOME:-/usr/local/cuda}"
if [ ! -f "$cuda_root/include/nvrtc.h" ]; then
  echo "setup: the CUDA Toolkit was not found in $cuda_root (set CUDA_HOME)" >&2
  exit 1
fi

cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DHELION_WERROR=ON \
  -DCUDAToolkit_ROOT="$cuda_root"
cmake --build build -j"$(nproc)"
