// The study notes' sine-wave experiment (second program of the notes), end to end and browser-safe:
// train a recurrent net to predict sin(t) one step ahead on windows linspace(s, s+10, 50), s ∈ {0,1,2},
// carrying the detached hidden state across iterations; then predict autoregressively as the notes do,
// and — one step beyond the notes — as a forecaster should, from a fresh state that first reads K points.

import { linspace } from "../core/creation.js";
import { manualSeed, defaultGenerator } from "../core/random.js";
import { noGrad, Tensor } from "../core/tensor.js";
import { clipGradNorm_ } from "../nn/clip.js";
import { normal_ } from "../nn/init.js";
import { Linear } from "../nn/linear.js";
import { mseLoss } from "../nn/loss.js";
import { Module } from "../nn/module.js";
import { GRU, LSTM, RNN } from "../nn/rnn.js";
import { Adam } from "../optim/adam.js";

export type CellType = "rnn" | "lstm" | "gru";
export type HiddenState = Tensor | [Tensor, Tensor];

export interface SineOptions {
  cell?: CellType;
  hidden?: number;
  layers?: number;
  iters?: number;
  lr?: number;
  /** Clip the gradient norm to this value (none when undefined). */
  clip?: number;
  seed?: number;
  /** Observed points the context-started forecast reads before rolling out. */
  context?: number;
  /** Points per window (the notes use 50). */
  steps?: number;
  /** Called every `logEvery` iterations and at the last one. */
  onProgress?: (p: { iter: number; loss: number; elapsed: number }) => void;
  logEvery?: number;
}

export interface SineResult {
  options: Required<Omit<SineOptions, "onProgress" | "clip">> & { clip: number | null };
  losses: Float32Array;
  trainSeconds: number;
  finalLoss: number;
  meanLossLast100: number;
  /** The prediction window: its times and true values (`steps` points). */
  t: number[];
  truth: number[];
  /** The notes' prediction: start from x[0] with the state training left, feed predictions back. */
  notesPred: number[]; // predicts truth[1..steps-1]
  notesMse: number;
  /** From a zero state: read truth[0..K-1], then roll out; predicts truth[K..steps-1]. */
  contextPred: number[];
  contextMse: number;
  /** The notes' prediction scored on the same points as the context forecast, for a fair comparison. */
  notesMseSameSpan: number;
  model: SineNet;
}

/** The notes' Net: a recurrent layer (batch first) and a Linear head on every step's output. */
export class SineNet extends Module {
  /** The printed name (kept through minification). */
  static readonly typeName = "SineNet";

  rnn: RNN | LSTM | GRU;
  linear: Linear;

  constructor(
    readonly cell: CellType,
    readonly hiddenSize: number,
    numLayers = 1,
  ) {
    super();
    const opts = { numLayers, batchFirst: true };
    this.rnn =
      cell === "lstm"
        ? new LSTM(1, hiddenSize, opts)
        : cell === "gru"
          ? new GRU(1, hiddenSize, opts)
          : new RNN(1, hiddenSize, opts);
    // as the notes: every recurrent parameter drawn from N(0, 0.001)
    for (const p of this.rnn.parameters()) normal_(p, 0, 0.001);
    this.linear = new Linear(hiddenSize, 1);
  }

  /** x (1, T, 1) -> predictions (1, T, 1) and the new state. */
  forward(x: Tensor, state: HiddenState | null): [Tensor, HiddenState] {
    let out: Tensor;
    let next: HiddenState;
    if (this.rnn instanceof LSTM) [out, next] = this.rnn.forward(x, state as [Tensor, Tensor] | null);
    else [out, next] = this.rnn.forward(x, state as Tensor | null);
    const y = this.linear.forward(out.view(-1, this.hiddenSize)).unsqueeze(0);
    return [y, next];
  }

  zeroState(): HiddenState {
    const L = this.rnn.numLayers;
    const z = () => new Tensor(new Float32Array(L * this.hiddenSize), [L, 1, this.hiddenSize]);
    return this.cell === "lstm" ? [z(), z()] : z();
  }
}

function detachState(s: HiddenState): HiddenState {
  return Array.isArray(s) ? [s[0].detach(), s[1].detach()] : s.detach();
}

/** A window of the notes: t = linspace(s, s+10, steps), values sin(t). */
export function sineWindow(start: number, steps: number): { t: Float32Array; values: Float32Array } {
  const t = linspace(start, start + 10, steps).data;
  const values = new Float32Array(steps);
  for (let i = 0; i < steps; i++) values[i] = Math.sin(t[i]);
  return { t, values };
}

function mse(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] - b[i]) ** 2;
  return s / a.length;
}

/** Feeds `first`, then each prediction back, `n` times; returns the predictions. */
export function rollOut(
  model: SineNet,
  first: number,
  state: HiddenState,
  n: number,
): { preds: number[]; state: HiddenState } {
  return noGrad(() => {
    const preds: number[] = [];
    let input = first;
    let s = state;
    for (let i = 0; i < n; i++) {
      const [y, next] = model.forward(new Tensor(Float32Array.of(input), [1, 1, 1]), s);
      s = next;
      input = y.data[0];
      preds.push(input);
    }
    return { preds, state: s };
  });
}

export function runSineExperiment(opts: SineOptions = {}): SineResult {
  const o = {
    cell: opts.cell ?? "rnn",
    hidden: opts.hidden ?? 16,
    layers: opts.layers ?? 1,
    iters: opts.iters ?? 6000,
    lr: opts.lr ?? 0.01,
    clip: opts.clip ?? null,
    seed: opts.seed ?? 0,
    context: opts.context ?? 10,
    steps: opts.steps ?? 50,
    logEvery: opts.logEvery ?? 100,
  };
  if (!["rnn", "lstm", "gru"].includes(o.cell))
    throw new Error(`cell must be rnn, lstm or gru, got ${o.cell}`);
  for (const [k, v] of [
    ["hidden", o.hidden],
    ["layers", o.layers],
    ["iters", o.iters],
    ["steps", o.steps],
  ] as const) {
    if (!Number.isInteger(v) || v < 1) throw new Error(`${k} must be a positive integer, got ${v}`);
  }
  if (o.steps < 3) throw new Error(`steps must be at least 3, got ${o.steps}`);
  if (!Number.isInteger(o.context) || o.context < 1 || o.context >= o.steps - 1) {
    throw new Error(`context must be an integer in [1, ${o.steps - 2}], got ${o.context}`);
  }
  if (!(o.lr > 0)) throw new Error(`lr must be positive, got ${o.lr}`);
  if (o.clip !== null && !(o.clip > 0)) throw new Error(`clip must be positive, got ${o.clip}`);
  manualSeed(o.seed);
  const model = new SineNet(o.cell, o.hidden, o.layers);
  const params = model.parameters();
  const optimizer = new Adam(params, { lr: o.lr });
  const T = o.steps - 1;
  let state: HiddenState = model.zeroState();
  const losses = new Float32Array(o.iters);
  const t0 = performance.now();
  for (let iter = 0; iter < o.iters; iter++) {
    const start = defaultGenerator.randint(0, 3);
    const { values } = sineWindow(start, o.steps);
    const x = new Tensor(values.slice(0, T), [1, T, 1]);
    const y = new Tensor(values.slice(1), [1, T, 1]);
    const [out, next] = model.forward(x, state);
    state = detachState(next);
    const loss = mseLoss(out, y);
    model.zeroGrad();
    loss.backward();
    if (o.clip !== null) clipGradNorm_(params, o.clip);
    optimizer.step();
    losses[iter] = loss.item();
    if (!Number.isFinite(losses[iter])) {
      throw new Error(`the loss became ${losses[iter]} at iteration ${iter}; try a smaller --lr or --clip`);
    }
    if (opts.onProgress && (iter % o.logEvery === 0 || iter === o.iters - 1)) {
      opts.onProgress({ iter, loss: losses[iter], elapsed: (performance.now() - t0) / 1000 });
    }
  }
  const trainSeconds = (performance.now() - t0) / 1000;
  // The notes' prediction: a new window; start from x[0] with the state training left.
  const start = defaultGenerator.randint(0, 3);
  const { t, values } = sineWindow(start, o.steps);
  const notes = rollOut(model, values[0], state, T).preds;
  // The forecaster's way: a fresh state reads the first K points, then rolls out.
  const K = o.context;
  const ctx = noGrad(() => model.forward(new Tensor(values.slice(0, K), [1, K, 1]), model.zeroState()));
  const firstPred = ctx[0].data[K - 1]; // predicts values[K]
  const rest = rollOut(model, firstPred, ctx[1], o.steps - K - 1).preds;
  const contextPred = [firstPred, ...rest]; // predicts values[K .. steps-1]
  const truthAfter = Array.from(values.subarray(K));
  const last = Math.min(100, o.iters);
  let sumLast = 0;
  for (let i = o.iters - last; i < o.iters; i++) sumLast += losses[i];
  return {
    options: o,
    losses,
    trainSeconds,
    finalLoss: losses[o.iters - 1],
    meanLossLast100: sumLast / last,
    t: Array.from(t),
    truth: Array.from(values),
    notesPred: notes,
    notesMse: mse(notes, values.subarray(1)),
    contextPred,
    contextMse: mse(contextPred, truthAfter),
    notesMseSameSpan: mse(notes.slice(K - 1), truthAfter),
    model,
  };
}
