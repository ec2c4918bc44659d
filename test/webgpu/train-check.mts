// Training on the webgpu device: the gradients of the device ops against the same graph on the CPU, the
// notes' sine RNN (RNN(1→16) + Linear, MSE, SGD) trained on both from the same weights, and the refusals
// of what does not train there yet. Prints one JSON line for test/webgpu-train.test.ts.

import { manualSeed, nn, optim, randn, type Tensor, tensor } from "../../src/index.js";
import { sineData, SineNet } from "./sine-train.js";
import { deviceOrExit, finish } from "./setup.js";

const ctx = await deviceOrExit();
manualSeed(3);

/** Largest |gpu − cpu| / (1 + |cpu|) over the elements. */
async function relErr(gpu: Tensor | null, cpu: Tensor | null): Promise<number> {
  if (gpu === null || cpu === null) return Number.POSITIVE_INFINITY;
  const g = (await gpu.cpuAsync()).data;
  const c = cpu.data;
  if (g.length !== c.length) return Number.POSITIVE_INFINITY;
  let worst = 0;
  for (let i = 0; i < c.length; i++) worst = Math.max(worst, Math.abs(g[i] - c[i]) / (1 + Math.abs(c[i])));
  return worst;
}

function message(fn: () => unknown): string {
  try {
    fn();
    return "";
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
}

// 1. one graph through every op with a device backward, on both devices from the same leaves
function leaves(onGpu: boolean, values: Tensor[]): Tensor[] {
  return values.map((v) => (onGpu ? v.to("webgpu") : v.clone()).requiresGrad_());
}
const values = [randn(6, 5), randn(5), randn(6, 5), randn(3, 5), randn(3), randn(3, 4), randn(6, 4)];
function graph(ts: Tensor[], half: Tensor): Tensor {
  const [x, c, m, w, b, w2, y] = ts;
  const h = x.mul(m).add(c).tanh(); // broadcast add (c: (5)), mul
  const z = nn.functional.linear(h, w, b).sigmoid(); // (6, 3)
  const u = z.matmul(w2).relu().sub(y.mul(half)); // (6, 4)
  return nn.functional
    .mseLoss(u, y.neg())
    .add(u.reshape([24]).mean())
    .add(z.sum().mul(z.sum()));
}
const cpuLeaves = leaves(false, values);
const gpuLeaves = leaves(true, values);
let graphError = "";
const opGradErrors: number[] = [];
let opLossErr = Number.POSITIVE_INFINITY;
try {
  const half = tensor([0.5]);
  const lossCpu = graph(cpuLeaves, half);
  const lossGpu = graph(gpuLeaves, half.to("webgpu"));
  lossCpu.backward();
  lossGpu.backward();
  opLossErr = await relErr(lossGpu, lossCpu);
  for (let i = 0; i < values.length; i++) {
    opGradErrors.push(await relErr(gpuLeaves[i].grad, cpuLeaves[i].grad));
  }
} catch (e) {
  graphError = e instanceof Error ? `${e.message}\n${e.stack}` : String(e);
}
const gradDevices = gpuLeaves.map((t) => t.grad?.device ?? "none");

// 2. the sine RNN: predict sin one step ahead, 50 points, batch of 4 phases, batch_first
const [X, Y] = sineData();
const cpuNet = new SineNet();
const gpuNet = new SineNet();
gpuNet.loadStateDict(cpuNet.stateDict());
gpuNet.to("webgpu");
const cpuOpt = new optim.SGD(cpuNet.parameters(), { lr: 0.05, momentum: 0.9 });
const gpuOpt = new optim.SGD(gpuNet.parameters(), { lr: 0.05, momentum: 0.9 });
const Xg = X.to("webgpu");
const Yg = Y.to("webgpu");
const STEPS = 20;
const cpuLosses: number[] = [];
const gpuLosses: number[] = [];
let trainError = "";
try {
  for (let s = 0; s < STEPS; s++) {
    cpuOpt.zeroGrad();
    const lc = nn.functional.mseLoss(cpuNet.forward(X), Y);
    lc.backward();
    cpuOpt.step();
    cpuLosses.push(lc.item());
    gpuOpt.zeroGrad();
    const lg = nn.functional.mseLoss(gpuNet.forward(Xg), Yg);
    lg.backward();
    gpuOpt.step();
    gpuLosses.push((await lg.cpuAsync()).item());
  }
} catch (e) {
  trainError = e instanceof Error ? `${e.message}\n${e.stack}` : String(e);
}
const lossRelErr = cpuLosses.map((c, i) => Math.abs(gpuLosses[i] - c) / Math.abs(c));
const gpuParams = gpuNet.parameters();
const cpuParams = cpuNet.parameters();
const weightErrors: number[] = [];
for (let i = 0; i < cpuParams.length; i++) weightErrors.push(await relErr(gpuParams[i], cpuParams[i]));
const paramDevices = gpuParams.map((p) => p.device);

// 2b. LSTM and GRU layers under grad: the gradients of input, initial states and weights from every output
const cellErrors: Record<string, number> = {};
for (const [mode, layers, bi] of [
  ["LSTM", 1, false],
  ["GRU", 1, false],
  ["LSTM", 2, true],
  ["GRU", 2, true],
] as const) {
  const opts = { numLayers: layers, bidirectional: bi, batchFirst: bi };
  const mk = () => (mode === "LSTM" ? new nn.LSTM(2, 3, opts) : new nn.GRU(2, 3, opts));
  const mc = mk();
  const mg = mk();
  mg.loadStateDict(mc.stateDict());
  mg.to("webgpu");
  const xv = bi ? randn(2, 5, 2) : randn(5, 2, 2); // batch 2, 5 steps (batch first when bidirectional)
  const hv = randn(layers * (bi ? 2 : 1), 2, 3);
  const cv = randn(layers * (bi ? 2 : 1), 2, 3);
  const run = (m: nn.Module & { forward(...a: unknown[]): unknown }, onGpu: boolean): Tensor[] => {
    const mv = (t: Tensor) => (onGpu ? t.to("webgpu") : t.clone()).requiresGrad_();
    const x = mv(xv);
    const h = mv(hv);
    const c = mv(cv);
    const [y, st] = m.forward(x, mode === "LSTM" ? [h, c] : h) as [Tensor, Tensor | [Tensor, Tensor]];
    const wv = tensor([0.5, -1, 2]);
    const w = onGpu ? wv.to("webgpu") : wv;
    let loss = y.mul(y).sum();
    if (Array.isArray(st)) loss = loss.add(st[0].mul(w).sum()).add(st[1].mul(st[1]).sum());
    else loss = loss.add(st.mul(w).sum());
    loss.backward();
    return [x, h, ...(mode === "LSTM" ? [c] : []), ...m.parameters()];
  };
  try {
    const tc = run(mc as never, false);
    const tg = run(mg as never, true);
    const tag = layers === 1 ? mode : `${mode} 2-layer bidirectional`;
    for (let i = 0; i < tc.length; i++) cellErrors[`${tag} ${i}`] = await relErr(tg[i].grad, tc[i].grad);
  } catch (e) {
    cellErrors[`${mode} ${layers} error: ${e instanceof Error ? e.message : String(e)}`] =
      Number.POSITIVE_INFINITY;
  }
}

// 2c. Adam and AdamW (amsgrad) steps on the device: 10 steps of the sine RNN from the same weights
const adamErrors: Record<string, number> = {};
for (const [name, make] of [
  ["Adam", (ps: Tensor[]) => new optim.Adam(ps, { lr: 0.01 })],
  ["AdamW amsgrad", (ps: Tensor[]) => new optim.AdamW(ps, { lr: 0.01, amsgrad: true, weightDecay: 0.1 })],
] as const) {
  const nc = new SineNet();
  const ng = new SineNet();
  ng.loadStateDict(nc.stateDict());
  ng.to("webgpu");
  const oc = make(nc.parameters());
  const og = make(ng.parameters());
  let worstLoss = 0;
  try {
    for (let s = 0; s < 10; s++) {
      oc.zeroGrad();
      og.zeroGrad(false);
      const lc = nn.functional.mseLoss(nc.forward(X), Y);
      const lg = nn.functional.mseLoss(ng.forward(Xg), Yg);
      lc.backward();
      lg.backward();
      oc.step();
      og.step();
      const c = lc.item();
      worstLoss = Math.max(worstLoss, Math.abs((await lg.cpuAsync()).item() - c) / Math.abs(c));
    }
    adamErrors[`${name} loss`] = worstLoss;
    const pc = nc.parameters();
    const pg = ng.parameters();
    let worst = 0;
    for (let i = 0; i < pc.length; i++) worst = Math.max(worst, await relErr(pg[i], pc[i]));
    adamErrors[`${name} weights`] = worst;
  } catch (e) {
    adamErrors[`${name} error: ${e instanceof Error ? e.message : String(e)}`] = Number.POSITIVE_INFINITY;
  }
}

// 2d. the engine's paths with device gradients: a hook that doubles a gradient, retainGrad, two backward
// passes through a recurrent node with retainGraph (gradients accumulate), and the error without it
const engine: Record<string, unknown> = {};
try {
  const hv = randn(3);
  const twoG = tensor([2, 2, 2]).to("webgpu");
  const hl = hv.to("webgpu").requiresGrad_();
  const mid = hl.tanh();
  mid.retainGrad();
  mid.registerHook((g) => g.mul(twoG));
  mid.sum().backward();
  const th = Array.from(hv.data, (v) => 2 * (1 - Math.tanh(v) ** 2));
  const got = Array.from((await hl.grad!.cpuAsync()).data);
  engine.hookErr = Math.max(...got.map((v, i) => Math.abs(v - th[i])));
  engine.retained = Array.from((await mid.grad!.cpuAsync()).data);
  const r = new nn.RNN(1, 4);
  r.to("webgpu");
  const lossOf = () => (r.forward(randn(3, 1, 1).to("webgpu")) as [Tensor, Tensor])[0].sum();
  const l = lossOf();
  l.backward(undefined, { retainGraph: true });
  const once = Array.from((await r.parameters()[0].grad!.cpuAsync()).data);
  l.backward();
  const twice = Array.from((await r.parameters()[0].grad!.cpuAsync()).data);
  engine.accumulateErr = Math.max(...twice.map((v, i) => Math.abs(v - 2 * once[i])));
  engine.thirdBackward = message(() => l.backward());
} catch (e) {
  engine.error = e instanceof Error ? `${e.message}\n${e.stack}` : String(e);
}

// 3. what does not train on the device yet refuses saying so
const lstm2 = new nn.LSTM(2, 3, { numLayers: 2, dropout: 0.5 });
lstm2.to("webgpu");
const xl = randn(4, 1, 2).to("webgpu");
const adamNet = new nn.Linear(2, 1);
adamNet.to("webgpu");
// an optimizer without a device step (SGD, Adam, AdamW and RMSprop have one)
class HostOnly extends optim.Optimizer {
  protected updateParam(): void {}
}
const hostOnly = new HostOnly(adamNet.parameters(), { lr: 0.01 });
nn.functional.mseLoss(adamNet.forward(randn(3, 2).to("webgpu")), randn(3, 1).to("webgpu")).backward();
const lin = randn(3, 2).to("webgpu").requiresGrad_();
const refusals = {
  lstm2: message(() => lstm2.forward(xl)),
  hostOnly: message(() => hostOnly.step()),
  div: message(() => lin.div(lin)),
  moveGrad: message(() => randn(2).requiresGrad_().to("webgpu")),
};

finish(ctx, {
  graphError,
  opLossErr,
  opGradErrors,
  gradDevices,
  trainError,
  cpuLosses,
  gpuLosses,
  lossRelErr,
  weightErrors,
  paramDevices,
  cellErrors,
  adamErrors,
  engine,
  refusals,
});
