// Learning-rate schedulers, as torch.optim.lr_scheduler in PyTorch 1.13. Each `step()` writes the new
// rate into `optimizer.paramGroups[i].lr`; the chainable (recursive) forms are used, as PyTorch does
// when `step()` is called without an epoch, so the rates match PyTorch's step for step, including
// their floating-point rounding.

import type { Tensor } from "../core/tensor.js";
import type { BaseOptions, Optimizer, ParamGroup } from "./optimizer.js";

// biome-ignore lint/suspicious/noExplicitAny: a scheduler drives any optimizer through `lr` only
type AnyOptimizer = Optimizer<BaseOptions, any>;

/** A scheduler's state: plain JSON-able data keyed as PyTorch keys it. */
export type SchedulerStateDict = Record<string, number | string | boolean | null | number[]>;

function checkOptimizer(optimizer: unknown, who: string): asserts optimizer is AnyOptimizer {
  const groups = (optimizer as { paramGroups?: unknown } | null)?.paramGroups;
  if (!Array.isArray(groups)) {
    throw new TypeError(
      `${who}: expected an Optimizer, got ${optimizer === null ? "null" : typeof optimizer}`,
    );
  }
}

function checkPositiveInt(v: number, who: string, name: string): void {
  if (!Number.isInteger(v) || v <= 0)
    throw new Error(`${who}: expected ${name} to be a positive integer, got ${v}`);
}

/** The base of the epoch-driven schedulers (`_LRScheduler`). */
export abstract class LRScheduler {
  readonly optimizer: AnyOptimizer;
  /** The groups' `initialLr` when the scheduler started. */
  baseLrs: number[];
  /** The number of `step()` calls so far (-1 + 1 after construction, which performs a first step). */
  lastEpoch: number;
  protected stepCount = 0;
  protected lastLr: number[] = [];

  constructor(optimizer: AnyOptimizer, lastEpoch = -1) {
    checkOptimizer(optimizer, this.constructor.name);
    this.optimizer = optimizer;
    const groups = optimizer.paramGroups as ParamGroup[];
    if (lastEpoch === -1) {
      for (const g of groups) if (g.initialLr === undefined) g.initialLr = g.lr;
    } else {
      groups.forEach((g, i) => {
        if (g.initialLr === undefined) {
          throw new Error(
            `param 'initial_lr' is not specified in param_groups[${i}] when resuming an optimizer`,
          );
        }
      });
    }
    this.baseLrs = groups.map((g) => g.initialLr as number);
    this.lastEpoch = lastEpoch;
  }

  /** Performs the first step, as PyTorch's constructor does; subclasses call it last. */
  protected initialStep(): void {
    this.stepCount = 0;
    this.step();
  }

  /** The rates for `lastEpoch` (already advanced), from the groups' current rates. */
  protected abstract computeLr(): number[];

  /** Advances one epoch and writes the new rates into the optimizer. */
  step(): void {
    this.stepCount += 1;
    this.lastEpoch += 1;
    const values = this.computeLr();
    const groups = this.optimizer.paramGroups;
    for (let i = 0; i < groups.length; i++) groups[i].lr = values[i];
    this.lastLr = groups.map((g) => g.lr);
  }

  /** The rates set by the last `step()`, one per group. */
  getLastLr(): number[] {
    return this.lastLr.slice();
  }

  /** Fields beyond the base ones, with PyTorch's names. */
  protected abstract ownState(): SchedulerStateDict;
  protected abstract loadOwnState(state: SchedulerStateDict): void;

  stateDict(): SchedulerStateDict {
    return {
      base_lrs: this.baseLrs.slice(),
      last_epoch: this.lastEpoch,
      _step_count: this.stepCount,
      _last_lr: this.lastLr.slice(),
      ...this.ownState(),
    };
  }

  loadStateDict(state: SchedulerStateDict): void {
    if (state === null || typeof state !== "object") {
      throw new Error(`${this.constructor.name}.loadStateDict: expected an object, got ${state}`);
    }
    if (Array.isArray(state.base_lrs)) this.baseLrs = state.base_lrs.slice();
    if (typeof state.last_epoch === "number") this.lastEpoch = state.last_epoch;
    if (typeof state._step_count === "number") this.stepCount = state._step_count;
    if (Array.isArray(state._last_lr)) this.lastLr = state._last_lr.slice();
    this.loadOwnState(state);
  }

  protected groupLrs(): number[] {
    return this.optimizer.paramGroups.map((g) => g.lr);
  }
}

/** Multiplies the rate by `gamma` every `stepSize` epochs. */
export class StepLR extends LRScheduler {
  stepSize: number;
  gamma: number;

  constructor(optimizer: AnyOptimizer, options: { stepSize: number; gamma?: number; lastEpoch?: number }) {
    super(optimizer, options?.lastEpoch ?? -1);
    checkPositiveInt(options.stepSize, "StepLR", "stepSize");
    this.stepSize = options.stepSize;
    this.gamma = options.gamma ?? 0.1;
    this.initialStep();
  }

  protected computeLr(): number[] {
    const lrs = this.groupLrs();
    if (this.lastEpoch === 0 || this.lastEpoch % this.stepSize !== 0) return lrs;
    return lrs.map((lr) => lr * this.gamma);
  }

  protected ownState(): SchedulerStateDict {
    return { step_size: this.stepSize, gamma: this.gamma };
  }

  protected loadOwnState(s: SchedulerStateDict): void {
    if (typeof s.step_size === "number") this.stepSize = s.step_size;
    if (typeof s.gamma === "number") this.gamma = s.gamma;
  }
}

/** Multiplies the rate by `gamma` every epoch. */
export class ExponentialLR extends LRScheduler {
  gamma: number;

  constructor(optimizer: AnyOptimizer, options: { gamma: number; lastEpoch?: number }) {
    super(optimizer, options?.lastEpoch ?? -1);
    if (typeof options.gamma !== "number") {
      throw new Error(`ExponentialLR: expected gamma to be a number, got ${options.gamma}`);
    }
    this.gamma = options.gamma;
    this.initialStep();
  }

  protected computeLr(): number[] {
    const lrs = this.groupLrs();
    if (this.lastEpoch === 0) return lrs;
    return lrs.map((lr) => lr * this.gamma);
  }

  protected ownState(): SchedulerStateDict {
    return { gamma: this.gamma };
  }

  protected loadOwnState(s: SchedulerStateDict): void {
    if (typeof s.gamma === "number") this.gamma = s.gamma;
  }
}

/**
 * Cosine annealing from the initial rate down to `etaMin` over `tMax` epochs (and back up over the
 * next `tMax`, periodically), in PyTorch's recursive form.
 */
export class CosineAnnealingLR extends LRScheduler {
  tMax: number;
  etaMin: number;

  constructor(optimizer: AnyOptimizer, options: { tMax: number; etaMin?: number; lastEpoch?: number }) {
    super(optimizer, options?.lastEpoch ?? -1);
    checkPositiveInt(options.tMax, "CosineAnnealingLR", "tMax");
    this.tMax = options.tMax;
    this.etaMin = options.etaMin ?? 0;
    this.initialStep();
  }

  protected computeLr(): number[] {
    const { lastEpoch: t, tMax, etaMin } = this;
    const lrs = this.groupLrs();
    if (t === 0) return lrs;
    if (this.stepCount === 1 && t > 0) {
      // resuming at epoch t: the closed form
      return this.baseLrs.map(
        (base) => etaMin + ((base - etaMin) * (1 + Math.cos((t * Math.PI) / tMax))) / 2,
      );
    }
    if ((t - 1 - tMax) % (2 * tMax) === 0) {
      // the bottom of a period: the recursion would divide by zero
      return lrs.map((lr, i) => lr + ((this.baseLrs[i] - etaMin) * (1 - Math.cos(Math.PI / tMax))) / 2);
    }
    return lrs.map(
      (lr) =>
        ((1 + Math.cos((Math.PI * t) / tMax)) / (1 + Math.cos((Math.PI * (t - 1)) / tMax))) * (lr - etaMin) +
        etaMin,
    );
  }

  protected ownState(): SchedulerStateDict {
    return { T_max: this.tMax, eta_min: this.etaMin };
  }

  protected loadOwnState(s: SchedulerStateDict): void {
    if (typeof s.T_max === "number") this.tMax = s.T_max;
    if (typeof s.eta_min === "number") this.etaMin = s.eta_min;
  }
}

export interface ReduceLROnPlateauOptions {
  mode: "min" | "max";
  factor: number;
  patience: number;
  threshold: number;
  thresholdMode: "rel" | "abs";
  cooldown: number;
  /** One floor for all groups or one per group. */
  minLr: number | number[];
  eps: number;
}

/**
 * Divides the rate by `1 / factor` once the metric has not improved (by `threshold`) for more than
 * `patience` epochs, then waits `cooldown` epochs before counting again.
 */
export class ReduceLROnPlateau {
  readonly optimizer: AnyOptimizer;
  factor: number;
  minLrs: number[];
  patience: number;
  cooldown: number;
  cooldownCounter = 0;
  mode: "min" | "max";
  threshold: number;
  thresholdMode: "rel" | "abs";
  /** The best metric so far (±Infinity before the first step). */
  best: number;
  numBadEpochs = 0;
  modeWorse: number;
  eps: number;
  lastEpoch = 0;
  private lastLr: number[];

  constructor(optimizer: AnyOptimizer, options: Partial<ReduceLROnPlateauOptions> = {}) {
    checkOptimizer(optimizer, "ReduceLROnPlateau");
    const factor = options.factor ?? 0.1;
    if (factor >= 1.0) throw new Error("Factor should be < 1.0.");
    this.factor = factor;
    this.optimizer = optimizer;
    const nGroups = optimizer.paramGroups.length;
    const minLr = options.minLr ?? 0;
    if (Array.isArray(minLr)) {
      if (minLr.length !== nGroups) throw new Error(`expected ${nGroups} min_lrs, got ${minLr.length}`);
      this.minLrs = minLr.slice();
    } else {
      this.minLrs = new Array<number>(nGroups).fill(minLr);
    }
    this.patience = options.patience ?? 10;
    this.cooldown = options.cooldown ?? 0;
    this.mode = options.mode ?? "min";
    this.threshold = options.threshold ?? 1e-4;
    this.thresholdMode = options.thresholdMode ?? "rel";
    this.eps = options.eps ?? 1e-8;
    this.modeWorse = this.initIsBetter();
    this.best = this.modeWorse;
    this.lastLr = optimizer.paramGroups.map((g) => g.lr);
  }

  private initIsBetter(): number {
    if (this.mode !== "min" && this.mode !== "max") throw new Error(`mode ${this.mode} is unknown!`);
    if (this.thresholdMode !== "rel" && this.thresholdMode !== "abs") {
      throw new Error(`threshold mode ${this.thresholdMode} is unknown!`);
    }
    return this.mode === "min" ? Number.POSITIVE_INFINITY : Number.NEGATIVE_INFINITY;
  }

  get inCooldown(): boolean {
    return this.cooldownCounter > 0;
  }

  isBetter(a: number, best: number): boolean {
    if (this.mode === "min" && this.thresholdMode === "rel") return a < best * (1 - this.threshold);
    if (this.mode === "min") return a < best - this.threshold;
    if (this.thresholdMode === "rel") return a > best * (this.threshold + 1);
    return a > best + this.threshold;
  }

  /** Records one epoch's metric (a number or a one-element tensor) and reduces the rates if due. */
  step(metric: number | Tensor): void {
    const current = typeof metric === "number" ? metric : metric.item();
    if (typeof current !== "number") {
      throw new Error(
        `ReduceLROnPlateau.step: expected a number or a one-element tensor, got ${typeof metric}`,
      );
    }
    this.lastEpoch += 1;
    if (this.isBetter(current, this.best)) {
      this.best = current;
      this.numBadEpochs = 0;
    } else {
      this.numBadEpochs += 1;
    }
    if (this.inCooldown) {
      this.cooldownCounter -= 1;
      this.numBadEpochs = 0; // bad epochs in cooldown do not count
    }
    if (this.numBadEpochs > this.patience) {
      this.reduceLr();
      this.cooldownCounter = this.cooldown;
      this.numBadEpochs = 0;
    }
    this.lastLr = this.optimizer.paramGroups.map((g) => g.lr);
  }

  private reduceLr(): void {
    this.optimizer.paramGroups.forEach((g, i) => {
      const oldLr = g.lr;
      const newLr = Math.max(oldLr * this.factor, this.minLrs[i]);
      if (oldLr - newLr > this.eps) g.lr = newLr;
    });
  }

  /** The rates after the last `step()` (the current ones before any step). */
  getLastLr(): number[] {
    return this.lastLr.slice();
  }

  /** The state with PyTorch's keys; ±Infinity (not JSON-able) is written as null. */
  stateDict(): SchedulerStateDict {
    const fin = (v: number): number | null => (Number.isFinite(v) ? v : null);
    return {
      factor: this.factor,
      min_lrs: this.minLrs.slice(),
      patience: this.patience,
      cooldown: this.cooldown,
      cooldown_counter: this.cooldownCounter,
      mode: this.mode,
      threshold: this.threshold,
      threshold_mode: this.thresholdMode,
      best: fin(this.best),
      num_bad_epochs: this.numBadEpochs,
      mode_worse: fin(this.modeWorse),
      eps: this.eps,
      last_epoch: this.lastEpoch,
      _last_lr: this.lastLr.slice(),
    };
  }

  loadStateDict(s: SchedulerStateDict): void {
    if (s === null || typeof s !== "object") {
      throw new Error(`ReduceLROnPlateau.loadStateDict: expected an object, got ${s}`);
    }
    const num = (k: string, cur: number): number => (typeof s[k] === "number" ? (s[k] as number) : cur);
    this.factor = num("factor", this.factor);
    if (Array.isArray(s.min_lrs)) this.minLrs = s.min_lrs.slice();
    this.patience = num("patience", this.patience);
    this.cooldown = num("cooldown", this.cooldown);
    this.cooldownCounter = num("cooldown_counter", this.cooldownCounter);
    if (s.mode === "min" || s.mode === "max") this.mode = s.mode;
    this.threshold = num("threshold", this.threshold);
    if (s.threshold_mode === "rel" || s.threshold_mode === "abs") this.thresholdMode = s.threshold_mode;
    this.numBadEpochs = num("num_bad_epochs", this.numBadEpochs);
    this.eps = num("eps", this.eps);
    this.lastEpoch = num("last_epoch", this.lastEpoch);
    if (Array.isArray(s._last_lr)) this.lastLr = s._last_lr.slice();
    this.modeWorse = this.initIsBetter();
    this.best = typeof s.best === "number" ? s.best : this.modeWorse;
  }
}
