// The notes' sine RNN (nn.RNN(1, 16, batchFirst) + nn.Linear(16, 1), MSE, predicting sin one step ahead)
// and a training loop that runs on either device with the same code: the page of webgpu-browser.test.ts
// trains it on the CPU and on navigator.gpu (browser-entry.ts), and the test trains it again in Node.

import { manualSeed, nn, optim, type Tensor, tensor } from "../../src/index.js";

/** 50 steps, a batch of 4 phases, the weights from manualSeed(3): as test/webgpu/train-check.mts. */
export const SINE = { T: 50, B: 4, seed: 3 } as const;

export class SineNet extends nn.Module {
  rnn = new nn.RNN(1, 16, { batchFirst: true });
  head = new nn.Linear(16, 1);
  forward(x: Tensor): Tensor {
    const [out] = this.rnn.forward(x) as [Tensor, Tensor];
    return this.head.forward(out);
  }
}

/** x[b, t] = sin(0.2·t + b) and its target sin(0.2·(t + 1) + b), both (B, T, 1). */
export function sineData(): [Tensor, Tensor] {
  const { T, B } = SINE;
  const xs = new Float32Array(B * T);
  const ys = new Float32Array(B * T);
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < T; t++) {
      xs[b * T + t] = Math.sin(0.2 * t + b);
      ys[b * T + t] = Math.sin(0.2 * (t + 1) + b);
    }
  }
  return [tensor(xs).reshape([B, T, 1]), tensor(ys).reshape([B, T, 1])];
}

export type SineOptimizer = "sgd" | "adam";

/** What one training run gives: the loss of every step, the final parameters and where they lived. */
export interface SineRun {
  losses: number[];
  weights: number[][]; // rnn: weight_ih_l0, weight_hh_l0, bias_ih_l0, bias_hh_l0; head: weight, bias
  devices: string[];
}

/**
 * Trains a fresh SineNet (weights from manualSeed(SINE.seed)) on `device` for `steps` steps: SGD with lr 0.05
 * and momentum 0.9, or Adam with lr 0.01. The model and data move with `to("webgpu")`; the losses and
 * weights come back with itemAsync / cpuAsync, as a page must read the GPU.
 */
export async function trainSine(
  device: "cpu" | "webgpu",
  optimizer: SineOptimizer,
  steps: number,
): Promise<SineRun> {
  manualSeed(SINE.seed);
  const net = new SineNet();
  let [x, y] = sineData();
  if (device === "webgpu") {
    net.to("webgpu");
    x = x.to("webgpu");
    y = y.to("webgpu");
  }
  const opt =
    optimizer === "sgd"
      ? new optim.SGD(net.parameters(), { lr: 0.05, momentum: 0.9 })
      : new optim.Adam(net.parameters(), { lr: 0.01 });
  const losses: number[] = [];
  for (let s = 0; s < steps; s++) {
    opt.zeroGrad();
    const loss = nn.functional.mseLoss(net.forward(x), y);
    loss.backward();
    opt.step();
    losses.push(await loss.itemAsync());
  }
  const weights: number[][] = [];
  for (const p of net.parameters()) weights.push(Array.from((await p.cpuAsync()).data));
  return { losses, weights, devices: net.parameters().map((p) => p.device) };
}
