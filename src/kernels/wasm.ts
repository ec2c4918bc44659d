// The WebAssembly kernels behind the same signatures as the TypeScript ones (gemm.ts, rnn.ts, adam.ts):
// each call copies its inputs into one arena in the module's linear memory, runs, and copies the outputs
// back (except a recurrent forward's saved activations, which may stay for the backward: ResidentSaved).
// The arena is reused by every call and grows when a call needs more (views are re-created after
// growth). Copies are O(size): a few percent of a recurrent training step (W6 in bench/: about 7 %, mostly
// weights, inputs and outputs, and the fresh arrays they land in); the fixed
// cost of a call is a fraction of a microsecond (no allocation, cached views), less than the TypeScript gemm
// takes for even a 1×16×16 product. Adam does little work per element, so its copies are about half of a
// call: measured, a 256-float Adam call runs ~3.5x as fast as the TypeScript twin, a 16-float one ~1.2x as
// slow.
//
// T = time, B = batch, I = input, H = hidden, P = proj, R = size of h, G = gates·H, N = rows = Σ batchSizes,
// n = elements of an Adam update

import { expectAdamLengths } from "./adam.js";
import {
  checkCommon,
  expectAtLeast,
  expectGrad,
  expectLength,
  type RnnDims,
  type RnnMode,
  type RnnWeightGrads,
  type RnnWeights,
  rnnGateCount,
  savedSize,
  scratchSize,
} from "./rnn.js";
import { checkStepperSpec, type StepperKernel, type StepperSpec, stepperSizes } from "./stepper.js";
import type { Kernels } from "./kernels.js";
import { WASM_RELAXED_SIMD, WASM_SIMD } from "./wasm-binary.js";

export type { Kernels } from "./kernels.js";

/** Floats of resident saved buffers held at once, at most: beyond it a forward's saved comes back to JS. */
export const RESIDENT_SAVED_MAX = 128 << 20; // 512 MiB

/**
 * A recurrent forward's `saved` activations left in the wasm kernels' memory for its backward, instead of
 * copied out after the forward and back in before the backward (in W6's profile the copies into and out of
 * the module went from about 10 % of a training step to 7 %). rnnForward / rnnBackward of the kernels that made it take it in place
 * of a Float32Array; `read()` copies it out for any other kernels. `release()` frees the block (the
 * autograd node calls it after its backward); one never released is freed when it is garbage-collected.
 */
export class ResidentSaved {
  /** @internal */
  constructor(
    readonly owner: WasmKernels,
    /** @internal byte address of the block, 0 once released */
    public p: number,
    readonly length: number,
    private readonly arena: Arena,
  ) {}
  /** A copy of the floats, as a Float32Array `saved` would hold them. */
  read(): Float32Array {
    if (this.p === 0) throw new Error("ResidentSaved.read: the buffer was released");
    return this.arena.f32.slice(this.p / 4, this.p / 4 + this.length);
  }
  release(): void {
    if (this.p === 0) return;
    this.arena.releaseSaved(this.p, this.length);
    residentRegistry.unregister(this);
    this.p = 0;
  }
}

/** Frees the block of a ResidentSaved dropped unreleased (a graph built under grad and never run backward). */
const residentRegistry = new FinalizationRegistry<{ arena: Arena; p: number; n: number }>((h) =>
  h.arena.releaseSaved(h.p, h.n),
);

interface Exports {
  memory: WebAssembly.Memory;
  init(): number;
  setTileRows(rows: number): number;
  gemm(
    transA: number,
    transB: number,
    M: number,
    N: number,
    K: number,
    a: number,
    lda: number,
    b: number,
    ldb: number,
    beta: number,
    c: number,
    ldc: number,
  ): void;
  rnnWorkSize(mode: number, H: number, P: number): number;
  rnnPackWeights(
    mode: number,
    I: number,
    H: number,
    P: number,
    wIh: number,
    wHh: number,
    wHr: number,
    work: number,
  ): void;
  rnnStepperWorkSize(mode: number, I: number, H: number, P: number): number;
  rnnForward(...args: number[]): void;
  rnnBackward(...args: number[]): void;
  adamStep(
    p: number,
    g: number,
    m: number,
    v: number,
    vMax: number,
    n: number,
    sign: number,
    l2: number,
    decay: number,
    b1: number,
    c1: number,
    b2: number,
    c2: number,
    eps: number,
    negStepSize: number,
    bc2Sqrt: number,
  ): void;
}

// ---------------------------------------------------------------------------------------------------------
// Loading

/** Which build: "relaxed" fuses multiply-adds (relaxed SIMD), "simd" is plain 128-bit SIMD. */
export type WasmVariant = "relaxed" | "simd";

function decodeBase64(s: string): Uint8Array<ArrayBuffer> {
  const bin = atob(s);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

const bytesCache = new Map<WasmVariant, Uint8Array<ArrayBuffer>>();

/** The module's bytes for a variant. */
export function wasmBytes(variant: WasmVariant): Uint8Array<ArrayBuffer> {
  let b = bytesCache.get(variant);
  if (b === undefined) {
    b = decodeBase64(variant === "relaxed" ? WASM_RELAXED_SIMD : WASM_SIMD);
    bytesCache.set(variant, b);
  }
  return b;
}

/** The variants this runtime validates, best first (relaxed, then simd); empty without WebAssembly SIMD. */
export function supportedWasmVariants(): WasmVariant[] {
  const wa = (globalThis as { WebAssembly?: typeof WebAssembly }).WebAssembly;
  if (wa === undefined || typeof wa.validate !== "function") return [];
  return (["relaxed", "simd"] as const).filter((v) => {
    try {
      return wa.validate(wasmBytes(v));
    } catch {
      return false; // a runtime that throws on validate has no usable WebAssembly
    }
  });
}

/** The best variant this runtime validates, or null without WebAssembly SIMD. */
export function supportedWasmVariant(): WasmVariant | null {
  return supportedWasmVariants()[0] ?? null;
}

/**
 * Rows of the matrix product's register tile for a build: 6 (12 accumulators) with fused multiply-adds,
 * where they leave enough vector registers; 4 with separate multiply and add, which need a temporary each.
 * Measured on a Zen 1 core, 256³ products: the relaxed build on Node 24 runs at 35 GFLOP/s with 6 rows
 * against 29 with 4, and the plain build on Node 20 at 20 with 6 against 23 with 4. Results are the same
 * bits either way.
 */
export function defaultTileRows(variant: WasmVariant): 4 | 6 {
  return variant === "relaxed" ? 6 : 4;
}

/**
 * Instantiates a compiled kernel module (synchronously: it has no imports) and wraps it. `tileRows` sets the
 * matrix product's register tile (4 or 6 rows; default defaultTileRows(variant)).
 */
export function createWasmKernels(
  module: WebAssembly.Module,
  variant: WasmVariant,
  tileRows: 4 | 6 = defaultTileRows(variant),
): Kernels {
  const instance = new WebAssembly.Instance(module, {
    env: {
      abort: () => {
        throw new Error("wasm kernels: abort");
      },
    },
  });
  const ex = instance.exports as unknown as Exports;
  if (tileRows !== 4 && tileRows !== 6) {
    throw new RangeError(`createWasmKernels: tileRows should be 4 or 6, got ${String(tileRows)}`);
  }
  ex.setTileRows(tileRows);
  return new WasmKernels(ex, `wasm-${variant === "relaxed" ? "relaxed-simd" : "simd"}`);
}

// ---------------------------------------------------------------------------------------------------------
// The arena

/**
 * A bump allocator over the module's memory from `base`; reset at the start of every call. Below `base`
 * lie the resident blocks (steppers' weights and state), which outlive calls: reserve() takes a freed
 * block that fits or moves `base` up, release() frees one (moving `base` down when it was the top one).
 */
class Arena {
  f32: Float32Array;
  i32: Int32Array;
  private top: number;
  private capacity: number; // bytes of memory, cached (reading memory.buffer is not free)
  private base: number;
  private readonly blocks = new Map<number, number>(); // resident: byte address → bytes, in use
  private free: [number, number][] = []; // resident: freed [address, bytes] below base
  constructor(
    private readonly memory: WebAssembly.Memory,
    start: number,
  ) {
    this.base = start;
    this.top = start;
    this.capacity = memory.buffer.byteLength;
    this.f32 = new Float32Array(memory.buffer);
    this.i32 = new Int32Array(memory.buffer);
  }
  reset(): void {
    this.top = this.base;
  }
  /** A resident block of n floats (16-byte aligned, zeroed) that lives until release(); its byte address. */
  reserve(n: number, zero = true): number {
    const bytes = Math.max(16, Math.ceil(n / 4) * 16);
    let p = -1;
    const i = this.free.findIndex(([, b]) => b >= bytes);
    if (i >= 0) {
      const [a, b] = this.free[i];
      p = a;
      if (b > bytes) this.free[i] = [a + bytes, b - bytes];
      else this.free.splice(i, 1);
    } else {
      p = this.base;
      this.base += bytes;
      this.top = this.base;
      try {
        this.commit();
      } catch (e) {
        this.base = p;
        this.top = p;
        throw e;
      }
    }
    this.blocks.set(p, bytes);
    if (zero) this.f32.fill(0, p / 4, (p + bytes) / 4);
    return p;
  }
  /** floats held in resident saved buffers */
  savedFloats = 0;
  /** A resident block for a saved buffer (not zeroed: the forward writes every float), or 0 past the cap. */
  reserveSaved(n: number): number {
    if (n <= 0 || this.savedFloats + n > RESIDENT_SAVED_MAX) return 0;
    try {
      const p = this.reserve(n, false);
      this.savedFloats += n;
      return p;
    } catch {
      return 0; // the memory could not grow: the caller keeps saved in JS
    }
  }
  releaseSaved(p: number, n: number): void {
    if (!this.blocks.has(p)) return;
    this.savedFloats -= n;
    this.release(p);
  }
  /** Frees a block from reserve(). */
  release(p: number): void {
    const bytes = this.blocks.get(p);
    if (bytes === undefined) return;
    this.blocks.delete(p);
    this.free.push([p, bytes]);
    // merge neighbours, then give the topmost free block back to the arena
    this.free.sort((a, b) => a[0] - b[0]);
    const merged: [number, number][] = [];
    for (const [a, b] of this.free) {
      const last = merged[merged.length - 1];
      if (last !== undefined && last[0] + last[1] === a) last[1] += b;
      else merged.push([a, b]);
    }
    const last = merged[merged.length - 1];
    if (last !== undefined && last[0] + last[1] === this.base) {
      this.base = last[0];
      merged.pop();
    }
    this.free = merged;
    this.top = this.base;
  }
  /** Reserves n 4-byte slots, 16-byte aligned, and returns the byte address. Call commit() before use. */
  alloc(n: number): number {
    const p = this.top;
    this.top = p + Math.ceil(n / 4) * 16; // plain arithmetic: addresses may pass 2^31
    return p;
  }
  /** Grows the memory to hold everything allocated so far, re-creating the views if it grew. */
  commit(): void {
    if (this.top > this.capacity) {
      // at least double, so a slowly growing workload grows the memory a logarithmic number of times
      const need = Math.ceil((this.top - this.capacity) / 65536);
      try {
        this.memory.grow(Math.max(need, this.capacity >>> 16));
      } catch {
        this.memory.grow(need); // near the engine's limit: just what this call needs
      }
      this.capacity = this.memory.buffer.byteLength;
      this.f32 = new Float32Array(this.memory.buffer);
      this.i32 = new Int32Array(this.memory.buffer);
    }
  }
  /** Copies src[off, off + n) to the float at byte address p. */
  put(src: Float32Array, off: number, n: number, p: number): void {
    const d = p / 4;
    if (n <= 32) {
      const f = this.f32;
      for (let i = 0; i < n; i++) f[d + i] = src[off + i];
    } else if (off === 0 && n === src.length) this.f32.set(src, d);
    else this.f32.set(src.subarray(off, off + n), d);
  }
  /** Copies n floats from byte address p to dst[off, off + n). */
  get(p: number, n: number, dst: Float32Array, off: number): void {
    const s = p / 4;
    if (n <= 32) {
      const f = this.f32;
      for (let i = 0; i < n; i++) dst[off + i] = f[s + i];
    } else dst.set(this.f32.subarray(s, s + n), off);
  }
  /** Copies `rows` rows of `cols` floats, row stride ld in src, into a dense (rows, cols) block at p. */
  putRows(src: Float32Array, off: number, rows: number, cols: number, ld: number, p: number): void {
    if (ld === cols || rows === 1) this.put(src, off, rows * cols, p);
    else for (let r = 0; r < rows; r++) this.put(src, off + r * ld, cols, p + 4 * r * cols);
  }
  /** The inverse of putRows. */
  getRows(p: number, rows: number, cols: number, dst: Float32Array, off: number, ld: number): void {
    if (ld === cols || rows === 1) this.get(p, rows * cols, dst, off);
    else for (let r = 0; r < rows; r++) this.get(p + 4 * r * cols, cols, dst, off + r * ld);
  }
}

// ---------------------------------------------------------------------------------------------------------
// The kernels

const MODE_ID: Readonly<Record<RnnMode, number>> = { RNN_TANH: 0, RNN_RELU: 1, LSTM: 2, GRU: 3 };

/** @internal the wasm kernel set (exported for ResidentSaved's owner type) */
export class WasmKernels implements Kernels {
  readonly name = "wasm" as const;
  private readonly arena: Arena;
  constructor(
    private readonly ex: Exports,
    readonly detail: string,
  ) {
    this.arena = new Arena(ex.memory, ex.init());
  }

  gemm = (
    transA: boolean, // op(A) = Aᵀ
    transB: boolean,
    M: number,
    N: number,
    K: number,
    A: Float32Array, // (M, K) or (K, M) when transA
    aOff: number,
    lda: number,
    B: Float32Array, // (K, N) or (N, K) when transB
    bOff: number,
    ldb: number,
    beta: number,
    C: Float32Array, // (M, N)
    cOff: number,
    ldc: number,
  ): void => {
    if (M <= 0 || N <= 0) return;
    const ar = this.arena;
    ar.reset();
    // operands are copied dense: A as (aRows, aCols), B as (bRows, bCols), C as (M, N)
    const aRows = transA ? K : M;
    const aCols = transA ? M : K;
    const bRows = transB ? N : K;
    const bCols = transB ? K : N;
    if (K > 0) {
      expectMatrix("A", A, aOff, aRows, aCols, lda);
      expectMatrix("B", B, bOff, bRows, bCols, ldb);
    }
    expectMatrix("C", C, cOff, M, N, ldc);
    const pa = ar.alloc(aRows * aCols);
    const pb = ar.alloc(bRows * bCols);
    const pc = ar.alloc(M * N);
    ar.commit();
    if (K > 0) {
      ar.putRows(A, aOff, aRows, aCols, lda, pa);
      ar.putRows(B, bOff, bRows, bCols, ldb, pb);
    }
    if (beta !== 0) ar.putRows(C, cOff, M, N, ldc, pc);
    this.ex.gemm(+transA, +transB, M, N, K, pa, aCols, pb, bCols, beta, pc, N);
    ar.getRows(pc, M, N, C, cOff, ldc);
  };

  rnnForward = (
    dims: RnnDims,
    w: RnnWeights,
    x: Float32Array, // (N, I)
    h0: Float32Array | null, // (B, R)
    c0: Float32Array | null, // (B, H)
    y: Float32Array, // (N, R) out
    hN: Float32Array, // (B, R) out
    cN: Float32Array | null, // (B, H) out, LSTM
    saved: Float32Array | ResidentSaved | null, // out, null = inference
    scratch: Float32Array,
  ): void => {
    const fn = "rnnForward";
    const { R, N } = checkCommon(fn, dims, w, x, h0, c0);
    const { mode, T, B, I, H, P } = dims;
    expectLength(fn, "y", y, N * R, "N·R");
    expectLength(fn, "hN", hN, B * R, "B·R");
    if (mode === "LSTM") {
      if (cN === null) throw new Error(`${fn}: mode LSTM needs a cN buffer (B·H = ${B * H}), got null`);
      expectLength(fn, "cN", cN, B * H, "B·H");
    }
    const resident = this.residentOf(fn, saved);
    // of a ResidentSaved only the length is read
    if (saved !== null) expectAtLeast(fn, "saved", saved as Float32Array, savedSize(mode, N, H));
    expectAtLeast(fn, "scratch", scratch, scratchSize(mode, N, B, H, P));

    const ar = this.arena;
    ar.reset();
    const pBs = dims.batchSizes !== null ? ar.alloc(T) : 0;
    const px = ar.alloc(N * I);
    const ph0 = h0 !== null ? ar.alloc(B * R) : 0;
    const pc0 = c0 !== null ? ar.alloc(B * H) : 0;
    const pw = allocWeights(ar, w);
    const py = ar.alloc(N * R);
    const phN = ar.alloc(B * R);
    const pcN = cN !== null ? ar.alloc(B * H) : 0;
    const nSaved = savedSize(mode, N, H);
    const pSaved = resident !== null ? resident.p : saved !== null ? ar.alloc(nSaved) : 0;
    const pScratch = ar.alloc(scratchSize(mode, N, B, H, P));
    const pWork = ar.alloc(this.ex.rnnWorkSize(MODE_ID[mode], H, P));
    ar.commit();
    if (dims.batchSizes !== null) ar.i32.set(dims.batchSizes, pBs / 4);
    ar.put(x, 0, N * I, px);
    if (h0 !== null) ar.put(h0, 0, B * R, ph0);
    if (c0 !== null) ar.put(c0, 0, B * H, pc0);
    putWeights(ar, w, pw);
    this.ex.rnnForward(
      MODE_ID[mode],
      T,
      B,
      I,
      H,
      P,
      pBs,
      +dims.reverse,
      px,
      ph0,
      pc0,
      pw.wIh,
      pw.wHh,
      pw.bIh,
      pw.bHh,
      pw.wHr,
      py,
      phN,
      pcN,
      pSaved,
      pScratch,
      pWork,
      0,
    );
    ar.get(py, N * R, y, 0);
    ar.get(phN, B * R, hN, 0);
    if (cN !== null) ar.get(pcN, B * H, cN, 0);
    if (saved !== null && resident === null) ar.get(pSaved, nSaved, saved as Float32Array, 0);
  };

  rnnBackward = (
    dims: RnnDims,
    w: RnnWeights,
    dW: RnnWeightGrads, // accumulated (+=)
    x: Float32Array, // (N, I)
    dX: Float32Array | null, // (N, I) out
    h0: Float32Array | null, // (B, R)
    dH0: Float32Array | null, // (B, R) out
    c0: Float32Array | null, // (B, H)
    dC0: Float32Array | null, // (B, H) out
    y: Float32Array, // (N, R)
    dY: Float32Array | null, // (N, R)
    dHn: Float32Array | null, // (B, R)
    dCn: Float32Array | null, // (B, H)
    saved: Float32Array | ResidentSaved | null,
    scratch: Float32Array,
  ): void => {
    const fn = "rnnBackward";
    const resident = this.residentOf(fn, saved);
    const { R, N } = checkCommon(fn, dims, w, x, h0, c0);
    const { mode, T, B, I, H, P } = dims;
    const isRnn = mode === "RNN_TANH" || mode === "RNN_RELU";
    expectLength(fn, "y", y, N * R, "N·R");
    if (dX !== null) expectLength(fn, "dX", dX, N * I, "N·I");
    if (dH0 !== null) expectLength(fn, "dH0", dH0, B * R, "B·R");
    if (dY !== null) expectLength(fn, "dY", dY, N * R, "N·R");
    if (dHn !== null) expectLength(fn, "dHn", dHn, B * R, "B·R");
    if (mode !== "LSTM" && (dC0 !== null || dCn !== null)) {
      throw new Error(`${fn}: dC0 and dCn are for mode LSTM only, got them in mode ${mode}`);
    }
    if (dC0 !== null) expectLength(fn, "dC0", dC0, B * H, "B·H");
    if (dCn !== null) expectLength(fn, "dCn", dCn, B * H, "B·H");
    expectGrad(fn, "dWih", dW.dWih, w.wIh);
    expectGrad(fn, "dWhh", dW.dWhh, w.wHh);
    expectGrad(fn, "dBih", dW.dBih, w.bIh);
    expectGrad(fn, "dBhh", dW.dBhh, w.bHh);
    expectGrad(fn, "dWhr", dW.dWhr, w.wHr);
    if (!isRnn) {
      if (saved === null)
        throw new Error(`${fn}: mode ${mode} needs the saved buffer of the forward, got null`);
      expectAtLeast(fn, "saved", saved as Float32Array, savedSize(mode, N, H));
    }
    expectAtLeast(fn, "scratch", scratch, scratchSize(mode, N, B, H, P));

    const ar = this.arena;
    ar.reset();
    const pBs = dims.batchSizes !== null ? ar.alloc(T) : 0;
    const pw = allocWeights(ar, w);
    const pdW = allocWeights(ar, {
      wIh: dW.dWih,
      wHh: dW.dWhh,
      bIh: dW.dBih,
      bHh: dW.dBhh,
      wHr: dW.dWhr,
    });
    const px = ar.alloc(N * I);
    const pdX = dX !== null ? ar.alloc(N * I) : 0;
    const ph0 = h0 !== null ? ar.alloc(B * R) : 0;
    const pdH0 = dH0 !== null ? ar.alloc(B * R) : 0;
    const pc0 = c0 !== null ? ar.alloc(B * H) : 0;
    const pdC0 = dC0 !== null ? ar.alloc(B * H) : 0;
    const py = ar.alloc(N * R);
    const pdY = dY !== null ? ar.alloc(N * R) : 0;
    const pdHn = dHn !== null ? ar.alloc(B * R) : 0;
    const pdCn = dCn !== null ? ar.alloc(B * H) : 0;
    const nSaved = isRnn ? 0 : savedSize(mode, N, H);
    const pSaved = isRnn ? 0 : resident !== null ? resident.p : ar.alloc(nSaved);
    const pScratch = ar.alloc(scratchSize(mode, N, B, H, P));
    const pWork = ar.alloc(this.ex.rnnWorkSize(MODE_ID[mode], H, P));
    ar.commit();
    if (dims.batchSizes !== null) ar.i32.set(dims.batchSizes, pBs / 4);
    putWeights(ar, w, pw);
    putWeights(ar, { wIh: dW.dWih, wHh: dW.dWhh, bIh: dW.dBih, bHh: dW.dBhh, wHr: dW.dWhr }, pdW);
    ar.put(x, 0, N * I, px);
    if (h0 !== null) ar.put(h0, 0, B * R, ph0);
    if (c0 !== null) ar.put(c0, 0, B * H, pc0);
    ar.put(y, 0, N * R, py);
    if (dY !== null) ar.put(dY, 0, N * R, pdY);
    if (dHn !== null) ar.put(dHn, 0, B * R, pdHn);
    if (dCn !== null) ar.put(dCn, 0, B * H, pdCn);
    if (saved !== null && !isRnn && resident === null) ar.put(saved as Float32Array, 0, nSaved, pSaved);
    this.ex.rnnBackward(
      MODE_ID[mode],
      T,
      B,
      I,
      H,
      P,
      pBs,
      +dims.reverse,
      pw.wIh,
      pw.wHh,
      pw.wHr,
      pdW.wIh,
      pdW.wHh,
      pdW.bIh,
      pdW.bHh,
      pdW.wHr,
      px,
      pdX,
      ph0,
      pdH0,
      pc0,
      pdC0,
      py,
      pdY,
      pdHn,
      pdCn,
      pSaved,
      pScratch,
      pWork,
    );
    if (dX !== null) ar.get(pdX, N * I, dX, 0);
    if (dH0 !== null) ar.get(pdH0, B * R, dH0, 0);
    if (dC0 !== null) ar.get(pdC0, B * H, dC0, 0);
    getWeights(ar, pdW, { wIh: dW.dWih, wHh: dW.dWhh, bIh: dW.dBih, bHh: dW.dBhh, wHr: dW.dWhr });
  };

  createStepper = (spec: StepperSpec): StepperKernel => new WasmStepper(this.ex, this.arena, spec);

  reserveSaved = (n: number): ResidentSaved | null => {
    const p = this.arena.reserveSaved(n);
    if (p === 0) return null;
    const r = new ResidentSaved(this, p, n, this.arena);
    residentRegistry.register(r, { arena: this.arena, p, n }, r);
    return r;
  };

  /** `saved` as one of this module's resident blocks, or null for a Float32Array (or null). */
  private residentOf(fn: string, saved: Float32Array | ResidentSaved | null): ResidentSaved | null {
    if (!(saved instanceof ResidentSaved)) return null;
    if (saved.owner !== this)
      throw new Error(`${fn}: saved is resident in other kernels' memory; pass saved.read()`);
    if (saved.p === 0) throw new Error(`${fn}: saved was released`);
    return saved;
  }

  adam = (
    p: Float32Array, // (n,) updated
    g: Float32Array, // (n,)
    m: Float32Array, // (n,) updated
    v: Float32Array, // (n,) updated
    vMax: Float32Array | null, // (n,) updated
    sign: number,
    l2: number,
    decay: number,
    b1: number,
    c1: number,
    b2: number,
    c2: number,
    eps: number,
    negStepSize: number,
    bc2Sqrt: number,
  ): void => {
    expectAdamLengths(p, g, m, v, vMax);
    const n = p.length;
    if (n === 0) return;
    const ar = this.arena;
    ar.reset();
    const pp = ar.alloc(n);
    const pg = ar.alloc(n);
    const pm = ar.alloc(n);
    const pv = ar.alloc(n);
    const pMax = vMax !== null ? ar.alloc(n) : 0;
    ar.commit();
    // Short buffers (W1's biases) are copied in one loop each way: with a put / get per buffer a call on 16
    // floats took ~1.4x as long, the copies being most of it. Longer ones go through put / get (memcpy).
    const short = n <= 32;
    const f = ar.f32;
    const dp = pp / 4;
    const dg = pg / 4;
    const dm = pm / 4;
    const dv = pv / 4;
    if (short) {
      for (let i = 0; i < n; i++) {
        f[dp + i] = p[i];
        f[dg + i] = g[i];
        f[dm + i] = m[i];
        f[dv + i] = v[i];
      }
    } else {
      ar.put(p, 0, n, pp);
      ar.put(g, 0, n, pg);
      ar.put(m, 0, n, pm);
      ar.put(v, 0, n, pv);
    }
    if (vMax !== null) ar.put(vMax, 0, n, pMax);
    this.ex.adamStep(pp, pg, pm, pv, pMax, n, sign, l2, decay, b1, c1, b2, c2, eps, negStepSize, bc2Sqrt);
    if (short) {
      for (let i = 0; i < n; i++) {
        p[i] = f[dp + i];
        m[i] = f[dm + i];
        v[i] = f[dv + i];
      }
    } else {
      ar.get(pp, n, p, 0);
      ar.get(pm, n, m, 0);
      ar.get(pv, n, v, 0);
    }
    if (vMax !== null) ar.get(pMax, n, vMax, 0);
  };
}

/**
 * The WebAssembly stepper: weights, recurrent weights packed once (rnnPackWeights), state and buffers live in
 * one resident block, so a step copies the input in, runs the layer kernel with T = 1 per layer (prepacked)
 * and the head's product, and copies the output out. Byte addresses only: the views are read from the arena
 * at every use, since another call may have grown the memory.
 */
class WasmStepper implements StepperKernel {
  private block: number; // byte address of the resident block, 0 once disposed
  private readonly mode: number;
  private readonly B: number;
  private readonly layers: {
    I: number;
    H: number;
    P: number;
    pBih: number;
    pBhh: number;
    pWork: number;
    pH: number;
    pC: number;
    pY: number;
  }[] = [];
  private readonly head: { O: number; K: number; pW: number; pB: number } | null;
  private readonly pX: number;
  private readonly pOut: number;
  private readonly pScratch: number;
  private readonly nX: number;
  private readonly nOut: number;
  private readonly isLstm: boolean;

  constructor(
    private readonly ex: Exports,
    private readonly ar: Arena,
    spec: StepperSpec,
  ) {
    checkStepperSpec(spec);
    const { mode, B } = spec;
    this.mode = MODE_ID[mode];
    this.B = B;
    this.isLstm = mode === "LSTM";
    // lay the block out in floats (each piece rounded up to 4 floats = 16 bytes), then reserve it once
    let n = 0;
    const take = (k: number) => {
      const at = n;
      n += Math.ceil(k / 4) * 4;
      return at;
    };
    const first = spec.layers[0];
    this.nX = B * first.I;
    const oX = take(this.nX);
    const offs = spec.layers.map((l) => {
      const G = rnnGateCount(mode) * l.H;
      const R = l.P > 0 ? l.P : l.H;
      return {
        I: l.I,
        H: l.H,
        P: l.P,
        bIh: l.w.bIh !== null ? take(G) : -1,
        bHh: l.w.bHh !== null ? take(G) : -1,
        work: take(ex.rnnStepperWorkSize(this.mode, l.I, l.H, l.P)),
        h: take(B * R),
        c: this.isLstm ? take(B * l.H) : -1,
        y: take(B * R),
      };
    });
    const h = spec.head;
    const oHead = h === null ? null : { w: take(h.O * h.K), b: h.b !== null ? take(h.O) : -1 };
    this.nOut = stepperSizes(spec).outLen;
    const oOut = take(this.nOut);
    const oScratch = take(Math.max(...spec.layers.map((l) => scratchSize(mode, B, B, l.H, l.P))));
    this.block = ar.reserve(n);
    const p = (o: number) => (o < 0 ? 0 : this.block + 4 * o);
    for (const o of offs) {
      this.layers.push({
        I: o.I,
        H: o.H,
        P: o.P,
        pBih: p(o.bIh),
        pBhh: p(o.bHh),
        pWork: p(o.work),
        pH: p(o.h),
        pC: p(o.c),
        pY: p(o.y),
      });
    }
    this.head = h === null || oHead === null ? null : { O: h.O, K: h.K, pW: p(oHead.w), pB: p(oHead.b) };
    this.pX = p(oX);
    this.pOut = p(oOut);
    this.pScratch = p(oScratch);
    this.load(spec);
  }

  private alive(): void {
    if (this.block === 0) throw new Error("stepper: used after dispose()");
  }

  load(spec: StepperSpec): void {
    this.alive();
    checkStepperSpec(spec);
    if (spec.layers.length !== this.layers.length || (spec.head === null) !== (this.head === null))
      throw new Error("stepper: load() needs a spec of the same shapes as the stepper's");
    const ar = this.ar;
    spec.layers.forEach((l, i) => {
      const r = this.layers[i];
      if (l.I !== r.I || l.H !== r.H || l.P !== r.P || (l.w.bIh === null) !== (r.pBih === 0))
        throw new Error(`stepper: load() got layer ${i} of other shapes than the stepper's`);
      if (l.w.bIh !== null) ar.put(l.w.bIh, 0, l.w.bIh.length, r.pBih);
      if (l.w.bHh !== null) ar.put(l.w.bHh, 0, l.w.bHh.length, r.pBhh);
      // the matrices pass through the arena to be packed into the resident work area
      ar.reset();
      const pWih = ar.alloc(l.w.wIh.length);
      const pWhh = ar.alloc(l.w.wHh.length);
      const pWhr = l.w.wHr !== null ? ar.alloc(l.w.wHr.length) : 0;
      ar.commit();
      ar.put(l.w.wIh, 0, l.w.wIh.length, pWih);
      ar.put(l.w.wHh, 0, l.w.wHh.length, pWhh);
      if (l.w.wHr !== null) ar.put(l.w.wHr, 0, l.w.wHr.length, pWhr);
      this.ex.rnnPackWeights(this.mode, l.I, l.H, l.P, pWih, pWhh, pWhr, r.pWork);
    });
    const h = spec.head;
    if (h !== null && this.head !== null) {
      if (h.O !== this.head.O || h.K !== this.head.K || (h.b === null) !== (this.head.pB === 0))
        throw new Error("stepper: load() got a head of other shapes than the stepper's");
      ar.put(h.w, 0, h.w.length, this.head.pW);
      if (h.b !== null) ar.put(h.b, 0, h.b.length, this.head.pB);
    }
  }

  step(x: Float32Array, out: Float32Array): void {
    this.alive();
    expectLength("stepper.step", "x", x, this.nX, "B·I");
    expectLength("stepper.step", "out", out, this.nOut, "B·O");
    const ex = this.ex;
    const B = this.B;
    this.ar.put(x, 0, this.nX, this.pX);
    let pIn = this.pX;
    for (const l of this.layers) {
      ex.rnnForward(
        this.mode,
        1,
        B,
        l.I,
        l.H,
        l.P,
        0,
        0,
        pIn,
        l.pH,
        l.pC,
        0,
        0,
        l.pBih,
        l.pBhh,
        0,
        l.pY,
        l.pH,
        l.pC,
        0,
        this.pScratch,
        l.pWork,
        1,
      );
      pIn = l.pY;
    }
    const h = this.head;
    if (h === null) {
      this.ar.get(pIn, this.nOut, out, 0);
      return;
    }
    if (h.pB !== 0) {
      const f = this.ar.f32;
      const b = h.pB / 4;
      for (let r = 0; r < B; r++) {
        const o = this.pOut / 4 + r * h.O;
        for (let j = 0; j < h.O; j++) f[o + j] = f[b + j];
      }
    }
    ex.gemm(0, 1, B, h.O, h.K, pIn, h.K, h.pW, h.K, h.pB !== 0 ? 1 : 0, this.pOut, h.O);
    this.ar.get(this.pOut, this.nOut, out, 0);
  }

  getState(h: Float32Array, c: Float32Array | null): void {
    this.alive();
    let oh = 0;
    let oc = 0;
    for (const l of this.layers) {
      const nh = this.B * (l.P > 0 ? l.P : l.H);
      this.ar.get(l.pH, nh, h, oh);
      oh += nh;
      if (c !== null && l.pC !== 0) {
        this.ar.get(l.pC, this.B * l.H, c, oc);
        oc += this.B * l.H;
      }
    }
  }

  setState(h: Float32Array | null, c: Float32Array | null): void {
    this.alive();
    let oh = 0;
    let oc = 0;
    const f = this.ar.f32;
    for (const l of this.layers) {
      const nh = this.B * (l.P > 0 ? l.P : l.H);
      if (h === null) f.fill(0, l.pH / 4, l.pH / 4 + nh);
      else this.ar.put(h, oh, nh, l.pH);
      oh += nh;
      if (l.pC !== 0) {
        const nc = this.B * l.H;
        if (c === null) f.fill(0, l.pC / 4, l.pC / 4 + nc);
        else this.ar.put(c, oc, nc, l.pC);
        oc += nc;
      }
    }
  }

  dispose(): void {
    if (this.block !== 0) this.ar.release(this.block);
    this.block = 0;
  }
}

/** A row-major (rows, cols) operand at offset off with row stride ld must lie inside its array. */
function expectMatrix(
  name: string,
  a: Float32Array,
  off: number,
  rows: number,
  cols: number,
  ld: number,
): void {
  if (!(ld >= cols) || !(off >= 0) || off + (rows - 1) * ld + cols > a.length) {
    throw new Error(
      `gemm: ${name} should hold ${rows}×${cols} floats from offset ${off} with row stride ≥ ${cols}, got offset ${off}, stride ${ld} and ${a.length} elements`,
    );
  }
}

type WeightSlots = { [k in keyof RnnWeights]: number };
type MaybeWeights = { [k in keyof RnnWeights]: Float32Array | null };

function slot(ar: Arena, a: Float32Array | null): number {
  return a === null ? 0 : ar.alloc(a.length);
}

function allocWeights(ar: Arena, w: MaybeWeights): WeightSlots {
  return {
    wIh: slot(ar, w.wIh),
    wHh: slot(ar, w.wHh),
    bIh: slot(ar, w.bIh),
    bHh: slot(ar, w.bHh),
    wHr: slot(ar, w.wHr),
  };
}

function putWeights(ar: Arena, w: MaybeWeights, p: WeightSlots): void {
  for (const k of ["wIh", "wHh", "bIh", "bHh", "wHr"] as const) {
    const a = w[k];
    if (a !== null) ar.put(a, 0, a.length, p[k]);
  }
}

function getWeights(ar: Arena, p: WeightSlots, w: MaybeWeights): void {
  for (const k of ["wIh", "wHh", "bIh", "bHh", "wHr"] as const) {
    const a = w[k];
    if (a !== null) ar.get(p[k], a.length, a, 0);
  }
}

// ---------------------------------------------------------------------------------------------------------
// Validation: rnn.ts's own checks (imported above), so both backends reject bad input alike.
