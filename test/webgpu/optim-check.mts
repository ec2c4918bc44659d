// Gradient clipping and optimizers on the webgpu device (run by test/webgpu-optim.test.ts in a child
// process: see test/webgpu/run.ts). Device results against PyTorch 1.13's fixtures (clip.json,
// trajectories.json) and against the CPU path on the same leaves; the optimizers' device state through
// stateDictAsync / loadStateDict. Prints one JSON line.

import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Tensor } from "../../src/core/tensor.js";
import { clipGradNorm_, clipGradNormAsync_, clipGradValue_ } from "../../src/nn/clip.js";
import { Linear } from "../../src/nn/linear.js";
import { Adam, AdamW, type Optimizer, type OptimizerStateDict, RMSprop, SGD } from "../../src/optim/index.js";
import { deviceOrExit, finish } from "./setup.js";

const ctx = await deviceOrExit();
const FIX = join(dirname(fileURLToPath(import.meta.url)), "..", "fixtures", "data", "optim");

interface TensorJson {
  shape: number[];
  data: (number | string)[];
}
const num = (v: number | string) => (typeof v === "number" ? v : Number(v.replace("inf", "Infinity")));
const fromJson = (t: TensorJson) => new Tensor(Float32Array.from(t.data, num), t.shape);
const load = <T,>(name: string): T => JSON.parse(readFileSync(join(FIX, `${name}.json`), "utf8")) as T;

/** Largest |got − want| / |want| (|got − want| where want is 0; 0 where both are NaN, ∞ if one is). */
function rel(got: ArrayLike<number>, want: ArrayLike<number>): number {
  if (got.length !== want.length) return Number.POSITIVE_INFINITY;
  let worst = 0;
  for (let i = 0; i < want.length; i++) {
    const g = got[i];
    const w = want[i];
    if (Number.isNaN(g) || Number.isNaN(w)) {
      if (!(Number.isNaN(g) && Number.isNaN(w))) return Number.POSITIVE_INFINITY;
      continue;
    }
    if (g === w) continue;
    if (!Number.isFinite(g) || !Number.isFinite(w)) return Number.POSITIVE_INFINITY;
    worst = Math.max(worst, Math.abs(g - w) / (w === 0 ? 1 : Math.abs(w)));
  }
  return worst;
}

async function values(t: Tensor | null): Promise<Float32Array> {
  if (t === null) return new Float32Array(0);
  return (await t.cpuAsync()).data;
}

function message(fn: () => unknown): string {
  try {
    fn();
    return "";
  } catch (e) {
    return `${e instanceof Error ? e.constructor.name : ""}: ${e instanceof Error ? e.message : String(e)}`;
  }
}

async function rejection(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return "";
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
}

/** Leaves holding `grads` as their gradients, on the CPU or the device, plus one leaf without one. */
function leaves(grads: readonly Tensor[], gpu: boolean): Tensor[] {
  const ps = grads.map((g) => {
    const p = new Tensor(new Float32Array(g.numel), g.shape, true);
    const grad = g.clone();
    if (gpu) {
      p.grad = grad.to("webgpu");
      return p;
    }
    p.grad = grad;
    return p;
  });
  ps.push(new Tensor(new Float32Array(3), [3], true));
  return ps;
}

const results: Record<string, unknown> = {};
const errors: string[] = [];

// 1. clipGradNorm / clipGradValue against PyTorch and the CPU path
const clipFx = load<{
  grads: TensorJson[];
  norm: { normType: number | "inf"; maxNorm: number; total: number; clipped: TensorJson[] }[];
  single: { grad: TensorJson; maxNorm: number; total: number; clipped: TensorJson };
  value: { clipValue: number; clipped: TensorJson[] }[];
}>("clip");
const fxGrads = clipFx.grads.map(fromJson);
const clip: Record<string, number> = {};
try {
  // the fixture's cases: device total and clipped gradients against PyTorch's
  let worstTorch = 0;
  let worstCpu = 0;
  for (const c of clipFx.norm) {
    const p = c.normType === "inf" ? Number.POSITIVE_INFINITY : c.normType;
    const g = leaves(fxGrads, true);
    const cpu = leaves(fxGrads, false);
    const total = await clipGradNormAsync_(g, c.maxNorm, p);
    const cpuTotal = clipGradNorm_(cpu, c.maxNorm, p);
    worstTorch = Math.max(worstTorch, rel([total], [c.total]));
    worstCpu = Math.max(worstCpu, rel([total], [cpuTotal]));
    for (let i = 0; i < 3; i++) {
      const got = await values(g[i].grad);
      worstTorch = Math.max(worstTorch, rel(got, fromJson(c.clipped[i]).data));
      worstCpu = Math.max(worstCpu, rel(got, cpu[i].grad!.data));
    }
  }
  const s = leaves([fromJson(clipFx.single.grad)], true).slice(0, 1);
  const sTotal = await clipGradNormAsync_(s[0], clipFx.single.maxNorm);
  worstTorch = Math.max(worstTorch, rel([sTotal], [clipFx.single.total]));
  worstTorch = Math.max(worstTorch, rel(await values(s[0].grad), fromJson(clipFx.single.clipped).data));
  clip["norm vs torch"] = worstTorch;
  clip["norm vs cpu"] = worstCpu;
  let worstValue = 0;
  for (const c of clipFx.value) {
    const g = leaves(fxGrads, true);
    clipGradValue_(g, c.clipValue);
    for (let i = 0; i < 3; i++) {
      worstValue = Math.max(worstValue, rel(await values(g[i].grad), fromJson(c.clipped[i]).data));
    }
  }
  clip["value vs torch"] = worstValue;

  // every norm order, against the CPU path on the same leaves: gradients with zeros (the 0-norm counts
  // them, the -inf norm is then 0), one without zeros, and an empty one
  const mixed = [
    new Tensor(
      Float32Array.from({ length: 300 }, (_, i) => (i % 7 === 0 ? 0 : Math.sin(i * 1.3) * 2)),
      [300],
    ),
    new Tensor(
      Float32Array.from({ length: 40 }, (_, i) => 0.5 + Math.cos(i) ** 2),
      [8, 5],
    ),
    new Tensor(new Float32Array(0), [0]),
  ];
  const large = new Tensor(
    Float32Array.from({ length: 20000 }, (_, i) => (i % 9 === 0 ? 0 : Math.cos(i * 0.7) * (1 + (i % 4)))),
    [20000],
  );
  for (const p of [2, 1, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 0, 3, 0.5, -1.5]) {
    for (const maxNorm of [0.25, 1e4]) {
      for (const [tag, grads] of [
        ["zeros", mixed],
        ["no zeros", mixed.slice(1)],
        ["one", mixed.slice(1, 2)],
        ["large", [large, mixed[1]]], // 20000 elements: reduced by 5 workgroups
      ] as const) {
        const g = leaves(grads, true);
        const cpu = leaves(grads, false);
        const total = await clipGradNormAsync_(g, maxNorm, p);
        const cpuTotal = clipGradNorm_(cpu, maxNorm, p);
        let worst = rel([total], [cpuTotal]);
        for (let i = 0; i < grads.length; i++) {
          worst = Math.max(worst, rel(await values(g[i].grad), cpu[i].grad!.data));
        }
        clip[`p=${p} maxNorm=${maxNorm} ${tag}`] = worst;
      }
    }
  }
  // a clipGradNormAsync_ that is not awaited is still recorded before what follows (here a value clip)
  {
    const g = leaves(fxGrads, true);
    const cpu = leaves(fxGrads, false);
    const pending = clipGradNormAsync_(g, 0.5);
    clipGradValue_(g, 0.01);
    clipGradNorm_(cpu, 0.5);
    clipGradValue_(cpu, 0.01);
    let worst = 0;
    for (let i = 0; i < 3; i++) worst = Math.max(worst, rel(await values(g[i].grad), cpu[i].grad!.data));
    await pending;
    clip["not awaited, then value clip"] = worst;
  }
} catch (e) {
  errors.push(`clip: ${e instanceof Error ? `${e.message}\n${e.stack}` : String(e)}`);
}
results.clip = clip;

// 1b. non-finite totals, refusals and mixed devices
const clipEdges: Record<string, unknown> = {};
try {
  const bad = [new Tensor(Float32Array.from([1, Number.NaN, 2]), [3]), fxGrads[1]];
  const inf = [new Tensor(Float32Array.from([1, Number.POSITIVE_INFINITY, 2]), [3]), fxGrads[1]];
  for (const [tag, grads, p] of [
    ["nan 2", bad, 2],
    ["inf inf", inf, Number.POSITIVE_INFINITY],
    ["nan inf", bad, Number.POSITIVE_INFINITY],
  ] as const) {
    const g = leaves(grads, true);
    const before = await values(g[1].grad);
    clipEdges[`${tag} error`] = await rejection(clipGradNormAsync_(g, 1, p, { errorIfNonfinite: true }));
    clipEdges[`${tag} cpu error`] = message(() =>
      clipGradNorm_(leaves(grads, false), 1, p, { errorIfNonfinite: true }),
    );
    clipEdges[`${tag} untouched`] = rel(await values(g[1].grad), before) === 0;
    // without the check: scaled by the non-finite coefficient, as on the CPU
    const cpu = leaves(grads, false);
    const total = await clipGradNormAsync_(g, 1, p);
    const cpuTotal = clipGradNorm_(cpu, 1, p);
    let worst = rel([total], [cpuTotal]);
    for (let i = 0; i < 2; i++) worst = Math.max(worst, rel(await values(g[i].grad), cpu[i].grad!.data));
    clipEdges[`${tag} unchecked vs cpu`] = worst;
  }
  const g = leaves(fxGrads, true);
  clipEdges.syncRefusal = message(() => clipGradNorm_(g, 1));
  const mix = leaves(fxGrads, true);
  mix[1].grad = fxGrads[1].clone();
  clipEdges.mixedSync = message(() => clipGradNorm_(mix, 1));
  clipEdges.mixedAsync = await rejection(clipGradNormAsync_(mix, 1));
  clipEdges.cpuAsync = rel([await clipGradNormAsync_(leaves(fxGrads, false), 1)], [clipFx.norm[0].total]);
} catch (e) {
  errors.push(`clip edges: ${e instanceof Error ? `${e.message}\n${e.stack}` : String(e)}`);
}
results.clipEdges = clipEdges;

// 2. PyTorch's optimizer trajectories (trajectories.json) stepped on the device: every step's parameters,
// then the state read back with stateDictAsync against PyTorch's state_dict
// biome-ignore lint/suspicious/noExplicitAny: one path drives every optimizer class
type AnyOpt = Optimizer<any, any>;
const CLASSES = { SGD, Adam, AdamW, RMSprop };
interface Case {
  name: string;
  optimizer: keyof typeof CLASSES;
  options: Record<string, unknown>;
  groups: { params: number[]; options: Record<string, unknown> }[] | null;
  setLr: Record<string, number> | null;
  traj: TensorJson[][];
  state: {
    state: Record<string, Record<string, number | TensorJson | null>>;
    param_groups: Record<string, unknown>[];
  };
}
const tj = load<{ steps: number; params0: TensorJson[]; grads: (TensorJson | null)[][]; cases: Case[] }>(
  "trajectories",
);
function build(c: Case, params: Tensor[]): AnyOpt {
  // biome-ignore lint/suspicious/noExplicitAny: options come from JSON
  const Cls = CLASSES[c.optimizer] as unknown as new (p: any, o: any) => AnyOpt;
  if (c.groups === null) return new Cls(params, c.options);
  return new Cls(
    c.groups.map((g) => ({ params: g.params.map((i) => params[i]), ...g.options })),
    c.options,
  );
}
const trajectories: Record<string, number> = {};
const stateErrors: Record<string, number> = {};
const stateKeys: string[] = [];
const untouched: string[] = [];
for (const c of tj.cases) {
  try {
    const params = tj.params0.map((t) => fromJson(t).to("webgpu").requiresGrad_());
    const opt = build(c, params);
    let worst = 0;
    for (let s = 0; s < tj.steps; s++) {
      const lr = c.setLr?.[String(s)];
      if (lr !== undefined) for (const g of opt.paramGroups) g.lr = lr;
      params.forEach((p, i) => {
        const g = tj.grads[s][i];
        p.grad = g ? fromJson(g).to("webgpu") : null;
      });
      opt.step();
      for (let i = 0; i < params.length; i++) {
        worst = Math.max(worst, rel(await values(params[i]), fromJson(c.traj[s][i]).data));
      }
    }
    trajectories[c.name] = worst;
    if (rel(await values(params[2]), fromJson(tj.params0[2]).data) !== 0) untouched.push(c.name);
    const sd = await opt.stateDictAsync();
    let sw = 0;
    for (const [idx, entry] of Object.entries(c.state.state)) {
      const ours = sd.state[idx];
      if (ours === undefined || Object.keys(ours).sort().join() !== Object.keys(entry).sort().join()) {
        stateKeys.push(`${c.name} ${idx}`);
        continue;
      }
      for (const [k, v] of Object.entries(entry)) {
        if (v === null || typeof v === "number")
          sw = Math.max(sw, ours[k] === v ? 0 : Number.POSITIVE_INFINITY);
        else sw = Math.max(sw, rel(ours[k] as Float32Array, fromJson(v).data));
      }
    }
    if (Object.keys(sd.state).sort().join() !== Object.keys(c.state.state).sort().join())
      stateKeys.push(c.name);
    stateErrors[c.name] = sw;
  } catch (e) {
    errors.push(`${c.name}: ${e instanceof Error ? `${e.message}\n${e.stack}` : String(e)}`);
  }
}
Object.assign(results, { trajectories, stateErrors, stateKeys, untouched });

// 3. device against the CPU on the same leaves: RMSprop with every option, 10 steps of a few hundred
// elements (and SGD / Adam / AdamW beside it)
/** The gradient of step s for a parameter of n elements: fixed values, some exactly 0. */
function gradAt(s: number, n: number, k: number): Float32Array {
  return Float32Array.from({ length: n }, (_, i) =>
    i % 11 === 0 ? 0 : Math.sin(0.37 * i + 1.7 * s + k) * (1 + (i % 5)),
  );
}
const SHAPES = [[13, 17], [64], [5]];
const start = SHAPES.map(
  (sh, k) =>
    new Tensor(
      Float32Array.from({ length: sh.reduce((a, b) => a * b) }, (_, i) => Math.cos(i + k) * 0.5),
      sh,
    ),
);
/** Parameters holding `start`'s values on the device or the CPU. */
const fresh = (gpu: boolean, from: Tensor[] = start) =>
  from.map((t) => (gpu ? t.detach().to("webgpu") : t.detach().clone()).requiresGrad_());
function setGrads(ps: Tensor[], s: number, gpu: boolean): void {
  ps.forEach((p, k) => {
    const g = new Tensor(gradAt(s, p.numel, k), p.shape);
    p.grad = gpu ? g.to("webgpu") : g;
  });
}
async function worstOf(gpu: Tensor[], cpu: Tensor[]): Promise<number> {
  let w = 0;
  for (let i = 0; i < cpu.length; i++) w = Math.max(w, rel(await values(gpu[i]), cpu[i].data));
  return w;
}
const makers: [string, (ps: Tensor[]) => AnyOpt][] = [];
for (const centered of [false, true]) {
  for (const momentum of [0, 0.9]) {
    for (const weightDecay of [0, 0.1]) {
      for (const maximize of [false, true]) {
        makers.push([
          `RMSprop centered=${centered} momentum=${momentum} wd=${weightDecay} maximize=${maximize}`,
          (ps) =>
            new RMSprop(ps, { lr: 0.01, alpha: 0.9, eps: 1e-6, centered, momentum, weightDecay, maximize }),
        ]);
      }
    }
  }
}
makers.push(
  ["SGD nesterov wd", (ps) => new SGD(ps, { lr: 0.05, momentum: 0.9, nesterov: true, weightDecay: 0.01 })],
  ["Adam amsgrad wd", (ps) => new Adam(ps, { lr: 0.01, amsgrad: true, weightDecay: 0.1 })],
  ["AdamW maximize", (ps) => new AdamW(ps, { lr: 0.01, maximize: true })],
);
const vsCpu: Record<string, number> = {};
for (const [name, make] of makers) {
  try {
    const g = fresh(true);
    const c = fresh(false);
    const og = make(g);
    const oc = make(c);
    for (let s = 0; s < 10; s++) {
      setGrads(g, s, true);
      setGrads(c, s, false);
      og.step();
      oc.step();
    }
    vsCpu[name] = await worstOf(g, c);
  } catch (e) {
    errors.push(`${name}: ${e instanceof Error ? `${e.message}\n${e.stack}` : String(e)}`);
  }
}
results.vsCpu = vsCpu;

// 3b. non-finite and huge values: NaN and ±inf gradients, a weight of 1e36 (fma32 falls back where its
// split overflows), against the CPU, NaN for NaN
const extremes: Record<string, number> = {};
for (const [name, make] of makers.filter((m) => !m[0].startsWith("RMSprop centered=false"))) {
  try {
    const w0 = new Tensor(Float32Array.from([1e36, -3, 0, 2, 0.5, -1e-30]), [6]);
    const g = [w0.to("webgpu").requiresGrad_()];
    const c = [w0.clone().requiresGrad_()];
    const og = make(g);
    const oc = make(c);
    const grads = [
      [1, Number.POSITIVE_INFINITY, 0.25, -1e30, 3, 1e-30], // no subnormals: the device may flush them
      [2, 1, Number.NaN, Number.NEGATIVE_INFINITY, -3, 0],
    ];
    for (const gv of grads) {
      const t = new Tensor(Float32Array.from(gv), [6]);
      g[0].grad = t.to("webgpu");
      c[0].grad = t.clone();
      og.step();
      oc.step();
    }
    extremes[name] = await worstOf(g, c);
  } catch (e) {
    errors.push(`${name} extremes: ${e instanceof Error ? `${e.message}\n${e.stack}` : String(e)}`);
  }
}
results.extremes = extremes;

// 4. state dicts: 3 steps on the device, save (stateDictAsync, through JSON), load into fresh optimizers on
// the device and on the CPU, 3 more steps; against 6 steps without stopping
const roundTrip: Record<string, number> = {};
const stateEdges: Record<string, unknown> = {};
for (const [name, make] of [
  ["SGD momentum", (ps: Tensor[]) => new SGD(ps, { lr: 0.05, momentum: 0.9, dampening: 0.1 })],
  ["Adam amsgrad", (ps: Tensor[]) => new Adam(ps, { lr: 0.01, amsgrad: true })],
  ["AdamW", (ps: Tensor[]) => new AdamW(ps, { lr: 0.01, weightDecay: 0.1 })],
  [
    "RMSprop centered momentum",
    (ps: Tensor[]) => new RMSprop(ps, { lr: 0.01, centered: true, momentum: 0.5 }),
  ],
] as [string, (ps: Tensor[]) => AnyOpt][]) {
  try {
    const straight = fresh(true);
    const os = make(straight);
    for (let s = 0; s < 6; s++) {
      setGrads(straight, s, true);
      os.step();
    }
    const first = fresh(true);
    const o1 = make(first);
    for (let s = 0; s < 3; s++) {
      setGrads(first, s, true);
      o1.step();
    }
    stateEdges[`${name} stateDict`] = message(() => o1.stateDict());
    // what JSON.stringify makes of it (Float32Arrays as {"0": ..}), as a checkpoint file would hold
    const saved = JSON.parse(JSON.stringify(await o1.stateDictAsync())) as OptimizerStateDict;
    const at3 = await Promise.all(first.map((p) => p.cpuAsync()));
    const onGpu = fresh(true, at3);
    const onCpu = fresh(false, at3);
    const og = make(onGpu);
    const oc = make(onCpu);
    og.loadStateDict(saved);
    oc.loadStateDict(saved);
    for (let s = 3; s < 6; s++) {
      setGrads(onGpu, s, true);
      setGrads(onCpu, s, false);
      og.step();
      oc.step();
    }
    roundTrip[`${name} device resumed`] = await worstOf(
      onGpu,
      await Promise.all(straight.map((p) => p.cpuAsync())),
    );
    roundTrip[`${name} cpu resumed`] = await worstOf(straight, onCpu);
    // a saved CPU state loads onto the device too: the CPU-resumed optimizer's state, into a third on the device
    const third = fresh(true, onCpu);
    const o3 = make(third);
    o3.loadStateDict(oc.stateDict());
    const gpuSd = await og.stateDictAsync();
    const cpuSd = oc.stateDict();
    let w = 0;
    for (const [idx, entry] of Object.entries(cpuSd.state)) {
      for (const [k, v] of Object.entries(entry)) {
        const o = gpuSd.state[idx][k];
        if (v instanceof Float32Array) w = Math.max(w, rel(o as Float32Array, v));
        else w = Math.max(w, o === v ? 0 : Number.POSITIVE_INFINITY);
      }
    }
    roundTrip[`${name} state device vs cpu`] = w;
    const sd3 = await o3.stateDictAsync();
    roundTrip[`${name} cpu state loaded on device`] = JSON.stringify(sd3) === JSON.stringify(cpuSd) ? 0 : 1;
  } catch (e) {
    errors.push(`${name} round trip: ${e instanceof Error ? `${e.message}\n${e.stack}` : String(e)}`);
  }
}
try {
  // stateDictAsync is the state at the call: a step recorded right after it does not change it
  const ps = fresh(true);
  const o = new Adam(ps, { lr: 0.01 });
  setGrads(ps, 0, true);
  o.step();
  const early = o.stateDictAsync();
  setGrads(ps, 1, true);
  o.step();
  const late = await o.stateDictAsync();
  const e = await early;
  stateEdges.snapshotStep = [e.state["0"].step, late.state["0"].step];
  stateEdges.snapshotDiffers =
    rel(e.state["0"].exp_avg as Float32Array, late.state["0"].exp_avg as Float32Array) > 0;
  // a module moved to the device mid-training takes its CPU state along (uploaded on the first device step)
  const a = new Linear(4, 3);
  const b = new Linear(4, 3);
  b.loadStateDict(a.stateDict());
  const oa = new RMSprop(a.parameters(), { lr: 0.01, momentum: 0.9, centered: true });
  const ob = new RMSprop(b.parameters(), { lr: 0.01, momentum: 0.9, centered: true });
  for (let s = 0; s < 4; s++) {
    if (s === 2) b.to("webgpu");
    setGrads(a.parameters(), s, false);
    setGrads(b.parameters(), s, s >= 2);
    oa.step();
    ob.step();
  }
  stateEdges.movedMidway = await worstOf(b.parameters(), a.parameters());
  // and back on the CPU with its state on the device: refused, saying how to move the state
  await b.toAsync("cpu");
  setGrads(b.parameters(), 4, false);
  stateEdges.backOnCpu = message(() => ob.step());
  const sd = await ob.stateDictAsync();
  ob.loadStateDict(sd);
  setGrads(a.parameters(), 4, false);
  oa.step();
  ob.step();
  stateEdges.backOnCpuReloaded = await worstOf(b.parameters(), a.parameters());
} catch (e) {
  errors.push(`state edges: ${e instanceof Error ? `${e.message}\n${e.stack}` : String(e)}`);
}
Object.assign(results, { roundTrip, stateEdges });

finish(ctx, { errors, ...results });
