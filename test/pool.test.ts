// The thread pool (src/kernels/pool.ts): kernel calls split across 2 threads give the single-threaded
// results (the single-threaded kernels are the oracle here; they are tested against PyTorch and float64
// references elsewhere), for every mode, full and packed batches, forward and reverse, both backends.
//
// T = time, B = batch, I = input, H = hidden, P = proj, R = size of h, G = gates·H, N = rows

import { execFileSync } from "node:child_process";
import { availableParallelism } from "node:os";
import { afterAll, describe, expect, it } from "vitest";
import { Generator } from "../src/core/random.js";
import {
  type BackendName,
  gemm,
  getNumThreads,
  poolStats,
  type RnnDims,
  type RnnMode,
  type RnnWeightGrads,
  type RnnWeights,
  rnnBackward,
  rnnForward,
  rnnGateCount,
  reserveSaved,
  rnnWorkspaceSize,
  setBackend,
  setNumThreads,
  shutdownPool,
} from "../src/kernels/backend.js";
import { MIN_SEQS_PER_PART, poolRnnParts, SplitSaved } from "../src/kernels/pool.js";
import "../src/node/threads.js";
import { expectClose } from "./helpers.js";

const gen = new Generator(7);
const rand = (n: number, scale = 0.5) =>
  Float32Array.from({ length: n }, () => (gen.nextFloat() * 2 - 1) * scale);

const BACKENDS: BackendName[] = ["ts", "wasm"];
const CONFIGS: { name: string; mode: RnnMode; P: number }[] = [
  { name: "rnn tanh", mode: "RNN_TANH", P: 0 },
  { name: "rnn relu", mode: "RNN_RELU", P: 0 },
  { name: "lstm", mode: "LSTM", P: 0 },
  { name: "lstm proj", mode: "LSTM", P: 48 },
  { name: "gru", mode: "GRU", P: 0 },
];
const T = 40;
const B = 12;
const I = 16;
const H = 128;
// sorted lengths (packed like PyTorch), uneven so the balanced split is exercised
const LENGTHS = [40, 40, 37, 33, 30, 30, 26, 21, 17, 12, 5, 1];

function batchSizesOf(lengths: number[]): Int32Array {
  return Int32Array.from({ length: T }, (_, t) => lengths.filter((l) => l > t).length);
}

interface Run {
  y: Float32Array;
  hN: Float32Array;
  cN: Float32Array | null;
  saved: Float32Array;
  dX: Float32Array;
  dH0: Float32Array;
  dC0: Float32Array | null;
  dW: RnnWeightGrads;
}

function runBoth(
  dims: RnnDims,
  w: RnnWeights,
  inputs: Record<string, Float32Array | null>,
  dW0: RnnWeightGrads,
  savedOf?: (n: number) => Float32Array | SplitSaved,
  between?: (saved: Float32Array | SplitSaved) => void,
): Run {
  const { mode, H, P, I } = dims;
  const R = P > 0 ? P : H;
  const N = dims.batchSizes === null ? T * dims.B : dims.batchSizes.reduce((a, b) => a + b, 0);
  const ws = rnnWorkspaceSize(mode, T, dims.B, H, P);
  const lstm = mode === "LSTM";
  const y = new Float32Array(N * R);
  const hN = new Float32Array(dims.B * R);
  const cN = lstm ? new Float32Array(dims.B * H) : null;
  const saved = savedOf?.(ws.saved) ?? new Float32Array(ws.saved);
  const scratch = new Float32Array(ws.scratch);
  rnnForward(dims, w, inputs.x!, inputs.h0, lstm ? inputs.c0 : null, y, hN, cN, saved, scratch);
  between?.(saved);
  const dX = new Float32Array(N * I);
  const dH0 = new Float32Array(dims.B * R);
  const dC0 = lstm ? new Float32Array(dims.B * H) : null;
  const copy = (a: Float32Array | null) => (a === null ? null : a.slice());
  const dW: RnnWeightGrads = {
    dWih: copy(dW0.dWih),
    dWhh: copy(dW0.dWhh),
    dBih: copy(dW0.dBih),
    dBhh: copy(dW0.dBhh),
    dWhr: copy(dW0.dWhr),
  };
  const dY = inputs.dY!.subarray(0, N * R);
  rnnBackward(
    dims,
    w,
    dW,
    inputs.x!,
    dX,
    inputs.h0,
    dH0,
    lstm ? inputs.c0 : null,
    dC0,
    y,
    dY,
    inputs.dHn,
    lstm ? inputs.dCn : null,
    saved,
    scratch,
  );
  return { y, hN, cN, saved: saved instanceof SplitSaved ? saved.read() : saved, dX, dH0, dC0, dW };
}

afterAll(() => shutdownPool());

/** Weights, inputs and prior weight gradients of one case. */
function caseOf(mode: RnnMode, P: number, packed: boolean, reverse: boolean) {
  const G = rnnGateCount(mode) * H;
  const R = P > 0 ? P : H;
  const batchSizes = packed ? batchSizesOf(LENGTHS) : null;
  const N = batchSizes === null ? T * B : batchSizes.reduce((a, b) => a + b, 0);
  const dims: RnnDims = { mode, T, B, I, H, P, batchSizes, reverse };
  const w: RnnWeights = {
    wIh: rand(G * I, 0.3),
    wHh: rand(G * R, 0.15),
    bIh: rand(G),
    bHh: rand(G),
    wHr: P > 0 ? rand(P * H, 0.2) : null,
  };
  const inputs = {
    x: rand(N * I, 1),
    h0: rand(B * R),
    c0: rand(B * H),
    dY: rand(N * R),
    dHn: rand(B * R),
    dCn: rand(B * H),
  };
  const dW0: RnnWeightGrads = {
    dWih: rand(G * I),
    dWhh: rand(G * R),
    dBih: rand(G),
    dBhh: rand(G),
    dWhr: P > 0 ? rand(P * H) : null,
  };
  return { dims, w, inputs, dW0 };
}

function expectSameRun(two: Run, one: Run): void {
  const tol = { atol: 1e-5, rtol: 1e-5 };
  expectClose(two.y, one.y, { ...tol, what: "y" });
  expectClose(two.hN, one.hN, { ...tol, what: "hN" });
  if (one.cN !== null) expectClose(two.cN!, one.cN, { ...tol, what: "cN" });
  expectClose(two.saved, one.saved, { ...tol, what: "saved" });
  expectClose(two.dX, one.dX, { ...tol, what: "dX" });
  expectClose(two.dH0, one.dH0, { ...tol, what: "dH0" });
  if (one.dC0 !== null) expectClose(two.dC0!, one.dC0, { ...tol, what: "dC0" });
  // summed in another order: last bits may differ
  const gtol = { atol: 1e-4, rtol: 1e-4 };
  for (const k of ["dWih", "dWhh", "dBih", "dBhh", "dWhr"] as const) {
    if (one.dW[k] !== null) expectClose(two.dW[k]!, one.dW[k]!, { ...gtol, what: k });
  }
}

/**
 * A case run on one thread with a plain saved, then from 2 threads with the SplitSaved `savedOf` gives
 * (`between` runs after the forward): the same results, and `splitCalls` calls split across threads.
 */
function splitAgainstOne(
  c: { backend: BackendName; mode: RnnMode; P: number; packed: boolean; reverse: boolean },
  splitCalls: number,
  savedOf: (dims: RnnDims, n: number) => SplitSaved,
  between?: () => void,
): void {
  setBackend(c.backend);
  const { dims, w, inputs, dW0 } = caseOf(c.mode, c.P, c.packed, c.reverse);
  setNumThreads(1);
  const one = runBoth(dims, w, inputs, dW0);
  setNumThreads(2);
  const before = poolStats().pooledCalls;
  const two = runBoth(dims, w, inputs, dW0, (n) => savedOf(dims, n), between);
  expect(poolStats().pooledCalls).toBe(before + splitCalls);
  expectSameRun(two, one);
}

describe("a split call's saved activations stay where each part wrote them (SplitSaved)", () => {
  for (const backend of BACKENDS) {
    for (const cfg of CONFIGS.filter((c) => c.mode === "LSTM" || c.mode === "GRU")) {
      for (const [packed, reverse] of [
        [false, false],
        [true, true],
      ] as const) {
        const name = `${backend} ${cfg.name} ${packed ? "packed reverse" : "full"}`;
        const c = { backend, mode: cfg.mode, P: cfg.P, packed, reverse };
        it(`${name}: the same results as one thread, and the same saved once read`, () => {
          splitAgainstOne(c, 2, (dims, n) => {
            const r = reserveSaved(dims, n);
            expect(r).toBeInstanceOf(SplitSaved);
            return r as SplitSaved;
          });
        });
        it(`${name}: one thread by the backward runs the forward's parts here, in turn`, () => {
          // the forward only is split
          splitAgainstOne(
            c,
            1,
            (dims, n) => reserveSaved(dims, n) as SplitSaved,
            () => setNumThreads(1),
          );
        });
      }
    }
  }

  it("one thread by the forward too: both run the reserved parts here", () => {
    const c = { backend: "wasm" as const, mode: "LSTM" as const, P: 0, packed: true, reverse: false };
    splitAgainstOne(c, 0, (dims, n) => {
      const r = reserveSaved(dims, n) as SplitSaved;
      setNumThreads(1);
      return r;
    });
  });

  it("a released SplitSaved is refused by the backward, with why", () => {
    setBackend("wasm");
    const { dims, w, inputs, dW0 } = caseOf("LSTM", 0, false, false);
    setNumThreads(2);
    expect(() =>
      runBoth(
        dims,
        w,
        inputs,
        dW0,
        (n) => reserveSaved(dims, n) as SplitSaved,
        (s) => (s as SplitSaved).release(),
      ),
    ).toThrow(/SplitSaved.*released/);
  });

  it("a call the pool does not split gets no SplitSaved", () => {
    const { dims } = caseOf("LSTM", 0, false, false);
    setNumThreads(1);
    expect(reserveSaved(dims, rnnWorkspaceSize("LSTM", T, B, H, 0).saved)).not.toBeInstanceOf(SplitSaved);
    setNumThreads(2);
    expect(reserveSaved({ ...dims, mode: "RNN_TANH" }, 0)).toBeNull();
  });
});

describe("recurrent kernels on 2 threads equal 1 thread", () => {
  for (const backend of BACKENDS) {
    for (const cfg of CONFIGS) {
      for (const packed of [false, true]) {
        for (const reverse of [false, true]) {
          const name = `${backend} ${cfg.name} ${packed ? "packed" : "full"}${reverse ? " reverse" : ""}`;
          it(name, () => {
            setBackend(backend);
            // weight gradients accumulate onto what is already there (dW0)
            const { dims, w, inputs, dW0 } = caseOf(cfg.mode, cfg.P, packed, reverse);
            setNumThreads(1);
            const before = poolStats().pooledCalls;
            const one = runBoth(dims, w, inputs, dW0);
            expect(poolStats().pooledCalls).toBe(before);
            setNumThreads(2);
            const two = runBoth(dims, w, inputs, dW0);
            expect(poolStats().pooledCalls).toBe(before + 2); // both calls were split
            expect(poolStats().disabled).toBeNull();
            expectSameRun(two, one);
          });
        }
      }
    }
  }
});

describe("gemm on 2 threads equals 1 thread", () => {
  for (const backend of BACKENDS) {
    for (const transA of [false, true]) {
      for (const transB of [false, true]) {
        for (const beta of [0, 1]) {
          it(`${backend} transA=${transA} transB=${transB} beta=${beta}, strided with offsets`, () => {
            setBackend(backend);
            const M = 203;
            const N = 150;
            const K = 161;
            const [aRows, aCols] = transA ? [K, M] : [M, K];
            const [bRows, bCols] = transB ? [N, K] : [K, N];
            const lda = aCols + 3;
            const ldb = bCols + 5;
            const ldc = N + 2;
            const A = rand(7 + aRows * lda, 1);
            const B2 = rand(11 + bRows * ldb, 1);
            const C0 = rand(4 + M * ldc, 1);
            setNumThreads(1);
            const before = poolStats().pooledCalls;
            const C1 = C0.slice();
            gemm(transA, transB, M, N, K, A, 7, lda, B2, 11, ldb, beta, C1, 4, ldc);
            expect(poolStats().pooledCalls).toBe(before);
            setNumThreads(2);
            const C2 = C0.slice();
            gemm(transA, transB, M, N, K, A, 7, lda, B2, 11, ldb, beta, C2, 4, ldc);
            expect(poolStats().pooledCalls).toBe(before + 1);
            expectClose(C2, C1, { atol: 1e-5, rtol: 1e-5, what: "C" });
            // the padding between rows and before the offset is left alone
            for (let r = 0; r < M; r++) {
              for (let j = N; j < ldc && 4 + r * ldc + j < C2.length; j++) {
                expect(C2[4 + r * ldc + j]).toBe(C0[4 + r * ldc + j]);
              }
            }
            expect(Array.from(C2.subarray(0, 4))).toEqual(Array.from(C0.subarray(0, 4)));
          });
        }
      }
    }
  }
});

describe("settings and hand-off", () => {
  it("the thread count is a setting, validated, defaulting to the cores available", () => {
    setNumThreads(3);
    expect(getNumThreads()).toBe(3);
    expect(() => setNumThreads(0)).toThrow(/integer ≥ 1, got 0/);
    expect(() => setNumThreads(1.5)).toThrow(/integer ≥ 1, got 1.5/);
    const out = execFileSync(
      process.execPath,
      [
        "--import",
        "tsx",
        "-e",
        'import("./src/node/threads.ts").then(() => import("./src/kernels/pool.ts")).then((p) => console.log(p.getNumThreads()))',
      ],
      { encoding: "utf8", env: { ...process.env, RECURRENT_NUM_THREADS: "" } },
    );
    expect(Number(out.trim())).toBe(availableParallelism());
    const env = execFileSync(
      process.execPath,
      [
        "--import",
        "tsx",
        "-e",
        'import("./src/kernels/pool.ts").then((p) => console.log(p.getNumThreads()))',
      ],
      { encoding: "utf8", env: { ...process.env, RECURRENT_NUM_THREADS: "3" } },
    );
    expect(Number(env.trim())).toBe(3);
  });

  it("small calls stay on the calling thread", () => {
    setBackend("wasm");
    setNumThreads(2);
    const before = poolStats().pooledCalls;
    const n = 64;
    gemm(false, false, n, n, n, rand(n * n), 0, n, rand(n * n), 0, n, 0, new Float32Array(n * n), 0, n);
    const dims: RnnDims = { mode: "LSTM", T: 5, B: 4, I: 3, H: 8, P: 0, batchSizes: null, reverse: false };
    const ws = rnnWorkspaceSize("LSTM", 5, 4, 8, 0);
    const w: RnnWeights = { wIh: rand(32 * 3), wHh: rand(32 * 8), bIh: null, bHh: null, wHr: null };
    rnnForward(
      dims,
      w,
      rand(20 * 3),
      null,
      null,
      new Float32Array(20 * 8),
      new Float32Array(32),
      new Float32Array(32),
      new Float32Array(ws.saved),
      new Float32Array(ws.scratch),
    );
    expect(poolStats().pooledCalls).toBe(before);
  });

  it("a recurrent call splits in two at any batch, and in more only with 4 sequences a part", () => {
    const lstm = (B: number, H = 128, batchSizes: Int32Array | null = null): RnnDims => ({
      mode: "LSTM",
      T: batchSizes?.length ?? 50,
      B,
      I: 128,
      H,
      P: 0,
      batchSizes,
      reverse: false,
    });
    const parts = (threads: number, dims: RnnDims) => {
      setNumThreads(threads);
      return poolRnnParts(dims);
    };
    expect(MIN_SEQS_PER_PART).toBe(4);
    expect(parts(1, lstm(32))).toBe(1);
    expect(parts(2, lstm(32))).toBe(2); // W2 on two threads, as before
    expect(parts(16, lstm(32))).toBe(8); // W2 on 16: parts of 4, not of 2
    expect(parts(4, lstm(32))).toBe(4);
    expect(parts(2, lstm(6))).toBe(2); // two parts of 3: a split in two always
    expect(parts(16, lstm(6))).toBe(2);
    expect(parts(16, lstm(12))).toBe(3);
    expect(parts(16, lstm(256, 512))).toBe(16); // W5 on 16 threads: parts of 16
    // packed sequences: parts are counted in sequences, whatever their lengths
    const bs = Int32Array.from({ length: 40 }, (_, t) => (t < 10 ? 16 : t < 30 ? 9 : 5));
    expect(parts(16, lstm(16, 128, bs))).toBe(4);
    setNumThreads(2);
  });

  it("bad input still gets the kernel's own error with threads on", () => {
    setBackend("wasm"); // the wasm gemm checks operand bounds
    setNumThreads(2);
    const n = 256;
    expect(() =>
      gemm(
        false,
        false,
        n,
        n,
        n,
        new Float32Array(10),
        0,
        n,
        rand(n * n),
        0,
        n,
        0,
        new Float32Array(n * n),
        0,
        n,
      ),
    ).toThrow(/A should hold/);
  });

  it("the pool shuts down, and restarts on demand", () => {
    setBackend("wasm");
    setNumThreads(2);
    const n = 256;
    const big = () =>
      gemm(false, false, n, n, n, rand(n * n), 0, n, rand(n * n), 0, n, 0, new Float32Array(n * n), 0, n);
    big();
    expect(poolStats().workers).toBe(1);
    shutdownPool();
    expect(poolStats().workers).toBe(0);
    big();
    expect(poolStats().workers).toBe(1);
    setNumThreads(1); // fewer threads stop the extra workers
    expect(poolStats().workers).toBe(0);
  });

  it("workers never keep Node alive", () => {
    // a process that splits a call and never shuts the pool down still exits by itself
    const script = `import("./src/node/threads.ts").then(async () => {
      const k = await import("./src/kernels/backend.ts");
      k.setNumThreads(2);
      const n = 256, a = new Float32Array(n * n).fill(1), c = new Float32Array(n * n);
      k.gemm(false, false, n, n, n, a, 0, n, a, 0, n, 0, c, 0, n);
      console.log(k.poolStats().pooledCalls, c[0]);
    })`;
    const out = execFileSync(process.execPath, ["--import", "tsx", "-e", script], {
      encoding: "utf8",
      timeout: 60_000,
    });
    expect(out.trim()).toBe("1 256");
  });
});
