// W5-sized training on the webgpu device (test/webgpu/w5-check.mts, in a child process: see
// test/webgpu/run.ts): bench/w5.ts's LSTM(64→512, 2 layers) + Linear on every step, batch 256, one Adam
// step on the device and on the CPU from the same weights. One time step from a random initial state
// (h0, c0), so that W_hh and its gradient take part: SwiftShader needs about 25 s a time step at this size.
// The loss and every parameter's gradient agree to float32 rounding; the device's Adam step matches the
// CPU's Adam fed the device's gradients to the last bit or so, and the weights agree with the CPU's own
// step to a small fraction of the learning rate. Skips without WebGPU unless RECURRENT_REQUIRE_WEBGPU=1.

import { describe, expect, it } from "vitest";
import { runWebGPUScript, skipUnlessWebGPU } from "./webgpu/run.js";

interface W5Step {
  gpuLoss: number;
  cpuLoss: number;
  lossRelErr: number;
  gradErr: Record<string, number>;
  weightAbsErr: Record<string, number>;
  adamAbsErr: Record<string, number>;
  gpuForwardBackwardMs: number;
  gpuAdamMs: number;
  cpuStepMs: number;
}

const PARAMS = [
  "lstm.weight_ih_l0",
  "lstm.weight_hh_l0",
  "lstm.bias_ih_l0",
  "lstm.bias_hh_l0",
  "lstm.weight_ih_l1",
  "lstm.weight_hh_l1",
  "lstm.bias_ih_l1",
  "lstm.bias_hh_l1",
  "head.weight",
  "head.bias",
];

describe("W5-sized training on webgpu (child process)", { timeout: 300_000 }, () => {
  it("trains LSTM(64→512, 2 layers), batch 256, with Adam as the CPU does", async (ctx) => {
    const r = await runWebGPUScript("w5-check.mts", ["--seq", "1", "--steps", "1"], 280_000);
    if (skipUnlessWebGPU(ctx, r) || !r.available) return;
    expect(r.error).toBe("");
    expect(r.names).toEqual(PARAMS);
    const steps = r.steps as W5Step[];
    expect(steps).toHaveLength(1);
    const s = steps[0];
    expect(s.lossRelErr).toBeLessThan(1e-6);
    expect(Object.keys(s.gradErr)).toEqual(PARAMS);
    // every gradient, against its own largest element (sums over 256 rows and 512 hidden units)
    for (const [k, e] of Object.entries(s.gradErr)) expect(e, `grad ${k}`).toBeLessThan(1e-5);
    // the step alone: |w| ≲ 0.05, so float32 rounding of the new weights is a few 1e-9
    for (const [k, e] of Object.entries(s.adamAbsErr)) expect(e, `adam ${k}`).toBeLessThan(2e-8);
    // end to end: Adam moves each weight by lr = 1e-3 over (|g| + eps)-normalized gradients, which turns
    // the gradients' rounding into up to ~2% of lr where g ≈ 0; a wrong step would be off by ~lr
    for (const [k, e] of Object.entries(s.weightAbsErr)) expect(e, `weight ${k}`).toBeLessThan(1e-4);
    const worst = (m: Record<string, number>) => Math.max(...Object.values(m)).toExponential(2);
    console.log(
      `W5 (T = 1, B = 256) on ${(r.adapter as { description: string }).description}: loss ${s.gpuLoss} ` +
        `(CPU ${s.cpuLoss}); worst grad ${worst(s.gradErr)}, adam ${worst(s.adamAbsErr)}, weight ` +
        `${worst(s.weightAbsErr)}; ms: device forward+backward ${s.gpuForwardBackwardMs}, Adam ${s.gpuAdamMs}, CPU step ${s.cpuStepMs}`,
    );
  });
});
