// The hybrid forecaster (ES-RNN style, Smyl 2020): per series, a Holt-Winters level and seasonality
// (multiplicative for positive series, additive otherwise) whose smoothing coefficients and initial
// seasonality are parameters, an optional learned Fourier seasonality for a long period (yearly in
// daily data), and an LSTM that reads deseasonalized, level-normalized windows with calendar features
// and forecasts all horizons at once. An ensemble averages members trained from different seeds.
//
// N = windows, L = lookback, H = horizon, T = time steps, m = season, Ci = calendar inputs,
// Cd = learned Fourier terms, Hd = hidden size.
//
// For a window whose first forecast step is origin o (y in working units, see HybridScale):
//   fs_t  = Fd_t · β                     learned long-period seasonality (0 without)
//   z_t   = y_t · exp(-fs_t)  | y_t - fs_t                 (multiplicative | additive)
//   l, b, s = holtWinters(z, σ(a), σ(β), σ(g), b0, s0)      (b ≡ 0 without a trend)
//   x_t   = log(z_t / (s_t l_{o-1}))  | z_t - s_t - l_{o-1}   for t in [o - L, o), with Ci_t beside it
//   p     = Linear(LSTM(x)[last])                                              (N, H)
//   ŷ_o+h = exp(p_h) (l_{o-1} + (h+1) b_{o-1}) s_{o+h} exp(fs_{o+h})                (multiplicative)
//         = p_h + l_{o-1} + (h+1) b_{o-1} + s_{o+h} + fs_{o+h}                       (additive)
// so with p = 0 the forecast is Holt-Winters', and the network learns what Holt-Winters misses.
// where s_{o+h} is the latest known seasonal index for that phase, s_{o + (h mod m)}.

import * as ops from "../../core/ops.js";
import { manualSeed } from "../../core/random.js";
import { Tensor } from "../../core/tensor.js";
import { Linear } from "../../nn/linear.js";
import { Module, ModuleList, Parameter } from "../../nn/module.js";
import { LSTM } from "../../nn/rnn.js";
import { ForecastError } from "../errors.js";
import { holtWinters, type SeasonMode } from "./es.js";
import { fourierFeatures, take } from "./ops.js";

export interface FourierTerm {
  /** In steps of the series. */
  period: number;
  harmonics: number;
}

/** Working units: y' = (y - offset) / scale (multiplicative: offset 0, so y' stays positive). */
export interface HybridScale {
  offset: number;
  scale: number;
}

/** Everything that fixes the hybrid's shape and its mapping to the series; stored in checkpoints. */
export interface HybridConfig {
  mode: SeasonMode;
  /** m: the Holt-Winters season (0: none). */
  season: number;
  /** Whether the Holt-Winters part has a (Holt) trend. */
  trend: boolean;
  lookback: number;
  horizon: number;
  hidden: number;
  layers: number;
  /** Calendar features fed to the LSTM beside each window value. */
  inputTerms: FourierTerm[];
  /** The learned Fourier seasonality (yearly in daily data). */
  learnedTerms: FourierTerm[];
  /** How the features' time axis is counted: steps since the Unix epoch (dated series) or row index. */
  time: "epoch-steps" | "row";
  /** The step length in milliseconds for "epoch-steps" (null for "row"). */
  stepMs: number | null;
  members: number;
  scale: HybridScale;
}

/** Whether the network also reads the deseasonalized values themselves (additive series: they are
 * anomalies from the long-period seasonality, so the network can learn to revert towards it). */
export const readsLevel = (c: HybridConfig): boolean => c.mode === "additive";
export const inputCount = (c: HybridConfig): number =>
  (readsLevel(c) ? 1 : 0) + 1 + 2 * c.inputTerms.reduce((a, t) => a + t.harmonics, 0);
export const learnedCount = (c: HybridConfig): number =>
  2 * c.learnedTerms.reduce((a, t) => a + t.harmonics, 0);

/** One member: its own smoothing parameters, seasonality, Fourier coefficients and network. */
export class HybridMember extends Module {
  static readonly typeName = "HybridMember";
  alpha_logit: Parameter;
  beta_logit: Parameter | null;
  trend_init: Parameter | null;
  gamma_logit: Parameter | null;
  season_init: Parameter | null;
  fourier: Parameter | null;
  rnn: LSTM;
  head: Linear;

  constructor(readonly config: HybridConfig) {
    super();
    const c = config;
    this.alpha_logit = new Parameter(Float32Array.of(0), []);
    this.beta_logit = c.trend ? new Parameter(Float32Array.of(-2), []) : null;
    this.trend_init = c.trend ? new Parameter(Float32Array.of(0), []) : null;
    this.gamma_logit = c.season > 0 ? new Parameter(Float32Array.of(-2), []) : null;
    this.season_init = c.season > 0 ? new Parameter(new Float32Array(c.season), [c.season]) : null;
    const cd = learnedCount(c);
    this.fourier = cd > 0 ? new Parameter(new Float32Array(cd), [cd]) : null;
    this.rnn = new LSTM(inputCount(c), c.hidden, { numLayers: c.layers, batchFirst: true });
    this.head = new Linear(c.hidden, c.horizon);
    // start from "the forecast is level x seasonality": a small head
    this.head.weight.data.forEach((v, i, a) => {
      a[i] = v * 0.1;
    });
    this.head.bias?.data.fill(0);
  }
}

/** The ensemble: members `members.0`, `members.1`, ... */
export class HybridNet extends Module {
  static readonly typeName = "HybridNet";
  members: ModuleList;

  /** Member k draws its initial weights from seed + k. */
  constructor(
    readonly config: HybridConfig,
    seed = 0,
  ) {
    super();
    checkHybridConfig(config);
    this.members = new ModuleList(
      Array.from({ length: config.members }, (_, k) => seededMember(config, seed, k)),
    );
  }

  member(k: number): HybridMember {
    return this.members.at(k) as HybridMember;
  }
}

/** Member k of `new HybridNet(config, seed)` alone: its initial weights drawn from seed + k. */
export function seededMember(config: HybridConfig, seed: number, k: number): HybridMember {
  manualSeed(seed + k);
  return new HybridMember(config);
}

export function checkHybridConfig(c: HybridConfig): void {
  for (const k of ["lookback", "horizon", "hidden", "layers", "members"] as const) {
    if (!Number.isInteger(c[k]) || c[k] < 1)
      throw new ForecastError(`hybrid ${k} must be a positive integer, got ${c[k]}`);
  }
  if (!Number.isInteger(c.season) || c.season < 0)
    throw new ForecastError(`hybrid season must be an integer >= 0, got ${c.season}`);
  if (c.mode !== "multiplicative" && c.mode !== "additive")
    throw new ForecastError(
      `hybrid mode must be "multiplicative" or "additive", got ${JSON.stringify(c.mode)}`,
    );
  if (!(c.scale.scale > 0) || !Number.isFinite(c.scale.offset))
    throw new ForecastError(`hybrid scale must have a positive scale, got ${JSON.stringify(c.scale)}`);
}

/** The series as the hybrid reads it: working-unit values and features over T rows plus `extra` future steps. */
export interface HybridInputs {
  /** (T) working units. */
  y: Float32Array;
  /** (T + extra, Ci) calendar features. */
  inFeat: Float32Array;
  /** (T + extra, Cd) learned-seasonality basis, as a tensor. */
  deFeat: Tensor | null;
  T: number;
  extra: number;
}

/** Time of each row (and `extra` steps after), in the config's time axis. */
export function rowTimes(
  c: HybridConfig,
  dates: readonly number[] | null,
  T: number,
  extra: number,
): Float64Array {
  const out = new Float64Array(T + extra);
  if (c.time === "row" || dates === null || c.stepMs === null) {
    for (let i = 0; i < out.length; i++) out[i] = i;
    return out;
  }
  // rows past the known dates (forecast steps, or forecasts fed back) continue one step at a time
  const step = c.stepMs;
  const known = Math.min(T, dates.length);
  for (let i = 0; i < known; i++) out[i] = dates[i] / step;
  for (let i = known; i < out.length; i++) out[i] = (known > 0 ? out[known - 1] : 0) + (i - known + 1);
  return out;
}

export function hybridInputs(c: HybridConfig, values: ArrayLike<number>, times: Float64Array): HybridInputs {
  const T = values.length;
  const extra = times.length - T;
  const y = new Float32Array(T);
  for (let i = 0; i < T; i++) y[i] = (values[i] - c.scale.offset) / c.scale.scale;
  if (c.mode === "multiplicative" && y.some((v) => !(v > 0))) {
    throw new ForecastError(
      "this hybrid model is multiplicative (it was trained on a positive series) but the series has values <= 0",
    );
  }
  const inFeat = fourierFeatures(times, c.inputTerms);
  const cd = learnedCount(c);
  const deFeat = cd > 0 ? new Tensor(fourierFeatures(times, c.learnedTerms), [T + extra, cd]) : null;
  return { y, inFeat, deFeat, T, extra };
}

/**
 * A member's forecasts (N, H) in working units for windows at `origins`, reading rows [0, end) of the
 * series (end >= every origin; the recursion is causal, so rows at or after an origin do not reach it).
 */
export function memberForward(
  net: HybridMember,
  inp: HybridInputs,
  origins: readonly number[],
  end: number,
): Tensor {
  const c = net.config;
  const { lookback: L, horizon: H, season: m } = c;
  const N = origins.length;
  const mult = c.mode === "multiplicative";
  if (end > inp.T || end + H > inp.T + inp.extra)
    throw new ForecastError(`internal: rows [0, ${end}) + ${H} do not fit ${inp.T} + ${inp.extra}`);
  const yT = new Tensor(inp.y.subarray(0, end), [end]);
  let fs: Tensor | null = null; // (T + extra)
  let z: Tensor = yT;
  if (net.fourier !== null && inp.deFeat !== null) {
    fs = ops.reshape(ops.matmul(inp.deFeat, ops.unsqueeze(net.fourier, 1)), [inp.T + inp.extra]);
    const past = ops.narrow(fs, 0, 0, end);
    z = mult ? ops.mul(yT, ops.exp(ops.neg(past))) : ops.sub(yT, past);
  }
  const alpha = ops.sigmoid(net.alpha_logit);
  const unused = new Tensor(Float32Array.of(0), []);
  const gamma = net.gamma_logit === null ? unused : ops.sigmoid(net.gamma_logit);
  const beta = net.beta_logit === null ? unused : ops.sigmoid(net.beta_logit);
  const b0 = net.trend_init ?? unused;
  const s0 =
    net.season_init === null
      ? new Tensor(new Float32Array(0), [0])
      : mult
        ? ops.exp(net.season_init)
        : net.season_init;
  const [level, trend, season] = holtWinters(z, { alpha, beta, gamma, b0 }, s0, c.mode, c.trend);

  const winIdx = new Int32Array(N * L); // (N, L)
  const lastIdx = new Int32Array(N); // (N)
  const futIdx = new Int32Array(N * H); // (N, H) season index of each forecast step
  const futT = new Int32Array(N * H); // (N, H) row of each forecast step
  for (let n = 0; n < N; n++) {
    const o = origins[n];
    if (!(o >= L && o <= end)) throw new ForecastError(`internal: origin ${o} outside [${L}, ${end}]`);
    for (let j = 0; j < L; j++) winIdx[n * L + j] = o - L + j;
    lastIdx[n] = o - 1;
    for (let h = 0; h < H; h++) {
      futIdx[n * H + h] = m > 0 ? o + (h % m) : 0;
      futT[n * H + h] = o + h;
    }
  }
  const zw = take(z, winIdx, [N, L]);
  const lw = take(level, lastIdx, [N, 1]);
  // level + (h+1)·trend at each forecast step (N, H)
  let base: Tensor = lw;
  if (c.trend) {
    const steps = new Tensor(
      Float32Array.from({ length: H }, (_, h) => h + 1),
      [1, H],
    );
    base = ops.add(lw, ops.mul(take(trend, lastIdx, [N, 1]), steps));
    if (mult) base = ops.clamp(base, 1e-4);
  }
  let x: Tensor;
  if (mult) {
    let den = lw;
    if (m > 0) den = ops.mul(take(season, winIdx, [N, L]), lw);
    x = ops.log(ops.div(zw, den));
  } else {
    x = ops.sub(zw, lw);
    if (m > 0) x = ops.sub(x, take(season, winIdx, [N, L]));
  }
  const Ci = inputCount(c) - 1 - (readsLevel(c) ? 1 : 0);
  let input = ops.unsqueeze(x, 2); // (N, L, 1)
  if (readsLevel(c)) input = ops.cat([input, ops.unsqueeze(zw, 2)], 2); // (N, L, 2)
  if (Ci > 0) {
    const feat = new Float32Array(N * L * Ci);
    for (let i = 0; i < N * L; i++)
      feat.set(inp.inFeat.subarray(winIdx[i] * Ci, (winIdx[i] + 1) * Ci), i * Ci);
    input = ops.cat([input, new Tensor(feat, [N, L, Ci])], 2); // (N, L, 1 + Ci)
  }
  const [out] = net.rnn.forward(input); // (N, L, Hd)
  const p = net.head.forward(ops.select(out, 1, L - 1)); // (N, H)
  let yhat: Tensor;
  if (mult) {
    let f = ops.mul(ops.exp(p), base);
    if (m > 0) f = ops.mul(f, take(season, futIdx, [N, H]));
    if (fs !== null) f = ops.mul(f, ops.exp(take(fs, futT, [N, H])));
    yhat = f;
  } else {
    let f = ops.add(p, base);
    if (m > 0) f = ops.add(f, take(season, futIdx, [N, H]));
    if (fs !== null) f = ops.add(f, take(fs, futT, [N, H]));
    yhat = f;
  }
  return yhat;
}

/** Least squares for small systems (normal equations, Gaussian elimination with pivoting). */
export function leastSquares(
  X: Float64Array,
  y: Float64Array,
  n: number,
  k: number,
  ridge = 1e-6,
): Float64Array {
  const A = new Float64Array(k * k);
  const b = new Float64Array(k);
  for (let i = 0; i < n; i++) {
    for (let a = 0; a < k; a++) {
      const xa = X[i * k + a];
      b[a] += xa * y[i];
      for (let c = 0; c < k; c++) A[a * k + c] += xa * X[i * k + c];
    }
  }
  for (let a = 0; a < k; a++) A[a * k + a] += ridge * (A[a * k + a] + 1);
  for (let col = 0; col < k; col++) {
    let piv = col;
    for (let r = col + 1; r < k; r++) if (Math.abs(A[r * k + col]) > Math.abs(A[piv * k + col])) piv = r;
    if (piv !== col) {
      for (let c = 0; c < k; c++) [A[col * k + c], A[piv * k + c]] = [A[piv * k + c], A[col * k + c]];
      [b[col], b[piv]] = [b[piv], b[col]];
    }
    const d = A[col * k + col];
    if (d === 0) continue;
    for (let r = col + 1; r < k; r++) {
      const f = A[r * k + col] / d;
      if (f === 0) continue;
      for (let c = col; c < k; c++) A[r * k + c] -= f * A[col * k + c];
      b[r] -= f * b[col];
    }
  }
  const x = new Float64Array(k);
  for (let r = k - 1; r >= 0; r--) {
    let s = b[r];
    for (let c = r + 1; c < k; c++) s -= A[r * k + c] * x[c];
    x[r] = A[r * k + r] === 0 ? 0 : s / A[r * k + r];
  }
  return x;
}

/**
 * Starting values from the training rows [0, end): the Fourier coefficients by least squares (with an
 * intercept and a linear trend beside them), then the initial seasonality from the first seasons of
 * the series with that part removed, and moderate smoothing.
 */
export function initMember(net: HybridMember, inp: HybridInputs, end: number): void {
  const c = net.config;
  const mult = c.mode === "multiplicative";
  const yv = new Float64Array(end);
  for (let t = 0; t < end; t++) yv[t] = mult ? Math.log(inp.y[t]) : inp.y[t];
  const fsPast = new Float64Array(end);
  if (net.fourier !== null && inp.deFeat !== null) {
    const cd = net.fourier.numel;
    const k = cd + 2;
    const X = new Float64Array(end * k);
    for (let t = 0; t < end; t++) {
      X[t * k] = 1;
      X[t * k + 1] = t / end;
      for (let j = 0; j < cd; j++) X[t * k + 2 + j] = inp.deFeat.data[t * cd + j];
    }
    const beta = leastSquares(X, yv, end, k);
    for (let j = 0; j < cd; j++) net.fourier.data[j] = beta[2 + j];
    for (let t = 0; t < end; t++) {
      let s = 0;
      for (let j = 0; j < cd; j++) s += beta[2 + j] * inp.deFeat.data[t * cd + j];
      fsPast[t] = s;
    }
  }
  const m = c.season;
  if (net.season_init !== null && m > 0) {
    const seasons = Math.max(1, Math.min(3, Math.floor(end / m)));
    const acc = new Float64Array(m);
    for (let j = 0; j < seasons; j++) {
      let mean = 0;
      for (let i = 0; i < m; i++) mean += yv[j * m + i] - fsPast[j * m + i];
      mean /= m;
      for (let i = 0; i < m; i++) acc[i] += (yv[j * m + i] - fsPast[j * m + i] - mean) / seasons;
    }
    // log-seasonality for multiplicative (exp of it is the factor), the offsets for additive
    for (let i = 0; i < m; i++) net.season_init.data[i] = acc[i];
  }
  if (net.trend_init !== null) {
    // the slope between the means of the first two seasons (or halves of the first 2·max(m, 4) rows)
    const w = Math.max(m, 4);
    if (end >= 2 * w) {
      let a = 0;
      let b = 0;
      for (let i = 0; i < w; i++) {
        a += inp.y[i] * (mult ? Math.exp(-fsPast[i]) : 1) - (mult ? 0 : fsPast[i]);
        b += inp.y[w + i] * (mult ? Math.exp(-fsPast[w + i]) : 1) - (mult ? 0 : fsPast[w + i]);
      }
      net.trend_init.data[0] = (b - a) / (w * w);
    }
  }
}
