#!/usr/bin/env bash
# Packs what bench/gpu/run.sh needs on a GPU machine that has no Node and no Vulkan loader (read
# ../shared/webgpu/README.md) into .gpu/ in the repo root, a folder git ignores (.git/info/exclude):
#   .gpu/gpu-step.js, pool-worker.js  esbuild bundle of bench/gpu-step.ts (+ the CPU thread pool's worker)
#   .gpu/node_modules/webgpu/          Dawn's Node binding: index.js, package.json, dist/linux-x64/dawn.node.xz
#   .gpu/node.xz                       this machine's node binary, xz'd
#   .gpu/deb/*.deb                     amd64 Vulkan loader and glvnd (NVIDIA's Vulkan driver lives in libGLX_nvidia)
# Then the device command is `bash bench/gpu/run.sh` with carry [".gpu"]. Run from anywhere:
#   bash scripts/gpu-pack.sh
# Must stay well under the device's 64 MiB (working tree and carried folders together): prints its size.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
out=.gpu
git_dir=$(git rev-parse --git-common-dir)
grep -qx '/.gpu/' "$git_dir/info/exclude" 2>/dev/null || echo '/.gpu/' >>"$git_dir/info/exclude"
if [ "$(uname -m)" != x86_64 ]; then
  echo "gpu-pack: the GPU machine is x86-64 and this is $(uname -m): its node and dawn.node would not run there" >&2
  exit 1
fi
pkg=node_modules/webgpu
[ -f "$pkg/dist/linux-x64/dawn.node" ] || { echo "gpu-pack: $pkg/dist/linux-x64/dawn.node is missing: run npm ci" >&2; exit 1; }

mkdir -p "$out/deb" "$out/node_modules/webgpu/dist/linux-x64"
# ESM, as the sources; `require` for the CommonJS pieces that esbuild inlines. webgpu is loaded at run time
# from .gpu/node_modules (src/node/webgpu.ts imports it by a variable name).
npx esbuild bench/gpu-step.ts src/node/pool-worker.ts --bundle --platform=node --format=esm --target=node20 \
  --external:webgpu --outdir="$out" --entry-names='[name]' --log-level=warning \
  --banner:js='import { createRequire as __cr } from "node:module"; const require = __cr(import.meta.url);'
echo '{ "type": "module" }' >"$out/package.json"

cp "$pkg/index.js" "$pkg/package.json" "$out/node_modules/webgpu/"
dawn="$out/node_modules/webgpu/dist/linux-x64/dawn.node.xz"
# xz -9 takes a minute or two: kept from an earlier pack while newer than its source (written whole or not at all)
pack() { [ -s "$2" ] && [ "$2" -nt "$1" ] || { xz -9 -T2 <"$1" >"$2.tmp" && mv "$2.tmp" "$2"; }; }
pack "$pkg/dist/linux-x64/dawn.node" "$dawn"
pack "$(command -v node)" "$out/node.xz"
node --version >"$out/node.version"

debs=(libvulkan1 libegl1 libglvnd0 libopengl0 libgl1 libglx0 libgles2)
if [ "$(ls "$out/deb"/*.deb 2>/dev/null | wc -l)" -lt ${#debs[@]} ]; then
  (cd "$out/deb" && apt-get download "${debs[@]}" >/dev/null 2>&1) || {
    # an apt without amd64 lists (an arm64 host, say): fetch amd64's lists into /tmp first
    o=(-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=/tmp/amd64)
    mkdir -p /tmp/amd64/partial && apt-get "${o[@]}" update >/dev/null
    (cd "$out/deb" && apt-get "${o[@]}" download "${debs[@]}" >/dev/null)
  }
fi

size=$(du -sb "$out" | cut -f1)
echo "gpu-pack: $out is $((size / 1024 / 1024)) MiB ($size bytes):"
du -sh "$out"/* | sed 's/^/  /'
if [ "$size" -gt $((60 * 1024 * 1024)) ]; then
  echo "gpu-pack: over 60 MiB: with the working tree it would pass the device's 64 MiB" >&2
  exit 1
fi
