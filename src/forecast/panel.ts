// Many series in one long-format file (rows `id,date,value`, a column naming the series): one global
// model trained over the windows of every series, each series with its own chronological split and its
// own scaler fitted on its own training rows, so series of very different levels share one network.
// Browser-safe. scripts/torch_train.py reads the same files the same way (read_panel, panel_windows).
//
// S = series, T_s = rows of series s, L = lookback, H = horizon, F = columns, N = windows of all series.
//
//   series s      rows of the file whose id is s, in file order; dates, gaps and fill as for one series
//   split_s       planSplit(T_s, L, H, val, test)  (a series too short for it is skipped and reported)
//   scaler_s      fitted on rows [0, train_end_s) of series s
//   windows       those of series 0, then series 1, ... (series in order of first appearance in the file),
//                 each series' windows in origin order: x (N, L, F), y (N, H)
//
// Training draws its shuffled batches from all N windows at once (trainOnWindows), so each epoch sees
// every window of every series. The checkpoint's data.panel keeps each series' id, scaler and split
// (panel-meta.ts); forecasting and evaluation use each series' own scaler on its own rows.

import { type CsvTable, getColumn, parseCsv } from "../data/csv.js";
import { formatDate } from "../data/dates.js";
import { DataError, quote } from "../data/errors.js";
import type { BacktestResult, Scores } from "../data/metrics.js";
import {
  MinMaxScaler,
  type Scaler,
  type ScalerJSON,
  StandardScaler,
  scalerFromJSON,
} from "../data/scaler.js";
import type { SeriesSplit } from "../data/split.js";
import { type DataSpecJSON, type ForecastCheckpoint, splitToJSON } from "./checkpoint.js";
import { type PreparedSeries, type SeriesSpec, prepareTable } from "./data.js";
import { CheckpointError, ForecastError } from "./errors.js";
import {
  type EvaluateOptions,
  type Evaluation,
  type ForecastOutput,
  evaluateForecaster,
  forecastSeries,
  forecasterFrom,
} from "./forecast.js";
import type { PanelJSON, PanelSeriesJSON } from "./panel-meta.js";
import { seriesView } from "./panel-meta.js";
import { type PipelineSpec, scaleSeries, windowInputs, windowTargets } from "./pipeline.js";
import {
  type TrainHooks,
  type TrainOptions,
  type TrainResult,
  checkOptions,
  originsIn,
  planSplit,
  trainOnWindows,
} from "./train.js";

export interface PanelSpec extends SeriesSpec {
  /** The column naming the series of each row. */
  idColumn: string;
}

export interface PanelMember {
  id: string;
  prepared: PreparedSeries;
}

export interface PreparedPanel {
  idColumn: string;
  /** The series in order of first appearance in the file. */
  members: PanelMember[];
}

/** The rows `rows` of a table, as a table of their own (cells, lines and dates follow). */
function subTable(table: CsvTable, rows: readonly number[]): CsvTable {
  const columns: Record<string, string[]> = Object.create(null);
  for (const name of table.header) {
    const cells = table.columns[name];
    columns[name] = rows.map((r) => cells[r]);
  }
  return {
    ...table,
    columns,
    rowCount: rows.length,
    lines: rows.map((r) => table.lines[r]),
    dates: table.dates === null ? null : rows.map((r) => table.dates![r]),
  };
}

/**
 * Parses a long-format CSV and prepares each series as `prepareSeries` prepares one (dates, gaps, fill,
 * columns). Every series must have the same date step: one model reads one frequency.
 */
export function preparePanel(text: string, spec: PanelSpec): PreparedPanel {
  const table = parseCsv(text, { dateColumn: spec.dateColumn });
  const { idColumn } = spec;
  if (typeof idColumn !== "string" || idColumn === "")
    throw new DataError("preparePanel: `idColumn` must name the column of series ids");
  const ids = getColumn(table, idColumn);
  for (const name of [spec.target, ...(spec.features ?? [])]) {
    getColumn(table, name);
    if (name === idColumn)
      throw new DataError(`column ${quote(idColumn)} names the series; it cannot also be a model input`);
  }
  if (idColumn === table.dateColumn)
    throw new DataError(
      `column ${quote(idColumn)} is the date column; the series ids need a column of their own`,
    );
  const groups = new Map<string, number[]>();
  for (let r = 0; r < table.rowCount; r++) {
    const id = ids[r].trim();
    if (id === "")
      throw new DataError(`empty series id in column ${quote(idColumn)} on line ${table.lines[r]}`);
    let g = groups.get(id);
    if (g === undefined) groups.set(id, (g = []));
    g.push(r);
  }
  const members: PanelMember[] = [];
  for (const [id, rows] of groups) {
    let prepared: PreparedSeries;
    try {
      prepared = prepareTable(subTable(table, rows), spec);
    } catch (e) {
      if (e instanceof DataError) throw new DataError(`series ${quote(id)}: ${e.message}`);
      throw e;
    }
    members.push({ id, prepared });
  }
  const stepped = members.filter((m) => m.prepared.step !== null);
  for (const m of stepped) {
    const a = stepped[0];
    if (JSON.stringify(m.prepared.step) !== JSON.stringify(a.prepared.step)) {
      throw new DataError(
        `series ${quote(a.id)} is ${a.prepared.step!.kind} (${JSON.stringify(a.prepared.step)}) but series ${quote(m.id)} is ${m.prepared.step!.kind} (${JSON.stringify(m.prepared.step)}); one model reads one frequency`,
      );
    }
  }
  return { idColumn, members };
}

/** The member with id `id`, or a DataError listing the ids there are. */
export function panelMember(panel: PreparedPanel, id: string): PanelMember {
  const m = panel.members.find((x) => x.id === id);
  if (m === undefined)
    throw new DataError(
      `no series ${quote(id)} in column ${quote(panel.idColumn)}; ${listIds(panel.members.map((x) => x.id))}`,
    );
  return m;
}

function listIds(ids: readonly string[]): string {
  const shown = ids.slice(0, 10).map(quote).join(", ");
  return `the ${ids.length} series are ${shown}${ids.length > 10 ? ", ..." : ""}`;
}

export type PanelWindowOptions = Pick<
  TrainOptions,
  "lookback" | "horizon" | "val" | "test" | "scaler" | "windowNorm"
>;

export interface PanelWindowMember {
  id: string;
  prepared: PreparedSeries;
  split: SeriesSplit;
  scaler: Scaler;
  spec: PipelineSpec;
  origins: { train: number[]; val: number[]; test: number[] };
}

export interface PanelWindows {
  members: PanelWindowMember[];
  /** Series left out, with the reason (too short for the split and one window, say). */
  skipped: { id: string; rows: number; reason: string }[];
  F: number;
  train: { x: Float32Array; y: Float32Array; n: number }; // x (N, L, F), y (N, H)
  val: { x: Float32Array; y: Float32Array; n: number }; // x (Nv, L, F), y (Nv, H)
  /** Test windows over all series. */
  test: number;
}

function concat(parts: Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((s, p) => s + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/**
 * Each series' split, scaler (fitted on its training rows) and windows; the training and validation
 * windows of all series, concatenated in series order. A series too short for the split is skipped and
 * reported; none long enough is an error that gives each one's reason.
 */
export function panelWindows(panel: PreparedPanel, o: PanelWindowOptions): PanelWindows {
  const { lookback: L, horizon: H } = o;
  const members: PanelWindowMember[] = [];
  const skipped: PanelWindows["skipped"] = [];
  const parts = {
    trX: [] as Float32Array[],
    trY: [] as Float32Array[],
    vaX: [] as Float32Array[],
    vaY: [] as Float32Array[],
  };
  let F = -1;
  let test = 0;
  for (const { id, prepared } of panel.members) {
    const { series } = prepared;
    const [T, Fs] = series.shape;
    if (F < 0) F = Fs;
    let split: SeriesSplit;
    try {
      split = planSplit(T, L, H, o.val, o.test);
    } catch (e) {
      if (!(e instanceof DataError)) throw e;
      skipped.push({ id, rows: T, reason: e.message });
      continue;
    }
    const scaler = o.scaler === "standard" ? new StandardScaler() : new MinMaxScaler();
    scaler.fit({ data: series.data, shape: [T, Fs] }, { start: 0, end: split.train.end });
    const spec: PipelineSpec = {
      scaler,
      targetIndex: series.targetIndex,
      lookback: L,
      horizon: H,
      windowNorm: o.windowNorm,
    };
    const scaled = scaleSeries(spec, series);
    const origins = {
      train: originsIn(split.train.start, split.train.end, L, H),
      val: originsIn(split.val.start, split.val.end, L, H),
      test: originsIn(split.test.start, split.test.end, L, H),
    };
    const tr = windowInputs(spec, scaled, Fs, origins.train);
    const va = windowInputs(spec, scaled, Fs, origins.val);
    parts.trX.push(tr.x);
    parts.trY.push(windowTargets(spec, scaled, Fs, origins.train, tr.refs));
    parts.vaX.push(va.x);
    parts.vaY.push(windowTargets(spec, scaled, Fs, origins.val, va.refs));
    test += origins.test.length;
    members.push({ id, prepared, split, scaler, spec, origins });
  }
  if (members.length === 0) {
    throw new DataError(
      `no series is long enough to train on: ${skipped.map((s) => `series ${quote(s.id)}: ${s.reason}`).join("; ")}`,
    );
  }
  const n = (a: Float32Array[], per: number) => a.reduce((s, p) => s + p.length, 0) / per;
  return {
    members,
    skipped,
    F,
    train: { x: concat(parts.trX), y: concat(parts.trY), n: n(parts.trY, H) },
    val: { x: concat(parts.vaX), y: concat(parts.vaY), n: n(parts.vaY, H) },
    test,
  };
}

/** A member's record in the checkpoint: its rows, dates, scaler and split. */
function memberJSON(
  m: PanelWindowMember,
  o: PanelWindowOptions,
): { json: PanelSeriesJSON; dateAt: (r: number) => string | null } {
  const s = m.prepared.series;
  const T = s.shape[0];
  const dateAt = (r: number): string | null =>
    s.dates === null || r >= s.dates.length ? null : formatDate(s.dates[r], s.dateFormat ?? undefined);
  const windows = { train: m.origins.train.length, val: m.origins.val.length, test: m.origins.test.length };
  const split = splitToJSON(o, T, m.split, windows, dateAt);
  return {
    json: {
      id: m.id,
      rows: T,
      first_date: dateAt(0),
      last_date: dateAt(T - 1),
      scaler: m.scaler.toJSON(),
      train_range: split.train_range,
      val_range: split.val_range,
      test_range: split.test_range,
      test_start_date: split.test_start_date,
      windows,
    },
    dateAt,
  };
}

export interface PanelTrainResult extends Omit<TrainResult, "split" | "windows"> {
  windows: PanelWindows;
}

/**
 * Trains one global forecaster over every series of `panel` (see the top of this file). The checkpoint
 * holds data.panel; its other data and split fields describe the first series trained on.
 */
export async function trainPanel(
  panel: PreparedPanel,
  options: TrainOptions,
  hooks: TrainHooks = {},
): Promise<PanelTrainResult> {
  const t0 = performance.now() / 1000;
  checkOptions(options);
  const o = options;
  const w = panelWindows(panel, o);
  const records = w.members.map((m) => memberJSON(m, o));
  const first = w.members[0];
  const s0 = first.prepared.series;
  const p0 = first.prepared;
  const panelJson: PanelJSON = {
    id_column: panel.idColumn,
    series: records.map((r) => r.json),
    skipped: w.skipped,
  };
  const data: DataSpecJSON = {
    target: s0.columns[s0.targetIndex],
    columns: [...s0.columns],
    target_index: s0.targetIndex,
    lookback: o.lookback,
    horizon: o.horizon,
    fill: p0.fill,
    date_column: p0.dateColumn,
    date_format: p0.dateFormat,
    date_step: p0.step,
    window_norm: o.windowNorm,
    scaler: first.scaler.toJSON(),
    rows: s0.shape[0],
    first_date: records[0].json.first_date,
    last_date: records[0].json.last_date,
    panel: panelJson,
  };
  const split = splitToJSON(o, s0.shape[0], first.split, records[0].json.windows, records[0].dateAt);
  const r = await trainOnWindows(
    { F: w.F, train: w.train, val: w.val, sections: { data, split } },
    o,
    hooks,
    null,
    t0,
  );
  return { ...r, windows: w };
}

// ---------------------------------------------------------------- using a panel checkpoint

/** The checkpoint's panel record (null for a one-series checkpoint). */
export function panelOf(ckpt: ForecastCheckpoint): PanelJSON | null {
  return ckpt.meta.data.panel ?? null;
}

/** The checkpoint as a one-series checkpoint of series `id`: its scaler, rows, dates and split. */
export function seriesCheckpoint(
  ckpt: ForecastCheckpoint,
  id: string,
  source = "checkpoint",
): ForecastCheckpoint {
  const p = panelOf(ckpt);
  if (p === null)
    throw new CheckpointError(`${source} was trained on one series, not on many (it has no series ids)`);
  const s = p.series.find((x) => x.id === id);
  if (s === undefined) {
    const why = p.skipped.find((x) => x.id === id);
    throw new CheckpointError(
      why !== undefined
        ? `${source} has no model of series ${quote(id)}: it was skipped in training (${why.reason})`
        : `${source} was not trained on series ${quote(id)}; ${listIds(p.series.map((x) => x.id))}`,
    );
  }
  return { ...ckpt, meta: seriesView(ckpt.meta, s) };
}

/** Series of the file and of the checkpoint, matched by id. */
function matchSeries(ckpt: ForecastCheckpoint, panel: PreparedPanel, source: string) {
  const p = panelOf(ckpt);
  if (p === null)
    throw new CheckpointError(`${source} was trained on one series, not on many (it has no series ids)`);
  const trained = new Set(p.series.map((s) => s.id));
  const pairs = panel.members
    .filter((m) => trained.has(m.id))
    .map((m) => ({ member: m, ckpt: seriesCheckpoint(ckpt, m.id, source) }));
  const inFile = new Set(panel.members.map((m) => m.id));
  return {
    pairs,
    /** Ids in the file that the checkpoint has no scaler for. */
    unknown: panel.members.filter((m) => !trained.has(m.id)).map((m) => m.id),
    /** Ids of the checkpoint that the file lacks. */
    missing: p.series.filter((s) => !inFile.has(s.id)).map((s) => s.id),
  };
}

export interface PanelForecast {
  series: { id: string; forecast: ForecastOutput }[];
  /** Series of the file the checkpoint was not trained on (no forecast: no scaler for them). */
  unknown: string[];
  /** Series of the checkpoint that the file does not have. */
  missing: string[];
}

/** Forecasts `steps` values after the end of every series the checkpoint knows, each with its scaler. */
export function forecastPanel(
  ckpt: ForecastCheckpoint,
  panel: PreparedPanel,
  steps?: number,
  source = "checkpoint",
): PanelForecast {
  const m = matchSeries(ckpt, panel, source);
  if (m.pairs.length === 0) {
    throw new ForecastError(
      `none of the file's series is one the checkpoint was trained on; ${listIds(panelOf(ckpt)!.series.map((s) => s.id))}`,
    );
  }
  const series = m.pairs.map(({ member, ckpt: c }) => {
    try {
      return {
        id: member.id,
        forecast: forecastSeries(forecasterFrom(c, source), member.prepared.series, steps),
      };
    } catch (e) {
      if (e instanceof ForecastError || e instanceof DataError)
        throw new ForecastError(`series ${quote(member.id)}: ${e.message}`);
      throw e;
    }
  });
  return { series, unknown: m.unknown, missing: m.missing };
}

export interface PanelEvaluation {
  series: { id: string; evaluation: Evaluation }[];
  /** Series that could not be evaluated, and why (not in the checkpoint, no test part here, ...). */
  skipped: { id: string; reason: string }[];
  /** Metrics over every scored point of every series (see `poolScores`), with the points counted. */
  overall: { scores: BacktestResult["scores"]; points: number; windows: number };
}

/**
 * Pools per-series scores by their points: MAE, sMAPE and MASE are point-weighted means (MASE is each
 * series' errors over its own seasonal-naive scale, so the pool is the mean scaled error over all
 * points), RMSE the root of the point-weighted mean square.
 */
export function poolScores(parts: { scores: Scores; points: number }[]): Scores {
  const n = parts.reduce((s, p) => s + p.points, 0);
  const mean = (f: (s: Scores) => number) => parts.reduce((s, p) => s + f(p.scores) * p.points, 0) / n;
  return {
    mae: mean((s) => s.mae),
    rmse: Math.sqrt(mean((s) => s.rmse * s.rmse)),
    smape: mean((s) => s.smape),
    mase: mean((s) => s.mase),
  };
}

/** Backtests every series on its own test part (as `evaluateForecaster` does one), then overall. */
export function evaluatePanel(
  ckpt: ForecastCheckpoint,
  panel: PreparedPanel,
  options: EvaluateOptions,
  source = "checkpoint",
): PanelEvaluation {
  const m = matchSeries(ckpt, panel, source);
  const skipped: PanelEvaluation["skipped"] = [
    ...m.unknown.map((id) => ({ id, reason: "not a series the checkpoint was trained on" })),
    ...m.missing.map((id) => ({ id, reason: "trained on, but not in this file" })),
  ];
  const series: PanelEvaluation["series"] = [];
  for (const { member, ckpt: c } of m.pairs) {
    try {
      series.push({
        id: member.id,
        // one horizon for every series (a short one is skipped, not scored over fewer steps), so the
        // pooled scores mix no horizons
        evaluation: evaluateForecaster(forecasterFrom(c, source), member.prepared.series, {
          ...options,
          horizon: options.horizon ?? c.meta.data.horizon,
        }),
      });
    } catch (e) {
      if (!(e instanceof ForecastError || e instanceof DataError)) throw e;
      skipped.push({ id: member.id, reason: e.message });
    }
  }
  if (series.length === 0) {
    throw new ForecastError(
      `no series could be evaluated: ${skipped.map((s) => `series ${quote(s.id)}: ${s.reason}`).join("; ")}`,
    );
  }
  const points = (e: Evaluation) => e.actuals.length;
  const pool = (k: keyof BacktestResult["scores"]) =>
    poolScores(series.map((s) => ({ scores: s.evaluation.scores[k], points: points(s.evaluation) })));
  return {
    series,
    skipped,
    overall: {
      scores: { model: pool("model"), naive: pool("naive"), seasonalNaive: pool("seasonalNaive") },
      points: series.reduce((s, x) => s + points(x.evaluation), 0),
      windows: series.reduce((s, x) => s + x.evaluation.origins.length, 0),
    },
  };
}

/** Scalers of a panel checkpoint by series id (for tests and tools). */
export function panelScalers(ckpt: ForecastCheckpoint): Map<string, Scaler> {
  const p = panelOf(ckpt);
  return new Map((p?.series ?? []).map((s) => [s.id, scalerFromJSON(s.scaler as ScalerJSON)]));
}
