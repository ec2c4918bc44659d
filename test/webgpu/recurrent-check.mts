// Runs the WebGPU recurrent kernels (src/kernels/webgpu/recurrent.ts) and the library's CPU kernels
// (src/kernels/rnn.ts, themselves checked against PyTorch fixtures and finite differences) on the cases of
// recurrent-cases.ts, and prints, as one JSON line, each case's relative error for every output: y, hN,
// cN, dX, dH0, dC0 and the accumulated weight gradients. recurrent.test.ts asserts them. A child process
// of the tests (run.ts says why).
//
// T = time, B = batch, I = input, H = hidden, P = proj, R = size of h, G = gates·H, N = rows

import { fillUniform, Generator } from "../../src/core/random.js";
import {
  type RnnDims,
  type RnnWeights,
  rnnBackward,
  rnnForward,
  rnnGateCount,
  rnnWorkspaceSize,
} from "../../src/kernels/rnn.js";
import { noGrad } from "../../src/core/engine.js";
import { Tensor } from "../../src/core/tensor.js";
import { GpuRecurrent, type GpuRnnWeights } from "../../src/kernels/webgpu/recurrent.js";
import type { LayerArgs } from "../../src/nn/rnn.js";
import { GRU, LSTM, RNN, type RNNBase } from "../../src/nn/rnn.js";
import { fusedLayer } from "../../src/nn/rnn_fused.js";
import { webgpuLayer } from "../../src/nn/rnn_webgpu.js";
import { CASES, type Case, caseName, LAYER_CASES } from "./recurrent-cases.js";
import { deviceOrExit, finish } from "./setup.js";

const ctx = await deviceOrExit();
const rec = new GpuRecurrent(ctx);

function rand(n: number, g: Generator, scale = 1): Float32Array {
  const a = new Float32Array(n);
  fillUniform(a, -scale, scale, g);
  return a;
}

/** max |a - e| / max |e| (the absolute error where e is all zeros); NaN anywhere gives Infinity. */
function relErr(a: Float32Array, e: Float32Array): number {
  if (a.length !== e.length) return Number.POSITIVE_INFINITY;
  let scale = 0;
  let diff = 0;
  for (let i = 0; i < e.length; i++) {
    scale = Math.max(scale, Math.abs(e[i]));
    const d = Math.abs(a[i] - e[i]);
    diff = d <= diff ? diff : Number.isNaN(d) ? Number.POSITIVE_INFINITY : d;
  }
  return scale > 0 ? diff / scale : diff;
}

async function runCase(c: Case): Promise<Record<string, number>> {
  const g = new Generator(1234 + c.T * 31 + c.H * 7 + c.B);
  const { mode, T, B, I, H } = c;
  const P = c.P ?? 0;
  const R = P > 0 ? P : H;
  const G = rnnGateCount(mode) * H;
  const batchSizes = c.lengths
    ? Int32Array.from({ length: T }, (_, t) => c.lengths!.filter((l) => l > t).length)
    : null;
  const N = batchSizes ? batchSizes.reduce((s, v) => s + v, 0) : T * B;
  const dims: RnnDims = { mode, T, B, I, H, P, batchSizes, reverse: c.reverse ?? false };
  const k = 1 / Math.sqrt(H);
  const bias = c.bias ?? true;
  const lstm = mode === "LSTM";
  const w: RnnWeights = {
    wIh: rand(G * I, g, k),
    wHh: rand(G * R, g, k),
    bIh: bias ? rand(G, g, k) : null,
    bHh: bias ? rand(G, g, k) : null,
    wHr: P > 0 ? rand(P * H, g, k) : null,
  };
  const x = rand(N * I, g, c.scale ?? 1);
  const h0 = c.noInit ? null : rand(B * R, g);
  const c0 = c.noInit || !lstm ? null : rand(B * H, g);
  const dY = c.noInit ? null : rand(N * R, g);
  const dHn = rand(B * R, g);
  const dCn = c.noInit || !lstm ? null : rand(B * H, g);
  // gradients start nonzero: backward accumulates
  const g0 = {
    dWih: rand(G * I, g),
    dWhh: rand(G * R, g),
    dBih: bias ? rand(G, g) : null,
    dBhh: bias ? rand(G, g) : null,
    dWhr: P > 0 ? rand(P * H, g) : null,
  };

  // the CPU reference
  const ws = rnnWorkspaceSize(mode, T, B, H, P);
  const saved = new Float32Array(ws.saved);
  const scratch = new Float32Array(ws.scratch);
  const y = new Float32Array(N * R);
  const hN = new Float32Array(B * R);
  const cN = lstm ? new Float32Array(B * H) : null;
  rnnForward(dims, w, x, h0, c0, y, hN, cN, saved, scratch);
  const dW = {
    dWih: g0.dWih.slice(),
    dWhh: g0.dWhh.slice(),
    dBih: g0.dBih?.slice() ?? null,
    dBhh: g0.dBhh?.slice() ?? null,
    dWhr: g0.dWhr?.slice() ?? null,
  };
  const dX = new Float32Array(N * I);
  const dH0 = new Float32Array(B * R);
  const dC0 = lstm ? new Float32Array(B * H) : null;
  rnnBackward(dims, w, dW, x, dX, h0, dH0, c0, dC0, y, dY, dHn, dCn, saved, scratch);

  // the same on the GPU
  const bufs: GPUBuffer[] = [];
  const keep = (b: GPUBuffer): GPUBuffer => {
    bufs.push(b);
    return b;
  };
  const up = (a: Float32Array | null): GPUBuffer | null => (a === null ? null : keep(ctx.upload(a)));
  const out = (n: number): GPUBuffer => keep(ctx.storage(n * 4));
  const gw: GpuRnnWeights = {
    wIh: up(w.wIh)!,
    wHh: up(w.wHh)!,
    bIh: up(w.bIh),
    bHh: up(w.bHh),
    wHr: up(w.wHr),
  };
  const gx = up(x)!;
  const gh0 = up(h0);
  const gc0 = up(c0);
  const gy = out(N * R);
  const ghN = out(B * R);
  const gcN = lstm ? out(B * H) : null;
  const gsaved = rec.forward(dims, gw, gx, gh0, gc0, gy, ghN, gcN, true)!;
  const gdW = {
    dWih: up(g0.dWih),
    dWhh: up(g0.dWhh),
    dBih: up(g0.dBih),
    dBhh: up(g0.dBhh),
    dWhr: up(g0.dWhr),
  };
  const gdX = out(N * I);
  const gdH0 = out(B * R);
  const gdC0 = lstm ? out(B * H) : null;
  rec.backward(dims, gw, gdW, gx, gdX, gh0, gdH0, gc0, gdC0, gy, up(dY), up(dHn), up(dCn), gsaved);
  gsaved.release();

  const errs: Record<string, number> = {};
  const check = async (what: string, buf: GPUBuffer | null, e: Float32Array | null): Promise<void> => {
    if (buf !== null && e !== null) errs[what] = relErr(await ctx.read(buf), e);
  };
  await check("y", gy, y);
  await check("hN", ghN, hN);
  await check("cN", gcN, cN);
  await check("dX", gdX, dX);
  await check("dH0", gdH0, dH0);
  await check("dC0", gdC0, dC0);
  await check("dWih", gdW.dWih, dW.dWih);
  await check("dWhh", gdW.dWhh, dW.dWhh);
  await check("dBih", gdW.dBih, dW.dBih);
  await check("dBhh", gdW.dBhh, dW.dBhh);
  await check("dWhr", gdW.dWhr, dW.dWhr);
  for (const b of bufs) ctx.release(b);
  return errs;
}

/**
 * The nn layer runner of webgpu tensors (nn/rnn_webgpu.ts) against the CPU's (nn/rnn_fused.ts), under
 * noGrad: the relative error of y, hN and cN.
 */
async function runLayer(c: Case): Promise<Record<string, number>> {
  const g = new Generator(99 + c.T * 31 + c.H * 7 + c.B);
  const { mode, T, B, I, H } = c;
  const P = c.P ?? 0;
  const R = P > 0 ? P : H;
  const G = rnnGateCount(mode) * H;
  const batchSizes = c.lengths
    ? Int32Array.from({ length: T }, (_, t) => c.lengths!.filter((l) => l > t).length)
    : new Int32Array(T).fill(B);
  const N = batchSizes.reduce((s, v) => s + v, 0);
  const k = 1 / Math.sqrt(H);
  const t = (n: number, shape: number[], scale = 1): Tensor => new Tensor(rand(n, g, scale), shape);
  const cpu: LayerArgs = {
    mode,
    x: t(N * I, [N, I]),
    batchSizes,
    full: c.lengths === undefined,
    h0: t(B * R, [B, R]),
    c0: mode === "LSTM" ? t(B * H, [B, H]) : null,
    wIh: t(G * I, [G, I], k),
    wHh: t(G * R, [G, R], k),
    bIh: c.bias === false ? null : t(G, [G], k),
    bHh: c.bias === false ? null : t(G, [G], k),
    wHr: P > 0 ? t(P * H, [P, H], k) : null,
    reverse: c.reverse ?? false,
  };
  const dev = (v: Tensor | null): Tensor | null => (v === null ? null : v.to("webgpu"));
  const gpu: LayerArgs = {
    ...cpu,
    x: dev(cpu.x)!,
    h0: dev(cpu.h0)!,
    c0: dev(cpu.c0),
    wIh: dev(cpu.wIh)!,
    wHh: dev(cpu.wHh)!,
    bIh: dev(cpu.bIh),
    bHh: dev(cpu.bHh),
    wHr: dev(cpu.wHr),
  };
  const want = noGrad(() => fusedLayer(cpu));
  const got = noGrad(() => webgpuLayer(gpu));
  const errs: Record<string, number> = {
    device: got.y.device === "webgpu" && got.hN.device === "webgpu" ? 0 : 1e30,
    y: relErr((await got.y.cpuAsync()).data, want.y.data),
    hN: relErr((await got.hN.cpuAsync()).data, want.hN.data),
  };
  if (want.cN !== null) errs.cN = relErr((await got.cN!.cpuAsync()).data, want.cN.data);
  // under grad it records its node (the backward is checked in webgpu-train.test.ts); refused: a CPU tensor
  // among webgpu ones
  const needsGrad = { ...gpu, wIh: gpu.wIh.detach() };
  needsGrad.wIh.requiresGrad = true;
  layerErrors[`${caseName(c)}: grad`] = message(() => {
    const r = webgpuLayer(needsGrad);
    if (!r.y.requiresGrad || r.y.gradFn === null) throw new Error("no autograd node recorded");
  });
  layerErrors[`${caseName(c)}: mixed`] = message(() => noGrad(() => webgpuLayer({ ...gpu, h0: cpu.h0 })));
  return errs;
}

const layerErrors: Record<string, string> = {};

/**
 * Whole modules on webgpu tensors (RNNBase.run → runOnWebGPU) against the same module on the CPU, under
 * noGrad: multi-layer, projection, unbatched, given or zero initial states.
 */
async function runModules(): Promise<Record<string, number>> {
  const errs: Record<string, number> = {};
  const g = new Generator(7);
  const cases: { name: string; m: RNNBase; shape: number[]; hx: boolean }[] = [
    {
      name: "LSTM(3, 5, num_layers=2, proj_size=2)",
      m: new LSTM(3, 5, { numLayers: 2, projSize: 2 }),
      shape: [4, 3, 3],
      hx: true,
    },
    { name: "GRU(2, 4) unbatched", m: new GRU(2, 4), shape: [5, 2], hx: false },
    {
      name: "RNN(3, 6, num_layers=3, relu)",
      m: new RNN(3, 6, { numLayers: 3, nonlinearity: "relu" }),
      shape: [3, 2, 3],
      hx: false,
    },
    {
      name: "LSTM(2, 3, num_layers=2, bidirectional, batch_first)",
      m: new LSTM(2, 3, { numLayers: 2, bidirectional: true, batchFirst: true }),
      shape: [3, 4, 2],
      hx: true,
    },
    {
      name: "GRU(3, 4, bidirectional) unbatched",
      m: new GRU(3, 4, { bidirectional: true }),
      shape: [5, 3],
      hx: true,
    },
  ];
  for (const c of cases) {
    c.m.eval();
    const n = c.shape.reduce((a, b) => a * b, 1);
    const x = new Tensor(rand(n, g), c.shape);
    const L = c.m.numLayers * c.m.numDirections;
    const B = c.shape.length === 3 ? c.shape[c.m.batchFirst ? 0 : 1] : 1;
    const st = (w: number) => new Tensor(rand(L * B * w, g), c.shape.length === 3 ? [L, B, w] : [L, w]);
    const isLstm = c.m.mode === "LSTM";
    const hx = c.hx ? (isLstm ? [st(c.m.outputHiddenSize), st(c.m.hiddenSize)] : st(c.m.hiddenSize)) : null;
    const run = (m: RNNBase, input: Tensor, state: typeof hx) =>
      noGrad(() =>
        (m as unknown as { forward(i: Tensor, h: unknown): [Tensor, Tensor | [Tensor, Tensor]] }).forward(
          input,
          state,
        ),
      );
    const [yc, sc] = run(c.m, x, hx);
    c.m.to("webgpu");
    const dev = (t: Tensor) => t.to("webgpu");
    const hxd = hx === null ? null : Array.isArray(hx) ? [dev(hx[0]), dev(hx[1])] : dev(hx);
    const [yg, sg] = run(c.m, dev(x), hxd as typeof hx);
    errs[`${c.name}: y`] = relErr((await yg.cpuAsync()).data, yc.data);
    errs[`${c.name}: shape`] = yg.shape.join(",") === yc.shape.join(",") ? 0 : 1e30;
    const pairs = Array.isArray(sc)
      ? [
          [sc[0], (sg as [Tensor, Tensor])[0]],
          [sc[1], (sg as [Tensor, Tensor])[1]],
        ]
      : [[sc, sg as Tensor]];
    for (const [i, [want, got]] of pairs.entries()) {
      errs[`${c.name}: state ${i}`] = relErr((await got.cpuAsync()).data, want.data);
      if (got.shape.join(",") !== want.shape.join(",")) errs[`${c.name}: state ${i} shape`] = 1e30;
    }
  }
  const drop = new LSTM(2, 3, { numLayers: 2, dropout: 0.5 });
  drop.to("webgpu");
  layerErrors.dropout = message(() =>
    noGrad(() => drop.forward(new Tensor(rand(8, g), [2, 2, 2]).to("webgpu"))),
  );
  return errs;
}

function message(run: () => unknown): string {
  try {
    run();
    return "no error";
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
}

/** The message of each bad call (recurrent.test.ts matches them), or "no error". */
function badCalls(): Record<string, string> {
  const dims = (over: Partial<RnnDims> = {}): RnnDims => ({
    mode: "LSTM",
    T: 2,
    B: 2,
    I: 3,
    H: 4,
    P: 0,
    batchSizes: null,
    reverse: false,
    ...over,
  });
  const f = (n: number): GPUBuffer => ctx.storage(n * 4);
  const G = 16;
  const w: GpuRnnWeights = { wIh: f(G * 3), wHh: f(G * 4), bIh: f(G), bHh: f(G), wHr: null };
  const x = f(4 * 3);
  const y = f(4 * 4);
  const hN = f(2 * 4);
  const cN = f(2 * 4);
  const msg = (run: () => unknown): string => {
    try {
      run();
      return "no error";
    } catch (e) {
      return e instanceof Error ? e.message : String(e);
    }
  };
  const saved = rec.forward(dims(), w, x, null, null, y, hN, cN, true)!;
  const out: Record<string, string> = {
    shortX: msg(() => rec.forward(dims(), w, f(5), null, null, y, hN, cN, false)),
    noCN: msg(() => rec.forward(dims(), w, x, null, null, y, hN, null, false)),
    gruProjection: msg(() => rec.forward(dims({ mode: "GRU", P: 2 }), w, x, null, null, y, hN, null, false)),
    increasingBatchSizes: msg(() =>
      rec.forward(dims({ batchSizes: Int32Array.of(1, 2) }), w, x, null, null, y, hN, cN, false),
    ),
    badMode: msg(() =>
      rec.forward(dims({ mode: "SRU" as RnnDims["mode"] }), w, x, null, null, y, hN, cN, false),
    ),
    // 1.5 M rows of 4·512 gates and 2·512 cell values: 18.4 GB, past any adapter's binding limit
    tooBig: msg(() =>
      rec.forward(dims({ T: 6, B: 250_000, I: 1, H: 512 }), w, x, null, null, y, hN, cN, false),
    ),
    otherDims: msg(() =>
      rec.backward(
        dims({ reverse: true }),
        w,
        noGrads,
        x,
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
      ),
    ),
  };
  saved.release();
  out.released = msg(() =>
    rec.backward(dims(), w, noGrads, x, null, null, null, null, null, y, null, null, null, saved),
  );
  return out;
}
const noGrads = { dWih: null, dWhh: null, dBih: null, dBhh: null, dWhr: null };

const results: Record<string, Record<string, number>> = {};
for (const c of CASES) results[caseName(c)] = await runCase(c);
const errors = badCalls();
const layers: Record<string, Record<string, number>> = {};
for (const c of LAYER_CASES) layers[caseName(c)] = await runLayer(c);
const modules = await runModules();
// JSON has no Infinity: a NaN or length mismatch is reported as a huge error
const json = JSON.parse(JSON.stringify(results, (_k, v) => (v === Number.POSITIVE_INFINITY ? 1e30 : v)));
await ctx.sync(); // the bad calls recorded nothing that fails on the device
finish(ctx, { results: json, errors, layers, layerErrors, modules, stats: ctx.stats() });
