// The classical models beside a trained one in `recurrent evaluate` (rows of the backtest table, fitted
// by app/session.ts backtestView) and `recurrent forecast --compare` (columns beside the model's
// forecast), so that a user always sees when ETS, ARIMA, Theta or seasonal naive with drift does better.

import type { Series } from "../../data/series.js";
import { classicalName } from "../../app/session.js";
import type { ClassicalRow } from "../../forecast/classical/backtest.js";
import { CLASSICAL_FORECASTERS } from "../../forecast/classical/forecasters.js";

function target(series: Series): Float64Array {
  const [T, F] = series.shape;
  const ti = series.targetIndex;
  return Float64Array.from({ length: T }, (_, t) => series.data[t * F + ti]); // (T)
}

/** One sentence: does the model beat the best classical model? */
export function classicalVerdict(
  modelMase: number,
  rows: ClassicalRow[],
  fmt: (x: number, d?: number) => string,
): string {
  const ok = rows.filter((r) => r.scores !== null);
  if (ok.length === 0) return "No classical model could be fitted on the rows before the test part.";
  const best = ok.reduce((a, b) => (b.scores!.mase < a.scores!.mase ? b : a));
  const name = classicalName(best);
  const b = best.scores!.mase;
  // the saved model may be that classical model (`train --model auto` keeps ETS or ARIMA when it wins)
  if (Math.abs(modelMase - b) <= 1e-6 * Math.max(b, 1e-12))
    return `The model scores as the best classical model, ${name} (MASE ${fmt(b, 3)}): it is that model, or forecasts as it does.`;
  return modelMase < b
    ? `The model also beats the classical models (best: ${name}, MASE ${fmt(b, 3)}).`
    : `A classical model does better: ${name}, MASE ${fmt(b, 3)} against the model's ${fmt(modelMase, 3)}.`;
}

/** Per-step MAE of a (W, H) block against the actuals. */
export function perStepMae(fc: Float32Array, actuals: Float32Array, H: number): number[] {
  const W = actuals.length / H;
  const out = new Array<number>(H).fill(0);
  for (let w = 0; w < W; w++)
    for (let h = 0; h < H; h++) out[h] += Math.abs(fc[w * H + h] - actuals[w * H + h]) / W;
  return out;
}

export interface ClassicalForecastColumn {
  name: string;
  label: string;
  values: Float64Array | null; // (H)
  error?: string;
}

/** The classical forecasts of the `steps` values after the whole series, for `forecast --compare`. */
export function classicalForecasts(series: Series, season: number, steps: number): ClassicalForecastColumn[] {
  const y = target(series);
  return CLASSICAL_FORECASTERS.map((f) => {
    try {
      const fitted = f.fit(y, season, steps);
      return { name: f.name, label: fitted.label, values: fitted.forecast(y) };
    } catch (e) {
      return { name: f.name, label: f.name, values: null, error: (e as Error).message };
    }
  });
}
