// The cases of the WebGPU recurrent-kernel check (recurrent-check.mts runs them, recurrent.test.ts asserts
// the results): each mode with full and packed batches, both directions, an LSTM projection, batch 1,
// sequence length 1, odd sizes and sizes past one workgroup (64 units, 4 sequences, 64-wide reduction
// slices), no bias, and no initial state or output gradient.

import type { RnnMode } from "../../src/kernels/rnn.js";

/** Relative to each tensor's largest magnitude: float32 rounding over sums of at most a few hundred terms. */
export const TOL = 1e-4;

export interface Case {
  mode: RnnMode;
  T: number;
  B: number;
  I: number;
  H: number;
  P?: number;
  lengths?: number[]; // sorted, packed like PyTorch; absent = full batch
  reverse?: boolean;
  bias?: boolean; // default true
  scale?: number; // of x (default 1): 30 saturates every gate
  noInit?: boolean; // h0, c0, dY, dCn null (dHn is then the only gradient flowing in)
}

const MODES: RnnMode[] = ["RNN_TANH", "RNN_RELU", "LSTM", "GRU"];
export const CASES: Case[] = [
  ...MODES.flatMap((mode): Case[] => [
    { mode, T: 5, B: 3, I: 4, H: 7 },
    { mode, T: 4, B: 1, I: 3, H: 5, reverse: true },
    { mode, T: 1, B: 2, I: 2, H: 3 },
    { mode, T: 5, B: 4, I: 3, H: 6, lengths: [5, 3, 3, 1], reverse: true },
    { mode, T: 3, B: 6, I: 70, H: 67, lengths: [3, 3, 2, 2, 1, 1] },
  ]),
  { mode: "LSTM", T: 4, B: 3, I: 5, H: 6, P: 3 },
  { mode: "LSTM", T: 5, B: 5, I: 4, H: 9, P: 5, lengths: [5, 4, 2, 2, 1], reverse: true },
  { mode: "LSTM", T: 3, B: 5, I: 3, H: 66, P: 65 },
  { mode: "GRU", T: 3, B: 2, I: 3, H: 4, bias: false, noInit: true },
  { mode: "LSTM", T: 3, B: 2, I: 3, H: 4, bias: false, noInit: true },
  { mode: "RNN_TANH", T: 6, B: 9, I: 8, H: 130 },
  ...MODES.map((mode): Case => ({ mode, T: 4, B: 3, I: 4, H: 5, scale: 30 })),
  // a sequence of length 0 (it never runs: hN = h0, dH0 = dHn), and no steps at all
  { mode: "LSTM", T: 3, B: 3, I: 2, H: 4, lengths: [3, 2, 0] },
  { mode: "GRU", T: 3, B: 3, I: 2, H: 4, lengths: [3, 2, 0], reverse: true },
  { mode: "LSTM", T: 0, B: 2, I: 3, H: 4 },
];

export function caseName(c: Case): string {
  const extras = [
    c.P ? `P=${c.P}` : "",
    c.lengths ? `lengths=${c.lengths.join(",")}` : "",
    c.reverse ? "reverse" : "",
    c.bias === false ? "no bias" : "",
    c.noInit ? "no h0/dY" : "",
    c.scale ? `x·${c.scale}` : "",
  ].filter((s) => s !== "");
  return `${c.mode} T=${c.T} B=${c.B} I=${c.I} H=${c.H} ${extras.join(" ")}`.trim();
}

/** The cases of the nn layer runner on webgpu tensors (nn/rnn_webgpu.ts), inference. */
export const LAYER_CASES: Case[] = [
  { mode: "LSTM", T: 4, B: 3, I: 5, H: 6 },
  { mode: "LSTM", T: 5, B: 4, I: 3, H: 7, P: 3, lengths: [5, 3, 3, 1], reverse: true },
  { mode: "GRU", T: 3, B: 2, I: 4, H: 5, bias: false },
  { mode: "RNN_RELU", T: 4, B: 1, I: 2, H: 3, reverse: true },
];
