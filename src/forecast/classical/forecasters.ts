// The classical forecasters behind one small interface, so that `evaluate`, the playground and the
// forecasting benchmark can put them beside any other model (the neural ones included).

import { arimaForecast, autoArima } from "./arima.js";
import { type EtsFit, etsModel, fitEts } from "./ets.js";
import { naive, seasonalNaive, seasonalNaiveDrift } from "./naive.js";
import { fitTheta } from "./theta.js";

/** A forecaster fitted on a training series. */
export interface FittedForecaster {
  /** What was fitted, e.g. "ETS(M,Ad,M)". */
  label: string;
  /**
   * Forecasts `horizon` steps after `history`, a series that starts as the training series and may run
   * on past it (rolling origins): the model fitted on the training part is kept, its state updated.
   */
  forecast(history: ArrayLike<number>): Float64Array;
}

/** A way to forecast a univariate series: `fit(train, period, horizon).forecast(history)`. */
export interface SeriesForecaster {
  name: string;
  fit(train: ArrayLike<number>, period: number, horizon: number): FittedForecaster;
}

/**
 * ETS selected by AICc on the training part; later origins re-run its filter with the same parameters
 * and initial states. `restarts` > 0 restarts Nelder–Mead from each optimum (see FitEtsOptions).
 */
export function makeEtsForecaster(options: { name?: string; restarts?: number } = {}): SeriesForecaster {
  return {
    name: options.name ?? "ETS",
    fit(train, period, horizon) {
      const fit: EtsFit = fitEts(train, { period, restarts: options.restarts ?? 0 });
      return {
        label: fit.spec,
        forecast: (history) =>
          history.length === train.length && sameStart(history, train)
            ? fit.forecast(horizon).mean
            : etsModel(history, fit.type, fit.params, fit.period).forecast(horizon).mean,
      };
    },
  };
}

/** ETS exactly as forecast::ets selects and fits it. */
export const etsForecaster: SeriesForecaster = makeEtsForecaster();

function sameStart(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  for (let i = 0; i < b.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Theta, refitted at every origin (it only estimates a smoothing coefficient and a level). */
export const thetaForecaster: SeriesForecaster = {
  name: "Theta",
  fit(_train, period, horizon) {
    return { label: "Theta", forecast: (history) => fitTheta(history, { period }).forecast(horizon).mean };
  },
};

export const seasonalNaiveDriftForecaster: SeriesForecaster = {
  name: "seasonal naive + drift",
  fit(_train, period, horizon) {
    return {
      label: `seasonal naive + drift (m=${period})`,
      forecast: (history) => seasonalNaiveDrift(history, horizon, period),
    };
  },
};

export const seasonalNaiveForecaster: SeriesForecaster = {
  name: "seasonal naive",
  fit(_train, period, horizon) {
    return {
      label: `seasonal naive (m=${period})`,
      forecast: (history) => seasonalNaive(history, horizon, period),
    };
  },
};

export const naiveForecaster: SeriesForecaster = {
  name: "naive",
  fit(_train, _period, horizon) {
    return { label: "naive", forecast: (history) => naive(history, horizon) };
  },
};

/**
 * Seasonal ARIMA selected as forecast::auto.arima selects it (autoArima with the season: D by the
 * seasonal strength, d by KPSS, the orders by AICc), fitted by conditional sum of squares on the
 * training part; later origins run its residual recursion on with the same parameters. `log`: fitted to
 * the logarithms where the training part is positive, its forecasts their exponentials (the medians).
 */
export function makeArimaForecaster(options: { name?: string; log?: boolean } = {}): SeriesForecaster {
  return {
    name: options.name ?? "ARIMA",
    fit(train, period, horizon) {
      let log = options.log === true;
      for (let t = 0; log && t < train.length; t++) if (!(train[t] > 0)) log = false;
      const tr = (v: ArrayLike<number>) => (log ? Float64Array.from(v, Math.log) : Float64Array.from(v));
      const fit = autoArima(tr(train), { m: period });
      return {
        label: log ? `${fit.spec} of logs` : fit.spec,
        forecast: (history) => {
          const mean = arimaForecast(tr(history), fit.order, fit.params, fit.sigma2, horizon).mean;
          return log ? mean.map(Math.exp) : mean;
        },
      };
    },
  };
}

/** ARIMA as forecast::auto.arima chooses it, on the series itself. */
export const arimaForecaster: SeriesForecaster = makeArimaForecaster();

/**
 * The same on the logarithms of a positive series (the series itself otherwise): on bench:forecast's
 * panel, better than on the series under both protocols, and than R's auto.arima.
 */
export const arimaLogForecaster: SeriesForecaster = makeArimaForecaster({ log: true });

/** ETS, ARIMA, Theta and seasonal naive with drift: the classical models shown beside a trained model. */
export const CLASSICAL_FORECASTERS: readonly SeriesForecaster[] = [
  etsForecaster,
  arimaLogForecaster,
  thetaForecaster,
  seasonalNaiveDriftForecaster,
];
