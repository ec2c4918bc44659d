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
  /** The prediction window: its start s (t = linspace(s, s+10, steps)), times and true values. */
  start: number;
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

/** The notes' roll-out and the context-started forecast on the window starting at `start`. */
export function sinePredict(
  model: SineNet,
  state: HiddenState,
  start: number,
  steps: number,
  K: number,
): SinePrediction {
  const { t, values } = sineWindow(start, steps);
  // The notes' prediction: start from x[0] with the given state, feed predictions back.
  const notesPred = rollOut(model, values[0], state, steps - 1).preds;
  // The forecaster's way: a fresh state reads the first K points, then rolls out.
  const ctx = noGrad(() => model.forward(new Tensor(values.slice(0, K), [1, K, 1]), model.zeroState()));
  const firstPred = ctx[0].data[K - 1]; // predicts values[K]
  const rest = rollOut(model, firstPred, ctx[1], steps - K - 1).preds;
  return {
    start,
    t: Array.from(t),
    truth: Array.from(values),
    notesPred,
    contextPred: [firstPred, ...rest],
    context: K,
  };
}

export interface SinePrediction {
  start: number;
  t: number[];
  truth: number[];
  /** Predicts truth[1 .. steps-1]. */
  notesPred: number[];
  /** Predicts truth[K .. steps-1]. */
  contextPred: number[];
  context: number;
}

type ResolvedSineOptions = SineResult["options"];

function resolveOptions(opts: SineOptions): ResolvedSineOptions {
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
    ["hidden size", o.hidden],
    ["layers", o.layers],
    ["iterations", o.iters],
    ["steps", o.steps],
  ] as const) {
    if (!Number.isInteger(v) || v < 1) throw new Error(`${k} must be a positive integer, got ${v}`);
  }
  if (o.steps < 3) throw new Error(`steps must be at least 3, got ${o.steps}`);
  if (!Number.isInteger(o.context) || o.context < 1 || o.context >= o.steps - 1) {
    throw new Error(`context must be an integer in [1, ${o.steps - 2}], got ${o.context}`);
  }
  if (!(o.lr > 0) || !Number.isFinite(o.lr))
    throw new Error(`learning rate must be a positive number, got ${o.lr}`);
  if (o.clip !== null && !(o.clip > 0)) throw new Error(`clip must be a positive number, got ${o.clip}`);
  if (!Number.isInteger(o.seed)) throw new Error(`seed must be an integer, got ${o.seed}`);
  return o;
}

/**
 * The notes' training loop, one iteration per `step()`, so that a caller (the command, the browser's
 * worker) can report, preview and stop between iterations without changing a single number.
 */
export class SineTrainer {
  readonly options: ResolvedSineOptions;
  readonly model: SineNet;
  readonly losses: Float32Array;
  /** Iterations run so far. */
  iters = 0;
  /** The hidden state carried (detached) from one iteration to the next. */
  state: HiddenState;
  private readonly params;
  private readonly optimizer: Adam;
  private readonly t0 = performance.now();

  constructor(opts: SineOptions = {}) {
    this.options = resolveOptions(opts);
    const o = this.options;
    manualSeed(o.seed);
    this.model = new SineNet(o.cell, o.hidden, o.layers);
    this.params = this.model.parameters();
    this.optimizer = new Adam(this.params, { lr: o.lr });
    this.state = this.model.zeroState();
    this.losses = new Float32Array(o.iters);
  }

  /**
   * The window starting at `start` as input x = values[0 .. T-1] and target y = values[1 .. T], computed
   * once: there are three starts, and a fresh linspace, sine and two copies per iteration cost more than
   * the recurrent layer's forward (in Node 20 a typed array over 64 bytes is a separate allocation of 1 to
   * 4 µs). The ops read the arrays and never write them.
   */
  private window(start: number): { x: Float32Array; y: Float32Array } {
    let w = this.windows.get(start);
    if (w === undefined) {
      const { values } = sineWindow(start, this.options.steps);
      w = { x: values.slice(0, values.length - 1), y: values.slice(1) };
      this.windows.set(start, w);
    }
    return w;
  }
  private readonly windows = new Map<number, { x: Float32Array; y: Float32Array }>();

  get done(): boolean {
    return this.iters >= this.options.iters;
  }

  get elapsed(): number {
    return (performance.now() - this.t0) / 1000;
  }

  /** One iteration: a random window, forward, backward, (clip,) Adam step. Returns the loss. */
  step(): number {
    const o = this.options;
    if (this.done) throw new Error(`SineTrainer: all ${o.iters} iterations have run`);
    const T = o.steps - 1;
    const start = defaultGenerator.randint(0, 3);
    const w = this.window(start);
    const x = new Tensor(w.x, [1, T, 1]);
    const y = new Tensor(w.y, [1, T, 1]);
    const [out, next] = this.model.forward(x, this.state);
    this.state = detachState(next);
    const loss = mseLoss(out, y);
    for (const p of this.params) p.grad?.data.fill(0); // model.zeroGrad(false), without walking the module tree
    loss.backward();
    if (o.clip !== null) clipGradNorm_(this.params, o.clip);
    this.optimizer.step();
    const v = loss.item();
    this.losses[this.iters++] = v;
    if (!Number.isFinite(v)) {
      throw new Error(
        `the loss became ${v} at iteration ${this.iters - 1}; try a smaller learning rate or clipping`,
      );
    }
    return v;
  }

  /** The predictions and figures of the run so far (draws the prediction window from the generator). */
  finish(): SineResult {
    const o = this.options;
    const trainSeconds = this.elapsed;
    const n = this.iters;
    const losses = this.losses.slice(0, n);
    const p = sinePredict(this.model, this.state, defaultGenerator.randint(0, 3), o.steps, o.context);
    const K = o.context;
    const truthAfter = p.truth.slice(K);
    const last = Math.min(100, n);
    let sumLast = 0;
    for (let i = n - last; i < n; i++) sumLast += losses[i];
    return {
      options: o,
      losses,
      trainSeconds,
      finalLoss: losses[n - 1],
      meanLossLast100: sumLast / last,
      start: p.start,
      t: p.t,
      truth: p.truth,
      notesPred: p.notesPred,
      notesMse: mse(p.notesPred, p.truth.slice(1)),
      contextPred: p.contextPred,
      contextMse: mse(p.contextPred, truthAfter),
      notesMseSameSpan: mse(p.notesPred.slice(K - 1), truthAfter),
      model: this.model,
    };
  }
}

/** Runs the whole experiment: the notes' training, then both predictions. */
export function runSineExperiment(opts: SineOptions = {}): SineResult {
  const trainer = new SineTrainer(opts);
  const every = trainer.options.logEvery;
  while (!trainer.done) {
    const loss = trainer.step();
    const iter = trainer.iters - 1;
    if (opts.onProgress && (iter % every === 0 || trainer.done))
      opts.onProgress({ iter, loss, elapsed: trainer.elapsed });
  }
  return trainer.finish();
}
