// Our side of the benchmark workloads (the PyTorch side is bench/peers/torch_bench.py, the same work).
//
// W1 the notes' sine training: RNN(1,16)+Linear(16,1), batch 1, 49 steps, Adam lr 0.01, 6000 iterations
// W2 one training step of LSTM(8->128, 2 layers), batch 32, seq 50, Linear on every step, Adam
// W3 streaming inference: LSTM(1->64)+Linear, one step at a time, state fed back (a Streamer; and through
//    the module calls; and the same model exported by exportOnnx for the onnxruntime side)
// W4 float32 matrix product n×n×n
// W6 one training step of the character language model: Embedding(65,64), LSTM(64->256, 2 layers), batch 32,
//    seq 64, Linear to 65, cross entropy, clipGradNorm_, Adam

import { runSineExperiment } from "../src/experiments/sine.js";
import { manualSeed, noGrad, randint, randn, Tensor } from "../src/index.js";
import { clipGradNorm_ } from "../src/nn/clip.js";
import { Embedding } from "../src/nn/embedding.js";
import { matmul } from "../src/core/ops.js";
import { Linear } from "../src/nn/linear.js";
import { crossEntropyLoss, mseLoss } from "../src/nn/loss.js";
import { LSTM } from "../src/nn/rnn.js";
import { Streamer } from "../src/nn/streamer.js";
import { Adam } from "../src/optim/adam.js";
import { emitModule, emitRecurrent, OnnxGraphBuilder } from "../src/io/index.js";

/** W1: seconds for `iters` iterations of the notes' training loop. */
export function w1(iters: number): { seconds: number; finalLoss: number } {
  const r = runSineExperiment({ iters, seed: 0 });
  return { seconds: r.trainSeconds, finalLoss: r.finalLoss };
}

/** W2's model, optimizer and data (also used by bench/memory.ts). */
export function w2Setup() {
  manualSeed(0);
  const lstm = new LSTM(8, 128, { numLayers: 2 });
  const head = new Linear(128, 1);
  const opt = new Adam([...lstm.parameters(), ...head.parameters()], { lr: 1e-3 });
  const x = randn(50, 32, 8); // (T, B, I)
  const y = randn(50, 32, 1); // (T, B, 1)
  return { lstm, head, opt, x, y };
}

/**
 * Floating-point operations in the matrix products of one LSTM training step (forward and backward; a
 * multiply-add counts 2), the work no kernel can skip: per layer and time step the input product
 * (B × 4H × I) and the recurrent product (B × 4H × H), then in the backward the gradient of each product's
 * input and of its weight, twice the forward, less the input gradient of layer 0 when the data needs
 * none. The gates' nonlinearities and the optimizer are left out (a few percent of the flops), so time
 * ÷ these flops is a lower bound on the work rate. W2: 1.915 GFLOP.
 */
export function lstmStepFlops(dims: {
  input: number;
  hidden: number;
  layers: number;
  batch: number;
  seq: number;
  head?: number;
}): number {
  const { input, hidden: H, layers, batch: B, seq: T, head = 0 } = dims;
  let fwd = 0;
  let back = 0;
  for (let l = 0; l < layers; l++) {
    const I = l === 0 ? input : H;
    const ih = 2 * T * B * 4 * H * I;
    const hh = 2 * T * B * 4 * H * H;
    fwd += ih + hh;
    back += (l === 0 ? ih : 2 * ih) + 2 * hh;
  }
  const lin = 2 * T * B * H * head;
  return fwd + back + lin * 3;
}

/** W2's dimensions, for lstmStepFlops. */
export const W2_DIMS = { input: 8, hidden: 128, layers: 2, batch: 32, seq: 50, head: 1 };

/** Called around each training step (bench/cputime.ts reads the CPU clock there). */
export type OnStep = (phase: "start" | "end") => void;

/** W2: milliseconds per training step. */
export function w2(steps: number, onStep?: OnStep): number[] {
  const { lstm, head, opt, x, y } = w2Setup();
  const times: number[] = [];
  for (let i = 0; i < steps + 2; i++) {
    onStep?.("start");
    const t0 = performance.now();
    const [out] = lstm.forward(x);
    const loss = mseLoss(head.forward(out), y);
    opt.zeroGrad();
    loss.backward();
    opt.step();
    times.push(performance.now() - t0);
    onStep?.("end");
  }
  return times.slice(2);
}

/**
 * W3: microseconds per streamed step, through a Streamer (weights resident where the kernels run, the
 * analogue of onnxruntime's InferenceSession).
 */
export function w3(steps: number): number {
  manualSeed(0);
  const lstm = new LSTM(1, 64);
  const head = new Linear(64, 1);
  const s = new Streamer(lstm, head);
  const x = new Float32Array(1);
  const y = new Float32Array(1);
  const step = () => {
    s.step(x, y);
    x[0] = y[0];
  };
  for (let i = 0; i < 200; i++) step();
  const t0 = performance.now();
  for (let i = 0; i < steps; i++) step();
  const us = ((performance.now() - t0) * 1000) / steps;
  s.dispose();
  return us;
}

/** W3 through the module calls, as PyTorch's side does it: lstm.forward then head.forward per step. */
export function w3Module(steps: number): number {
  manualSeed(0);
  const lstm = new LSTM(1, 64);
  const head = new Linear(64, 1);
  return noGrad(() => {
    let x = new Tensor(new Float32Array(1), [1, 1, 1]);
    let state: [Tensor, Tensor] | null = null;
    const step = () => {
      const [out, s] = lstm.forward(x, state);
      state = s;
      x = head.forward(out);
    };
    for (let i = 0; i < 200; i++) step();
    const t0 = performance.now();
    for (let i = 0; i < steps; i++) step();
    return ((performance.now() - t0) * 1000) / steps;
  });
}

/** W4: GFLOP/s of an n×n by n×n product. */
export function w4(n: number, reps: number): number {
  manualSeed(0);
  const a = randn(n, n);
  const b = randn(n, n);
  noGrad(() => matmul(a, b));
  const t0 = performance.now();
  for (let i = 0; i < reps; i++) noGrad(() => matmul(a, b));
  const s = (performance.now() - t0) / 1000 / reps;
  return (2 * n ** 3) / s / 1e9;
}

/**
 * W6: milliseconds per training step of the character language model (examples/char-lm.ts at bench
 * size): Embedding(65, 64) -> LSTM(64->256, 2 layers, batch first) -> Linear(256, 65), batch 32,
 * seq 64, cross entropy, clipGradNorm_(1), Adam. Tokens are fixed random ids (the same every step).
 */
export function w6(steps: number, onStep?: OnStep): number[] {
  manualSeed(0);
  const embed = new Embedding(65, 64);
  const lstm = new LSTM(64, 256, { numLayers: 2, batchFirst: true });
  const head = new Linear(256, 65);
  const params = [...embed.parameters(), ...lstm.parameters(), ...head.parameters()];
  const opt = new Adam(params, { lr: 2e-3 });
  const x = randint(0, 65, [32, 64]).to("int64"); // (B, T)
  const y = randint(0, 65, [32 * 64]).to("int64"); // (B·T)
  const times: number[] = [];
  for (let i = 0; i < steps + 2; i++) {
    onStep?.("start");
    const t0 = performance.now();
    const [out] = lstm.forward(embed.forward(x));
    const loss = crossEntropyLoss(head.forward(out).reshape(-1, 65), y);
    opt.zeroGrad();
    loss.backward();
    clipGradNorm_(params, 1);
    opt.step();
    times.push(performance.now() - t0);
    onStep?.("end");
  }
  return times.slice(2);
}

/**
 * W3's model (the same seed, so the same weights as `w3`) as ONNX bytes written by our exporter, for the
 * onnxruntime side: one step with the state as explicit inputs and outputs, x [1, 1, 1], h0 / c0
 * [1, 1, 64] -> y [1, 1, 1], h1 / c1 [1, 1, 64] (ONNX's own LSTM operator, then MatMul + Add).
 */
export function w3Onnx(): Uint8Array {
  manualSeed(0);
  const lstm = new LSTM(1, 64);
  const head = new Linear(64, 1);
  const g = new OnnxGraphBuilder();
  const x = g.input("x", 1, [1, 1, 1]);
  const h0 = g.input("h0", 1, [1, 1, 64]);
  const c0 = g.input("c0", 1, [1, 1, 64]);
  const r = emitRecurrent(g, lstm, { name: x, shape: [1, 1, 1] }, "lstm", h0, c0);
  const y = emitModule(g, head, r.y, "head");
  g.output("y", y.name, 1, [1, 1, 1]);
  g.output("h1", r.hn, 1, [1, 1, 64]);
  g.output("c1", r.cn!, 1, [1, 1, 64]);
  return g.encode({ graphName: "w3", opset: 17 });
}
