// ETS (and seasonal ARIMA, at the end of this file) as a saved forecaster: what `train --model auto`
// keeps when exponential smoothing (or ARIMA) wins the validation, and what `train` falls back to when
// a series is too short for any learned model (ETS). The checkpoint has no tensors; metadata `recurrent.ets` = {spec, type, params, period} holds the fitted
// model, and forecasts re-run its filter over the series up to each origin with those parameters (as
// the classical forecasters do at rolling origins).

import {
  type ArimaOrder,
  type ArimaParams,
  arimaForecast,
  arimaRowsNeeded,
  autoArima,
} from "../classical/arima.js";
import { type EtsFit, type EtsParams, type EtsType, etsModel, fitEts } from "../classical/ets.js";
import { CheckpointError, ForecastError } from "../errors.js";
import type { HybridForecast } from "./checkpoint.js";
import { INTERVAL_LEVELS } from "./train.js";

export interface EtsMetaJSON {
  spec: string;
  type: EtsType;
  params: EtsParams;
  period: number;
  /**
   * Fitted to the logarithms of the series (absent: to the series): the forecasts, bounds included, are
   * the exponentials of the log model's (its point forecast is then the median, which MAE rewards).
   */
  log?: boolean;
}

/**
 * ETS selected by AICc on `train`; seasonal when the period is 2..24 and the data allow it. `restarts`:
 * Nelder–Mead restarts from each optimum (0, forecast::ets's single run, by default). `log`: fitted to
 * the logarithms of a positive series (see EtsMetaJSON.log).
 */
export function fitEtsMeta(
  series: ArrayLike<number>,
  period: number,
  restarts = 0,
  log = false,
): { meta: EtsMetaJSON; fit: EtsFit } {
  const train = log ? logsOf(series) : series;
  const seasonal = period >= 2 && period <= 24 && train.length >= 2 * period + 2;
  let fit: EtsFit;
  try {
    fit = fitEts(train, { period: seasonal ? period : 1, restarts });
  } catch (e) {
    if (!seasonal) throw new ForecastError(`ETS could not be fitted: ${(e as Error).message}`);
    fit = fitEts(train, { period: 1, restarts });
  }
  const meta: EtsMetaJSON = { spec: fit.spec, type: fit.type, params: fit.params, period: fit.period };
  return { meta: log ? { ...meta, spec: `${fit.spec} of logs`, log: true } : meta, fit };
}

/** The natural logarithms of a positive series; a clear error otherwise. */
function logsOf(values: ArrayLike<number>): number[] {
  const out = Array.from(values, Math.log);
  const bad = out.findIndex((v) => !Number.isFinite(v));
  if (bad >= 0)
    throw new ForecastError(`ETS of logs needs a positive series, but row ${bad} is ${values[bad]}`);
  return out;
}

export function checkEtsMeta(j: unknown, source: string): EtsMetaJSON {
  const e = j as EtsMetaJSON | null;
  const ok =
    e !== null &&
    typeof e === "object" &&
    typeof e.spec === "string" &&
    typeof e.period === "number" &&
    e.type !== null &&
    typeof e.type === "object" &&
    e.params !== null &&
    typeof e.params === "object" &&
    typeof e.params.alpha === "number" &&
    (e.log === undefined || typeof e.log === "boolean");
  if (!ok)
    throw new CheckpointError(
      `${source}: the checkpoint is damaged: recurrent.ets should be {spec, type, params, period}`,
    );
  return e;
}

/** Forecasts (N, H) and 80 / 95 % intervals from each origin, the filter re-run on rows [0, origin). */
export function etsForecastAt(
  meta: EtsMetaJSON,
  values: ArrayLike<number>,
  origins: readonly number[],
  H: number,
): HybridForecast {
  return classicalForecastAt(values, origins, H, 4, "ETS", meta.log === true, (hist) =>
    etsModel(hist, meta.type, meta.params, meta.period).forecast(H),
  );
}

/** Zeroed point forecasts and 80 / 95 % bands, each (N, H), for a forecaster to fill. */
export function emptyForecast(N: number, H: number): HybridForecast {
  return {
    point: new Float32Array(N * H),
    bands: INTERVAL_LEVELS.map((level) => ({
      level,
      lower: new Float32Array(N * H),
      upper: new Float32Array(N * H),
    })),
  };
}

/**
 * A classical model's forecasts (N, H) and 80 / 95 % intervals from each origin: `forecast` runs on rows
 * [0, origin) (their logarithms with `log`, its results exponentiated back). Every origin needs `need`
 * rows before it.
 */
function classicalForecastAt(
  values: ArrayLike<number>,
  origins: readonly number[],
  H: number,
  need: number,
  what: string,
  log: boolean,
  forecast: (hist: number[]) => {
    mean: ArrayLike<number>;
    lower(level: number): ArrayLike<number>;
    upper(level: number): ArrayLike<number>;
  },
): HybridForecast {
  const { point, bands } = emptyForecast(origins.length, H);
  const back = (a: ArrayLike<number>) => (log ? Array.from(a, Math.exp) : a);
  origins.forEach((o, n) => {
    if (!(Number.isInteger(o) && o >= need && o <= values.length)) {
      throw new ForecastError(
        `${what} needs at least ${need} rows before an origin; origin ${o} of ${values.length} rows`,
      );
    }
    const raw = Array.prototype.slice.call(values, 0, o) as number[];
    const fc = forecast(log ? logsOf(raw) : raw);
    point.set(back(fc.mean), n * H);
    for (const b of bands) {
      b.lower.set(back(fc.lower(b.level * 100)), n * H);
      b.upper.set(back(fc.upper(b.level * 100)), n * H);
    }
  });
  return { point, bands };
}

/**
 * Seasonal ARIMA as a saved forecaster (`train --model auto` keeps it when it wins the validation):
 * metadata `recurrent.arima` = {spec, order, params, sigma2, log}; forecasts run its residual
 * recursion over the series up to each origin with those parameters.
 */
export interface ArimaMetaJSON {
  /** e.g. "ARIMA(0,1,1)(1,1,1)[12] of logs". */
  spec: string;
  order: ArimaOrder;
  params: ArimaParams;
  sigma2: number;
  /** Fitted to the logarithms of the series: the forecasts and bounds are their exponentials. */
  log?: boolean;
}

/** autoArima with the season on `series` (of its logarithms when `log` and the series is positive). */
export function fitArimaMeta(series: ArrayLike<number>, period: number, log = true): ArimaMetaJSON {
  let useLog = log;
  for (let t = 0; useLog && t < series.length; t++) if (!(series[t] > 0)) useLog = false;
  const y = useLog ? logsOf(series) : Array.from(series);
  let fit: ReturnType<typeof autoArima>;
  try {
    fit = autoArima(y, { m: period });
  } catch (e) {
    throw new ForecastError(`ARIMA could not be fitted: ${(e as Error).message}`);
  }
  const meta: ArimaMetaJSON = { spec: fit.spec, order: fit.order, params: fit.params, sigma2: fit.sigma2 };
  return useLog ? { ...meta, spec: `${fit.spec} of logs`, log: true } : meta;
}

/** Forecasts (N, H) and 80 / 95 % intervals from each origin, the recursion run on rows [0, origin). */
export function arimaForecastAt(
  meta: ArimaMetaJSON,
  values: ArrayLike<number>,
  origins: readonly number[],
  H: number,
): HybridForecast {
  const need = arimaRowsNeeded(meta.order) + 1;
  return classicalForecastAt(values, origins, H, need, meta.spec, meta.log === true, (hist) =>
    arimaForecast(hist, meta.order, meta.params, meta.sigma2, H),
  );
}
