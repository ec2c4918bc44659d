// W5-sized training on the webgpu device: bench/w5.ts's model, LSTM(64→512, 2 layers) + Linear(512→1) on
// every step, batch 256, MSE, Adam (lr 1e-3), weights from manualSeed(0), with a short sequence so that
// SwiftShader gets through it (about 25 s a step per time step there: the step kernels do 2 × 256 × 2048 ×
// 512 multiply-adds a time step). A random initial state (h0, c0) makes even one time step go through
// W_hh and its gradient. The same steps run on the CPU from the same weights, data and state; prints the
// losses, every parameter's gradient error and the weights' error after each step, and the times, as one
// JSON line (test/webgpu-w5.test.ts; run.ts says why in a child process).
//
//   node --import tsx test/webgpu/w5-check.mts [--seq T] [--steps N]   (defaults: T = 1, 1 step)
//   node --import tsx test/webgpu/w5-check.mts --seq 100 --gpu-only [--forward-only]   (size and time probe)

import { nn, optim, Tensor } from "../../src/index.js";
import { deviceOrExit, finish } from "./setup.js";
import { absErr, scaledErr, W5, w5Names, w5Setup } from "./w5-step.js";

const args = process.argv.slice(2);
const arg = (name: string, dflt: number): number => {
  const i = args.indexOf(`--${name}`);
  if (i < 0) return dflt;
  const v = Number(args[i + 1]);
  if (!Number.isInteger(v) || v < 1)
    throw new Error(`--${name} should be an integer ≥ 1, got ${args[i + 1]}`);
  return v;
};
const T = arg("seq", 1);
const STEPS = arg("steps", 1);
const gpuOnly = args.includes("--gpu-only");
const forwardOnly = args.includes("--forward-only");

const ctx = await deviceOrExit();
const limits = {
  maxStorageBufferBindingSize: ctx.device.limits.maxStorageBufferBindingSize,
  maxBufferSize: ctx.device.limits.maxBufferSize,
};

// bench/w5.ts's setup (w5-step.ts): the same weights whatever T is
const setup = w5Setup(T);
const { lstm, head, x, y, h0, c0 } = setup;
const glstm = new nn.LSTM(W5.I, W5.H, { numLayers: W5.L });
const ghead = new nn.Linear(W5.H, 1);
glstm.loadStateDict(lstm.stateDict());
ghead.loadStateDict(head.stateDict());
glstm.to("webgpu");
ghead.to("webgpu");
const xg = x.to("webgpu");
const yg = y.to("webgpu");
const state: [Tensor, Tensor] = [h0, c0];
const stateGpu: [Tensor, Tensor] = [h0.to("webgpu"), c0.to("webgpu")];
const names = w5Names(setup);
const cpuParams = [...lstm.parameters(), ...head.parameters()];
const gpuParams = [...glstm.parameters(), ...ghead.parameters()];
const cpuOpt = new optim.Adam(cpuParams, { lr: 1e-3 });
const gpuOpt = new optim.Adam(gpuParams, { lr: 1e-3 });
// the CPU's Adam fed the device's own weights and gradients each step: the device's step against it is
// the optimizer alone, apart from the rounding of the gradients (which Adam's g/√v amplifies where g ≈ 0)
const shadow = cpuParams.map((p) => new Tensor(new Float32Array(p.numel), p.shape));
const shadowOpt = new optim.Adam(shadow, { lr: 1e-3 });

const ms = (t0: number) => Math.round(performance.now() - t0);
const steps: Record<string, unknown>[] = [];
let error = "";
try {
  if (forwardOnly) {
    // the training forward (gates saved for a backward) and the loss, read back
    const t0 = performance.now();
    const [out] = glstm.forward(xg, stateGpu) as [Tensor, unknown];
    const loss = nn.functional.mseLoss(ghead.forward(out), yg);
    const value = await loss.itemAsync();
    steps.push({ gpuLoss: value, gpuForwardMs: ms(t0), bytesLive: ctx.stats().bytesLive });
  }
  for (let s = 0; s < (forwardOnly ? 0 : STEPS); s++) {
    const step: Record<string, unknown> = {};
    // the device: forward and backward, then (after reading the weights and gradients) Adam's step
    let t0 = performance.now();
    gpuOpt.zeroGrad();
    const [gout] = glstm.forward(xg, stateGpu) as [Tensor, unknown];
    const gl = nn.functional.mseLoss(ghead.forward(gout), yg);
    step.bytesLiveAfterForward = ctx.stats().bytesLive;
    gl.backward();
    step.gpuLoss = await gl.itemAsync(); // waits for the backward too
    step.gpuForwardBackwardMs = ms(t0);
    const before: Float32Array[] = [];
    const gpuGrads: Float32Array[] = [];
    if (!gpuOnly) {
      for (const p of gpuParams) before.push((await p.cpuAsync()).data as Float32Array);
      for (const p of gpuParams) gpuGrads.push((await p.grad!.cpuAsync()).data as Float32Array);
    }
    t0 = performance.now();
    gpuOpt.step();
    await ctx.sync();
    step.gpuAdamMs = ms(t0);
    if (gpuOnly) {
      steps.push(step);
      continue;
    }
    // the CPU: the same step from the same weights
    t0 = performance.now();
    cpuOpt.zeroGrad();
    const [cout] = lstm.forward(x, state) as [Tensor, unknown];
    const cl = nn.functional.mseLoss(head.forward(cout), y);
    cl.backward();
    cpuOpt.step();
    step.cpuStepMs = ms(t0);
    step.cpuLoss = cl.item();
    step.lossRelErr = Math.abs((step.gpuLoss as number) - cl.item()) / Math.abs(cl.item());
    // the CPU's Adam on the device's weights and gradients
    for (let i = 0; i < shadow.length; i++) {
      (shadow[i].data as Float32Array).set(before[i]);
      shadow[i].grad = new Tensor(gpuGrads[i], cpuParams[i].shape);
    }
    shadowOpt.step();
    const gradErr: Record<string, number> = {};
    const weightAbsErr: Record<string, number> = {};
    const adamAbsErr: Record<string, number> = {};
    for (let i = 0; i < cpuParams.length; i++) {
      gradErr[names[i]] = scaledErr(gpuGrads[i], cpuParams[i].grad!.data as Float32Array);
      const w = (await gpuParams[i].cpuAsync()).data as Float32Array;
      weightAbsErr[names[i]] = absErr(w, cpuParams[i].data as Float32Array);
      adamAbsErr[names[i]] = absErr(w, shadow[i].data as Float32Array);
    }
    Object.assign(step, { gradErr, weightAbsErr, adamAbsErr });
    steps.push(step);
  }
} catch (e) {
  error = e instanceof Error ? `${e.message}\n${e.stack}` : String(e);
}

finish(ctx, { T, B: W5.B, limits, names, steps, error, stats: ctx.stats() });
