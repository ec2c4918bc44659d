// Training the hybrid: each ensemble member from its own seed, Adam on the pinball loss (τ = 0.5: the
// mean absolute error, in units of the in-sample seasonal-naive error, so the loss reads as a MASE),
// early stopping on the validation windows; then prediction intervals from the ensemble's validation
// residuals (log ratios for multiplicative series), one quantile set per horizon step. Windows whose
// targets run past the end of their part are kept with those steps masked, so a validation part shorter
// than the horizon still scores, and short series (60 months) train.
//
// N = windows, H = horizon, L = lookback, T = rows.

import * as ops from "../../core/ops.js";
import { manualSeed, shuffledIndices } from "../../core/random.js";
import { noGrad, type Tensor } from "../../core/tensor.js";
import type { DateStep } from "../../data/dates.js";
import { type SeriesSplit, splitSeries } from "../../data/split.js";
import { clipGradNorm_ } from "../../nn/clip.js";
import { Adam } from "../../optim/adam.js";
import { ReduceLROnPlateau } from "../../optim/lr_scheduler.js";
import { defaultSeason } from "../data.js";
import { ForecastError } from "../errors.js";
import type { SeasonMode } from "./es.js";
import {
  type FourierTerm,
  type HybridConfig,
  type HybridInputs,
  type HybridMember,
  HybridNet,
  hybridInputs,
  initMember,
  memberForward,
  rowTimes,
  seededMember,
} from "./model.js";
import { pinballLoss } from "./ops.js";

/** Too little data for any learned model: the caller falls back to a classical one. */
export class SeriesTooShortError extends ForecastError {
  constructor(message: string) {
    super(message);
    this.name = "SeriesTooShortError";
  }
}

export interface HybridOptions {
  lookback: number;
  horizon: number;
  val: number;
  test: number;
  hidden: number;
  layers: number;
  members: number;
  epochs: number;
  batchSize: number;
  lr: number;
  clip: number;
  seed: number;
  patience: number;
  /** Halve the learning rate after this many epochs without improvement. */
  lrPatience: number;
  /** Refit each member on training + validation rows for its best number of epochs. */
  refit: boolean;
  /** A Holt trend in the exponential-smoothing part; null: when the training part drifts (see hasDrift). */
  trend: boolean | null;
  /** The quantile the point forecast is trained for (0.5: the median, loss = MAE). */
  quantile: number;
  /** The Holt-Winters season; null: from the date step (12 monthly, 7 daily, 24 hourly). */
  season: number | null;
  /**
   * The partner the forecasts average with (combine.ts), which wins on the benchmark panel
   * (bench/forecast.ts): "auto" a harmonic regression with ARIMA errors where the hybrid learns a
   * Fourier season, else both ETS and seasonal ARIMA (of the logarithms for a positive series), the
   * three forecasts averaged; "ets", "ets-logs", "arima", "ets-arima" that partner; "none": the hybrid
   * alone. Applied by trainHybridCombined.
   */
  combine: CombineKind;
}

/** What the hybrid is averaged with (see combine.ts). */
export type CombineKind = "auto" | "ets" | "ets-logs" | "arima" | "ets-arima" | "none";

export const DEFAULT_HYBRID_OPTIONS: Readonly<HybridOptions> = Object.freeze({
  lookback: 24,
  horizon: 12,
  val: 0.15,
  test: 0.15,
  hidden: 32,
  layers: 1,
  // five seeds: on the benchmark panel 3 -> 5 members takes the combination's mean MASE from 0.939 to
  // 0.937 (held out) and from 1.007 to 0.998 (rolling), for 5/3 of the training time
  members: 5,
  epochs: 100,
  batchSize: 32,
  lr: 0.005,
  clip: 1,
  seed: 0,
  patience: 20,
  lrPatience: 4,
  quantile: 0.5,
  season: null,
  trend: null,
  refit: false,
  combine: "auto",
});

/** The interval levels reported, and the residual quantiles that bound them. */
export const INTERVAL_LEVELS = [0.8, 0.95] as const;
export const INTERVAL_QUANTILES = [0.025, 0.1, 0.9, 0.975] as const;

export interface HybridIntervals {
  /** (H, 4) residual quantiles at 2.5, 10, 90, 97.5 % in working units (log ratios when multiplicative). */
  quantiles: number[][];
  /** Residuals each step's quantiles came from. */
  counts: number[];
  source: "validation" | "training";
}

export interface HybridSeriesInfo {
  values: Float32Array;
  dates: number[] | null;
  step: DateStep | null;
}

/** Chooses season, mode, features and lookback for a series of `trainRows` training rows. */
export function planHybrid(
  values: Float32Array,
  step: DateStep | null,
  hasDates: boolean,
  o: HybridOptions,
  trainRows: number,
): HybridConfig {
  let m = o.season ?? defaultSeason(step);
  if (m === 1) m = 0;
  const H = o.horizon;
  const minRows = Math.max(2 * m, 8) + 8;
  if (trainRows < minRows) {
    throw new SeriesTooShortError(
      `series too short for a learned model: ${trainRows} training row(s), but the hybrid needs at least ${minRows} (two seasons of ${m || 1} and some windows)`,
    );
  }
  // a shorter lookback for short series: at least one season, at most a third of the training rows
  const L = Math.max(1, Math.min(o.lookback, Math.max(m, Math.floor(trainRows / 3))));
  let positive = true;
  let sum = 0;
  let sumSq = 0;
  for (let t = 0; t < trainRows; t++) {
    const v = values[t];
    if (!(v > 0)) positive = false;
    sum += v;
    sumSq += v * v;
  }
  const mode: SeasonMode = positive ? "multiplicative" : "additive";
  const mean = sum / trainRows;
  const sd = Math.sqrt(Math.max(sumSq / trainRows - mean * mean, 0)) || 1;
  const stepSeconds = step !== null && "seconds" in step ? step.seconds : null;
  const dated = hasDates && stepSeconds !== null;
  const inputTerms: FourierTerm[] = [];
  const learnedTerms: FourierTerm[] = [];
  if (dated && stepSeconds === 86400) {
    inputTerms.push({ period: 7, harmonics: 1 }, { period: 365.25, harmonics: 2 });
    if (trainRows >= 2 * 365) learnedTerms.push({ period: 365.25, harmonics: 3 });
  } else if (dated && stepSeconds === 3600) {
    inputTerms.push({ period: 24, harmonics: 1 }, { period: 168, harmonics: 2 });
    if (trainRows >= 2 * 168) learnedTerms.push({ period: 168, harmonics: 3 });
  }
  return {
    mode,
    season: m,
    trend: o.trend ?? hasDrift(values, trainRows, m),
    lookback: L,
    horizon: H,
    hidden: o.hidden,
    layers: o.layers,
    inputTerms,
    learnedTerms,
    time: dated ? "epoch-steps" : "row",
    stepMs: dated ? stepSeconds! * 1000 : null,
    members: o.members,
    scale: positive ? { offset: 0, scale: mean } : { offset: mean, scale: sd },
  };
}

/**
 * Whether rows [0, end) drift: the mean of the seasonal differences y_t - y_{t-lag} is more than three
 * standard errors from 0, counting one independent difference per season (they overlap otherwise).
 * Mauna Loa CO2 drifts (about 13 standard errors); daily temperatures, whose yearly cycle cancels
 * out, do not.
 */
export function hasDrift(y: ArrayLike<number>, end: number, m: number): boolean {
  const lag = Math.max(1, m);
  let s = 0;
  let s2 = 0;
  let n = 0;
  for (let t = lag; t < end; t++) {
    const d = y[t] - y[t - lag];
    s += d;
    s2 += d * d;
    n++;
  }
  if (n < 2) return false;
  const mean = s / n;
  const sd = Math.sqrt(Math.max(s2 / n - mean * mean, 0));
  if (sd === 0) return mean !== 0;
  return Math.abs(mean) / (sd / Math.sqrt(Math.max(1, n / lag))) > 3;
}

/** Origins o in [max(start, L), end) whose first target row o is before `end`; targets past end masked. */
export function maskedWindows(
  y: Float32Array,
  start: number,
  end: number,
  L: number,
  H: number,
): { origins: number[]; target: Float32Array; mask: Float32Array } {
  const origins: number[] = [];
  for (let o = Math.max(start, L); o < end; o++) origins.push(o);
  const N = origins.length;
  const target = new Float32Array(N * H); // (N, H)
  const mask = new Float32Array(N * H); // (N, H)
  origins.forEach((o, n) => {
    for (let h = 0; h < H; h++) {
      if (o + h < end) {
        target[n * H + h] = y[o + h];
        mask[n * H + h] = 1;
      }
    }
  });
  return { origins, target, mask };
}

/** The in-sample mean absolute seasonal difference of rows [0, end) (the MASE scale), or 1 if zero. */
export function maseScale(y: Float32Array, end: number, m: number): number {
  const lag = Math.max(1, m);
  let s = 0;
  let n = 0;
  for (let t = lag; t < end; t++) {
    s += Math.abs(y[t] - y[t - lag]);
    n++;
  }
  return n > 0 && s > 0 ? s / n : 1;
}

export interface HybridEpoch {
  member: number;
  /** "fit": training with early stopping on validation; "refit": on training + validation rows. */
  phase: "fit" | "refit";
  epoch: number;
  loss: number;
  valLoss: number | null;
  seconds: number;
}

export interface HybridTrainResult {
  net: HybridNet;
  config: HybridConfig;
  split: SeriesSplit;
  intervals: HybridIntervals;
  /** Per member: best epoch, its validation (or training) loss in MASE units, epochs run. */
  members: { bestEpoch: number; bestLoss: number; epochs: number; seconds: number }[];
  /** The ensemble's MASE-scaled MAE on the validation windows (null without validation). */
  valMase: number | null;
  windows: { train: number; val: number };
  seconds: number;
  interrupted: boolean;
  /** Whether the members were refitted on training + validation rows after early stopping. */
  refit: boolean;
  history: HybridEpoch[];
}

export interface HybridHooks {
  onEpoch?: (e: HybridEpoch) => void;
  shouldStop?: () => boolean;
  /**
   * After training, before the combination's partner is fitted (combine.ts; seconds to a minute on
   * long series, during which no epochs are reported): what is being fitted.
   */
  onPartner?: (what: string) => void;
  /** A change of plan while the partner is fitted (an ARIMA that cannot be fitted is left out). */
  onPartnerNote?: (text: string) => void;
  /** Trains the members elsewhere (worker threads: src/node/members.ts) instead of in turn here. */
  runMembers?: MemberRunner;
}

const nowSeconds = (): number => performance.now() / 1000;
/** Gives the event loop a turn (a stop asked for by a signal handler is seen after it). */
export const yieldToEventLoop = (): Promise<void> => new Promise((r) => setTimeout(r, 0));

/** Ensemble forecasts (N, H) in working units: the mean over members. */
export function ensembleForward(
  net: HybridNet,
  inp: HybridInputs,
  origins: readonly number[],
  end: number,
): Float32Array {
  const H = net.config.horizon;
  const out = new Float32Array(origins.length * H);
  const K = net.config.members;
  noGrad(() => {
    for (let k = 0; k < K; k++) {
      const y = memberForward(net.member(k), inp, origins, end).data;
      for (let i = 0; i < out.length; i++) out[i] += y[i] / K;
    }
  });
  return out;
}

/** Empirical quantile with the (n + 1) finite-sample correction of split conformal prediction. */
function quantileOf(sorted: number[], p: number): number {
  const n = sorted.length;
  if (n === 0) return 0;
  const pos = p < 0.5 ? Math.floor(p * (n + 1)) - 1 : Math.ceil(p * (n + 1)) - 1;
  return sorted[Math.max(0, Math.min(n - 1, pos))];
}

/** Residual quantiles per horizon step from forecasts and targets (N, H) with a mask. */
export function residualQuantiles(
  mode: SeasonMode,
  pred: Float32Array,
  target: Float32Array,
  mask: Float32Array,
  H: number,
): { quantiles: number[][]; counts: number[] } {
  const N = pred.length / H;
  const quantiles: number[][] = [];
  const counts: number[] = [];
  for (let h = 0; h < H; h++) {
    const r: number[] = [];
    for (let n = 0; n < N; n++) {
      const i = n * H + h;
      if (mask[i] === 0) continue;
      const e = mode === "multiplicative" ? Math.log(target[i] / pred[i]) : target[i] - pred[i];
      if (Number.isFinite(e)) r.push(e);
    }
    r.sort((a, b) => a - b);
    quantiles.push(INTERVAL_QUANTILES.map((p) => quantileOf(r, p)));
    counts.push(r.length);
  }
  // wider further ahead: each step's band at least as wide as the step before (residuals are noisy)
  for (let h = 1; h < H; h++) {
    const q = quantiles[h];
    const p = quantiles[h - 1];
    q[0] = Math.min(q[0], p[0]);
    q[1] = Math.min(q[1], p[1]);
    q[2] = Math.max(q[2], p[2]);
    q[3] = Math.max(q[3], p[3]);
  }
  return { quantiles, counts };
}

type Windows = ReturnType<typeof maskedWindows>;

/** What every member's training reads, built from the series and the options alone (a worker thread
 * builds the same from the same two). */
interface HybridSetup {
  o: HybridOptions;
  config: HybridConfig;
  split: SeriesSplit;
  inp: HybridInputs;
  tr: Windows;
  va: Windows;
  /** The in-sample seasonal-naive MAE of the training rows: the loss reads as a MASE. */
  scaleTrain: number;
}

function hybridSetup(series: HybridSeriesInfo, o: HybridOptions): HybridSetup {
  for (const k of ["lookback", "horizon", "hidden", "layers", "members", "epochs", "batchSize"] as const) {
    if (!Number.isInteger(o[k]) || o[k] < 1)
      throw new ForecastError(`${k} must be a positive integer, got ${o[k]}`);
  }
  if (!(o.quantile > 0 && o.quantile < 1))
    throw new ForecastError(`quantile must be in (0, 1), got ${o.quantile}`);
  const T = series.values.length;
  const split = splitSeries(T, { val: o.val, test: o.test });
  const config = planHybrid(series.values, series.step, series.dates !== null, o, split.train.end);
  const { lookback: L, horizon: H } = config;
  const inp = hybridInputs(config, series.values, rowTimes(config, series.dates, T, H));
  const tr = maskedWindows(inp.y, 0, split.train.end, L, H);
  if (tr.origins.length < 1)
    throw new SeriesTooShortError(`series too short: no training window of lookback ${L}`);
  return {
    o,
    config,
    split,
    inp,
    tr,
    va: maskedWindows(inp.y, split.val.start, split.val.end, L, H),
    scaleTrain: maseScale(inp.y, split.train.end, config.season),
  };
}

/** One member's training, as trainHybrid runs it in turn or a worker thread runs it (`MemberRunner`). */
export interface MemberTask {
  /** The member: its initial weights come from seed + k, its batches' order from seed + 1000 + k. */
  k: number;
  /** "fit": on the training rows, early stopping on the validation windows; "refit": on both. */
  phase: "fit" | "refit";
  maxEpochs: number;
}

export interface MemberRun {
  bestEpoch: number;
  bestLoss: number;
  epochs: number;
  seconds: number;
  /** A stop was asked for before the member finished (it is then not kept). */
  interrupted: boolean;
}

/** A member's trained parameters (its state dict's arrays), how it went, and its epochs. */
export interface MemberOutcome {
  state: Record<string, Float32Array>;
  run: MemberRun;
  history: HybridEpoch[];
}

/**
 * Trains members elsewhere, e.g. on worker threads (src/node/members.ts), each with
 * `trainMemberTask(series, options, task)`: the outcomes in the tasks' order, null for a task that a
 * stop left unstarted. `hooks.onEpoch` hears every epoch as it ends; `hooks.shouldStop` is polled.
 */
export type MemberRunner = (
  series: HybridSeriesInfo,
  options: HybridOptions,
  tasks: MemberTask[],
  hooks: Pick<HybridHooks, "onEpoch" | "shouldStop">,
) => Promise<(MemberOutcome | null)[]>;

const memberStats = ({ bestEpoch, bestLoss, epochs, seconds }: MemberRun) => ({
  bestEpoch,
  bestLoss,
  epochs,
  seconds,
});

/** Trains member `member` (number k) for one phase of `task`; every epoch goes to `onRecord`. */
async function trainMember(
  s: HybridSetup,
  member: HybridMember,
  task: MemberTask,
  shouldStop: (() => boolean) | undefined,
  onRecord: (e: HybridEpoch) => void,
): Promise<MemberRun> {
  const m0 = nowSeconds();
  const { o, inp, config } = s;
  const { lookback: L, horizon: H } = config;
  const { k, phase, maxEpochs } = task;
  const fit = phase === "fit";
  const w = fit ? s.tr : maskedWindows(inp.y, 0, s.split.val.end, L, H);
  const end = fit ? s.split.train.end : s.split.val.end;
  const monitor = fit && s.va.origins.length > 0 ? { w: s.va, end: s.split.val.end } : null;
  const lossOn = (v: Windows, e: number): number =>
    noGrad(() => pinballLoss(memberForward(member, inp, v.origins, e), v.target, 0.5, v.mask).item()) *
    (2 / s.scaleTrain);
  initMember(member, inp, end);
  manualSeed(o.seed + 1000 + k);
  const n = w.origins.length;
  const bs = Math.min(o.batchSize, n);
  const nb = Math.ceil(n / bs);
  const order = new Int32Array(n);
  const params = member.parameters();
  const opt = new Adam(params, { lr: o.lr });
  const sched = new ReduceLROnPlateau(opt, {
    mode: "min",
    factor: 0.5,
    patience: o.lrPatience,
    minLr: 1e-5,
  });
  let best = { epoch: 0, loss: Number.POSITIVE_INFINITY, weights: snapshot(member) };
  let since = 0;
  let epochs = 0;
  let interrupted = false;
  let lastYield = nowSeconds();
  for (let epoch = 1; epoch <= maxEpochs; epoch++) {
    const e0 = nowSeconds();
    shuffledIndices(order);
    let sum = 0;
    for (let b = 0; b < nb; b++) {
      const idx = order.subarray(b * bs, Math.min(n, (b + 1) * bs));
      const origins = Array.from(idx, (i) => w.origins[i]);
      const target = new Float32Array(idx.length * H);
      const mask = new Float32Array(idx.length * H);
      idx.forEach((i, r) => {
        target.set(w.target.subarray(i * H, (i + 1) * H), r * H);
        mask.set(w.mask.subarray(i * H, (i + 1) * H), r * H);
      });
      const pred = memberForward(member, inp, origins, end);
      const loss = ops.mul(pinballLoss(pred, target, o.quantile, mask), 1 / s.scaleTrain);
      const lv = loss.item();
      if (!Number.isFinite(lv)) break;
      opt.zeroGrad();
      loss.backward();
      if (o.clip > 0) clipGradNorm_(params, o.clip);
      opt.step();
      sum += lv * idx.length;
      if (nowSeconds() - lastYield > 0.05) {
        await yieldToEventLoop();
        lastYield = nowSeconds();
      }
      if (shouldStop?.()) {
        interrupted = true;
        break;
      }
    }
    if (interrupted) break;
    epochs++;
    // pinball x 2 in MASE units (the MASE itself for the median)
    const trainLoss = (sum / n) * 2;
    const vLoss = monitor !== null ? lossOn(monitor.w, monitor.end) : null;
    const watched = vLoss ?? trainLoss;
    onRecord({ member: k, phase, epoch, loss: trainLoss, valLoss: vLoss, seconds: nowSeconds() - e0 });
    if (Number.isFinite(watched)) sched.step(watched);
    if (Number.isFinite(watched) && watched < best.loss) {
      best = { epoch, loss: watched, weights: snapshot(member) };
      since = 0;
    } else if (++since >= o.patience && o.patience > 0 && monitor !== null) {
      break;
    }
  }
  if (monitor !== null) restore(member, best.weights);
  return { bestEpoch: best.epoch, bestLoss: best.loss, epochs, seconds: nowSeconds() - m0, interrupted };
}

/**
 * One member's training from the series and the options alone (what a worker thread runs for
 * `MemberRunner`): the same setup, initial weights and batches as trainHybrid's, so the same result.
 */
export async function trainMemberTask(
  series: HybridSeriesInfo,
  options: HybridOptions,
  task: MemberTask,
  hooks: Pick<HybridHooks, "onEpoch" | "shouldStop"> = {},
): Promise<MemberOutcome> {
  const s = hybridSetup(series, options);
  const member = seededMember(s.config, options.seed, task.k);
  const history: HybridEpoch[] = [];
  const run = await trainMember(s, member, task, hooks.shouldStop, (e) => {
    history.push(e);
    hooks.onEpoch?.(e);
  });
  return { state: snapshot(member), run, history };
}

/** Trains the ensemble on `series` (T values, optional dates). */
export async function trainHybrid(
  series: HybridSeriesInfo,
  options: HybridOptions,
  hooks: HybridHooks = {},
): Promise<HybridTrainResult> {
  const t0 = nowSeconds();
  const o = options;
  const s = hybridSetup(series, o);
  const { config, split, inp, tr, va } = s;
  const H = config.horizon;
  const N = tr.origins.length;
  const Nv = va.origins.length;
  const trainEnd = split.train.end;
  const valEnd = split.val.end;
  const history: HybridEpoch[] = [];
  const members: HybridTrainResult["members"] = [];
  let interrupted = false;

  /**
   * Runs the tasks (in turn, or through hooks.runMembers) and loads each finished member into `into`:
   * the numbers of those that finished, in order (a stop keeps them and drops the rest).
   */
  const runTasks = async (into: HybridNet, tasks: MemberTask[]): Promise<number[]> => {
    const done: number[] = [];
    if (hooks.runMembers !== undefined) {
      const outs = await hooks.runMembers(series, o, tasks, {
        onEpoch: hooks.onEpoch,
        shouldStop: hooks.shouldStop,
      });
      tasks.forEach((t, i) => {
        const out = outs[i];
        if (out === null || out.run.interrupted) {
          interrupted = true;
          return;
        }
        restore(into.member(t.k), out.state);
        history.push(...out.history);
        if (t.phase === "fit") members.push(memberStats(out.run));
        done.push(t.k);
      });
      return done;
    }
    for (const t of tasks) {
      const run = await trainMember(s, into.member(t.k), t, hooks.shouldStop, (e) => {
        history.push(e);
        hooks.onEpoch?.(e);
      });
      if (run.interrupted) {
        interrupted = true;
        break;
      }
      if (t.phase === "fit") members.push(memberStats(run));
      done.push(t.k);
    }
    return done;
  };

  const net = new HybridNet(config, o.seed);
  const fitTasks = Array.from(
    { length: config.members },
    (_, k): MemberTask => ({
      k,
      phase: "fit",
      maxEpochs: o.epochs,
    }),
  );
  const done = await runTasks(net, fitTasks);
  if (done.length === 0) {
    throw new ForecastError("interrupted before the first ensemble member finished");
  }
  let fitted = net;
  let c = config;
  if (done.length < config.members) {
    // keep the members that finished
    c = { ...config, members: done.length };
    fitted = new HybridNet(c, o.seed);
    done.forEach((k, j) => {
      fitted.member(j).loadStateDict(net.member(k).stateDict());
    });
  }
  const result = finish(fitted, c);
  if (o.refit && Nv > 0 && !interrupted) {
    // Refit on training + validation rows for each member's best number of epochs, so the model also
    // learns from the most recent rows; the intervals and the validation score stay those measured above.
    const refit = new HybridNet(c, o.seed);
    await runTasks(
      refit,
      members.map((m, k): MemberTask => ({ k, phase: "refit", maxEpochs: Math.max(1, m.bestEpoch) })),
    );
    if (!interrupted) {
      result.net = refit;
      result.refit = true;
    }
  }
  result.seconds = nowSeconds() - t0;
  result.interrupted = interrupted;
  return result;

  function finish(n: HybridNet, c: HybridConfig): HybridTrainResult {
    // intervals from the ensemble's validation residuals (training residuals without enough validation)
    const useVal = Nv >= 20;
    const w = useVal ? va : tr;
    const end = useVal ? valEnd : trainEnd;
    const pred = ensembleForward(n, inp, w.origins, end);
    const rq = residualQuantiles(c.mode, pred, w.target, w.mask, H);
    let valMase: number | null = null;
    if (Nv > 0) {
      const pv = useVal ? pred : ensembleForward(n, inp, va.origins, valEnd);
      let sum = 0;
      let cnt = 0;
      for (let i = 0; i < pv.length; i++) {
        if (va.mask[i] === 0) continue;
        sum += Math.abs(pv[i] - va.target[i]);
        cnt++;
      }
      valMase = cnt > 0 ? sum / cnt / s.scaleTrain : null;
    }
    return {
      net: n,
      config: c,
      split,
      intervals: { ...rq, source: useVal ? "validation" : "training" },
      members,
      valMase,
      windows: { train: N, val: Nv },
      seconds: nowSeconds() - t0,
      interrupted,
      refit: false,
      history,
    };
  }
}

function snapshot(m: HybridMember): Record<string, Float32Array> {
  const out: Record<string, Float32Array> = {};
  for (const [k, t] of Object.entries(m.stateDict())) out[k] = (t as Tensor).data.slice();
  return out;
}

function restore(m: HybridMember, w: Record<string, Float32Array>): void {
  for (const [k, t] of Object.entries(m.stateDict())) (t as Tensor).data.set(w[k]);
}
