// Bundled by test/webgpu-browser.test.ts and run in headless Chromium: the public entry's WebGPU device
// from navigator.gpu, checked against the CPU ops on the same values, in the page (runWebGPU); and the
// notes' sine RNN trained in the page on the CPU and on the GPU, SGD with momentum and Adam
// (runWebGPUTraining), for the test to compare with each other and with the same training in Node.

import { randn, requestWebGPU } from "../../src/index.js";
import { type SineOptimizer, type SineRun, trainSine } from "./sine-train.js";

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

const page = globalThis as {
  runWebGPU?: () => Promise<unknown>;
  runWebGPUTraining?: (steps: Record<SineOptimizer, number>) => Promise<unknown>;
};
page.runWebGPU = () => run().catch((e: unknown) => ({ unavailable: String(e) }));
page.runWebGPUTraining = training;
