// Bundled by test/webgpu-browser.test.ts and run in headless Chromium: the public entry's WebGPU device
// from navigator.gpu, checked against the CPU ops on the same values, in the page.

import { randn, requestWebGPU } from "../../src/index.js";

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
  };
}

(globalThis as { runWebGPU?: () => Promise<unknown> }).runWebGPU = () =>
  run().catch((e: unknown) => ({ unavailable: String(e) }));
