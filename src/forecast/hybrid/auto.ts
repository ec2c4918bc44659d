// `train --model auto`: the hybrid, the plain LSTM, ETS and seasonal ARIMA (of the logarithms of a
// positive series) are each fitted on the training part and forecast the same rolling origins of the
// validation part (every row of it, steps past its end masked); the one with the lowest MASE there is
// kept. ETS or ARIMA is then refitted on all rows before the test part. A model that cannot be fitted
// (too short a series) drops out with its reason.

import { DataError } from "../../data/errors.js";
import { arimaRowsNeeded } from "../classical/arima.js";
import { scalerFromJSON } from "../../data/scaler.js";
import { splitSeries } from "../../data/split.js";
import type { ForecastCheckpoint } from "../checkpoint.js";
import { column, defaultSeason, type PreparedSeries } from "../data.js";
import { ForecastError } from "../errors.js";
import { forecastAt, scaleSeries } from "../pipeline.js";
import { type TrainOptions, trainForecaster } from "../train.js";
import { partnerSpec } from "./combine.js";
import { arimaForecastAt, etsForecastAt, fitArimaMeta, fitEtsMeta } from "./fallback.js";
import { arimaCheckpoint, etsCheckpoint, trainHybridForecaster } from "./run.js";
import type { HybridHooks, HybridOptions } from "./train.js";

export type AutoCandidate = "hybrid" | "lstm" | "ets" | "arima";

export interface AutoScore {
  model: AutoCandidate;
  /** What was fitted, e.g. "ETS(M,A,M)" or "hybrid (3 members) + ETS(M,A,M)" (the combination). */
  label: string;
  /** MASE on the validation origins (null when it could not be fitted). */
  mase: number | null;
  /** Why it could not be fitted. */
  error: string | null;
  seconds: number;
}

export interface AutoResult {
  winner: AutoCandidate;
  scores: AutoScore[];
  checkpoint: ForecastCheckpoint;
  /** Validation origins the models were compared on. */
  origins: number;
}

const now = (): number => performance.now() / 1000;

/** Trains the four candidates and keeps the best on the validation part. */
export async function trainAuto(
  prepared: PreparedSeries,
  hybridOptions: HybridOptions,
  lstmOptions: TrainOptions,
  hooks: HybridHooks & { onModel?: (name: AutoCandidate) => void } = {},
): Promise<AutoResult> {
  const { series } = prepared;
  const T = series.shape[0];
  const H = hybridOptions.horizon;
  const sizes = { val: hybridOptions.val, test: hybridOptions.test };
  const split = splitSeries(T, sizes);
  const { start: vs, end: ve } = split.val;
  if (ve - vs < 1) {
    throw new ForecastError(
      "--model auto compares the models on the validation part, but it is empty (--val 0)",
    );
  }
  const values = column(series, series.targetIndex);
  const m = hybridOptions.season ?? defaultSeason(prepared.step);
  const origins: number[] = [];
  for (let o = vs; o < ve; o++) origins.push(o);
  const score = (fc: Float32Array, os: readonly number[]) =>
    validationMase(values, split.train.end, ve, m, H, fc, os);
  const scores: AutoScore[] = [];
  const checkpoints: Partial<Record<AutoCandidate, ForecastCheckpoint>> = {};

  // hybrid
  hooks.onModel?.("hybrid");
  let t0 = now();
  try {
    const run = await trainHybridForecaster(prepared, hybridOptions, hooks);
    const r = run.result;
    scores.push({
      model: "hybrid",
      label: `hybrid (${r.config.members} member${r.config.members > 1 ? "s" : ""})${r.combine ? ` + ${partnerSpec(r.combine)}` : ""}`,
      mase: r.valMase,
      error: null,
      seconds: now() - t0,
    });
    checkpoints.hybrid = run.checkpoint;
  } catch (e) {
    if (!(e instanceof ForecastError) && !(e instanceof DataError)) throw e;
    scores.push({
      model: "hybrid",
      label: "hybrid",
      mase: null,
      error: (e as Error).message,
      seconds: now() - t0,
    });
  }

  // plain LSTM
  hooks.onModel?.("lstm");
  t0 = now();
  try {
    const r = await trainForecaster(
      prepared,
      { ...lstmOptions, horizon: H, val: sizes.val, test: sizes.test },
      {
        shouldStop: hooks.shouldStop,
      },
    );
    if (r.checkpoint === null || r.model === null) throw new ForecastError("no epoch finished");
    const ck = r.checkpoint;
    const os = origins.filter((o) => o >= ck.meta.data.lookback);
    const spec = {
      scaler: scalerFromJSON(ck.meta.data.scaler),
      targetIndex: ck.meta.data.target_index,
      lookback: ck.meta.data.lookback,
      horizon: H,
      windowNorm: ck.meta.data.window_norm,
    };
    const fc = forecastAt(r.model, spec, scaleSeries(spec, series), os);
    scores.push({ model: "lstm", label: "LSTM", mase: score(fc, os), error: null, seconds: now() - t0 });
    checkpoints.lstm = ck;
  } catch (e) {
    if (!(e instanceof ForecastError) && !(e instanceof DataError)) throw e;
    scores.push({ model: "lstm", label: "LSTM", mase: null, error: e.message, seconds: now() - t0 });
  }

  // ETS and seasonal ARIMA, fitted on the training part for the comparison
  scores.push(...classicalCandidates(values, split.train.end, vs, ve, m, H, hooks.onModel));

  const ranked = scores
    .filter((s) => s.mase !== null && Number.isFinite(s.mase))
    .sort((a, b) => a.mase! - b.mase!);
  if (ranked.length === 0) {
    throw new ForecastError(
      `no model could be fitted: ${scores.map((s) => `${s.label}: ${s.error}`).join("; ")}`,
    );
  }
  const winner = ranked[0].model;
  let checkpoint = checkpoints[winner];
  if (winner === "ets" || winner === "arima" || checkpoint === undefined) {
    const t1 = now();
    const second = ranked[1];
    const note =
      second !== undefined
        ? `${ranked[0].label} won the validation (MASE ${ranked[0].mase!.toFixed(3)} vs ${second.label} ${second.mase!.toFixed(3)})`
        : `${ranked[0].label} was the only model that could be fitted`;
    checkpoint =
      winner === "arima"
        ? arimaCheckpoint(prepared, H, m, sizes, note, now() - t1).checkpoint
        : etsCheckpoint(prepared, H, m, sizes, "auto", note, now() - t1).checkpoint;
  }
  return { winner, scores, checkpoint, origins: origins.length };
}

/**
 * MASE of forecasts (N, H) from `origins` in the validation part, steps at or past `valEnd` left out,
 * scaled by the in-sample seasonal-naive error (lag m, or 1 where the training rows hold no season) of
 * rows [0, trainEnd): how `--model auto` scores every candidate.
 */
export function validationMase(
  values: ArrayLike<number>,
  trainEnd: number,
  valEnd: number,
  m: number,
  H: number,
  fc: Float32Array, // (N, H)
  origins: readonly number[],
): number {
  const lag = m > 1 && trainEnd > m ? m : 1;
  let sc = 0;
  for (let t = lag; t < trainEnd; t++) sc += Math.abs(values[t] - values[t - lag]);
  sc = sc / Math.max(1, trainEnd - lag) || 1;
  let s = 0;
  let n = 0;
  origins.forEach((o, w) => {
    for (let h = 0; h < H && o + h < valEnd; h++) {
      s += Math.abs(fc[w * H + h] - values[o + h]);
      n++;
    }
  });
  return s / n / sc;
}

/**
 * `--model auto`'s classical candidates: ETS and seasonal ARIMA (of the logarithms of a positive
 * series) fitted on rows [0, trainEnd) and scored on every origin of the validation part [valStart,
 * valEnd) by validationMase. A model that cannot be fitted has a null MASE and its reason.
 */
export function classicalCandidates(
  values: Float32Array,
  trainEnd: number,
  valStart: number,
  valEnd: number,
  m: number,
  H: number,
  onModel?: (name: AutoCandidate) => void,
): AutoScore[] {
  const origins: number[] = [];
  for (let o = valStart; o < valEnd; o++) origins.push(o);
  const out: AutoScore[] = [];
  onModel?.("ets");
  let t0 = now();
  let etsLabel = "ETS";
  try {
    const { meta } = fitEtsMeta(values.subarray(0, trainEnd), m);
    etsLabel = meta.spec;
    const os = origins.filter((o) => o >= 4);
    const fc = etsForecastAt(meta, values, os, H).point;
    const mase = validationMase(values, trainEnd, valEnd, m, H, fc, os);
    out.push({ model: "ets", label: meta.spec, mase, error: null, seconds: now() - t0 });
  } catch (e) {
    out.push({ model: "ets", label: etsLabel, mase: null, error: (e as Error).message, seconds: now() - t0 });
  }
  onModel?.("arima");
  t0 = now();
  let arimaLabel = "ARIMA";
  try {
    const meta = fitArimaMeta(values.subarray(0, trainEnd), m);
    arimaLabel = meta.spec;
    const os = origins.filter((o) => o > arimaRowsNeeded(meta.order));
    const fc = arimaForecastAt(meta, values, os, H).point;
    const mase = validationMase(values, trainEnd, valEnd, m, H, fc, os);
    out.push({ model: "arima", label: meta.spec, mase, error: null, seconds: now() - t0 });
  } catch (e) {
    out.push({
      model: "arima",
      label: arimaLabel,
      mase: null,
      error: (e as Error).message,
      seconds: now() - t0,
    });
  }
  return out;
}
