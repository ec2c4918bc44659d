// Exercises WebGPUContext on a real device and prints what it saw as one JSON line (test/webgpu-context.test.ts
// asserts it): an axpy and a tiled matrix product against CPU values, buffer pooling, read-back of
// ranges, the pipeline and bind-group caches, and that a CPU write never reaches a dispatch recorded before it.

import { WebGPUContext } from "../../src/kernels/webgpu/context.js";
import { deviceOrExit, finish } from "./setup.js";

const ctx = await deviceOrExit();

// y ← a·x + y, n elements; params: n (u32), a (f32)
const AXPY = /* wgsl */ `
struct P { n: u32, a: f32 }
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> y: array<f32>;
@group(0) @binding(2) var<uniform> p: P;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) id: vec3u) {
  if (id.x < p.n) { y[id.x] = p.a * x[id.x] + y[id.x]; }
}`;

// C (M, N) = A (M, K) · B (K, N), 16×16 tiles in workgroup memory
const MATMUL = /* wgsl */ `
struct P { M: u32, N: u32, K: u32 }
@group(0) @binding(0) var<storage, read> A: array<f32>;
@group(0) @binding(1) var<storage, read> B: array<f32>;
@group(0) @binding(2) var<storage, read_write> C: array<f32>;
@group(0) @binding(3) var<uniform> p: P;
var<workgroup> As: array<array<f32, 16>, 16>;
var<workgroup> Bs: array<array<f32, 16>, 16>;
@compute @workgroup_size(16, 16)
fn main(@builtin(global_invocation_id) g: vec3u, @builtin(local_invocation_id) l: vec3u) {
  let row = g.y; let col = g.x;
  var acc = 0.0;
  for (var t = 0u; t < (p.K + 15u) / 16u; t++) {
    let ka = t * 16u + l.x; let kb = t * 16u + l.y;
    As[l.y][l.x] = select(0.0, A[row * p.K + ka], row < p.M && ka < p.K);
    Bs[l.y][l.x] = select(0.0, B[kb * p.N + col], kb < p.K && col < p.N);
    workgroupBarrier();
    for (var k = 0u; k < 16u; k++) { acc += As[l.y][k] * Bs[k][l.x]; }
    workgroupBarrier();
  }
  if (row < p.M && col < p.N) { C[row * p.N + col] = acc; }
}`;

function params(n: number, a: number): ArrayBuffer {
  const b = new ArrayBuffer(8);
  new DataView(b).setUint32(0, n, true);
  new DataView(b).setFloat32(4, a, true);
  return b;
}

let seed = 1;
const rand = (): number => {
  seed = (seed * 1103515245 + 12345) % 2 ** 31;
  return seed / 2 ** 31 - 0.5;
};
const randArray = (n: number): Float32Array => Float32Array.from({ length: n }, rand);

// --- axpy -------------------------------------------------------------------------------------------------
const n = 1000;
const xs = randArray(n);
const ys = randArray(n);
const axpy = ctx.pipeline(AXPY);
const x = ctx.upload(xs);
const y = ctx.upload(ys);
ctx.dispatch(axpy, [x, y, ctx.uniform(params(n, 2.5))], Math.ceil(n / 64));
const yOut = await ctx.read(y);
let axpyMaxErr = 0;
for (let i = 0; i < n; i++) axpyMaxErr = Math.max(axpyMaxErr, Math.abs(yOut[i] - (2.5 * xs[i] + ys[i])));

// --- matmul -----------------------------------------------------------------------------------------------
const [M, N, K] = [37, 29, 53];
const as = randArray(M * K);
const bs = randArray(K * N);
const mm = ctx.pipeline(MATMUL);
const a = ctx.upload(as);
const b = ctx.upload(bs);
const c = ctx.storage(M * N * 4);
ctx.dispatch(mm, [a, b, c, ctx.uniform([M, N, K])], Math.ceil(N / 16), Math.ceil(M / 16));
const cOut = await ctx.read(c);
let matmulMaxRelErr = 0;
for (let i = 0; i < M; i++) {
  for (let j = 0; j < N; j++) {
    let s = 0;
    let sa = 0;
    for (let k = 0; k < K; k++) {
      s += as[i * K + k] * bs[k * N + j];
      sa += Math.abs(as[i * K + k] * bs[k * N + j]);
    }
    matmulMaxRelErr = Math.max(matmulMaxRelErr, Math.abs(cOut[i * N + j] - s) / sa);
  }
}

// --- ordering: a uniform released and re-requested before the submit must not change the first dispatch ---
const ones = new Float32Array(8).fill(1);
const ox = ctx.upload(ones);
const o1 = ctx.upload(new Float32Array(8));
const o2 = ctx.upload(new Float32Array(8));
const u1 = ctx.uniform(params(8, 2));
ctx.dispatch(axpy, [ox, o1, u1], 1);
ctx.release(u1);
const u2 = ctx.uniform(params(8, 3));
ctx.dispatch(axpy, [ox, o2, u2], 1);
const ordering = {
  sameUniformBuffer: u1 === u2,
  first: (await ctx.read(o1))[0],
  second: (await ctx.read(o2))[0],
};

// write() after recorded dispatches: they see the old contents
const w = ctx.upload(new Float32Array([10, 20]));
const wy = ctx.upload(new Float32Array([0, 0]));
ctx.dispatch(axpy, [w, wy, ctx.uniform(params(2, 1))], 1);
ctx.write(w, new Float32Array([100, 200]));
ctx.dispatch(axpy, [w, wy, ctx.uniform(params(2, 1))], 1);
const writeOrder = Array.from(await ctx.read(wy)); // [110, 220] when ordered

// --- pooling ----------------------------------------------------------------------------------------------
const before = ctx.stats();
const p1 = ctx.storage(4000);
ctx.release(p1);
ctx.flush();
const p2 = ctx.storage(3900); // same size class (4096)
const pooled = {
  reusedSameBuffer: p1 === p2,
  reusedCount: ctx.stats().buffersReused - before.buffersReused,
  createdCount: ctx.stats().buffersCreated - before.buffersCreated,
  poolSize: p2.size,
  sizeOf: ctx.sizeOf(p2),
};
let doubleRelease = "";
ctx.release(p2);
try {
  ctx.release(p2);
} catch (e) {
  doubleRelease = String(e);
}

// --- caches and ranges ------------------------------------------------------------------------------------
const pipelineCached = ctx.pipeline(AXPY) === axpy;
const s0 = ctx.stats();
const u3 = ctx.uniform(params(n, 0));
ctx.dispatch(axpy, [x, y, u3], Math.ceil(n / 64));
ctx.dispatch(axpy, [x, y, u3], Math.ceil(n / 64));
await ctx.sync();
const s1 = ctx.stats();
const range = Array.from(await ctx.read(x, 12, 8)); // xs[2..5)
const copyDst = ctx.storage(16);
ctx.copy(x, copyDst, 16, 4);
const copied = Array.from(await ctx.read(copyDst));

// --- a long chain submits on its own every 512 dispatches, in order ---------------------------------------
await ctx.sync();
const s2 = ctx.stats();
const acc = ctx.upload(new Float32Array(4));
const four = ctx.upload(new Float32Array(4).fill(1));
const inc = ctx.uniform(params(4, 1));
for (let i = 0; i < 600; i++) ctx.dispatch(axpy, [four, acc, inc], 1);
const autoFlush = {
  submitsBeforeRead: ctx.stats().submits - s2.submits,
  values: Array.from(await ctx.read(acc)),
};

// --- errors -----------------------------------------------------------------------------------------------
let badShader = "";
try {
  const bad = ctx.pipeline("@compute @workgroup_size(1) fn main() { let q: f32 = undefined_thing; }");
  ctx.dispatch(bad, [], 1);
  await ctx.sync();
} catch (e) {
  badShader = String(e);
}
let badDispatch = "";
try {
  ctx.dispatch(axpy, [x, y, u3], 1.5);
} catch (e) {
  badDispatch = String(e);
}

// --- limits: the adapter's by default; past a limit, an error naming it (a device with WebGPU's defaults) --
const limitOf = (c: WebGPUContext, k: string) => (c.device.limits as unknown as Record<string, number>)[k];
const small = await WebGPUContext.create(ctx.gpu, { limits: "default" });
const limits: Record<string, unknown> = {
  device: {
    maxStorageBufferBindingSize: limitOf(ctx, "maxStorageBufferBindingSize"),
    maxBufferSize: limitOf(ctx, "maxBufferSize"),
  },
  adapter: ctx.adapterLimits,
  defaults: {
    maxStorageBufferBindingSize: limitOf(small, "maxStorageBufferBindingSize"),
    maxBufferSize: limitOf(small, "maxBufferSize"),
  },
};
const msg = async (run: () => unknown): Promise<string> => {
  try {
    await run();
    return "no error";
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
};
// 300 MB: past the default 256 MiB buffer; 200 MB bound whole: past the default 128 MiB binding
limits.bufferTooBig = await msg(() => small.storage(300_000_000));
const big = small.storage(200_000_000);
const axpySmall = small.pipeline(AXPY);
limits.bindingTooBig = await msg(() => small.dispatch(axpySmall, [big, big, small.uniform(params(4, 1))], 1));
limits.bindingRange = await msg(async () => {
  // a range of it within the limit binds and runs
  const one = small.upload(new Float32Array(4).fill(1));
  small.dispatch(axpySmall, [one, { buffer: big, offset: 0, size: 16 }, small.uniform(params(4, 1))], 1);
  await small.sync();
});
small.destroy();
// a list of numbers is integer words only: a float there would have been guessed into a word
const uniformFloat = await msg(() => ctx.uniform([4, 0.5]));
const uniformTooBig = await msg(() => ctx.uniform([2 ** 32]));

finish(ctx, {
  limits,
  axpyMaxErr,
  axpyLength: yOut.length,
  matmulMaxRelErr,
  ordering,
  writeOrder,
  pooled,
  doubleRelease,
  pipelineCached,
  bindGroupHits: s1.bindGroupHits - s0.bindGroupHits,
  submits: s1.submits - s0.submits,
  range,
  expectedRange: Array.from(xs.subarray(2, 5)),
  copied,
  expectedCopied: Array.from(xs.subarray(1, 5)),
  autoFlush,
  badShader,
  badDispatch,
  uniformFloat,
  uniformTooBig,
  stats: ctx.stats(),
});
