// The playground's work, free of the DOM and of workers: the worker (worker.ts) runs these, and Node
// tests run the very same functions, so what the page shows is what Node computes.
//
//   trainSine        the notes' sine experiment, step for step as runSineExperiment, plus live
//                    previews and a stop; yields to the event loop so a stop message gets through
//   trainCsv         a forecaster on a CSV column (trainForecaster), then everything shown is computed
//                    from the encoded checkpoint bytes, exactly what a download and reload gives
//   forecastWithCheckpoint   checkpoint bytes + CSV text -> forecast of the next steps and a backtest
//   gradientsJob     RNN vs LSTM vs GRU gradient flow through time (and optionally the clipping runs)

import { app, data, type ForecastCell, forecast, type PreparedSeries, type TrainOptions } from "./lib.js";

const {
  CheckpointError,
  DEFAULT_TRAIN_OPTIONS,
  encodeCheckpoint,
  FILL_HINT,
  prepareSeries,
  trainForecaster,
} = forecast;
const { DataError } = data;

/** A message for people, from anything thrown. */
export function messageOf(e: unknown): string {
  if (e instanceof Error) return e.message;
  return String(e);
}

// =====================================================================================================
// The sine experiment: the library's job (src/app/sine.ts), with progress, previews and a stop

export type { SinePrediction } from "./lib.js";
export type SineJobOptions = app.SineJobOptions;
export type SineProgress = app.SineProgress;
export type SineHooks = app.SineHooks;
export type SineJobResult = app.SineJobResult;
export const trainSine = app.trainSine;

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

/** The views the page shows, computed by the library's forecasting session (src/app/session.ts). */
export type ScoreRow = app.ScoreRow;
export type ChartSeries = app.ChartSeries;
export type FutureView = app.FutureView;
export type DataSummary = app.DataSummary;
export type CheckpointView = app.CheckpointView;
/** A backtest on the checkpoint's test part and one picture of it (the raw forecasts stay in the worker). */
export type EvaluationView = Omit<app.BacktestView, "evaluation" | "classical">;

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
  let session: app.ForecastSession;
  try {
    session = app.openForecast(bytes, source, csvText, csvSource, fill === "none" ? undefined : fill);
  } catch (e) {
    throw e instanceof CheckpointError ? e : pageMessage(e, csvSource);
  }
  const future = app.futureView(session);
  let evaluation: EvaluationView | null = null;
  let evaluationNote: string | null = null;
  try {
    const {
      evaluation: _raw,
      classical: _rows,
      ...shown
    } = app.backtestView(session, {
      season: season > 0 ? season : undefined,
      onPhase: hooks.onBacktest,
    });
    evaluation = shown;
  } catch (e) {
    evaluationNote = `no backtest: ${messageOf(e)}`;
  }
  return {
    checkpoint: app.checkpointView(session.ckpt, source),
    data: app.dataSummary(csvSource, session.prepared),
    future,
    evaluation,
    evaluationNote,
  };
}

/** The backtest's phases: the model on every origin of the test part, then the classical models. */
export type BacktestPhase = app.BacktestPhase;

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
    warning = `${app.failureText(r.failure, o.lr)}; try a smaller learning rate`;
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
// Gradient flow: RNN vs LSTM vs GRU, as `recurrent gradients --compare` (src/app/gradflow.ts)

export type GradJobOptions = app.FlowCompareOptions;
export const GRAD_DEFAULTS = app.FLOW_DEFAULTS;
export type CellFlow = app.CellFlow;
export type GradJobResult = app.FlowCompareResult;
export type GradProgress = app.FlowProgress;
export function gradientsJob(o: GradJobOptions, onProgress?: (p: GradProgress) => void): GradJobResult {
  return app.compareFlow(o, undefined, onProgress);
}
export type ClipJobOptions = app.ClipRunsOptions;
export const CLIP_DEFAULTS = app.CLIP_DEFAULTS;
/** Trains twice from the same weights, with and without clipping (`recurrent gradients --clip`). */
export const clipJob = app.clipRuns;
