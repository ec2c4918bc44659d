// ARIMA by conditional sum of squares against R (forecast::Arima with method "CSS", urca's KPSS and
// forecast::ndiffs), from fixtures written by test/fixtures/gen/classical.py on the shipped series; the
// ψ weights and the differencing against hand-computed cases; the order search on simulated series.
import { describe, expect, it } from "vitest";
import {
  ArimaError,
  autoArima,
  arimaResiduals,
  difference,
  fitArima,
  kpssStatistic,
  arimaForecast,
  autoArimaSteps,
  makeArimaForecaster,
  ndiffs,
  nsdiffs,
  NormalRng,
  seasonalStrength,
  STEPWISE_MIN_ROWS,
  psiWeights,
} from "../src/forecast/classical/index.js";
import { CLASSIC_SERIES, classicSeries, loadFixture, maxRel, type RBands } from "./helpers.js";

function series(key: string, log: boolean): number[] {
  const y = classicSeries(key);
  return log ? y.map(Math.log) : y;
}

interface RFit extends RBands {
  key: string;
  log: boolean;
  order: [number, number, number];
  seasonal: [number, number, number];
  m: number;
  constant: boolean;
  coef: Record<string, number>;
  sigma2: number;
}
interface RKpss {
  key: string;
  log: boolean;
  statistic: [number, number];
  ndiffs: number;
  nsdiffs: number;
}
const R = loadFixture<{ fits: RFit[]; kpss: RKpss[] }>("classical", "r-arima");

describe('fitArima against forecast::Arima(method = "CSS")', () => {
  it.each(
    R.fits.map((f) => [
      `${f.log ? "log " : ""}${f.key} ARIMA(${f.order.join(",")})${f.seasonal.some((v) => v > 0) ? `(${f.seasonal.join(",")})[${f.m}]` : ""}${f.constant ? " + c" : ""}`,
      f,
    ]),
  )("%s", (_, f) => {
    const y = series(f.key, f.log);
    const [p, d, q] = f.order;
    const [P, D, Q] = f.seasonal;
    const seasonal = P + D + Q > 0;
    const order = seasonal ? { p, d, q, P, D, Q, m: f.m } : { p, d, q };
    const fit = fitArima(y, order, { constant: f.constant });
    // the same objective minimized by different optimizers (R: BFGS): parameters agree to the
    // flatness of the optimum, the sum of squares far closer
    const ar = Array.from({ length: p }, (_, i) => f.coef[`ar${i + 1}`]);
    const ma = Array.from({ length: q }, (_, j) => f.coef[`ma${j + 1}`]);
    for (let i = 0; i < p; i++) expect(Math.abs(fit.params.ar[i] - ar[i])).toBeLessThan(2e-3);
    for (let j = 0; j < q; j++) expect(Math.abs(fit.params.ma[j] - ma[j])).toBeLessThan(2e-3);
    const sar = Array.from({ length: P }, (_, i) => f.coef[`sar${i + 1}`]);
    const sma = Array.from({ length: Q }, (_, j) => f.coef[`sma${j + 1}`]);
    for (let i = 0; i < P; i++) expect(Math.abs(fit.params.sar![i] - sar[i])).toBeLessThan(2e-3);
    for (let j = 0; j < Q; j++) expect(Math.abs(fit.params.sma![j] - sma[j])).toBeLessThan(2e-3);
    // R's drift is a regression on the time index: after a seasonal difference, m of it a season
    const c = f.coef.intercept ?? (f.coef.drift ?? 0) * (d === 0 && D === 1 ? f.m : 1);
    expect(Math.abs(fit.params.constant - c)).toBeLessThan(1e-3 * Math.max(1, Math.abs(c)) + 1e-4);
    expect(fit.sigma2 / f.sigma2).toBeCloseTo(1, 4);
    // and as low as R's optimum on our own objective, to 1e-6 of the sum of squares (Nelder–Mead stops
    // within 1.2e-7 of it on the seasonal usdeaths fit)
    const rParams = seasonal ? { ar, ma, sar, sma, constant: c } : { ar, ma, constant: c };
    const rSsq = arimaResiduals(y, fit.order, rParams).ssq;
    expect(arimaResiduals(y, fit.order, fit.params).ssq).toBeLessThanOrEqual(rSsq * (1 + 1e-6));
    const fc = fit.forecast(12);
    // R forecasts with a Kalman filter from a diffuse start; on these long histories the
    // conditional recursion agrees to the parameters' precision
    expect(maxRel(fc.mean, f.mean)).toBeLessThan(2e-3);
    const width = (lo: ArrayLike<number>, hi: ArrayLike<number>) => Array.from(hi, (v, i) => v - lo[i]);
    expect(maxRel(width(fc.lower(80), fc.upper(80)), width(f.lower80, f.upper80))).toBeLessThan(5e-3);
    expect(maxRel(width(fc.lower(95), fc.upper(95)), width(f.lower95, f.upper95))).toBeLessThan(5e-3);
    expect(fit.spec).toBe(
      `ARIMA(${p},${d},${q})${seasonal ? `(${P},${D},${Q})[${f.m}]` : ""}${f.constant ? (d + D === 0 ? " with non-zero mean" : " with drift") : ""}`,
    );
  });
});

describe("KPSS and ndiffs against urca and forecast::ndiffs", () => {
  it.each(R.kpss.map((k) => [`${k.log ? "log " : ""}${k.key}`, k]))("%s", (_, k) => {
    const y = series(k.key, k.log);
    expect(kpssStatistic(y) / k.statistic[0]).toBeCloseTo(1, 10);
    expect(kpssStatistic(difference(y, 1).subarray(1)) / k.statistic[1]).toBeCloseTo(1, 10);
    expect(ndiffs(y)).toBe(k.ndiffs);
    // forecast::nsdiffs measures the seasonal strength on STL; ours on a seven-season moving figure
    expect(nsdiffs(y, CLASSIC_SERIES[k.key][2])).toBe(k.nsdiffs);
  });
});

describe("ARIMA pieces by hand", () => {
  it("difference keeps indices and NaN-marks the first d rows", () => {
    const w = difference([1, 4, 9, 16, 25], 2);
    expect(Number.isNaN(w[0]) && Number.isNaN(w[1])).toBe(true);
    expect(Array.from(w.subarray(2))).toEqual([2, 2, 2]);
  });

  it("ψ weights of ARIMA(1,1,1): ψ_j = 1 + (φ + θ)(1 − φ^j)/(1 − φ)", () => {
    const phi = 0.6;
    const theta = 0.3;
    const psi = psiWeights({ p: 1, d: 1, q: 1 }, { ar: [phi], ma: [theta], constant: 0 }, 6);
    for (let j = 0; j < 6; j++) {
      const want = j === 0 ? 1 : 1 + ((phi + theta) * (1 - phi ** j)) / (1 - phi);
      expect(psi[j]).toBeCloseTo(want, 12);
    }
  });

  it("a random walk with drift forecasts the last value plus h drifts, variance h σ²", () => {
    const y = [0, 1.5, 2.5, 4.5, 5, 7, 7.5, 9.5, 10, 12];
    const fit = fitArima(y, { p: 0, d: 1, q: 0 }, { constant: true });
    const drift = (12 - 0) / 9;
    expect(fit.params.constant).toBeCloseTo(drift, 6);
    const steps = y.slice(1).map((v, i) => v - y[i] - drift);
    // forecast::Arima's unbiased variance: 9 differences, one coefficient
    const s2 = steps.reduce((a, e) => a + e * e, 0) / 8;
    expect(fit.sigma2).toBeCloseTo(s2, 8);
    const fc = fit.forecast(3);
    for (let h = 0; h < 3; h++) {
      expect(fc.mean[h]).toBeCloseTo(12 + (h + 1) * drift, 6);
      expect((fc.upper(95)[h] - fc.mean[h]) / Math.sqrt((h + 1) * s2)).toBeCloseTo(1.959964, 5);
    }
  });

  it("refuses bad orders, short series and non-finite rows with what it expected", () => {
    expect(() => fitArima([1, 2, 3], { p: 1.5, d: 0, q: 0 })).toThrow(
      /order p: expected an integer ≥ 0, got 1.5/,
    );
    expect(() => fitArima([1, 2, 3, 4], { p: 2, d: 1, q: 1 })).toThrow(ArimaError);
    expect(() => fitArima([1, 2, Number.NaN, 4, 5, 6, 7, 8], { p: 1, d: 0, q: 0 })).toThrow(/row 2 is NaN/);
  });
});

describe("autoArima", () => {
  function simulate(ar: number[], ma: number[], n: number, seed: number): number[] {
    const rng = new NormalRng(seed);
    const y: number[] = [];
    const a: number[] = []; // the innovations
    for (let t = 0; t < n + 100; t++) {
      a.push(rng.normal());
      let v = a[t];
      for (let i = 0; i < ar.length; i++) v += ar[i] * (y[t - i - 1] ?? 0);
      for (let j = 0; j < ma.length; j++) v += ma[j] * (a[t - j - 1] ?? 0);
      y.push(v);
    }
    return y.slice(100);
  }

  it("finds a strong AR(2) and its coefficients", () => {
    const y = simulate([1.2, -0.5], [], 800, 3).map((v) => v + 10);
    const fit = autoArima(y);
    expect(fit.order).toEqual({ p: 2, d: 0, q: 0 });
    expect(fit.params.ar[0]).toBeCloseTo(1.2, 1);
    expect(fit.params.ar[1]).toBeCloseTo(-0.5, 1);
    expect(fit.params.constant).toBeCloseTo(10, 0);
  });

  it("differences an integrated MA(1) once and finds θ", () => {
    const w = simulate([], [0.6], 800, 5);
    const y: number[] = [];
    let level = 0;
    for (const v of w) {
      level += v;
      y.push(level);
    }
    const fit = autoArima(y);
    expect(fit.order.d).toBe(1);
    expect(fit.order).toEqual({ p: 0, d: 1, q: 1 });
    expect(fit.params.ma[0]).toBeCloseTo(0.6, 1);
  });
});

describe("autoArima, stepwise", () => {
  /** The search's choice and how many candidates it fitted (the generator yields after each fit). */
  function search(y: number[], options: Parameters<typeof autoArimaSteps>[1]) {
    const g = autoArimaSteps(y, options);
    let fits = 0;
    let r = g.next();
    while (!r.done) {
      fits++;
      r = g.next();
    }
    return { fit: r.value, fits };
  }

  it("finds the exhaustive search's model on log air with a third of the fits, never a lower AICc", () => {
    const y = classicSeries("air").map(Math.log);
    const all = search(y, { m: 12, stepwise: false });
    const step = search(y, { m: 12, stepwise: true });
    expect(all.fits).toBe(36); // p, q ≤ 2, P, Q ≤ 1, no constant (d + D = 2)
    expect(step.fit.spec).toBe(all.fit.spec);
    expect(step.fit.aicc).toBe(all.fit.aicc);
    expect(step.fits).toBeLessThan(all.fits / 2);
    // on every shipped series the stepwise choice is one of the exhaustive candidates: never better
    for (const [name, [, , m]] of Object.entries(CLASSIC_SERIES)) {
      const v = classicSeries(name);
      const a = search(v, { m, stepwise: false }).fit;
      const b = search(v, { m, stepwise: true }).fit;
      expect(b.aicc).toBeGreaterThanOrEqual(a.aicc - 1e-9);
    }
  });

  it("is the default above STEPWISE_MIN_ROWS rows, and finds a strong AR(2) there", () => {
    const rng = new NormalRng(11);
    const y: number[] = [];
    for (let t = 0; t < STEPWISE_MIN_ROWS + 101; t++)
      y.push(1.2 * (y[t - 1] ?? 0) - 0.5 * (y[t - 2] ?? 0) + rng.normal());
    const long = y.slice(100).map((v) => v + 5);
    const dflt = search(long, {});
    const step = search(long, { stepwise: true });
    expect(dflt.fits).toBe(step.fits);
    expect(dflt.fit.order).toEqual({ p: 2, d: 0, q: 0 });
    expect(dflt.fit.params.ar[0]).toBeCloseTo(1.2, 1);
    const all = search(long, { stepwise: false });
    expect(all.fit.order).toEqual({ p: 2, d: 0, q: 0 });
    expect(dflt.fits).toBeLessThan(all.fits);
    // one row shorter: exhaustive
    expect(search(long.slice(1), {}).fits).toBe(search(long.slice(1), { stepwise: false }).fits);
  });
});

describe("the seasonal auto-ARIMA forecaster", () => {
  it("differences log air once and once a season, as auto.arima does, and forecasts with the fit kept", () => {
    const air = classicSeries("air");
    const train = air.slice(0, 132);
    const f = makeArimaForecaster({ log: true }).fit(train, 12, 12);
    expect(f.label).toMatch(/^ARIMA\(\d,1,\d\)\(\d,1,\d\)\[12\] of logs$/);
    const fit = autoArima(train.map(Math.log), { m: 12 });
    const want = fit.forecast(12).mean.map(Math.exp);
    const got = f.forecast(train);
    for (let h = 0; h < 12; h++) expect(got[h]).toBeCloseTo(want[h], 8);
    // on the held-out year 1960, far better than seasonal naive (1959 repeated: MAE 47.8)
    const mae = got.reduce((a, v, h) => a + Math.abs(v - air[132 + h]), 0) / 12;
    const snaive = air.slice(132).reduce((a, v, h) => a + Math.abs(v - air[120 + h]), 0) / 12;
    expect(snaive).toBeCloseTo(47.83, 2);
    expect(mae).toBeLessThan(0.5 * snaive);
    // a later origin runs the recursion on with the same parameters
    const later = f.forecast(air.slice(0, 138));
    const wantLater = arimaForecast(
      air.slice(0, 138).map(Math.log),
      fit.order,
      fit.params,
      fit.sigma2,
      12,
    ).mean;
    for (let h = 0; h < 12; h++) expect(later[h]).toBeCloseTo(Math.exp(wantLater[h]), 8);
  });

  it("takes no seasonal difference where the season is weak", () => {
    expect(nsdiffs(classicSeries("air"), 12)).toBe(1);
    const noise = new NormalRng(2);
    const white = Array.from({ length: 240 }, () => 10 + noise.normal());
    expect(seasonalStrength(white, 12)).toBeLessThan(0.64);
    expect(nsdiffs(white, 12)).toBe(0);
    expect(autoArima(white, { m: 12 }).order.D).toBe(0);
  });
});
