// Bundled by test/webgpu-browser.test.ts and run in headless Chromium: the public entry's WebGPU device
// from navigator.gpu, checked against the CPU ops on the same values, in the page (runWebGPU); and the
// notes' sine RNN trained in the page on the CPU and on the GPU, SGD with momentum and Adam
// (runWebGPUTraining), for the test to compare with each other and with the same training in Node; and one
// W5-sized Adam step (w5-step.ts: LSTM(64→512, 2 layers), batch 256) on the page's GPU and CPU (runWebGPUW5).

import { randn, requestWebGPU } from "../../src/index.js";
import { type SineOptimizer, type SineRun, trainSine } from "./sine-train.js";
import { absErr, fingerprint, scaledErr, w5AdamStep } from "./w5-step.js";

async function run(): Promise<Record<string, unknown>> {
  const ctx = await requestWebGPU();
  const a = randn(20, 30);
  const b = randn(30, 10);
  const g = await a.to("webgpu").matmul(b.to("webgpu")).tanh().cpuAsync();
  const s = await a.to("webgpu").sigmoid().mul(a.to("webgpu")).cpuAsync();
  const c = a.matmul(b).tanh().data;
  const d = a.sigmoid().mul(a).data;
  let err = 0;
  for (let i = 0; i < c.length; i++) err = Math.max(err, Math.abs(c[i] - g.data[i]) / (1 + Math.abs(c[i])));
  for (let i = 0; i < d.length; i++) err = Math.max(err, Math.abs(d[i] - s.data[i]) / (1 + Math.abs(d[i])));
  let mixed = "";
  try {
    a.to("webgpu").add(a);
  } catch (e) {
    mixed = String(e);
  }
  return {
    adapter: ctx.adapterInfo,
    err,
    devices: [g.device, a.to("webgpu").device],
    mixed,
    stats: ctx.stats(),
    // the device asked for the adapter's limits (WebGPUContext.create's default)
    limits: ["maxStorageBufferBindingSize", "maxBufferSize"].map((k) => [
      (ctx.device.limits as unknown as Record<string, number>)[k],
      ctx.adapterLimits[k],
    ]),
  };
}

async function training(steps: Record<SineOptimizer, number>): Promise<Record<string, unknown>> {
  let ctx: Awaited<ReturnType<typeof requestWebGPU>>;
  try {
    ctx = await requestWebGPU();
  } catch (e) {
    return { unavailable: String(e) };
  }
  const runs: Record<string, SineRun | string> = {};
  for (const opt of ["sgd", "adam"] as const) {
    for (const device of ["cpu", "webgpu"] as const) {
      try {
        runs[`${opt} ${device}`] = await trainSine(device, opt, steps[opt]);
      } catch (e) {
        runs[`${opt} ${device}`] = e instanceof Error ? `${e.message}\n${e.stack}` : String(e);
      }
    }
  }
  return { adapter: ctx.adapterInfo, runs };
}

/**
 * One W5 step with Adam on the page's GPU and on its CPU from the same weights: the loss, the gradients
 * (each against its own largest element) and the weights after the step compared in the page, with the
 * CPU's loss and each gradient's fingerprint for the test to compare with Node.
 */
async function w5(T: number): Promise<Record<string, unknown>> {
  let ctx: Awaited<ReturnType<typeof requestWebGPU>>;
  try {
    ctx = await requestWebGPU();
  } catch (e) {
    return { unavailable: String(e) };
  }
  try {
    const t0 = performance.now();
    const gpu = await w5AdamStep("webgpu", T);
    const gpuMs = Math.round(performance.now() - t0);
    const cpu = await w5AdamStep("cpu", T);
    return {
      adapter: ctx.adapterInfo,
      devices: gpu.devices,
      gpuLoss: gpu.loss,
      cpuLoss: cpu.loss,
      gradErr: gpu.grads.map((g, i) => scaledErr(g, cpu.grads[i])),
      weightAbsErr: gpu.weights.map((w, i) => absErr(w, cpu.weights[i])),
      cpuGradFingerprints: cpu.grads.map(fingerprint),
      gpuMs,
    };
  } catch (e) {
    return { error: e instanceof Error ? `${e.message}\n${e.stack}` : String(e) };
  }
}

const page = globalThis as {
  runWebGPU?: () => Promise<unknown>;
  runWebGPUTraining?: (steps: Record<SineOptimizer, number>) => Promise<unknown>;
  runWebGPUW5?: (T: number) => Promise<unknown>;
};
page.runWebGPU = () => run().catch((e: unknown) => ({ unavailable: String(e) }));
page.runWebGPUTraining = training;
page.runWebGPUW5 = w5;
