// The hybrid + ETS combination (src/forecast/hybrid/combine.ts): its forecasts are the weighted mean
// of the hybrid's and of ETS's as computed independently (ETS's own filter and forecast), its
// validation MASE is recomputed from those, its checkpoint entry is checked, and `train`'s default
// checkpoint holds it.

import { describe, expect, it } from "vitest";
import { arimaForecast, autoArima } from "../src/forecast/classical/arima.js";
import { fitEts } from "../src/forecast/classical/ets.js";
import { checkHybridMeta, hybridForecastAt, hybridMetaOf } from "../src/forecast/hybrid/checkpoint.js";
import {
  COMBINE_ETS_RESTARTS,
  combineWith,
  combineWithEts,
  partnerKind,
  partnerSpec,
  pooledQuantiles,
  trainHybridCombined,
} from "../src/forecast/hybrid/combine.js";
import { etsModel } from "../src/forecast/classical/ets.js";
import { etsForecastAt } from "../src/forecast/hybrid/fallback.js";
import { fitHarmonicArima, harmonicForecastAt } from "../src/forecast/hybrid/harmonic.js";
import { rowTimes } from "../src/forecast/hybrid/model.js";
import { DEFAULT_HYBRID_OPTIONS, type HybridOptions } from "../src/forecast/hybrid/train.js";

// 96 monthly values: a trend, a multiplicative season and a deterministic wiggle
const values = Float32Array.from(
  { length: 96 },
  (_, t) => (100 + 0.8 * t) * (1 + 0.2 * Math.sin((2 * Math.PI * t) / 12)) + 3 * Math.sin(t * 1.7),
);
const options: HybridOptions = {
  ...DEFAULT_HYBRID_OPTIONS,
  horizon: 6,
  lookback: 12,
  season: 12,
  val: 24,
  test: 12,
  members: 2,
  epochs: 3,
  hidden: 4,
  combine: "ets",
};
const series = { values, dates: null, step: null };

describe("pooledQuantiles (normalized split-conformal)", () => {
  // one step, 19 residuals -9..9: with the (n + 1) correction the 10 % quantile is the 2nd smallest
  // score and the 2.5 % one the smallest; σ cancels out
  const N = 19;
  const pred = new Float32Array(N).fill(100);
  const mask = new Float32Array(N).fill(1);
  it("additive: the residuals' conformal quantiles", () => {
    const target = Float32Array.from({ length: N }, (_, i) => 100 + i - 9);
    const r = pooledQuantiles("additive", pred, target, mask, 1);
    expect(r.counts).toEqual([19]);
    for (const [k, q] of r.quantiles[0].entries()) expect(q).toBeCloseTo([-9, -8, 8, 9][k], 4);
  });
  it("multiplicative: of log ratios", () => {
    const target = Float32Array.from({ length: N }, (_, i) => 100 * Math.exp((i - 9) / 100));
    const r = pooledQuantiles("multiplicative", pred, target, mask, 1);
    for (const [k, q] of r.quantiles[0].entries()) expect(q).toBeCloseTo([-0.09, -0.08, 0.08, 0.09][k], 6);
  });
  it("pools the steps, each scaled by its mean |residual|, non-decreasing ahead; masked entries left out", () => {
    // H = 2: step 0 residuals ±2 (σ 2), step 1 ±1 (σ 1, raised to 2); a masked third window
    const p2 = new Float32Array(6);
    const t2 = Float32Array.of(2, 1, -2, -1, 50, 50);
    const m2 = Float32Array.of(1, 1, 1, 1, 0, 0);
    const r = pooledQuantiles("additive", p2, t2, m2, 2);
    expect(r.counts).toEqual([2, 2]);
    // scores ±1 and ±0.5; n = 4: every quantile is the extreme score, times σ = 2
    expect(r.quantiles).toEqual([
      [-2, -2, 2, 2],
      [-2, -2, 2, 2],
    ]);
  });
});

describe("hybrid + ETS combination", async () => {
  const r = await trainHybridCombined(series, options);
  const c = r.combine!;
  const cEts = c.ets!;
  const meta = hybridMetaOf(r, c);
  const H = options.horizon;

  it("fits ETS on the rows before the test part", () => {
    expect(c.weight).toBe(0.5);
    expect(COMBINE_ETS_RESTARTS).toBe(2);
    const ets = fitEts(values.subarray(0, 96 - 12), { period: 12, restarts: 2 });
    expect(cEts.spec).toBe(ets.spec);
    expect(cEts.params.alpha).toBeCloseTo(ets.params.alpha, 12);
  });

  it("forecasts the mean of the hybrid's and ETS's forecasts at every origin", () => {
    const origins = [84, 86, 90];
    const both = hybridForecastAt(r.net, meta, values, null, origins);
    const alone = hybridForecastAt(r.net, { ...meta, combine: null }, values, null, origins);
    origins.forEach((o, n) => {
      const e = etsModel(Array.from(values.subarray(0, o)), cEts.type, cEts.params, 12).forecast(H).mean;
      for (let h = 0; h < H; h++) {
        const want = 0.5 * alone.point[n * H + h] + 0.5 * e[h];
        expect(both.point[n * H + h]).toBeCloseTo(want, 2); // float32 working units
        expect(Math.abs(both.point[n * H + h] - want) / want).toBeLessThan(1e-5);
      }
    });
    // the intervals are the combination's: around its point, from its own residual quantiles
    for (const b of both.bands) {
      for (let j = 0; j < both.point.length; j++) {
        expect(b.lower[j]).toBeLessThanOrEqual(both.point[j] + 1e-3);
        expect(b.upper[j]).toBeGreaterThanOrEqual(both.point[j] - 1e-3);
      }
    }
  });

  it("scores the validation part with ETS fitted on the training rows only", () => {
    // validation origins 60..83, steps past 84 masked; MASE scale: seasonal naive on rows 0..59
    const early = fitEts(values.subarray(0, 60), { period: 12, restarts: 2 });
    const origins = Array.from({ length: 24 }, (_, i) => 60 + i);
    const hyb = hybridForecastAt(r.net, { ...meta, combine: null }, values.subarray(0, 84), null, origins);
    let scale = 0;
    for (let t = 12; t < 60; t++) scale += Math.abs(values[t] - values[t - 12]);
    scale /= 48;
    let s = 0;
    let n = 0;
    origins.forEach((o, w) => {
      const e = etsModel(Array.from(values.subarray(0, o)), early.type, early.params, 12).forecast(H).mean;
      for (let h = 0; h < H && o + h < 84; h++) {
        s += Math.abs(0.5 * hyb.point[w * H + h] + 0.5 * e[h] - values[o + h]);
        n++;
      }
    });
    expect(c.val_mase!).toBeCloseTo(s / n / scale, 3);
    expect(c.intervals.source).toBe("validation");
    expect(c.intervals.counts[0]).toBe(24);
    expect(c.intervals.counts[H - 1]).toBe(24 - H + 1); // steps past the validation part masked
  });

  it("weight 1 is the hybrid alone", () => {
    const one = combineWithEts(r, series, 1);
    const a = hybridForecastAt(r.net, { ...meta, combine: one }, values, null, [84]);
    const b = hybridForecastAt(r.net, { ...meta, combine: null }, values, null, [84]);
    for (let h = 0; h < H; h++) expect(a.point[h]).toBeCloseTo(b.point[h], 3);
  });

  it("logs: ETS of the logarithms, its forecasts their exponentials", () => {
    expect(cEts.log).toBeUndefined();
    const lg0 = combineWithEts(r, series, 0.5, true);
    const lg = { ...lg0, ets: lg0.ets! };
    // the test series is positive, so the hybrid is multiplicative and the partner takes logs
    expect(r.config.mode).toBe("multiplicative");
    const ets = fitEts(Array.from(values.subarray(0, 84), Math.log), { period: 12, restarts: 2 });
    expect(lg.ets.log).toBe(true);
    expect(lg.ets.spec).toBe(`${ets.spec} of logs`);
    expect(lg.ets.params.alpha).toBeCloseTo(ets.params.alpha, 12);
    const origins = [84, 90];
    const both = hybridForecastAt(r.net, { ...meta, combine: lg }, values, null, origins);
    const alone = hybridForecastAt(r.net, { ...meta, combine: null }, values, null, origins);
    origins.forEach((o, n) => {
      const logs = Array.from(values.subarray(0, o), Math.log);
      const e = etsModel(logs, ets.type, ets.params, 12).forecast(H).mean;
      for (let h = 0; h < H; h++) {
        const want = 0.5 * alone.point[n * H + h] + 0.5 * Math.exp(e[h]);
        expect(Math.abs(both.point[n * H + h] - want) / want).toBeLessThan(1e-5);
      }
    });
    // a log partner cannot forecast a series that is not positive
    const bad = Float32Array.from(values);
    bad[40] = 0;
    expect(() =>
      hybridForecastAt(r.net, { ...meta, combine: { ...lg, weight: 0 } }, bad, null, [84]),
    ).toThrow();
    expect(() => etsForecastAt(lg.ets, bad, [84], H)).toThrow(
      "ETS of logs needs a positive series, but row 40 is 0",
    );
    expect(() =>
      checkHybridMeta({ ...meta, combine: { ...lg, ets: { ...lg.ets, log: "yes" } } }, "x"),
    ).toThrow("x: the checkpoint is damaged: recurrent.ets should be {spec, type, params, period}");
  });

  it("is checked when a checkpoint is read", () => {
    expect(checkHybridMeta(JSON.parse(JSON.stringify(meta)), "x").combine?.ets?.spec).toBe(cEts.spec);
    expect(() => checkHybridMeta({ ...meta, combine: { ...c, weight: 2 } }, "x")).toThrow(
      "x: the checkpoint is damaged: recurrent.hybrid combine should be {ets and/or arima, weight in [0, 1], intervals}",
    );
    const none =
      "x: the checkpoint is damaged: recurrent.hybrid combine should hold a partner, ets or arima or both";
    expect(() => checkHybridMeta({ ...meta, combine: { ...c, ets: undefined } }, "x")).toThrow(none);
    const arima = {
      spec: "ARIMA(0,1,0)",
      terms: [],
      coef: [0],
      order: { p: 0, d: 1, q: 0 },
      params: { ar: [], ma: [], constant: 0 },
      sigma2: 1,
    };
    expect(
      checkHybridMeta({ ...meta, combine: { ...c, ets: undefined, arima } }, "x").combine?.arima,
    ).toEqual(arima);
    // both partners: each is checked
    const both = checkHybridMeta({ ...meta, combine: { ...c, arima } }, "x").combine;
    expect([both?.ets?.spec, both?.arima?.spec]).toEqual([cEts.spec, "ARIMA(0,1,0)"]);
    expect(() =>
      checkHybridMeta({ ...meta, combine: { ...c, arima: { ...arima, sigma2: -1 } } }, "x"),
    ).toThrow("recurrent.hybrid.combine.arima");
    expect(() =>
      checkHybridMeta(
        { ...meta, combine: { ...c, intervals: { ...c.intervals, quantiles: [[1, 2]] } } },
        "x",
      ),
    ).toThrow("combine.intervals.quantiles should be 6 rows of 4 numbers");
  });

  it('"arima" on a positive monthly series: seasonal ARIMA of the logarithms, forecasts their exponentials', () => {
    const c2 = combineWith(r, series, "arima");
    const a = c2.arima!;
    expect(a.log).toBe(true);
    expect(a.terms).toEqual([]);
    // fitted on the 84 rows before the test part, as autoArima with the season fits the logarithms
    const fit = autoArima(Array.from(values.subarray(0, 84), Math.log), { m: 12 });
    expect(a.spec).toBe(`${fit.spec} of logs`);
    const origins = [84, 88];
    const both = hybridForecastAt(r.net, { ...meta, combine: c2 }, values, null, origins);
    const alone = hybridForecastAt(r.net, { ...meta, combine: null }, values, null, origins);
    origins.forEach((o, n) => {
      // the intercept the partner took off the logarithms, put back
      const logs = Array.from(values.subarray(0, o), (v) => Math.log(v) - a.coef[0]);
      const e = arimaForecast(logs, a.order, a.params, a.sigma2, H).mean;
      for (let h = 0; h < H; h++) {
        const want = 0.5 * alone.point[n * H + h] + 0.5 * Math.exp(e[h] + a.coef[0]);
        expect(Math.abs(both.point[n * H + h] - want) / want).toBeLessThan(1e-5);
      }
    });
    expect(
      checkHybridMeta(JSON.parse(JSON.stringify({ ...meta, combine: c2 })), "x").combine?.arima?.log,
    ).toBe(true);
  });

  it("\"ets-arima\": the mean of the hybrid's, ETS's and seasonal ARIMA's forecasts, each of the logarithms", () => {
    const c3 = combineWith(r, series, "ets-arima");
    expect(c3.weight).toBeCloseTo(1 / 3, 15);
    const e = c3.ets!;
    const a = c3.arima!;
    // each partner fitted on the 84 rows before the test part, as alone
    const ets = fitEts(Array.from(values.subarray(0, 84), Math.log), { period: 12, restarts: 2 });
    expect(e.spec).toBe(`${ets.spec} of logs`);
    expect(e.params.alpha).toBeCloseTo(ets.params.alpha, 12);
    const fit = autoArima(Array.from(values.subarray(0, 84), Math.log), { m: 12 });
    expect(a.spec).toBe(`${fit.spec} of logs`);
    expect(partnerSpec(c3)).toBe(`${e.spec} and ${a.spec}`);
    const origins = [84, 87];
    const three = hybridForecastAt(r.net, { ...meta, combine: c3 }, values, null, origins);
    const alone = hybridForecastAt(r.net, { ...meta, combine: null }, values, null, origins);
    origins.forEach((o, n) => {
      const logs = Array.from(values.subarray(0, o), Math.log);
      const fe = etsModel(logs, ets.type, ets.params, 12).forecast(H).mean;
      const fa = arimaForecast(
        logs.map((v) => v - a.coef[0]),
        a.order,
        a.params,
        a.sigma2,
        H,
      ).mean;
      for (let h = 0; h < H; h++) {
        const want = (alone.point[n * H + h] + Math.exp(fe[h]) + Math.exp(fa[h] + a.coef[0])) / 3;
        expect(Math.abs(three.point[n * H + h] - want) / want).toBeLessThan(1e-5);
      }
    });
    // its validation score is the three-way mean's, both partners fitted on the training rows (0..59)
    const early = fitEts(Array.from(values.subarray(0, 60), Math.log), { period: 12, restarts: 2 });
    const times = rowTimes(r.config, null, 96, H);
    const earlyA = fitHarmonicArima(values, times, 60, [], { season: 12, log: true });
    const vo = Array.from({ length: 24 }, (_, i) => 60 + i);
    const before = values.subarray(0, 84);
    const hyb = hybridForecastAt(r.net, { ...meta, combine: null }, before, null, vo).point;
    const fa = harmonicForecastAt(earlyA, before, times, vo, H).point;
    let scale = 0;
    for (let t = 12; t < 60; t++) scale += Math.abs(values[t] - values[t - 12]);
    scale /= 48;
    let sum = 0;
    let cnt = 0;
    vo.forEach((o, w) => {
      const logs = Array.from(values.subarray(0, o), Math.log);
      const fe = etsModel(logs, early.type, early.params, 12).forecast(H).mean;
      for (let h = 0; h < H && o + h < 84; h++) {
        const mean3 = (hyb[w * H + h] + Math.exp(fe[h]) + fa[w * H + h]) / 3;
        sum += Math.abs(mean3 - values[o + h]);
        cnt++;
      }
    });
    expect(c3.val_mase!).toBeCloseTo(sum / cnt / scale, 3);
    expect(
      checkHybridMeta(JSON.parse(JSON.stringify({ ...meta, combine: c3 })), "x").combine?.arima?.spec,
    ).toBe(a.spec);
  });

  it("a stop asked for while the partner is fitted keeps the hybrid alone, marked interrupted", async () => {
    let fitting = false;
    const stopped = await trainHybridCombined(
      series,
      { ...options, members: 1, epochs: 1 },
      { onPartner: () => (fitting = true), shouldStop: () => fitting },
    );
    expect(fitting).toBe(true);
    expect(stopped.interrupted).toBe(true);
    expect(stopped.combine).toBeNull();
    // and without the stop, the same training gets its partner
    const whole = await trainHybridCombined(series, { ...options, members: 1, epochs: 1 });
    expect(whole.interrupted).toBe(false);
    expect(whole.combine?.ets?.spec).toBe(cEts.spec);
  });

  it("leaves out an ARIMA that cannot be fitted, says so, and averages with ETS alone", async () => {
    // an exact season: its seasonal difference is zero, so no ARIMA has a likelihood
    const pure = Float32Array.from({ length: 96 }, (_, t) => 100 + 10 * Math.sin((2 * Math.PI * t) / 12));
    const ps = { values: pure, dates: null, step: null };
    const notes: string[] = [];
    const rp = await trainHybridCombined(
      ps,
      { ...options, members: 1, epochs: 2, combine: "ets-arima" },
      { onPartnerNote: (t) => notes.push(t) },
    );
    const cp = rp.combine!;
    expect(cp.arima).toBeUndefined();
    expect(cp.weight).toBe(0.5);
    const ets = fitEts(Array.from(pure.subarray(0, 84), Math.log), { period: 12, restarts: 2 });
    expect(cp.ets!.spec).toBe(`${ets.spec} of logs`);
    expect(notes).toEqual([
      "ARIMA: none could be fitted on 60 rows (no ARIMA model could be fitted: ARIMA: the series is constant after differencing); averaging with ETS of the logarithms alone",
    ]);
    expect(() => combineWith(rp, ps, "arima")).not.toThrow();
  });

  it('"none" trains the hybrid alone', async () => {
    const alone = await trainHybridCombined(series, { ...options, members: 1, epochs: 1, combine: "none" });
    expect(alone.combine).toBeNull();
  });
});

describe('the default partner ("auto")', async () => {
  // three years of a daily series: a yearly season, a weekly wiggle and persistent weather-like noise
  const T = 1100;
  let a = 0;
  const noise = Float32Array.from({ length: T }, (_, t) => {
    a = 0.8 * a + Math.sin(t * 12.9898) * 1.5; // deterministic, irregular
    return a;
  });
  const daily = Float32Array.from(
    { length: T },
    (_, t) => 15 + 8 * Math.sin((2 * Math.PI * t) / 365.25) + Math.cos((2 * Math.PI * t) / 7) + noise[t],
  );
  const day = 86_400_000;
  const dates = Array.from({ length: T }, (_, t) => Date.UTC(2010, 0, 1) + t * day);
  const dseries = { values: daily, dates, step: { kind: "daily" as const, seconds: 86400 } };
  const dopts: HybridOptions = {
    ...DEFAULT_HYBRID_OPTIONS,
    horizon: 7,
    lookback: 14,
    val: 100,
    test: 100,
    members: 1,
    epochs: 2,
    hidden: 4,
  };
  const r = await trainHybridCombined(dseries, dopts);
  const c = r.combine!;

  it("is a harmonic regression with ARIMA errors where the hybrid learns a yearly season", () => {
    expect(DEFAULT_HYBRID_OPTIONS.combine).toBe("auto");
    expect(r.config.learnedTerms).toEqual([{ period: 365.25, harmonics: 3 }]);
    expect(partnerKind(r.config, "auto")).toBe("arima");
    expect(c.ets).toBeUndefined();
    const times = rowTimes(r.config, dates, T, 7);
    // fitted on the rows before the test part, on the hybrid's time axis (days since the epoch)
    // the series is positive, so the hybrid is multiplicative and the partner models the logarithms
    expect(r.config.mode).toBe("multiplicative");
    expect(c.arima).toEqual(
      fitHarmonicArima(daily, times, T - 100, r.config.learnedTerms, { season: 7, log: true }),
    );
    expect(c.arima!.log).toBe(true);
    expect(partnerSpec(c)).toMatch(/^Fourier\(365.25, K=[123]\) \+ ARIMA\(\d,[01],\d\)/);
    expect(c.val_mase).not.toBeNull();
    expect(c.partner_val_mase).not.toBeNull();
  });

  it("forecasts the mean of the hybrid's and the harmonic ARIMA's forecasts", () => {
    const meta = hybridMetaOf(r, c);
    const origins = [1000, 1050, 1093];
    const both = hybridForecastAt(r.net, meta, daily, dates, origins);
    const alone = hybridForecastAt(r.net, { ...meta, combine: null }, daily, dates, origins);
    const ha = harmonicForecastAt(c.arima!, daily, rowTimes(r.config, dates, T, 7), origins, 7).point;
    for (let j = 0; j < both.point.length; j++) {
      const want = 0.5 * alone.point[j] + 0.5 * ha[j];
      expect(Math.abs(both.point[j] - want) / Math.abs(want)).toBeLessThan(1e-5);
    }
    // the checkpoint entry survives JSON and its check
    expect(checkHybridMeta(JSON.parse(JSON.stringify(meta)), "x").combine?.arima?.spec).toBe(c.arima!.spec);
  });

  it("is ETS and seasonal ARIMA together without a learned season", () => {
    const monthly = { ...r.config, learnedTerms: [], mode: "multiplicative" as const };
    expect(partnerKind(monthly, "auto")).toBe("ets-arima");
    expect(partnerKind({ ...monthly, mode: "additive" }, "auto")).toBe("ets-arima");
    expect(partnerKind({ ...monthly, mode: "additive" }, "ets-logs")).toBe("ets");
    expect(partnerKind(r.config, "ets")).toBe("ets");
    // "arima" on a series without a learned season: a seasonal ARIMA with the hybrid's season (7)
    const plain = combineWith({ ...r, config: { ...r.config, learnedTerms: [] } }, dseries, "arima");
    expect(plain.arima!.terms).toEqual([]);
    expect(plain.arima!.spec).toMatch(/^ARIMA\(\d,[012],\d\)\(\d,[01],\d\)\[7\]/);
    expect(plain.arima!.log).toBe(true);
  });
});
