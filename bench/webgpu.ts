// The recurrent kernels on WebGPU (src/kernels/webgpu/recurrent.ts) against the CPU kernels (WebAssembly,
// one thread): one layer-direction's forward (keeping what backward needs) plus its backward through time,
// with every gradient, at a few sizes. The GPU time runs from the first dispatch recorded to the GPU
// having finished (ctx.sync()); nothing is read back. The CPU time is the same two kernel calls.
//
//   node --import tsx bench/webgpu.ts [--reps N] [--sizes small|w|all] [--modes LSTM,GRU,RNN_TANH]
//
// Where the device is SwiftShader (Debian's chromium package, the fallback of requestNodeWebGPU on a
// machine without a GPU), the "GPU" figures are a Vulkan driver running on this machine's CPU cores: they
// say what the fixture tests cost there, not what a GPU does. The table says which device ran.
// --sizes w adds W2's layer (8→128, batch 32, seq 50) and W5's (64→512, batch 256, seq 100): meant for a
// machine with a GPU; on SwiftShader they take minutes.

import { cpus } from "node:os";
import "../src/node/relaxed-simd.js";
import {
  getKernels,
  type RnnDims,
  type RnnMode,
  rnnBackward,
  rnnForward,
  rnnGateCount,
  rnnWorkspaceSize,
  setNumThreads,
  shutdownPool,
} from "../src/kernels/backend.js";
import { GpuRecurrent, type GpuRnnWeights } from "../src/kernels/webgpu/recurrent.js";
import { requestNodeWebGPU } from "../src/node/webgpu.js";

interface Size {
  name: string;
  T: number;
  B: number;
  I: number;
  H: number;
}

const SMALL: Size[] = [
  { name: "sine (1→32, B 16, T 50)", T: 50, B: 16, I: 1, H: 32 },
  { name: "64→64, B 32, T 32", T: 32, B: 32, I: 64, H: 64 },
  { name: "32→128, B 32, T 16", T: 16, B: 32, I: 32, H: 128 },
];
const W: Size[] = [
  { name: "W2 layer 1 (8→128, B 32, T 50)", T: 50, B: 32, I: 8, H: 128 },
  { name: "W5 layer 1 (64→512, B 256, T 100)", T: 100, B: 256, I: 64, H: 512 },
];

const args = process.argv.slice(2);
const arg = (name: string): string | undefined => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
};
const reps = Number(arg("reps") ?? 5);
const which = arg("sizes") ?? "small";
if (!["small", "w", "all"].includes(which)) {
  throw new Error(`--sizes should be small, w or all, got ${JSON.stringify(which)}`);
}
if (!Number.isInteger(reps) || reps < 1)
  throw new Error(`--reps should be an integer ≥ 1, got ${arg("reps")}`);
const sizes = which === "small" ? SMALL : which === "w" ? W : [...SMALL, ...W];
const modes = (arg("modes") ?? "LSTM,GRU").split(",") as RnnMode[];
for (const m of modes) rnnGateCount(m); // throws on an unknown mode

setNumThreads(1);
const ctx = await requestNodeWebGPU({
  // W5's gate buffer alone is 210 MB, past WebGPU's default 128 MiB binding: ask for what the adapter has
  requiredLimits: { maxStorageBufferBindingSize: 2 ** 31, maxBufferSize: 2 ** 32 },
});
const rec = new GpuRecurrent(ctx);
const device = ctx.adapterInfo.description || ctx.adapterInfo.architecture || "unknown adapter";
const soft = /swiftshader/i.test(`${ctx.adapterInfo.description} ${ctx.adapterInfo.architecture}`);

function rand(n: number, seed: number): Float32Array {
  const a = new Float32Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s = (s * 1664525 + 1013904223) >>> 0;
    a[i] = (s / 2 ** 32 - 0.5) * 0.2;
  }
  return a;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

async function bench(mode: RnnMode, z: Size): Promise<{ gpu: number; cpu: number; gflop: number }> {
  const { T, B, I, H } = z;
  const G = rnnGateCount(mode) * H;
  const N = T * B;
  const dims: RnnDims = { mode, T, B, I, H, P: 0, batchSizes: null, reverse: false };
  const lstm = mode === "LSTM";
  const w = { wIh: rand(G * I, 1), wHh: rand(G * H, 2), bIh: rand(G, 3), bHh: rand(G, 4), wHr: null };
  const x = rand(N * I, 5);
  const dY = rand(N * H, 6);

  // CPU
  const ws = rnnWorkspaceSize(mode, T, B, H, 0);
  const saved = new Float32Array(ws.saved);
  const scratch = new Float32Array(ws.scratch);
  const y = new Float32Array(N * H);
  const hN = new Float32Array(B * H);
  const cN = lstm ? new Float32Array(B * H) : null;
  const dW = {
    dWih: new Float32Array(G * I),
    dWhh: new Float32Array(G * H),
    dBih: new Float32Array(G),
    dBhh: new Float32Array(G),
    dWhr: null,
  };
  const dX = new Float32Array(N * I);
  const cpuRuns: number[] = [];
  for (let r = 0; r <= reps; r++) {
    const t0 = performance.now();
    rnnForward(dims, w, x, null, null, y, hN, cN, saved, scratch);
    rnnBackward(dims, w, dW, x, dX, null, null, null, null, y, dY, null, null, saved, scratch);
    if (r > 0) cpuRuns.push(performance.now() - t0); // the first run warms up
  }

  // GPU
  const gw: GpuRnnWeights = {
    wIh: ctx.upload(w.wIh),
    wHh: ctx.upload(w.wHh),
    bIh: ctx.upload(w.bIh),
    bHh: ctx.upload(w.bHh),
    wHr: null,
  };
  const gx = ctx.upload(x);
  const gdY = ctx.upload(dY);
  const gy = ctx.storage(N * H * 4);
  const ghN = ctx.storage(B * H * 4);
  const gcN = lstm ? ctx.storage(B * H * 4) : null;
  const gdX = ctx.storage(N * I * 4);
  const gdW = {
    dWih: ctx.upload(new Float32Array(G * I)),
    dWhh: ctx.upload(new Float32Array(G * H)),
    dBih: ctx.upload(new Float32Array(G)),
    dBhh: ctx.upload(new Float32Array(G)),
    dWhr: null,
  };
  await ctx.sync();
  const gpuRuns: number[] = [];
  for (let r = 0; r <= reps; r++) {
    const t0 = performance.now();
    const s = rec.forward(dims, gw, gx, null, null, gy, ghN, gcN, true)!;
    rec.backward(dims, gw, gdW, gx, gdX, null, null, null, null, gy, gdY, null, null, s);
    s.release();
    await ctx.sync();
    if (r > 0) gpuRuns.push(performance.now() - t0); // the first run compiles the pipelines
  }
  for (const b of [
    gw.wIh,
    gw.wHh,
    gw.bIh!,
    gw.bHh!,
    gx,
    gdY,
    gy,
    ghN,
    gdX,
    gdW.dWih,
    gdW.dWhh,
    gdW.dBih,
    gdW.dBhh,
  ]) {
    ctx.release(b);
  }
  if (gcN !== null) ctx.release(gcN);
  // forward 2·N·G·(I + H), backward twice that (dX, dW_ih, dh, dW_hh)
  const gflop = (6 * N * G * (I + H)) / 1e9;
  return { gpu: median(gpuRuns), cpu: median(cpuRuns), gflop };
}

console.log(`CPU: ${cpus()[0]?.model ?? "unknown"}, ${cpus().length} cores`);
console.log(
  `WebGPU device: ${device}${soft ? " — SwiftShader, a Vulkan driver on this machine's CPU cores, not a GPU" : ""}`,
);
console.log(`CPU kernels: ${getKernels().detail}, 1 thread; median of ${reps} runs after one warm-up`);
console.log("one layer-direction, forward (training) + backward with all gradients, ms:");
const rows: Record<string, unknown>[] = [];
const pad = (s: string, n: number) => s.padEnd(n);
console.log(`${pad("mode", 9)}${pad("size", 36)}${pad("WebGPU", 12)}${pad("CPU wasm", 12)}WebGPU ÷ CPU`);
for (const mode of modes) {
  for (const z of sizes) {
    const r = await bench(mode, z);
    rows.push({ mode, size: z.name, webgpuMs: r.gpu, cpuMs: r.cpu, gflop: r.gflop });
    console.log(
      `${pad(mode, 9)}${pad(z.name, 36)}${pad(r.gpu.toFixed(1), 12)}${pad(r.cpu.toFixed(1), 12)}${(r.gpu / r.cpu).toFixed(2)}×`,
    );
  }
}
console.log(JSON.stringify({ device, swiftshader: soft, reps, rows }));
shutdownPool();
ctx.destroy();
process.exit(0);
