// Per-column scaling fitted on the training rows only, so nothing about validation or test values
// leaks into the inputs. Statistics are computed in float64; values are returned as float32.
//
// T = time steps, F = columns. Any array whose last dimension is F can be transformed (a (T, F)
// series, (N, L, F) windows); a single column, such as (N, H) targets of the target column, goes
// through `transformColumn` / `inverseTransformColumn`.
//
// StandardScaler: (x - mean) / scale with scale = the population standard deviation (divisor T),
// as scikit-learn's StandardScaler. MinMaxScaler: maps [min, max] onto featureRange (default [0, 1]).
// A constant column gets scale 1 (StandardScaler) or range 1 (MinMaxScaler) instead of dividing by 0.

import { DataError, checkInt } from "./errors.js";
import type { Block } from "./windows.js";

export interface FitOptions {
  /** Fit on rows [start, end) only; default: all rows. Pass the end of the training range. */
  start?: number;
  end?: number;
}

export type ScalerJSON =
  | { type: "standard"; mean: number[]; scale: number[] }
  | { type: "minmax"; featureRange: [number, number]; dataMin: number[]; dataMax: number[] };

interface Stats {
  F: number;
  rows: number;
  mean: Float64Array;
  min: Float64Array;
  max: Float64Array;
  variance: Float64Array; // population variance
}

function columnStats(
  x: { data: Float32Array; shape: readonly number[] },
  opts: FitOptions,
  who: string,
): Stats {
  const { data, shape } = x;
  if (shape.length !== 2 || shape[0] * shape[1] !== data.length) {
    throw new DataError(
      `${who}.fit: expected a (T, F) series, got shape [${shape.join(", ")}] for ${data.length} values`,
    );
  }
  const [T, F] = shape;
  const start = opts.start ?? 0;
  const end = opts.end ?? T;
  checkInt(start, 0, `${who}.fit: start`);
  checkInt(end, 0, `${who}.fit: end`);
  if (end > T || end <= start) {
    throw new DataError(`${who}.fit: rows [${start}, ${end}) must be a non-empty range within the ${T} rows`);
  }
  const rows = end - start;
  const mean = new Float64Array(F);
  const min = new Float64Array(F).fill(Number.POSITIVE_INFINITY);
  const max = new Float64Array(F).fill(Number.NEGATIVE_INFINITY);
  for (let t = start; t < end; t++) {
    for (let c = 0; c < F; c++) {
      const v = data[t * F + c];
      if (!Number.isFinite(v))
        throw new DataError(
          `${who}.fit: the value at row index ${t}, column index ${c} (both 0-based) is ${v}; fill missing values first`,
        );
      mean[c] += v;
      if (v < min[c]) min[c] = v;
      if (v > max[c]) max[c] = v;
    }
  }
  for (let c = 0; c < F; c++) mean[c] /= rows;
  const variance = new Float64Array(F);
  for (let t = start; t < end; t++) {
    for (let c = 0; c < F; c++) {
      const d = data[t * F + c] - mean[c];
      variance[c] += d * d;
    }
  }
  for (let c = 0; c < F; c++) variance[c] /= rows;
  return { F, rows, mean, min, max, variance };
}

/** Shared machinery: y = x * mul[c] + add[c] per column c, and its inverse. */
abstract class AffineScaler {
  protected mul: Float64Array | null = null;
  protected add: Float64Array | null = null;
  protected abstract readonly who: string;

  /** Number of columns the scaler was fitted on (0 before fitting). */
  get numColumns(): number {
    return this.mul === null ? 0 : this.mul.length;
  }

  protected coefs(): { mul: Float64Array; add: Float64Array } {
    if (this.mul === null || this.add === null)
      throw new DataError(`${this.who} is not fitted: call fit() first`);
    return { mul: this.mul, add: this.add };
  }

  private apply(x: Block, inverse: boolean): Block {
    const { mul, add } = this.coefs();
    const F = mul.length;
    const last = x.shape[x.shape.length - 1];
    const numel = x.shape.reduce((a, b) => a * b, 1);
    if (x.shape.length === 0 || last !== F || numel !== x.data.length) {
      throw new DataError(
        `${this.who}: expected an array whose last dimension is ${F} (the fitted columns), got shape [${x.shape.join(", ")}] for ${x.data.length} values`,
      );
    }
    const xd = x.data; // once: a tensor view's data is gathered on each read
    const out = new Float32Array(xd.length);
    for (let i = 0; i < out.length; i++) {
      const c = i % F;
      out[i] = inverse ? (xd[i] - add[c]) / mul[c] : xd[i] * mul[c] + add[c];
    }
    return { data: out, shape: [...x.shape] };
  }

  private applyColumn(values: ArrayLike<number>, column: number, inverse: boolean): Float32Array {
    const { mul, add } = this.coefs();
    if (!Number.isInteger(column) || column < 0 || column >= mul.length) {
      throw new DataError(`${this.who}: column must be an integer in [0, ${mul.length}), got ${column}`);
    }
    const m = mul[column];
    const a = add[column];
    const out = new Float32Array(values.length);
    for (let i = 0; i < out.length; i++) out[i] = inverse ? (values[i] - a) / m : values[i] * m + a;
    return out;
  }

  /** Scales every column of an array whose last dimension is F. */
  transform(x: Block): Block {
    return this.apply(x, false);
  }

  /** Undoes `transform`. */
  inverseTransform(x: Block): Block {
    return this.apply(x, true);
  }

  /** Scales values that all belong to one column (e.g. targets of the target column). */
  transformColumn(values: ArrayLike<number>, column: number): Float32Array {
    return this.applyColumn(values, column, false);
  }

  /** Undoes `transformColumn`: forecasts in scaled units back to the column's own units. */
  inverseTransformColumn(values: ArrayLike<number>, column: number): Float32Array {
    return this.applyColumn(values, column, true);
  }

  /** Fits on rows of `x`, then transforms all of `x`. */
  fitTransform(x: Block, opts: FitOptions = {}): Block {
    this.fit(x, opts);
    return this.transform(x);
  }

  abstract fit(x: Block, opts?: FitOptions): this;
  abstract toJSON(): ScalerJSON;
}

function checkNumbers(v: unknown, what: string, F?: number): number[] {
  if (!Array.isArray(v) || v.some((x) => typeof x !== "number" || !Number.isFinite(x))) {
    throw new DataError(`scaler JSON: ${what} must be an array of finite numbers`);
  }
  if (F !== undefined && v.length !== F) {
    throw new DataError(`scaler JSON: ${what} has ${v.length} entries, expected ${F}`);
  }
  return v as number[];
}

/** Standardizes each column to mean 0 and (population) standard deviation 1 on the fitted rows. */
export class StandardScaler extends AffineScaler {
  protected readonly who = "StandardScaler";
  mean: number[] = [];
  /** Standard deviation per column, 1 for a constant column. */
  scale: number[] = [];

  fit(x: Block, opts: FitOptions = {}): this {
    const s = columnStats(x, opts, this.who);
    this.mean = Array.from(s.mean);
    this.scale = Array.from(s.variance, (v, c) => (s.min[c] === s.max[c] ? 1 : Math.sqrt(v)));
    this.setCoefs();
    return this;
  }

  private setCoefs(): void {
    this.mul = Float64Array.from(this.scale, (s) => 1 / s);
    this.add = Float64Array.from(this.mean, (m, c) => -m / this.scale[c]);
  }

  toJSON(): ScalerJSON {
    this.coefs();
    return { type: "standard", mean: [...this.mean], scale: [...this.scale] };
  }

  static fromJSON(json: unknown): StandardScaler {
    const j = json as Record<string, unknown> | null;
    if (j === null || typeof j !== "object" || j.type !== "standard") {
      throw new DataError(`StandardScaler.fromJSON: expected { type: "standard", mean, scale }`);
    }
    const mean = checkNumbers(j.mean, "mean");
    const scale = checkNumbers(j.scale, "scale", mean.length);
    if (scale.some((s) => s <= 0)) throw new DataError("scaler JSON: every scale must be > 0");
    const s = new StandardScaler();
    s.mean = [...mean];
    s.scale = [...scale];
    s.setCoefs();
    return s;
  }
}

/** Maps each column's [min, max] on the fitted rows onto featureRange (default [0, 1]). */
export class MinMaxScaler extends AffineScaler {
  protected readonly who = "MinMaxScaler";
  readonly featureRange: [number, number];
  dataMin: number[] = [];
  dataMax: number[] = [];

  constructor(featureRange: [number, number] = [0, 1]) {
    super();
    const [lo, hi] = featureRange;
    if (!Number.isFinite(lo) || !Number.isFinite(hi) || !(lo < hi)) {
      throw new DataError(`MinMaxScaler: featureRange must be [lo, hi] with lo < hi, got [${lo}, ${hi}]`);
    }
    this.featureRange = [lo, hi];
  }

  fit(x: Block, opts: FitOptions = {}): this {
    const s = columnStats(x, opts, this.who);
    this.dataMin = Array.from(s.min);
    this.dataMax = Array.from(s.max);
    this.setCoefs();
    return this;
  }

  private setCoefs(): void {
    const [lo, hi] = this.featureRange;
    this.mul = Float64Array.from(this.dataMin, (mn, c) => {
      const range = this.dataMax[c] - mn;
      return (hi - lo) / (range === 0 ? 1 : range);
    });
    this.add = Float64Array.from(this.dataMin, (mn, c) => lo - mn * this.mul![c]);
  }

  toJSON(): ScalerJSON {
    this.coefs();
    return {
      type: "minmax",
      featureRange: [...this.featureRange],
      dataMin: [...this.dataMin],
      dataMax: [...this.dataMax],
    };
  }

  static fromJSON(json: unknown): MinMaxScaler {
    const j = json as Record<string, unknown> | null;
    if (j === null || typeof j !== "object" || j.type !== "minmax") {
      throw new DataError(
        `MinMaxScaler.fromJSON: expected { type: "minmax", featureRange, dataMin, dataMax }`,
      );
    }
    const range = checkNumbers(j.featureRange, "featureRange", 2);
    const dataMin = checkNumbers(j.dataMin, "dataMin");
    const dataMax = checkNumbers(j.dataMax, "dataMax", dataMin.length);
    if (dataMax.some((mx, c) => mx < dataMin[c]))
      throw new DataError("scaler JSON: dataMax must be >= dataMin");
    const s = new MinMaxScaler([range[0], range[1]]);
    s.dataMin = [...dataMin];
    s.dataMax = [...dataMax];
    s.setCoefs();
    return s;
  }
}

export type Scaler = StandardScaler | MinMaxScaler;

/** Rebuilds a scaler from `toJSON()` output, whichever kind it is. */
export function scalerFromJSON(json: unknown): Scaler {
  const type = (json as { type?: unknown } | null)?.type;
  if (type === "standard") return StandardScaler.fromJSON(json);
  if (type === "minmax") return MinMaxScaler.fromJSON(json);
  throw new DataError(`scalerFromJSON: expected type "standard" or "minmax", got ${JSON.stringify(type)}`);
}
