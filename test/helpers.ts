// Shared test helpers: reading PyTorch fixtures and comparing values within a tolerance.

import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { expect } from "vitest";
import { Tensor } from "../src/core/tensor.js";

export const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), "fixtures", "data");

export interface TensorJson {
  shape: number[];
  /** Numbers, with "nan", "inf" and "-inf" as strings (JSON has no literal for them). */
  data: (number | string)[];
}

/** A fixture number: JSON strings "nan", "inf", "-inf" become the float values. */
export function num(v: number | string): number {
  if (typeof v === "number") return v;
  if (v === "nan") return Number.NaN;
  if (v === "inf") return Number.POSITIVE_INFINITY;
  if (v === "-inf") return Number.NEGATIVE_INFINITY;
  throw new Error(`fixture: not a number: ${v}`);
}

/** Reads test/fixtures/data/<area>/<name>.json. */
export function loadFixture<T = unknown>(area: string, name: string): T {
  return JSON.parse(readFileSync(join(FIXTURES, area, `${name}.json`), "utf8")) as T;
}

/** A fixture tensor as a Tensor (float32). */
export function fromJson(t: TensorJson, requiresGrad = false): Tensor {
  return new Tensor(Float32Array.from(t.data, num), t.shape, requiresGrad);
}

/**
 * Asserts |actual - expected| <= atol + rtol * |expected| elementwise, and equal shapes when both are
 * tensors; the failure names the worst element.
 */
export function expectClose(
  actual: Tensor | Float32Array | number[] | number,
  expected: Tensor | TensorJson | Float32Array | number[] | number,
  opts: { atol?: number; rtol?: number; what?: string } = {},
): void {
  const atol = opts.atol ?? 1e-6;
  const rtol = opts.rtol ?? 1e-5;
  const what = opts.what ?? "value";
  const toArr = (v: typeof actual | typeof expected): ArrayLike<number> =>
    typeof v === "number"
      ? [v]
      : v instanceof Tensor
        ? v.data
        : "data" in v && !(v instanceof Float32Array)
          ? (v as TensorJson).data.map(num)
          : (v as ArrayLike<number>);
  const a = toArr(actual);
  const e = toArr(expected);
  const shapeOf = (v: typeof actual | typeof expected): number[] | null =>
    v instanceof Tensor
      ? v.shape
      : typeof v === "object" && v !== null && "shape" in v && !(v instanceof Float32Array)
        ? (v as TensorJson).shape
        : null;
  const sa = shapeOf(actual);
  const se = shapeOf(expected);
  if (sa !== null && se !== null) expect(sa, `${what}: shape`).toEqual(se);
  expect(a.length, `${what}: number of elements`).toBe(e.length);
  let worst = -1;
  let worstExcess = 0;
  for (let i = 0; i < a.length; i++) {
    const diff = Math.abs(a[i] - e[i]);
    const tol = atol + rtol * Math.abs(e[i]);
    const bothNaN = Number.isNaN(a[i]) && Number.isNaN(e[i]);
    const sameInf = a[i] === e[i];
    if (!bothNaN && !sameInf && !(diff <= tol)) {
      const excess = Number.isNaN(diff) ? Number.POSITIVE_INFINITY : diff - tol;
      if (worst < 0 || excess > worstExcess) {
        worst = i;
        worstExcess = excess;
      }
    }
  }
  if (worst >= 0) {
    expect.fail(
      `${what}: element ${worst} is ${a[worst]}, expected ${e[worst]} (atol ${atol}, rtol ${rtol})`,
    );
  }
}

/** The classic series shipped in datasets/ that the classical fixtures use: file, column, period. */
export const CLASSIC_SERIES: Record<string, [string, string, number]> = {
  air: ["air-passengers.csv", "passengers", 12],
  wine: ["australian-wine-sales.csv", "litres", 12],
  gas: ["australian-gas-production.csv", "gas", 12],
  ukgas: ["uk-gas-consumption.csv", "gas", 4],
  usdeaths: ["us-accidental-deaths.csv", "deaths", 12],
  nottem: ["nottingham-temperature.csv", "temperature", 12],
  wool: ["australian-woollen-yarn.csv", "tonnes", 4],
  jj: ["johnson-johnson-earnings.csv", "earnings", 4],
};

/** One of CLASSIC_SERIES's values, read from datasets/. */
export function classicSeries(key: string): number[] {
  const [file, column] = CLASSIC_SERIES[key];
  const lines = readFileSync(join(FIXTURES, "..", "..", "..", "datasets", file), "utf8")
    .trim()
    .split("\n");
  const c = lines[0].split(",").indexOf(column);
  return lines.slice(1).map((l) => Number(l.split(",")[c]));
}

/** The largest relative difference |a − b| / |b| (b below 1e-12 counts as 1e-12). */
export function maxRel(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let w = 0;
  for (let i = 0; i < b.length; i++) w = Math.max(w, Math.abs(a[i] - b[i]) / Math.max(Math.abs(b[i]), 1e-12));
  return w;
}

/** R's forecast(): the point forecasts and the 80 % and 95 % bounds, as the R fixtures store them. */
export interface RBands {
  mean: number[];
  lower80: number[];
  upper80: number[];
  lower95: number[];
  upper95: number[];
}
