// A forecasting session: a checkpoint opened against a CSV with every check, and what is shown of it
// (the forecast of the next steps, the backtest on the held-out test part, the model and the data) as
// plain data. The command (src/node/cli/forecast-commands.ts) and the page (web/src/jobs.ts) both call
// these and only render what they return, so they accept and refuse the same files with the same words.
//
// Browser-safe: text and bytes in, numbers and strings out; reading files is the adapters' business.

import { continueDates, formatDate } from "../data/dates.js";
import { DataError } from "../data/errors.js";
import type { FillMethod } from "../data/series.js";
import { type ClassicalRow, classicalBacktest } from "../forecast/classical/backtest.js";
import { type ForecastCheckpoint, decodeCheckpoint } from "../forecast/checkpoint.js";
import { type PreparedSeries, defaultSeason, describeStep, prepareSeries } from "../forecast/data.js";
import { describeModel, modelKind } from "../forecast/describe.js";
import { CheckpointError } from "../forecast/errors.js";
import { type FixedSettings, fixedSettings } from "../forecast/train.js";
import {
  type Evaluation,
  type ForecastOutput,
  type Forecaster,
  evaluateForecaster,
  forecastSeries,
  forecasterFrom,
  seriesSpecOf,
} from "../forecast/forecast.js";

// ---------------------------------------------------------------- opening

/** Decodes checkpoint bytes; an empty file says so by name instead of failing in the decoder. */
export function readCheckpoint(bytes: Uint8Array, source: string): ForecastCheckpoint {
  if (bytes.length === 0) throw new CheckpointError(`the checkpoint ${source} is empty (0 bytes)`);
  return decodeCheckpoint(bytes, source);
}

/** `the checkpoint m.safetensors reads columns CO2 with dates in "Date"`: the start of a mismatch message. */
function readsColumns(ckpt: ForecastCheckpoint, source: string): string {
  const d = ckpt.meta.data;
  return `the checkpoint ${source} reads columns ${d.columns.join(", ")}${d.date_column ? ` with dates in ${JSON.stringify(d.date_column)}` : ""}`;
}

/**
 * The checkpoint's columns from CSV text, with the checks every use of a checkpoint needs: the CSV has
 * the checkpoint's columns (and date column), and its dates step as the training data's did. Missing
 * values are filled as `fill` says, else as the checkpoint was trained. Other data errors (gaps, bad
 * numbers) are thrown as they are, for the adapter to word its own way to fix them (FILL_HINT).
 */
export function prepareForCheckpoint(
  ckpt: ForecastCheckpoint,
  source: string,
  csvText: string,
  csvSource: string,
  fill?: FillMethod,
): PreparedSeries {
  const d = ckpt.meta.data;
  let prepared: PreparedSeries;
  try {
    prepared = prepareSeries(csvText, { ...seriesSpecOf(ckpt), fill: fill ?? d.fill ?? undefined });
  } catch (e) {
    if (e instanceof DataError && /^unknown column|^date column .* is not in the CSV/.test(e.message)) {
      throw new CheckpointError(
        `${readsColumns(ckpt, source)}, which ${csvSource} does not match: ${e.message}`,
      );
    }
    throw e;
  }
  checkStep(ckpt, source, prepared, csvSource);
  return prepared;
}

/** The series' dates step as the training data's did (either may have no dates). */
function checkStep(
  ckpt: ForecastCheckpoint,
  source: string,
  prepared: PreparedSeries,
  csvSource: string,
): void {
  const trained = ckpt.meta.data.date_step;
  const now = prepared.step;
  if (trained !== null && now !== null && JSON.stringify(trained) !== JSON.stringify(now)) {
    throw new CheckpointError(
      `the checkpoint ${source} was trained on ${describeStep(trained)} data but ${csvSource} is ${describeStep(now)}`,
    );
  }
}

/** A checkpoint and a series it can read: what forecasting and backtesting start from. */
export interface ForecastSession {
  ckpt: ForecastCheckpoint;
  /** The checkpoint's name in messages (a path, or a file name in the page). */
  source: string;
  forecaster: Forecaster;
  prepared: PreparedSeries;
  /** The CSV's name in messages. */
  csvSource: string;
}

/** Opens a checkpoint (decoded, or as bytes) against CSV text, with every check (`prepareForCheckpoint`). */
export function openForecast(
  checkpoint: ForecastCheckpoint | Uint8Array,
  source: string,
  csvText: string,
  csvSource: string,
  fill?: FillMethod,
): ForecastSession {
  const ckpt = checkpoint instanceof Uint8Array ? readCheckpoint(checkpoint, source) : checkpoint;
  const forecaster = forecasterFrom(ckpt, source);
  const prepared = prepareForCheckpoint(ckpt, source, csvText, csvSource, fill);
  return { ckpt, source, forecaster, prepared, csvSource };
}

/** A session of a series prepared elsewhere (one series of a long-format file), with the step check. */
export function sessionOf(
  ckpt: ForecastCheckpoint,
  source: string,
  prepared: PreparedSeries,
  csvSource: string,
): ForecastSession {
  checkStep(ckpt, source, prepared, csvSource);
  return { ckpt, source, forecaster: forecasterFrom(ckpt, source), prepared, csvSource };
}

// ---------------------------------------------------------------- the settings a checkpoint fixes

/**
 * The settings a checkpoint fixes, which resuming it cannot change: the model, data and split settings
 * training takes from it (`fixedSettings`), the target column and the date column ("none" for none).
 */
export function checkpointSettings(
  ckpt: ForecastCheckpoint,
): FixedSettings & { target: string; dateColumn: string } {
  return {
    ...fixedSettings(ckpt),
    target: ckpt.meta.data.target,
    dateColumn: ckpt.meta.data.date_column ?? "none",
  };
}

export type CheckpointSetting = keyof ReturnType<typeof checkpointSettings>;

/** A setting asked for that differs from the one the checkpoint fixes. */
export interface SettingConflict {
  key: CheckpointSetting | "features";
  asked: string;
  fixed: string;
}

/**
 * The settings in `asked` (only those given) that differ from the checkpoint's, in the list's order;
 * `features` is compared with the checkpoint's non-target columns.
 */
export function settingConflicts(
  ckpt: ForecastCheckpoint,
  asked: Partial<Record<CheckpointSetting, unknown>> & { features?: readonly string[] },
): SettingConflict[] {
  const out: SettingConflict[] = [];
  const fixed = checkpointSettings(ckpt);
  for (const key of Object.keys(fixed) as CheckpointSetting[]) {
    if (key in asked && asked[key] !== fixed[key])
      out.push({ key, asked: String(asked[key]), fixed: String(fixed[key]) });
  }
  if (asked.features !== undefined) {
    const d = ckpt.meta.data;
    const want = d.columns.filter((c) => c !== d.target);
    if (asked.features.join(",") !== want.join(","))
      out.push({ key: "features", asked: asked.features.join(","), fixed: want.join(",") || "none" });
  }
  return out;
}

// ---------------------------------------------------------------- views

/** What forecastChart draws: history, forecast, optional held-out truth, on dates or step numbers. */
export interface ChartSeries {
  history: number[];
  forecast: number[];
  heldOut: number[] | null;
  /** Prediction intervals over the forecast (hybrid models), else null. */
  bands: { level: number; lower: number[]; upper: number[] }[] | null;
  /** history + forecast dates in ms since the epoch, or null (then `index`). */
  dates: number[] | null;
  index: number[];
}

/** Observed points a forecast chart shows before `steps` forecast ones: `history` if given, else 3 lookbacks or 4 forecasts. */
export function chartHistory(rows: number, lookback: number, steps: number, history?: number): number {
  return Math.min(rows, history ?? Math.max(3 * lookback, 4 * steps));
}

/** The forecast of the steps after the series. */
export interface FutureView {
  values: number[];
  /** Their dates as the series writes them, or null. */
  dates: string[] | null;
  /** Step numbers (T, T+1, ...), used when there are no dates. */
  steps: number[];
  /** Steps reached by feeding forecasts back (beyond the trained horizon). */
  recursiveSteps: number;
  /** 80 % and 95 % intervals (hybrid models), else null. */
  intervals: { level: number; lower: number[]; upper: number[] }[] | null;
  /** The last observed row: its date (or step number) and target value. */
  lastObserved: { stamp: string; value: number };
  chart: ChartSeries;
}

/** The target column of a session's series. */
function targetOf(s: ForecastSession): (row: number) => number {
  const series = s.prepared.series;
  const F = series.shape[1];
  const ti = series.targetIndex;
  const data = series.data; // once: a view's data is gathered on each read
  return (row) => data[row * F + ti];
}

/** Forecasts `steps` (default: the trained horizon) after the series; the chart shows `history` points before. */
export function futureView(s: ForecastSession, steps?: number, history?: number): FutureView {
  const series = s.prepared.series;
  const T = series.shape[0];
  const target = targetOf(s);
  const fc: ForecastOutput = forecastSeries(s.forecaster, series, steps);
  const n = fc.values.length;
  const keep = chartHistory(T, s.ckpt.meta.data.lookback, n, history);
  const intervals =
    fc.intervals?.map((b) => ({ level: b.level, lower: Array.from(b.lower), upper: Array.from(b.upper) })) ??
    null;
  const withDates = series.dates !== null && fc.dates !== null;
  return {
    values: Array.from(fc.values),
    dates: fc.dates,
    steps: Array.from({ length: n }, (_, i) => T + i),
    recursiveSteps: fc.recursiveSteps,
    intervals,
    lastObserved: {
      stamp: withDates ? formatDate(series.dates![T - 1], series.dateFormat ?? undefined) : String(T - 1),
      value: target(T - 1),
    },
    chart: {
      history: Array.from({ length: keep }, (_, i) => target(T - keep + i)),
      forecast: Array.from(fc.values),
      heldOut: null,
      bands: intervals,
      dates: withDates
        ? [
            ...series.dates!.slice(T - keep),
            ...continueDates(series.dates!, n, s.ckpt.meta.data.date_step ?? undefined),
          ]
        : null,
      index: Array.from({ length: keep + n }, (_, i) => T - keep + i),
    },
  };
}

export interface ScoreRow {
  name: string;
  mae: number;
  rmse: number;
  smape: number;
  mase: number;
}

export interface BacktestOptions {
  /** Season length for seasonal naive and MASE (default from the date step). */
  season?: number;
  stride?: number;
  /** Score only the first steps (default: the trained horizon). */
  horizon?: number;
  /** Also fit ETS, ARIMA, Theta and seasonal naive with drift on the rows before the test part (default true). */
  classical?: boolean;
  /** Called as each phase starts: the model on every origin of the test part, then the classical models. */
  onPhase?: (phase: BacktestPhase) => void;
}

export type BacktestPhase = "model" | "classical";

/** A backtest on the checkpoint's test part, beside the baselines, and one picture of it. */
export interface BacktestView {
  season: number;
  horizon: number;
  /** Whether `horizon` is the test part's length, shorter than the trained horizon (a short series). */
  horizonCut: boolean;
  stride: number;
  testStart: number;
  testRows: number;
  /** Forecast origins (windows) scored. */
  windows: number;
  /** The first and last origins' dates, or their row numbers as `row N`. */
  firstOrigin: string;
  lastOrigin: string;
  /** The model's family (`modelKind`): "LSTM", "hybrid", an ETS spec. */
  modelKind: string;
  /**
   * Model, naive and seasonal naive on the same windows, then the classical models that could be
   * fitted (ETS named with the model AICc selected, Theta, seasonal naive with drift).
   */
  scores: ScoreRow[];
  /** The classical rows as fitted, with those that failed (scores null, the reason in label). */
  classical: ClassicalRow[];
  /** The raw evaluation: forecasts, actuals, origins, interval coverage. */
  evaluation: Evaluation;
  /**
   * The held-out tail as one picture: blocks of `horizon` steps, each forecast from the true history
   * before it (origins testStart, testStart + H, ...), beside the truth; with the history before it.
   */
  chart: ChartSeries;
}

/** A score row's name for a classical model: ETS with the model it selected. */
export function classicalName(r: ClassicalRow): string {
  return r.name === "ETS" && r.scores !== null
    ? `${r.label} (auto ETS)`
    : r.scores !== null
      ? r.label
      : r.name;
}

/** Rolling-origin backtest of the session's checkpoint on its test part (`evaluateForecaster`), as plain data. */
export function backtestView(s: ForecastSession, o: BacktestOptions = {}): BacktestView {
  const series = s.prepared.series;
  const T = series.shape[0];
  const target = targetOf(s);
  const season = o.season ?? defaultSeason(s.prepared.step ?? s.ckpt.meta.data.date_step);
  o.onPhase?.("model");
  const ev = evaluateForecaster(s.forecaster, series, { season, stride: o.stride, horizon: o.horizon });
  const H = ev.horizon;
  const W = ev.origins.length;
  if (o.classical !== false) o.onPhase?.("classical");
  const classical =
    o.classical === false
      ? []
      : classicalBacktest({
          series: Float64Array.from({ length: T }, (_, i) => target(i)),
          testStart: ev.testStart,
          horizon: H,
          m: season,
          stride: ev.stride,
        });
  // the picture: origins testStart, testStart + H, ... (those the stride reached)
  const forecast: number[] = [];
  const heldOut: number[] = [];
  for (let b = 0; ev.testStart + (b + 1) * H <= T && (b * H) % ev.stride === 0; b++) {
    const w = (b * H) / ev.stride; // origin w is testStart + w * stride
    for (let h = 0; h < H; h++) {
      forecast.push(ev.forecasts.model[w * H + h]);
      heldOut.push(ev.actuals[w * H + h]);
    }
  }
  const hist = Math.min(ev.testStart, Math.max(2 * s.ckpt.meta.data.lookback, H));
  const start = ev.testStart - hist;
  const span = hist + forecast.length;
  const kind = modelKind(s.ckpt);
  return {
    season,
    horizon: H,
    horizonCut: ev.horizonCut,
    stride: ev.stride,
    testStart: ev.testStart,
    testRows: T - ev.testStart,
    windows: W,
    firstOrigin: ev.originDates?.[0] ?? `row ${ev.origins[0]}`,
    lastOrigin: ev.originDates?.[W - 1] ?? `row ${ev.origins[W - 1]}`,
    modelKind: kind,
    scores: [
      { name: `${kind} model`, ...ev.scores.model },
      { name: "naive", ...ev.scores.naive },
      { name: `seasonal naive (m=${season})`, ...ev.scores.seasonalNaive },
      ...classical.flatMap((c) => (c.scores === null ? [] : [{ name: classicalName(c), ...c.scores }])),
    ],
    classical,
    evaluation: ev,
    chart: {
      history: Array.from({ length: hist }, (_, i) => target(start + i)),
      forecast,
      heldOut,
      bands: null,
      dates: series.dates === null ? null : series.dates.slice(start, start + span),
      index: Array.from({ length: span }, (_, i) => start + i),
    },
  };
}

export interface DataSummary {
  source: string;
  rows: number;
  columns: string[];
  target: string;
  dateColumn: string | null;
  /** "monthly", "daily", "no dates", ... */
  step: string;
  firstDate: string | null;
  lastDate: string | null;
  insertedDates: number;
  missingDates: number;
}

/** What was read from a CSV. */
export function dataSummary(source: string, p: PreparedSeries): DataSummary {
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

export interface CheckpointView {
  source: string;
  /** `LSTM(1, 16) -> Linear(16, 12)` (`describeModel`) */
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

/** What a checkpoint holds, for people. */
export function checkpointView(ckpt: ForecastCheckpoint, source: string): CheckpointView {
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
