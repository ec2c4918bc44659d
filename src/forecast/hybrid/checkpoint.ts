// Hybrid checkpoints: the same safetensors file as the LSTM's, holding the ensemble's parameters under
// `members.{k}.alpha_logit`, `members.{k}.rnn.weight_ih_l0`, ..., and one more metadata entry,
// `recurrent.hybrid` = {config, intervals, val_mase, members}. The common metadata describes it as far
// as it applies: `recurrent.model` is one member's LSTM (cell "lstm", input_size 1: the hybrid is
// univariate), `recurrent.data.scaler` the working units (a standard scaler: y' = (y - mean) / scale).
// A file without `recurrent.hybrid` is an LSTM checkpoint, so older checkpoints load as before.
//
// Forecasting from a checkpoint (N = origins, H = horizon):
//   1. y' = (y - offset) / scale; times from the dates (steps since the epoch) or the row numbers.
//   2. each member runs `memberForward` (see model.ts) on the whole series; the ensemble is their mean.
//   3. with `combine` (see combine.ts): ŷ' = w · ŷ' + (1 − w) · P', the partner P (ETS, a harmonic
//      regression with ARIMA errors, or the mean of ETS and ARIMA) run over the rows before each origin
//      with its stored parameters.
//   4. intervals: ŷ' · exp(q) (multiplicative) or ŷ' + q (additive) with q the stored residual
//      quantiles of that horizon step (the combination's own with `combine`); then back to the series' units.

import { Tensor } from "../../core/tensor.js";
import type { ForecastCheckpoint } from "../checkpoint.js";
import { CheckpointError, ForecastError } from "../errors.js";
import { type HybridCombineJSON, partnerPointAt } from "./combine.js";
import { checkEtsMeta } from "./fallback.js";
import { checkHarmonicMeta } from "./harmonic.js";
import { checkHybridConfig, type HybridConfig, HybridNet, hybridInputs, rowTimes } from "./model.js";
import { ensembleForward, type HybridIntervals, type HybridTrainResult, INTERVAL_LEVELS } from "./train.js";

export interface HybridMetaJSON {
  config: HybridConfig;
  intervals: HybridIntervals;
  /** The ensemble's MASE-scaled MAE on the validation windows. */
  val_mase: number | null;
  members: { bestEpoch: number; bestLoss: number; epochs: number; seconds: number }[];
  refit: boolean;
  /** The combination with a partner the forecasts are (absent or null: the hybrid alone). */
  combine?: HybridCombineJSON | null;
}

/** The `recurrent.hybrid` entry of a training: the hybrid's own scores and intervals, and `combine`. */
export function hybridMetaOf(r: HybridTrainResult, combine: HybridCombineJSON | null): HybridMetaJSON {
  return {
    config: r.config,
    intervals: r.intervals,
    val_mase: r.valMase,
    members: r.members,
    refit: r.refit,
    combine,
  };
}

/** Checks the `recurrent.hybrid` metadata; the message names what is wrong. */
export function checkHybridMeta(j: unknown, source: string): HybridMetaJSON {
  const bad = (msg: string) =>
    new CheckpointError(`${source}: the checkpoint is damaged: recurrent.hybrid ${msg}`);
  if (j === null || typeof j !== "object") throw bad("is not an object");
  const h = j as HybridMetaJSON;
  if (h.config === null || typeof h.config !== "object") throw bad("has no config");
  try {
    checkHybridConfig(h.config);
  } catch (e) {
    throw bad(`config: ${(e as Error).message}`);
  }
  const q = h.intervals?.quantiles;
  if (
    !Array.isArray(q) ||
    q.length !== h.config.horizon ||
    q.some((r) => !Array.isArray(r) || r.length !== 4)
  ) {
    throw bad(`intervals.quantiles should be ${h.config.horizon} rows of 4 numbers`);
  }
  const c = h.combine;
  if (c !== undefined && c !== null) {
    if (typeof c !== "object" || !(typeof c.weight === "number" && c.weight >= 0 && c.weight <= 1))
      throw bad("combine should be {ets and/or arima, weight in [0, 1], intervals}");
    if (c.ets === undefined && c.arima === undefined)
      throw bad("combine should hold a partner, ets or arima or both");
    if (c.ets !== undefined) checkEtsMeta(c.ets, source);
    if (c.arima !== undefined) checkHarmonicMeta(c.arima, source);
    const cq = c.intervals?.quantiles;
    if (
      !Array.isArray(cq) ||
      cq.length !== h.config.horizon ||
      cq.some((r) => !Array.isArray(r) || r.length !== 4)
    )
      throw bad(`combine.intervals.quantiles should be ${h.config.horizon} rows of 4 numbers`);
  }
  return h;
}

/** The ensemble of a hybrid checkpoint, holding its weights. */
export function buildHybrid(ckpt: ForecastCheckpoint, source = "checkpoint"): HybridNet {
  const h = ckpt.meta.hybrid;
  if (h === undefined) throw new ForecastError(`${source} is not a hybrid checkpoint`);
  const net = new HybridNet(h.config);
  try {
    net.loadStateDict(ckpt.stateDict);
  } catch (e) {
    throw new CheckpointError(
      `${source}: the checkpoint is damaged: its tensors do not fit the hybrid model it describes (${(e as Error).message.replace(/\s+/g, " ").trim()})`,
    );
  }
  for (const [name, t] of Object.entries(ckpt.stateDict)) {
    if (!t.data.every(Number.isFinite))
      throw new CheckpointError(
        `${source}: the checkpoint is damaged: tensor ${name} holds NaN or infinite values`,
      );
  }
  return net.eval();
}

/** Copies of the ensemble's weights. */
export function hybridWeights(net: HybridNet): Record<string, Tensor> {
  const out: Record<string, Tensor> = {};
  for (const [k, t] of Object.entries(net.stateDict())) out[k] = new Tensor(t.data.slice(), [...t.shape]);
  return out;
}

export interface IntervalBand {
  /** 0.8 or 0.95. */
  level: number;
  lower: Float32Array;
  upper: Float32Array;
}

export interface HybridForecast {
  /** (N, H) point forecasts in the series' units. */
  point: Float32Array;
  /** The 80 % and 95 % bands, each (N, H). */
  bands: IntervalBand[];
}

/**
 * Forecasts (N, H) for windows at `origins` of a series of T values (and their dates): the ensemble's
 * mean and the intervals, in the series' units. Every origin must be in [lookback, T].
 */
export function hybridForecastAt(
  net: HybridNet,
  meta: HybridMetaJSON,
  values: ArrayLike<number>,
  dates: readonly number[] | null,
  origins: readonly number[],
): HybridForecast {
  const c = net.config;
  const T = values.length;
  const H = c.horizon;
  for (const o of origins) {
    if (!(Number.isInteger(o) && o >= c.lookback && o <= T)) {
      throw new ForecastError(
        `series too short: the hybrid model reads ${c.lookback} rows (its lookback) before each origin; origin ${o} of ${T} rows`,
      );
    }
  }
  const inp = hybridInputs(c, values, rowTimes(c, dates, T, H));
  const w = ensembleForward(net, inp, origins, T); // (N, H) working units
  const mult = c.mode === "multiplicative";
  const { offset, scale } = c.scale;
  const comb = meta.combine ?? null;
  if (comb !== null) {
    const e = partnerPointAt(comb, c, values, dates, origins); // (N, H) series units
    for (let j = 0; j < w.length; j++)
      w[j] = comb.weight * w[j] + (1 - comb.weight) * ((e[j] - offset) / scale);
  }
  const back = (v: number) => v * scale + offset;
  const point = Float32Array.from(w, back);
  const q = (comb?.intervals ?? meta.intervals).quantiles;
  const bands: IntervalBand[] = INTERVAL_LEVELS.map((level, i) => {
    const lo = i === 0 ? 1 : 0; // columns: 2.5, 10, 90, 97.5 %
    const hi = 3 - lo;
    const lower = new Float32Array(w.length);
    const upper = new Float32Array(w.length);
    for (let j = 0; j < w.length; j++) {
      const h = j % H;
      lower[j] = back(mult ? w[j] * Math.exp(q[h][lo]) : w[j] + q[h][lo]);
      upper[j] = back(mult ? w[j] * Math.exp(q[h][hi]) : w[j] + q[h][hi]);
    }
    return { level, lower, upper };
  });
  return { point, bands };
}
