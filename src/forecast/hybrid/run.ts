// From a prepared series to a hybrid checkpoint: trains the ensemble (train.ts) and writes the common
// checkpoint metadata so `forecast` and `evaluate` read the file as they read an LSTM's.

import { formatDate } from "../../data/dates.js";
import {
  type DataSpecJSON,
  type ForecastCheckpoint,
  LIBRARY_VERSION,
  type SplitJSON,
  splitToJSON,
} from "../checkpoint.js";
import { column, type PreparedSeries } from "../data.js";
import { ForecastError } from "../errors.js";
import { type SeriesSplit, splitSeries } from "../../data/split.js";
import { hybridMetaOf, hybridWeights } from "./checkpoint.js";
import { type ArimaMetaJSON, type EtsMetaJSON, fitArimaMeta, fitEtsMeta } from "./fallback.js";
import { type CombinedTrainResult, trainHybridCombined } from "./combine.js";
import type { HybridHooks, HybridOptions } from "./train.js";

export interface HybridRun {
  checkpoint: ForecastCheckpoint;
  /**
   * The training; with a combination (options.combine other than "none") its `valMase` and
   * `intervals` are the combination's, the forecaster the checkpoint holds.
   */
  result: CombinedTrainResult;
}

/** Trains the hybrid (and its ETS partner) on the prepared series' target (univariate); builds its checkpoint. */
export async function trainHybridForecaster(
  prepared: PreparedSeries,
  options: HybridOptions,
  hooks: HybridHooks = {},
): Promise<HybridRun> {
  const { series } = prepared;
  const F = series.shape[1];
  if (F !== 1) {
    throw new ForecastError(
      `the hybrid model is univariate: it reads the target only, but ${F - 1} feature column(s) were given (${series.columns.filter((_, i) => i !== series.targetIndex).join(", ")}); use --model lstm for features`,
    );
  }
  const values = column(series, series.targetIndex);
  const trained = await trainHybridCombined(
    { values, dates: series.dates, step: prepared.step },
    options,
    hooks,
  );
  const cb = trained.combine;
  const r: CombinedTrainResult =
    cb === null ? trained : { ...trained, valMase: cb.val_mase ?? trained.valMase, intervals: cb.intervals };
  const c = r.config;
  const { data, split } = commonMeta(prepared, r.split, c.lookback, c.horizon, c.scale, options, {
    ...r.windows,
    test: Math.max(0, r.split.test.end - Math.max(r.split.test.start, c.lookback)),
  });
  const first = r.history.filter((e) => e.member === 0 && e.phase === "fit");
  const checkpoint: ForecastCheckpoint = {
    meta: {
      model: {
        cell: "lstm",
        input_size: 1,
        hidden_size: c.hidden,
        num_layers: c.layers,
        dropout: 0,
        batch_first: true,
        horizon: c.horizon,
      },
      data,
      split,
      training: {
        seed: options.seed,
        batch_size: options.batchSize,
        lr: options.lr,
        clip: options.clip,
        patience: options.patience,
        lr_patience: options.lrPatience,
        lr_factor: 0.5,
        min_lr: 1e-5,
        monitor: r.windows.val > 0 ? "val_loss" : "loss",
        best_epoch: r.members[0]?.bestEpoch ?? 0,
        best_loss: r.valMase ?? r.members[0]?.bestLoss ?? Number.NaN,
        stopped: r.interrupted ? "interrupted" : "early-stop",
        seconds: r.seconds,
        history: first.map((e) => ({
          epoch: e.epoch,
          loss: e.loss,
          val_loss: e.valLoss,
          lr: options.lr,
          seconds: e.seconds,
        })),
      },
      libraryVersion: LIBRARY_VERSION,
      // the hybrid's own scores and intervals (the combination's are in combine)
      hybrid: hybridMetaOf(trained, cb),
    },
    stateDict: hybridWeights(r.net),
    optimizer: null,
    scheduler: null,
  };
  return { checkpoint, result: r };
}

/** The data and split metadata every forecast checkpoint has. */
function commonMeta(
  prepared: PreparedSeries,
  s: SeriesSplit,
  lookback: number,
  horizon: number,
  scale: { offset: number; scale: number },
  sizes: { val: number; test: number },
  windows: { train: number; val: number; test: number },
): { data: DataSpecJSON; split: SplitJSON } {
  const { series } = prepared;
  const T = series.shape[0];
  const dateAt = (row: number): string | null =>
    series.dates === null || row >= series.dates.length
      ? null
      : formatDate(series.dates[row], series.dateFormat ?? undefined);
  const data: DataSpecJSON = {
    target: series.columns[series.targetIndex],
    columns: [...series.columns],
    target_index: series.targetIndex,
    lookback,
    horizon,
    fill: prepared.fill,
    date_column: prepared.dateColumn,
    date_format: prepared.dateFormat,
    date_step: prepared.step,
    window_norm: "last",
    scaler: { type: "standard", mean: [scale.offset], scale: [scale.scale] },
    rows: T,
    first_date: dateAt(0),
    last_date: dateAt(T - 1),
  };
  const split = splitToJSON(sizes, T, s, windows, dateAt);
  return { data, split };
}

/** Why an ETS checkpoint was written. */
export type EtsReason = "too-short" | "auto";

/**
 * An ETS checkpoint: ETS selected by AICc on the training and validation rows (everything before the
 * test part), saved so that `forecast` and `evaluate` use it as they use a trained model.
 */
export function etsCheckpoint(
  prepared: PreparedSeries,
  horizon: number,
  period: number,
  sizes: { val: number; test: number },
  reason: EtsReason,
  note: string,
  seconds: number,
): { checkpoint: ForecastCheckpoint; meta: EtsMetaJSON } {
  const fitEnd = rowsBeforeTest(prepared, sizes, "ETS");
  const meta = fitEtsMeta(
    column(prepared.series, prepared.series.targetIndex).subarray(0, fitEnd),
    period,
  ).meta;
  const stopped = reason === "too-short" ? `ets-fallback: ${note}` : `auto-ets: ${note}`;
  return { checkpoint: classicalCheckpoint(prepared, horizon, sizes, { ets: meta }, stopped, seconds), meta };
}

/**
 * An ARIMA checkpoint (`--model auto` when seasonal ARIMA wins): autoArima with the season, of the
 * logarithms of a positive series, on the rows before the test part.
 */
export function arimaCheckpoint(
  prepared: PreparedSeries,
  horizon: number,
  period: number,
  sizes: { val: number; test: number },
  note: string,
  seconds: number,
): { checkpoint: ForecastCheckpoint; meta: ArimaMetaJSON } {
  const fitEnd = rowsBeforeTest(prepared, sizes, "ARIMA");
  const meta = fitArimaMeta(column(prepared.series, prepared.series.targetIndex).subarray(0, fitEnd), period);
  return {
    checkpoint: classicalCheckpoint(
      prepared,
      horizon,
      sizes,
      { arima: meta },
      `auto-arima: ${note}`,
      seconds,
    ),
    meta,
  };
}

/** Rows before the test part, at least 4 (what ETS needs); a clear error where there are fewer. */
function rowsBeforeTest(
  prepared: PreparedSeries,
  sizes: { val: number; test: number },
  what: string,
): number {
  const fitEnd = splitSeries(prepared.series.shape[0], sizes).val.end;
  if (fitEnd < 4)
    throw new ForecastError(
      `series too short even for ${what}: ${fitEnd} row(s) before the test part, it needs at least 4`,
    );
  return fitEnd;
}

/** A checkpoint of a classical model: no weights, the model in `recurrent.ets` or `recurrent.arima`. */
function classicalCheckpoint(
  prepared: PreparedSeries,
  horizon: number,
  sizes: { val: number; test: number },
  model: { ets: EtsMetaJSON } | { arima: ArimaMetaJSON },
  stopped: string,
  seconds: number,
): ForecastCheckpoint {
  const T = prepared.series.shape[0];
  const s = splitSeries(T, sizes);
  const { data, split } = commonMeta(prepared, s, 4, horizon, { offset: 0, scale: 1 }, sizes, {
    train: 0,
    val: 0,
    test: Math.max(0, s.test.end - s.test.start - horizon + 1),
  });
  return {
    meta: {
      model: {
        cell: "lstm",
        input_size: 1,
        hidden_size: 1,
        num_layers: 1,
        dropout: 0,
        batch_first: true,
        horizon,
      },
      data,
      split,
      training: {
        seed: 0,
        batch_size: 0,
        lr: 0,
        clip: 0,
        patience: 0,
        lr_patience: 0,
        lr_factor: 0.5,
        min_lr: 0,
        monitor: "loss",
        best_epoch: 0,
        best_loss: 0,
        stopped,
        seconds,
        history: [],
      },
      libraryVersion: LIBRARY_VERSION,
      ...model,
    },
    stateDict: {},
    optimizer: null,
    scheduler: null,
  };
}
