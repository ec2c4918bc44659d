// pow with a tensor exponent and max / min / argmax / argmin on the webgpu device against the same ops on
// the CPU, on the cases where they could part: JavaScript's ** at its edges (negative bases, zeros of
// either sign, NaN, infinities), ties and NaN in the extremes, the indices (int64, on the device) and the
// gradients. Prints one JSON line for test/webgpu-extremes.test.ts.

import { pow, tensor, type Tensor } from "../../src/index.js";
import { deviceOrExit, finish } from "./setup.js";

const ctx = await deviceOrExit();

const message = (f: () => unknown): string => {
  try {
    f();
    return "";
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
};

/** The elements where gpu and cpu part: NaN against a number, unequal infinities, or a relative error past tol. */
function mismatches(gpu: ArrayLike<number>, cpu: ArrayLike<number>, tol: number, what: string): string[] {
  if (gpu.length !== cpu.length) return [`${what}: ${gpu.length} elements, the CPU ${cpu.length}`];
  const bad: string[] = [];
  for (let i = 0; i < cpu.length; i++) {
    const g = gpu[i];
    const c = cpu[i];
    const same =
      Number.isNaN(c) || !Number.isFinite(c)
        ? Object.is(g, c)
        : Math.abs(g - c) <= tol * Math.max(Math.abs(c), 1e-30);
    if (!same) bad.push(`${what}[${i}]: ${g}, the CPU ${c}`);
  }
  return bad;
}

const read = async (t: Tensor) => Array.from((await t.cpuAsync()).storage);

// ---- pow: every base against every exponent, elementwise (so each gradient element is one x and one y)
const BASES = [
  -3,
  -2,
  -1.5,
  -1,
  -0.5,
  -0,
  0,
  0.5,
  1,
  1.5,
  2,
  3,
  Number.NaN,
  Number.POSITIVE_INFINITY,
  Number.NEGATIVE_INFINITY,
];
const EXPS = [
  0,
  1,
  2,
  3,
  -1,
  -2,
  -3,
  0.5,
  -0.5,
  1.5,
  2.5,
  1 / 3,
  Number.NaN,
  Number.POSITIVE_INFINITY,
  Number.NEGATIVE_INFINITY,
];
const xs: number[] = [];
const ys: number[] = [];
for (const x of BASES) {
  for (const y of EXPS) {
    xs.push(x);
    ys.push(y);
  }
}
const cx = tensor(xs).requiresGrad_();
const cy = tensor(ys).requiresGrad_();
const gx = tensor(xs).to("webgpu").requiresGrad_();
const gy = tensor(ys).to("webgpu").requiresGrad_();
const cOut = cx.pow(cy);
const gOut = gx.pow(gy);
const w = tensor(xs.map((_, i) => 0.5 + (i % 7) * 0.25)); // the output's weighting, nonzero
cOut.backward(w);
gOut.backward(w.to("webgpu"));
const powEdges = [
  ...mismatches(await read(gOut), Array.from(cOut.data), 2e-6, "x ** y"),
  ...mismatches(await read(gx.grad!), Array.from(cx.grad!.data), 2e-6, "dx"),
  ...mismatches(await read(gy.grad!), Array.from(cy.grad!.data), 2e-6, "dy"),
];
// a number exponent (PowBackward0): every base against each exponent, values and gradient
const scalarPow: string[] = [];
for (const e of EXPS) {
  const c = tensor(BASES).requiresGrad_();
  const g = tensor(BASES).to("webgpu").requiresGrad_();
  const co = c.pow(e);
  const go = g.pow(e);
  co.sum().backward();
  go.sum().backward();
  scalarPow.push(
    ...mismatches(await read(go), Array.from(co.data), 2e-6, `x ** ${e}`),
    ...mismatches(await read(g.grad!), Array.from(c.grad!.data), 2e-6, `d(x ** ${e})`),
  );
}
// the signs the CPU gives a negative base: odd integer powers negative, even positive, others NaN
const spell = (v: number) => (Object.is(v, -0) ? "-0" : String(v));
const signs = (
  await read(
    tensor([-2, -2, -2, -0, -0])
      .to("webgpu")
      .pow(tensor([3, 2, 0.5, 3, -3]).to("webgpu")),
  )
).map(spell);

// broadcast: (4, 1, 3) ** (5, 1), random finite values, the gradients summed back to each operand
const bx = Array.from({ length: 12 }, (_, i) => 0.2 + ((i * 37) % 11) / 5);
const by = Array.from({ length: 5 }, (_, i) => -1.5 + i * 0.8);
const bcx = tensor(bx).reshape([4, 1, 3]).requiresGrad_();
const bcy = tensor(by).reshape([5, 1]).requiresGrad_();
const bgx = tensor(bx).reshape([4, 1, 3]).to("webgpu").requiresGrad_();
const bgy = tensor(by).reshape([5, 1]).to("webgpu").requiresGrad_();
const bcOut = bcx.pow(bcy);
const bgOut = bgx.pow(bgy);
bcOut.sum().backward();
bgOut.sum().backward();
const powBroadcast = [
  ...mismatches(await read(bgOut), Array.from(bcOut.data), 2e-6, "x ** y"),
  ...mismatches(await read(bgx.grad!), Array.from(bcx.grad!.data), 1e-5, "dx"),
  ...mismatches(await read(bgy.grad!), Array.from(bcy.grad!.data), 1e-5, "dy"),
];
// a number base: 2 ** y (PowBackward2), the gradient to y only
const ny = tensor([-1, 0, 0.5, 3]).to("webgpu").requiresGrad_();
const nOut = pow(2, ny);
nOut.sum().backward();
const numberBase = {
  name: nOut.gradFn?.name,
  out: await read(nOut),
  grad: await read(ny.grad!),
  cpuGrad: (() => {
    const t = tensor([-1, 0, 0.5, 3]).requiresGrad_();
    pow(2, t).sum().backward();
    return Array.from(t.grad!.data);
  })(),
  tensorName: gOut.gradFn?.name,
};

// ---- max / min: ties (the first wins, ±0 tie), NaN (the first NaN wins), along each dim and overall
const N = Number.NaN;
const M = [
  [1, 3, 3, 2, 3],
  [N, 5, N, 0, 5],
  [-0, 0, -1, -1, 0],
  [7, 7, 7, 7, 7],
];
const flat = M.flat();
const extremes: Record<string, string[]> = {};
const deviceInfo: Record<string, unknown> = {};
const cases: [string, (t: Tensor) => Tensor | { values: Tensor; indices: Tensor }][] = [
  ["max(1)", (t) => t.max(1)],
  ["max(0)", (t) => t.max(0)],
  ["min(1)", (t) => t.min(1)],
  ["min(0, keepdim)", (t) => t.min(0, true)],
  ["max(-1, keepdim)", (t) => t.max(-1, true)],
  ["max()", (t) => t.max()],
  ["min()", (t) => t.min()],
  ["max() of rows 2-3", (t) => t.narrow(0, 2, 2).max()],
  ["min() of row 2", (t) => t.select(0, 2).min()],
  // nine dimensions (past the broadcasting kernels' eight)
  ["max() in 9-d", (t) => t.reshape([1, 2, 1, 2, 1, 5, 1, 1, 1]).max()],
  ["min(5) in 9-d", (t) => t.reshape([1, 2, 1, 2, 1, 5, 1, 1, 1]).min(5)],
];
for (const [name, f] of cases) {
  const c = tensor(flat).reshape([4, 5]).requiresGrad_();
  const g = tensor(flat).reshape([4, 5]).to("webgpu").requiresGrad_();
  const rc = f(c);
  const rg = f(g);
  const vc = rc instanceof Object && "values" in rc ? rc.values : (rc as Tensor);
  const vg = rg instanceof Object && "values" in rg ? rg.values : (rg as Tensor);
  const bad = mismatches(await read(vg), Array.from(vc.data), 0, "values");
  if (vg.gradFn?.name !== vc.gradFn?.name) bad.push(`node ${vg.gradFn?.name}, the CPU ${vc.gradFn?.name}`);
  if (JSON.stringify(vg.shape) !== JSON.stringify(vc.shape))
    bad.push(`shape ${vg.shape}, the CPU ${vc.shape}`);
  if ("indices" in rg && "indices" in (rc as object)) {
    const ic = (rc as { indices: Tensor }).indices;
    const ig = rg.indices;
    const back = await ig.cpuAsync();
    deviceInfo[name] = { device: ig.device, dtype: ig.dtype, back: back.dtype, str: String(ig) };
    bad.push(...mismatches(Array.from(back.storage), Array.from(ic.storage), 0, "indices"));
    if (JSON.stringify(ig.shape) !== JSON.stringify(ic.shape)) bad.push(`indices shape ${ig.shape}`);
  }
  const wv =
    vc.shape.length === 0
      ? tensor(1.5)
      : tensor(Array.from({ length: vc.numel }, (_, i) => 1 + i)).reshape(vc.shape);
  vc.backward(wv);
  vg.backward(wv.to("webgpu"));
  bad.push(...mismatches(await read(g.grad!), Array.from(c.grad!.data), 1e-7, "grad"));
  extremes[name] = bad;
}

// argmax / argmin: overall (one workgroup's tree, ties across its threads: the first must win), along a dim
const many = Array.from({ length: 5000 }, (_, i) => ((i * 7919) % 13) - 6); // each value tied ~385 times
many[4321] = Number.NaN;
many[4999] = Number.NaN;
const argCases: [string, number[], (t: Tensor) => Tensor][] = [
  ["argmax() ties", Array.from({ length: 5000 }, (_, i) => ((i * 7919) % 13) - 6), (t) => t.argmax()],
  ["argmin() ties", Array.from({ length: 5000 }, (_, i) => ((i * 7919) % 13) - 6), (t) => t.argmin()],
  ["argmax() NaN", many, (t) => t.argmax()],
  ["argmin() NaN", many, (t) => t.argmin()],
  ["max() NaN", many, (t) => t.max()],
  ["argmax(1)", flat, (t) => t.reshape([4, 5]).argmax(1)],
  ["argmin(0, keepdim)", flat, (t) => t.reshape([4, 5]).argmin(0, true)],
  ["argmax(keepdim)", flat, (t) => t.reshape([4, 5]).argmax(undefined, true)],
];
for (const [name, values, f] of argCases) {
  const c = f(tensor(values));
  const g = f(tensor(values).to("webgpu"));
  const bad = mismatches(await read(g), Array.from(c.storage), 0, name);
  if (g.dtype !== c.dtype) bad.push(`dtype ${g.dtype}, the CPU ${c.dtype}`);
  if (JSON.stringify(g.shape) !== JSON.stringify(c.shape)) bad.push(`shape ${g.shape}, the CPU ${c.shape}`);
  extremes[name] = bad;
}

// the device's int64 tensors: views that share the storage keep the dtype; every other op refuses
const idx = tensor(flat).reshape([4, 5]).to("webgpu").max(1).indices;
const reshaped = idx.reshape([2, 2]);
const int64 = {
  reshape: { dtype: reshaped.dtype, device: reshaped.device, values: await read(reshaped) },
  detach: idx.detach().dtype,
  add: message(() => idx.add(1)),
  mulFloat: message(() => tensor(flat).reshape([4, 5]).to("webgpu").max(1).values.mul(idx)),
  max: message(() => idx.max()),
  requiresGrad: message(() => idx.requiresGrad_()),
  toFloat: message(() => idx.to("float32")),
  data: message(() => idx.data),
};
const errors = {
  emptyAll: [message(() => tensor([]).to("webgpu").max()), message(() => tensor([]).max())],
  emptyDim: [
    message(() => tensor([]).reshape([0, 2]).to("webgpu").min(0)),
    message(() => tensor([]).reshape([0, 2]).min(0)),
  ],
  emptyArg: [message(() => tensor([]).to("webgpu").argmax()), message(() => tensor([]).argmax())],
  dim: [message(() => tensor([1, 2]).to("webgpu").max(2)), message(() => tensor([1, 2]).max(2))],
  mixed: message(() =>
    tensor([1, 2])
      .to("webgpu")
      .pow(tensor([1, 2])),
  ),
};

finish(ctx, { powEdges, scalarPow, signs, powBroadcast, numberBase, extremes, deviceInfo, int64, errors });
