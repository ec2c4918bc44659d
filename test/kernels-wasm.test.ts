// The WebAssembly kernels against their TypeScript twins (and gemm against a float64 product written here),
// for every build this runtime can run; and the backend seam that picks between them.
//
// M, N, K = product sizes; T = time, B = batch, I = input, H = hidden, P = proj, R = size of h, G = gates·H; n = elements (adam)

import { execFileSync } from "node:child_process";
import { join } from "node:path";
import v8 from "node:v8";
import { afterEach, describe, expect, it, vi } from "vitest";
import { linear, matmul } from "../src/core/ops.js";
import { Generator } from "../src/core/random.js";
import { Tensor } from "../src/core/tensor.js";
import { manualSeed, randn } from "../src/index.js";
import { LSTM } from "../src/nn/rnn.js";
import { backendName, getKernels, setBackend } from "../src/kernels/backend.js";
import { adamStep as adamStepTs } from "../src/kernels/adam.js";
import { gemm as gemmTs } from "../src/kernels/gemm.js";
import {
  type RnnDims,
  type RnnMode,
  type RnnWeightGrads,
  type RnnWeights,
  rnnBackward as rnnBackwardTs,
  rnnForward as rnnForwardTs,
  rnnGateCount,
  rnnWorkspaceSize,
} from "../src/kernels/rnn.js";
import {
  createWasmKernels,
  defaultTileRows,
  type Kernels,
  RESIDENT_SAVED_MAX,
  ResidentSaved,
  type WasmKernels,
  type WasmVariant,
  wasmBytes,
} from "../src/kernels/wasm.js";
import { expectClose } from "./helpers.js";

const ROOT = join(import.meta.dirname, "..");

/** A build, with its default register tile (`kernels`) and the other tile height (`otherTile`). */
interface Variant {
  variant: WasmVariant;
  kernels: Kernels;
  otherTile: { rows: 4 | 6; kernels: Kernels };
}

function bothTiles(module: WebAssembly.Module, variant: WasmVariant): Variant {
  const rows = defaultTileRows(variant) === 4 ? 6 : 4;
  return {
    variant,
    kernels: createWasmKernels(module, variant),
    otherTile: { rows, kernels: createWasmKernels(module, variant, rows) },
  };
}

/** The builds this runtime can run. Node 20 accepts relaxed SIMD only behind a V8 flag: it is set just
 * long enough to compile that build, so other suites in this process keep the default choice. */
function compileVariants(): Variant[] {
  const out: Variant[] = [];
  if (WebAssembly.validate(wasmBytes("simd"))) {
    out.push(bothTiles(new WebAssembly.Module(wasmBytes("simd")), "simd"));
  }
  let relaxed = WebAssembly.validate(wasmBytes("relaxed"));
  let flagged = false;
  if (!relaxed) {
    v8.setFlagsFromString("--experimental-wasm-relaxed-simd");
    flagged = true;
    relaxed = WebAssembly.validate(wasmBytes("relaxed"));
  }
  try {
    if (relaxed) {
      out.push(bothTiles(new WebAssembly.Module(wasmBytes("relaxed")), "relaxed"));
    }
  } finally {
    if (flagged) v8.setFlagsFromString("--no-experimental-wasm-relaxed-simd");
  }
  return out;
}

const VARIANTS = compileVariants();

type GemmFn = Kernels["gemm"];

describe("wasm module", () => {
  it("runs on this runtime (both builds)", () => {
    expect(VARIANTS.map((v) => v.kernels.detail)).toEqual(["wasm-simd", "wasm-relaxed-simd"]);
  });

  it("the embedded binary was built from the current assembly/ sources", () => {
    const out = execFileSync(process.execPath, [join(ROOT, "scripts", "build-wasm.mjs"), "--check"], {
      encoding: "utf8",
    });
    expect(out).toMatch(/up to date/);
  });
});

// ---------------------------------------------------------------------------------------------------------
// gemm

/** Float64 op(A)·op(B) + beta·C, the independent oracle. */
function refGemm(
  tA: boolean,
  tB: boolean,
  M: number,
  N: number,
  K: number,
  A: Float32Array,
  aOff: number,
  lda: number,
  B: Float32Array,
  bOff: number,
  ldb: number,
  beta: number,
  C: Float32Array,
  cOff: number,
  ldc: number,
): Float64Array {
  const out = Float64Array.from(C);
  for (let i = 0; i < M; i++) {
    for (let j = 0; j < N; j++) {
      let s = 0;
      for (let k = 0; k < K; k++) {
        const a = tA ? A[aOff + k * lda + i] : A[aOff + i * lda + k];
        const b = tB ? B[bOff + j * ldb + k] : B[bOff + k * ldb + j];
        s += a * b;
      }
      const q = cOff + i * ldc + j;
      out[q] = (beta === 0 ? 0 : beta * C[q]) + s;
    }
  }
  return out;
}

interface GemmCase {
  tA: boolean;
  tB: boolean;
  M: number;
  N: number;
  K: number;
  beta: number;
  aOff: number;
  bOff: number;
  cOff: number;
  padA: number;
  padB: number;
  padC: number;
}

function runGemmCase(gemm: GemmFn, c: GemmCase, gen: Generator): void {
  const { tA, tB, M, N, K, beta, aOff, bOff, cOff } = c;
  const lda = (tA ? M : K) + c.padA;
  const ldb = (tB ? K : N) + c.padB;
  const ldc = N + c.padC;
  const u = (n: number): Float32Array => Float32Array.from({ length: n }, () => 2 * gen.nextFloat() - 1);
  const A = u(aOff + (tA ? K : M) * lda + 2);
  const B = u(bOff + (tB ? N : K) * ldb + 2);
  const C = u(cOff + M * ldc + 2);
  const want = refGemm(tA, tB, M, N, K, A, aOff, lda, B, bOff, ldb, beta, C, cOff, ldc);
  const got = C.slice();
  gemm(tA, tB, M, N, K, A, aOff, lda, B, bOff, ldb, beta, got, cOff, ldc);
  const label = `${tA ? "T" : "N"}${tB ? "T" : "N"} M=${M} N=${N} K=${K} beta=${beta} ld+${c.padA},${c.padB},${c.padC}`;
  // every element: the product inside C's rows, untouched (bit-exact) outside them
  expectClose(got, Float32Array.from(want), { atol: 2e-6 * (K + 4), rtol: 1e-5, what: label });
  for (let q = 0; q < C.length; q++) {
    const r = q - cOff;
    const inside = r >= 0 && r < M * ldc && r % ldc < N;
    if (!inside && !Object.is(got[q], C[q])) throw new Error(`${label}: wrote outside C at ${q}`);
  }
}

function randomGemmCases(gen: Generator, count: number, maxDim: number): GemmCase[] {
  const r = (n: number): number => Math.floor(gen.nextFloat() * n);
  const cases: GemmCase[] = [];
  for (let i = 0; i < count; i++) {
    cases.push({
      tA: (i & 1) === 1,
      tB: (i & 2) === 2,
      M: 1 + r(maxDim),
      N: 1 + r(maxDim),
      K: 1 + r(maxDim),
      beta: [0, 1, 0.5, -2][(i >> 2) & 3],
      aOff: r(3) === 0 ? r(7) : 0,
      bOff: r(3) === 0 ? r(7) : 0,
      cOff: r(3) === 0 ? r(7) : 0,
      padA: r(2) * r(5),
      padB: r(2) * r(5),
      padC: r(2) * r(5),
    });
  }
  return cases;
}

const FLAGS = [
  [false, false],
  [false, true],
  [true, false],
  [true, true],
] as const;

for (const { variant, kernels, otherTile } of VARIANTS) {
  describe(`wasm gemm (${variant}): the register tiles of 4 and 6 rows`, () => {
    it("default tile heights: 6 rows with fused multiply-adds, 4 without", () => {
      expect(defaultTileRows(variant)).toBe(variant === "relaxed" ? 6 : 4);
    });

    it(`${otherTile.rows} rows give the same bits as ${defaultTileRows(variant)}, over every transpose and edge`, () => {
      // each C element sums its products in k order in one accumulator whatever the tile, so the bits agree
      const gen = new Generator(7);
      const cases = [
        ...randomGemmCases(gen, 200, 40),
        ...FLAGS.flatMap(([tA, tB]) =>
          [
            [5, 9, 7],
            [6, 8, 256],
            [12, 17, 300],
            [31, 33, 65],
            [32, 64, 16],
            [130, 70, 270],
          ].map(([M, N, K]) => ({
            tA,
            tB,
            M,
            N,
            K,
            beta: 1,
            aOff: 1,
            bOff: 0,
            cOff: 2,
            padA: 1,
            padB: 0,
            padC: 3,
          })),
        ),
      ];
      for (const c of cases) {
        const { tA, tB, M, N, K, beta, aOff, bOff, cOff } = c;
        const lda = (tA ? M : K) + c.padA;
        const ldb = (tB ? K : N) + c.padB;
        const ldc = N + c.padC;
        const u = (n: number) => Float32Array.from({ length: n }, () => 2 * gen.nextFloat() - 1);
        const A = u(aOff + (tA ? K : M) * lda);
        const B = u(bOff + (tB ? N : K) * ldb);
        const C = u(cOff + M * ldc);
        const want = C.slice();
        kernels.gemm(tA, tB, M, N, K, A, aOff, lda, B, bOff, ldb, beta, want, cOff, ldc);
        const got = C.slice();
        otherTile.kernels.gemm(tA, tB, M, N, K, A, aOff, lda, B, bOff, ldb, beta, got, cOff, ldc);
        expect(got, `${tA ? "T" : "N"}${tB ? "T" : "N"} ${M}×${N}×${K}`).toEqual(want);
      }
    });

    it("rejects other tile heights", () => {
      expect(() => createWasmKernels(new WebAssembly.Module(wasmBytes("simd")), "simd", 5 as 4)).toThrow(
        "createWasmKernels: tileRows should be 4 or 6, got 5",
      );
    });
  });
}

/** Each build with each register tile height. */
const GEMM_RUNS = VARIANTS.flatMap((v) => [
  { label: `${v.variant}, ${defaultTileRows(v.variant)}-row tile`, gemmWasm: v.kernels.gemm },
  { label: `${v.variant}, ${v.otherTile.rows}-row tile`, gemmWasm: v.otherTile.kernels.gemm },
]);

for (const { label, gemmWasm } of GEMM_RUNS) {
  describe(`wasm gemm (${label}) against a float64 product`, () => {
    it("tiny and odd shapes: every transpose, beta 0 / 1 / 0.5 / -2, offsets, padded rows", () => {
      const gen = new Generator(1);
      for (const c of randomGemmCases(gen, 400, 13)) runGemmCase(gemmWasm, c, gen);
    });

    it("medium shapes, through the register tiles and their edges", () => {
      const gen = new Generator(2);
      for (const c of randomGemmCases(gen, 48, 70)) runGemmCase(gemmWasm, c, gen);
    });

    it("1×1×1, matrix-vector (M = 1, N = 1) and outer products (K = 1)", () => {
      const gen = new Generator(3);
      const base = { beta: 1, aOff: 1, bOff: 2, cOff: 3, padA: 0, padB: 1, padC: 0 };
      for (const [tA, tB] of FLAGS) {
        for (const [M, N, K] of [
          [1, 1, 1],
          [1, 16, 16],
          [1, 37, 50],
          [1, 512, 128],
          [16, 1, 16],
          [49, 1, 16],
          [49, 16, 1],
          [16, 16, 49],
          [3, 29, 17],
        ]) {
          for (const beta of [0, 1]) runGemmCase(gemmWasm, { ...base, tA, tB, M, N, K, beta }, gen);
        }
      }
    });

    it("shapes across the cache blocks (KC = 256, MC = 120, NC = 1024)", () => {
      const gen = new Generator(4);
      const base = { aOff: 0, bOff: 0, cOff: 0, padA: 1, padB: 0, padC: 2 };
      runGemmCase(gemmWasm, { ...base, tA: false, tB: false, M: 131, N: 1030, K: 261, beta: 1 }, gen);
      runGemmCase(gemmWasm, { ...base, tA: true, tB: true, M: 133, N: 1027, K: 259, beta: 0 }, gen);
      runGemmCase(gemmWasm, { ...base, tA: true, tB: false, M: 2, N: 1100, K: 520, beta: 0.5 }, gen);
      runGemmCase(gemmWasm, { ...base, tA: true, tB: true, M: 3, N: 1031, K: 300, beta: 1 }, gen);
    });

    it("0-sized products: K = 0 scales C by beta (0 clears NaN), M = 0 or N = 0 touch nothing", () => {
      for (const [tA, tB] of FLAGS) {
        for (const beta of [0, 1, 0.5]) {
          const C = Float32Array.from([1, Number.NaN, 3, 4, 5, 6]);
          const want = C.slice();
          gemmTs(tA, tB, 2, 2, 0, new Float32Array(0), 0, 1, new Float32Array(0), 0, 1, beta, want, 1, 3);
          const got = C.slice();
          gemmWasm(tA, tB, 2, 2, 0, new Float32Array(0), 0, 1, new Float32Array(0), 0, 1, beta, got, 1, 3);
          expect(Array.from(got)).toEqual(Array.from(want));
          expect(got[0]).toBe(1); // outside the 2 × 2 block at offset 1, ldc 3
          if (beta === 0) expect(Array.from(got.subarray(1))).toEqual([0, 0, 4, 0, 0]);
          for (const [M, N] of [
            [0, 3],
            [3, 0],
          ]) {
            const D = Float32Array.from([7, 8, 9]);
            gemmWasm(tA, tB, M, N, 2, new Float32Array(6), 0, 3, new Float32Array(6), 0, 3, 0, D, 0, 3);
            expect(Array.from(D)).toEqual([7, 8, 9]);
          }
        }
      }
    });

    it("operands outside their arrays are an error, not garbage", () => {
      const a = new Float32Array(12);
      expect(() => gemmWasm(false, false, 3, 4, 4, a, 1, 4, a, 0, 4, 0, a, 0, 4)).toThrow(
        "gemm: A should hold 3×4 floats from offset 1 with row stride ≥ 4, got offset 1, stride 4 and 12 elements",
      );
      expect(() => gemmWasm(false, true, 3, 4, 4, a, 0, 4, a, 0, 3, 0, a, 0, 4)).toThrow(
        "gemm: B should hold 4×4 floats from offset 0 with row stride ≥ 4, got offset 0, stride 3",
      );
      expect(() => gemmWasm(false, false, 3, 3, 4, a, 0, 4, a, 0, 3, 0, a, 0, 2)).toThrow(
        "gemm: C should hold 3×3 floats from offset 0 with row stride ≥ 3, got offset 0, stride 2 and 12 elements",
      );
    });

    it("beta = 0 overwrites NaN in C; NaN in A reaches exactly its row", () => {
      const gen = new Generator(5);
      const M = 9;
      const N = 11;
      const K = 10;
      const A = Float32Array.from({ length: M * K }, () => gen.nextFloat());
      const B = Float32Array.from({ length: K * N }, () => gen.nextFloat());
      const C = new Float32Array(M * N).fill(Number.NaN);
      gemmWasm(false, false, M, N, K, A, 0, K, B, 0, N, 0, C, 0, N);
      expect(C.every((v) => Number.isFinite(v))).toBe(true);
      A[4 * K + 3] = Number.NaN;
      gemmWasm(false, false, M, N, K, A, 0, K, B, 0, N, 0, C, 0, N);
      for (let i = 0; i < M; i++) {
        const row = Array.from(C.subarray(i * N, (i + 1) * N));
        expect(row.every((v) => Number.isNaN(v))).toBe(i === 4);
        expect(row.some((v) => Number.isNaN(v))).toBe(i === 4);
      }
    });
  });
}

// ---------------------------------------------------------------------------------------------------------
// recurrent kernels

interface Shape {
  name: string;
  T: number;
  B: number;
  I: number;
  H: number;
  P: number; // used by the projection configs only
}

const SHAPES: Shape[] = [
  { name: "small", T: 4, B: 3, I: 3, H: 4, P: 2 },
  { name: "odd", T: 5, B: 5, I: 7, H: 6, P: 3 },
  { name: "wide", T: 3, B: 6, I: 5, H: 33, P: 9 },
];

const CONFIGS: { name: string; mode: RnnMode; proj: boolean }[] = [
  { name: "rnn tanh", mode: "RNN_TANH", proj: false },
  { name: "rnn relu", mode: "RNN_RELU", proj: false },
  { name: "lstm", mode: "LSTM", proj: false },
  { name: "lstm proj", mode: "LSTM", proj: true },
  { name: "gru", mode: "GRU", proj: false },
];

/** Lengths per sequence (sorted, like PyTorch's packing), or null for the full batch. */
function layouts(s: Shape): { name: string; lengths: number[] | null }[] {
  const packed = Array.from({ length: s.B }, (_, b) => Math.max(1, s.T - b));
  const withEmpty = packed.map((l, b) => (b === s.B - 1 ? 0 : l));
  return [
    { name: "full", lengths: null },
    { name: "packed", lengths: packed },
    { name: "packed with an empty sequence", lengths: withEmpty },
  ];
}

interface Problem {
  dims: RnnDims;
  w: RnnWeights;
  N: number;
  R: number;
  x: Float32Array; // (N, I)
  h0: Float32Array; // (B, R)
  c0: Float32Array | null; // (B, H)
  dY: Float32Array; // (N, R)
  dHn: Float32Array; // (B, R)
  dCn: Float32Array | null; // (B, H)
}

function makeProblem(
  s: Shape,
  mode: RnnMode,
  proj: boolean,
  bias: boolean,
  reverse: boolean,
  lengths: number[] | null,
  seed: number,
): Problem {
  const gen = new Generator(seed);
  const u = (n: number, a: number): Float32Array =>
    Float32Array.from({ length: n }, () => (2 * gen.nextFloat() - 1) * a);
  const { T, B, I, H } = s;
  const P = proj ? s.P : 0;
  const G = rnnGateCount(mode) * H;
  const R = P > 0 ? P : H;
  let batchSizes: Int32Array | null = null;
  let N = T * B;
  if (lengths !== null) {
    batchSizes = Int32Array.from({ length: T }, (_, t) => lengths.filter((l) => l > t).length);
    N = lengths.reduce((a, b) => a + b, 0);
  }
  const lstm = mode === "LSTM";
  const scale = 1.5 / Math.sqrt(Math.max(R, I));
  return {
    dims: { mode, T, B, I, H, P, batchSizes, reverse },
    w: {
      wIh: u(G * I, scale),
      wHh: u(G * R, scale),
      bIh: bias ? u(G, 0.5) : null,
      bHh: bias ? u(G, 0.5) : null,
      wHr: P > 0 ? u(P * H, 1.5 / Math.sqrt(H)) : null,
    },
    N,
    R,
    x: u(N * I, 1.5),
    h0: u(B * R, 0.8),
    c0: lstm ? u(B * H, 0.8) : null,
    dY: u(N * R, 1),
    dHn: u(B * R, 1),
    dCn: lstm ? u(B * H, 1) : null,
  };
}

interface Outputs {
  y: Float32Array;
  hN: Float32Array;
  cN: Float32Array | null;
  saved: Float32Array;
}

function forward(k: Pick<Kernels, "rnnForward">, pr: Problem, training = true): Outputs {
  const { dims } = pr;
  const ws = rnnWorkspaceSize(dims.mode, dims.T, dims.B, dims.H, dims.P);
  const y = new Float32Array(pr.N * pr.R).fill(Number.NaN);
  const hN = new Float32Array(dims.B * pr.R).fill(Number.NaN);
  const cN = dims.mode === "LSTM" ? new Float32Array(dims.B * dims.H).fill(Number.NaN) : null;
  const saved = new Float32Array(ws.saved).fill(Number.NaN);
  const scratch = new Float32Array(ws.scratch).fill(Number.NaN);
  k.rnnForward(dims, pr.w, pr.x, pr.h0, pr.c0, y, hN, cN, training ? saved : null, scratch);
  return { y, hN, cN, saved };
}

interface Grads {
  dW: RnnWeightGrads;
  dX: Float32Array;
  dH0: Float32Array;
  dC0: Float32Array | null;
}

function backward(k: Pick<Kernels, "rnnBackward">, pr: Problem, out: Outputs): Grads {
  const { dims, w } = pr;
  const ws = rnnWorkspaceSize(dims.mode, dims.T, dims.B, dims.H, dims.P);
  // gradients start from ones: backward accumulates
  const ones = (a: Float32Array | null): Float32Array | null =>
    a === null ? null : new Float32Array(a.length).fill(1);
  const dW: RnnWeightGrads = {
    dWih: ones(w.wIh),
    dWhh: ones(w.wHh),
    dBih: ones(w.bIh),
    dBhh: ones(w.bHh),
    dWhr: ones(w.wHr),
  };
  const dX = new Float32Array(pr.N * dims.I).fill(Number.NaN);
  const dH0 = new Float32Array(dims.B * pr.R).fill(Number.NaN);
  const dC0 = dims.mode === "LSTM" ? new Float32Array(dims.B * dims.H).fill(Number.NaN) : null;
  const scratch = new Float32Array(ws.scratch).fill(Number.NaN);
  k.rnnBackward(
    dims,
    w,
    dW,
    pr.x,
    dX,
    pr.h0,
    dH0,
    pr.c0,
    dC0,
    out.y,
    pr.dY,
    pr.dHn,
    pr.dCn,
    out.saved,
    scratch,
  );
  return { dW, dX, dH0, dC0 };
}

const TS: Pick<Kernels, "rnnForward" | "rnnBackward"> = {
  rnnForward: rnnForwardTs,
  rnnBackward: rnnBackwardTs,
};

function expectSameOutputs(got: Outputs, want: Outputs, label: string): void {
  const tol = { atol: 3e-6, rtol: 1e-5 };
  expectClose(got.y, want.y, { ...tol, what: `${label} y` });
  expectClose(got.hN, want.hN, { ...tol, what: `${label} hN` });
  if (want.cN !== null) expectClose(got.cN!, want.cN, { ...tol, what: `${label} cN` });
  // the saved activations follow rnn.ts's documented layout (the part this call used: N rows)
  const used = savedUsed(want);
  expect(savedUsed(got), `${label} saved length`).toBe(used);
  expectClose(got.saved.subarray(0, used), want.saved.subarray(0, used), { ...tol, what: `${label} saved` });
}

/** Floats of `saved` a call of N rows writes (6NH LSTM, 4NH GRU, 0 RNN): everything before the NaN tail. */
function savedUsed(o: Outputs): number {
  let n = o.saved.length;
  while (n > 0 && Number.isNaN(o.saved[n - 1])) n--;
  return n;
}

function expectSameGrads(got: Grads, want: Grads, label: string): void {
  const tol = { atol: 2e-5, rtol: 2e-5 };
  for (const k of ["dWih", "dWhh", "dBih", "dBhh", "dWhr"] as const) {
    if (want.dW[k] === null) expect(got.dW[k]).toBeNull();
    else expectClose(got.dW[k]!, want.dW[k]!, { ...tol, what: `${label} ${k}` });
  }
  expectClose(got.dX, want.dX, { ...tol, what: `${label} dX` });
  expectClose(got.dH0, want.dH0, { ...tol, what: `${label} dH0` });
  if (want.dC0 !== null) expectClose(got.dC0!, want.dC0, { ...tol, what: `${label} dC0` });
}

for (const { variant, kernels } of VARIANTS) {
  describe(`wasm rnn kernels (${variant}) against the TypeScript kernels`, () => {
    let seed = 100;
    for (const s of SHAPES) {
      for (const cfg of CONFIGS) {
        it(`${s.name} ${cfg.name}: every bias, direction and packing`, () => {
          for (const bias of [true, false]) {
            for (const reverse of [false, true]) {
              for (const layout of layouts(s)) {
                const label = `${cfg.name} ${bias ? "bias" : "no bias"} ${reverse ? "reverse" : "forward"} ${layout.name}`;
                const pr = makeProblem(s, cfg.mode, cfg.proj, bias, reverse, layout.lengths, seed++);
                const want = forward(TS, pr);
                const got = forward(kernels, pr);
                expectSameOutputs(got, want, label);
                // inference: the same numbers, nothing saved
                const inf = forward(kernels, pr, false);
                expect(inf.y).toEqual(got.y);
                expect(inf.hN).toEqual(got.hN);
                expect(inf.saved.every((v) => Number.isNaN(v))).toBe(true);
                const gWant = backward(TS, pr, want);
                expectSameGrads(backward(kernels, pr, got), gWant, label);
                // the saved buffer is one contract: a TypeScript forward, a wasm backward
                expectSameGrads(backward(kernels, pr, want), gWant, `${label} (ts forward)`);
              }
            }
          }
        });
      }
    }

    it("a resident saved buffer gives the bits of a Float32Array one, forward and backward", () => {
      const wk = kernels as WasmKernels;
      for (const cfg of CONFIGS.filter((c) => c.mode === "LSTM" || c.mode === "GRU")) {
        for (const layout of layouts(SHAPES[2])) {
          const label = `${cfg.name} ${layout.name}`;
          const pr = makeProblem(SHAPES[2], cfg.mode, cfg.proj, true, true, layout.lengths, 31);
          const { dims } = pr;
          const ws = rnnWorkspaceSize(dims.mode, dims.T, dims.B, dims.H, dims.P);
          const want = forward(kernels, pr);
          const r = wk.reserveSaved(ws.saved);
          expect(r, label).toBeInstanceOf(ResidentSaved);
          const y = new Float32Array(pr.N * pr.R);
          const hN = new Float32Array(dims.B * pr.R);
          const cN = dims.mode === "LSTM" ? new Float32Array(dims.B * dims.H) : null;
          wk.rnnForward(dims, pr.w, pr.x, pr.h0, pr.c0, y, hN, cN, r, new Float32Array(ws.scratch));
          expect(y, label).toEqual(want.y);
          expect(hN, label).toEqual(want.hN);
          const used = savedUsed(want);
          expect(r!.read().subarray(0, used), label).toEqual(want.saved.subarray(0, used));
          // the backward reads it in place; a second one (a retained graph) reads it again
          const gWant = backward(kernels, pr, want);
          const resident: Pick<Kernels, "rnnBackward"> = {
            rnnBackward: (d, w, dW, x, dX, h0, dH0, c0, dC0, yy, dY, dHn, dCn, _saved, scratch) =>
              wk.rnnBackward(d, w, dW, x, dX, h0, dH0, c0, dC0, yy, dY, dHn, dCn, r, scratch),
          };
          for (let rep = 0; rep < 2; rep++) {
            expect(backward(resident, pr, want), `${label} rep ${rep}`).toEqual(gWant);
          }
          r!.release();
          r!.release(); // twice is harmless
          expect(() => r!.read()).toThrow("released");
          expect(() =>
            wk.rnnForward(dims, pr.w, pr.x, pr.h0, pr.c0, y, hN, cN, r, new Float32Array(ws.scratch)),
          ).toThrow("rnnForward: saved was released");
        }
      }
    });

    it("resident blocks are reused once released, capped, and refused by other kernels", () => {
      const wk = kernels as WasmKernels;
      const a = wk.reserveSaved(1000)!;
      const b = wk.reserveSaved(3000)!;
      const pa = a.p;
      b.release();
      a.release();
      // the memory they held is taken again, not grown
      const c = wk.reserveSaved(3000)!;
      expect(c.p).toBe(pa);
      c.release();
      expect(wk.reserveSaved(RESIDENT_SAVED_MAX + 1)).toBeNull();
      expect(wk.reserveSaved(0)).toBeNull();
      const other = createWasmKernels(new WebAssembly.Module(wasmBytes(variant)), variant) as WasmKernels;
      const pr = makeProblem(SHAPES[0], "GRU", false, true, false, null, 5);
      const ws = rnnWorkspaceSize("GRU", pr.dims.T, pr.dims.B, pr.dims.H, 0);
      const r = other.reserveSaved(ws.saved)!;
      const y = new Float32Array(pr.N * pr.R);
      const hN = new Float32Array(pr.dims.B * pr.R);
      expect(() =>
        wk.rnnForward(pr.dims, pr.w, pr.x, pr.h0, null, y, hN, null, r, new Float32Array(ws.scratch)),
      ).toThrow("rnnForward: saved is resident in other kernels' memory; pass saved.read()");
      r.release();
    });

    it("null h0 / c0 / dY / dHn / dCn and skipped dX / dH0 / dC0, as in TypeScript", () => {
      for (const cfg of CONFIGS) {
        const pr = makeProblem(SHAPES[1], cfg.mode, cfg.proj, true, false, layouts(SHAPES[1])[1].lengths, 7);
        const { dims, w } = pr;
        const ws = rnnWorkspaceSize(dims.mode, dims.T, dims.B, dims.H, dims.P);
        const run = (k: typeof TS) => {
          const y = new Float32Array(pr.N * pr.R);
          const hN = new Float32Array(dims.B * pr.R);
          const cN = dims.mode === "LSTM" ? new Float32Array(dims.B * dims.H) : null;
          const saved = new Float32Array(ws.saved);
          const scratch = new Float32Array(ws.scratch);
          k.rnnForward(dims, w, pr.x, null, null, y, hN, cN, saved, scratch);
          const dW: RnnWeightGrads = {
            dWih: new Float32Array(w.wIh.length),
            dWhh: null,
            dBih: new Float32Array(w.bIh!.length),
            dBhh: null,
            dWhr: null,
          };
          k.rnnBackward(
            dims,
            w,
            dW,
            pr.x,
            null,
            null,
            null,
            null,
            null,
            y,
            pr.dY,
            null,
            null,
            saved,
            scratch,
          );
          return { y, hN, cN, dW };
        };
        const a = run(kernels);
        const b = run(TS);
        expectClose(a.y, b.y, { atol: 3e-6, what: `${cfg.name} y` });
        expectClose(a.hN, b.hN, { atol: 3e-6, what: `${cfg.name} hN` });
        expectClose(a.dW.dWih!, b.dW.dWih!, { atol: 2e-5, rtol: 2e-5, what: `${cfg.name} dWih` });
        expectClose(a.dW.dBih!, b.dW.dBih!, { atol: 2e-5, rtol: 2e-5, what: `${cfg.name} dBih` });
      }
    });

    it("long sequences and large layers (per-step K > 256, batch > 128) grow the arena; small calls after still agree", () => {
      const big: Shape = { name: "big", T: 40, B: 9, I: 20, H: 72, P: 16 }; // G = 288 (LSTM), 216 (GRU)
      const tall: Shape = { name: "tall", T: 3, B: 130, I: 3, H: 8, P: 3 };
      const deep: Shape = { name: "deep", T: 4, B: 5, I: 300, H: 90, P: 0 }; // GRU G = 270; I > 256
      for (const [s, cfg] of [
        [SHAPES[0], CONFIGS[2]],
        [big, CONFIGS[2]],
        [big, CONFIGS[3]],
        [tall, CONFIGS[3]],
        [deep, CONFIGS[4]],
        [SHAPES[2], CONFIGS[2]],
      ] as const) {
        const pr = makeProblem(s, cfg.mode, cfg.proj, true, false, layouts(s)[1].lengths, 11);
        const want = forward(TS, pr);
        const got = forward(kernels, pr);
        expectSameOutputs(got, want, `${s.name} ${cfg.name}`);
        expectSameGrads(backward(kernels, pr, got), backward(TS, pr, want), `${s.name} ${cfg.name}`);
      }
    });

    it("bad input: the same errors as the TypeScript kernels", () => {
      const pr = makeProblem(SHAPES[0], "LSTM", false, true, false, null, 31);
      const { dims, w } = pr;
      const ws = rnnWorkspaceSize("LSTM", dims.T, dims.B, dims.H, 0);
      const y = new Float32Array(pr.N * pr.R);
      const hN = new Float32Array(dims.B * pr.R);
      const cN = new Float32Array(dims.B * dims.H);
      const saved = new Float32Array(ws.saved);
      const scratch = new Float32Array(ws.scratch);
      const none: RnnWeightGrads = { dWih: null, dWhh: null, dBih: null, dBhh: null, dWhr: null };
      const calls: ((k: typeof TS) => void)[] = [
        (k) => k.rnnForward(dims, w, pr.x.subarray(1), null, null, y, hN, cN, saved, scratch),
        (k) => k.rnnForward(dims, w, pr.x, null, null, y, hN, null, saved, scratch),
        (k) => k.rnnForward(dims, w, pr.x, null, null, y, hN, cN, saved, scratch.subarray(1)),
        (k) => k.rnnForward(dims, w, pr.x, null, null, y, hN, cN, saved.subarray(1), scratch),
        (k) =>
          k.rnnForward(dims, { ...w, bHh: new Float32Array(3) }, pr.x, null, null, y, hN, cN, null, scratch),
        (k) => k.rnnForward({ ...dims, mode: "GRU", P: 2 }, w, pr.x, null, null, y, hN, null, null, scratch),
        (k) => k.rnnForward({ ...dims, H: 0 }, w, pr.x, null, null, y, hN, cN, null, scratch),
        (k) =>
          k.rnnForward(
            { ...dims, batchSizes: Int32Array.from([2, 3, 1, 1]) },
            w,
            pr.x.subarray(0, 7 * dims.I),
            null,
            null,
            y,
            hN,
            cN,
            null,
            scratch,
          ),
        (k) =>
          k.rnnBackward(
            dims,
            w,
            none,
            pr.x,
            null,
            null,
            null,
            null,
            null,
            y,
            null,
            null,
            null,
            null,
            scratch,
          ),
        (k) =>
          k.rnnBackward(
            dims,
            w,
            { ...none, dWhr: new Float32Array(4) },
            pr.x,
            null,
            null,
            null,
            null,
            null,
            y,
            null,
            null,
            null,
            saved,
            scratch,
          ),
      ];
      for (const call of calls) {
        let tsError = "";
        try {
          call(TS);
        } catch (e) {
          tsError = (e as Error).message;
        }
        expect(tsError).not.toBe("");
        expect(() => call(kernels)).toThrow(tsError);
      }
    });

    it("sigmoid and tanh within a few float32 ulps over the whole range", () => {
      // one LSTM step from zero state with x = 1 and no bias: the saved gates are σ(wIh[i]) and tanh(wIh[g])
      const vals: number[] = [0, 1e-30, -1e-8, 1e-4, 0.3, 0.6249, 0.625, 0.6251, 1, 2.5, 9, 9.1, 15, 20];
      vals.push(40, 87, 88, 89, 100, 1e30, Number.POSITIVE_INFINITY);
      for (let v = -12; v <= 12; v += 0.0137) vals.push(v);
      const all = [...vals, ...vals.map((v) => -v)].map(Math.fround);
      const H = all.length;
      const wIh = new Float32Array(4 * H);
      wIh.set(all, 0); // i gate
      wIh.set(all, 2 * H); // g gate
      const dims: RnnDims = { mode: "LSTM", T: 1, B: 1, I: 1, H, P: 0, batchSizes: null, reverse: false };
      const ws = rnnWorkspaceSize("LSTM", 1, 1, H, 0);
      const saved = new Float32Array(ws.saved);
      kernels.rnnForward(
        dims,
        { wIh, wHh: new Float32Array(4 * H * H), bIh: null, bHh: null, wHr: null },
        Float32Array.of(1),
        null,
        null,
        new Float32Array(H),
        new Float32Array(H),
        new Float32Array(H),
        saved,
        new Float32Array(ws.scratch),
      );
      for (let j = 0; j < H; j++) {
        const x = all[j];
        const sig = 1 / (1 + Math.exp(-x));
        const th = Math.tanh(x);
        const s = saved[j];
        const t = saved[2 * H + j];
        // relative 2^-21 (a few ulps) where the result is a normal float32, absolute 2e-38 below
        expect(Math.abs(s - sig), `sigmoid(${x}) = ${s}, want ${sig}`).toBeLessThanOrEqual(
          Math.max(2 ** -21 * Math.abs(sig), 2e-38),
        );
        expect(Math.abs(t - th), `tanh(${x}) = ${t}, want ${th}`).toBeLessThanOrEqual(
          Math.max(2 ** -21 * Math.abs(th), 1e-45),
        );
      }
      // NaN in, NaN out
      const nanW = new Float32Array(4).fill(Number.NaN);
      const one = rnnWorkspaceSize("LSTM", 1, 1, 1, 0);
      const sv = new Float32Array(one.saved);
      kernels.rnnForward(
        { ...dims, H: 1 },
        { wIh: nanW, wHh: new Float32Array(4), bIh: null, bHh: null, wHr: null },
        Float32Array.of(1),
        null,
        null,
        new Float32Array(1),
        new Float32Array(1),
        new Float32Array(1),
        sv,
        new Float32Array(one.scratch),
      );
      expect(Number.isNaN(sv[0]) && Number.isNaN(sv[2])).toBe(true);
    });
  });
}

// ---------------------------------------------------------------------------------------------------------
// adam: the wasm kernel against its TypeScript twin, bit for bit (n = elements)
//
// NaN: a NaN must come out as a NaN, but its payload is not compared. The twin's NaNs pass through float64
// and the engine's choice of operand order, the kernel's through the wasm NaN rules, which leave the payload
// unspecified; no caller can see a payload (torch neither promises one).

const f32 = Math.fround;

interface AdamArgs {
  sign: number;
  l2: number;
  decay: number;
  b1: number;
  c1: number;
  b2: number;
  c2: number;
  eps: number;
  negStepSize: number;
  bc2Sqrt: number;
}

/** The per-step scalars exactly as src/optim/adam.ts computes them. */
function adamArgs(o: {
  step: number;
  lr: number;
  betas: [number, number];
  eps: number;
  wd: number;
  decoupled: boolean;
  maximize: boolean;
}): AdamArgs {
  const [beta1, beta2] = o.betas;
  return {
    sign: o.maximize ? -1 : 1,
    l2: o.decoupled ? 0 : f32(o.wd),
    decay: o.decoupled ? f32(1 - o.lr * o.wd) : 1,
    b1: f32(beta1),
    c1: f32(1 - beta1),
    b2: f32(beta2),
    c2: f32(1 - beta2),
    eps: f32(o.eps),
    negStepSize: f32(-(o.lr / (1 - beta1 ** o.step))),
    bc2Sqrt: f32(Math.sqrt(1 - beta2 ** o.step)),
  };
}

interface AdamBuffers {
  p: Float32Array; // (n,)
  g: Float32Array; // (n,)
  m: Float32Array; // (n,)
  v: Float32Array; // (n,)
  vMax: Float32Array | null; // (n,)
}

const SPECIAL = [
  Number.NaN,
  Number.POSITIVE_INFINITY,
  Number.NEGATIVE_INFINITY,
  0,
  -0,
  2 ** -149, // the smallest subnormal
  -(2 ** -140),
  1e-40,
  2 ** -126, // the smallest normal
  3.4e38,
  -3e38,
  1e30,
  -1e-30,
  1e20,
  1e-20,
];

type Regime = "random" | "magnitudes" | "special";

/** Inputs: "random" gradients over 6 decades, "magnitudes" every array over float32's whole range
 * (subnormal to near overflow), "special" a fifth of the elements from SPECIAL. */
function adamInputs(gen: Generator, n: number, amsgrad: boolean, regime: Regime): AdamBuffers {
  const u = (): number => 2 * gen.nextFloat() - 1;
  const val = (scale: number, positive: boolean): number => {
    if (regime === "special" && gen.nextFloat() < 0.2)
      return SPECIAL[Math.floor(gen.nextFloat() * SPECIAL.length)];
    const x = regime === "magnitudes" ? Math.sign(u()) * 10 ** (-45 + 83 * gen.nextFloat()) : u() * scale;
    return positive ? Math.abs(x) : x;
  };
  const arr = (f: () => number): Float32Array => Float32Array.from({ length: n }, f);
  return {
    p: arr(() => val(1, false)),
    g: arr(() => val(10 ** (6 * gen.nextFloat() - 3), false)),
    m: arr(() => val(0.1, false)),
    v: arr(() => val(0.01, true)),
    vMax: amsgrad ? arr(() => val(0.01, true)) : null,
  };
}

function cloneBuffers(b: AdamBuffers): AdamBuffers {
  return { p: b.p.slice(), g: b.g.slice(), m: b.m.slice(), v: b.v.slice(), vMax: b.vMax?.slice() ?? null };
}

function runAdam(adam: Kernels["adam"], b: AdamBuffers, a: AdamArgs): void {
  adam(
    b.p,
    b.g,
    b.m,
    b.v,
    b.vMax,
    a.sign,
    a.l2,
    a.decay,
    a.b1,
    a.c1,
    a.b2,
    a.c2,
    a.eps,
    a.negStepSize,
    a.bc2Sqrt,
  );
}

/** Equal bits, or NaN on both sides (payloads not compared, see above). */
function expectSameBits(got: Float32Array, want: Float32Array, what: string): void {
  expect(got.length, `${what}: length`).toBe(want.length);
  const gb = new Uint32Array(got.buffer, got.byteOffset, got.length);
  const wb = new Uint32Array(want.buffer, want.byteOffset, want.length);
  for (let i = 0; i < got.length; i++) {
    if (gb[i] !== wb[i] && !(Number.isNaN(got[i]) && Number.isNaN(want[i]))) {
      const hex = (x: number): string => `0x${x.toString(16).padStart(8, "0")}`;
      throw new Error(`${what}[${i}]: got ${got[i]} (${hex(gb[i])}), want ${want[i]} (${hex(wb[i])})`);
    }
  }
}

// 32 / 33: the wrapper's copies switch from one loop to put / get
const ADAM_LENGTHS = [0, 1, 3, 4, 5, 17, 32, 33, 256, 1000];
/** [lr, wd]: AdamW's decay 1 - lr·wd is 0.99999 (defaults), 0.85, and negative (-2). */
const ADAM_LR_WD: [number, number][] = [
  [1e-3, 1e-2],
  [0.5, 0.3],
  [3, 1],
];

/** Every option combination, at steps 1 and 7, on every length and input regime. wd "both" (l2 and decay
 * together) is no optimizer's, but the kernels accept it: l2 must use p before the decay. */
function adamCases(): { label: string; n: number; regime: Regime; amsgrad: boolean; args: AdamArgs }[] {
  const out = [];
  let k = 0;
  for (const maximize of [false, true]) {
    for (const amsgrad of [false, true]) {
      for (const wdKind of ["none", "l2", "decoupled", "both"] as const) {
        for (const eps of [1e-8, 0]) {
          for (const regime of ["random", "magnitudes", "special"] as const) {
            for (const n of ADAM_LENGTHS) {
              const [lr, wd] = ADAM_LR_WD[k++ % ADAM_LR_WD.length];
              const step = k % 2 === 0 ? 1 : 7;
              const betas: [number, number] = k % 3 === 0 ? [0.5, 0.6] : [0.9, 0.999];
              const args = adamArgs({
                step,
                lr,
                betas,
                eps,
                wd: wdKind === "none" ? 0 : wd,
                decoupled: wdKind === "decoupled",
                maximize,
              });
              if (wdKind === "both") args.decay = f32(1 - lr * wd);
              const label = `n=${n} ${regime} maximize=${maximize} amsgrad=${amsgrad} wd=${wdKind} eps=${eps} lr=${lr} step=${step}`;
              out.push({ label, n, regime, amsgrad, args });
            }
          }
        }
      }
    }
  }
  return out;
}

describe("adam: the TypeScript twin's inputs tell the roundings apart", () => {
  it("m = f(f(m·b1) + c1·g) (one rounding of c1·g + sum) differs from rounding c1·g to float32 first", () => {
    const gen = new Generator(11);
    const b = adamInputs(gen, 1000, false, "random");
    const a = adamArgs({
      step: 1,
      lr: 1e-3,
      betas: [0.9, 0.999],
      eps: 1e-8,
      wd: 0,
      decoupled: false,
      maximize: false,
    });
    const want = cloneBuffers(b);
    adamStepTs(
      want.p,
      want.g,
      want.m,
      want.v,
      null,
      a.sign,
      a.l2,
      a.decay,
      a.b1,
      a.c1,
      a.b2,
      a.c2,
      a.eps,
      a.negStepSize,
      a.bc2Sqrt,
    );
    let differ = 0;
    for (let i = 0; i < 1000; i++) {
      if (f32(f32(b.m[i] * a.b1) + f32(a.c1 * b.g[i])) !== want.m[i]) differ++;
    }
    expect(differ).toBeGreaterThan(10);
  });
});

for (const { variant, kernels } of VARIANTS) {
  describe(`wasm adam (${variant}) against the TypeScript twin, bit for bit`, () => {
    it("every option, lengths 0..1000, random, extreme and special values (NaN, ±Inf, ±0, subnormals), eps 0", () => {
      const gen = new Generator(12);
      for (const c of adamCases()) {
        const input = adamInputs(gen, c.n, c.amsgrad, c.regime);
        const want = cloneBuffers(input);
        const got = cloneBuffers(input);
        runAdam(adamStepTs, want, c.args);
        runAdam(kernels.adam, got, c.args);
        expectSameBits(got.p, want.p, `${c.label} p`);
        expectSameBits(got.m, want.m, `${c.label} m`);
        expectSameBits(got.v, want.v, `${c.label} v`);
        if (c.amsgrad) expectSameBits(got.vMax!, want.vMax!, `${c.label} vMax`);
        expectSameBits(got.g, input.g, `${c.label} g (read only)`);
      }
    });

    it("ten steps in a row on views into larger arrays (short and long copies)", () => {
      const gen = new Generator(13);
      for (const n of [13, 37]) {
        const input = adamInputs(gen, n + 5, true, "random");
        const view = (a: Float32Array): Float32Array => a.subarray(2, 2 + n);
        const want = cloneBuffers(input);
        const got = cloneBuffers(input);
        for (let step = 1; step <= 10; step++) {
          const a = adamArgs({
            step,
            lr: 0.01,
            betas: [0.9, 0.999],
            eps: 1e-8,
            wd: 0.1,
            decoupled: step % 2 === 0,
            maximize: false,
          });
          for (const [b, adam] of [
            [want, adamStepTs],
            [got, kernels.adam],
          ] as const) {
            adam(
              view(b.p),
              view(b.g),
              view(b.m),
              view(b.v),
              view(b.vMax!),
              a.sign,
              a.l2,
              a.decay,
              a.b1,
              a.c1,
              a.b2,
              a.c2,
              a.eps,
              a.negStepSize,
              a.bc2Sqrt,
            );
          }
        }
        for (const k of ["p", "m", "v", "vMax"] as const) {
          expectSameBits(got[k]!, want[k]!, `n=${n} ${k}`);
          // outside the views: untouched
          const outside = (a: Float32Array): number[] => [...a.subarray(0, 2), ...a.subarray(2 + n)];
          expect(outside(got[k]!), `n=${n} ${k} outside the view`).toEqual(outside(input[k]!));
        }
      }
    });

    it("rejects buffers of different lengths, as the twin does", () => {
      const b = (n: number): Float32Array => new Float32Array(n);
      for (const adam of [adamStepTs, kernels.adam]) {
        expect(() =>
          adam(b(3), b(3), b(2), b(3), null, 1, 0, 1, 0.9, 0.1, 0.999, 0.001, 1e-8, -0.001, 1),
        ).toThrow("adamStep: every buffer should have p's 3 elements, got g 3, m 2, v 3");
        expect(() =>
          adam(b(3), b(3), b(3), b(3), b(4), 1, 0, 1, 0.9, 0.1, 0.999, 0.001, 1e-8, -0.001, 1),
        ).toThrow("adamStep: every buffer should have p's 3 elements, got g 3, m 3, v 3, vMax 4");
      }
    });
  });
}

// ---------------------------------------------------------------------------------------------------------
// The seam

describe("backend seam", () => {
  const initial = backendName();
  afterEach(() => {
    setBackend(initial);
    vi.unstubAllEnvs();
  });

  it("switches between ts and wasm, and the ops follow", () => {
    const gen = new Generator(9);
    const x = new Tensor(
      Float32Array.from({ length: 20 * 30 }, () => gen.nextFloat() - 0.5),
      [20, 30],
    );
    const wt = new Tensor(
      Float32Array.from({ length: 25 * 30 }, () => gen.nextFloat() - 0.5),
      [25, 30],
    );
    const b = new Tensor(
      Float32Array.from({ length: 25 }, () => gen.nextFloat()),
      [25],
    );
    setBackend("ts");
    expect(backendName()).toBe("ts");
    expect(getKernels().name).toBe("ts");
    const lt = linear(x, wt, b);
    const mt = matmul(x, wt.transpose(0, 1));
    setBackend("wasm");
    expect(backendName()).toBe("wasm");
    const lw = linear(x, wt, b);
    const mw = matmul(x, wt.transpose(0, 1));
    expectClose(lw, lt, { atol: 1e-5, what: "linear" });
    expectClose(mw, mt, { atol: 1e-5, what: "matmul" });
    expect(() => setBackend("gpu" as "ts")).toThrow('setBackend: expected "ts" or "wasm", got "gpu"');
  });

  it("an LSTM's saved activations stay in wasm memory, and a backward on ts after a switch reads them out", () => {
    const run = (switchToTs: boolean) => {
      setBackend("wasm");
      manualSeed(3);
      const lstm = new LSTM(5, 16, { numLayers: 2 });
      const x = randn(7, 4, 5);
      const [out] = lstm.forward(x);
      if (switchToTs) setBackend("ts");
      out.square().sum().backward();
      return lstm.parameters().map((p) => p.grad!);
    };
    const ref = run(false);
    const got = run(true);
    for (let i = 0; i < ref.length; i++) expectClose(got[i], ref[i], { atol: 2e-5, what: `grad ${i}` });
  });

  it("RECURRENT_BACKEND picks the default, and a bad value is an error", async () => {
    for (const name of ["ts", "wasm"] as const) {
      vi.stubEnv("RECURRENT_BACKEND", name);
      vi.resetModules();
      const m = await import("../src/kernels/backend.js");
      expect(m.backendName()).toBe(name);
    }
    vi.stubEnv("RECURRENT_BACKEND", "cuda");
    vi.resetModules();
    const m = await import("../src/kernels/backend.js");
    expect(() => m.backendName()).toThrow('RECURRENT_BACKEND should be "ts" or "wasm", got "cuda"');
    vi.stubEnv("RECURRENT_BACKEND", "");
    vi.resetModules();
    const d = await import("../src/kernels/backend.js");
    expect(d.backendName()).toBe("wasm"); // this runtime has SIMD
  });

  it("a build that validates but does not compile gives way to the next one", async () => {
    vi.stubEnv("RECURRENT_BACKEND", "");
    const Original = WebAssembly.Module;
    // the re-imported module decodes its own copies of the bytes: tell the builds apart by size
    const relaxedSize = wasmBytes("relaxed").length;
    expect(wasmBytes("simd").length).not.toBe(relaxedSize);
    const validate = vi.spyOn(WebAssembly, "validate").mockReturnValue(true);
    const compile = vi
      .spyOn(WebAssembly, "Module")
      .mockImplementation(function pick(bytes): WebAssembly.Module {
        if ((bytes as Uint8Array).length === relaxedSize) {
          throw new WebAssembly.CompileError("relaxed SIMD switched off");
        }
        return new Original(bytes as BufferSource);
      });
    try {
      vi.resetModules();
      const m = await import("../src/kernels/backend.js");
      expect(m.backendName()).toBe("wasm");
      expect(m.getKernels().detail).toBe("wasm-simd");
    } finally {
      compile.mockRestore();
      validate.mockRestore();
    }
  });

  it("where synchronous compilation is refused (a browser main thread), starts on ts and switches when ready", async () => {
    vi.stubEnv("RECURRENT_BACKEND", "");
    const spy = vi.spyOn(WebAssembly, "Module").mockImplementation(function refuse(): never {
      throw new RangeError("WebAssembly.Compile is disallowed on the main thread");
    });
    try {
      vi.resetModules();
      const m = await import("../src/kernels/backend.js");
      expect(m.backendName()).toBe("ts");
      expect(() => m.setBackend("wasm")).toThrow(
        "wasm backend unavailable synchronously (RangeError: WebAssembly.Compile is disallowed on the main thread); await backendReady()",
      );
      expect(await m.backendReady()).toBe("wasm");
      expect(m.getKernels().detail).toMatch(/^wasm-/);
      // the kernels work after the switch
      const c = new Float32Array(4);
      m.gemm(false, false, 2, 2, 1, Float32Array.of(1, 2), 0, 1, Float32Array.of(3, 4), 0, 2, 0, c, 0, 2);
      expect(Array.from(c)).toEqual([3, 4, 6, 8]);
    } finally {
      spy.mockRestore();
    }
  });
});
