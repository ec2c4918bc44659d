// Quick kernel throughput, TypeScript against WebAssembly: `npx tsx bench/gemm.ts [--quick]`.
// GFLOP/s of square products and of the per-step products of the recurrent layers, then the time of one
// whole-sequence forward + backward of the recurrent kernels. Each figure is the best of a few rounds,
// timed in process CPU time where available (so that other processes on a shared machine count less).
//
// M, N, K = product sizes; T = time, B = batch, I = input, H = hidden, G = gates·H

import { getKernels, type Kernels, rnnWorkspaceSize, setBackend } from "../src/kernels/backend.js";
import type { RnnDims, RnnMode } from "../src/kernels/rnn.js";

const quick = process.argv.includes("--quick");

function kernelsOf(name: "ts" | "wasm"): Kernels {
  setBackend(name);
  return getKernels();
}
const BACKENDS = [kernelsOf("ts"), kernelsOf("wasm")];
console.log(
  `wasm build: ${BACKENDS[1].detail} (Node 20 runs wasm-relaxed-simd with --experimental-wasm-relaxed-simd)`,
);

function rand(n: number): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = Math.random() - 0.5;
  return a;
}

/** Milliseconds: this process's CPU time in Node, else wall-clock time. */
const proc = (globalThis as { process?: { cpuUsage?: () => { user: number; system: number } } }).process;
const now =
  proc?.cpuUsage !== undefined
    ? () => {
        const u = proc.cpuUsage!();
        return (u.user + u.system) / 1000;
      }
    : () => performance.now();

/** Best seconds per call of fn over `rounds` rounds of enough calls to take ~minMs each. */
function time(fn: () => void, minMs = quick ? 40 : 150, rounds = quick ? 2 : 4): number {
  fn();
  let n = 1;
  for (;;) {
    const t0 = now();
    for (let i = 0; i < n; i++) fn();
    if (now() - t0 > minMs / 4) break;
    n *= 2;
  }
  let best = Number.POSITIVE_INFINITY;
  for (let r = 0; r < rounds; r++) {
    const t0 = now();
    for (let i = 0; i < n * 4; i++) fn();
    best = Math.min(best, (now() - t0) / (n * 4));
  }
  return best / 1000;
}

function gemmRow(
  label: string,
  tA: boolean,
  tB: boolean,
  M: number,
  N: number,
  K: number,
  beta: number,
): void {
  const A = rand(M * K);
  const B = rand(K * N);
  const C = rand(M * N);
  const cells = BACKENDS.map((k) => {
    if (k.name === "ts" && M * N * K > 300 ** 3 && quick) return "   (skip)";
    const s = time(() => k.gemm(tA, tB, M, N, K, A, 0, tA ? M : K, B, 0, tB ? K : N, beta, C, 0, N));
    return `${((2 * M * N * K) / s / 1e9).toFixed(2).padStart(9)}`;
  });
  console.log(`${label.padEnd(34)}${cells.join("  ")}`);
}

console.log(`${"GFLOP/s".padEnd(34)}${"ts".padStart(9)}  ${"wasm".padStart(9)}`);
gemmRow("NN 256³", false, false, 256, 256, 256, 0);
gemmRow("NN 1024³", false, false, 1024, 1024, 1024, 0);
gemmRow("NT 256³", false, true, 256, 256, 256, 0);
gemmRow("TN 256³", true, false, 256, 256, 256, 0);
console.log("per-step products (h · W_hhᵀ, beta 1):");
for (const [M, N, K] of [
  [1, 16, 16],
  [1, 64, 64],
  [32, 64, 16],
  [32, 512, 128],
]) {
  gemmRow(`  NT ${M}×${N}×${K}`, false, true, M, N, K, 1);
}
console.log("linear layer products (sine: rows 49, 16 → 1):");
gemmRow("  NT 49×1×16 (forward)", false, true, 49, 1, 16, 1);
gemmRow("  NN 49×16×1 (dx)", false, false, 49, 16, 1, 0);
gemmRow("  TN 1×16×49 (dW)", true, false, 1, 16, 49, 0);
gemmRow("  NT 1600×128×128 (forward)", false, true, 1600, 128, 128, 1);

function rnnRow(label: string, mode: RnnMode, T: number, B: number, I: number, H: number): void {
  const G = (mode === "LSTM" ? 4 : mode === "GRU" ? 3 : 1) * H;
  const dims: RnnDims = { mode, T, B, I, H, P: 0, batchSizes: null, reverse: false };
  const w = { wIh: rand(G * I), wHh: rand(G * H), bIh: rand(G), bHh: rand(G), wHr: null };
  const dW = {
    dWih: new Float32Array(G * I),
    dWhh: new Float32Array(G * H),
    dBih: new Float32Array(G),
    dBhh: new Float32Array(G),
    dWhr: null,
  };
  const ws = rnnWorkspaceSize(mode, T, B, H, 0);
  const x = rand(T * B * I);
  const y = new Float32Array(T * B * H);
  const hN = new Float32Array(B * H);
  const cN = mode === "LSTM" ? new Float32Array(B * H) : null;
  const saved = new Float32Array(ws.saved);
  const scratch = new Float32Array(ws.scratch);
  const dX = new Float32Array(T * B * I);
  const dY = rand(T * B * H);
  const cells = BACKENDS.map((k) => {
    const s = time(() => {
      k.rnnForward(dims, w, x, null, null, y, hN, cN, saved, scratch);
      k.rnnBackward(dims, w, dW, x, dX, null, null, null, null, y, dY, null, null, saved, scratch);
    });
    return `${(s * 1e3).toFixed(3).padStart(9)}`;
  });
  console.log(`${label.padEnd(34)}${cells.join("  ")}`);
}

console.log(`\n${"ms per forward + backward".padEnd(34)}${"ts".padStart(9)}  ${"wasm".padStart(9)}`);
rnnRow("RNN(1→16) T=49 B=1 (sine)", "RNN_TANH", 49, 1, 1, 16);
rnnRow("LSTM(8→128) T=50 B=32, layer 1", "LSTM", 50, 32, 8, 128);
rnnRow("LSTM(128→128) T=50 B=32, layer 2", "LSTM", 50, 32, 128, 128);
rnnRow("GRU(64→64) T=50 B=32", "GRU", 50, 32, 64, 64);
