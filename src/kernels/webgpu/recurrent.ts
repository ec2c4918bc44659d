// The recurrent layers on WebGPU: one layer-direction of an Elman RNN (tanh, relu), an LSTM or a GRU over
// a whole sequence, forward and backward through time, with the contracts of rnn.ts (PyTorch's formulas and
// gate orders, packed sequences, reverse, LSTM projections) on GPU buffers. The shaders are in
// recurrent-wgsl.ts.
//
// T = time, B = batch, I = input, H = hidden, P = proj (0 = none), R = size of h (P if P > 0, else H),
// G = gates·H (RNN 1·H; LSTM 4·H in order i, f, g, o; GRU 3·H in order r, z, n), N = rows = Σ batchSizes
//
// Work per call. Forward: the input projection of every step as one product (N×G×I), then one dispatch per
// step (two with a projection) for h·W_hhᵀ and the cell, then one gather for hN (and cN). Backward: one
// dispatch per step (two with a projection) for dh and the gate gradients, then products over all N rows
// for dX and the weight gradients, and column sums for the bias gradients. Everything is recorded into the
// context's encoder; nothing is read back.

import type { RnnDims, RnnMode } from "../rnn.js";
import { rnnGateCount } from "../rnn.js";
import type { WebGPUContext } from "./context.js";
import {
  backwardC0Kernel,
  backwardDhKernel,
  backwardStepKernel,
  colSumKernel,
  FLAG_DY,
  FLAG_FIRST,
  forwardStepKernel,
  gatherKernel,
  matmulKernel,
  packedOffsets,
  STEP_BT,
  transposeKernel,
  type WgslKernel,
} from "./recurrent-wgsl.js";

/** The parameters of one layer-direction on the GPU (PyTorch's layouts, as RnnWeights in rnn.ts). */
export interface GpuRnnWeights {
  wIh: GPUBuffer; // (G, I)
  wHh: GPUBuffer; // (G, R)
  bIh: GPUBuffer | null; // (G), null when bias = false
  bHh: GPUBuffer | null; // (G)
  wHr: GPUBuffer | null; // (P, H), LSTM with P > 0 only
}

/** Parameter gradients, ACCUMULATED (+=) by backward; a null field is not computed. */
export interface GpuRnnWeightGrads {
  dWih: GPUBuffer | null; // (G, I)
  dWhh: GPUBuffer | null; // (G, R)
  dBih: GPUBuffer | null; // (G)
  dBhh: GPUBuffer | null; // (G)
  dWhr: GPUBuffer | null; // (P, H)
}

/**
 * What a training forward keeps for its backward: pooled buffers of the context, handed back by release()
 * (backward does not release them, so one forward may serve several backwards).
 */
export class GpuRnnSaved {
  constructor(
    private readonly ctx: WebGPUContext,
    readonly key: string, // the dims it was made for
    readonly links: GPUBuffer, // i32 (3N + 2B), see recurrent-wgsl.ts
    readonly sv: GPUBuffer, // gate activations and cell state of every row, see recurrent-wgsl.ts
  ) {}

  private released = false;

  /** Returns the buffers to the context's pool. */
  release(): void {
    if (this.released) return;
    this.released = true;
    this.ctx.release(this.links);
    this.ctx.release(this.sv);
  }

  get isReleased(): boolean {
    return this.released;
  }
}

interface Layout {
  G: number;
  R: number;
  N: number;
  steps: { off: number; bt: number }[]; // in the forward's processing order
  links: Int32Array; // (3N + 2B)
}

const NONE = 0xffffffff;
/** Bytes bound for every kernel's uniform: the largest struct (the step's and the product's, 12 words). */
const UNIFORM_BYTES = 48;

type PlanOp =
  | { p: GPUComputePipeline; list: GPUBuffer[]; words: number[]; x: number; y: number }
  | { src: GPUBuffer; dst: GPUBuffer; bytes: number; srcOff: number; dstOff: number };

/** The recurrent kernels on one WebGPU context. Pipelines are compiled on first use and cached. */
export class GpuRecurrent {
  private readonly kernels = new Map<string, { k: WgslKernel; p: GPUComputePipeline }>();
  /** The dispatches and copies of the call in progress, recorded on the context by run(). */
  private plan: PlanOp[] = [];

  constructor(readonly ctx: WebGPUContext) {}

  /**
   * Runs one layer-direction over the sequence: y, hN (and cN) from x, h0 (and c0), as rnnForward in
   * rnn.ts. With `train` it returns what backward needs (release it when done); else null.
   */
  forward(
    dims: RnnDims,
    w: GpuRnnWeights,
    x: GPUBuffer, // (N, I)
    h0: GPUBuffer | null, // (B, R), null = zeros
    c0: GPUBuffer | null, // (B, H), LSTM only, null = zeros
    y: GPUBuffer, // (N, R) out
    hN: GPUBuffer, // (B, R) out (may alias h0)
    cN: GPUBuffer | null, // (B, H) out, LSTM only (required there; may alias c0)
    train: boolean,
  ): GpuRnnSaved | null {
    const fn = "GpuRecurrent.forward";
    this.plan = [];
    const { mode, B, I, H, P } = dims;
    const lay = this.layout(fn, dims);
    const { G, R, N } = lay;
    this.fits(fn, "the saved gates and cell states", svSize(mode, N, H, G, P));
    this.checkWeights(fn, dims, lay, w);
    this.expect(fn, "x", x, N * I);
    this.expect(fn, "y", y, N * R);
    this.expect(fn, "hN", hN, B * R);
    if (h0 !== null) this.expect(fn, "h0", h0, B * R);
    if (mode === "LSTM") {
      if (cN === null)
        throw new Error(`${fn}: mode LSTM needs a cN buffer (B·H = ${B * H} floats), got null`);
      this.expect(fn, "cN", cN, B * H);
      if (c0 !== null) this.expect(fn, "c0", c0, B * H);
    } else if (c0 !== null || cN !== null) {
      throw new Error(`${fn}: c0 and cN are for mode LSTM only, got them in mode ${mode}`);
    }
    for (const [name, b] of [
      ["x", x],
      ["h0", h0],
      ["c0", c0],
    ] as const) {
      if (b !== null && b === y) throw new Error(`${fn}: y must not alias ${name}`);
    }

    const ctx = this.ctx;
    const temps: GPUBuffer[] = [];
    const tmp = (floats: number): GPUBuffer => {
      const b = ctx.storage(floats * 4);
      temps.push(b);
      return b;
    };
    const lstm = mode === "LSTM";
    const gru = mode === "GRU";
    const o = packedOffsets(N, B, H, R, G);
    const links = ctx.upload(lay.links);
    const sv = ctx.storage(svSize(mode, N, H, G, P) * 4);
    const st = this.states(h0, c0, null, null, B, R, H, temps);

    // W_hh transposed, so the step kernel's threads (hidden units) read consecutive weights
    const WT = tmp(R * G);
    this.aux("transpose", transposeKernel, { X: w.wHh, out: WT }, [G, R], Math.ceil(R / 8), Math.ceil(G / 8));

    // pre[N, G] = X · W_ihᵀ + b_ih (+ b_hh, except for the GRU, whose b_hn stays inside r·(...))
    const biases = [w.bIh, gru ? null : w.bHh].filter((b): b is GPUBuffer => b !== null);
    this.matmul(false, true, N, G, I, x, 0, I, w.wIh, 0, I, false, sv, 0, G, biases);

    const fwd = this.get(`fwd:${mode}:${P > 0}`, () => forwardStepKernel(mode, P > 0));
    const bufs: Record<string, GPUBuffer> = { links, WT, st, sv, y };
    if (gru) bufs.bHh = w.bHh ?? this.zeros(G, temps);
    for (const { off, bt } of lay.steps) {
      this.step(
        fwd,
        bufs,
        [off, bt, N, B, H, R, G, P, 0, 0, 0, 0],
        Math.ceil(H / 64),
        Math.ceil(bt / STEP_BT),
      );
      // the projection: y[rows] = (o·tanh c)[rows] · W_hrᵀ
      if (P > 0)
        this.matmul(false, true, bt, P, H, sv, o.svHu + off * H, H, w.wHr!, 0, H, false, y, off * P, P, []);
    }

    // hN (cN): each sequence's state after its own last step, or h0 (c0) if it never ran
    this.gatherInto(links, y, 0, st, 0, hN, B, R, 3 * N + B, NONE, temps);
    if (lstm) this.gatherInto(links, sv, o.svC, st, o.stC0, cN!, B, H, 3 * N + B, NONE, temps);

    this.run();
    for (const b of temps) ctx.release(b);
    const saved = new GpuRnnSaved(ctx, dimsKey(dims), links, sv);
    if (train) return saved;
    saved.release();
    return null;
  }

  /**
   * Backpropagation through time for one layer-direction, after forward (train = true) with the same dims,
   * weights and inputs, as rnnBackward in rnn.ts: writes dX, dH0, dC0 (each skipped when null) and
   * ACCUMULATES the parameter gradients into dW.
   */
  backward(
    dims: RnnDims,
    w: GpuRnnWeights,
    dW: GpuRnnWeightGrads, // accumulated (+=)
    x: GPUBuffer, // (N, I)
    dX: GPUBuffer | null, // (N, I) out
    h0: GPUBuffer | null, // (B, R), null = zeros
    dH0: GPUBuffer | null, // (B, R) out
    c0: GPUBuffer | null, // (B, H), LSTM only, null = zeros
    dC0: GPUBuffer | null, // (B, H) out, LSTM only
    y: GPUBuffer, // (N, R) the forward's output, unchanged
    dY: GPUBuffer | null, // (N, R), null = zeros
    dHn: GPUBuffer | null, // (B, R), null = zeros
    dCn: GPUBuffer | null, // (B, H), LSTM only, null = zeros
    saved: GpuRnnSaved,
  ): void {
    const fn = "GpuRecurrent.backward";
    this.plan = [];
    const { mode, B, I, H, P } = dims;
    const lay = this.layout(fn, dims);
    const { G, R, N } = lay;
    this.fits(fn, "the gate gradients", mode === "GRU" ? 2 * N * G + N * H : N * G);
    this.checkWeights(fn, dims, lay, w);
    if (!(saved instanceof GpuRnnSaved) || saved.isReleased) {
      throw new Error(
        `${fn}: expected the unreleased GpuRnnSaved of a forward with train = true, got ${String(saved)}`,
      );
    }
    if (saved.key !== dimsKey(dims)) {
      throw new Error(`${fn}: saved was made for dims ${saved.key}, got ${dimsKey(dims)}`);
    }
    this.expect(fn, "x", x, N * I);
    this.expect(fn, "y", y, N * R);
    if (dX !== null) this.expect(fn, "dX", dX, N * I);
    if (h0 !== null) this.expect(fn, "h0", h0, B * R);
    if (dH0 !== null) this.expect(fn, "dH0", dH0, B * R);
    if (dY !== null) this.expect(fn, "dY", dY, N * R);
    if (dHn !== null) this.expect(fn, "dHn", dHn, B * R);
    const lstm = mode === "LSTM";
    const gru = mode === "GRU";
    if (!lstm && (c0 !== null || dC0 !== null || dCn !== null)) {
      throw new Error(`${fn}: c0, dC0 and dCn are for mode LSTM only, got one in mode ${mode}`);
    }
    if (c0 !== null) this.expect(fn, "c0", c0, B * H);
    if (dC0 !== null) this.expect(fn, "dC0", dC0, B * H);
    if (dCn !== null) this.expect(fn, "dCn", dCn, B * H);
    const grads = [
      ["dWih", dW.dWih, w.wIh, G * I],
      ["dWhh", dW.dWhh, w.wHh, G * R],
      ["dBih", dW.dBih, w.bIh, G],
      ["dBhh", dW.dBhh, w.bHh, G],
      ["dWhr", dW.dWhr, w.wHr, P * H],
    ] as const;
    for (const [name, g, p, n] of grads) {
      if (g === null) continue;
      if (p === null) throw new Error(`${fn}: got ${name} for a parameter that does not exist (null)`);
      this.expect(fn, name, g, n);
    }

    const ctx = this.ctx;
    const temps: GPUBuffer[] = [];
    const tmp = (floats: number): GPUBuffer => {
      const b = ctx.storage(floats * 4);
      temps.push(b);
      return b;
    };
    const o = packedOffsets(N, B, H, R, G);
    const { links, sv } = saved;
    // dG (N, G): gradient w.r.t. the gate pre-activations; the GRU's gg adds the hidden side and d·z
    const dGs = tmp(gru ? 2 * N * G + N * H : N * G);
    const dGhOff = gru ? o.ggDGh : 0;
    const dhAll = P > 0 ? tmp(N * P) : null; // dL/dh of every row (projection)
    const dcAll = lstm ? tmp(N * H) : null; // dL/dc of every row
    const st = this.states(h0, c0, dHn, dCn, B, R, H, temps);
    const flags = dY !== null ? FLAG_DY : 0;
    const dYb = dY ?? st; // bound but not read without FLAG_DY

    const bstep = this.get(`bwd:${mode}:${P > 0}`, () => backwardStepKernel(mode, P > 0));
    const bdh = this.get(`bdh:${mode}`, () => backwardDhKernel(mode));
    const dhBufs: Record<string, GPUBuffer> = { links, Whh: w.wHh, dGs, st, dY: dYb };
    const bufs: Record<string, GPUBuffer> = { links, Whh: w.wHh, dY: dYb, st, dGs, sv, y };
    if (P > 0) Object.assign(bufs, { Whr: w.wHr!, dhAll: dhAll! });
    if (lstm) bufs.dcAll = dcAll!;

    for (let k = lay.steps.length - 1; k >= 0; k--) {
      const { off, bt } = lay.steps[k];
      const u = [off, bt, N, B, H, R, G, P, flags, 0, 0, 0];
      const wy = Math.ceil(bt / STEP_BT);
      if (P > 0) this.step(bdh, { ...dhBufs, out: dhAll! }, u, Math.ceil(R / 64), wy);
      this.step(bstep, bufs, u, Math.ceil(H / 64), wy);
    }

    if (dH0 !== null) {
      // dH0 = dh flowing out of each sequence's first step (dHn where it never ran)
      const out = dH0 === dYb ? tmp(B * R) : dH0;
      const u = [0, B, N, B, H, R, G, P, FLAG_FIRST, 0, 0, 0];
      this.step(bdh, { ...dhBufs, out }, u, Math.ceil(R / 64), Math.ceil(B / STEP_BT));
      if (out !== dH0) this.copy(out, dH0, B * R);
    }
    if (dC0 !== null) {
      const k = this.get("bc0", backwardC0Kernel);
      const u = [0, B, N, B, H, R, G, P, 0, 0, 0, 0];
      this.step(k, { links, dcAll: dcAll!, sv, st, out: dC0 }, u, Math.ceil((B * H) / 64), 1);
    }

    // everything that is a sum over steps, as one product over all N rows
    if (dX !== null) this.matmul(false, false, N, I, G, dGs, 0, G, w.wIh, 0, I, false, dX, 0, I, []); // dX = dG · W_ih
    if (dW.dWih !== null) this.matmul(true, false, G, I, N, dGs, 0, G, x, 0, I, true, dW.dWih, 0, I, []); // += dGᵀ · X
    if (dW.dWhh !== null) {
      const hPrev = tmp(N * R); // h entering each row's step: y at the prev row, or h0 of its sequence
      this.gatherInto(links, y, 0, st, 0, hPrev, N, R, 0, 2 * N, temps);
      this.matmul(true, false, G, R, N, dGs, dGhOff, G, hPrev, 0, R, true, dW.dWhh, 0, R, []); // += dGhᵀ · hPrev
    }
    if (dW.dBih !== null) this.colSum(dGs, 0, N, G, dW.dBih);
    if (dW.dBhh !== null) this.colSum(dGs, dGhOff, N, G, dW.dBhh);
    if (dW.dWhr !== null) {
      this.matmul(true, false, P, H, N, dhAll!, 0, P, sv, o.svHu, H, true, dW.dWhr, 0, H, []); // += dhᵀ · (o·tanh c)
    }
    this.run();
    for (const b of temps) ctx.release(b);
  }

  /**
   * out[i, :] = src[index[i], :] for rows of `cols` floats: a permutation or interleave of rows on the device
   * (batch_first's transposes and the two directions' outputs side by side, in nn/rnn_webgpu.ts).
   */
  gatherRows(src: GPUBuffer, index: Int32Array, cols: number, out: GPUBuffer): void {
    const fn = "GpuRecurrent.gatherRows";
    this.plan = [];
    const srcRows = Math.floor(this.ctx.sizeOf(src) / 4 / Math.max(cols, 1));
    for (const i of index) {
      if (!Number.isInteger(i) || i < 0 || i >= srcRows) {
        throw new Error(`${fn}: row indices should be in [0, ${srcRows}) for this src, got ${i}`);
      }
    }
    this.expect(fn, "out", out, index.length * cols);
    if (index.length === 0 || cols === 0) return;
    const temps: GPUBuffer[] = [];
    const links = this.ctx.upload(index);
    this.gatherInto(links, src, 0, src, 0, out, index.length, cols, 0, NONE, temps);
    this.run();
    this.ctx.release(links);
    for (const b of temps) this.ctx.release(b);
  }

  // -------------------------------------------------------------------------------------------------------

  private get(key: string, make: () => WgslKernel): { k: WgslKernel; p: GPUComputePipeline } {
    let e = this.kernels.get(key);
    if (e === undefined) {
      const k = make();
      e = { k, p: this.ctx.pipeline(k.code, k.entry) };
      this.kernels.set(key, e);
    }
    return e;
  }

  /**
   * Records a dispatch of a kernel with its bindings by name and a uniform of 32-bit words into the call's
   * plan (run() records them on the context).
   */
  private step(
    e: { k: WgslKernel; p: GPUComputePipeline },
    bufs: Record<string, GPUBuffer>,
    uniform: number[],
    x: number,
    y: number,
  ): void {
    if (x === 0 || y === 0) return;
    const list = e.k.bindings.map((name) => {
      const b = bufs[name];
      if (b === undefined)
        throw new Error(`GpuRecurrent: internal error, no buffer for binding ${name} of ${e.k.entry}`);
      return b;
    });
    this.plan.push({ p: e.p, list, words: uniform, x, y });
  }

  /** Records a copy of `floats` floats into the call's plan, in order with its dispatches. */
  private copy(src: GPUBuffer, dst: GPUBuffer, floats: number, srcOff = 0, dstOff = 0): void {
    if (floats > 0) this.plan.push({ src, dst, bytes: floats * 4, srcOff: srcOff * 4, dstOff: dstOff * 4 });
  }

  /**
   * Records the call's plan on the context: every dispatch's uniform goes into one buffer, a slot each
   * (one queue write per call instead of one per dispatch), bound by range.
   */
  private run(): void {
    const ctx = this.ctx;
    const plan = this.plan;
    this.plan = [];
    const align = ctx.device.limits.minUniformBufferOffsetAlignment;
    const slot = Math.max(align, UNIFORM_BYTES) / 4; // words
    let n = 0;
    for (const op of plan) if ("p" in op) n++;
    if (n === 0) {
      for (const op of plan) if (!("p" in op)) ctx.copy(op.src, op.dst, op.bytes, op.srcOff, op.dstOff);
      return;
    }
    const words = new Uint32Array(n * slot);
    let i = 0;
    for (const op of plan) {
      if ("p" in op) {
        if (op.words.length * 4 > UNIFORM_BYTES)
          throw new Error("GpuRecurrent: internal error, uniform too long");
        words.set(op.words, i++ * slot);
      }
    }
    const u = ctx.uniform(words);
    i = 0;
    for (const op of plan) {
      if ("p" in op) {
        ctx.dispatch(
          op.p,
          [...op.list, { buffer: u, offset: i++ * slot * 4, size: UNIFORM_BYTES }],
          op.x,
          op.y,
        );
      } else {
        ctx.copy(op.src, op.dst, op.bytes, op.srcOff, op.dstOff);
      }
    }
    ctx.release(u);
  }

  private aux(
    key: string,
    make: () => WgslKernel,
    bufs: Record<string, GPUBuffer>,
    uniform: number[],
    x: number,
    y: number,
  ): void {
    this.step(this.get(key, make), bufs, uniform, x, y);
  }

  /** C[M, N] = op(A) · op(B) (+ C if accumulate) (+ each bias[N]); offsets in floats. */
  private matmul(
    transA: boolean,
    transB: boolean,
    M: number,
    N: number,
    K: number,
    A: GPUBuffer,
    aOff: number,
    lda: number,
    Bm: GPUBuffer,
    bOff: number,
    ldb: number,
    accumulate: boolean,
    C: GPUBuffer,
    cOff: number,
    ldc: number,
    biases: GPUBuffer[],
  ): void {
    if (M === 0 || N === 0) return;
    const e = this.get(`mm:${transA}:${transB}`, () => matmulKernel(transA, transB));
    const bias = biases[0] ?? A;
    const bias2 = biases[1] ?? bias;
    const u = [M, N, K, lda, ldb, ldc, aOff, bOff, cOff, accumulate ? 1 : 0, biases.length, 0];
    this.step(e, { A, B: Bm, bias, bias2, C }, u, Math.ceil(N / 64), Math.ceil(M / 64));
  }

  private colSum(X: GPUBuffer, xOff: number, rows: number, cols: number, out: GPUBuffer): void {
    this.aux("colsum", colSumKernel, { X, out }, [rows, cols, xOff], Math.ceil(cols / 64), 1);
  }

  /** A zeroed buffer of `floats` floats, released with `temps`. */
  private zeros(floats: number, temps: GPUBuffer[]): GPUBuffer {
    const b = this.ctx.upload(new Float32Array(floats));
    temps.push(b);
    return b;
  }

  /** st = h0 | c0 | dHn | dCn (recurrent-wgsl.ts), zeros where null. */
  private states(
    h0: GPUBuffer | null,
    c0: GPUBuffer | null,
    dHn: GPUBuffer | null,
    dCn: GPUBuffer | null,
    B: number,
    R: number,
    H: number,
    temps: GPUBuffer[],
  ): GPUBuffer {
    const st = this.zeros(2 * B * (R + H), temps);
    const parts = [
      [h0, 0, B * R],
      [c0, B * R, B * H],
      [dHn, B * R + B * H, B * R],
      [dCn, 2 * B * R + B * H, B * H],
    ] as const;
    for (const [src, at, n] of parts) if (src !== null) this.copy(src, st, n, 0, at);
    return st;
  }

  /**
   * out[i] = src[links[a + i]] or fallback[i or links[b + i]], rows of `cols` floats from float srcOff and
   * fbOff; through a temporary when out aliases src.
   */
  private gatherInto(
    links: GPUBuffer,
    src: GPUBuffer,
    srcOff: number,
    fallback: GPUBuffer,
    fbOff: number,
    out: GPUBuffer,
    rows: number,
    cols: number,
    a: number,
    b: number,
    temps: GPUBuffer[],
  ): void {
    let o = out;
    if (out === src || out === fallback) {
      o = this.ctx.storage(rows * cols * 4);
      temps.push(o);
    }
    const u = [rows, cols, a, b, srcOff, fbOff];
    // rows past the dispatch limit are covered by the kernel's grid-stride loop
    this.aux(
      "gather",
      gatherKernel,
      { links, src, fallback, out: o },
      u,
      Math.ceil(cols / 64),
      Math.min(rows, 65535),
    );
    if (o !== out) this.copy(o, out, rows * cols);
  }

  /**
   * Refuses, up front and saying whether the adapter allows more, a buffer past the device's storage
   * binding or buffer size limit.
   */
  private fits(fn: string, what: string, floats: number): void {
    const limits = this.ctx.device.limits;
    for (const [name, max] of [
      ["maxStorageBufferBindingSize", limits.maxStorageBufferBindingSize],
      ["maxBufferSize", limits.maxBufferSize],
    ] as const) {
      if (floats * 4 > max) {
        throw new Error(
          `${fn}: ${what} take ${floats * 4} bytes, over this device's ${name} of ${max}${this.ctx.limitHint(name)}`,
        );
      }
    }
  }

  private expect(fn: string, name: string, buf: GPUBuffer, floats: number): void {
    const have = this.ctx.sizeOf(buf);
    if (have < floats * 4) {
      throw new Error(
        `${fn}: ${name} should hold at least ${floats} floats (${floats * 4} bytes), got ${have} bytes`,
      );
    }
  }

  private checkWeights(fn: string, dims: RnnDims, lay: Layout, w: GpuRnnWeights): void {
    const { I, H, P } = dims;
    const { G, R } = lay;
    this.expect(fn, "wIh", w.wIh, G * I);
    this.expect(fn, "wHh", w.wHh, G * R);
    if (w.bIh !== null) this.expect(fn, "bIh", w.bIh, G);
    if (w.bHh !== null) this.expect(fn, "bHh", w.bHh, G);
    if (P > 0) {
      if (w.wHr === null) throw new Error(`${fn}: P = ${P} needs wHr (P·H = ${P * H} floats), got null`);
      this.expect(fn, "wHr", w.wHr, P * H);
    } else if (w.wHr !== null) {
      throw new Error(`${fn}: wHr is only for P > 0, got it with P = 0`);
    }
  }

  /** Validates the dims and builds the step list and the row links (recurrent-wgsl.ts). */
  private layout(fn: string, dims: RnnDims): Layout {
    const { mode, T, B, I, H, P, batchSizes, reverse } = dims;
    const G = rnnGateCount(mode as RnnMode) * H;
    for (const [name, v] of [
      ["T", T],
      ["B", B],
      ["I", I],
      ["P", P],
    ] as const) {
      if (!Number.isInteger(v) || v < 0) throw new Error(`${fn}: ${name} should be an integer ≥ 0, got ${v}`);
    }
    if (!Number.isInteger(H) || H < 1) throw new Error(`${fn}: H should be an integer ≥ 1, got ${H}`);
    if (P > 0 && mode !== "LSTM")
      throw new Error(`${fn}: a projection (P = ${P}) needs mode LSTM, got ${mode}`);
    const R = P > 0 ? P : H;
    const counts: number[] = [];
    let N = 0;
    if (batchSizes !== null) {
      if (batchSizes.length !== T) {
        throw new Error(`${fn}: batchSizes should have T = ${T} entries, got ${batchSizes.length}`);
      }
      for (let t = 0; t < T; t++) {
        const bt = batchSizes[t];
        if (!Number.isInteger(bt) || bt < 0 || bt > B || (t > 0 && bt > batchSizes[t - 1])) {
          throw new Error(
            `${fn}: batchSizes should be non-increasing and within [0, B = ${B}], got [${batchSizes.join(", ")}]`,
          );
        }
        counts.push(bt);
        N += bt;
      }
    } else {
      for (let t = 0; t < T; t++) counts.push(B);
      N = T * B;
    }
    const starts: number[] = [];
    let o = 0;
    for (const c of counts) {
      starts.push(o);
      o += c;
    }
    // workgroups per dimension: the step kernels take STEP_BT sequences each, the products 64 rows of N or G
    const most = Math.max(Math.ceil(B / STEP_BT), Math.ceil(N / 64), Math.ceil(G / 64), Math.ceil(I / 64));
    const limit = this.ctx.device.limits.maxComputeWorkgroupsPerDimension;
    if (most > limit) {
      throw new Error(
        `${fn}: B = ${B}, N = ${N} rows, G = ${G} or I = ${I} needs ${most} workgroups in one dimension, over this device's ${limit}`,
      );
    }
    const links = new Int32Array(3 * N + 2 * B).fill(-1);
    const steps: { off: number; bt: number }[] = [];
    const last = new Int32Array(B).fill(-1);
    for (let k = 0; k < T; k++) {
      const t = reverse ? T - 1 - k : k;
      const off = starts[t];
      const bt = counts[t];
      if (bt === 0) continue;
      steps.push({ off, bt });
      for (let b = 0; b < bt; b++) {
        const row = off + b;
        const p = last[b];
        links[row] = p; // prev
        if (p >= 0)
          links[N + p] = row; // next of prev
        else links[3 * N + b] = row; // first
        links[2 * N + row] = b; // sequence
        last[b] = row;
      }
    }
    links.set(last, 3 * N + B);
    return { G, R, N, steps, links };
  }
}

/** Floats of sv (recurrent-wgsl.ts). */
function svSize(mode: RnnMode, N: number, H: number, G: number, P: number): number {
  if (mode === "LSTM") return N * G + (P > 0 ? 3 : 2) * N * H;
  return mode === "GRU" ? N * G + N * H : N * G;
}

function dimsKey(d: RnnDims): string {
  const bs = d.batchSizes === null ? "full" : Array.from(d.batchSizes).join(",");
  return `${d.mode} T=${d.T} B=${d.B} I=${d.I} H=${d.H} P=${d.P} reverse=${d.reverse} batchSizes=${bs}`;
}
