// The `panel` field of a checkpoint's data section: one global model trained over many series of a
// long-format file (panel.ts), with each series' own scaler and split. Browser-safe.
//
//   data.panel = {
//     id_column: "id",                      the column naming the series
//     series: [{id, rows, first_date, last_date, scaler, train_range, val_range, test_range,
//               test_start_date, windows}],  every series trained on, in file order
//     skipped: [{id, rows, reason}]         series left out (too short for one window, say)
//   }
//
// The rest of `data` and `split` (rows, dates, scaler, ranges) describe the first series, so a tool
// that knows one series only reads a valid file; `seriesView` gives the same view for any series, and
// each view is checked on load as a one-series checkpoint is.

import type { Tensor } from "../core/tensor.js";
import type { ScalerJSON } from "../data/scaler.js";
import { CheckpointError } from "./errors.js";
import { type RawForecastMeta, validateForecastCheckpoint } from "./validate.js";

export interface PanelSeriesJSON {
  id: string;
  rows: number;
  first_date: string | null;
  last_date: string | null;
  scaler: ScalerJSON;
  train_range: [number, number];
  val_range: [number, number];
  test_range: [number, number];
  test_start_date: string | null;
  windows: { train: number; val: number; test: number };
}

export interface PanelJSON {
  id_column: string;
  series: PanelSeriesJSON[];
  skipped: { id: string; rows: number; reason: string }[];
}

/** The parts of a checkpoint's metadata that a series' view replaces. */
interface ViewableMeta {
  data: { panel?: PanelJSON; rows: number; first_date: string | null; last_date: string | null };
  split: {
    rows: number;
    train_range: [number, number];
    val_range: [number, number];
    test_range: [number, number];
    test_start_date: string | null;
    windows: { train: number; val: number; test: number };
  };
}

/** The data and split sections as a one-series checkpoint of series `s` would hold them (no panel). */
export function seriesView<M extends ViewableMeta>(meta: M, s: PanelSeriesJSON): M {
  const { panel: _, ...data } = meta.data;
  return {
    ...meta,
    data: { ...data, scaler: s.scaler, rows: s.rows, first_date: s.first_date, last_date: s.last_date },
    split: {
      ...meta.split,
      rows: s.rows,
      train_range: s.train_range,
      val_range: s.val_range,
      test_range: s.test_range,
      test_start_date: s.test_start_date,
      windows: s.windows,
    },
  };
}

const isObj = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === "object" && !Array.isArray(v);

/**
 * Checks `data.panel`: its shape, distinct ids, and every series' view as a one-series checkpoint
 * (scaler, rows, ranges, windows). Throws a CheckpointError naming `source` and the series.
 */
export function checkPanelMeta(meta: RawForecastMeta, tensors: Record<string, Tensor>, source: string): void {
  const bad = (msg: string): never => {
    throw new CheckpointError(`${source}: the checkpoint is damaged: data.panel ${msg}`);
  };
  const p = (meta.data as { panel?: unknown }).panel;
  if (!isObj(p)) throw bad(`is ${JSON.stringify(p)}, not an object`);
  if (typeof p.id_column !== "string" || p.id_column === "")
    bad(`.id_column is ${JSON.stringify(p.id_column)}, not a column name`);
  const cols = (meta.data as { columns?: unknown }).columns;
  if (Array.isArray(cols) && cols.includes(p.id_column))
    bad(`.id_column ${JSON.stringify(p.id_column)} is also one of the model's input columns`);
  if (!Array.isArray(p.series) || p.series.length === 0) bad("has no series (expected a non-empty list)");
  if (!Array.isArray(p.skipped)) bad(".skipped is not a list");
  const seen = new Set<string>();
  for (const [i, s] of (p.series as unknown[]).entries()) {
    if (!isObj(s) || typeof s.id !== "string") throw bad(`.series[${i}] has no string id`);
    if (seen.has(s.id)) bad(`.series lists ${JSON.stringify(s.id)} twice`);
    seen.add(s.id);
    for (const k of ["rows", "scaler", "train_range", "val_range", "test_range", "windows"]) {
      if (!(k in s)) bad(`.series[${i}] (${JSON.stringify(s.id)}) has no ${k}`);
    }
    const view = seriesView(meta as unknown as ViewableMeta, s as unknown as PanelSeriesJSON);
    validateForecastCheckpoint(
      view as unknown as RawForecastMeta,
      tensors,
      `${source} (series ${JSON.stringify(s.id)})`,
    );
  }
}
