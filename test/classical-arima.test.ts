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
  ndiffs,
  NormalRng,
  psiWeights,
} from "../src/forecast/classical/index.js";
import { classicSeries, loadFixture, maxRel, type RBands } from "./helpers.js";

function series(key: string, log: boolean): number[] {
  const y = classicSeries(key);
  return log ? y.map(Math.log) : y;
}

interface RFit extends RBands {
  key: string;
  log: boolean;
  order: [number, number, number];
  constant: boolean;
  coef: Record<string, number>;
  sigma2: number;
}
interface RKpss {
  key: string;
  log: boolean;
  statistic: [number, number];
  ndiffs: number;
}
const R = loadFixture<{ fits: RFit[]; kpss: RKpss[] }>("classical", "r-arima");

describe('fitArima against forecast::Arima(method = "CSS")', () => {
  it.each(
    R.fits.map((f) => [
      `${f.log ? "log " : ""}${f.key} ARIMA(${f.order.join(",")})${f.constant ? " + c" : ""}`,
      f,
    ]),
  )("%s", (_, f) => {
    const y = series(f.key, f.log);
    const [p, d, q] = f.order;
    const fit = fitArima(y, { p, d, q }, { constant: f.constant });
    // the same objective minimized by different optimizers (R: BFGS): parameters agree to the
    // flatness of the optimum, the sum of squares far closer
    const ar = Array.from({ length: p }, (_, i) => f.coef[`ar${i + 1}`]);
    const ma = Array.from({ length: q }, (_, j) => f.coef[`ma${j + 1}`]);
    for (let i = 0; i < p; i++) expect(Math.abs(fit.params.ar[i] - ar[i])).toBeLessThan(2e-3);
    for (let j = 0; j < q; j++) expect(Math.abs(fit.params.ma[j] - ma[j])).toBeLessThan(2e-3);
    const c = f.coef.intercept ?? f.coef.drift ?? 0;
    expect(Math.abs(fit.params.constant - c)).toBeLessThan(1e-3 * Math.max(1, Math.abs(c)) + 1e-4);
    expect(fit.sigma2 / f.sigma2).toBeCloseTo(1, 4);
    // and as low as R's optimum on our own objective, to 1e-7 of the sum of squares
    const rParams = { ar, ma, constant: c };
    const rSsq = arimaResiduals(y, fit.order, rParams).ssq;
    expect(arimaResiduals(y, fit.order, fit.params).ssq).toBeLessThanOrEqual(rSsq * (1 + 1e-7));
    const fc = fit.forecast(12);
    // R forecasts with a Kalman filter from a diffuse start; on these long histories the
    // conditional recursion agrees to the parameters' precision
    expect(maxRel(fc.mean, f.mean)).toBeLessThan(2e-3);
    const width = (lo: ArrayLike<number>, hi: ArrayLike<number>) => Array.from(hi, (v, i) => v - lo[i]);
    expect(maxRel(width(fc.lower(80), fc.upper(80)), width(f.lower80, f.upper80))).toBeLessThan(5e-3);
    expect(maxRel(width(fc.lower(95), fc.upper(95)), width(f.lower95, f.upper95))).toBeLessThan(5e-3);
    expect(fit.spec).toBe(
      `ARIMA(${p},${d},${q})${f.constant ? (d === 0 ? " with non-zero mean" : " with drift") : ""}`,
    );
  });
});

describe("KPSS and ndiffs against urca and forecast::ndiffs", () => {
  it.each(R.kpss.map((k) => [`${k.log ? "log " : ""}${k.key}`, k]))("%s", (_, k) => {
    const y = series(k.key, k.log);
    expect(kpssStatistic(y) / k.statistic[0]).toBeCloseTo(1, 10);
    expect(kpssStatistic(difference(y, 1).subarray(1)) / k.statistic[1]).toBeCloseTo(1, 10);
    expect(ndiffs(y)).toBe(k.ndiffs);
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
