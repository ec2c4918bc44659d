// Gradient clipping and optimizers on the webgpu device (run by test/webgpu-optim.test.ts in a child
// process: see test/webgpu/run.ts). Device results against PyTorch 1.13's fixtures (clip.json,
// trajectories.json) and against the CPU path on the same leaves; the optimizers' device state through
// stateDictAsync / loadStateDict. Prints one JSON line.

import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Tensor } from "../../src/core/tensor.js";
import { clipGradNorm_, clipGradNormAsync_, clipGradValue_ } from "../../src/nn/clip.js";
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
function leaves(grads: Tensor[], gpu: boolean): Tensor[] {
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
  for (const p of [2, 1, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 0, 3, 0.5, -1.5]) {
    for (const maxNorm of [0.25, 1e4]) {
      for (const [tag, grads] of [
        ["zeros", mixed],
        ["no zeros", mixed.slice(1)],
        ["one", mixed.slice(1, 2)],
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

finish(ctx, { errors, ...results });
