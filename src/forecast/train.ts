// Training a ForecastNet on a series: chronological split, scaling fitted on the training rows only,
// shuffled mini-batches drawn from the seeded generator, Adam, ReduceLROnPlateau on the validation
// loss, gradient-norm clipping, and early stopping that keeps the best weights. Browser-safe and
// asynchronous: it yields to the event loop now and then, so a page stays responsive and a Ctrl-C
// handler gets to run; the caller decides where checkpoints go (`onImprove`).
//
// N = windows, B = batch, L = lookback, F = columns, H = horizon.

import { manualSeed, shuffledIndices } from "../core/random.js";
import type { Tensor } from "../core/tensor.js";
import { Tensor as TensorClass } from "../core/tensor.js";
import { formatDate } from "../data/dates.js";
import { DataError } from "../data/errors.js";
import { MinMaxScaler, type Scaler, StandardScaler, scalerFromJSON } from "../data/scaler.js";
import { type SeriesSplit, splitSeries } from "../data/split.js";
import { clipGradNorm_ } from "../nn/clip.js";
import { mseLoss } from "../nn/loss.js";
import { Adam } from "../optim/adam.js";
import { ReduceLROnPlateau } from "../optim/lr_scheduler.js";
import {
  type DataSpecJSON,
  type EpochRecord,
  type SplitJSON,
  type ForecastCheckpoint,
  LIBRARY_VERSION,
  type TrainingJSON,
  type WindowNorm,
  buildModel,
  snapshotWeights,
  splitToJSON,
} from "./checkpoint.js";
import type { PreparedSeries } from "./data.js";
import { ForecastError } from "./errors.js";
import { type CellType, ForecastNet, type ForecastModelConfig, modelConfigToJSON } from "./model.js";
import {
  type PipelineSpec,
  gatherInput,
  predictWindows,
  scaleSeries,
  windowInputs,
  windowTargets,
} from "./pipeline.js";

export interface TrainOptions {
  // data
  lookback: number;
  horizon: number;
  /** Validation and test sizes: fractions in [0, 1) or row counts (see splitSeries). */
  val: number;
  test: number;
  scaler: "standard" | "minmax";
  windowNorm: WindowNorm;
  // model
  cell: CellType;
  hidden: number;
  layers: number;
  dropout: number;
  batchFirst: boolean;
  // optimisation
  /** Epochs to run in this call (with `resume`: more epochs after those already run). */
  epochs: number;
  batchSize: number;
  lr: number;
  /** Clip the gradients' joint 2-norm to this value; 0 for no clipping. */
  clip: number;
  seed: number;
  /** Stop after this many epochs without improvement; 0 never stops early. */
  patience: number;
  /** ReduceLROnPlateau: epochs without improvement before the rate is multiplied by lrFactor. */
  lrPatience: number;
  lrFactor: number;
  minLr: number;
}

/**
 * Defaults that work on real monthly data such as Mauna Loa CO2: two years of context, a year ahead,
 * an LSTM of 32, predicting changes from the last observation (window norm "last").
 */
export const DEFAULT_TRAIN_OPTIONS: Readonly<TrainOptions> = Object.freeze({
  lookback: 24,
  horizon: 12,
  val: 0.15,
  test: 0.15,
  scaler: "standard",
  windowNorm: "last",
  cell: "lstm",
  hidden: 32,
  layers: 1,
  dropout: 0,
  batchFirst: true,
  epochs: 200,
  batchSize: 32,
  lr: 0.005,
  clip: 1,
  seed: 0,
  patience: 10,
  lrPatience: 3,
  lrFactor: 0.5,
  minLr: 1e-5,
});

export interface EpochReport extends EpochRecord {
  /** Epochs planned in this call, and the index of this one in the call (1-based). */
  planned: number;
  done: number;
  bestEpoch: number;
  bestLoss: number;
  improved: boolean;
}

export interface TrainHooks {
  /** After every epoch. */
  onEpoch?: (r: EpochReport) => void | Promise<void>;
  /** After every batch (cheap: called often). */
  onBatch?: (epoch: number, batch: number, batches: number, loss: number) => void;
  /** When the monitored loss improved: a checkpoint of the new best weights, history so far. */
  onImprove?: (ckpt: ForecastCheckpoint) => void | Promise<void>;
  /** Checked after every batch; true stops training (the unfinished epoch is dropped). */
  shouldStop?: () => boolean;
}

export type StopReason = "early-stop" | "max-epochs" | "interrupted" | "non-finite";

export interface TrainFailure {
  epoch: number;
  /** 1-based batch of the epoch, or 0 for the validation pass. */
  batch: number;
  what: "loss" | "gradient norm" | "validation loss";
  value: number;
}

export interface TrainResult {
  /** The best weights with the whole history; null when no epoch finished. */
  checkpoint: ForecastCheckpoint | null;
  /** A network holding the best weights (null when no epoch finished). */
  model: ForecastNet | null;
  stopped: StopReason;
  failure: TrainFailure | null;
  /** Epochs finished in this call. */
  epochsRun: number;
  seconds: number;
  split: SeriesSplit;
  windows: { train: number; val: number; test: number };
}

export function checkOptions(o: TrainOptions): void {
  const posInt: (keyof TrainOptions)[] = ["lookback", "horizon", "hidden", "layers", "epochs", "batchSize"];
  for (const k of posInt) {
    const v = o[k] as number;
    if (!Number.isInteger(v) || v < 1) throw new ForecastError(`${k} must be a positive integer, got ${v}`);
  }
  for (const k of ["patience", "lrPatience"] as const) {
    if (!Number.isInteger(o[k]) || o[k] < 0)
      throw new ForecastError(`${k} must be an integer >= 0, got ${o[k]}`);
  }
  if (!(o.lr > 0) || !Number.isFinite(o.lr))
    throw new ForecastError(`lr must be a positive number, got ${o.lr}`);
  if (!(o.clip >= 0) || !Number.isFinite(o.clip))
    throw new ForecastError(`clip must be >= 0 (0: no clipping), got ${o.clip}`);
  if (!(o.lrFactor > 0 && o.lrFactor < 1))
    throw new ForecastError(`lrFactor must be in (0, 1), got ${o.lrFactor}`);
  if (!(o.minLr >= 0)) throw new ForecastError(`minLr must be >= 0, got ${o.minLr}`);
  if (!Number.isFinite(o.seed)) throw new ForecastError(`seed must be a number, got ${o.seed}`);
  if (o.scaler !== "standard" && o.scaler !== "minmax") {
    throw new ForecastError(`scaler must be "standard" or "minmax", got ${JSON.stringify(o.scaler)}`);
  }
  if (o.windowNorm !== "last" && o.windowNorm !== "none") {
    throw new ForecastError(`windowNorm must be "last" or "none", got ${JSON.stringify(o.windowNorm)}`);
  }
}

/** Splits T rows and checks each part can hold the windows it needs, with a message that says why not. */
export function planSplit(
  T: number,
  lookback: number,
  horizon: number,
  val: number,
  test: number,
): SeriesSplit {
  const need = lookback + horizon;
  if (T < need) {
    throw new DataError(
      `series too short: ${T} row(s), but one window needs lookback ${lookback} + horizon ${horizon} = ${need} rows`,
    );
  }
  const split = splitSeries(T, { val, test });
  const nTrain = split.train.end;
  if (nTrain < need) {
    throw new DataError(
      `series too short: after the validation (${split.val.end - split.val.start}) and test (${split.test.end - split.test.start}) rows, ${nTrain} of ${T} rows are left for training, but one training window needs lookback ${lookback} + horizon ${horizon} = ${need} rows; use a longer series, a shorter lookback or horizon, or smaller val/test parts`,
    );
  }
  for (const [name, r] of [
    ["validation", split.val],
    ["test", split.test],
  ] as const) {
    const n = r.end - r.start;
    if (n > 0 && n < horizon) {
      throw new DataError(
        `the ${name} part has ${n} row(s), fewer than the horizon ${horizon}, so it holds no window; make it at least ${horizon} rows or 0`,
      );
    }
  }
  return split;
}

/** Origins of the windows whose targets all lie in [start, end) (and whose inputs fit in the series). */
export function originsIn(
  start: number,
  end: number,
  lookback: number,
  horizon: number,
  stride = 1,
): number[] {
  const out: number[] = [];
  for (let o = Math.max(start, lookback); o + horizon <= end; o += stride) out.push(o);
  return out;
}

const nowSeconds = (): number => performance.now() / 1000;
const yieldToEventLoop = (): Promise<void> => new Promise((r) => setTimeout(r, 0));

/** The settings a checkpoint fixes: resuming it trains with these, whatever the options say. */
export type FixedSettings = Pick<
  TrainOptions,
  | "lookback"
  | "horizon"
  | "val"
  | "test"
  | "scaler"
  | "windowNorm"
  | "cell"
  | "hidden"
  | "layers"
  | "dropout"
  | "batchFirst"
>;

/** The data, model and split settings stored in a checkpoint, as TrainOptions fields. */
export function fixedSettings(ckpt: ForecastCheckpoint): FixedSettings {
  const m = ckpt.meta;
  return {
    lookback: m.data.lookback,
    horizon: m.data.horizon,
    cell: m.model.cell,
    hidden: m.model.hidden_size,
    layers: m.model.num_layers,
    dropout: m.model.dropout,
    batchFirst: m.model.batch_first,
    val: m.split.val,
    test: m.split.test,
    scaler: m.data.scaler.type,
    windowNorm: m.data.window_norm,
  };
}

/** The options a run uses: `options`, with the checkpoint's fixed settings when resuming; checked. */
function runOptions(
  options: TrainOptions,
  series: PreparedSeries["series"],
  resume: ForecastCheckpoint | null,
) {
  const o: TrainOptions = resume === null ? { ...options } : { ...options, ...fixedSettings(resume) };
  if (resume !== null) {
    const want = resume.meta.data.columns;
    if (series.columns.length !== want.length || series.columns.some((c, i) => c !== want[i])) {
      throw new ForecastError(
        `the checkpoint was trained on columns ${want.join(", ")} but the series has ${series.columns.join(", ")}`,
      );
    }
  }
  checkOptions(o);
  return o;
}

/**
 * The windows a run trains and validates on, scaled: the scaler is fitted on the training rows only
 * (or is the checkpoint's, when resuming). tr.x and va.x are the inputs, trY (N, H) and vaY (Nv, H)
 * the targets.
 */
function trainingWindows(
  series: PreparedSeries["series"],
  o: TrainOptions,
  resume: ForecastCheckpoint | null,
) {
  const [T, F] = series.shape;
  const L = o.lookback;
  const H = o.horizon;
  const split = planSplit(T, L, H, o.val, o.test);
  let scaler: Scaler;
  if (resume !== null) scaler = scalerFromJSON(resume.meta.data.scaler);
  else {
    scaler = o.scaler === "standard" ? new StandardScaler() : new MinMaxScaler();
    scaler.fit({ data: series.data, shape: [T, F] }, { start: 0, end: split.train.end });
  }
  const spec: PipelineSpec = {
    scaler,
    targetIndex: series.targetIndex,
    lookback: L,
    horizon: H,
    windowNorm: o.windowNorm,
  };
  const scaled = scaleSeries(spec, series);
  const trainOrigins = originsIn(split.train.start, split.train.end, L, H);
  const valOrigins = originsIn(split.val.start, split.val.end, L, H);
  const testOrigins = originsIn(split.test.start, split.test.end, L, H);
  const tr = windowInputs(spec, scaled, F, trainOrigins);
  const trY = windowTargets(spec, scaled, F, trainOrigins, tr.refs); // (N, H)
  const va = windowInputs(spec, scaled, F, valOrigins);
  const vaY = windowTargets(spec, scaled, F, valOrigins, va.refs); // (Nv, H)
  const windows = { train: trainOrigins.length, val: valOrigins.length, test: testOrigins.length };
  return { split, scaler, tr, trY, va, vaY, windows };
}

/**
 * Model, Adam and ReduceLROnPlateau. A fresh run draws the initial weights, then the batches, from
 * `seed`; a resumed run continues with seed + epochs already run (so its batches are not a replay of
 * the first epochs), with the checkpoint's weights and optimizer state, and `o.lr` if it was changed.
 */
function trainingState(o: TrainOptions, config: ForecastModelConfig, resume: ForecastCheckpoint | null) {
  manualSeed(resume ? o.seed + resume.meta.training.history.length : o.seed);
  const model = resume ? buildModel(resume) : new ForecastNet(config);
  model.train();
  const params = model.parameters();
  const optimizer = new Adam(params, { lr: o.lr });
  const scheduler = new ReduceLROnPlateau(optimizer, {
    mode: "min",
    factor: o.lrFactor,
    patience: o.lrPatience,
    minLr: o.minLr,
  });
  if (resume?.optimizer) {
    optimizer.loadStateDict(resume.optimizer);
    if (o.lr !== resume.meta.training.lr) for (const g of optimizer.paramGroups) g.lr = o.lr;
  }
  if (resume?.scheduler) {
    scheduler.loadStateDict(resume.scheduler);
    scheduler.patience = o.lrPatience;
    scheduler.factor = o.lrFactor;
    scheduler.minLrs = scheduler.minLrs.map(() => o.minLr);
  }
  return { model, params, optimizer, scheduler };
}

/** The best so far: weights, optimizer and scheduler state at that epoch. */
interface Best {
  epoch: number;
  loss: number;
  weights: Record<string, Tensor>;
  opt: ReturnType<Adam["stateDict"]>;
  sched: ReturnType<ReduceLROnPlateau["stateDict"]>;
}

/** What a checkpoint of a run records besides the best weights. */
interface RunRecord {
  o: TrainOptions;
  config: ForecastModelConfig;
  /** The checkpoint's data and split sections (they do not change while training). */
  sections: { data: DataSpecJSON; split: SplitJSON };
  monitor: "val_loss" | "loss";
  history: EpochRecord[];
  /** Seconds spent before this call (resumed runs) and when this call started. */
  priorSeconds: number;
  t0: number;
}

/** The data and split sections of a checkpoint of one series. */
function seriesSections(
  prepared: PreparedSeries,
  o: TrainOptions,
  scaler: Scaler,
  split: SeriesSplit,
  windows: { train: number; val: number; test: number },
): { data: DataSpecJSON; split: SplitJSON } {
  const { series } = prepared;
  const T = series.shape[0];
  const ti = series.targetIndex;
  const dateAt = (row: number): string | null =>
    series.dates === null || row >= series.dates.length
      ? null
      : formatDate(series.dates[row], series.dateFormat ?? undefined);
  const data: DataSpecJSON = {
    target: series.columns[ti],
    columns: [...series.columns],
    target_index: ti,
    lookback: o.lookback,
    horizon: o.horizon,
    fill: prepared.fill,
    date_column: prepared.dateColumn,
    date_format: prepared.dateFormat,
    date_step: prepared.step,
    window_norm: o.windowNorm,
    scaler: scaler.toJSON(),
    rows: T,
    first_date: dateAt(0),
    last_date: dateAt(T - 1),
  };
  return { data, split: splitToJSON(o, T, split, windows, dateAt) };
}

function runCheckpoint(r: RunRecord, b: Best, stopped: string): ForecastCheckpoint {
  const o = r.o;
  const training: TrainingJSON = {
    seed: o.seed,
    batch_size: o.batchSize,
    lr: o.lr,
    clip: o.clip,
    patience: o.patience,
    lr_patience: o.lrPatience,
    lr_factor: o.lrFactor,
    min_lr: o.minLr,
    monitor: r.monitor,
    best_epoch: b.epoch,
    best_loss: b.loss,
    stopped,
    seconds: r.priorSeconds + (nowSeconds() - r.t0),
    history: r.history.map((h) => ({ ...h })),
  };
  return {
    meta: {
      model: modelConfigToJSON(r.config),
      data: r.sections.data,
      split: r.sections.split,
      training,
      libraryVersion: LIBRARY_VERSION,
    },
    stateDict: b.weights,
    optimizer: b.opt,
    scheduler: b.sched,
  };
}

/**
 * Trains a forecaster on `prepared` (from `prepareSeries`). With `resume`, the data settings, model and
 * scaler come from that checkpoint, the weights and optimizer state too, and `options` supplies only
 * the optimisation settings; the history goes on from the checkpoint's.
 */
export async function trainForecaster(
  prepared: PreparedSeries,
  options: TrainOptions,
  hooks: TrainHooks = {},
  resume: ForecastCheckpoint | null = null,
): Promise<TrainResult> {
  const t0 = nowSeconds();
  const { series } = prepared;
  if (resume?.meta.data.panel !== undefined) {
    throw new ForecastError(
      `the checkpoint holds one model of ${resume.meta.data.panel.series.length} series (ids in ${JSON.stringify(resume.meta.data.panel.id_column)}); resuming it on one series would scale every series as its first: train it again with --id-column instead`,
    );
  }
  const o = runOptions(options, series, resume);
  const { split, scaler, tr, trY, va, vaY, windows } = trainingWindows(series, o, resume);
  const r = await trainOnWindows(
    {
      F: series.shape[1],
      train: { x: tr.x, y: trY, n: windows.train },
      val: { x: va.x, y: vaY, n: windows.val },
      sections: seriesSections(prepared, o, scaler, split, windows),
    },
    o,
    hooks,
    resume,
    t0,
  );
  return { ...r, split, windows };
}

/** What training reads besides its settings: the windows, made, and the checkpoint's data and split. */
export interface TrainingData {
  /** Input columns. */
  F: number;
  train: { x: Float32Array; y: Float32Array; n: number }; // x (N, L, F), y (N, H)
  val: { x: Float32Array; y: Float32Array; n: number }; // x (Nv, L, F), y (Nv, H)
  /** The checkpoint's data and split sections (they do not change while training). */
  sections: { data: DataSpecJSON; split: SplitJSON };
}

/**
 * The training loop of `trainForecaster` on windows made elsewhere (one series, or many: panel.ts).
 * `o` holds checked settings (with `resume`, already those of the checkpoint).
 */
export async function trainOnWindows(
  d: TrainingData,
  o: TrainOptions,
  hooks: TrainHooks = {},
  resume: ForecastCheckpoint | null = null,
  t0 = nowSeconds(),
): Promise<Omit<TrainResult, "split" | "windows">> {
  checkOptions(o);
  const { F } = d;
  const L = o.lookback;
  const H = o.horizon;
  const N = d.train.n;
  const Nv = d.val.n;
  const tr = d.train;
  const trY = d.train.y;
  const va = d.val;
  const vaY = d.val.y;
  const config: ForecastModelConfig = {
    cell: o.cell,
    inputSize: F,
    hiddenSize: o.hidden,
    numLayers: o.layers,
    dropout: o.dropout,
    batchFirst: o.batchFirst,
    horizon: H,
  };
  const history: EpochRecord[] = resume ? [...resume.meta.training.history] : [];
  const { model, params, optimizer, scheduler } = trainingState(o, config, resume);
  const run: RunRecord = {
    o,
    config,
    sections: d.sections,
    monitor: Nv > 0 ? "val_loss" : "loss",
    history,
    priorSeconds: resume ? (resume.meta.training.seconds ?? 0) : 0,
    t0,
  };

  const valLoss = (): number => {
    const pred = predictWindows(model, va.x, Nv); // (Nv, H)
    let s = 0;
    for (let i = 0; i < pred.length; i++) s += (pred[i] - vaY[i]) ** 2;
    return s / pred.length;
  };
  const snapshot = (epoch: number, loss: number): Best => ({
    epoch,
    loss,
    weights: snapshotWeights(model),
    opt: optimizer.stateDict(),
    sched: scheduler.stateDict(),
  });
  // resuming starts from the checkpoint's own score on this data, so only better weights replace it
  let best: Best | null = resume
    ? snapshot(resume.meta.training.best_epoch, Nv > 0 ? valLoss() : resume.meta.training.best_loss)
    : null;

  let stopped: StopReason = "max-epochs";
  let failure: TrainFailure | null = null;
  let sinceBest = 0;
  let epochsRun = 0;
  const B = Math.min(o.batchSize, N);
  const batches = Math.ceil(N / B);
  const perm = new Int32Array(N);
  let lastYield = nowSeconds();

  outer: for (let k = 0; k < o.epochs; k++) {
    const epoch = history.length + 1;
    const e0 = nowSeconds();
    const lr = optimizer.paramGroups[0].lr;
    model.train();
    shuffledIndices(perm); // Fisher-Yates from the seeded default generator
    let sum = 0;
    for (let b = 0; b < batches; b++) {
      const idx = perm.subarray(b * B, Math.min(N, (b + 1) * B));
      const x = gatherInput(tr.x, L, F, idx, o.batchFirst);
      const yData = new Float32Array(idx.length * H); // (B, H)
      for (let i = 0; i < idx.length; i++) yData.set(trY.subarray(idx[i] * H, (idx[i] + 1) * H), i * H);
      const out = model.forward(x);
      const loss = mseLoss(out, new TensorClass(yData, [idx.length, H]));
      const lv = loss.item();
      if (!Number.isFinite(lv)) {
        failure = { epoch, batch: b + 1, what: "loss", value: lv };
        break outer;
      }
      optimizer.zeroGrad();
      loss.backward();
      const norm = o.clip > 0 ? clipGradNorm_(params, o.clip) : gradNorm(params);
      if (!Number.isFinite(norm)) {
        failure = { epoch, batch: b + 1, what: "gradient norm", value: norm };
        break outer;
      }
      optimizer.step();
      sum += lv * idx.length;
      hooks.onBatch?.(epoch, b + 1, batches, lv);
      if (hooks.shouldStop?.()) {
        stopped = "interrupted";
        break outer;
      }
      if (nowSeconds() - lastYield > 0.05) {
        await yieldToEventLoop();
        lastYield = nowSeconds();
        if (hooks.shouldStop?.()) {
          stopped = "interrupted";
          break outer;
        }
      }
    }
    const trainLoss = sum / N;
    let vLoss: number | null = null;
    if (Nv > 0) {
      vLoss = valLoss();
      if (!Number.isFinite(vLoss)) {
        failure = { epoch, batch: 0, what: "validation loss", value: vLoss };
        break;
      }
    }
    const watched = vLoss ?? trainLoss;
    scheduler.step(watched);
    const rec: EpochRecord = { epoch, loss: trainLoss, val_loss: vLoss, lr, seconds: nowSeconds() - e0 };
    history.push(rec);
    epochsRun++;
    const improved = best === null || watched < best.loss;
    if (improved) {
      best = snapshot(epoch, watched);
      sinceBest = 0;
      if (hooks.onImprove) await hooks.onImprove(runCheckpoint(run, best, "running"));
    } else {
      sinceBest++;
    }
    if (hooks.onEpoch) {
      await hooks.onEpoch({
        ...rec,
        planned: o.epochs,
        done: k + 1,
        bestEpoch: best!.epoch,
        bestLoss: best!.loss,
        improved,
      });
    }
    if (o.patience > 0 && sinceBest >= o.patience) {
      stopped = "early-stop";
      break;
    }
    await yieldToEventLoop();
    lastYield = nowSeconds();
    if (hooks.shouldStop?.()) {
      stopped = "interrupted";
      break;
    }
  }
  if (failure !== null) stopped = "non-finite";

  const checkpoint = best === null ? null : runCheckpoint(run, best, stopped);
  return {
    checkpoint,
    model: checkpoint === null ? null : buildModel(checkpoint),
    stopped,
    failure,
    epochsRun,
    seconds: nowSeconds() - t0,
  };
}

/** The joint 2-norm of the parameters' gradients (NaN or Infinity when any is). */
function gradNorm(params: readonly Tensor[]): number {
  let s = 0;
  for (const p of params) {
    if (p.grad === null) continue;
    const g = p.grad.data;
    for (let i = 0; i < g.length; i++) s += g[i] * g[i];
  }
  return Math.sqrt(s);
}
