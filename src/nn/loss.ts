// Loss functions, as functions and as modules. Each loss is one fused autograd node: a forward kernel
// and its backward kernel on Float32Arrays, lifted into the graph by `result`.
// Arithmetic runs in float64 and is rounded to float32 once, at the end.
//
// E = elements, N = batch, C = classes, S = positions d1·d2·… after the class dimension (1 without them)
//
// Semantics follow PyTorch 1.13: `reduction` is "mean" (over every element; for cross entropy with
// class indices, over the summed weights of the targets that are not ignored), "sum" or "none".
// Unlike PyTorch, a target whose shape differs from the input's is an error, never broadcast.

import {
  deviceBceWithLogits,
  deviceCrossEntropy,
  deviceMseLoss,
  devicePointwiseLoss,
} from "../core/device.js";
import type { PointwiseLoss } from "../kernels/webgpu/loss.js";
import { Tensor, result, shapeNumel, shapeStr } from "../core/tensor.js";
import { checkTensorArg } from "./args.js";
import { Module } from "./module.js";

export type Reduction = "mean" | "sum" | "none";

const REDUCTIONS: readonly string[] = ["mean", "sum", "none"];

function checkReduction(fn: string, reduction: string | undefined): Reduction {
  const r = reduction ?? "mean";
  if (!REDUCTIONS.includes(r)) {
    throw new Error(`${fn}: unknown reduction ${JSON.stringify(r)}; expected "mean", "sum" or "none"`);
  }
  return r as Reduction;
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

function checkSameShape(fn: string, input: Tensor, target: Tensor): void {
  if (!sameShape(input.shape, target.shape)) {
    throw new Error(
      `${fn}: target shape ${shapeStr(target.shape)} differs from input shape ${shapeStr(input.shape)}; ` +
        "expected equal shapes (targets are not broadcast)",
    );
  }
}

/**
 * Reduces per-item losses (float64) to the op's output: the items themselves for "none", else their
 * sum divided by `denominator` ("mean") or not ("sum").
 */
function reduce(loss: Float64Array, reduction: Reduction, denominator: number): Float32Array {
  if (reduction === "none") return Float32Array.from(loss);
  let s = 0;
  for (let i = 0; i < loss.length; i++) s += loss[i];
  return Float32Array.of(reduction === "mean" ? s / denominator : s);
}

/** The gradient reaching each item: `g` itself for "none", else g[0] (divided by `denominator` for "mean"). */
function itemGrads(g: Float32Array, n: number, reduction: Reduction, denominator: number): Float64Array {
  if (reduction === "none") return Float64Array.from(g);
  return new Float64Array(n).fill(reduction === "mean" ? g[0] / denominator : g[0]);
}

// ---------------------------------------------------------------------------------------------
// Pointwise losses of the difference d = input − target: each is a value and its derivative in d.

export interface Pointwise {
  value(d: number): number;
  grad(d: number): number;
}

const squaredError: Pointwise = {
  value: (d) => d * d,
  grad: (d) => 2 * d,
};

const absoluteError: Pointwise = {
  value: (d) => Math.abs(d),
  grad: (d) => (d > 0 ? 1 : d < 0 ? -1 : 0),
};

function checkBeta(fn: string, beta: number): number {
  if (!(beta >= 0) || !Number.isFinite(beta)) {
    throw new Error(`${fn}: beta must be a finite number >= 0, got ${beta}`);
  }
  return beta;
}

function checkDelta(fn: string, delta: number): number {
  if (!(delta > 0) || !Number.isFinite(delta)) {
    throw new Error(`${fn}: delta must be a finite number > 0, got ${delta}`);
  }
  return delta;
}

/**
 * Quadratic 0.5·d²/β below β, linear |d| − 0.5·β above. With β = 0 this is |d|, and (as in PyTorch)
 * its derivative at d = 0 is −1, not 0: the branches are tested in the order d ≤ −β, d ≥ β.
 */
function smoothL1(beta: number): Pointwise {
  return {
    value: (d) => {
      const a = Math.abs(d);
      return a < beta ? (0.5 * d * d) / beta : a - 0.5 * beta;
    },
    grad: (d) => (d <= -beta ? -1 : d >= beta ? 1 : d / beta),
  };
}

/** Quadratic 0.5·d² below δ, linear δ·(|d| − 0.5·δ) above: δ times the smooth L1 loss with β = δ. */
function huber(delta: number): Pointwise {
  return {
    value: (d) => {
      const a = Math.abs(d);
      return a < delta ? 0.5 * d * d : delta * (a - 0.5 * delta);
    },
    grad: (d) => Math.max(-delta, Math.min(delta, d)), // d clamped to [−δ, δ]
  };
}

/** loss[i] = f(x[i] − y[i]). */
export function pointwiseLossForward(
  f: Pointwise,
  x: Float32Array, // (E)
  y: Float32Array, // (E)
  loss: Float64Array, // (E)
): void {
  for (let i = 0; i < x.length; i++) loss[i] = f.value(x[i] - y[i]);
}

/**
 * dx[i] = f'(x[i] − y[i])·dloss[i], dy[i] = f'(y[i] − x[i])·dloss[i]: −dx except where PyTorch's
 * one-sided choice at a kink (smooth L1 with β = 0, at d = 0) gives both the same sign.
 */
export function pointwiseLossBackward(
  f: Pointwise,
  x: Float32Array, // (E)
  y: Float32Array, // (E)
  dloss: Float64Array, // (E)
  dx: Float32Array | null, // (E)
  dy: Float32Array | null, // (E)
): void {
  for (let i = 0; i < x.length; i++) {
    if (dx !== null) dx[i] = f.grad(x[i] - y[i]) * dloss[i];
    if (dy !== null) dy[i] = f.grad(y[i] - x[i]) * dloss[i];
  }
}

function pointwiseLoss(
  fn: string,
  nodeName: string,
  f: Pointwise,
  input: Tensor,
  target: Tensor,
  reduction: Reduction,
  device?: [PointwiseLoss, number], // the device kernel's kind and β or δ
): Tensor {
  checkTensorArg(input, fn, "input", 1);
  checkTensorArg(target, fn, "target", 2);
  checkSameShape(fn, input, target);
  if ((input._gpu !== null || target._gpu !== null) && device !== undefined) {
    return devicePointwiseLoss(device[0], device[1], input, target, reduction, nodeName);
  }
  const x = input.data;
  const y = target.data;
  const E = x.length;
  if (reduction !== "none") {
    // no per-item arrays: the same sums in the same order (a typed array is not free to allocate)
    let s = 0;
    for (let i = 0; i < E; i++) s += f.value(x[i] - y[i]);
    return result(Float32Array.of(reduction === "mean" ? s / E : s), [], [input, target], nodeName, (g) => {
      const scale = reduction === "mean" ? g[0] / E : g[0];
      const dx = input.requiresGrad ? new Float32Array(E) : null;
      const dy = target.requiresGrad ? new Float32Array(E) : null;
      for (let i = 0; i < E; i++) {
        if (dx !== null) dx[i] = f.grad(x[i] - y[i]) * scale;
        if (dy !== null) dy[i] = f.grad(y[i] - x[i]) * scale;
      }
      return [dx, dy];
    });
  }
  const loss = new Float64Array(E); // (E)
  pointwiseLossForward(f, x, y, loss);
  return result(
    reduce(loss, reduction, E),
    reduction === "none" ? input.shape : [],
    [input, target],
    nodeName,
    (g) => {
      const dx = input.requiresGrad ? new Float32Array(E) : null;
      const dy = target.requiresGrad ? new Float32Array(E) : null;
      pointwiseLossBackward(f, x, y, itemGrads(g, E, reduction, E), dx, dy);
      return [dx, dy];
    },
  );
}

export interface ReductionOptions {
  reduction?: Reduction;
}

/** Mean squared error (x − y)², as `torch.nn.functional.mse_loss`. */
export function mseLoss(input: Tensor, target: Tensor, options: ReductionOptions = {}): Tensor {
  const reduction = checkReduction("mseLoss", options.reduction);
  if (input instanceof Tensor && target instanceof Tensor && (input._gpu !== null || target._gpu !== null)) {
    return deviceMseLoss(input, target, reduction);
  }
  return pointwiseLoss("mseLoss", "MseLossBackward0", squaredError, input, target, reduction);
}

/** Mean absolute error |x − y|, as `torch.nn.functional.l1_loss`. */
export function l1Loss(input: Tensor, target: Tensor, options: ReductionOptions = {}): Tensor {
  const reduction = checkReduction("l1Loss", options.reduction);
  return pointwiseLoss("l1Loss", "L1LossBackward0", absoluteError, input, target, reduction, ["l1", 0]);
}

export interface SmoothL1Options extends ReductionOptions {
  /** Where the loss turns from quadratic to linear (≥ 0; default 1). */
  beta?: number;
}

/** Smooth L1 loss, as `torch.nn.functional.smooth_l1_loss`. */
export function smoothL1Loss(input: Tensor, target: Tensor, options: SmoothL1Options = {}): Tensor {
  const reduction = checkReduction("smoothL1Loss", options.reduction);
  const beta = checkBeta("smoothL1Loss", options.beta ?? 1);
  return pointwiseLoss("smoothL1Loss", "SmoothL1LossBackward0", smoothL1(beta), input, target, reduction, [
    "smoothL1",
    beta,
  ]);
}

export interface HuberOptions extends ReductionOptions {
  /** Where the loss turns from quadratic to linear (> 0; default 1). */
  delta?: number;
}

/** Huber loss, as `torch.nn.functional.huber_loss`. */
export function huberLoss(input: Tensor, target: Tensor, options: HuberOptions = {}): Tensor {
  const reduction = checkReduction("huberLoss", options.reduction);
  const delta = checkDelta("huberLoss", options.delta ?? 1);
  return pointwiseLoss("huberLoss", "HuberLossBackward0", huber(delta), input, target, reduction, [
    "huber",
    delta,
  ]);
}

// ---------------------------------------------------------------------------------------------
// Cross entropy over the class dimension. Input x is viewed as (N, C, S); with lse = log Σ_c exp x,
// log p_c = x_c − lse. Every variant is loss = Σ_c a_c·(lse − x_c) for per-column coefficients a, so
//   dloss/dx_c = A·p_c − a_c,   A = Σ_c a_c.

/**
 * Per column (n, s): lse = log Σ_c exp x[n, c, s] and the softmax p = exp(x − lse), both through
 * exp(x − max), which cannot overflow. The backward kernels reuse p rather than exponentiate again.
 */
export function softmaxColumns(
  x: Float32Array, // (N, C, S)
  lse: Float64Array, // (N, S)
  p: Float64Array, // (N, C, S)
  N: number,
  C: number,
  S: number,
): void {
  for (let n = 0; n < N; n++) {
    for (let s = 0; s < S; s++) {
      const base = n * C * S + s;
      let m = Number.NEGATIVE_INFINITY;
      for (let c = 0; c < C; c++) m = Math.max(m, x[base + c * S]);
      let sum = 0;
      for (let c = 0; c < C; c++) {
        const e = Math.exp(x[base + c * S] - m);
        p[base + c * S] = e;
        sum += e;
      }
      for (let c = 0; c < C; c++) p[base + c * S] /= sum;
      lse[n * S + s] = Number.isFinite(m) ? m + Math.log(sum) : m;
    }
  }
}

/**
 * Class-index targets. An ignored column (target −1 here) has loss 0; otherwise, with smoothing ε,
 *   loss = (1 − ε)·w[t]·(lse − x_t) + (ε/C)·Σ_c w_c·(lse − x_c).
 * Returns the summed weight w[t] of the columns not ignored (the "mean" denominator).
 */
export function crossEntropyIndexForward(
  x: Float32Array, // (N, C, S)
  lse: Float64Array, // (N, S)
  target: Int32Array, // (N, S) class index, −1 where ignored
  weight: Float32Array | null, // (C)
  eps: number,
  loss: Float64Array, // (N, S)
  N: number,
  C: number,
  S: number,
): number {
  let total = 0;
  for (let n = 0; n < N; n++) {
    for (let s = 0; s < S; s++) {
      const col = n * S + s;
      const t = target[col];
      if (t < 0) {
        loss[col] = 0;
        continue;
      }
      const base = n * C * S + s;
      const wt = weight === null ? 1 : weight[t];
      total += wt;
      let l = wt * (lse[col] - x[base + t * S]);
      if (eps > 0) {
        let smooth = 0;
        for (let c = 0; c < C; c++)
          smooth += (weight === null ? 1 : weight[c]) * (lse[col] - x[base + c * S]);
        l = (1 - eps) * l + (eps / C) * smooth;
      }
      loss[col] = l;
    }
  }
  return total;
}

/** dx[n, c, s] = dloss[n, s]·(A·p_c − a_c) with a_c = (1 − ε)·w[t]·[c = t] + (ε/C)·w_c; 0 where ignored. */
export function crossEntropyIndexBackward(
  p: Float64Array, // (N, C, S)
  target: Int32Array, // (N, S) class index, −1 where ignored
  weight: Float32Array | null, // (C)
  eps: number,
  dloss: Float64Array, // (N, S)
  dx: Float32Array, // (N, C, S)
  N: number,
  C: number,
  S: number,
): void {
  let wSum = C;
  if (weight !== null) {
    wSum = 0;
    for (let c = 0; c < C; c++) wSum += weight[c];
  }
  for (let n = 0; n < N; n++) {
    for (let s = 0; s < S; s++) {
      const col = n * S + s;
      const t = target[col];
      const base = n * C * S + s;
      if (t < 0) {
        for (let c = 0; c < C; c++) dx[base + c * S] = 0;
        continue;
      }
      const g = dloss[col];
      const aT = (1 - eps) * (weight === null ? 1 : weight[t]);
      const u = eps / C;
      const A = aT + u * wSum;
      for (let c = 0; c < C; c++) {
        const i = base + c * S;
        const a = u * (weight === null ? 1 : weight[c]) + (c === t ? aT : 0);
        dx[i] = g * (A * p[i] - a);
      }
    }
  }
}

/** Class-probability targets: loss = Σ_c a_c·(lse − x_c) with a_c = w_c·((1 − ε)·y_c + ε/C). */
export function crossEntropyProbForward(
  x: Float32Array, // (N, C, S)
  lse: Float64Array, // (N, S)
  y: Float32Array, // (N, C, S)
  weight: Float32Array | null, // (C)
  eps: number,
  loss: Float64Array, // (N, S)
  N: number,
  C: number,
  S: number,
): void {
  for (let n = 0; n < N; n++) {
    for (let s = 0; s < S; s++) {
      const col = n * S + s;
      const base = n * C * S + s;
      let l = 0;
      for (let c = 0; c < C; c++) {
        const i = base + c * S;
        l += (weight === null ? 1 : weight[c]) * ((1 - eps) * y[i] + eps / C) * (lse[col] - x[i]);
      }
      loss[col] = l;
    }
  }
}

/** dx = dloss·(A·p_c − a_c); dy[n, c, s] = dloss·(1 − ε)·w_c·(lse − x_c). */
export function crossEntropyProbBackward(
  x: Float32Array, // (N, C, S)
  lse: Float64Array, // (N, S)
  p: Float64Array, // (N, C, S)
  y: Float32Array, // (N, C, S)
  weight: Float32Array | null, // (C)
  eps: number,
  dloss: Float64Array, // (N, S)
  dx: Float32Array | null, // (N, C, S)
  dy: Float32Array | null, // (N, C, S)
  N: number,
  C: number,
  S: number,
): void {
  for (let n = 0; n < N; n++) {
    for (let s = 0; s < S; s++) {
      const col = n * S + s;
      const base = n * C * S + s;
      const g = dloss[col];
      if (dx !== null) {
        let A = 0;
        for (let c = 0; c < C; c++) {
          A += (weight === null ? 1 : weight[c]) * ((1 - eps) * y[base + c * S] + eps / C);
        }
        for (let c = 0; c < C; c++) {
          const i = base + c * S;
          const a = (weight === null ? 1 : weight[c]) * ((1 - eps) * y[i] + eps / C);
          dx[i] = g * (A * p[i] - a);
        }
      }
      if (dy !== null) {
        for (let c = 0; c < C; c++) {
          const i = base + c * S;
          dy[i] = g * (1 - eps) * (weight === null ? 1 : weight[c]) * (lse[col] - x[i]);
        }
      }
    }
  }
}

export interface CrossEntropyOptions extends ReductionOptions {
  /** A weight per class, shape (C). */
  weight?: Tensor | null;
  /** Class-index targets equal to this contribute nothing (default -100). */
  ignoreIndex?: number;
  /** Mixes the target with the uniform distribution: (1 − ε)·target + ε/C (default 0). */
  labelSmoothing?: number;
}

/**
 * Cross entropy between logits `input` — (C), (N, C) or (N, C, d1, …) — and `target`: class indices,
 * shaped as the input without its class dimension (a Tensor of integer values, a number[] for (N, C)
 * input, or a number for (C) input), or class probabilities, a Tensor shaped as the input.
 * As `torch.nn.functional.cross_entropy`.
 */
export function crossEntropyLoss(
  input: Tensor,
  target: Tensor | readonly number[] | number,
  options: CrossEntropyOptions = {},
): Tensor {
  const fn = "crossEntropyLoss";
  const reduction = checkReduction(fn, options.reduction);
  const ignoreIndex = options.ignoreIndex ?? -100;
  const eps = options.labelSmoothing ?? 0;
  if (!(eps >= 0 && eps <= 1)) {
    throw new Error(`${fn}: labelSmoothing must be between 0.0 and 1.0, got ${eps}`);
  }
  if (!Number.isInteger(ignoreIndex)) {
    throw new Error(`${fn}: ignoreIndex must be an integer, got ${ignoreIndex}`);
  }
  if (input.ndim === 0) {
    throw new Error(`${fn}: expected input of shape (C), (N, C) or (N, C, d1, ...), got a 0-d tensor`);
  }
  const batched = input.ndim > 1;
  const N = batched ? input.shape[0] : 1;
  const C = batched ? input.shape[1] : input.shape[0];
  const S = batched ? shapeNumel(input.shape.slice(2)) : 1;
  // Shape of the per-column losses: the input without its class dimension.
  const colShape = batched ? [N, ...input.shape.slice(2)] : [];

  const weightT = options.weight ?? null;
  if (weightT !== null && !sameShape(weightT.shape, [C])) {
    throw new Error(
      `${fn}: weight should have one entry per class, shape ${shapeStr([C])}, got ${shapeStr(weightT.shape)}`,
    );
  }
  // on the device: the same checks, then kernels/webgpu/loss.ts (class indices are read on the CPU)
  const gpu = input._gpu !== null;
  const weight = weightT === null || gpu ? null : weightT.data;
  const x = gpu ? new Float32Array(0) : input.data;
  const lse = new Float64Array(gpu ? 0 : N * S); // (N, S)
  const p = new Float64Array(x.length); // (N, C, S)
  if (!gpu) softmaxColumns(x, lse, p, N, C, S);
  const loss = new Float64Array(N * S); // (N, S)

  if (target instanceof Tensor && sameShape(target.shape, input.shape)) {
    // Class probabilities.
    if (ignoreIndex !== -100) {
      throw new Error(
        `${fn}: ignoreIndex is not supported for class-probability targets, got ${ignoreIndex}`,
      );
    }
    if (gpu) return deviceCrossEntropy(input, null, target, weightT, eps, reduction, N, C, S, colShape);
    const y = target.data;
    crossEntropyProbForward(x, lse, y, weight, eps, loss, N, C, S);
    const denominator = N * S;
    return result(
      reduce(loss, reduction, denominator),
      reduction === "none" ? colShape : [],
      [input, target],
      "CrossEntropyLossBackward0",
      (g) => {
        const dx = input.requiresGrad ? new Float32Array(x.length) : null;
        const dy = target.requiresGrad ? new Float32Array(y.length) : null;
        crossEntropyProbBackward(
          x,
          lse,
          p,
          y,
          weight,
          eps,
          itemGrads(g, N * S, reduction, denominator),
          dx,
          dy,
          N,
          C,
          S,
        );
        return [dx, dy];
      },
    );
  }

  // Class indices.
  const tShape = target instanceof Tensor ? target.shape : typeof target === "number" ? [] : [target.length];
  if (!sameShape(tShape, colShape)) {
    throw new Error(
      `${fn}: expected target of shape ${shapeStr(colShape)} (class indices) or ${shapeStr(input.shape)} ` +
        `(class probabilities) for input of shape ${shapeStr(input.shape)}, got ${shapeStr(tShape)}`,
    );
  }
  if (target instanceof Tensor && target._gpu !== null) {
    throw new Error(
      `${fn} on webgpu: class-index targets are read and checked on the CPU; pass them as a CPU tensor or an array of numbers`,
    );
  }
  const tData: ArrayLike<number> =
    target instanceof Tensor ? target.data : typeof target === "number" ? [target] : target;
  const t = new Int32Array(N * S); // (N, S)
  for (let i = 0; i < tData.length; i++) {
    const v = tData[i];
    if (!Number.isInteger(v)) {
      throw new Error(`${fn}: class-index targets must be integers, got ${v} at flat position ${i}`);
    }
    if (v !== ignoreIndex && (v < 0 || v >= C)) {
      throw new Error(
        `Target ${v} is out of bounds. ${fn} expected class indices in [0, ${C - 1}] ` +
          `(or ignoreIndex ${ignoreIndex}) for ${C} classes`,
      );
    }
    t[i] = v === ignoreIndex ? -1 : v;
  }
  if (gpu) return deviceCrossEntropy(input, t, null, weightT, eps, reduction, N, C, S, colShape);
  const totalWeight = crossEntropyIndexForward(x, lse, t, weight, eps, loss, N, C, S);
  return result(
    reduce(loss, reduction, totalWeight),
    reduction === "none" ? colShape : [],
    [input],
    "CrossEntropyLossBackward0",
    (g) => {
      const dx = new Float32Array(x.length);
      crossEntropyIndexBackward(p, t, weight, eps, itemGrads(g, N * S, reduction, totalWeight), dx, N, C, S);
      return [dx];
    },
  );
}

// ---------------------------------------------------------------------------------------------
// Binary cross entropy on logits. With e = exp(−|x|) (never overflows), the softplus
// sp(−x) = log(1 + exp(−x)) = max(−x, 0) + log1p(e) and σ(x) = 1/(1 + e) for x ≥ 0, e/(1 + e) below:
//   loss = w·((1 − y)·x + (1 + (pw − 1)·y)·sp(−x))
//   dloss/dx = w·((1 + (pw − 1)·y)·σ(x) − pw·y),   dloss/dy = w·((pw − 1)·sp(−x) − x)
// The forward keeps e and sp(−x), so the backward needs no exp or log.

export function bceWithLogitsForward(
  x: Float32Array, // (E)
  y: Float32Array, // (E)
  w: Float32Array | null, // (E)
  pw: Float32Array | null, // (E)
  loss: Float64Array, // (E)
  e: Float64Array, // (E) exp(−|x|)
  sp: Float64Array, // (E) softplus(−x)
): void {
  for (let i = 0; i < x.length; i++) {
    const xi = x[i];
    const ei = Math.exp(-Math.abs(xi));
    const spi = Math.max(-xi, 0) + Math.log1p(ei);
    e[i] = ei;
    sp[i] = spi;
    const p = pw === null ? 1 : pw[i];
    const l = (1 - y[i]) * xi + (1 + (p - 1) * y[i]) * spi;
    loss[i] = w === null ? l : w[i] * l;
  }
}

export function bceWithLogitsBackward(
  x: Float32Array, // (E)
  y: Float32Array, // (E)
  w: Float32Array | null, // (E)
  pw: Float32Array | null, // (E)
  e: Float64Array, // (E) exp(−|x|)
  sp: Float64Array, // (E) softplus(−x)
  dloss: Float64Array, // (E)
  dx: Float32Array | null, // (E)
  dy: Float32Array | null, // (E)
): void {
  for (let i = 0; i < x.length; i++) {
    const p = pw === null ? 1 : pw[i];
    const g = w === null ? dloss[i] : w[i] * dloss[i];
    if (dx !== null) {
      const sig = x[i] >= 0 ? 1 / (1 + e[i]) : e[i] / (1 + e[i]);
      dx[i] = g * ((1 + (p - 1) * y[i]) * sig - p * y[i]);
    }
    if (dy !== null) dy[i] = g * ((p - 1) * sp[i] - x[i]);
  }
}

/** `t` broadcast (right-aligned, as PyTorch) to `shape` without growing it, as a flat array. */
function broadcastTo(fn: string, what: string, t: Tensor, shape: readonly number[]): Float32Array {
  if (sameShape(t.shape, shape)) return t.data;
  const nd = shape.length;
  const fits = t.ndim <= nd && t.shape.every((d, k) => d === 1 || d === shape[nd - t.ndim + k]);
  if (!fits) {
    throw new Error(
      `${fn}: ${what} of shape ${shapeStr(t.shape)} cannot be broadcast to the input shape ${shapeStr(shape)}`,
    );
  }
  const E = shapeNumel(shape);
  const out = new Float32Array(E); // shaped as `shape`
  // Strides of `t` seen with `shape`'s dimensions (0 along broadcast ones).
  const strides = new Array<number>(nd).fill(0);
  let st = 1;
  for (let k = t.ndim - 1; k >= 0; k--) {
    const d = nd - t.ndim + k;
    strides[d] = t.shape[k] === 1 ? 0 : st;
    st *= t.shape[k];
  }
  const idx = new Array<number>(nd).fill(0);
  let src = 0;
  const td = t.data; // once: a view's data is gathered on each read
  for (let i = 0; i < E; i++) {
    out[i] = td[src];
    for (let d = nd - 1; d >= 0; d--) {
      idx[d]++;
      src += strides[d];
      if (idx[d] < shape[d]) break;
      src -= strides[d] * shape[d];
      idx[d] = 0;
    }
  }
  return out;
}

export interface BCEWithLogitsOptions extends ReductionOptions {
  /** A weight per element, broadcast to the input's shape. */
  weight?: Tensor | null;
  /** A weight of the positive examples, broadcast to the input's shape (usually one per class, (C)). */
  posWeight?: Tensor | null;
}

/** Binary cross entropy of `sigmoid(input)` against `target`, as `binary_cross_entropy_with_logits`. */
export function bceWithLogitsLoss(input: Tensor, target: Tensor, options: BCEWithLogitsOptions = {}): Tensor {
  const fn = "bceWithLogitsLoss";
  const reduction = checkReduction(fn, options.reduction);
  checkSameShape(fn, input, target);
  if (input._gpu !== null || target._gpu !== null) {
    return deviceBceWithLogits(input, target, options.weight ?? null, options.posWeight ?? null, reduction);
  }
  const w = options.weight ? broadcastTo(fn, "weight", options.weight, input.shape) : null;
  const pw = options.posWeight ? broadcastTo(fn, "posWeight", options.posWeight, input.shape) : null;
  const x = input.data;
  const y = target.data;
  const E = x.length;
  const loss = new Float64Array(E); // (E)
  const e = new Float64Array(E); // (E)
  const sp = new Float64Array(E); // (E)
  bceWithLogitsForward(x, y, w, pw, loss, e, sp);
  return result(
    reduce(loss, reduction, E),
    reduction === "none" ? input.shape : [],
    [input, target],
    "BinaryCrossEntropyWithLogitsBackward0",
    (g) => {
      const dx = input.requiresGrad ? new Float32Array(E) : null;
      const dy = target.requiresGrad ? new Float32Array(E) : null;
      bceWithLogitsBackward(x, y, w, pw, e, sp, itemGrads(g, E, reduction, E), dx, dy);
      return [dx, dy];
    },
  );
}

// ---------------------------------------------------------------------------------------------
// Modules. PyTorch prints every loss module without options (`CrossEntropyLoss()`); the weights of
// CrossEntropyLoss and BCEWithLogitsLoss are buffers, so they appear in the state dict when given.

/** A loss module: `forward(input, target)` with a reduction chosen at construction. */
export abstract class Loss extends Module {
  readonly reduction: Reduction;

  constructor(reduction: Reduction | undefined) {
    super();
    this.reduction = checkReduction(this.typeName, reduction);
  }

  abstract forward(input: Tensor, target: Tensor): Tensor;
}

export class MSELoss extends Loss {
  /** The printed name (kept through minification). */
  static readonly typeName = "MSELoss";

  constructor(options: ReductionOptions = {}) {
    super(options.reduction);
  }
  override forward(input: Tensor, target: Tensor): Tensor {
    return mseLoss(input, target, { reduction: this.reduction });
  }
}

export class L1Loss extends Loss {
  /** The printed name (kept through minification). */
  static readonly typeName = "L1Loss";

  constructor(options: ReductionOptions = {}) {
    super(options.reduction);
  }
  override forward(input: Tensor, target: Tensor): Tensor {
    return l1Loss(input, target, { reduction: this.reduction });
  }
}

export class SmoothL1Loss extends Loss {
  /** The printed name (kept through minification). */
  static readonly typeName = "SmoothL1Loss";

  readonly beta: number;
  constructor(options: SmoothL1Options = {}) {
    super(options.reduction);
    this.beta = checkBeta(this.typeName, options.beta ?? 1);
  }
  override forward(input: Tensor, target: Tensor): Tensor {
    return smoothL1Loss(input, target, { reduction: this.reduction, beta: this.beta });
  }
}

export class HuberLoss extends Loss {
  /** The printed name (kept through minification). */
  static readonly typeName = "HuberLoss";

  readonly delta: number;
  constructor(options: HuberOptions = {}) {
    super(options.reduction);
    this.delta = checkDelta(this.typeName, options.delta ?? 1);
  }
  override forward(input: Tensor, target: Tensor): Tensor {
    return huberLoss(input, target, { reduction: this.reduction, delta: this.delta });
  }
}

export class CrossEntropyLoss extends Loss {
  /** The printed name (kept through minification). */
  static readonly typeName = "CrossEntropyLoss";

  readonly weight: Tensor | null;
  readonly ignoreIndex: number;
  readonly labelSmoothing: number;
  constructor(options: CrossEntropyOptions = {}) {
    super(options.reduction);
    this.weight = options.weight ?? null;
    this.ignoreIndex = options.ignoreIndex ?? -100;
    this.labelSmoothing = options.labelSmoothing ?? 0;
    if (this.weight !== null) this.registerBuffer("weight", this.weight);
  }
  override forward(input: Tensor, target: Tensor | readonly number[] | number): Tensor {
    return crossEntropyLoss(input, target, {
      weight: this.weight,
      ignoreIndex: this.ignoreIndex,
      reduction: this.reduction,
      labelSmoothing: this.labelSmoothing,
    });
  }
}

export class BCEWithLogitsLoss extends Loss {
  /** The printed name (kept through minification). */
  static readonly typeName = "BCEWithLogitsLoss";

  readonly weight: Tensor | null;
  readonly posWeight: Tensor | null;
  constructor(options: BCEWithLogitsOptions = {}) {
    super(options.reduction);
    this.weight = options.weight ?? null;
    this.posWeight = options.posWeight ?? null;
    if (this.weight !== null) this.registerBuffer("weight", this.weight);
    if (this.posWeight !== null) this.registerBuffer("pos_weight", this.posWeight);
  }
  override forward(input: Tensor, target: Tensor): Tensor {
    return bceWithLogitsLoss(input, target, {
      weight: this.weight,
      posWeight: this.posWeight,
      reduction: this.reduction,
    });
  }
}
