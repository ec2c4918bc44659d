// Chronological splits of a series into train / validation / test ranges of time steps. Nothing is
// shuffled: validation follows training and test follows validation, as a forecaster meets the future.

import { DataError, checkInt } from "./errors.js";

/** A half-open range of time steps, [start, end). */
export interface IndexRange {
  start: number;
  end: number;
}

export interface SeriesSplit {
  train: IndexRange;
  val: IndexRange;
  test: IndexRange;
}

export interface SplitOptions {
  /** Validation size: a fraction in [0, 1) of the series, or an integer count >= 1. Default 0.15. */
  val?: number;
  /** Test size: a fraction in [0, 1) of the series, or an integer count >= 1. Default 0.15. */
  test?: number;
}

function sizeOf(value: number, T: number, what: string): number {
  if (!Number.isFinite(value) || value < 0) {
    throw new DataError(`splitSeries: ${what} must be a fraction in [0, 1) or a count >= 1, got ${value}`);
  }
  if (value < 1) return Math.round(value * T);
  if (!Number.isInteger(value)) {
    throw new DataError(
      `splitSeries: ${what} = ${value} is >= 1 so it is read as a count, but it is not an integer`,
    );
  }
  return value;
}

/**
 * Splits T time steps chronologically: train = [0, a), val = [a, b), test = [b, T). Sizes given as
 * fractions are rounded to the nearest count; training gets what is left and must not be empty.
 */
export function splitSeries(T: number, options: SplitOptions = {}): SeriesSplit {
  checkInt(T, 1, "splitSeries: T");
  const nVal = sizeOf(options.val ?? 0.15, T, "val");
  const nTest = sizeOf(options.test ?? 0.15, T, "test");
  const nTrain = T - nVal - nTest;
  if (nTrain < 1) {
    throw new DataError(
      `splitSeries: validation (${nVal}) and test (${nTest}) take all ${T} time steps; training needs at least one`,
    );
  }
  return {
    train: { start: 0, end: nTrain },
    val: { start: nTrain, end: nTrain + nVal },
    test: { start: nTrain + nVal, end: T },
  };
}
