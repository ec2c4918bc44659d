#!/usr/bin/env bash
# Issue 14's GPU measurement in one script: W2 and W5 training steps on WebGPU (Dawn over NVIDIA's Vulkan
# driver, bench/gpu-step.ts) beside PyTorch CUDA on the same GPU (bench/peers/torch_bench.py --device
# cuda), then a markdown table against the issue's targets. Needs .gpu/ from `bash scripts/gpu-pack.sh`
# (the GPU machine has no Node and no Vulkan loader). On the device machine (the `run` tool):
#   command: bash bench/gpu/run.sh        carry: [".gpu"]        timeout_s: 600 (it ends within ~8 min)
# Here, on SwiftShader at tiny sizes with PyTorch on the CPU, to prove the pipeline end to end:
#   bash bench/gpu/run.sh --local
# Writes every JSON line, the log and table.md into $OUT (./gpu-out where OUT is unset): 7 files, under the
# device tool's 8.
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
local=0
case "${1:-}" in
  --local) local=1 ;;
  "") ;;
  *) echo "usage: bash bench/gpu/run.sh [--local]" >&2; exit 2 ;;
esac
out=${OUT:-$root/gpu-out}
mkdir -p "$out"
exec > >(tee "$out/run.log") 2>&1
[ -f .gpu/gpu-step.js ] || { echo "run.sh: .gpu/ is missing: run bash scripts/gpu-pack.sh first (and carry .gpu)"; exit 1; }
t_start=$SECONDS
say() { echo "== $(date -u +%T) (+$((SECONDS - t_start)) s) $*"; }

# the bundle and Dawn's binding in a scratch folder (.gpu/ stays as packed)
work=$(mktemp -d /tmp/recurrent-gpu.XXXXXX)
cp -r .gpu/gpu-step.js .gpu/pool-worker.js .gpu/package.json .gpu/node_modules "$work/"
dawn=$work/node_modules/webgpu/dist/linux-x64
xz -dc "$dawn/dawn.node.xz" >"$dawn/dawn.node" && rm "$dawn/dawn.node.xz"

if [ $local = 1 ]; then
  node=$(command -v node)
  export RECURRENT_WEBGPU_SWIFTSHADER=1
  ours=(--steps 3 --warmup 1 --seq 2)
  w5ours=() # W5 on SwiftShader: ~25 s a time step, not run here
  cpu=(--cpu-threads all --cpu-steps 1 --seq 2)
  torch=(--device cpu --seq 2)
  torch_steps=(3 1)
  py=/usr/bin/python3
else
  say "unpacking the Vulkan loader and glvnd"
  for f in .gpu/deb/*.deb; do dpkg -x "$f" /; done
  ldconfig
  icd=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json # the first of these that exists
  for c in /usr/share/vulkan/icd.d/nvidia_icd.json /etc/vulkan/icd.d/nvidia_icd.json; do
    [ -f "$icd" ] || [ ! -f "$c" ] || icd=$c
  done
  export VK_ICD_FILENAMES=$icd VK_DRIVER_FILES=$icd
  ls -l "$icd"; ldconfig -p | grep -E 'libvulkan|libGLX_nvidia' | sed 's/^/  /'
  egl=/usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json
  [ -f "$egl" ] && export __EGL_VENDOR_LIBRARY_FILENAMES=$egl
  export RECURRENT_WEBGPU_SWIFTSHADER=0 # a GPU or nothing: never time SwiftShader by mistake
  xz -dc .gpu/node.xz >"$work/node" && chmod +x "$work/node"
  node=$work/node
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader # into run.log
  ours=(--steps 20 --warmup 3 --max-seconds 40)
  w5ours=(--workloads w5 --steps 10 --warmup 2 --max-seconds 90)
  cpu=(--cpu-threads all --cpu-steps 2)
  torch=(--device cuda)
  torch_steps=(20 10)
  py=python3
fi
echo "node $("$node" --version), VK_ICD_FILENAMES=${VK_ICD_FILENAMES:-unset}, work $work"

# one step: name, seconds, command...; its stdout (the JSON line) goes to $out/name.json
step() {
  local name=$1 secs=$2
  shift 2
  say "$name (at most $secs s): $*"
  timeout -k 5 "$secs" "$@" >"$out/$name.json"
  local rc=$?
  cat "$out/$name.json"
  [ $rc = 0 ] || echo "run.sh: $name failed (exit $rc$([ $rc = 124 ] && echo ', timed out'))"
}
export PYTHONUNBUFFERED=1
step ours-w2 75 "$node" "$work/gpu-step.js" --workloads w2 "${ours[@]}"
step torch-w2 60 "$py" bench/peers/torch_bench.py w2 --steps "${torch_steps[0]}" "${torch[@]}"
step torch-w5 75 "$py" bench/peers/torch_bench.py w5 --steps "${torch_steps[1]}" "${torch[@]}"
[ ${#w5ours[@]} = 0 ] || step ours-w5 150 "$node" "$work/gpu-step.js" "${w5ours[@]}"
step ours-cpu 90 "$node" "$work/gpu-step.js" --workloads none "${cpu[@]}"

say "table"
$py bench/gpu/table.py "$out" $([ $local = 1 ] && echo --local) | tee "$out/table.md"
rm -rf "$work"
say "done: $(ls "$out" | tr '\n' ' ')"
