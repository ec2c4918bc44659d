// Sliding windows for supervised forecasting: each window pairs `lookback` rows of all columns (the
// input) with the next `horizon` values of the target column.
//
// T = time steps, F = columns, L = lookback, H = horizon, N = windows.
//
// Window n has origin o (the first forecast step): its input is rows [o - L, o) and its target is
// rows [o, o + H) of column targetIndex. Windows are chosen by where their targets fall, which is what
// keeps splits honest: a validation window's targets lie inside the validation range while its input
// may reach back into training data (that is history the forecaster legitimately has), and no
// training window has a target at or after the start of validation.

import { DataError, checkInt } from "./errors.js";
import type { IndexRange, SeriesSplit } from "./split.js";

/** A float32 array with its shape, row-major (ready for `new Tensor(data, shape)`). */
export interface Block {
  data: Float32Array;
  shape: number[];
}

/** A (T, F) series, or a plain (T) array taken as one column. */
export type SeriesLike = { data: Float32Array; shape: readonly number[] } | Float32Array;

export interface Windows {
  inputs: Block; // (N, L, F)
  targets: Block; // (N, H)
  /** Origin of each window: the row of its first target step. */
  origins: number[]; // (N)
}

export interface WindowOptions {
  /** The column whose future values are the targets. Default 0. */
  targetIndex?: number;
  /** Origins advance by this many rows. Default 1. */
  stride?: number;
  /** Only windows whose targets all lie in rows [targetStart, targetEnd). Default: the whole series. */
  targetStart?: number;
  targetEnd?: number;
}

function asMatrix(series: SeriesLike): { data: Float32Array; T: number; F: number } {
  if (series instanceof Float32Array) return { data: series, T: series.length, F: 1 };
  const { data, shape } = series;
  if (!(data instanceof Float32Array)) throw new DataError("series.data must be a Float32Array");
  if (shape.length === 1 && shape[0] === data.length) return { data, T: shape[0], F: 1 };
  if (shape.length !== 2 || shape[0] * shape[1] !== data.length) {
    throw new DataError(
      `series must have shape [T, F] matching its data, got shape [${shape.join(", ")}] for ${data.length} values`,
    );
  }
  return { data, T: shape[0], F: shape[1] };
}

/**
 * Cuts a series into windows: inputs (N, L, F) and targets (N, H) of column targetIndex, for every
 * origin o = max(L, targetStart) + k * stride with o + H <= targetEnd.
 */
export function makeWindows(
  series: SeriesLike,
  lookback: number,
  horizon: number,
  options: WindowOptions = {},
): Windows {
  const { data, T, F } = asMatrix(series);
  checkInt(lookback, 1, "lookback");
  checkInt(horizon, 1, "horizon");
  const targetIndex = options.targetIndex ?? 0;
  const stride = options.stride ?? 1;
  checkInt(stride, 1, "stride");
  if (!Number.isInteger(targetIndex) || targetIndex < 0 || targetIndex >= F) {
    throw new DataError(
      `targetIndex must be an integer in [0, ${F}) for a series of ${F} column(s), got ${targetIndex}`,
    );
  }
  if (T < lookback + horizon) {
    throw new DataError(
      `series too short: lookback ${lookback} + horizon ${horizon} needs at least ${lookback + horizon} time steps, got ${T}`,
    );
  }
  const targetStart = options.targetStart ?? 0;
  const targetEnd = options.targetEnd ?? T;
  checkInt(targetStart, 0, "targetStart");
  checkInt(targetEnd, 0, "targetEnd");
  if (targetEnd > T || targetStart > targetEnd) {
    throw new DataError(
      `target range [${targetStart}, ${targetEnd}) must lie within the series' ${T} time steps`,
    );
  }
  const first = Math.max(lookback, targetStart);
  const last = targetEnd - horizon; // last admissible origin
  if (last < first) {
    throw new DataError(
      `no window fits: targets must lie in rows [${targetStart}, ${targetEnd}), which holds ${Math.max(0, targetEnd - Math.max(targetStart, lookback))} step(s) after the first ${lookback} (lookback) rows, fewer than horizon ${horizon}`,
    );
  }
  const N = Math.floor((last - first) / stride) + 1;
  const inputs = new Float32Array(N * lookback * F); // (N, L, F)
  const targets = new Float32Array(N * horizon); // (N, H)
  const origins: number[] = [];
  for (let n = 0; n < N; n++) {
    const o = first + n * stride;
    origins.push(o);
    inputs.set(data.subarray((o - lookback) * F, o * F), n * lookback * F);
    for (let h = 0; h < horizon; h++) targets[n * horizon + h] = data[(o + h) * F + targetIndex];
  }
  return {
    inputs: { data: inputs, shape: [N, lookback, F] },
    targets: { data: targets, shape: [N, horizon] },
    origins,
  };
}

export interface SplitWindows {
  train: Windows;
  val: Windows;
  test: Windows;
}

function emptyWindows(lookback: number, horizon: number, F: number): Windows {
  return {
    inputs: { data: new Float32Array(0), shape: [0, lookback, F] },
    targets: { data: new Float32Array(0), shape: [0, horizon] },
    origins: [],
  };
}

/**
 * Windows for each part of a chronological split (see `splitSeries`): a part's windows have all their
 * targets inside that part, and their inputs may reach back into earlier parts. An empty part gives
 * no windows; a non-empty part too short for a single window is an error.
 */
export function splitWindows(
  series: SeriesLike,
  lookback: number,
  horizon: number,
  split: SeriesSplit,
  options: Omit<WindowOptions, "targetStart" | "targetEnd"> = {},
): SplitWindows {
  const { T, F } = asMatrix(series);
  if (split.test.end !== T) {
    throw new DataError(`split covers ${split.test.end} time steps but the series has ${T}`);
  }
  const part = (name: string, r: IndexRange): Windows => {
    if (r.end <= r.start && name !== "train") return emptyWindows(lookback, horizon, F);
    try {
      return makeWindows(series, lookback, horizon, { ...options, targetStart: r.start, targetEnd: r.end });
    } catch (e) {
      if (e instanceof DataError) throw new DataError(`${name} split [${r.start}, ${r.end}): ${e.message}`);
      throw e;
    }
  };
  return { train: part("train", split.train), val: part("val", split.val), test: part("test", split.test) };
}
