// Never a NaN or an infinity as a forecast: the three steps from a series to a forecast (scaling the
// input window, the network, scaling the output back) are checked in turn, and the first that makes a
// non-finite number is named, with the numbers that made it. A checkpoint's weights and scaler are
// validated when it is read (validate.ts), but finite numbers can still overflow float32 on the way:
// weights of 1e30, or a scale of 1e-30 applied to a large value.

import type { Scaler } from "../data/scaler.js";
import { ForecastError } from "./errors.js";
import type { ForecastNet } from "./model.js";

/** The forecast (or a metric) would not be a finite number; the message says where it came from. */
export class NonFiniteError extends ForecastError {
  override name = "NonFiniteError";
}

/** Index of the first element that is NaN or infinite, or -1. */
export function firstNonFinite(a: ArrayLike<number>): number {
  for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i])) return i;
  return -1;
}

const num = (v: number): string =>
  Number.isNaN(v) ? "NaN" : String(Number.isFinite(v) ? Number(v.toPrecision(6)) : v).replace("e+", "e");

/** "the scaler's mean 396 and scale 1e-30 for column 0" */
function scalerNote(scaler: Scaler, c: number): string {
  const j = scaler.toJSON();
  return j.type === "standard"
    ? `mean ${num(j.mean[c])} and scale ${num(j.scale[c])}`
    : `data range [${num(j.dataMin[c])}, ${num(j.dataMax[c])}] onto [${num(j.featureRange[0])}, ${num(j.featureRange[1])}]`;
}

/** The parameter with the largest magnitude, for "its weights overflow" messages. */
function largestWeight(model: ForecastNet): string {
  let best = { name: "", v: 0 };
  for (const [name, t] of Object.entries(model.stateDict())) {
    for (const v of t.data) if (!(Math.abs(v) <= Math.abs(best.v))) best = { name, v };
  }
  return `the largest is ${num(best.v)} in ${best.name}`;
}

/** Checks the scaled rows (T', F) that the input windows read, from a finite series. */
export function checkInputs(scaled: Float32Array, F: number, scaler: Scaler): void {
  const i = firstNonFinite(scaled);
  if (i < 0) return;
  const c = i % F;
  throw new NonFiniteError(
    `the forecast would not be finite: the checkpoint's scaler (${scalerNote(scaler, c)} for column ${c}) turns values of the input window into ${num(scaled[i])} in float32; the scaler does not suit this series`,
  );
}

/** Checks the network's outputs (N, H) for finite inputs. */
export function checkOutputs(y: Float32Array, model: ForecastNet): void {
  const i = firstNonFinite(y);
  if (i < 0) return;
  throw new NonFiniteError(
    `the forecast would not be finite: the network turns a finite input window into ${num(y[i])} (output ${(i % model.config.horizon) + 1} of ${model.config.horizon}); its weights overflow float32 (${largestWeight(model)})`,
  );
}

/** Checks forecasts scaled back to the target's units, from finite network outputs. */
export function checkForecasts(
  f: Float32Array,
  outputs: Float32Array,
  refs: Float32Array,
  scaler: Scaler,
  targetIndex: number,
): void {
  const i = firstNonFinite(f);
  if (i < 0) return;
  const H = outputs.length / Math.max(1, refs.length);
  const inModel = outputs[i] + refs[Math.floor(i / H)];
  throw new NonFiniteError(
    `the forecast would not be finite: the network's output ${num(inModel)} (in scaled units) becomes ${num(f[i])} when the checkpoint's scaler (${scalerNote(scaler, targetIndex)}) scales it back to float32`,
  );
}

/** Checks backtest metrics: each of `scores` must be finite. */
export function checkScores(scores: Record<string, object>): void {
  for (const [who, s] of Object.entries(scores)) {
    for (const [metric, v] of Object.entries(s as Record<string, number>)) {
      if (!Number.isFinite(v)) {
        throw new NonFiniteError(
          `the ${metric.toUpperCase()} of ${who} would be ${num(v)}: the forecasts or the actual values are too large to score in float64`,
        );
      }
    }
  }
}

/**
 * Checks the hybrid's or ETS's forecasts (N, H) and their interval bounds from the given origins; `model`
 * names the model in the message ("the hybrid model", "ETS(M,N,A)").
 */
export function checkBandForecasts(
  fc: { point: Float32Array; bands: { level: number; lower: Float32Array; upper: Float32Array }[] },
  model: string,
  H: number,
  origins: readonly number[],
): void {
  const parts: [string, Float32Array][] = [["forecast", fc.point]];
  for (const b of fc.bands) {
    const pct = Math.round(b.level * 100);
    parts.push([`lower ${pct}% bound`, b.lower], [`upper ${pct}% bound`, b.upper]);
  }
  for (const [what, a] of parts) {
    const i = firstNonFinite(a);
    if (i < 0) continue;
    throw new NonFiniteError(
      `the forecast would not be finite: ${model} makes its ${what} at step ${(i % H) + 1} after row ${origins[Math.floor(i / H)]} ${num(a[i])} in float32; the series' values or the checkpoint's parameters are too large for it`,
    );
  }
}
