// Tensors on the webgpu device: the ops that run there against the same ops on the CPU, the device errors,
// and read-back. Prints one JSON line for test/webgpu-tensor.test.ts.

import { manualSeed, maximum, nn, noGrad, optim, randn, type Tensor, tensor } from "../../src/index.js";
import { gemm } from "../../src/kernels/gemm.js";
import { gpuGemm } from "../../src/kernels/webgpu/ops.js";
import { deviceOrExit, finish } from "./setup.js";

const ctx = await deviceOrExit();
manualSeed(7);

/** Largest |gpu − cpu| / (1 + |cpu|) over the elements. */
async function relErr(gpu: Tensor, cpu: Tensor): Promise<number> {
  const g = (await gpu.cpuAsync()).data;
  const c = cpu.data;
  if (g.length !== c.length) return Number.POSITIVE_INFINITY;
  let worst = 0;
  for (let i = 0; i < c.length; i++) worst = Math.max(worst, Math.abs(g[i] - c[i]) / (1 + Math.abs(c[i])));
  return worst;
}

const a = randn(33, 47).mul(3);
const b = randn(33, 47);
const m = randn(47, 21);
const ga = a.to("webgpu");
const gb = b.to("webgpu");
const gm = m.to("webgpu");

const errors: Record<string, number> = {
  add: await relErr(ga.add(gb, 0.5), a.add(b, 0.5)),
  sub: await relErr(ga.sub(gb), a.sub(b)),
  mul: await relErr(ga.mul(gb), a.mul(b)),
  div: await relErr(ga.div(gb.sigmoid()), a.div(b.sigmoid())),
  neg: await relErr(ga.neg(), a.neg()),
  exp: await relErr(gb.exp(), b.exp()),
  tanh: await relErr(ga.tanh(), a.tanh()),
  sigmoid: await relErr(ga.sigmoid(), a.sigmoid()),
  relu: await relErr(ga.relu(), a.relu()),
  matmul: await relErr(ga.matmul(gm), a.matmul(m)),
  // a chain with no read-back in between: one LSTM-like gate
  chain: await relErr(
    ga.matmul(gm).tanh().mul(ga.matmul(gm).sigmoid()),
    a.matmul(m).tanh().mul(a.matmul(m).sigmoid()),
  ),
};

// extremes: tanh and sigmoid saturate without NaN
const ext = tensor([-100, -20, -1e-8, 0, 1e-8, 20, 100]);
const extremes = {
  tanh: Array.from((await ext.to("webgpu").tanh().cpuAsync()).data),
  sigmoid: Array.from((await ext.to("webgpu").sigmoid().cpuAsync()).data),
};

// tanh's relative error where its two formulas meet and near 0 (1e-8: 1 − e^−2x rounds to 0 in float32)
const small = tensor([1e-8, -1e-5, 1e-3, 0.3, -0.62, 0.624, 0.626, 0.7, -1, 3]);
const tanhSmall = (await small.to("webgpu").tanh().cpuAsync()).data;
let tanhRelErr = 0;
small.tanh().data.forEach((c, i) => {
  tanhRelErr = Math.max(tanhRelErr, Math.abs(tanhSmall[i] - c) / Math.abs(c));
});

// model.to("webgpu") moves the same Parameter objects (an optimizer made before still holds them);
// toAsync("cpu") brings back the same values
const model = new nn.Sequential(new nn.Linear(5, 4), new nn.Tanh(), new nn.Linear(4, 2));
const params = model.parameters();
const before = params.map((p) => Array.from(p.data));
const opt = new optim.SGD(params, { lr: 0.1 });
model.to("webgpu");
const moduleDevices = model.parameters().map((p) => p.device);
const sameObjects = model.parameters().every((p, i) => p === params[i]);
const weight0 = await (params[0] as Tensor).cpuAsync();
let moduleToCpu = "";
try {
  model.to("cpu");
} catch (e) {
  moduleToCpu = String(e);
}
await model.toAsync("cpu");
const moduleBack = {
  devices: model.parameters().map((p) => p.device),
  valuesEqual: model.parameters().every((p, i) => p.data.every((v, j) => v === before[i][j])),
  weight0Equal: weight0.data.every((v, j) => v === before[0][j]),
  optimizerHolds: (opt.paramGroups[0].params as Tensor[]).every((p, i) => p === params[i]),
};

// every (transA, transB, bias) form of the device product against the TypeScript gemm kernel
const gemmErrors: Record<string, number> = {};
for (const [tA, tB, withBias] of [
  [false, false, false],
  [true, false, false],
  [false, true, true],
  [true, true, true],
] as const) {
  const [M, N, K] = [19, 23, 37];
  const A = randn(M * K).data;
  const B = randn(K * N).data;
  const bias = randn(N).data;
  const C = new Float32Array(M * N);
  if (withBias) for (let r = 0; r < M; r++) C.set(bias, r * N);
  gemm(tA, tB, M, N, K, A, 0, tA ? M : K, B, 0, tB ? K : N, withBias ? 1 : 0, C, 0, N);
  const buf = gpuGemm(ctx, tA, tB, M, N, K, ctx.upload(A), ctx.upload(B), withBias ? ctx.upload(bias) : null);
  const G = await ctx.read(buf);
  // error relative to Σ|a·b| (+|bias|): float32 sums in another order differ by a few ulps of that
  const S = new Float32Array(M * N);
  if (withBias) for (let r = 0; r < M; r++) S.set(bias.map(Math.abs), r * N);
  gemm(
    tA,
    tB,
    M,
    N,
    K,
    A.map(Math.abs),
    0,
    tA ? M : K,
    B.map(Math.abs),
    0,
    tB ? K : N,
    withBias ? 1 : 0,
    S,
    0,
    N,
  );
  let worst = 0;
  for (let i = 0; i < C.length; i++) worst = Math.max(worst, Math.abs(G[i] - C[i]) / S[i]);
  gemmErrors[`${tA ? "T" : "N"}${tB ? "T" : "N"}${withBias ? "+bias" : ""}`] = worst;
}

// a small network's inference on the device (under noGrad: autograd stays on the CPU)
const net = new nn.Sequential(new nn.Linear(5, 16), new nn.Tanh(), new nn.Linear(16, 3), new nn.Sigmoid());
const inputs = [randn(7, 5), randn(2, 7, 5)];
const cpuOut = noGrad(() => inputs.map((x) => net.forward(x)));
net.to("webgpu");
const gpuOut = noGrad(() => inputs.map((x) => net.forward(x.to("webgpu"))));
const netErrors: number[] = [];
for (let i = 0; i < inputs.length; i++) netErrors.push(await relErr(gpuOut[i], cpuOut[i]));
const netShapes = gpuOut.map((t) => t.shape);
let netGrad = "";
try {
  net.forward(inputs[0].to("webgpu"));
} catch (e) {
  netGrad = String(e);
}
let netMixed = "";
try {
  noGrad(() => net.forward(inputs[0]));
} catch (e) {
  netMixed = String(e);
}

// broadcasting as PyTorch's: row, trailing vector, outer, 4-D against 3-D
const pairs: [string, Tensor, Tensor, "add" | "sub" | "mul" | "div"][] = [
  ["row", a, randn(1, 47), "add"],
  ["vector", a, randn(47), "mul"],
  ["outer", randn(33, 1), randn(1, 47), "sub"],
  ["4d3d", randn(2, 1, 3, 1), randn(4, 1, 5).sigmoid(), "div"],
  ["scalarTensor", a, tensor(1.5), "mul"],
];
const broadcast: Record<string, number> = {};
const broadcastShapes: Record<string, number[]> = {};
for (const [name, x, y, op] of pairs) {
  const gpu = x.to("webgpu")[op](y.to("webgpu"));
  broadcast[name] = await relErr(gpu, x[op](y));
  broadcastShapes[name] = gpu.shape;
}

// shape ops share the buffer; clone copies it
const shaped = {
  reshape: await relErr(ga.reshape(11, 3, 47).tanh(), a.reshape(11, 3, 47).tanh()),
  view: await relErr(ga.view(-1).sigmoid(), a.view(-1).sigmoid()),
  flatten: (await ga.unsqueeze(0).flatten().cpuAsync()).shape,
  squeeze: ga.unsqueeze(1).squeeze(1).shape,
  clone: await relErr(ga.clone(), a),
  sharesBuffer: ga.reshape(47, 33)._gpu?.buffer === ga._gpu?.buffer,
  cloneSharesBuffer: ga.clone()._gpu?.buffer === ga._gpu?.buffer,
};

const message = (f: () => unknown): string => {
  try {
    f();
    return "no error";
  } catch (e) {
    return String(e instanceof Error ? e.message : e);
  }
};
const item = await tensor([4.25]).to("webgpu").itemAsync();
const scalar = tensor(2.5).to("webgpu");
const x = randn(3).requiresGrad_();

finish(ctx, {
  errors,
  extremes,
  tanhRelErr,
  broadcast,
  broadcastShapes,
  shaped,
  gemmErrors,
  netErrors,
  netShapes,
  netGrad,
  netMixed,
  moduleDevices,
  sameObjects,
  moduleToCpu,
  moduleBack,
  devices: [a.device, ga.device, (await ga.cpuAsync()).device, ga.detach().device],
  shape: ga.matmul(gm).shape,
  scalar: { shape: scalar.shape, numel: scalar.numel, value: await scalar.itemAsync() },
  item,
  sameOnCpu: (await a.cpuAsync()) === a && a.to("cpu") === a && ga.to("webgpu") === ga,
  mixedAdd: message(() => ga.add(b)),
  mixedMul: message(() => a.mul(gb)),
  mixedMatmul: message(() => a.matmul(gm)),
  mixedMax: message(() => maximum(ga, b)),
  // an attention mask tensor must be on the query's device (nested booleans have none and follow it)
  mixedMask: message(() => {
    const att = new nn.MultiheadAttention(4, 2).to("webgpu");
    const qq = randn(3, 1, 4).to("webgpu");
    return att.forward(qq, qq, qq, {
      attnMask: tensor([
        [0, 1, 0],
        [0, 0, 1],
        [1, 0, 0],
      ]).bool(),
    });
  }),
  nestedMask: message(() => {
    const att = new nn.MultiheadAttention(4, 2).to("webgpu");
    const qq = randn(3, 1, 4).to("webgpu");
    const m = [
      [false, true, false],
      [false, false, true],
      [true, false, false],
    ];
    return att.forward(qq, qq, qq, { attnMask: m });
  }),
  notYet: message(() => ga.max(1).indices.add(1)), // the device's int64 tensors are read back only
  fill: message(() => ga.fill_(1)),
  data: message(() => ga.data),
  toCpu: message(() => ga.to("cpu")),
  broadcastError: message(() => ga.add(randn(2, 47).to("webgpu"))),
  grad: message(() => x.to("webgpu")),
  gradOk: noGrad(() => x.to("webgpu").device),
  str: String(ga),
  stats: ctx.stats(),
});
