// Sequence-model layers beside Linear: NLLLoss, LogSoftmax, Softmax, LayerNorm, Conv1d, as PyTorch's.
// Kernels live in kernels/seq.ts; core/custom.ts lifts them into the graph. On the webgpu device:
// core/device-nn.ts (layer norm, the gathers of nll and conv1d) and device ops composed here.

import { customOp } from "../core/custom.js";
import { pyFloatRepr } from "../core/format.js";
import { deviceConstant, mixedDevices } from "../core/device.js";
import { deviceGatherRowsAdd, deviceLayerNorm } from "../core/device-nn.js";
import { renameNode } from "../core/engine.js";
import * as ops from "../core/ops.js";
import { noGrad, shapeNumel, shapeStr, type Tensor } from "../core/tensor.js";
import {
  type Conv1dDims,
  conv1dBackward,
  conv1dForward,
  layerNormBackward,
  layerNormForward,
  nllBackward,
  nllForward,
} from "../kernels/seq.js";
import { type IndexLike, toIndices } from "./embedding.js";
import { Loss, type Reduction } from "./loss.js";
import { Module, Parameter, uniformParameter } from "./module.js";

// ---------------------------------------------------------------------------------------------
// NLLLoss

export interface NLLLossOptions {
  /** A weight per class, shape (C). */
  weight?: Tensor | null;
  /** Targets equal to this contribute nothing (default -100). */
  ignoreIndex?: number;
  reduction?: Reduction;
}

/**
 * Negative log likelihood of log-probabilities `input` — (C), (N, C) or (N, C, d1, …) — at class-index
 * `target`, shaped as the input without its class dimension. As `torch.nn.functional.nll_loss`.
 */
export function nllLoss(input: Tensor, target: IndexLike, options: NLLLossOptions = {}): Tensor {
  const reduction = options.reduction ?? "mean";
  if (reduction !== "mean" && reduction !== "sum" && reduction !== "none")
    throw new Error(`${reduction} is not a valid value for reduction`);
  const ignoreIndex = options.ignoreIndex ?? -100;
  if (input.ndim === 0) throw new Error("input tensor should be 1D or 2D");
  const batched = input.ndim > 1;
  const N = batched ? input.shape[0] : 1;
  const C = batched ? input.shape[1] : input.shape[0];
  const S = batched ? shapeNumel(input.shape.slice(2)) : 1;
  const colShape = batched ? [N, ...input.shape.slice(2)] : [];
  const { idx, shape: tShape } = toIndices(target, "nllLoss");
  if (batched && tShape[0] !== N) {
    throw new Error(`Expected input batch_size (${N}) to match target batch_size (${tShape[0]}).`);
  }
  if (tShape.length !== colShape.length || tShape.some((d, i) => d !== colShape[i])) {
    throw new Error(`expected target size ${shapeStr(colShape)}, got ${shapeStr(tShape)}`);
  }
  const weightT = options.weight ?? null;
  if (weightT !== null && (weightT.ndim !== 1 || weightT.shape[0] !== C)) {
    throw new Error(
      `weight tensor should be defined either for all ${C} classes or no classes but got weight tensor of shape: ${shapeStr(weightT.shape)}`,
    );
  }
  const t = new Int32Array(idx.length); // (N, S)
  for (let i = 0; i < idx.length; i++) {
    const v = idx[i];
    if (v === ignoreIndex) t[i] = -1;
    else if (v < 0 || v >= C) throw new Error(`Target ${v} is out of bounds.`);
    else t[i] = v;
  }
  if (input._gpu !== null || weightT?._gpu)
    return nllOnDevice(input, t, weightT, reduction, N, C, S, colShape);
  const weight = weightT === null ? null : weightT.data;
  const loss = new Float64Array(N * S); // (N, S)
  const total = nllForward(input.data, t, weight, loss, N, C, S);
  let out: Float32Array;
  if (reduction === "none") out = Float32Array.from(loss);
  else {
    let s = 0;
    for (let i = 0; i < loss.length; i++) s += loss[i];
    out = Float32Array.of(reduction === "mean" ? s / total : s);
  }
  return customOp(
    "NllLossBackward0",
    [input],
    [{ data: out, shape: reduction === "none" ? colShape : [] }],
    (g, d) => {
      const dx = d.add(0);
      if (dx === null) return;
      const g0 = g[0]!;
      const dloss =
        reduction === "none"
          ? Float64Array.from(g0)
          : new Float64Array(N * S).fill(reduction === "mean" ? g0[0] / total : g0[0]);
      nllBackward(t, weight, dloss, dx, N, C, S);
    },
  )[0];
}

/**
 * nllLoss on the webgpu device, composed of device ops: the log-probabilities at the targets gathered
 * (their gradient scattered back), times −weight, then summed (mean: divided by the summed weight of the
 * targets not ignored, as PyTorch). `t` (N·S) holds the targets, −1 where ignored.
 */
function nllOnDevice(
  input: Tensor, // (N, C, S)
  t: Int32Array, // (N, S)
  weightT: Tensor | null, // (C)
  reduction: Reduction,
  N: number,
  C: number,
  S: number,
  colShape: number[],
): Tensor {
  if (input._gpu === null) throw mixedDevices("cpu", "webgpu");
  if (weightT !== null && weightT._gpu === null) throw mixedDevices("webgpu", "cpu");
  const pick = new Int32Array(N * S); // (N, S) flat index of x[n, t, s], −1 where ignored
  for (let n = 0; n < N; n++) {
    for (let s = 0; s < S; s++) {
      const c = t[n * S + s];
      pick[n * S + s] = c < 0 ? -1 : (n * C + c) * S + s;
    }
  }
  const picked = deviceGatherRowsAdd(input, pick, 1, [N * S], "NllLossBackward0");
  // (N·S) each target's weight, 0 where ignored, its negation and its sum: constants of the loss
  const [negW, totalWeight] = noGrad(() => {
    const w =
      weightT === null
        ? deviceConstant(
            input,
            Float32Array.from(t, (c) => (c < 0 ? 0 : 1)),
            [N * S],
          )
        : deviceGatherRowsAdd(weightT, t, 1, [N * S], "IndexSelectBackward0");
    return [ops.neg(w), reduction === "mean" ? ops.sum(w) : null];
  });
  const loss = ops.mul(picked, negW);
  // composed of device ops, the loss is still PyTorch's one NllLossBackward0 node, as on the CPU
  if (reduction === "none") return renameNode(ops.reshape(loss, colShape), "NllLossBackward0");
  const total = ops.sum(loss);
  return renameNode(totalWeight === null ? total : ops.div(total, totalWeight), "NllLossBackward0");
}

/** `nn.NLLLoss`: nllLoss with options fixed at construction; its weight is a buffer. */
export class NLLLoss extends Loss {
  /** The printed name (kept through minification). */
  static readonly typeName = "NLLLoss";

  readonly weight: Tensor | null;
  readonly ignoreIndex: number;
  constructor(options: NLLLossOptions = {}) {
    super(options.reduction);
    this.weight = options.weight ?? null;
    this.ignoreIndex = options.ignoreIndex ?? -100;
    if (this.weight !== null) this.registerBuffer("weight", this.weight);
  }
  override forward(input: Tensor, target: IndexLike): Tensor {
    return nllLoss(input, target, {
      weight: this.weight,
      ignoreIndex: this.ignoreIndex,
      reduction: this.reduction,
    });
  }
}

// ---------------------------------------------------------------------------------------------
// LogSoftmax, Softmax

/** PyTorch's legacy choice of dimension when none is given: 0 for 0-, 1- and 3-D input, else 1. */
export function softmaxDim(ndim: number, dim: number | null | undefined): number {
  if (dim !== null && dim !== undefined) return dim;
  return ndim === 0 || ndim === 1 || ndim === 3 ? 0 : 1;
}

export class LogSoftmax extends Module {
  /** The printed name (kept through minification). */
  static readonly typeName = "LogSoftmax";
  constructor(readonly dim: number | null = null) {
    super();
  }
  forward(x: Tensor): Tensor {
    return ops.logSoftmax(x, softmaxDim(x.ndim, this.dim));
  }
  override extraRepr(): string {
    return `dim=${this.dim === null ? "None" : this.dim}`;
  }
}

export class Softmax extends Module {
  /** The printed name (kept through minification). */
  static readonly typeName = "Softmax";
  constructor(readonly dim: number | null = null) {
    super();
  }
  forward(x: Tensor): Tensor {
    return ops.softmax(x, softmaxDim(x.ndim, this.dim));
  }
  override extraRepr(): string {
    return `dim=${this.dim === null ? "None" : this.dim}`;
  }
}

// ---------------------------------------------------------------------------------------------
// LayerNorm

/** Normalizes over the trailing `normalizedShape` dimensions, then scales and shifts, as `F.layer_norm`. */
export function layerNorm(
  input: Tensor,
  normalizedShape: number | readonly number[],
  weight: Tensor | null = null,
  bias: Tensor | null = null,
  eps = 1e-5,
): Tensor {
  const ns = typeof normalizedShape === "number" ? [normalizedShape] : normalizedShape.slice();
  const k = ns.length;
  const fits = input.ndim >= k && ns.every((d, i) => input.shape[input.ndim - k + i] === d) && k > 0;
  if (!fits) {
    throw new Error(
      `Given normalized_shape=${shapeStr(ns)}, expected input with shape [*, ${ns.join(", ")}], but got input of size${shapeStr(input.shape)}`,
    );
  }
  for (const [name, p] of [
    ["weight", weight],
    ["bias", bias],
  ] as const) {
    if (p !== null && (p.ndim !== k || p.shape.some((d, i) => d !== ns[i]))) {
      throw new Error(
        `Expected ${name} to be of same shape as normalized_shape, but got ${name} of shape ${shapeStr(p.shape)} and normalized_shape = ${shapeStr(ns)}`,
      );
    }
  }
  const D = shapeNumel(ns);
  const M = D === 0 ? 0 : input.numel / D;
  if (input._gpu !== null || weight?._gpu || bias?._gpu) {
    if (input._gpu === null) throw mixedDevices("cpu", "webgpu");
    return deviceLayerNorm(input, weight, bias, M, D, eps);
  }
  const y = new Float32Array(input.numel); // (M, D)
  const mean = new Float64Array(M); // (M)
  const rstd = new Float64Array(M); // (M)
  layerNormForward(input.data, weight?.data ?? null, bias?.data ?? null, y, mean, rstd, M, D, eps);
  return customOp(
    "NativeLayerNormBackward0",
    [input, weight, bias],
    [{ data: y, shape: input.shape }],
    (g, d) => {
      layerNormBackward(
        input.data,
        weight?.data ?? null,
        mean,
        rstd,
        g[0]!,
        d.add(0),
        d.add(1),
        d.add(2),
        M,
        D,
      );
    },
  )[0];
}

function tupleRepr(v: readonly number[]): string {
  return v.length === 1 ? `(${v[0]},)` : `(${v.join(", ")})`;
}

export class LayerNorm extends Module {
  /** The printed name (kept through minification). */
  static readonly typeName = "LayerNorm";

  readonly normalizedShape: number[];
  readonly eps: number;
  readonly elementwiseAffine: boolean;
  weight: Parameter | null;
  bias: Parameter | null;

  constructor(
    normalizedShape: number | readonly number[],
    options: { eps?: number; elementwiseAffine?: boolean } = {},
  ) {
    super();
    this.normalizedShape = typeof normalizedShape === "number" ? [normalizedShape] : normalizedShape.slice();
    this.eps = options.eps ?? 1e-5;
    this.elementwiseAffine = options.elementwiseAffine ?? true;
    const n = shapeNumel(this.normalizedShape);
    this.weight = this.elementwiseAffine
      ? new Parameter(new Float32Array(n).fill(1), this.normalizedShape)
      : null;
    this.bias = this.elementwiseAffine ? new Parameter(new Float32Array(n), this.normalizedShape) : null;
  }

  forward(x: Tensor): Tensor {
    return layerNorm(x, this.normalizedShape, this.weight, this.bias, this.eps);
  }

  override extraRepr(): string {
    return `${tupleRepr(this.normalizedShape)}, eps=${pyFloatRepr(this.eps)}, elementwise_affine=${this.elementwiseAffine ? "True" : "False"}`;
  }
}

// ---------------------------------------------------------------------------------------------
// Conv1d

export type Conv1dPadding = number | "valid" | "same";

export interface Conv1dFnOptions {
  stride?: number;
  padding?: Conv1dPadding;
  dilation?: number;
  groups?: number;
}

/** A 1-D convolution (cross-correlation) of input (B, Ci, L) or (Ci, L) with weight (Co, Ci/groups, K), as `F.conv1d`. */
export function conv1d(
  input: Tensor,
  weight: Tensor,
  bias: Tensor | null = null,
  options: Conv1dFnOptions = {},
): Tensor {
  const stride = options.stride ?? 1;
  const dilation = options.dilation ?? 1;
  const G = options.groups ?? 1;
  const padding = options.padding ?? 0;
  if (input.ndim !== 2 && input.ndim !== 3) {
    throw new Error(
      `Expected 2D (unbatched) or 3D (batched) input to conv1d, but got input of size: ${shapeStr(input.shape)}`,
    );
  }
  if (weight.ndim !== 3)
    throw new Error(`conv1d: expected a 3-D weight (out, in/groups, k), got ${shapeStr(weight.shape)}`);
  const unbatched = input.ndim === 2;
  const B = unbatched ? 1 : input.shape[0];
  const Ci = input.shape[input.ndim - 2];
  const L = input.shape[input.ndim - 1];
  const [Co, cpg, K] = weight.shape;
  if (cpg * G !== Ci) {
    const full = unbatched ? [1, Ci, L] : input.shape;
    throw new Error(
      `Given groups=${G}, weight of size ${shapeStr(weight.shape)}, expected input${shapeStr(full)} to have ${cpg * G} channels, but got ${Ci} channels instead`,
    );
  }
  if (padding === "same" && stride !== 1)
    throw new Error("padding='same' is not supported for strided convolutions");
  let padLeft: number;
  let padTotal: number;
  if (padding === "valid") {
    padLeft = 0;
    padTotal = 0;
  } else if (padding === "same") {
    padTotal = dilation * (K - 1);
    padLeft = Math.floor(padTotal / 2);
  } else {
    padLeft = padding;
    padTotal = 2 * padding;
  }
  const Lo = Math.floor((L + padTotal - dilation * (K - 1) - 1) / stride) + 1;
  if (Lo <= 0) {
    throw new Error(
      `Calculated padded input size per channel: (${L + padTotal}). Kernel size: (${dilation * (K - 1) + 1}). Kernel size can't be greater than actual input size`,
    );
  }
  const dims: Conv1dDims = { B, Ci, Co, K, L, Lo, G, stride, padLeft, dilation };
  if (input._gpu !== null || weight._gpu !== null || bias?._gpu)
    return conv1dOnDevice(dims, input, weight, bias);
  const y = new Float32Array(B * Co * Lo); // (B, Co, Lo)
  conv1dForward(dims, input.data, weight.data, bias?.data ?? null, y);
  const shape = unbatched ? [Co, Lo] : [B, Co, Lo];
  const inputs = [input, weight, bias];
  return customOp("ConvolutionBackward0", inputs, [{ data: y, shape }], (g, d) => {
    conv1dBackward(dims, input.data, weight.data, g[0]!, d.add(0), d.add(1), d.add(2));
  })[0];
}

/**
 * conv1d on the webgpu device, composed of device ops: the input's windows gathered per group into
 * columns (im2col, zeros for the padding; the gradient scattered back), one batched product with the
 * weight per group, the result permuted to (B, Co, Lo), plus the bias.
 */
function conv1dOnDevice(d: Conv1dDims, input: Tensor, weight: Tensor, bias: Tensor | null): Tensor {
  if (input._gpu === null) throw mixedDevices("cpu", "webgpu");
  const { B, Ci, Co, K, L, Lo, G, stride, padLeft, dilation } = d;
  const cpg = Ci / G;
  const opg = Co / G;
  const idx = new Int32Array(G * B * Lo * cpg * K); // (G, B·Lo, cpg·K) flat index into x, −1 for padding
  let q = 0;
  for (let g = 0; g < G; g++) {
    for (let b = 0; b < B; b++) {
      for (let t = 0; t < Lo; t++) {
        for (let c = 0; c < cpg; c++) {
          const xo = (b * Ci + g * cpg + c) * L;
          for (let k = 0; k < K; k++) {
            const i = t * stride - padLeft + k * dilation;
            idx[q++] = i >= 0 && i < L ? xo + i : -1;
          }
        }
      }
    }
  }
  const cols = deviceGatherRowsAdd(input, idx, 1, [G, B * Lo, cpg * K], "Im2ColBackward0");
  const w = ops.transpose(ops.reshape(weight, [G, opg, cpg * K]), 1, 2); // (G, cpg·K, opg)
  const yg = ops.reshape(ops.matmul(cols, w), [G, B, Lo, opg]);
  let y = ops.reshape(ops.permute(yg, [1, 0, 3, 2]), [B, Co, Lo]);
  if (bias !== null) y = ops.add(y, ops.reshape(bias, [Co, 1]));
  return input.ndim === 2 ? ops.reshape(y, [Co, Lo]) : y;
}

export interface Conv1dOptions extends Conv1dFnOptions {
  bias?: boolean;
  /** Only "zeros" is supported. */
  paddingMode?: "zeros";
}

/** `nn.Conv1d`: weight (out, in/groups, k) and bias (out), both U(±1/sqrt(in/groups·k)) as PyTorch draws them. */
export class Conv1d extends Module {
  /** The printed name (kept through minification). */
  static readonly typeName = "Conv1d";

  readonly inChannels: number;
  readonly outChannels: number;
  readonly kernelSize: number;
  readonly stride: number;
  readonly padding: Conv1dPadding;
  readonly dilation: number;
  readonly groups: number;
  weight: Parameter;
  bias: Parameter | null;

  constructor(inChannels: number, outChannels: number, kernelSize: number, options: Conv1dOptions = {}) {
    super();
    this.inChannels = inChannels;
    this.outChannels = outChannels;
    this.kernelSize = kernelSize;
    this.stride = options.stride ?? 1;
    this.padding = options.padding ?? 0;
    this.dilation = options.dilation ?? 1;
    this.groups = options.groups ?? 1;
    if (!Number.isInteger(this.groups) || this.groups <= 0)
      throw new Error("groups must be a positive integer");
    if (inChannels % this.groups !== 0) throw new Error("in_channels must be divisible by groups");
    if (outChannels % this.groups !== 0) throw new Error("out_channels must be divisible by groups");
    if (typeof this.padding === "string" && this.padding !== "valid" && this.padding !== "same") {
      throw new Error(`Invalid padding string '${this.padding}', should be one of {'valid', 'same'}`);
    }
    if (this.padding === "same" && this.stride !== 1) {
      throw new Error("padding='same' is not supported for strided convolutions");
    }
    if ((options.paddingMode ?? "zeros") !== "zeros") {
      throw new Error(`Conv1d: padding_mode '${options.paddingMode}' is not supported (only 'zeros')`);
    }
    // reset_parameters: kaiming_uniform_(a=sqrt(5)) then U(±1/sqrt(fan_in)), fan_in = in/groups · k
    const fanIn = (inChannels / this.groups) * kernelSize;
    const wBound = fanIn > 0 ? Math.sqrt(3) * (Math.sqrt(2 / (1 + 5)) / Math.sqrt(fanIn)) : 0;
    this.weight = uniformParameter([outChannels, inChannels / this.groups, kernelSize], wBound);
    this.bias =
      (options.bias ?? true) ? uniformParameter([outChannels], fanIn > 0 ? 1 / Math.sqrt(fanIn) : 0) : null;
  }

  forward(x: Tensor): Tensor {
    return conv1d(x, this.weight, this.bias, {
      stride: this.stride,
      padding: this.padding,
      dilation: this.dilation,
      groups: this.groups,
    });
  }

  override extraRepr(): string {
    let s = `${this.inChannels}, ${this.outChannels}, kernel_size=(${this.kernelSize},), stride=(${this.stride},)`;
    if (typeof this.padding === "string") s += `, padding=${this.padding}`;
    else if (this.padding !== 0) s += `, padding=(${this.padding},)`;
    if (this.dilation !== 1) s += `, dilation=(${this.dilation},)`;
    if (this.groups !== 1) s += `, groups=${this.groups}`;
    if (this.bias === null) s += ", bias=False";
    return s;
  }
}
