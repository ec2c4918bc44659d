// WGSL kernels of the indexing ops on the device (gather, scatter, scatterAdd, indexSelect, maskedFill),
// all / any, the integer cumsum and the orderings (sort, argsort, topk). Pure kernels over contiguous
// buffers of 32-bit words: float32 values, int64 as i32 and bool as u32 0 / 1 (core/device.ts's
// IndexStorage). The moves (gather, scatter, where) copy the words as they are, so they serve every dtype.
// Each returns a fresh output buffer (the caller releases it); tensors and autograd live in
// core/device-index.ts.
//
// Shapes of up to MAX_DIMS dimensions travel in a small storage buffer of u32 words (`meta`). The kernels
// that read device indices (gather, scatter and their uses) flag an index out of range in the context's
// index check (context.ts's indexCheck()), which the next read back reports.

import { INDEX_CHECK_OPS, type IndexCheckOp, type WebGPUContext } from "./context.js";

const WG = 256;
const MAX_GROUPS = 65535;
/** dimensions of the shapes of these kernels */
export const MAX_INDEX_DIMS = 8;
const D = MAX_INDEX_DIMS;

function grid(n: number): [number, number] {
  const groups = Math.max(1, Math.ceil(n / WG));
  const y = Math.ceil(groups / MAX_GROUPS);
  return [Math.ceil(groups / y), y];
}

/** The meta buffer: each list padded to MAX_DIMS words, one after the other. */
function meta(ctx: WebGPUContext, name: string, ...lists: (readonly number[])[]): GPUBuffer {
  const words = new Uint32Array(lists.length * D);
  lists.forEach((l, k) => {
    if (l.length > D) throw new Error(`${name} on webgpu: up to ${D} dimensions, got ${l.length}`);
    l.forEach((v, i) => {
      words[k * D + i] = v;
    });
  });
  return ctx.upload(words);
}

/** row-major strides of `shape` */
export function contiguous(shape: readonly number[]): number[] {
  const st = new Array<number>(shape.length).fill(1);
  for (let i = shape.length - 2; i >= 0; i--) st[i] = st[i + 1] * shape[i + 1];
  return st;
}

/**
 * The device-side index check (context.ts's indexCheck()): `flag(code, v, d, size)` records the first
 * index out of range met (code = INDEX_CHECK_OPS position + 1) into F at @binding(`binding`), unless one
 * is recorded already; the next read back rejects with it.
 */
const flagWgsl = (binding: number) => /* wgsl */ `
@group(0) @binding(${binding}) var<storage, read_write> F: array<atomic<u32>, 4>;
fn flag(code: u32, v: i32, d: u32, size: u32) {
  loop {
    let r = atomicCompareExchangeWeak(&F[0], 0u, code);
    if (r.exchanged) {
      atomicStore(&F[1], bitcast<u32>(v));
      atomicStore(&F[2], d);
      atomicStore(&F[3], size);
      return;
    }
    if (r.old_value != 0u) { return; }
  }
}`;

const checkCode = (op: IndexCheckOp): number => INDEX_CHECK_OPS.indexOf(op) + 1;

// The check alone, over n contiguous index words, where no element of an op's kernel would read them (a
// scatter whose target has size 0 along d, an indexSelect whose output is empty).
const CHECK_WGSL = /* wgsl */ `
struct P { n: u32, stride: u32, d: u32, size: u32, code: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> I: array<i32>;
${flagWgsl(2)}
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) g: vec3u) {
  let t = g.y * p.stride + g.x;
  if (t >= p.n) { return; }
  let v = I[t];
  if (v < 0 || u32(v) >= p.size) { flag(p.code, v, p.d, p.size); }
}`;

/** Checks the `n` contiguous index words of `index` against [0, size) along `d`, as `op`'s. */
export function gpuIndexCheck(
  ctx: WebGPUContext,
  index: GPUBuffer,
  n: number,
  d: number,
  size: number,
  op: IndexCheckOp,
): void {
  if (n === 0) return;
  const [gx, gy] = grid(n);
  const u = ctx.uniform([n, gx * WG, d, size, checkCode(op)]);
  ctx.dispatch(ctx.pipeline(CHECK_WGSL), [u, index, ctx.indexCheck()], gx, gy);
  ctx.release(u);
}

// ---------------------------------------------------------------------------------------------------------
// gather: for each element c of the index domain S (row-major), Y[c·ostr] = X[Σ_{k≠d} c_k·astr_k +
// I[c·istr]·astr_d], or the word `oob` where the index is outside [0, size), which it also flags.

const GATHER_WGSL = /* wgsl */ `
struct P { n: u32, stride: u32, nd: u32, d: u32, size: u32, oob: u32, code: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> M: array<u32>; // S, astr, istr, ostr
@group(0) @binding(2) var<storage, read> X: array<u32>;
@group(0) @binding(3) var<storage, read> I: array<i32>;
@group(0) @binding(4) var<storage, read_write> Y: array<u32>;
${flagWgsl(5)}
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) g: vec3u) {
  let t = g.y * p.stride + g.x;
  if (t >= p.n) { return; }
  var rest = t;
  var src = 0u;
  var ii = 0u;
  var o = 0u;
  for (var k = i32(p.nd) - 1; k >= 0; k--) {
    let uk = u32(k);
    let c = rest % M[uk];
    rest = rest / M[uk];
    if (uk != p.d) { src += c * M[${D}u + uk]; }
    ii += c * M[${2 * D}u + uk];
    o += c * M[${3 * D}u + uk];
  }
  let v = I[ii];
  if (v < 0 || u32(v) >= p.size) {
    Y[o] = p.oob;
    flag(p.code, v, p.d, p.size);
  } else {
    Y[o] = X[src + u32(v) * M[${D}u + p.d]];
  }
}`;

export interface GatherSpec {
  /** the index domain (the output's shape for gather; out's for indexSelect) */
  S: readonly number[];
  /** strides of the source X */
  astr: readonly number[];
  /** strides of I over S (0 where the index is broadcast: indexSelect) */
  istr: readonly number[];
  /** strides of Y over S */
  ostr: readonly number[];
  d: number;
  /** the size of X along d */
  size: number;
  /** the word written where an index is out of range (which the next read back reports as `check`'s) */
  oob: number;
  check: IndexCheckOp;
}

/**
 * The gather into `y` (a new buffer of `outWords` words, zeroed first when `zero`; by default S's numel,
 * not zeroed: every word is written).
 */
export function gpuIndexGather(
  ctx: WebGPUContext,
  x: GPUBuffer,
  index: GPUBuffer,
  spec: GatherSpec,
  outWords?: number,
): GPUBuffer {
  const n = spec.S.reduce((a, b) => a * b, 1);
  const words = outWords ?? n;
  const y = ctx.storage(words * 4);
  if (outWords !== undefined) ctx.clear(y, words * 4);
  if (n === 0) return y;
  const m = meta(ctx, "gather", spec.S, spec.astr, spec.istr, spec.ostr);
  const [gx, gy] = grid(n);
  const u = ctx.uniform([n, gx * WG, spec.S.length, spec.d, spec.size, spec.oob, checkCode(spec.check)]);
  ctx.dispatch(ctx.pipeline(GATHER_WGSL), [u, m, x, index, y, ctx.indexCheck()], gx, gy);
  ctx.release(u);
  ctx.release(m);
  return y;
}

// ---------------------------------------------------------------------------------------------------------
// scatter, read from the target's side (no atomics; deterministic): for each element c of the target T,
// the elements m of the index domain S with the same coordinates as c apart from d (c_k < S_k) whose index
// I equals c_d, in increasing m (PyTorch's row-major order): mode 0 adds their V (float32) to the base;
// mode 1 writes the last one's V word over the base (scatter: the last write wins). An index outside
// [0, T_d) matches no target element; the target elements with c_d = 0, which between them loop over every
// index position, flag it.

const SCATTER_WGSL = /* wgsl */ `
struct P { n: u32, stride: u32, nd: u32, d: u32, mode: u32, hasBase: u32, code: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> M: array<u32>; // T, S, istr, vstr
@group(0) @binding(2) var<storage, read> B: array<u32>; // the base (T), or one unused word
@group(0) @binding(3) var<storage, read> V: array<u32>;
@group(0) @binding(4) var<storage, read> I: array<i32>;
@group(0) @binding(5) var<storage, read_write> Y: array<u32>;
${flagWgsl(6)}
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) g: vec3u) {
  let j = g.y * p.stride + g.x;
  if (j >= p.n) { return; }
  var base = 0u;
  if (p.hasBase == 1u) { base = B[j]; }
  var rest = j;
  var ii = 0u;
  var vi = 0u;
  var cd = 0u;
  var inside = true;
  for (var k = i32(p.nd) - 1; k >= 0; k--) {
    let uk = u32(k);
    let c = rest % M[uk];
    rest = rest / M[uk];
    if (uk == p.d) {
      cd = c;
    } else {
      if (c >= M[${D}u + uk]) { inside = false; }
      ii += c * M[${2 * D}u + uk];
      vi += c * M[${3 * D}u + uk];
    }
  }
  var acc = 0.0;
  var last = base;
  if (inside) {
    let count = M[${D}u + p.d];
    let size = M[p.d];
    for (var m = 0u; m < count; m++) {
      let v = I[ii + m * M[${2 * D}u + p.d]];
      if (cd == 0u && (v < 0 || u32(v) >= size)) { flag(p.code, v, p.d, size); }
      if (v == i32(cd)) {
        let w = V[vi + m * M[${3 * D}u + p.d]];
        acc += bitcast<f32>(w);
        last = w;
      }
    }
  }
  if (p.mode == 0u) {
    Y[j] = bitcast<u32>(bitcast<f32>(base) + acc);
  } else {
    Y[j] = last;
  }
}`;

// scatter-add read from the index side: each element m of the index domain S adds its V to the target
// element with m's coordinates apart from d, where it takes I[m], by a compare-and-swap loop on the
// target's word (WGSL has no atomic float add). O(S) instead of the target side's O(T · S_d), but the
// adds into one element come in an order that may change between runs, so its sums may differ in their
// last bits from run to run, as PyTorch's CUDA index_add_ and gather backward do. An index out of range
// is flagged and adds nothing.

const SCATTER_ADD_ATOMIC_WGSL = /* wgsl */ `
struct P { n: u32, stride: u32, nd: u32, d: u32, code: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> M: array<u32>; // T, S, istr, vstr
@group(0) @binding(2) var<storage, read> V: array<u32>;
@group(0) @binding(3) var<storage, read> I: array<i32>;
@group(0) @binding(4) var<storage, read_write> Y: array<atomic<u32>>;
${flagWgsl(5)}
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) g: vec3u) {
  let m = g.y * p.stride + g.x;
  if (m >= p.n) { return; }
  var rest = m;
  var ii = 0u;
  var vi = 0u;
  var o = 0u;
  var tstride = 1u;
  var dstride = 0u;
  for (var k = i32(p.nd) - 1; k >= 0; k--) {
    let uk = u32(k);
    let c = rest % M[${D}u + uk];
    rest = rest / M[${D}u + uk];
    ii += c * M[${2 * D}u + uk];
    vi += c * M[${3 * D}u + uk];
    if (uk == p.d) { dstride = tstride; } else { o += c * tstride; }
    tstride *= M[uk];
  }
  let v = I[ii];
  let size = M[p.d];
  if (v < 0 || u32(v) >= size) {
    flag(p.code, v, p.d, size);
    return;
  }
  let add = bitcast<f32>(V[vi]);
  let at = o + u32(v) * dstride;
  var old = atomicLoad(&Y[at]);
  loop {
    let r = atomicCompareExchangeWeak(&Y[at], old, bitcast<u32>(bitcast<f32>(old) + add));
    if (r.exchanged) { break; }
    old = r.old_value;
  }
}`;

/**
 * From this much work (target elements × index positions along d) an add scatters from the index side
 * (SCATTER_ADD_ATOMIC_WGSL): at 2²² the target side's loop costs as much as a few thousand atomic adds.
 * Below it the sums are the same on every run.
 */
export const ATOMIC_SCATTER_FROM = 1 << 22;

/** Which kernel gpuIndexScatter runs for `spec`: "target" (ordered, deterministic) or "atomic". */
export function scatterKernel(spec: ScatterSpec): "target" | "atomic" {
  const n = spec.T.reduce((a, b) => a * b, 1);
  const sn = spec.S.reduce((a, b) => a * b, 1);
  return spec.mode === "add" && n > 0 && sn > 0 && n * spec.S[spec.d] >= ATOMIC_SCATTER_FROM
    ? "atomic"
    : "target";
}

export interface ScatterSpec {
  /** the target's shape (the result's) */
  T: readonly number[];
  /** the index domain; of T's rank */
  S: readonly number[];
  /** strides of I over S */
  istr: readonly number[];
  /** strides of V over S (zeros: one value) */
  vstr: readonly number[];
  d: number;
  mode: "add" | "last";
  /** the op an index out of range is reported as, at the next read back */
  check: IndexCheckOp;
}

/** The scatter onto `base` (T's numel words; null: zeros) in a new buffer. */
export function gpuIndexScatter(
  ctx: WebGPUContext,
  base: GPUBuffer | null,
  v: GPUBuffer,
  index: GPUBuffer,
  spec: ScatterSpec,
): GPUBuffer {
  const n = spec.T.reduce((a, b) => a * b, 1);
  const y = ctx.storage(n * 4);
  const sn = spec.S.reduce((a, b) => a * b, 1);
  if (n === 0) {
    // no target element to run the check: every index is out of range (T_d = 0, as S_k ≤ T_k elsewhere)
    gpuIndexCheck(ctx, index, sn, spec.d, spec.T[spec.d], spec.check);
    return y;
  }
  if (scatterKernel(spec) === "atomic") {
    if (base === null) ctx.clear(y, n * 4);
    else ctx.copy(base, y, n * 4);
    const m = meta(ctx, "scatter", spec.T, spec.S, spec.istr, spec.vstr);
    const [gx, gy] = grid(sn);
    const u = ctx.uniform([sn, gx * WG, spec.T.length, spec.d, checkCode(spec.check)]);
    ctx.dispatch(ctx.pipeline(SCATTER_ADD_ATOMIC_WGSL), [u, m, v, index, y, ctx.indexCheck()], gx, gy);
    ctx.release(u);
    ctx.release(m);
    return y;
  }
  // an empty index domain scatters nothing: bind one word in its place
  const dummyV = sn === 0 ? ctx.upload(new Uint32Array(1)) : null;
  const dummyI = sn === 0 ? ctx.upload(new Int32Array(1)) : null;
  const dummyB = base === null ? ctx.upload(new Uint32Array(1)) : null;
  const m = meta(ctx, "scatter", spec.T, spec.S, spec.istr, spec.vstr);
  const [gx, gy] = grid(n);
  const u = ctx.uniform([
    n,
    gx * WG,
    spec.T.length,
    spec.d,
    spec.mode === "add" ? 0 : 1,
    base === null ? 0 : 1,
    checkCode(spec.check),
  ]);
  ctx.dispatch(
    ctx.pipeline(SCATTER_WGSL),
    [u, m, base ?? dummyB!, dummyV ?? v, dummyI ?? index, y, ctx.indexCheck()],
    gx,
    gy,
  );
  for (const b of [u, m, dummyV, dummyI, dummyB]) if (b !== null) ctx.release(b);
  return y;
}

// ---------------------------------------------------------------------------------------------------------
// where: Y[i] = C[ci] != 0 ? A[ai] : B[bi], each operand broadcast to Y's shape (strides 0 where it is).

const WHERE_WGSL = /* wgsl */ `
struct P { n: u32, stride: u32, nd: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> M: array<u32>; // shape, cstr, astr, bstr
@group(0) @binding(2) var<storage, read> C: array<u32>;
@group(0) @binding(3) var<storage, read> A: array<u32>;
@group(0) @binding(4) var<storage, read> B: array<u32>;
@group(0) @binding(5) var<storage, read_write> Y: array<u32>;
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) g: vec3u) {
  let i = g.y * p.stride + g.x;
  if (i >= p.n) { return; }
  var rest = i;
  var ci = 0u;
  var ai = 0u;
  var bi = 0u;
  for (var k = i32(p.nd) - 1; k >= 0; k--) {
    let uk = u32(k);
    let c = rest % M[uk];
    rest = rest / M[uk];
    ci += c * M[${D}u + uk];
    ai += c * M[${2 * D}u + uk];
    bi += c * M[${3 * D}u + uk];
  }
  Y[i] = select(B[bi], A[ai], C[ci] != 0u);
}`;

/** The strides of `shape` broadcast to `out` (0 where it is broadcast), of out's rank. */
export function broadcastStridesTo(shape: readonly number[], out: readonly number[]): number[] {
  const st = contiguous(shape);
  const lead = out.length - shape.length;
  return out.map((_, i) => (i < lead || shape[i - lead] === 1 ? 0 : st[i - lead]));
}

/** cond ? a : b word by word, each of its shape broadcast to `out` (checked by the caller); a new buffer. */
export function gpuWhere(
  ctx: WebGPUContext,
  cond: GPUBuffer,
  condShape: readonly number[],
  a: GPUBuffer,
  aShape: readonly number[],
  b: GPUBuffer,
  bShape: readonly number[],
  out: readonly number[],
): GPUBuffer {
  const n = out.reduce((x, y) => x * y, 1);
  const y = ctx.storage(n * 4);
  if (n === 0) return y;
  const m = meta(
    ctx,
    "maskedFill",
    out,
    broadcastStridesTo(condShape, out),
    broadcastStridesTo(aShape, out),
    broadcastStridesTo(bShape, out),
  );
  const [gx, gy] = grid(n);
  const u = ctx.uniform([n, gx * WG, out.length]);
  ctx.dispatch(ctx.pipeline(WHERE_WGSL), [u, m, cond, a, b, y], gx, gy);
  ctx.release(u);
  ctx.release(m);
  return y;
}

// ---------------------------------------------------------------------------------------------------------
// all / any along the middle of (outer, size, inner): one thread per column; a float is nonzero unless
// ±0 (NaN is nonzero), an int64 / bool word unless 0. Y: u32 0 / 1.

const TRUTH_WGSL = /* wgsl */ `
struct P { n: u32, stride: u32, size: u32, inner: u32, every: u32, float: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> X: array<u32>;
@group(0) @binding(2) var<storage, read_write> Y: array<u32>;
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) g: vec3u) {
  let col = g.y * p.stride + g.x;
  if (col >= p.n) { return; }
  let base = (col / p.inner) * p.size * p.inner + col % p.inner;
  let mask = select(0xffffffffu, 0x7fffffffu, p.float == 1u);
  let every = p.every == 1u;
  var r = every;
  for (var k = 0u; k < p.size; k++) {
    if (((X[base + k * p.inner] & mask) != 0u) != every) {
      r = !every;
      break;
    }
  }
  Y[col] = select(0u, 1u, r);
}`;

export function gpuTruth(
  ctx: WebGPUContext,
  x: GPUBuffer,
  float: boolean,
  every: boolean,
  outer: number,
  size: number,
  inner: number,
): GPUBuffer {
  const cols = outer * inner;
  const y = ctx.storage(cols * 4);
  if (cols === 0) return y;
  const [gx, gy] = grid(cols);
  const u = ctx.uniform([cols, gx * WG, size, inner, every ? 1 : 0, float ? 1 : 0]);
  const xb = size === 0 ? ctx.upload(new Uint32Array(1)) : x;
  ctx.dispatch(ctx.pipeline(TRUTH_WGSL), [u, xb, y], gx, gy);
  ctx.release(u);
  if (xb !== x) ctx.release(xb);
  return y;
}

// ---------------------------------------------------------------------------------------------------------
// The running sums of i32 words (an int64 or bool tensor's cumsum; wraps past the i32 range).

const ICUMSUM_WGSL = /* wgsl */ `
struct P { n: u32, stride: u32, size: u32, inner: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> X: array<i32>;
@group(0) @binding(2) var<storage, read_write> Y: array<i32>;
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) g: vec3u) {
  let col = g.y * p.stride + g.x;
  if (col >= p.n) { return; }
  let base = (col / p.inner) * p.size * p.inner + col % p.inner;
  var s = 0i;
  for (var k = 0u; k < p.size; k++) {
    let i = base + k * p.inner;
    s += X[i];
    Y[i] = s;
  }
}`;

export function gpuIntCumsum(
  ctx: WebGPUContext,
  x: GPUBuffer,
  outer: number,
  size: number,
  inner: number,
): GPUBuffer {
  const cols = outer * inner;
  const y = ctx.storage(cols * size * 4);
  if (cols * size === 0) return y;
  const [gx, gy] = grid(cols);
  const u = ctx.uniform([cols, gx * WG, size, inner]);
  ctx.dispatch(ctx.pipeline(ICUMSUM_WGSL), [u, x, y], gx, gy);
  ctx.release(u);
  return y;
}

// ---------------------------------------------------------------------------------------------------------
// sort / topk along the middle of (outer, size, inner): one thread per element, whose rank is the number of
// elements of its line ordered before it (NaN after every number, as PyTorch's; descending reverses that;
// ties by position: a stable sort, as core/sorting.ts). The first k ranks are written: value and index.

const RANK_WGSL = /* wgsl */ `
struct P { n: u32, stride: u32, size: u32, inner: u32, k: u32, descending: u32 }
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> X: array<f32>;
@group(0) @binding(2) var<storage, read_write> Y: array<f32>; // (outer, k, inner)
@group(0) @binding(3) var<storage, read_write> IDX: array<i32>; // (outer, k, inner)
fn isNan_(x: f32) -> bool { return (bitcast<u32>(x) & 0x7fffffffu) > 0x7f800000u; }
// −1, 0, 1: u against v, NaN the largest
fn cmp(u: f32, v: f32) -> i32 {
  let un = isNan_(u);
  let vn = isNan_(v);
  if (un || vn) { return select(0, 1, un) - select(0, 1, vn); }
  return select(select(0, 1, u > v), -1, u < v);
}
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) g: vec3u) {
  let j = g.y * p.stride + g.x;
  if (j >= p.n) { return; }
  let o = j / (p.size * p.inner);
  let i = j % p.inner;
  let q = (j / p.inner) % p.size;
  let base = o * p.size * p.inner + i;
  let x = X[j];
  var rank = 0u;
  for (var r = 0u; r < p.size; r++) {
    var c = cmp(X[base + r * p.inner], x);
    if (p.descending == 1u) { c = -c; }
    if (c < 0 || (c == 0 && r < q)) { rank++; }
  }
  if (rank < p.k) {
    let at = (o * p.k + rank) * p.inner + i;
    Y[at] = x;
    IDX[at] = i32(q);
  }
}`;

/** [values, indices] (outer, k, inner) of the first k of each line in order; new buffers. */
export function gpuRank(
  ctx: WebGPUContext,
  x: GPUBuffer,
  outer: number,
  size: number,
  inner: number,
  k: number,
  descending: boolean,
): [GPUBuffer, GPUBuffer] {
  const n = outer * size * inner;
  const y = ctx.storage(outer * k * inner * 4);
  const idx = ctx.storage(outer * k * inner * 4);
  if (n === 0 || k === 0) return [y, idx];
  const [gx, gy] = grid(n);
  const u = ctx.uniform([n, gx * WG, size, inner, k, descending ? 1 : 0]);
  ctx.dispatch(ctx.pipeline(RANK_WGSL), [u, x, y, idx], gx, gy);
  ctx.release(u);
  return [y, idx];
}
