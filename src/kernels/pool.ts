// The thread pool: large kernel calls split across threads, synchronous from the caller's view.
//
// A call is cut into parts; the calling thread runs part 0 itself and hands each other part to one worker
// (so 2 threads = the caller + 1 worker). A part's inputs are copied into a SharedArrayBuffer, the worker is
// told by postMessage, runs the same kernel on its own copy of the backend, writes its outputs beside the
// inputs and sets a status word; the caller blocks in Atomics.wait until every worker is done, then copies
// the outputs back. One hand-off per call: nothing is synchronised inside a call.
//
//   gemm:        C rows (M) are split; every part reads all of B.
//   rnnForward:  the batch is split into runs of whole sequences (rows of different sequences never
//   rnnBackward: interact), for packed input too; each part's weight gradients are computed into a zeroed
//                buffer and summed into dW (part 0 accumulates straight into dW). A training forward's
//                saved activations stay where each part's kernel wrote them, in a shared buffer that
//                part's backward reads in place (SplitSaved); the backward cuts the batch the same way.
//
// Environment: this file is browser-safe. A platform seam (setPoolPlatform) creates the workers: Node's is
// src/node/threads.ts; a cross-origin-isolated page's is web-threads.ts (startWebThreads). Without a
// platform, or where the thread may not block (a browser's main thread), every call runs single-threaded.
// The thread count defaults to the platform's core count; setNumThreads(n) or RECURRENT_NUM_THREADS=n
// override it. Small calls always stay on the calling thread: a hand-off costs tens of microseconds.
//
// T = time, B = batch, I = input, H = hidden, P = proj, R = size of h, G = gates·H, N = rows = Σ batchSizes

import { type RnnDims, type RnnMode, type RnnWeightGrads, type RnnWeights, rnnWorkspaceSize } from "./rnn.js";
import type { Kernels } from "./kernels.js";

// ---------------------------------------------------------------------------------------------------------
// The platform seam and the settings

/** A worker as the pool sees it. */
export interface PoolWorker {
  postMessage(message: unknown): void;
  terminate(): void;
}

/** What an environment provides for threads. */
export interface PoolPlatform {
  /** Cores available: the default thread count. */
  cores(): number;
  /** Whether this thread may block in Atomics.wait (false on a browser's main thread). */
  canBlock(): boolean;
  /**
   * Starts a worker that runs servePool. `control` is the worker's status word array: a worker that fails
   * to load should store 3 at index 0 and Atomics.notify it, so the caller does not wait for it in vain.
   */
  createWorker(control: Int32Array): PoolWorker;
}

let platform: PoolPlatform | null = null;
let requested: number | null = null; // setNumThreads
let broken: string | null = null; // why the pool was switched off after a worker failure
let pooledCalls = 0;

/** Installs (or with null removes) the environment's thread platform; running workers are stopped. */
export function setPoolPlatform(p: PoolPlatform | null): void {
  shutdownPool();
  platform = p;
  broken = null;
}

/**
 * Sets the number of threads for large kernel calls (like torch.set_num_threads): 1 = single-threaded.
 * Workers beyond the new count are stopped.
 */
export function setNumThreads(n: number): void {
  if (!Number.isInteger(n) || n < 1) throw new Error(`setNumThreads: expected an integer ≥ 1, got ${n}`);
  requested = n;
  while (workers.length > n - 1) workers.pop()!.handle.terminate();
}

/** RECURRENT_NUM_THREADS is capped at this many threads per core. */
export const MAX_THREADS_PER_CORE = 4;
let warnedCap = false;

/** The thread count: setNumThreads, else RECURRENT_NUM_THREADS (at most 4 per core), else the platform's cores (1 without one). */
export function getNumThreads(): number {
  if (requested !== null) return requested;
  const proc = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process;
  const v = proc?.env?.RECURRENT_NUM_THREADS;
  if (v !== undefined && v !== "") {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) {
      throw new Error(`RECURRENT_NUM_THREADS should be an integer ≥ 1, got ${JSON.stringify(v)}`);
    }
    // more threads than cores only adds hand-offs and memory (a worker costs about 1 MB): cap it
    const cores = platform === null ? 1 : Math.max(1, Math.floor(platform.cores()));
    const cap = MAX_THREADS_PER_CORE * cores;
    if (n > cap) {
      if (!warnedCap) {
        warnedCap = true;
        console.warn(
          `RECURRENT_NUM_THREADS=${n} is more than ${MAX_THREADS_PER_CORE} threads per core; using ${cap} (${cores} core(s))`,
        );
      }
      return cap;
    }
    return n;
  }
  return platform === null ? 1 : Math.max(1, Math.floor(platform.cores()));
}

/** Stops every worker (they are recreated on the next large call). */
export function shutdownPool(): void {
  while (workers.length > 0) workers.pop()!.handle.terminate();
}

/** Counters for tests and benchmarks: live workers, and calls that were split across threads. */
export function poolStats(): { workers: number; pooledCalls: number; disabled: string | null } {
  return { workers: workers.length, pooledCalls, disabled: broken };
}

/** Work (multiply-adds) from which a call is split: below it the hand-off costs more than it saves. */
export const POOL_MIN_WORK = 1 << 22;

function threadsAvailable(): number {
  if (platform === null || broken !== null || !platform.canBlock()) return 1;
  return getNumThreads();
}

// ---------------------------------------------------------------------------------------------------------
// Workers, shared buffers and the hand-off

const ST_IDLE = 0;
const ST_DONE = 1;
const ST_ERROR = 2;
const ST_DEAD = 3; // the worker failed to load
const WAIT_MS = 120_000; // a worker silent this long is given up on (its part then runs here)

interface Slot {
  handle: PoolWorker;
  control: Int32Array; // [status, error length, error text as char codes …]
  sab: SharedArrayBuffer;
  f32: Float32Array;
}

const workers: Slot[] = [];

function worker(i: number, floats: number): Slot {
  while (workers.length <= i) {
    const control = new Int32Array(new SharedArrayBuffer(4 * 258));
    const sab = new SharedArrayBuffer(0);
    workers.push({ handle: platform!.createWorker(control), control, sab, f32: new Float32Array(sab) });
  }
  const s = workers[i];
  if (s.f32.length < floats) {
    s.sab = new SharedArrayBuffer(4 * Math.max(floats, Math.ceil(s.f32.length * 1.5)));
    s.f32 = new Float32Array(s.sab);
  }
  return s;
}

let local = new Float32Array(0); // part 0's packed buffers
function localArena(floats: number): Float32Array {
  if (local.length < floats) local = new Float32Array(Math.max(floats, Math.ceil(local.length * 1.5)));
  return local;
}

/** A job as sent to a worker; `seg` maps a buffer name to [offset, length] in the shared floats, or null. */
interface Job {
  op: "gemm" | "rnnForward" | "rnnBackward";
  backend: Kernels["name"];
  sab: SharedArrayBuffer;
  control: Int32Array;
  seg: Record<string, [number, number] | null>;
  /** a SplitSaved's shared buffer and this part's [offset, length] in it, read and written in place */
  savedSab?: SharedArrayBuffer;
  savedSeg?: [number, number];
  gemm?: { transA: boolean; transB: boolean; M: number; N: number; K: number; beta: number };
  dims?: Omit<RnnDims, "batchSizes"> & { batchSizes: number[] | null };
}

function post(s: Slot, job: Omit<Job, "sab" | "control">): void {
  Atomics.store(s.control, 0, ST_IDLE);
  s.handle.postMessage({ ...job, sab: s.sab, control: s.control });
}

/** Blocks until the worker is done; false (and the pool switched off) when it failed. */
function wait(s: Slot): boolean {
  const r = Atomics.wait(s.control, 0, ST_IDLE, WAIT_MS);
  const st = Atomics.load(s.control, 0);
  if (st === ST_DONE) return true;
  if (st === ST_ERROR) {
    const n = s.control[1];
    let text = "";
    for (let i = 0; i < n; i++) text += String.fromCharCode(s.control[2 + i]);
    throw new Error(`thread pool worker: ${text}`);
  }
  broken = st === ST_DEAD ? "a worker failed to load" : `a worker did not answer (${r})`;
  return false;
}

/** Segment layout builder: 4-float aligned offsets. */
class Layout {
  size = 0;
  seg: Record<string, [number, number] | null> = {};
  add(name: string, len: number | null): this {
    if (len === null) this.seg[name] = null;
    else {
      this.seg[name] = [this.size, len];
      this.size += (len + 3) & ~3;
    }
    return this;
  }
}

function view(f32: Float32Array, seg: [number, number] | null | undefined): Float32Array | null {
  return seg == null ? null : f32.subarray(seg[0], seg[0] + seg[1]);
}
function put(f32: Float32Array, seg: [number, number] | null | undefined, src: Float32Array | null): void {
  if (seg != null && src !== null) f32.set(src.subarray(0, seg[1]), seg[0]);
}

// ---------------------------------------------------------------------------------------------------------
// The worker side

/**
 * Runs the worker's loop: `listen` registers the message handler (Node: parentPort.on("message", h); a Web
 * Worker: self.onmessage = (e) => h(e.data)), `kernels` gives the raw kernels of a backend by name.
 */
export function servePool(
  listen: (handler: (job: unknown) => void) => void,
  kernels: (name: Kernels["name"]) => Kernels,
): void {
  listen((message) => {
    const job = message as Job;
    try {
      runJob(kernels(job.backend), job, new Float32Array(job.sab), null);
      Atomics.store(job.control, 0, ST_DONE);
    } catch (e) {
      const text = String(e instanceof Error ? e.message : e).slice(0, 256);
      job.control[1] = text.length;
      for (let i = 0; i < text.length; i++) job.control[2 + i] = text.charCodeAt(i);
      Atomics.store(job.control, 0, ST_ERROR);
    }
    Atomics.notify(job.control, 0);
  });
}

/** Runs one part on packed buffers; `dW0` (part 0 only) replaces the packed weight gradients. */
function runJob(
  k: Kernels,
  job: Omit<Job, "sab" | "control">,
  f: Float32Array,
  dW0: RnnWeightGrads | null,
): void {
  const s = job.seg;
  const ss = job.savedSab;
  const v = (name: string) =>
    name === "saved" && ss !== undefined
      ? new Float32Array(ss, 4 * job.savedSeg![0], job.savedSeg![1])
      : view(f, s[name]);
  if (job.op === "gemm") {
    const g = job.gemm!;
    const [aOff] = s.A!;
    const [bOff] = s.B!;
    const [cOff] = s.C!;
    const lda = g.transA ? g.M : g.K;
    const ldb = g.transB ? g.K : g.N;
    k.gemm(g.transA, g.transB, g.M, g.N, g.K, f, aOff, lda, f, bOff, ldb, g.beta, f, cOff, g.N);
    return;
  }
  const d = job.dims!;
  const dims: RnnDims = { ...d, batchSizes: d.batchSizes === null ? null : Int32Array.from(d.batchSizes) };
  const w: RnnWeights = { wIh: v("wIh")!, wHh: v("wHh")!, bIh: v("bIh"), bHh: v("bHh"), wHr: v("wHr") };
  if (job.op === "rnnForward") {
    k.rnnForward(dims, w, v("x")!, v("h0"), v("c0"), v("y")!, v("hN")!, v("cN"), v("saved"), v("scratch")!);
    return;
  }
  const dW = dW0 ?? { dWih: v("dWih"), dWhh: v("dWhh"), dBih: v("dBih"), dBhh: v("dBhh"), dWhr: v("dWhr") };
  k.rnnBackward(
    dims,
    w,
    dW,
    v("x")!,
    v("dX"),
    v("h0"),
    v("dH0"),
    v("c0"),
    v("dC0"),
    v("y")!,
    v("dY"),
    v("dHn"),
    v("dCn"),
    v("saved"),
    v("scratch")!,
  );
}

// ---------------------------------------------------------------------------------------------------------
// gemm: C rows split

/**
 * Runs a large gemm across threads and returns true, or returns false (doing nothing) when the call should
 * stay single-threaded. Same contract as gemm.ts.
 */
export function poolGemm(
  k: Kernels,
  transA: boolean,
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
): boolean {
  if (M * N * K < POOL_MIN_WORK || M < 32) return false;
  const n = Math.min(threadsAvailable(), M >> 4);
  if (n < 2) return false;
  // bounds: anything out of range stays on the single-threaded path, which reports it
  const aRows = transA ? K : M;
  const aCols = transA ? M : K;
  const bRows = transB ? N : K;
  const bCols = transB ? K : N;
  const inside = (a: Float32Array, off: number, rows: number, cols: number, ld: number) =>
    Number.isInteger(off) && off >= 0 && ld >= cols && off + (rows - 1) * ld + cols <= a.length;
  if (
    !inside(A, aOff, aRows, aCols, lda) ||
    !inside(B, bOff, bRows, bCols, ldb) ||
    !inside(C, cOff, M, N, ldc)
  ) {
    return false;
  }
  const bounds = Array.from({ length: n + 1 }, (_, p) => Math.round((M * p) / n));
  const slots: Slot[] = [];
  const jobs: Omit<Job, "sab" | "control">[] = [];
  for (let p = 1; p < n; p++) {
    const m0 = bounds[p];
    const mp = bounds[p + 1] - m0;
    const lay = new Layout()
      .add("A", mp * K)
      .add("B", K * N)
      .add("C", mp * N);
    const s = worker(p - 1, lay.size);
    const f = s.f32;
    // A part, dense: rows m0.. of A, or columns m0.. of Aᵀ's storage
    const [pa] = lay.seg.A!;
    for (let r = 0; r < (transA ? K : mp); r++) {
      const src = transA ? aOff + r * lda + m0 : aOff + (m0 + r) * lda;
      f.set(A.subarray(src, src + (transA ? mp : K)), pa + r * (transA ? mp : K));
    }
    const [pb] = lay.seg.B!;
    for (let r = 0; r < bRows; r++) f.set(B.subarray(bOff + r * ldb, bOff + r * ldb + bCols), pb + r * bCols);
    const [pc] = lay.seg.C!;
    if (beta !== 0) {
      for (let r = 0; r < mp; r++)
        f.set(C.subarray(cOff + (m0 + r) * ldc, cOff + (m0 + r) * ldc + N), pc + r * N);
    }
    const job = {
      op: "gemm" as const,
      backend: k.name,
      seg: lay.seg,
      gemm: { transA, transB, M: mp, N, K, beta },
    };
    post(s, job);
    slots.push(s);
    jobs.push(job);
  }
  pooledCalls++;
  // part 0 here, in place
  k.gemm(transA, transB, bounds[1], N, K, A, aOff, lda, B, bOff, ldb, beta, C, cOff, ldc);
  for (let p = 1; p < n; p++) {
    const s = slots[p - 1];
    if (!wait(s)) runJob(k, jobs[p - 1], s.f32, null);
    const m0 = bounds[p];
    const mp = bounds[p + 1] - m0;
    const [pc] = jobs[p - 1].seg.C!;
    for (let r = 0; r < mp; r++) C.set(s.f32.subarray(pc + r * N, pc + (r + 1) * N), cOff + (m0 + r) * ldc);
  }
  return true;
}

// ---------------------------------------------------------------------------------------------------------
// Recurrent kernels: the batch split into runs of whole sequences

/** One part: sequences [b0, b1), their steps and where their rows sit in the full packed layout. */
interface RnnPart {
  b0: number;
  b1: number;
  T: number; // steps with at least one of these sequences
  bs: number[] | null; // (T) rows per step, null = b1 - b0 at every step (full batch)
  N: number; // rows
  src: number[]; // (T) first full-layout row of the part at each step
  cnt: number[]; // (T) rows at each step
}

function splitBatch(dims: RnnDims, n: number): RnnPart[] {
  const { T, B, batchSizes } = dims;
  // rows of each sequence, to balance the parts' work
  const len = new Array<number>(B).fill(T);
  if (batchSizes !== null) {
    len.fill(0);
    for (let t = 0; t < T; t++) for (let b = 0; b < batchSizes[t]; b++) len[b]++;
  }
  const total = len.reduce((a, b) => a + b, 0);
  const cuts = [0];
  let acc = 0;
  for (let b = 0; b < B && cuts.length < n; b++) {
    acc += len[b];
    if (acc >= (total * cuts.length) / n && b + 1 < B) cuts.push(b + 1);
  }
  cuts.push(B);
  const starts: number[] = [];
  let off = 0;
  for (let t = 0; t < T; t++) {
    starts.push(off);
    off += batchSizes === null ? B : batchSizes[t];
  }
  const parts: RnnPart[] = [];
  for (let p = 0; p + 1 < cuts.length; p++) {
    const b0 = cuts[p];
    const b1 = cuts[p + 1];
    if (b1 <= b0) continue;
    const src: number[] = [];
    const cnt: number[] = [];
    for (let t = 0; t < T; t++) {
      const bt = batchSizes === null ? B : batchSizes[t];
      const c = Math.min(bt, b1) - b0;
      if (c <= 0) break; // non-increasing: no later step has these sequences
      src.push(starts[t] + b0);
      cnt.push(c);
    }
    const N = cnt.reduce((a, b) => a + b, 0);
    parts.push({ b0, b1, T: cnt.length, bs: batchSizes === null ? null : cnt, N, src, cnt });
  }
  return parts;
}

/** Copies the part's rows of a (Nfull, cols) row-major buffer into dense (part.N, cols) at dst[d]. */
function gather(
  part: RnnPart,
  src: Float32Array,
  srcBase: number,
  cols: number,
  dst: Float32Array,
  d: number,
): void {
  for (let t = 0; t < part.T; t++) {
    const s = srcBase + part.src[t] * cols;
    const n = part.cnt[t] * cols;
    dst.set(src.subarray(s, s + n), d);
    d += n;
  }
}

/** The inverse of gather. */
function scatter(
  part: RnnPart,
  src: Float32Array,
  d: number,
  dst: Float32Array,
  dstBase: number,
  cols: number,
): void {
  for (let t = 0; t < part.T; t++) {
    const s = dstBase + part.src[t] * cols;
    const n = part.cnt[t] * cols;
    dst.set(src.subarray(d, d + n), s);
    d += n;
  }
}

/** Column widths of the sections of `saved` (each section is (N, width) rows, see rnn.ts). */
function savedSections(mode: RnnMode, H: number): number[] {
  return mode === "LSTM" ? [4 * H, H, H] : mode === "GRU" ? [3 * H, H] : [];
}

const GATES: Record<RnnMode, number> = { RNN_TANH: 1, RNN_RELU: 1, LSTM: 4, GRU: 3 };

/** Rows N of a call, or -1 when the dims are not plainly valid (then the kernel reports the error). */
function rowsOf(dims: RnnDims): number {
  const { T, B, batchSizes } = dims;
  if (!Number.isInteger(T) || !Number.isInteger(B) || T < 1 || B < 2 || GATES[dims.mode] === undefined)
    return -1;
  if (batchSizes === null) return T * B;
  if (batchSizes.length !== T || batchSizes[0] !== B) return -1;
  let N = 0;
  for (let t = 0; t < T; t++) {
    if (batchSizes[t] < 0 || (t > 0 && batchSizes[t] > batchSizes[t - 1])) return -1;
    N += batchSizes[t];
  }
  return N;
}

/**
 * Fewest sequences in each part of a recurrent call split in more than two. Measured on one thread (an
 * LSTM layer, T 50, forward + backward, cost per sequence against B 32): at H 128 flat from 4 sequences
 * up and 1.5–1.6× at 1–2; at H 512, 2.3–2.7× at 1–2 and 1.2–1.4× at 4–8. On the 16-core Xeon of issue
 * #13, W2 (B 32) took 51 ms on 8 threads (parts of 4) and 67 ms on 16 (parts of 2). A split in two is
 * always allowed: half the rows each, even at 1.6× the cost per row, still gains.
 */
export const MIN_SEQS_PER_PART = 4;

/** How many parts for this call (1 = stay single-threaded). */
function rnnThreads(dims: RnnDims, N: number): number {
  if (N < 0) return 1;
  const { I, H, P } = dims;
  const R = P > 0 ? P : H;
  if (N * GATES[dims.mode] * H * (I + R) < POOL_MIN_WORK) return 1;
  return Math.min(threadsAvailable(), dims.B, Math.max(2, Math.floor(dims.B / MIN_SEQS_PER_PART)));
}

/** How many threads poolRnnForward / poolRnnBackward would split a call of these dims across (1: none). */
export function poolRnnParts(dims: RnnDims): number {
  const n = rnnThreads(dims, rowsOf(dims));
  return n >= 2 ? splitBatch(dims, n).length : 1;
}

/** Whether poolRnnForward / poolRnnBackward would split a call of these dims across threads. */
export function poolSplitsRnn(dims: RnnDims): boolean {
  return poolRnnParts(dims) >= 2;
}

function partDims(dims: RnnDims, part: RnnPart): Job["dims"] {
  return { ...dims, T: part.T, B: part.b1 - part.b0, batchSizes: part.bs };
}

function weightLayout(lay: Layout, w: RnnWeights, prefix: "" | "d"): void {
  const names =
    prefix === "" ? ["wIh", "wHh", "bIh", "bHh", "wHr"] : ["dWih", "dWhh", "dBih", "dBhh", "dWhr"];
  const arrs = [w.wIh, w.wHh, w.bIh, w.bHh, w.wHr];
  for (let i = 0; i < 5; i++) lay.add(names[i], arrs[i] === null ? null : arrs[i]!.length);
}

/** Rows-type buffers of a part: name, full-layout buffer, columns. */
type RowBuf = [string, Float32Array | null, number];
/** Sequence-type buffers (B, cols): rows b0..b1 are contiguous. */
type SeqBuf = [string, Float32Array | null, number];

function layoutPart(
  dims: RnnDims,
  part: RnnPart,
  w: RnnWeights,
  rows: RowBuf[],
  seqs: SeqBuf[],
  saved: Float32Array | null,
  gradW: RnnWeightGrads | null,
): Layout {
  const lay = new Layout();
  weightLayout(lay, w, "");
  if (gradW !== null) {
    weightLayout(
      lay,
      {
        wIh: gradW.dWih ?? (null as unknown as Float32Array),
        wHh: gradW.dWhh ?? (null as unknown as Float32Array),
        bIh: gradW.dBih,
        bHh: gradW.dBhh,
        wHr: gradW.dWhr,
      },
      "d",
    );
  }
  for (const [name, buf, cols] of rows) lay.add(name, buf === null ? null : part.N * cols);
  const Bp = part.b1 - part.b0;
  for (const [name, buf, cols] of seqs) lay.add(name, buf === null ? null : Bp * cols);
  const sec = savedSections(dims.mode, dims.H);
  // a SplitSaved's part is read and written where it lies (saved is null here then)
  lay.add("saved", saved === null || sec.length === 0 ? null : part.N * sec.reduce((a, b) => a + b, 0));
  lay.add("scratch", rnnWorkspaceSize(dims.mode, part.T, Bp, dims.H, dims.P).scratch);
  return lay;
}

function packPart(
  f: Float32Array,
  lay: Layout,
  dims: RnnDims,
  part: RnnPart,
  Nfull: number,
  w: RnnWeights,
  rows: RowBuf[],
  seqs: SeqBuf[],
  saved: Float32Array | null,
  inputs: Set<string>,
): void {
  const s = lay.seg;
  put(f, s.wIh, w.wIh);
  put(f, s.wHh, w.wHh);
  put(f, s.bIh, w.bIh);
  put(f, s.bHh, w.bHh);
  put(f, s.wHr, w.wHr);
  for (const [name, buf, cols] of rows)
    if (buf !== null && inputs.has(name)) gather(part, buf, 0, cols, f, s[name]![0]);
  for (const [name, buf, cols] of seqs) {
    if (buf !== null && inputs.has(name)) f.set(buf.subarray(part.b0 * cols, part.b1 * cols), s[name]![0]);
  }
  if (inputs.has("saved") && s.saved != null && saved !== null) {
    let base = 0;
    let d = s.saved[0];
    for (const c of savedSections(dims.mode, dims.H)) {
      gather(part, saved, base, c, f, d);
      base += Nfull * c;
      d += part.N * c;
    }
  }
}

function unpackPart(
  f: Float32Array,
  lay: Layout,
  dims: RnnDims,
  part: RnnPart,
  Nfull: number,
  rows: RowBuf[],
  seqs: SeqBuf[],
  saved: Float32Array | null,
  outputs: Set<string>,
): void {
  const s = lay.seg;
  for (const [name, buf, cols] of rows)
    if (buf !== null && outputs.has(name)) scatter(part, f, s[name]![0], buf, 0, cols);
  for (const [name, buf, cols] of seqs) {
    if (buf !== null && outputs.has(name))
      buf.set(f.subarray(s[name]![0], s[name]![0] + (part.b1 - part.b0) * cols), part.b0 * cols);
  }
  if (outputs.has("saved") && s.saved != null && saved !== null) {
    let base = 0;
    let d = s.saved[0];
    for (const c of savedSections(dims.mode, dims.H)) {
      scatter(part, f, d, saved, base, c);
      base += Nfull * c;
      d += part.N * c;
    }
  }
}

/**
 * dst[0, n) += src[off, off + n): a worker's partial weight gradients. Its own small function so that V8
 * optimizes it after a few calls; as a loop inside runParts, which runs a few times a step and stays in
 * the baseline tiers, the sums of W2's 200K floats a step took 1-2 ms, more than all the copies.
 */
function addFrom(dst: Float32Array, src: Float32Array, off: number, n: number): void {
  for (let i = 0; i < n; i++) dst[i] += src[off + i];
}

/**
 * Runs the parts: workers get parts 1.., this thread part 0; then every part's outputs are unpacked. With
 * `here`, this thread runs every part in turn (a SplitSaved's call when the pool cannot split it as its
 * forward did). With `split`, each part reads and writes its saved activations in place.
 */
function runParts(
  k: Kernels,
  op: "rnnForward" | "rnnBackward",
  dims: RnnDims,
  parts: RnnPart[],
  Nfull: number,
  w: RnnWeights,
  rows: RowBuf[],
  seqs: SeqBuf[],
  saved: Float32Array | null,
  dW: RnnWeightGrads | null,
  inputs: Set<string>,
  outputs: Set<string>,
  split: SplitSaved | null = null,
  here = false,
): void {
  const lays = parts.map((part) => layoutPart(dims, part, w, rows, seqs, saved, dW));
  const jobOf = (p: number): Omit<Job, "sab" | "control"> => ({
    op,
    backend: k.name,
    seg: lays[p].seg,
    dims: partDims(dims, parts[p]),
    ...(split === null ? {} : { savedSab: split.sab, savedSeg: split.seg(p) }),
  });
  const addPartials = (p: number, f: Float32Array) => {
    if (dW === null) return;
    const g = lays[p].seg;
    const pairs: [Float32Array | null, [number, number] | null | undefined][] = [
      [dW.dWih, g.dWih],
      [dW.dWhh, g.dWhh],
      [dW.dBih, g.dBih],
      [dW.dBhh, g.dBhh],
      [dW.dWhr, g.dWhr],
    ];
    for (const [dst, seg] of pairs) if (dst !== null && seg != null) addFrom(dst, f, seg[0], seg[1]);
  };
  const zeroPartials = (p: number, f: Float32Array) => {
    for (const name of ["dWih", "dWhh", "dBih", "dBhh", "dWhr"]) {
      const seg = lays[p].seg[name];
      if (seg != null) f.fill(0, seg[0], seg[0] + seg[1]); // partial weight gradients start at zero
    }
  };
  if (here) {
    for (let p = 0; p < parts.length; p++) {
      const f = localArena(lays[p].size);
      packPart(f, lays[p], dims, parts[p], Nfull, w, rows, seqs, saved, inputs);
      runJob(k, jobOf(p), f, dW); // dW accumulates every part's gradients in turn
      unpackPart(f, lays[p], dims, parts[p], Nfull, rows, seqs, saved, outputs);
    }
    return;
  }
  const slots: Slot[] = [];
  const jobs: Omit<Job, "sab" | "control">[] = [];
  for (let p = 1; p < parts.length; p++) {
    const s = worker(p - 1, lays[p].size);
    zeroPartials(p, s.f32);
    packPart(s.f32, lays[p], dims, parts[p], Nfull, w, rows, seqs, saved, inputs);
    const job = jobOf(p);
    post(s, job);
    slots.push(s);
    jobs.push(job);
  }
  pooledCalls++;
  const f0 = localArena(lays[0].size);
  packPart(f0, lays[0], dims, parts[0], Nfull, w, rows, seqs, saved, inputs);
  runJob(k, jobOf(0), f0, dW);
  unpackPart(f0, lays[0], dims, parts[0], Nfull, rows, seqs, saved, outputs);
  for (let p = 1; p < parts.length; p++) {
    const s = slots[p - 1];
    if (!wait(s)) runJob(k, jobs[p - 1], s.f32, null);
    unpackPart(s.f32, lays[p], dims, parts[p], Nfull, rows, seqs, saved, outputs);
    addPartials(p, s.f32);
  }
}

// ---------------------------------------------------------------------------------------------------------
// Saved activations of a split call, left where each part's kernel wrote them

const splitPool: SharedArrayBuffer[] = [];
const SPLIT_POOL_MAX = 8;
let splitLive = 0; // bytes handed out and not given back
let splitPeak = 0;

function takeShared(bytes: number): SharedArrayBuffer {
  splitLive += bytes;
  splitPeak = Math.max(splitPeak, splitLive);
  for (let i = splitPool.length - 1; i >= 0; i--)
    if (splitPool[i].byteLength === bytes) return splitPool.splice(i, 1)[0];
  return new SharedArrayBuffer(bytes);
}

/** Back to the pool, kept up to the most ever live at once (as rnn_fused.ts keeps its saved buffers). */
function giveShared(b: SharedArrayBuffer): void {
  splitLive = Math.max(0, splitLive - b.byteLength);
  const max = Math.max(64 << 20, splitPeak);
  if (b.byteLength > max) return;
  splitPool.push(b);
  let total = 0;
  for (const x of splitPool) total += x.byteLength;
  while (splitPool.length > SPLIT_POOL_MAX || total > max) total -= splitPool.shift()!.byteLength;
}

/**
 * The saved activations of a training forward split across threads, as each part's kernel wrote them:
 * part p's sections ((N_p, width) rows each) one after another in a shared buffer, which part p's thread
 * reads again in its backward, so they are never gathered into the full layout and scattered back (at 2
 * threads that was a third of W2's copies). The backward must cut the batch as the forward did; where the
 * pool cannot, this thread runs the same parts in turn (poolRnnBackward), so the layout never reaches a
 * kernel that expects another. `read()` gives the full layout an unsplit call writes.
 */
export class SplitSaved {
  /** @internal */
  constructor(
    readonly dims: RnnDims,
    /** @internal */ readonly parts: RnnPart[],
    /** @internal */ public sab: SharedArrayBuffer,
    /** floats asked for; the parts use the first Σ rows × widths (fewer for packed sequences) */
    readonly length: number,
  ) {}
  /** @internal part p's [offset, length] in floats */
  seg(p: number): [number, number] {
    const width = savedSections(this.dims.mode, this.dims.H).reduce((a, b) => a + b, 0);
    let off = 0;
    for (let q = 0; q < p; q++) off += this.parts[q].N * width;
    return [off, this.parts[p].N * width];
  }
  /** The floats in the layout of an unsplit call's `saved`. */
  read(): Float32Array {
    const out = new Float32Array(this.length);
    const Nfull = rowsOf(this.dims);
    const f = new Float32Array(this.sab);
    for (let p = 0; p < this.parts.length; p++) {
      let base = 0;
      let d = this.seg(p)[0];
      for (const c of savedSections(this.dims.mode, this.dims.H)) {
        scatter(this.parts[p], f, d, out, base, c);
        base += Nfull * c;
        d += this.parts[p].N * c;
      }
    }
    return out;
  }
  release(): void {
    if (this.sab.byteLength === 0) return;
    giveShared(this.sab);
    this.sab = new SharedArrayBuffer(0);
  }
}

/**
 * A SplitSaved of n floats for a training forward of these dims where the pool splits it (LSTM and GRU,
 * which save activations), else null: then pass a Float32Array.
 */
export function reserveSplitSaved(dims: RnnDims, n: number): SplitSaved | null {
  const Nfull = rowsOf(dims);
  const threads = rnnThreads(dims, Nfull);
  const sec = savedSections(dims.mode, dims.H);
  if (threads < 2 || sec.length === 0 || typeof SharedArrayBuffer === "undefined") return null;
  const used = Nfull * sec.reduce((a, b) => a + b, 0);
  if (n < used) return null;
  const parts = splitBatch(dims, threads);
  if (parts.length < 2) return null;
  return new SplitSaved(dims, parts, takeShared(4 * used), n);
}

/** Whether the pool would cut these dims into the same parts now. */
function sameParts(a: RnnPart[], b: RnnPart[]): boolean {
  return a.length === b.length && a.every((p, i) => p.b0 === b[i].b0 && p.b1 === b[i].b1);
}

/** rnnForward across threads (true), or false to run it single-threaded. Contract: rnn.ts. */
export function poolRnnForward(
  k: Kernels,
  dims: RnnDims,
  w: RnnWeights,
  x: Float32Array, // (N, I)
  h0: Float32Array | null, // (B, R)
  c0: Float32Array | null, // (B, H)
  y: Float32Array, // (N, R) out
  hN: Float32Array, // (B, R) out
  cN: Float32Array | null, // (B, H) out
  saved: Float32Array | SplitSaved | null, // out
): boolean {
  const Nfull = rowsOf(dims);
  const n = rnnThreads(dims, Nfull);
  const split = saved instanceof SplitSaved ? saved : null;
  if (split === null && n < 2) return false;
  const { I, H, P, mode } = dims;
  const R = P > 0 ? P : H;
  const savedLen = savedSections(mode, H).reduce((a, b) => a + b, 0) * Nfull;
  if (
    x.length !== Nfull * I ||
    y.length !== Nfull * R ||
    hN.length !== dims.B * R ||
    (h0 !== null && h0.length !== dims.B * R) ||
    (mode === "LSTM" ? cN === null || cN.length !== dims.B * H : cN !== null || c0 !== null) ||
    (c0 !== null && c0.length !== dims.B * H) ||
    (saved !== null && saved.length < savedLen) ||
    (split !== null && (split.length < savedLen || split.sab.byteLength !== 4 * savedLen))
  ) {
    if (split !== null)
      throw new Error("rnnForward: the arguments do not fit the dims its SplitSaved was reserved for");
    return false;
  }
  // a SplitSaved is written where its parts lie: the reserved parts, here if the pool cuts otherwise now
  const parts = split !== null ? split.parts : splitBatch(dims, n);
  const here = split !== null && (n < 2 || !sameParts(splitBatch(dims, n), split.parts));
  if (parts.length < 2) return false;
  const rows: RowBuf[] = [
    ["x", x, I],
    ["y", y, R],
  ];
  const seqs: SeqBuf[] = [
    ["h0", h0, R],
    ["c0", c0, H],
    ["hN", hN, R],
    ["cN", cN, H],
  ];
  runParts(
    k,
    "rnnForward",
    dims,
    parts,
    Nfull,
    w,
    rows,
    seqs,
    split !== null ? null : (saved as Float32Array | null),
    null,
    new Set(["x", "h0", "c0"]),
    new Set(["y", "hN", "cN", "saved"]),
    split,
    here,
  );
  return true;
}

/** rnnBackward across threads (true), or false to run it single-threaded. Contract: rnn.ts. */
export function poolRnnBackward(
  k: Kernels,
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
  saved: Float32Array | SplitSaved | null,
): boolean {
  const Nfull = rowsOf(dims);
  const n = rnnThreads(dims, Nfull);
  const split = saved instanceof SplitSaved ? saved : null;
  if (split === null && n < 2) return false;
  const { I, H, P, mode, B } = dims;
  const R = P > 0 ? P : H;
  const isRnn = mode === "RNN_TANH" || mode === "RNN_RELU";
  const savedLen = savedSections(mode, H).reduce((a, b) => a + b, 0) * Nfull;
  const len = (a: Float32Array | null, n: number) => a === null || a.length === n;
  const grad = (g: Float32Array | null, p: Float32Array | null) =>
    g === null || (p !== null && g.length === p.length);
  if (
    x.length !== Nfull * I ||
    y.length !== Nfull * R ||
    !len(dX, Nfull * I) ||
    !len(dY, Nfull * R) ||
    !len(h0, B * R) ||
    !len(dH0, B * R) ||
    !len(dHn, B * R) ||
    (mode !== "LSTM" && (c0 !== null || dC0 !== null || dCn !== null)) ||
    !len(c0, B * H) ||
    !len(dC0, B * H) ||
    !len(dCn, B * H) ||
    (!isRnn && (saved === null || saved.length < savedLen)) ||
    (split !== null && (split.length < savedLen || split.sab.byteLength !== 4 * savedLen)) ||
    !grad(dW.dWih, w.wIh) ||
    !grad(dW.dWhh, w.wHh) ||
    !grad(dW.dBih, w.bIh) ||
    !grad(dW.dBhh, w.bHh) ||
    !grad(dW.dWhr, w.wHr)
  ) {
    if (split !== null)
      throw new Error(
        `rnnBackward: the arguments do not fit the dims of the forward whose SplitSaved this is${split.sab.byteLength === 0 ? " (its buffer was released)" : ""}`,
      );
    return false;
  }
  // a SplitSaved is read where its forward's parts wrote it: the same parts, here if the pool cuts otherwise now
  const parts = split !== null ? split.parts : splitBatch(dims, n);
  const here = split !== null && (n < 2 || !sameParts(splitBatch(dims, n), split.parts));
  if (parts.length < 2) return false;
  const rows: RowBuf[] = [
    ["x", x, I],
    ["dX", dX, I],
    ["y", y, R],
    ["dY", dY, R],
  ];
  const seqs: SeqBuf[] = [
    ["h0", h0, R],
    ["dH0", dH0, R],
    ["c0", c0, H],
    ["dC0", dC0, H],
    ["dHn", dHn, R],
    ["dCn", dCn, H],
  ];
  runParts(
    k,
    "rnnBackward",
    dims,
    parts,
    Nfull,
    w,
    rows,
    seqs,
    isRnn || split !== null ? null : (saved as Float32Array),
    dW,
    new Set(["x", "h0", "c0", "y", "dY", "dHn", "dCn", "saved"]),
    new Set(["dX", "dH0", "dC0"]),
    split,
    here,
  );
  return true;
}
