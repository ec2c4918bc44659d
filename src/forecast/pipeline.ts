// The path from a series to model inputs and from model outputs back to forecasts, shared by training,
// forecasting and evaluation so that all three see exactly the same numbers.
//
// T = time steps, F = columns, L = lookback, H = horizon, N = windows.
//
//   scaled = scaler(series)                         (T, F)  per column, fitted on the training rows
//   x_n    = scaled[o_n - L, o_n) - ref_n on the target column      (N, L, F)
//   ref_n  = scaled[o_n - 1, target] for window_norm "last", else 0  (N)
//   y_n    = scaled[o_n, o_n + H) on the target column - ref_n       (N, H)   (training targets)
//   forecast_n = inverse_target(model(x_n) + ref_n)                 (N, H)   (original units)
//
// With "last", the network sees and predicts changes relative to the last observation, so a level it
// never met in training (a trend that keeps rising) costs it nothing: it adds its predicted change to
// wherever the series is now.

import { Tensor } from "../core/tensor.js";
import type { Scaler } from "../data/scaler.js";
import { ForecastError } from "./errors.js";
import { checkForecasts, checkInputs, checkOutputs } from "./finite.js";
import type { ForecastNet } from "./model.js";
import type { WindowNorm } from "./checkpoint.js";

/** What fixes the mapping between series and model, beside the network. */
export interface PipelineSpec {
  scaler: Scaler;
  targetIndex: number;
  lookback: number;
  horizon: number;
  windowNorm: WindowNorm;
}

/** The series scaled column by column: (T, F) float32. */
export function scaleSeries(
  spec: PipelineSpec,
  series: { data: Float32Array; shape: readonly number[] },
): Float32Array {
  return spec.scaler.transform({ data: series.data, shape: [...series.shape] }).data;
}

/**
 * Model inputs for windows whose first forecast step is each origin: rows [o - L, o) of the scaled
 * series, the target column shifted by the window's reference value. Returns x (N, L, F) in (B, L, F)
 * order and the references (N).
 */
export function windowInputs(
  spec: PipelineSpec,
  scaled: Float32Array, // (T, F)
  F: number,
  origins: readonly number[],
): { x: Float32Array; refs: Float32Array } {
  const { lookback: L, targetIndex: ti } = spec;
  const T = scaled.length / F;
  const N = origins.length;
  const x = new Float32Array(N * L * F); // (N, L, F)
  const refs = new Float32Array(N); // (N)
  for (let n = 0; n < N; n++) {
    const o = origins[n];
    if (!Number.isInteger(o) || o < L || o > T) {
      throw new ForecastError(`window origin ${o} needs rows [${o - L}, ${o}) of a series of ${T} rows`);
    }
    x.set(scaled.subarray((o - L) * F, o * F), n * L * F);
    const ref = spec.windowNorm === "last" ? scaled[(o - 1) * F + ti] : 0;
    refs[n] = ref;
    if (ref !== 0) for (let l = 0; l < L; l++) x[(n * L + l) * F + ti] -= ref;
  }
  return { x, refs };
}

/** Training targets for the same windows: rows [o, o + H) of the target column minus the reference (N, H). */
export function windowTargets(
  spec: PipelineSpec,
  scaled: Float32Array, // (T, F)
  F: number,
  origins: readonly number[],
  refs: Float32Array, // (N)
): Float32Array {
  const { horizon: H, targetIndex: ti } = spec;
  const T = scaled.length / F;
  const y = new Float32Array(origins.length * H); // (N, H)
  origins.forEach((o, n) => {
    if (o + H > T) throw new ForecastError(`window origin ${o} needs targets up to row ${o + H} of ${T}`);
    for (let h = 0; h < H; h++) y[n * H + h] = scaled[(o + h) * F + ti] - refs[n];
  });
  return y;
}

/**
 * Gathers windows `idx` of x (N, L, F) into a model input tensor: (B, L, F) when batchFirst, else
 * (L, B, F).
 */
export function gatherInput(
  x: Float32Array, // (N, L, F)
  L: number,
  F: number,
  idx: ArrayLike<number>,
  batchFirst: boolean,
): Tensor {
  const B = idx.length;
  const out = new Float32Array(B * L * F);
  const w = L * F;
  if (batchFirst) {
    for (let b = 0; b < B; b++) out.set(x.subarray(idx[b] * w, (idx[b] + 1) * w), b * w);
    return new Tensor(out, [B, L, F]);
  }
  for (let b = 0; b < B; b++) {
    for (let l = 0; l < L; l++) {
      const src = (idx[b] * L + l) * F;
      out.set(x.subarray(src, src + F), (l * B + b) * F);
    }
  }
  return new Tensor(out, [L, B, F]);
}

/** Runs the network over windows in chunks without a graph: model-unit outputs (N, H). */
export function predictWindows(
  model: ForecastNet,
  x: Float32Array, // (N, L, F)
  N: number,
  chunk = 256,
): Float32Array {
  const { horizon: H, batchFirst } = model.config;
  const F = model.config.inputSize;
  const L = N === 0 ? 0 : x.length / (N * F);
  const out = new Float32Array(N * H); // (N, H)
  for (let s = 0; s < N; s += chunk) {
    const idx = Array.from({ length: Math.min(chunk, N - s) }, (_, i) => s + i);
    const y = model.predict(gatherInput(x, L, F, idx, batchFirst));
    out.set(y.data, s * H);
  }
  return out;
}

/** Model outputs (N, H) back to the target's units: add the references, undo the target's scaling. */
export function decodeOutputs(
  spec: PipelineSpec,
  outputs: Float32Array, // (N, H)
  refs: Float32Array, // (N)
): Float32Array {
  const H = outputs.length / Math.max(1, refs.length);
  const shifted = new Float64Array(outputs.length);
  for (let i = 0; i < outputs.length; i++) shifted[i] = outputs[i] + refs[Math.floor(i / H)];
  return spec.scaler.inverseTransformColumn(shifted, spec.targetIndex);
}

/** Forecasts (N, H) in the target's units for windows at `origins` of an already scaled series. */
export function forecastAt(
  model: ForecastNet,
  spec: PipelineSpec,
  scaled: Float32Array, // (T, F)
  origins: readonly number[],
): Float32Array {
  const F = model.config.inputSize;
  // no NaN or infinity as a forecast: the first step that makes one is named (finite.ts)
  if (origins.length > 0) {
    let lo = origins[0];
    let hi = origins[0];
    for (const o of origins) {
      if (o < lo) lo = o;
      if (o > hi) hi = o;
    }
    const rows = scaled.subarray(Math.max(0, lo - spec.lookback) * F, hi * F); // the rows the windows read
    checkInputs(rows, F, spec.scaler);
  }
  const { x, refs } = windowInputs(spec, scaled, F, origins);
  const outputs = predictWindows(model, x, origins.length);
  checkOutputs(outputs, model);
  const forecasts = decodeOutputs(spec, outputs, refs);
  checkForecasts(forecasts, outputs, refs, spec.scaler, spec.targetIndex);
  return forecasts;
}
