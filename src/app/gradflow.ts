// The gradient-flow experiment of the study notes, as the command (`recurrent gradients`) and the page's
// Gradients panel run it: one input sequence (`flowInput`), RNN vs LSTM vs GRU of the same size on it
// (`compareFlow`), and training with and without clipping (`clipRuns`). Browser-safe.
//
// Legend: T = time (sequence length), I = input features.

import { randn } from "../core/creation.js";
import { Generator, manualSeed } from "../core/random.js";
import { Tensor } from "../core/tensor.js";
import {
  type CellName,
  type ClipExperimentResult,
  clipExperiment,
  gradientFlow,
  makeFlowModel,
} from "../nn/gradflow.js";
import type { GRU, LSTM, RNN } from "../nn/rnn.js";

export type FlowInputKind = "randn" | "sine";

/**
 * The input sequence both adapters analyse, (T, I): randn draws N(0, 1) from a generator seeded
 * `seed + 1` (the weights take manual_seed(seed)); sine is sin(linspace(0, 10, T)) in every feature.
 */
export function flowInput(kind: FlowInputKind, T: number, I: number, seed: number): Tensor {
  if (kind === "randn") return randn([T, I], { generator: new Generator(seed + 1) });
  const d = new Float32Array(T * I); // (T, I)
  for (let t = 0; t < T; t++) {
    const v = Math.sin(T === 1 ? 0 : (10 * t) / (T - 1));
    for (let i = 0; i < I; i++) d[t * I + i] = v;
  }
  return new Tensor(d, [T, I]);
}

export interface FlowCompareOptions {
  seqLen: number;
  hidden: number;
  inputSize: number;
  /** Multiplies every W_hh (the notes' W_R) after the default init. */
  initScale: number;
  /** LSTM forget-gate bias, or null to keep the default init. */
  forgetBias: number | null;
  seed: number;
  input: FlowInputKind;
  jacobian: boolean;
}

export const FLOW_DEFAULTS: Readonly<FlowCompareOptions> = Object.freeze({
  seqLen: 30,
  hidden: 16,
  inputSize: 4,
  initScale: 0.5, // the README's lesson settings (`--init-scale 0.5 --forget-bias 3`): the RNN's gradient
  forgetBias: 3, // vanishes within the sequence while the LSTM's carries, as the notes say
  seed: 0,
  input: "randn",
  jacobian: true,
});

export interface CellFlow {
  cell: "rnn" | "lstm" | "gru";
  module: string;
  loss: number;
  weightHhSpectral: number;
  /** ‖∂L/∂h_t‖ for t = 1..T. */
  gradH: number[];
  /** ‖∂h_T/∂h_t‖₂, or null without Jacobians. */
  jacobianH: number[] | null;
  /** LSTM: ‖∂c_T/∂c_t‖₂. */
  jacobianC: number[] | null;
}

export interface FlowCompareResult {
  options: FlowCompareOptions;
  cells: CellFlow[];
}

/** Checks the options a form or a command line gave; the message names the setting and the value. */
export function checkFlowOptions(o: FlowCompareOptions): void {
  for (const [k, v] of [
    ["sequence length", o.seqLen],
    ["hidden size", o.hidden],
    ["input size", o.inputSize],
  ] as const) {
    if (!Number.isInteger(v) || v < 1 || v > 1000)
      throw new Error(`${k} must be an integer in 1..1000, got ${v}`);
  }
  if (!(o.initScale > 0) || !Number.isFinite(o.initScale))
    throw new Error(`W_hh scale must be a positive number, got ${o.initScale}`);
  if (o.forgetBias !== null && !Number.isFinite(o.forgetBias))
    throw new Error(`forget bias must be a number, got ${o.forgetBias}`);
  if (!Number.isInteger(o.seed)) throw new Error(`seed must be an integer, got ${o.seed}`);
}

/** How the models of an experiment are made: the same settings for each cell. */
export interface FlowModelsOptions {
  inputSize: number;
  hidden: number;
  layers?: number;
  bidirectional?: boolean;
  /** Multiplies every W_hh after the default init. */
  initScale: number;
  /** LSTM forget-gate bias (the other cells ignore it), or null to keep the default init. */
  forgetBias: number | null;
  seed: number;
}

/** One model per cell, each with weights from manual_seed(seed), as `recurrent gradients` makes them. */
export function flowModels(cells: readonly CellName[], o: FlowModelsOptions): (RNN | LSTM | GRU)[] {
  return cells.map((cell) => {
    manualSeed(o.seed);
    return makeFlowModel({
      cell,
      inputSize: o.inputSize,
      hidden: o.hidden,
      layers: o.layers,
      bidirectional: o.bidirectional,
      initScale: o.initScale,
      forgetBias: cell === "lstm" ? o.forgetBias : null,
    });
  });
}

/** Where a comparison is: cell `index` of `of` (RNN, LSTM, GRU), `done` of `total` Jacobian steps. */
export interface FlowProgress {
  cell: "rnn" | "lstm" | "gru";
  index: number;
  of: number;
  done: number;
  total: number;
}

/**
 * RNN, LSTM and GRU of the same size on the same input (`flowModels`, `flowInput`): the figures of
 * `recurrent gradients --compare` (first layer). `onCell` hears each cell as it is done; `onStep` each
 * Jacobian step.
 */

export function compareFlow(
  o: FlowCompareOptions,
  onCell?: (done: number, total: number, cell: CellFlow) => void,
  onStep?: (p: FlowProgress) => void,
): FlowCompareResult {
  checkFlowOptions(o);
  const x = flowInput(o.input, o.seqLen, o.inputSize, o.seed);
  const names = ["rnn", "lstm", "gru"] as const;
  const models = flowModels(names, o);
  const cells = models.map((module, k): CellFlow => {
    const progress = (done: number, total: number) =>
      onStep?.({ cell: names[k], index: k, of: names.length, done, total });
    progress(0, 1);
    const flow = gradientFlow(module, x, { jacobians: o.jacobian, onStep: onStep && progress });
    const l = flow.layers[0];
    const out: CellFlow = {
      cell: names[k],
      module: module.toString(),
      loss: flow.loss,
      weightHhSpectral: l.weightHhSpectral,
      gradH: l.gradH,
      jacobianH: l.jacobianH?.spectral ?? null,
      jacobianC: l.jacobianC?.spectral ?? null,
    };
    onCell?.(k + 1, names.length, out);
    return out;
  });
  return { options: { ...o }, cells };
}

export interface ClipRunsOptions {
  cell: "rnn" | "lstm" | "gru";
  hidden: number;
  initScale: number;
  clip: number;
  steps: number;
  lr: number;
  seed: number;
}

export const CLIP_DEFAULTS: Readonly<ClipRunsOptions> = Object.freeze({
  cell: "rnn",
  hidden: 16,
  initScale: 3,
  clip: 1,
  steps: 300,
  lr: 0.3,
  seed: 0,
});

/** Trains twice from the same weights, with and without clipping (`recurrent gradients --clip`, 30 steps of sine). */
export function clipRuns(
  o: ClipRunsOptions,
  onStep?: (run: string, step: number, loss: number) => void,
): ClipExperimentResult {
  return clipExperiment({
    cell: o.cell,
    hidden: o.hidden,
    initScale: o.initScale,
    clip: o.clip,
    steps: o.steps,
    lr: o.lr,
    seed: o.seed,
    seqLen: 30,
    onStep,
  });
}
