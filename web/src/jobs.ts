// The playground's work, free of the DOM and of workers: the worker (worker.ts) runs these, and Node
// tests run the very same functions, so what the page shows is what Node computes.
//
//   trainSine        the notes' sine experiment, step for step as runSineExperiment, plus live
//                    previews and a stop; yields to the event loop so a stop message gets through
//   trainCsv         a forecaster on a CSV column (trainForecaster), then everything shown is computed
//                    from the encoded checkpoint bytes, exactly what a download and reload gives
//   forecastWithCheckpoint   checkpoint bytes + CSV text -> forecast of the next steps and a backtest
//   gradientsJob     RNN vs LSTM vs GRU gradient flow through time (and optionally the clipping runs)

import {
  CheckpointError,
  classicalBacktest,
  type ClipExperimentResult,
  clipExperiment,
  data,
  decodeCheckpoint,
  DEFAULT_TRAIN_OPTIONS,
  defaultSeason,
  describeModel,
  describeStep,
  encodeCheckpoint,
  evaluateForecaster,
  FILL_HINT,
  type ForecastCell,
  type ForecastCheckpoint,
  forecasterFrom,
  forecastSeries,
  Generator,
  gradientFlow,
  makeFlowModel,
  manualSeed,
  modelKind,
  type PreparedSeries,
  prepareSeries,
  randn,
  type SineCell,
  seriesSpecOf,
  type SinePrediction,
  SineTrainer,
  sinePredict,
  Tensor,
  trainForecaster,
  type TrainOptions,
} from "./lib.js";

const now = (): number => performance.now();
const { DataError } = data;
const yieldToEventLoop = (): Promise<void> => new Promise((r) => setTimeout(r, 0));

/** A message for people, from anything thrown. */
export function messageOf(e: unknown): string {
  if (e instanceof Error) return e.message;
  return String(e);
}

// =====================================================================================================
// The sine experiment

export interface SineJobOptions {
  cell: SineCell;
  hidden: number;
  layers?: number;
  iters: number;
  lr: number;
  /** Clip the gradient norm to this value; null for none. */
  clip: number | null;
  seed: number;
  /** Observed points the context-started forecast reads (default 10). */
  context?: number;
  /** Points per window (default 50). */
  steps?: number;
}

export type { SinePrediction } from "./lib.js";

export interface SineProgress {
  /** The iteration just done (0-based). */
  iter: number;
  loss: number;
  elapsed: number;
  /** The losses of iterations from..iter. */
  from: number;
  losses: Float32Array;
}

export interface SineHooks {
  /** Called every `reportEvery` iterations and at the last one. */
  onProgress?: (p: SineProgress) => void;
  reportEvery?: number;
  /** Called every `previewEvery` iterations with predictions of the model as it is. */
  onPreview?: (p: SinePrediction & { iter: number }) => void;
  previewEvery?: number;
  /** Checked between iterations; true stops training and keeps the model as it is. */
  shouldStop?: () => boolean;
}

export interface SineJobResult {
  options: Required<Omit<SineJobOptions, "clip">> & { clip: number | null };
  /** Iterations run (fewer than asked when stopped). */
  itersRun: number;
  stopped: boolean;
  losses: Float32Array;
  finalLoss: number;
  meanLossLast100: number;
  trainSeconds: number;
  prediction: SinePrediction;
  notesMse: number;
  contextMse: number;
  notesMseSameSpan: number;
  /** `RNN(1, 16, batch_first=True)`, as the model prints. */
  rnnName: string;
  modelName: string;
}

/**
 * The notes' sine experiment, exactly as `runSineExperiment` runs it (same seed, same draws, same
 * numbers), with progress, previews and a stop. Previews use the window starting at 0 and draw nothing
 * from the generator, so they leave the run unchanged; a stopped run ends as if `iters` had been the
 * iterations it ran.
 */
export async function trainSine(opts: SineJobOptions, hooks: SineHooks = {}): Promise<SineJobResult> {
  // The library's own training loop, one iteration at a time: the same seed gives the same numbers
  // as runSineExperiment and `recurrent sine`.
  const trainer = new SineTrainer({
    cell: opts.cell,
    hidden: opts.hidden,
    layers: opts.layers ?? 1,
    iters: opts.iters,
    lr: opts.lr,
    clip: opts.clip ?? undefined,
    seed: opts.seed,
    context: opts.context ?? 10,
    steps: opts.steps ?? 50,
  });
  const o = trainer.options;
  const reportEvery = Math.max(1, hooks.reportEvery ?? 100);
  const previewEvery = Math.max(1, hooks.previewEvery ?? 500);
  let lastYield = now();
  let reported = 0; // losses[0..reported) have been reported
  let stopped = false;
  const report = (iter: number) => {
    hooks.onProgress?.({
      iter,
      loss: trainer.losses[iter],
      elapsed: trainer.elapsed,
      from: reported,
      losses: trainer.losses.slice(reported, iter + 1),
    });
    reported = iter + 1;
  };
  while (!trainer.done) {
    trainer.step();
    const iter = trainer.iters - 1;
    const last = trainer.done;
    // What the page adds: progress with the new losses, previews, and a stop between iterations.
    if (hooks.onProgress && (iter % reportEvery === 0 || last)) report(iter);
    // Previews use the window starting at 0 and draw nothing from the generator.
    if (hooks.onPreview && iter % previewEvery === 0 && !last) {
      hooks.onPreview({ iter, ...sinePredict(trainer.model, trainer.state, 0, o.steps, o.context) });
    }
    if (!last && now() - lastYield > 40) {
      await yieldToEventLoop();
      lastYield = now();
    }
    if (!last && hooks.shouldStop?.()) {
      stopped = true;
      if (hooks.onProgress && reported < trainer.iters) report(iter);
      break;
    }
  }
  const r = trainer.finish();
  return {
    options: { ...o, clip: o.clip },
    itersRun: trainer.iters,
    stopped,
    losses: r.losses,
    finalLoss: r.finalLoss,
    meanLossLast100: r.meanLossLast100,
    trainSeconds: r.trainSeconds,
    prediction: {
      start: r.start,
      t: r.t,
      truth: r.truth,
      notesPred: r.notesPred,
      contextPred: r.contextPred,
      context: o.context,
    },
    notesMse: r.notesMse,
    contextMse: r.contextMse,
    notesMseSameSpan: r.notesMseSameSpan,
    rnnName: r.model.rnn.toString(),
    modelName: `${r.model.rnn.toString()} + Linear(${o.hidden}, 1)`,
  };
}

// =====================================================================================================
// Forecasting a CSV column

export type FillChoice = "none" | "ffill" | "linear" | "drop";

export interface CsvJobOptions {
  target: string;
  /** A column name, "auto" to detect an ISO date column, or "none". */
  dateColumn: string;
  fill: FillChoice;
  lookback: number;
  horizon: number;
  cell: ForecastCell;
  hidden: number;
  epochs: number;
  lr: number;
  batchSize: number;
  seed: number;
  /** Early stopping patience in epochs; 0 never stops early. */
  patience: number;
  /** Season length for seasonal naive and MASE; 0 picks it from the date step. */
  season: number;
}

/** The page's defaults (a short run; the CLI's full defaults are DEFAULT_TRAIN_OPTIONS). */
export const CSV_DEFAULTS: Readonly<Omit<CsvJobOptions, "target">> = Object.freeze({
  dateColumn: "auto",
  fill: "linear",
  lookback: DEFAULT_TRAIN_OPTIONS.lookback,
  horizon: DEFAULT_TRAIN_OPTIONS.horizon,
  cell: DEFAULT_TRAIN_OPTIONS.cell,
  hidden: 16,
  epochs: 20,
  lr: DEFAULT_TRAIN_OPTIONS.lr,
  batchSize: DEFAULT_TRAIN_OPTIONS.batchSize,
  seed: 0,
  patience: DEFAULT_TRAIN_OPTIONS.patience,
  season: 0,
});

export interface EpochProgress {
  epoch: number;
  planned: number;
  done: number;
  loss: number;
  valLoss: number | null;
  lr: number;
  seconds: number;
  bestEpoch: number;
  improved: boolean;
}

export interface ScoreRow {
  name: string;
  mae: number;
  rmse: number;
  smape: number;
  mase: number;
}

/** A backtest on the checkpoint's test part, and one picture of it. */
export interface EvaluationView {
  season: number;
  horizon: number;
  testStart: number;
  testRows: number;
  /** Forecast origins (windows) scored. */
  windows: number;
  firstOrigin: string;
  lastOrigin: string;
  /**
   * Model, naive and seasonal naive on the same windows, then the classical models fitted on the rows
   * before the test part (ETS with the model AICc selected, Theta, seasonal naive with drift).
   */
  scores: ScoreRow[];
  /**
   * The held-out tail as one picture: blocks of `horizon` steps, each forecast from the true history
   * before it (origins testStart, testStart + H, ...), beside the truth; with the history before it.
   */
  chart: ChartSeries;
}

/** What forecastChart draws: history, forecast, optional held-out truth, on dates or step numbers. */
export interface ChartSeries {
  history: number[];
  forecast: number[];
  heldOut: number[] | null;
  /** history + forecast dates in ms since the epoch, or null (then `index`). */
  dates: number[] | null;
  index: number[];
}

/** The forecast of the steps after the series. */
export interface FutureView {
  values: number[];
  dates: string[] | null;
  /** Step numbers when there are no dates (T, T+1, ...). */
  steps: number[];
  recursiveSteps: number;
  chart: ChartSeries;
}

export interface DataSummary {
  source: string;
  rows: number;
  columns: string[];
  target: string;
  dateColumn: string | null;
  step: string;
  firstDate: string | null;
  lastDate: string | null;
  insertedDates: number;
  missingDates: number;
}

export interface CheckpointView {
  source: string;
  /** `LSTM(1, 16) -> Linear(16, 12)` */
  modelName: string;
  cell: string;
  target: string;
  columns: string[];
  lookback: number;
  horizon: number;
  bestEpoch: number;
  bestLoss: number;
  monitor: string;
  stopped: string;
  epochs: number;
  history: { epoch: number; loss: number; valLoss: number | null }[];
  libraryVersion: string;
}

export interface ForecastJobResult {
  checkpoint: CheckpointView;
  data: DataSummary;
  future: FutureView;
  /** Null when the CSV does not hold the checkpoint's test part; `evaluationNote` says why. */
  evaluation: EvaluationView | null;
  evaluationNote: string | null;
}

export interface CsvJobResult extends ForecastJobResult {
  /** The checkpoint as safetensors bytes (what the download button saves). */
  bytes: Uint8Array;
  fileName: string;
  stopped: "early-stop" | "max-epochs" | "interrupted" | "non-finite";
  /** Set when training hit a non-finite value; the best epoch before it is kept. */
  warning: string | null;
  epochsRun: number;
  seconds: number;
  split: { train: number; val: number; test: number; windows: { train: number; val: number; test: number } };
}

/** The data layer asks for `fill: ...`; in the page that is the "missing values" menu. */
function pageMessage(e: unknown, source: string): Error {
  const msg = messageOf(e)
    .split(FILL_HINT)
    .join('choose "forward fill", "linear" or "drop" under Missing values');
  if (e instanceof DataError) return new DataError(`${source}: ${msg}`);
  if (e instanceof Error) {
    const out = new Error(msg);
    out.name = e.name;
    return out;
  }
  return new Error(msg);
}

function dateColumnOption(v: string): string | false | undefined {
  return v === "auto" || v === "" ? undefined : v === "none" ? false : v;
}

function fillOption(v: FillChoice): "ffill" | "linear" | "drop" | undefined {
  return v === "none" ? undefined : v;
}

function dataSummary(source: string, p: PreparedSeries): DataSummary {
  const s = p.series;
  const T = s.shape[0];
  const date = (i: number) =>
    s.dates === null || T === 0 ? null : new Date(s.dates[i]).toISOString().slice(0, 10);
  return {
    source,
    rows: T,
    columns: [...s.columns],
    target: s.columns[s.targetIndex],
    dateColumn: p.dateColumn,
    step: describeStep(p.step),
    firstDate: date(0),
    lastDate: date(T - 1),
    insertedDates: p.insertedDates,
    missingDates: p.missingDates,
  };
}

function checkpointView(ckpt: ForecastCheckpoint, source: string): CheckpointView {
  const m = ckpt.meta.model;
  const t = ckpt.meta.training;
  return {
    source,
    modelName: describeModel(ckpt),
    cell: m.cell,
    target: ckpt.meta.data.target,
    columns: [...ckpt.meta.data.columns],
    lookback: ckpt.meta.data.lookback,
    horizon: ckpt.meta.data.horizon,
    bestEpoch: t.best_epoch,
    bestLoss: t.best_loss,
    monitor: t.monitor,
    stopped: t.stopped,
    epochs: t.history.length,
    history: t.history.map((h) => ({ epoch: h.epoch, loss: h.loss, valLoss: h.val_loss })),
    libraryVersion: ckpt.meta.libraryVersion,
  };
}

/**
 * What the page shows for a checkpoint and a CSV: the forecast of the next steps and, when the CSV
 * holds the checkpoint's test part, the backtest beside the baselines. The same function serves a
 * model just trained (from its encoded bytes) and a checkpoint file loaded back.
 */
export function forecastWithCheckpoint(
  bytes: Uint8Array,
  source: string,
  csvText: string,
  csvSource: string,
  fill?: FillChoice,
  season = 0,
  hooks: BacktestHooks = {},
): ForecastJobResult {
  if (bytes.length === 0) throw new CheckpointError(`the checkpoint ${source} is empty (0 bytes)`);
  const ckpt = decodeCheckpoint(bytes, source);
  const f = forecasterFrom(ckpt, source);
  const d = ckpt.meta.data;
  let prepared: PreparedSeries;
  try {
    prepared = prepareSeries(csvText, {
      ...seriesSpecOf(ckpt),
      fill: fill === undefined || fill === "none" ? (d.fill ?? undefined) : fill,
    });
  } catch (e) {
    if (e instanceof DataError && /^unknown column|^date column .* is not in the CSV/.test(e.message)) {
      throw new CheckpointError(
        `the checkpoint ${source} reads columns ${d.columns.join(", ")}${d.date_column ? ` with dates in ${JSON.stringify(d.date_column)}` : ""}, which ${csvSource} does not match: ${e.message}`,
      );
    }
    throw pageMessage(e, csvSource);
  }
  const series = prepared.series;
  const [T, F] = series.shape;
  const ti = series.targetIndex;
  const target = (row: number) => series.data[row * F + ti];

  // The next steps after the series.
  const fc = forecastSeries(f, series);
  const n = fc.values.length;
  const keep = Math.min(T, Math.max(3 * d.lookback, 4 * n));
  const future: FutureView = {
    values: Array.from(fc.values),
    dates: fc.dates,
    steps: Array.from({ length: n }, (_, i) => T + i),
    recursiveSteps: fc.recursiveSteps,
    chart: {
      history: Array.from({ length: keep }, (_, i) => target(T - keep + i)),
      forecast: Array.from(fc.values),
      heldOut: null,
      dates:
        series.dates !== null && fc.dates !== null
          ? [...series.dates.slice(T - keep), ...continueMs(series.dates, n, ckpt)]
          : null,
      index: Array.from({ length: keep + n }, (_, i) => T - keep + i),
    },
  };

  // The backtest on the test part, when this CSV has it.
  let evaluation: EvaluationView | null = null;
  let evaluationNote: string | null = null;
  const m = season > 0 ? season : defaultSeason(prepared.step ?? d.date_step);
  try {
    hooks.onBacktest?.("model");
    const ev = evaluateForecaster(f, series, { season: m });
    const H = ev.horizon;
    const W = ev.origins.length;
    const blocks = Math.floor((T - ev.testStart) / H);
    const forecast: number[] = [];
    const heldOut: number[] = [];
    for (let b = 0; b < blocks; b++) {
      const w = b * H; // with stride 1, window w starts at testStart + w
      for (let h = 0; h < H; h++) {
        forecast.push(ev.forecasts.model[w * H + h]);
        heldOut.push(ev.actuals[w * H + h]);
      }
    }
    hooks.onBacktest?.("classical");
    const hist = Math.min(ev.testStart, Math.max(2 * d.lookback, H));
    const start = ev.testStart - hist;
    const span = hist + forecast.length;
    evaluation = {
      season: m,
      horizon: H,
      testStart: ev.testStart,
      testRows: T - ev.testStart,
      windows: W,
      firstOrigin: ev.originDates?.[0] ?? `row ${ev.origins[0]}`,
      lastOrigin: ev.originDates?.[W - 1] ?? `row ${ev.origins[W - 1]}`,
      scores: [
        { name: `${modelKind(ckpt)} model`, ...ev.scores.model },
        { name: "naive", ...ev.scores.naive },
        { name: `seasonal naive (m=${m})`, ...ev.scores.seasonalNaive },
        ...classicalBacktest({
          series: Float64Array.from({ length: T }, (_, i) => target(i)),
          testStart: ev.testStart,
          horizon: H,
          m,
        }).flatMap((c) =>
          c.scores === null
            ? []
            : [{ name: c.name === "ETS" ? `${c.label} (auto ETS)` : c.label, ...c.scores }],
        ),
      ],
      chart: {
        history: Array.from({ length: hist }, (_, i) => target(start + i)),
        forecast,
        heldOut,
        dates: series.dates === null ? null : series.dates.slice(start, start + span),
        index: Array.from({ length: span }, (_, i) => start + i),
      },
    };
  } catch (e) {
    evaluationNote = `no backtest: ${messageOf(e)}`;
  }
  return {
    checkpoint: checkpointView(ckpt, source),
    data: dataSummary(csvSource, prepared),
    future,
    evaluation,
    evaluationNote,
  };
}

/** The n dates after a series, in ms, from the checkpoint's step (or the series' own spacing). */
function continueMs(dates: readonly number[], n: number, ckpt: ForecastCheckpoint): number[] {
  return data.continueDates(dates, n, ckpt.meta.data.date_step ?? undefined);
}

/** The backtest's phases: the model on every origin of the test part, then the classical models. */
export type BacktestPhase = "model" | "classical";

export interface BacktestHooks {
  /** Called as each phase of the backtest starts (it runs in one go: no progress within a phase). */
  onBacktest?: (phase: BacktestPhase) => void;
}

export interface CsvHooks extends BacktestHooks {
  onEpoch?: (p: EpochProgress) => void;
  shouldStop?: () => boolean;
  /** The trained checkpoint, once training ends and before the backtest: kept even if that is stopped. */
  onTrained?: (t: { bytes: Uint8Array; fileName: string }) => void;
}

/**
 * Trains a forecaster on column `o.target` of `text`, then computes everything the page shows from the
 * encoded checkpoint (`forecastWithCheckpoint` on its bytes).
 */
export async function trainCsv(
  text: string,
  source: string,
  o: CsvJobOptions,
  hooks: CsvHooks = {},
): Promise<CsvJobResult> {
  const fill = fillOption(o.fill);
  let prepared: PreparedSeries;
  try {
    prepared = prepareSeries(text, { target: o.target, dateColumn: dateColumnOption(o.dateColumn), fill });
  } catch (e) {
    throw pageMessage(e, source);
  }
  if (o.dateColumn !== "auto" && o.dateColumn !== "none" && prepared.dateColumn === null) {
    throw new DataError(`${source}: the date column ${JSON.stringify(o.dateColumn)} was not used`);
  }
  const options: TrainOptions = {
    ...DEFAULT_TRAIN_OPTIONS,
    lookback: o.lookback,
    horizon: o.horizon,
    cell: o.cell,
    hidden: o.hidden,
    epochs: o.epochs,
    lr: o.lr,
    batchSize: o.batchSize,
    seed: o.seed,
    patience: o.patience,
  };
  let r: Awaited<ReturnType<typeof trainForecaster>>;
  try {
    r = await trainForecaster(prepared, options, {
      shouldStop: hooks.shouldStop,
      onEpoch: (e) =>
        hooks.onEpoch?.({
          epoch: e.epoch,
          planned: e.planned,
          done: e.done,
          loss: e.loss,
          valLoss: e.val_loss,
          lr: e.lr,
          seconds: e.seconds,
          bestEpoch: e.bestEpoch,
          improved: e.improved,
        }),
    });
  } catch (e) {
    throw pageMessage(e, source);
  }
  let warning: string | null = null;
  if (r.failure !== null) {
    const f = r.failure;
    const where =
      f.batch === 0 ? `in the validation pass of epoch ${f.epoch}` : `at epoch ${f.epoch}, batch ${f.batch}`;
    warning = `training stopped: the ${f.what} became ${f.value} ${where} (learning rate ${o.lr}); try a smaller learning rate`;
  }
  if (r.checkpoint === null) {
    throw new Error(
      warning ??
        (r.stopped === "interrupted"
          ? "stopped before the first epoch finished: no model to keep"
          : "no epoch finished"),
    );
  }
  const bytes = encodeCheckpoint(r.checkpoint);
  const fileName = `${safeName(o.target)}-${o.cell}${o.hidden}.safetensors`;
  hooks.onTrained?.({ bytes, fileName });
  const shown = forecastWithCheckpoint(bytes, fileName, text, source, o.fill, o.season, hooks);
  const s = r.split;
  return {
    ...shown,
    bytes,
    fileName,
    stopped: r.stopped,
    warning,
    epochsRun: r.epochsRun,
    seconds: r.seconds,
    split: {
      train: s.train.end - s.train.start,
      val: s.val.end - s.val.start,
      test: s.test.end - s.test.start,
      windows: r.windows,
    },
  };
}

function safeName(s: string): string {
  const t = s.replace(/[^A-Za-z0-9._-]+/g, "_").replace(/^_+|_+$/g, "");
  return t === "" ? "model" : t;
}

// =====================================================================================================
// Gradient flow: RNN vs LSTM vs GRU, as `recurrent gradients --compare`

export interface GradJobOptions {
  seqLen: number;
  hidden: number;
  inputSize: number;
  /** Multiplies every W_hh (the notes' W_R) after the default init. */
  initScale: number;
  /** LSTM forget-gate bias, or null to keep the default init. */
  forgetBias: number | null;
  seed: number;
  input: "randn" | "sine";
  jacobian: boolean;
}

export const GRAD_DEFAULTS: Readonly<GradJobOptions> = Object.freeze({
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

export interface GradJobResult {
  options: GradJobOptions;
  cells: CellFlow[];
}

/** randn: N(0, 1) from a generator seeded seed + 1; sine: sin(linspace(0, 10, T)) in every feature. */
export function gradInput(kind: "randn" | "sine", T: number, I: number, seed: number): Tensor {
  if (kind === "randn") return randn([T, I], { generator: new Generator(seed + 1) });
  const d = new Float32Array(T * I);
  for (let t = 0; t < T; t++) {
    const v = Math.sin(T === 1 ? 0 : (10 * t) / (T - 1));
    for (let i = 0; i < I; i++) d[t * I + i] = v;
  }
  return new Tensor(d, [T, I]);
}

/** Where a gradients job is: cell `index` of `of` (RNN, LSTM, GRU), `done` of `total` Jacobian steps. */
export interface GradProgress {
  cell: "rnn" | "lstm" | "gru";
  index: number;
  of: number;
  done: number;
  total: number;
}

export function gradientsJob(o: GradJobOptions, onProgress?: (p: GradProgress) => void): GradJobResult {
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
  const x = gradInput(o.input, o.seqLen, o.inputSize, o.seed);
  const cells = (["rnn", "lstm", "gru"] as const).map((cell, index, all): CellFlow => {
    const progress = (done: number, total: number) =>
      onProgress?.({ cell, index, of: all.length, done, total });
    progress(0, 1);
    manualSeed(o.seed);
    const module = makeFlowModel({
      cell,
      inputSize: o.inputSize,
      hidden: o.hidden,
      initScale: o.initScale,
      forgetBias: cell === "lstm" ? o.forgetBias : null,
    });
    const flow = gradientFlow(module, x, { jacobians: o.jacobian, onStep: onProgress && progress });
    const l = flow.layers[0];
    return {
      cell,
      module: module.toString(),
      loss: flow.loss,
      weightHhSpectral: l.weightHhSpectral,
      gradH: l.gradH,
      jacobianH: l.jacobianH?.spectral ?? null,
      jacobianC: l.jacobianC?.spectral ?? null,
    };
  });
  return { options: { ...o }, cells };
}

export interface ClipJobOptions {
  cell: "rnn" | "lstm" | "gru";
  hidden: number;
  initScale: number;
  clip: number;
  steps: number;
  lr: number;
  seed: number;
}

export const CLIP_DEFAULTS: Readonly<ClipJobOptions> = Object.freeze({
  cell: "rnn",
  hidden: 16,
  initScale: 3,
  clip: 1,
  steps: 300,
  lr: 0.3,
  seed: 0,
});

/** Trains twice from the same weights, with and without clipping (`recurrent gradients --clip`). */
export function clipJob(
  o: ClipJobOptions,
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
