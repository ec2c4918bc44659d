// ETS and its building blocks: hand-computed cases here; statsmodels and R fixtures in classical-fixtures.
import { describe, expect, it } from "vitest";
import {
  autoEts,
  etsAdmissible,
  etsFilter,
  etsModel,
  fitEts,
  nelderMead,
  parseEtsModel,
  qnorm,
  rootsInUnitDisk,
} from "../src/forecast/classical/index.js";

// R's AirPassengers (Box & Jenkins), monthly 1949-1960.
const AIR =
  `112 118 132 129 121 135 148 148 136 119 104 118 115 126 141 135 125 149 170 170 158 133 114 140 145 150 178 163 172 178 199 199 184 162 146 166 171 180 193 181 183 218 230 242 209 191 172 194 196 196 236 235 229 243 264 272 237 211 180 201 204 188 235 227 234 264 302 293 259 229 203 229 242 233 267 269 270 315 364 347 312 274 237 278 284 277 317 313 318 374 413 405 355 306 271 306 315 301 356 348 355 422 465 467 404 347 305 336 340 318 362 348 363 435 491 505 404 359 310 337 360 342 406 396 420 472 548 559 463 407 362 405 417 391 419 461 472 535 622 606 508 461 390 432`
    .split(/\s+/)
    .map(Number);

describe("nelderMead", () => {
  it("finds the minimum of the Rosenbrock function", () => {
    const f = (x: Float64Array) => 100 * (x[1] - x[0] ** 2) ** 2 + (1 - x[0]) ** 2;
    const r = nelderMead(f, [-1.2, 1], { reltol: 1e-12, maxEval: 5000 });
    expect(r.converged).toBe(true);
    expect(r.x[0]).toBeCloseTo(1, 3);
    expect(r.x[1]).toBeCloseTo(1, 3);
  });
  it("treats Infinity as outside the domain and says when it cannot start", () => {
    const f = (x: Float64Array) => (x[0] < 0 ? Number.POSITIVE_INFINITY : (x[0] - 2) ** 2);
    expect(nelderMead(f, [5]).x[0]).toBeCloseTo(2, 3);
    expect(() => nelderMead(f, [-1])).toThrow(/not finite at the starting point/);
  });
});

describe("stats", () => {
  it("qnorm matches known quantiles", () => {
    expect(qnorm(0.975)).toBeCloseTo(1.959963984540054, 8);
    expect(qnorm(0.9)).toBeCloseTo(1.2815515655446004, 8);
    expect(qnorm(0.001)).toBeCloseTo(-3.090232306167813, 7);
  });
  it("rootsInUnitDisk agrees with polynomials of known roots", () => {
    expect(rootsInUnitDisk([0.25, 0, 1])).toBe(true); // z = ±0.5i
    expect(rootsInUnitDisk([4, 0, 1])).toBe(false); // z = ±2i
    expect(rootsInUnitDisk([1, -2.5, 1])).toBe(false); // 0.5 and 2: product 1
    expect(rootsInUnitDisk([-0.06, -0.1, 1])).toBe(true); // 0.3 and -0.2
    expect(rootsInUnitDisk([-1, 0, 1])).toBe(true); // ±1: on the circle, accepted
    expect(rootsInUnitDisk([-1.01, 0, 1])).toBe(false);
  });
  it("rootsInUnitDisk stays right at seasonal degrees, where the recursion's coefficients shrink", () => {
    // ½ (z − 1.25)(z − 0.5)(z¹² − 0.01): one root outside (1.25), thirteen inside (0.5, and 0.01^(1/12)
    // ≈ 0.68 twelve times). Each Schur–Cohn step squares the leading coefficient (½, ¼, 1/16, …):
    // unnormalized, they underflowed to 0 within the fourteen steps and the answer was "inside"
    const a = [0.625, -1.75, 1]; // (z − 1.25)(z − 0.5), ascending
    const b = [-0.01, ...new Array(11).fill(0), 1];
    const times = (u: number[], v: number[]) => {
      const out = new Array<number>(u.length + v.length - 1).fill(0);
      for (let i = 0; i < u.length; i++) for (let j = 0; j < v.length; j++) out[i + j] += 0.5 * u[i] * v[j];
      return out;
    };
    expect(rootsInUnitDisk(times(a, b))).toBe(false);
    // and with 1.25 replaced by 0.9: all inside
    const c = [0.45, -1.4, 1];
    expect(rootsInUnitDisk(times(c, b))).toBe(true);
  });
});

describe("etsFilter", () => {
  it("ETS(A,N,N) is simple exponential smoothing", () => {
    const y = [3, 5, 4, 6, 8];
    const alpha = 0.3;
    const r = etsFilter(
      y,
      { error: "A", trend: "N", season: "N" },
      { alpha, beta: 0, gamma: 0, phi: 1, level: 2, trend: 0, season: [] },
      1,
    );
    let l = 2;
    let sse = 0;
    for (let t = 0; t < y.length; t++) {
      expect(r.fitted[t]).toBeCloseTo(l, 12);
      sse += (y[t] - l) ** 2;
      l = l + alpha * (y[t] - l);
    }
    expect(r.level).toBeCloseTo(l, 12);
    expect(r.lik).toBeCloseTo(y.length * Math.log(sse), 10);
  });
  it("ETS(M,A,M) follows the multiplicative state equations", () => {
    const y = [10, 14, 9, 12, 11, 16, 10];
    const p = { alpha: 0.4, beta: 0.1, gamma: 0.2, phi: 1, level: 10, trend: 0.5, season: [0.8, 1.3, 0.9] };
    const r = etsFilter(y, { error: "M", trend: "A", season: "M" }, p, 3);
    let l = p.level;
    let b = p.trend;
    const s = [...p.season];
    let logf = 0;
    let sse = 0;
    for (let t = 0; t < y.length; t++) {
      const f = (l + b) * s[t % 3];
      expect(r.fitted[t]).toBeCloseTo(f, 12);
      const e = (y[t] - f) / f;
      expect(r.innovations[t]).toBeCloseTo(e, 12);
      sse += e * e;
      logf += Math.log(f);
      const lNew = (l + b) * (1 + p.alpha * e);
      const bNew = b + p.beta * (l + b) * e;
      s[t % 3] = s[t % 3] * (1 + p.gamma * e);
      l = lNew;
      b = bNew;
    }
    expect(r.lik).toBeCloseTo(y.length * Math.log(sse) + 2 * logf, 10);
    expect(r.level).toBeCloseTo(l, 10);
    // the final seasonal states, oldest first: s_{N-2}, s_{N-1}, s_N
    for (let j = 0; j < 3; j++) expect(r.season[j]).toBeCloseTo(s[(y.length + j) % 3], 10);
  });
});

describe("admissibility", () => {
  it("accepts forecast::ets's starting values and rejects unstable ones", () => {
    expect(etsAdmissible({ error: "A", trend: "N", season: "A" }, 0.0168, 0, 0.0493, 1, 12)).toBe(true);
    expect(etsAdmissible({ error: "A", trend: "Ad", season: "A" }, 0.3, 0.05, 0.2, 0.95, 12)).toBe(true);
    expect(etsAdmissible({ error: "A", trend: "N", season: "N" }, 2.5, 0, 0, 1, 1)).toBe(false);
    expect(etsAdmissible({ error: "A", trend: "A", season: "A" }, 0.5, 0.1, 1.6, 1, 4)).toBe(false);
  });
});

describe("fitEts / autoEts", () => {
  it("parses model strings and rejects bad ones with the expected form", () => {
    expect(parseEtsModel("ETS(M,Ad,M)")).toEqual({ error: "M", trend: "Ad", season: "M" });
    expect(parseEtsModel("ANN")).toEqual({ error: "A", trend: "N", season: "N" });
    expect(() => parseEtsModel("XYZ")).toThrow(/three letters/);
    expect(() => fitEts([1, 2, 3, 4, 5, 6, 7, 8], { model: "ANM", period: 2 })).toThrow(/not allowed/);
    expect(() => fitEts([1, -2, 3, 4, 5, 6, 7, 8], { model: "MNN" })).toThrow(/strictly positive/);
    expect(() => fitEts([1, 2, Number.NaN, 4])).toThrow(/finite numbers, got NaN at index 2/);
  });
  it("a fitted model has normalized seasonal states and an AICc is consistent with the likelihood", () => {
    const fit = fitEts(AIR, { model: "MAM", period: 12 });
    expect(fit.spec).toBe("ETS(M,A,M)");
    const k = fit.nParams;
    expect(k).toBe(2 + 2 + 12 + 1);
    expect(fit.aicc).toBeCloseTo(-2 * fit.loglik + 2 * k + (2 * k * (k + 1)) / (AIR.length - k - 1), 8);
    const again = etsModel(AIR, fit.type, fit.params, 12);
    expect(again.loglik).toBeCloseTo(fit.loglik, 10);
    const sum = fit.params.season.reduce((a, v) => a + v, 0);
    expect(sum).toBeCloseTo(12, 10); // the seasonal states are normalized
  });
  it("autoEts tries forecast::ets's fifteen models on positive seasonal data and keeps the least AICc", () => {
    const fit = autoEts(AIR, { period: 12 });
    // forecast::ets's loop order: error, trend (N, then damped before undamped), season
    expect(fit.candidates.map((c) => c.spec)).toEqual([
      "ETS(A,N,N)",
      "ETS(A,N,A)",
      "ETS(A,Ad,N)",
      "ETS(A,A,N)",
      "ETS(A,Ad,A)",
      "ETS(A,A,A)",
      "ETS(M,N,N)",
      "ETS(M,N,A)",
      "ETS(M,N,M)",
      "ETS(M,Ad,N)",
      "ETS(M,A,N)",
      "ETS(M,Ad,A)",
      "ETS(M,A,A)",
      "ETS(M,Ad,M)",
      "ETS(M,A,M)",
    ]);
    const best = Math.min(...fit.candidates.map((c) => c.aicc));
    expect(fit.aicc).toBe(best);
    expect(fit.type.season).toBe("M"); // the swing grows with the level
    const neg = autoEts(
      AIR.map((v) => v - 300),
      { period: 12 },
    );
    expect(neg.candidates.every((c) => c.spec.startsWith("ETS(A") && !c.spec.endsWith("M)"))).toBe(true);
  });
});

describe("restarts", () => {
  it("restarting Nelder-Mead from the optimum never ends lower, and here climbs higher", () => {
    const once = fitEts(AIR, { model: "MNA", period: 12 });
    const more = fitEts(AIR, { model: "MNA", period: 12, restarts: 2 });
    expect(more.loglik).toBeGreaterThan(once.loglik + 1);
    for (const model of ["MAM", "ANA", "AAN"]) {
      const a = fitEts(AIR, { model, period: 12 });
      const b = fitEts(AIR, { model, period: 12, restarts: 1 });
      expect(b.loglik).toBeGreaterThanOrEqual(a.loglik - 1e-9);
    }
  });
});

describe("intervals", () => {
  it("ETS(A,N,N): var_h = sigma2 (1 + (h-1) alpha^2)", () => {
    const y = [3, 5, 4, 6, 8, 7, 9, 8, 10, 9, 11, 12];
    const fit = etsModel(
      y,
      { error: "A", trend: "N", season: "N" },
      { alpha: 0.4, beta: 0, gamma: 0, phi: 1, level: 3, trend: 0, season: [] },
    );
    const fc = fit.forecast(5);
    expect(fc.method).toBe("analytic");
    for (let h = 1; h <= 5; h++) {
      const sd = Math.sqrt(fit.sigma2 * (1 + (h - 1) * 0.16));
      expect(fc.upper(95)[h - 1] - fc.mean[h - 1]).toBeCloseTo(1.959963984540054 * sd, 8);
      expect(fc.mean[h - 1] - fc.lower(80)[h - 1]).toBeCloseTo(1.2815515655446004 * sd, 8);
    }
    // sigma2 divides SSE by N minus the estimated parameters (alpha, l0), as forecast::ets
    const sse = fit.innovations.reduce((a, e) => a + e * e, 0);
    expect(fit.sigma2).toBeCloseTo(sse / (y.length - 2), 12);
  });
  it("simulated class-3 intervals are seeded, ordered, and near the analytic class-2 ones when the season is flat", () => {
    const y = AIR.slice(0, 60);
    const p = {
      alpha: 0.5,
      beta: 0.01,
      gamma: 0.01,
      phi: 1,
      level: 110,
      trend: 1,
      season: new Array(12).fill(1),
    };
    const m3 = etsModel(y, { error: "M", trend: "A", season: "M" }, p, 12);
    const m2 = etsModel(y, { error: "M", trend: "A", season: "N" }, { ...p, gamma: 0, season: [] }, 12);
    const a = m3.forecast(6, { seed: 1 });
    const b = m3.forecast(6, { seed: 1 });
    expect(a.method).toBe("simulation");
    expect(Array.from(a.upper(95))).toEqual(Array.from(b.upper(95)));
    const c = m2.forecast(6);
    // same innovations scale apart from the parameter count, so compare the widths loosely
    for (let h = 0; h < 6; h++) {
      expect(a.lower(95)[h]).toBeLessThan(a.lower(80)[h]);
      expect(a.upper(80)[h]).toBeLessThan(a.upper(95)[h]);
      const w3 = a.upper(95)[h] - a.lower(95)[h];
      const w2 = c.upper(95)[h] - c.lower(95)[h];
      expect(Math.abs(w3 / w2 - Math.sqrt(m3.sigma2 / m2.sigma2))).toBeLessThan(0.08);
    }
  });
});
