// Training on the webgpu device (test/webgpu/train-check.mts, in a child process: see test/webgpu/run.ts):
// the device backward of add / sub / mul (broadcast), neg, tanh, sigmoid, relu, matmul, linear, reshape,
// sum, mean and mseLoss against the CPU autograd on the same leaves; the notes' sine RNN (RNN(1→16) +
// Linear, MSE, SGD with momentum, 20 steps) trained on both devices from the same weights; and the
// refusals of what does not train there yet. Skips without WebGPU unless RECURRENT_REQUIRE_WEBGPU=1.

import { describe, expect, it } from "vitest";
import { runWebGPUScript, skipUnlessWebGPU } from "./webgpu/run.js";

interface TrainCheck {
  graphError: string;
  opLossErr: number;
  opGradErrors: number[];
  gradDevices: string[];
  trainError: string;
  cpuLosses: number[];
  gpuLosses: number[];
  lossRelErr: number[];
  weightErrors: number[];
  paramDevices: string[];
  cellErrors: Record<string, number>;
  adamErrors: Record<string, number>;
  engine: Record<string, unknown>;
  refusals: Record<string, string>;
}

describe("training on webgpu (child process)", { timeout: 300_000 }, () => {
  it("backpropagates on the device and trains the sine RNN as the CPU does", async (ctx) => {
    const r = await runWebGPUScript("train-check.mts", [], 280_000);
    if (skipUnlessWebGPU(ctx, r)) return;
    const g = r as unknown as TrainCheck;
    // every op's gradient, as device tensors, against the CPU engine's
    expect(g.graphError).toBe("");
    expect(g.opLossErr).toBeLessThan(1e-5);
    expect(g.opGradErrors).toHaveLength(7);
    for (const e of g.opGradErrors) expect(e).toBeLessThan(1e-5);
    expect(g.gradDevices).toEqual(Array(7).fill("webgpu"));
    // the sine RNN: 20 SGD steps, the same losses and final weights on both devices
    expect(g.trainError).toBe("");
    expect(g.cpuLosses).toHaveLength(20);
    expect(g.gpuLosses).toHaveLength(20);
    expect(g.cpuLosses[19]).toBeLessThan(g.cpuLosses[0] / 5); // it learned
    for (const e of g.lossRelErr) expect(e).toBeLessThan(1e-5);
    expect(g.weightErrors).toHaveLength(6); // rnn: wIh, wHh, bIh, bHh; head: weight, bias
    for (const e of g.weightErrors) expect(e).toBeLessThan(1e-5);
    expect(g.paramDevices).toEqual(Array(6).fill("webgpu"));
    // LSTM (x, h0, c0, 4 weights) and GRU (x, h0, 4 weights): every gradient through the layer's node;
    // 2 layers × 2 directions, batch first: x, h0, c0 and 16 weights (LSTM), x, h0 and 16 weights (GRU)
    const keys = (tag: string, n: number) => Array.from({ length: n }, (_, i) => `${tag} ${i}`);
    expect(Object.keys(g.cellErrors).sort()).toEqual(
      [
        ...keys("LSTM", 7),
        ...keys("GRU", 6),
        ...keys("LSTM 2-layer bidirectional", 19),
        ...keys("GRU 2-layer bidirectional", 18),
      ].sort(),
    );
    for (const [k, e] of Object.entries(g.cellErrors)) expect(e, k).toBeLessThan(1e-5);
    // Adam and AdamW (amsgrad, weight decay) steps as WGSL kernels: 10 steps agree with the CPU's
    expect(Object.keys(g.adamErrors).sort()).toEqual(
      ["Adam loss", "Adam weights", "AdamW amsgrad loss", "AdamW amsgrad weights"].sort(),
    );
    for (const [k, e] of Object.entries(g.adamErrors)) expect(e, k).toBeLessThan(1e-5);
    // hooks and retainGrad see device gradients; retainGraph lets a recurrent node run twice (the
    // gradients add up) and the third pass, after the saved values were freed, raises the CPU's error
    expect(g.engine.error).toBeUndefined();
    expect(g.engine.hookErr as number).toBeLessThan(1e-5);
    expect(g.engine.retained).toEqual([2, 2, 2]);
    expect(g.engine.accumulateErr as number).toBeLessThan(1e-6);
    expect(g.engine.thirdBackward).toContain("Trying to backward through the graph a second time");
    // not yet on the device: refused saying so
    expect(g.refusals.lstm2).toBe(""); // dropout in training mode runs (webgpu-fixtures.test.ts)
    expect(g.refusals.hostOnly).toContain("HostOnly: the step does not run on the webgpu device");
    expect(g.refusals.div).toBe(""); // div's gradient runs on the device (webgpu-fixtures.test.ts)
    expect(g.refusals.moveGrad).toContain("moving a tensor that requires grad is not recorded yet");
  });
});
