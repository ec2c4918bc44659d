// Harmonic regression with ARIMA errors (src/forecast/hybrid/harmonic.ts), the hybrid's partner on series
// with a learned Fourier season. Checked against the truth of simulated series: the harmonics and the
// error model recovered, the one-step forecast against the true model's optimal one, interval coverage
// on data the fit never saw; and its checkpoint entry refused when damaged.

import { describe, expect, it } from "vitest";
import { arimaForecast } from "../src/forecast/classical/arima.js";
import {
  checkHarmonicMeta,
  fitHarmonicArima,
  type HarmonicArimaJSON,
  harmonicForecastAt,
} from "../src/forecast/hybrid/harmonic.js";

/** A seeded standard normal stream (mulberry32 and Box–Muller), independent of the library's RNG. */
function normals(seed: number, n: number): Float64Array {
  let a = seed >>> 0;
  const u = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return Float64Array.from(
    { length: n },
    () => Math.sqrt(-2 * Math.log(1 - u())) * Math.cos(2 * Math.PI * u()),
  );
}

const P = 365.25;
const TERMS = [{ period: P, harmonics: 3 }];
const w = (k: number, t: number) => (2 * Math.PI * k * t) / P;

describe("stationary errors: y = 10 + 3 sin(ωt) − 2 cos(2ωt) + AR(1) (φ 0.7, σ 0.5)", () => {
  const T = 1200;
  const e = normals(1, T);
  const det = (t: number) => 10 + 3 * Math.sin(w(1, t)) - 2 * Math.cos(w(2, t));
  const u = new Float64Array(T);
  for (let t = 0; t < T; t++) u[t] = (t > 0 ? 0.7 * u[t - 1] : 0) + 0.5 * e[t];
  const y = Float64Array.from(u, (v, t) => det(t) + v);
  const times = Float64Array.from({ length: T + 30 }, (_, t) => t);
  const fit = fitHarmonicArima(y, times, 1000, TERMS);

  it("finds two harmonics, no differencing, and the coefficients", () => {
    expect(fit.terms).toEqual([{ period: P, harmonics: 2 }]);
    expect(fit.order.d).toBe(0);
    // columns: sin 1, cos 1, sin 2, cos 2; the truth 3, 0, 0, −2 (standard error about 0.08)
    const truth = [3, 0, 0, -2];
    for (const [j, b] of fit.coef.slice(1).entries()) expect(Math.abs(b - truth[j])).toBeLessThan(0.3);
    expect(Math.abs(fit.coef[0] + fit.params.constant - 10)).toBeLessThan(0.3);
    expect(fit.spec).toMatch(/^Fourier\(365.25, K=2\) \+ ARIMA\(\d,0,\d\)( with non-zero mean)? errors$/);
    expect(Math.abs(Math.sqrt(fit.sigma2) - 0.5)).toBeLessThan(0.05);
  });

  it("one step ahead, close to the true model's forecast det(o) + 0.7 (y[o−1] − det(o−1))", () => {
    const origins = Array.from({ length: 100 }, (_, i) => 1000 + 2 * i);
    const fc = harmonicForecastAt(fit, y, times, origins, 1);
    let ours = 0;
    let truth = 0;
    origins.forEach((o, n) => {
      const best = det(o) + 0.7 * (y[o - 1] - det(o - 1));
      expect(Math.abs(fc.point[n] - best)).toBeLessThan(0.25);
      ours += (y[o] - fc.point[n]) ** 2;
      truth += (y[o] - best) ** 2;
    });
    // on points it never saw, its squared error is within 5 % of the true model's
    expect(ours / truth).toBeLessThan(1.05);
  });

  it("far ahead, the harmonics alone", () => {
    const fc = harmonicForecastAt(fit, y, times, [1200], 30);
    expect(Math.abs(fc.point[29] - det(1229))).toBeLessThan(0.3);
  });

  it("is the regression plus the ARIMA's forecast of the residuals", () => {
    const o = 1100;
    const H = 5;
    const fc = harmonicForecastAt(fit, y, times, [o], H);
    const reg = (t: number) => {
      const b = fit.coef;
      return (
        b[0] +
        b[1] * Math.sin(w(1, t)) +
        b[2] * Math.cos(w(1, t)) +
        b[3] * Math.sin(w(2, t)) +
        b[4] * Math.cos(w(2, t))
      );
    };
    const res = Float64Array.from({ length: o }, (_, t) => y[t] - reg(t));
    const a = arimaForecast(res, fit.order, fit.params, fit.sigma2, H);
    for (let h = 0; h < H; h++) {
      expect(fc.point[h]).toBeCloseTo(a.mean[h] + reg(o + h), 3);
      expect(fc.bands[0].upper[h] - fc.bands[0].lower[h]).toBeCloseTo(a.upper(80)[h] - a.lower(80)[h], 3);
    }
  });

  it("its 80 % and 95 % one-step intervals cover the unseen points", () => {
    const origins = Array.from({ length: 200 }, (_, i) => 1000 + i);
    const fc = harmonicForecastAt(fit, y, times, origins, 1);
    const cover = (b: number) =>
      origins.filter((o, n) => y[o] >= fc.bands[b].lower[n] && y[o] <= fc.bands[b].upper[n]).length / 200;
    expect(fc.bands.map((b) => b.level)).toEqual([0.8, 0.95]);
    expect(cover(0)).toBeGreaterThan(0.72);
    expect(cover(0)).toBeLessThan(0.88);
    expect(cover(1)).toBeGreaterThan(0.9);
  });
});

describe("integrated errors: y = 50 + 5 sin(ωt) + a random walk (σ 0.1)", () => {
  const T = 1000;
  const e = normals(7, T);
  const u = new Float64Array(T);
  for (let t = 1; t < T; t++) u[t] = u[t - 1] + 0.1 * e[t];
  const y = Float64Array.from(u, (v, t) => 50 + 5 * Math.sin(w(1, t)) + v);
  const times = Float64Array.from({ length: T + 10 }, (_, t) => t);
  const fit = fitHarmonicArima(y, times, T, [{ period: P, harmonics: 2 }]);

  it("differences once and takes the harmonic from the differenced series", () => {
    expect(fit.order.d).toBe(1);
    expect(fit.terms[0].harmonics).toBe(1);
    // standard error about 0.25: the differenced harmonic changes by at most 2π·5/365 a step
    expect(Math.abs(fit.coef[1] - 5)).toBeLessThan(0.75);
    expect(Math.abs(fit.coef[2])).toBeLessThan(0.75);
    expect(fit.spec).toBe("Fourier(365.25, K=1) + ARIMA(0,1,0) errors");
    expect(Math.sqrt(fit.sigma2)).toBeCloseTo(0.1, 2);
  });

  it("forecasts from the last value: one step ahead, y[o−1] plus the harmonic's change", () => {
    const o = T;
    const fc = harmonicForecastAt(fit, y, times, [o], 1);
    const want = y[o - 1] + 5 * (Math.sin(w(1, o)) - Math.sin(w(1, o - 1)));
    expect(Math.abs(fc.point[0] - want)).toBeLessThan(0.2);
  });
});

describe("bad input", () => {
  const y = Float64Array.from({ length: 50 }, (_, t) => Math.sin(t));
  const times = Float64Array.from({ length: 60 }, (_, t) => t);
  it("says what was expected", () => {
    expect(() => fitHarmonicArima(y, times, 80, TERMS)).toThrow(
      "harmonic ARIMA: cannot fit on 80 rows of a series of 50",
    );
    const fit = fitHarmonicArima(y, times, 50, []);
    expect(fit.terms).toEqual([]);
    expect(fit.coef.length).toBe(1);
    expect(() => harmonicForecastAt(fit, y, times, [55], 12)).toThrow(
      "harmonic ARIMA: 60 times for forecasts up to row 67",
    );
    expect(() => harmonicForecastAt(fit, y, times, [55], 5)).toThrow(/origin 55 of 50 rows/);
  });
});

describe("checkHarmonicMeta", () => {
  const good: HarmonicArimaJSON = {
    spec: "Fourier(365.25, K=1) + ARIMA(1,0,1) errors",
    terms: [{ period: 365.25, harmonics: 1 }],
    coef: [1, 2, 3],
    order: { p: 1, d: 0, q: 1 },
    params: { ar: [0.5], ma: [0.2], constant: 0 },
    sigma2: 1,
  };
  const pre = "f: the checkpoint is damaged: recurrent.hybrid.combine.arima ";
  it("accepts a well-formed entry and names what is wrong in a damaged one", () => {
    expect(checkHarmonicMeta(JSON.parse(JSON.stringify(good)), "f")).toEqual(good);
    const cases: [unknown, string][] = [
      [null, "is not an object"],
      [{ ...good, spec: 3 }, "has no spec"],
      [
        { ...good, terms: [{ period: 0.5, harmonics: 1 }] },
        "terms should be a list of {period > 1, harmonics 1..50}",
      ],
      [
        { ...good, coef: [1, 2] },
        "coef should be 3 finite numbers (an intercept and one per Fourier column)",
      ],
      [{ ...good, coef: [1, 2, null] }, "coef should be 3 finite numbers"],
      [{ ...good, order: { p: 1, d: 3, q: 1 } }, "order should be {p: 0..10, d: 0..2, q: 0..10}"],
      [
        { ...good, params: { ...good.params, ar: [0.5, 0.1] } },
        "params should be {ar: 1 numbers, ma: 1 numbers, constant: a number}",
      ],
      [{ ...good, sigma2: -1 }, "sigma2 should be a finite number >= 0"],
    ];
    for (const [j, msg] of cases) expect(() => checkHarmonicMeta(j, "f")).toThrow(pre + msg);
  });
});
