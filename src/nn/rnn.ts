// Recurrent layers as PyTorch's torch.nn.modules.rnn: one RNNBase serves RNN, LSTM and GRU through a
// mode and a gate-count table; parameter names come from one format (`weight_ih_l{k}{_reverse}`), which
// is the checkpoint contract. Each layer-direction runs as one autograd node over the whole sequence
// (rnn_fused.ts); `unrolledLayer` below is its slow twin made of generic ops, kept as a test witness.
//
// Legend: T = time, B = batch, I = input, H = hidden, P = proj (H_out = P or H), G = gates·H, L = layers,
// D = directions.

import { deviceZeros } from "../core/device.js";
import { pyFloatRepr } from "../core/format.js";
import * as F from "../core/ops.js";
import { noGrad, shapeStr, Tensor } from "../core/tensor.js";
import { dropout as dropoutFn } from "./linear.js";
import { checkAllocation, MAX_LAYERS } from "../core/limits.js";
import { checkTensorArg } from "./args.js";
import { Module, type Parameter, uniformParameter } from "./module.js";
import { indexSelect1, PackedSequence } from "./packed.js";
import { fusedLayer } from "./rnn_fused.js";
import { runOnWebGPU, webgpuLayer } from "./rnn_webgpu.js";

export type RNNMode = "RNN_TANH" | "RNN_RELU" | "LSTM" | "GRU";

/** Gates per mode: the rows of W_ih and W_hh are G·H. */
export const GATES: Record<RNNMode, number> = { RNN_TANH: 1, RNN_RELU: 1, LSTM: 4, GRU: 3 };

/** One layer in one direction over a packed sequence: what a runner needs. */
export interface LayerArgs {
  mode: RNNMode;
  x: Tensor; // (N, I) packed rows, N = sum(batchSizes)
  batchSizes: Int32Array; // (T)
  /** Every step has the whole batch (padded input): batchSizes is all B. */
  full?: boolean;
  h0: Tensor; // (B, H_out)
  c0: Tensor | null; // (B, H) for LSTM
  wIh: Tensor; // (G, I)
  wHh: Tensor; // (G, H_out)
  bIh: Tensor | null; // (G)
  bHh: Tensor | null; // (G)
  wHr: Tensor | null; // (P, H)
  reverse: boolean;
}

export interface LayerResult {
  y: Tensor; // (N, H_out)
  hN: Tensor; // (B, H_out)
  cN: Tensor | null; // (B, H)
}

export type LayerRunner = (args: LayerArgs) => LayerResult;

/** One step of the cell math on generic ops: the unrolled twin of the fused kernels. */
export function cellStep(
  mode: RNNMode,
  x: Tensor, // (B, I)
  h: Tensor, // (B, H_out)
  c: Tensor | null, // (B, H)
  wIh: Tensor,
  wHh: Tensor,
  bIh: Tensor | null,
  bHh: Tensor | null,
  wHr: Tensor | null,
): [Tensor, Tensor | null] {
  const gi = F.linear(x, wIh, bIh);
  const gh = F.linear(h, wHh, bHh);
  switch (mode) {
    case "RNN_TANH":
      return [F.tanh(F.add(gi, gh)), null];
    case "RNN_RELU":
      return [F.relu(F.add(gi, gh)), null];
    case "LSTM": {
      const [ii, ff, gg, oo] = F.chunk(F.add(gi, gh), 4, 1);
      const cNew = F.add(F.mul(F.sigmoid(ff), c!), F.mul(F.sigmoid(ii), F.tanh(gg)));
      let hNew = F.mul(F.sigmoid(oo), F.tanh(cNew));
      if (wHr) hNew = F.linear(hNew, wHr);
      return [hNew, cNew];
    }
    case "GRU": {
      const [ir, iz, inn] = F.chunk(gi, 3, 1);
      const [hr, hz, hn] = F.chunk(gh, 3, 1);
      const r = F.sigmoid(F.add(ir, hr));
      const z = F.sigmoid(F.add(iz, hz));
      const n = F.tanh(F.add(inn, F.mul(r, hn)));
      // h' = (1 - z) * n + z * h = n + z * (h - n)
      return [F.add(n, F.mul(z, F.sub(h, n))), null];
    }
  }
}

/** The slow twin: a layer-direction unrolled from generic ops, one step at a time. */
export const unrolledLayer: LayerRunner = (a) => {
  const T = a.batchSizes.length;
  const offsets = new Int32Array(T + 1);
  for (let t = 0; t < T; t++) offsets[t + 1] = offsets[t] + a.batchSizes[t];
  const B = a.h0.shape[0];
  let h = a.h0;
  let c = a.c0;
  const ys: Tensor[] = new Array(T);
  for (let k = 0; k < T; k++) {
    const t = a.reverse ? T - 1 - k : k;
    const bs = a.batchSizes[t];
    const xt = F.narrow(a.x, 0, offsets[t], bs);
    const hPrev = bs === B ? h : F.narrow(h, 0, 0, bs);
    const cPrev = c === null ? null : bs === B ? c : F.narrow(c, 0, 0, bs);
    const [hNew, cNew] = cellStep(a.mode, xt, hPrev, cPrev, a.wIh, a.wHh, a.bIh, a.bHh, a.wHr);
    ys[t] = hNew;
    h = bs === B ? hNew : F.cat([hNew, F.narrow(h, 0, bs, B - bs)], 0);
    if (c !== null && cNew !== null) c = bs === B ? cNew : F.cat([cNew, F.narrow(c, 0, bs, B - bs)], 0);
  }
  const y = T > 0 ? F.cat(ys, 0) : new Tensor(new Float32Array(0), [0, a.h0.shape[1]]);
  return { y, hN: h, cN: c };
};

export interface RNNOptions {
  numLayers?: number;
  nonlinearity?: "tanh" | "relu";
  bias?: boolean;
  batchFirst?: boolean;
  dropout?: number;
  bidirectional?: boolean;
  projSize?: number;
}

type State = Tensor | [Tensor, Tensor];

/** Shared base of RNN, LSTM and GRU. */
export abstract class RNNBase extends Module {
  readonly mode: RNNMode;
  readonly inputSize: number;
  readonly hiddenSize: number;
  readonly numLayers: number;
  readonly bias: boolean;
  readonly batchFirst: boolean;
  readonly dropout: number;
  readonly bidirectional: boolean;
  readonly projSize: number;
  /** The runner for one layer-direction; the fused kernels by default, `unrolledLayer` as the twin. */
  runner: LayerRunner = fusedLayer;

  constructor(mode: RNNMode, inputSize: number, hiddenSize: number, options: RNNOptions = {}) {
    super();
    const numLayers = options.numLayers ?? 1;
    const dropout = options.dropout ?? 0;
    const projSize = options.projSize ?? 0;
    for (const [name, v, min] of [
      ["input_size", inputSize, 0],
      ["hidden_size", hiddenSize, 1],
      ["num_layers", numLayers, 1],
    ] as const) {
      if (!Number.isInteger(v) || v < min) {
        throw new Error(`${name} must be an integer of at least ${min}, got ${v}`);
      }
    }
    if (typeof dropout !== "number" || !(dropout >= 0 && dropout <= 1)) {
      throw new Error(
        `dropout should be a number in range [0, 1] representing the probability of an element being zeroed, got ${dropout}`,
      );
    }
    if (dropout > 0 && numLayers === 1) {
      console.warn(
        `dropout option adds dropout after all but last recurrent layer, so non-zero dropout expects num_layers greater than 1, but got dropout=${dropout} and num_layers=${numLayers}`,
      );
    }
    if (!Number.isInteger(projSize) || projSize < 0) {
      throw new Error(
        `proj_size should be a positive integer or zero to disable projections, got ${projSize}`,
      );
    }
    if (projSize >= hiddenSize)
      throw new Error(
        `proj_size has to be smaller than hidden_size (got proj_size=${projSize}, hidden_size=${hiddenSize})`,
      );
    if (projSize > 0 && mode !== "LSTM")
      throw new Error("proj_size argument is only supported for LSTM, not RNN or GRU");
    // sizes that cannot be allocated are refused before any layer is built (PyTorch has no such bound)
    const typeName = mode === "LSTM" ? "LSTM" : mode === "GRU" ? "GRU" : "RNN";
    const what = `${typeName}(${inputSize}, ${hiddenSize}, num_layers=${numLayers})`;
    if (numLayers > MAX_LAYERS) {
      throw new Error(
        `${what}: num_layers = ${numLayers} is more than the ${MAX_LAYERS} stacked layers one module may have here`,
      );
    }
    {
      const G = GATES[mode] * hiddenSize;
      const hOut = projSize > 0 ? projSize : hiddenSize;
      const D = options.bidirectional ? 2 : 1;
      const perDir = (inp: number) =>
        G * (inp + hOut) + ((options.bias ?? true) ? 2 * G : 0) + projSize * hiddenSize;
      checkAllocation(
        D * (perDir(inputSize) + (numLayers > 1 ? (numLayers - 1) * perDir(hOut * D) : 0)),
        what,
      );
    }
    this.mode = mode;
    this.inputSize = inputSize;
    this.hiddenSize = hiddenSize;
    this.numLayers = numLayers;
    this.bias = options.bias ?? true;
    this.batchFirst = options.batchFirst ?? false;
    this.dropout = dropout;
    this.bidirectional = options.bidirectional ?? false;
    this.projSize = projSize;
    const G = GATES[mode] * hiddenSize;
    const hOut = projSize > 0 ? projSize : hiddenSize;
    const D = this.bidirectional ? 2 : 1;
    const bound = 1 / Math.sqrt(hiddenSize);
    const self = this as unknown as Record<string, Parameter>;
    // PyTorch's order: per layer, per direction: w_ih, w_hh, b_ih, b_hh, w_hr.
    for (let l = 0; l < numLayers; l++) {
      const layerIn = l === 0 ? inputSize : hOut * D;
      for (let d = 0; d < D; d++) {
        const sfx = `_l${l}${d === 1 ? "_reverse" : ""}`;
        self[`weight_ih${sfx}`] = uniformParameter([G, layerIn], bound);
        self[`weight_hh${sfx}`] = uniformParameter([G, hOut], bound);
        if (this.bias) {
          self[`bias_ih${sfx}`] = uniformParameter([G], bound);
          self[`bias_hh${sfx}`] = uniformParameter([G], bound);
        }
        if (projSize > 0) self[`weight_hr${sfx}`] = uniformParameter([projSize, hiddenSize], bound);
      }
    }
  }

  /** H_out: the size of h (the projection size when there is one). */
  get outputHiddenSize(): number {
    return this.projSize > 0 ? this.projSize : this.hiddenSize;
  }

  get numDirections(): number {
    return this.bidirectional ? 2 : 1;
  }

  /** The parameters' names of each layer-direction (index l·D + d), built once. */
  private weightKeys: { wIh: string; wHh: string; bIh: string; bHh: string; wHr: string }[] | null = null;
  /** The batch sizes of the last padded input, reused while T and B stay the same. */
  private fullSizes: Int32Array | null = null;

  /** The parameters of one layer-direction, by role. */
  layerWeights(layer: number, reverse: boolean) {
    if (this.weightKeys === null) {
      this.weightKeys = [];
      for (let l = 0; l < this.numLayers; l++) {
        for (let d = 0; d < this.numDirections; d++) {
          const sfx = `_l${l}${d === 1 ? "_reverse" : ""}`;
          this.weightKeys.push({
            wIh: `weight_ih${sfx}`,
            wHh: `weight_hh${sfx}`,
            bIh: `bias_ih${sfx}`,
            bHh: `bias_hh${sfx}`,
            wHr: `weight_hr${sfx}`,
          });
        }
      }
    }
    const k = this.weightKeys[layer * this.numDirections + (reverse ? 1 : 0)];
    const self = this as unknown as Record<string, Parameter | undefined>;
    return {
      wIh: self[k.wIh]!,
      wHh: self[k.wHh]!,
      bIh: self[k.bIh] ?? null,
      bHh: self[k.bHh] ?? null,
      wHr: self[k.wHr] ?? null,
    };
  }

  override extraRepr(): string {
    let s = `${this.inputSize}, ${this.hiddenSize}`;
    if (this.projSize !== 0) s += `, proj_size=${this.projSize}`;
    if (this.numLayers !== 1) s += `, num_layers=${this.numLayers}`;
    if (!this.bias) s += ", bias=False";
    if (this.batchFirst) s += ", batch_first=True";
    if (this.dropout !== 0) s += `, dropout=${pyFloatRepr(this.dropout)}`;
    if (this.bidirectional) s += ", bidirectional=True";
    return s;
  }

  private checkHidden(h: Tensor, expected: number[], what: string): void {
    if (h.shape.length !== expected.length || h.shape.some((d, i) => d !== expected[i])) {
      throw new Error(`Expected ${what} size (${expected.join(", ")}), got ${shapeStr(h.shape)}`);
    }
  }

  /** Runs the layers over a padded (3-D or unbatched 2-D) input or a PackedSequence. */
  protected run(
    input: Tensor | PackedSequence,
    hx: State | null | undefined,
  ): [Tensor | PackedSequence, State] {
    checkTensorArg(input, `${this.constructor.name}.forward`, "input", 1, true);
    if ((input instanceof PackedSequence ? input.data : input).device === "webgpu") {
      return runOnWebGPU(this, input, hx);
    }
    const isLstm = this.mode === "LSTM";
    const name = this.mode === "LSTM" ? "LSTM" : this.mode === "GRU" ? "GRU" : "RNN";
    const L = this.numLayers;
    const D = this.numDirections;
    const H = this.hiddenSize;
    const hOut = this.outputHiddenSize;
    let x: Tensor; // (N, I) packed rows
    let batchSizes: Int32Array;
    let B: number;
    let T: number;
    let unbatched = false;
    const packed = input instanceof PackedSequence ? input : null;
    if (packed) {
      x = packed.data;
      batchSizes = packed.batchSizes;
      T = batchSizes.length;
      B = T > 0 ? batchSizes[0] : 0;
      if (x.ndim !== 2)
        throw new Error(
          `${name}: packed input data must be 2-D (N, ${this.inputSize}), got ${shapeStr(x.shape)}`,
        );
    } else {
      input = input as Tensor;
      if (input.ndim !== 2 && input.ndim !== 3) {
        throw new Error(
          `${name}: Expected input to be 2-D or 3-D but received ${input.ndim}-D tensor of shape ${shapeStr(input.shape)}`,
        );
      }
      unbatched = input.ndim === 2;
      let seq = unbatched ? F.unsqueeze(input, 1) : input; // (T, B, I) or (B, T, I)
      if (this.batchFirst && !unbatched) seq = F.transpose(seq, 0, 1);
      T = seq.shape[0];
      B = seq.shape[1];
      if (T === 0) throw new Error(`${name}: Expected sequence length to be larger than 0 in RNN`);
      const fs = this.fullSizes;
      batchSizes =
        fs !== null && fs.length === T && (T === 0 || fs[0] === B) ? fs : new Int32Array(T).fill(B);
      this.fullSizes = batchSizes;
      x = F.reshape(seq, [T * B, seq.shape[2]]);
    }
    const inSize = x.shape[x.ndim - 1];
    if (inSize !== this.inputSize) {
      throw new Error(
        `input.size(-1) must be equal to input_size. Expected ${this.inputSize}, got ${inSize}`,
      );
    }
    // initial states (L·D, B, H_out) and (L·D, B, H)
    let h0: Tensor;
    let c0: Tensor | null = null;
    if (hx === null || hx === undefined) {
      h0 = new Tensor(new Float32Array(L * D * B * hOut), [L * D, B, hOut]);
      if (isLstm) c0 = new Tensor(new Float32Array(L * D * B * H), [L * D, B, H]);
    } else {
      if (isLstm && !Array.isArray(hx)) throw new Error("LSTM: expected hx to be a pair [h0, c0]");
      if (!isLstm && Array.isArray(hx)) throw new Error(`${name}: expected hx to be a tensor, got a pair`);
      let h = Array.isArray(hx) ? hx[0] : (hx as Tensor);
      let c = Array.isArray(hx) ? hx[1] : null;
      const want = unbatched ? 2 : 3;
      if (c && (h.ndim !== want || c.ndim !== want)) {
        throw new Error(
          `For ${unbatched ? "unbatched 2-D" : "batched 3-D"} input, hx and cx should also be ${want}-D but got (${h.ndim}-D, ${c.ndim}-D) tensors`,
        );
      }
      for (const s of c ? [h, c] : [h]) {
        if (s.ndim !== want) {
          throw new Error(
            unbatched
              ? `For unbatched 2-D input, hx should also be 2-D but got ${s.ndim}-D tensor`
              : `For batched 3-D input, hx should also be 3-D but got ${s.ndim}-D tensor`,
          );
        }
      }
      if (unbatched) {
        h = F.unsqueeze(h, 1);
        if (c) c = F.unsqueeze(c, 1);
      }
      this.checkHidden(h, [L * D, B, hOut], isLstm ? "hidden[0]" : "hidden");
      if (c) this.checkHidden(c, [L * D, B, H], "hidden[1]");
      if (packed?.sortedIndices) {
        h = indexSelect1(h, packed.sortedIndices);
        if (c) c = indexSelect1(c, packed.sortedIndices);
      }
      h0 = h;
      c0 = c;
    }
    const hNs: Tensor[] = [];
    const cNs: Tensor[] = [];
    let layerIn = x;
    for (let l = 0; l < L; l++) {
      const outs: Tensor[] = [];
      for (let d = 0; d < D; d++) {
        const idx = l * D + d;
        const r = this.runner({
          mode: this.mode,
          x: layerIn,
          batchSizes,
          full: packed === null,
          // one layer-direction: a view of the whole state, no copy
          h0: L * D === 1 ? F.reshape(h0, [B, hOut]) : F.select(h0, 0, idx),
          c0: c0 === null ? null : L * D === 1 ? F.reshape(c0, [B, H]) : F.select(c0, 0, idx),
          ...this.layerWeights(l, d === 1),
          reverse: d === 1,
        });
        outs.push(r.y);
        hNs.push(r.hN);
        if (r.cN) cNs.push(r.cN);
      }
      layerIn = D === 1 ? outs[0] : F.cat(outs, 1);
      if (this.dropout > 0 && this.training && l < L - 1) layerIn = dropoutFn(layerIn, this.dropout, true);
    }
    let hN = hNs.length === 1 ? F.unsqueeze(hNs[0], 0) : F.stack(hNs, 0); // (L·D, B, H_out)
    let cN = isLstm ? (cNs.length === 1 ? F.unsqueeze(cNs[0], 0) : F.stack(cNs, 0)) : null;
    if (packed?.unsortedIndices) {
      hN = indexSelect1(hN, packed.unsortedIndices);
      if (cN) cN = indexSelect1(cN, packed.unsortedIndices);
    }
    let output: Tensor | PackedSequence;
    if (packed) output = packed.withData(layerIn);
    else {
      let y = F.reshape(layerIn, [T, B, D * hOut]);
      if (unbatched) y = F.squeeze(y, 1);
      else if (this.batchFirst) y = F.transpose(y, 0, 1);
      output = y;
    }
    if (unbatched) {
      hN = F.squeeze(hN, 1);
      if (cN) cN = F.squeeze(cN, 1);
    }
    return [output, cN ? [hN, cN] : hN];
  }

  /** Runs without recording a graph (inference). */
  predict(input: Tensor, hx?: State | null): [Tensor | PackedSequence, State] {
    return noGrad(() => this.run(input, hx));
  }
}

/** Elman RNN: h' = tanh(W_ih x + b_ih + W_hh h + b_hh) (or relu). */
export class RNN extends RNNBase {
  /** The printed name (kept through minification). */
  static readonly typeName = "RNN";

  readonly nonlinearity: "tanh" | "relu";

  constructor(inputSize: number, hiddenSize: number, options: RNNOptions = {}) {
    const nl = options.nonlinearity ?? "tanh";
    if (nl !== "tanh" && nl !== "relu")
      throw new Error(`Unknown nonlinearity '${nl}'. Select from 'tanh' or 'relu'.`);
    // PyTorch refuses the keyword itself, even proj_size=0
    if (options.projSize !== undefined)
      throw new Error("proj_size argument is only supported for LSTM, not RNN or GRU");
    super(nl === "tanh" ? "RNN_TANH" : "RNN_RELU", inputSize, hiddenSize, options);
    this.nonlinearity = nl;
  }

  forward(input: Tensor, h0?: Tensor | null): [Tensor, Tensor];
  forward(input: PackedSequence, h0?: Tensor | null): [PackedSequence, Tensor];
  forward(input: Tensor | PackedSequence, h0?: Tensor | null): [Tensor | PackedSequence, Tensor] {
    const [out, h] = this.run(input, h0);
    return [out, h as Tensor];
  }
}

/** LSTM with PyTorch's gate order i, f, g, o, and optional projection (projSize). */
export class LSTM extends RNNBase {
  /** The printed name (kept through minification). */
  static readonly typeName = "LSTM";

  constructor(inputSize: number, hiddenSize: number, options: Omit<RNNOptions, "nonlinearity"> = {}) {
    super("LSTM", inputSize, hiddenSize, options);
  }

  forward(input: Tensor, hx?: [Tensor, Tensor] | null): [Tensor, [Tensor, Tensor]];
  forward(input: PackedSequence, hx?: [Tensor, Tensor] | null): [PackedSequence, [Tensor, Tensor]];
  forward(
    input: Tensor | PackedSequence,
    hx?: [Tensor, Tensor] | null,
  ): [Tensor | PackedSequence, [Tensor, Tensor]] {
    const [out, s] = this.run(input, hx);
    return [out, s as [Tensor, Tensor]];
  }
}

/** GRU with PyTorch's gate order r, z, n (b_hn inside the reset product). */
export class GRU extends RNNBase {
  /** The printed name (kept through minification). */
  static readonly typeName = "GRU";

  constructor(inputSize: number, hiddenSize: number, options: Omit<RNNOptions, "nonlinearity"> = {}) {
    // PyTorch refuses the keyword itself, even proj_size=0
    if (options.projSize !== undefined)
      throw new Error("proj_size argument is only supported for LSTM, not RNN or GRU");
    super("GRU", inputSize, hiddenSize, options);
  }

  forward(input: Tensor, h0?: Tensor | null): [Tensor, Tensor];
  forward(input: PackedSequence, h0?: Tensor | null): [PackedSequence, Tensor];
  forward(input: Tensor | PackedSequence, h0?: Tensor | null): [Tensor | PackedSequence, Tensor] {
    const [out, h] = this.run(input, h0);
    return [out, h as Tensor];
  }
}

// ---------------------------------------------------------------- cells

/** Shared base of RNNCell, LSTMCell and GRUCell: one step, one autograd node per call. */
export abstract class RNNCellBase extends Module {
  readonly inputSize: number;
  readonly hiddenSize: number;
  readonly bias: boolean;
  weight_ih: Parameter;
  weight_hh: Parameter;
  bias_ih: Parameter | null = null;
  bias_hh: Parameter | null = null;
  /** Runs the cell as the fused kernel (default) or unrolled from generic ops (`false`, the twin). */
  fused = true;

  constructor(
    protected readonly mode: RNNMode,
    inputSize: number,
    hiddenSize: number,
    bias: boolean,
  ) {
    super();
    for (const [name, v, min] of [
      ["input_size", inputSize, 0],
      ["hidden_size", hiddenSize, 1],
    ] as const) {
      if (!Number.isInteger(v) || v < min)
        throw new Error(`${name} must be an integer of at least ${min}, got ${v}`);
    }
    const G0 = GATES[mode] * hiddenSize;
    checkAllocation(
      G0 * (inputSize + hiddenSize + (bias ? 2 : 0)),
      `${this.constructor.name}(${inputSize}, ${hiddenSize})`,
    );
    this.inputSize = inputSize;
    this.hiddenSize = hiddenSize;
    this.bias = bias;
    const G = GATES[mode] * hiddenSize;
    const bound = 1 / Math.sqrt(hiddenSize);
    this.weight_ih = uniformParameter([G, inputSize], bound);
    this.weight_hh = uniformParameter([G, hiddenSize], bound);
    if (bias) {
      this.bias_ih = uniformParameter([G], bound);
      this.bias_hh = uniformParameter([G], bound);
    }
  }

  override extraRepr(): string {
    let s = `${this.inputSize}, ${this.hiddenSize}`;
    if (!this.bias) s += ", bias=False";
    const nl = (this as unknown as { nonlinearity?: string }).nonlinearity;
    if (nl !== undefined && nl !== "tanh") s += `, nonlinearity=${nl}`;
    return s;
  }

  protected get name(): string {
    return this.typeName;
  }

  /** Validates (B, I) / (I) input and states; returns batched views and whether input was 1-D. */
  protected prepare(
    x: Tensor,
    states: (Tensor | null)[],
  ): { x: Tensor; states: Tensor[]; unbatched: boolean } {
    checkTensorArg(x, `${this.name}.forward`, "input", 1);
    if (x.ndim !== 1 && x.ndim !== 2) {
      throw new Error(
        `${this.name}: Expected input to be 1-D or 2-D but received ${x.ndim}-D tensor of shape ${shapeStr(x.shape)}`,
      );
    }
    const unbatched = x.ndim === 1;
    const xb = unbatched ? F.unsqueeze(x, 0) : x;
    if (xb.shape[1] !== this.inputSize) {
      throw new Error(`input has inconsistent input_size: got ${xb.shape[1]} expected ${this.inputSize}`);
    }
    const B = xb.shape[0];
    const out: Tensor[] = [];
    states.forEach((s, k) => {
      if (s === null) {
        out.push(
          xb._gpu !== null
            ? deviceZeros(xb, [B, this.hiddenSize])
            : new Tensor(new Float32Array(B * this.hiddenSize), [B, this.hiddenSize]),
        );
        return;
      }
      if (s.ndim !== x.ndim) {
        throw new Error(
          `${this.name}: Expected hidden state to be ${x.ndim}-D for ${x.ndim}-D input, got ${s.ndim}-D tensor of shape ${shapeStr(s.shape)}`,
        );
      }
      const sb = unbatched ? F.unsqueeze(s, 0) : s;
      if (sb.shape[0] !== B)
        throw new Error(`Input batch size ${B} doesn't match hidden${k} batch size ${sb.shape[0]}`);
      if (sb.shape[1] !== this.hiddenSize) {
        throw new Error(
          `hidden${k} has inconsistent hidden_size: got ${sb.shape[1]}, expected ${this.hiddenSize}`,
        );
      }
      out.push(sb);
    });
    return { x: xb, states: out, unbatched };
  }

  protected step(x: Tensor, h: Tensor, c: Tensor | null): [Tensor, Tensor | null] {
    const w = {
      wIh: this.weight_ih,
      wHh: this.weight_hh,
      bIh: this.bias_ih ?? null,
      bHh: this.bias_hh ?? null,
    };
    if (!this.fused) return cellStep(this.mode, x, h, c, w.wIh, w.wHh, w.bIh, w.bHh, null);
    const r = (x._gpu !== null ? webgpuLayer : fusedLayer)({
      mode: this.mode,
      x,
      batchSizes: Int32Array.of(x.shape[0]),
      h0: h,
      c0: c,
      ...w,
      wHr: null,
      reverse: false,
    });
    return [r.hN, r.cN];
  }
}

export class RNNCell extends RNNCellBase {
  /** The printed name (kept through minification). */
  static readonly typeName = "RNNCell";

  readonly nonlinearity: "tanh" | "relu";

  constructor(
    inputSize: number,
    hiddenSize: number,
    options: { bias?: boolean; nonlinearity?: "tanh" | "relu" } = {},
  ) {
    const nl = options.nonlinearity ?? "tanh";
    if (nl !== "tanh" && nl !== "relu")
      throw new Error(`Unknown nonlinearity: ${nl}. Select from 'tanh' or 'relu'.`);
    super(nl === "tanh" ? "RNN_TANH" : "RNN_RELU", inputSize, hiddenSize, options.bias ?? true);
    this.nonlinearity = nl;
  }

  forward(x: Tensor, h?: Tensor | null): Tensor {
    const p = this.prepare(x, [h ?? null]);
    const [hNew] = this.step(p.x, p.states[0], null);
    return p.unbatched ? F.squeeze(hNew, 0) : hNew;
  }
}

export class LSTMCell extends RNNCellBase {
  /** The printed name (kept through minification). */
  static readonly typeName = "LSTMCell";

  constructor(inputSize: number, hiddenSize: number, options: { bias?: boolean } = {}) {
    super("LSTM", inputSize, hiddenSize, options.bias ?? true);
  }

  forward(x: Tensor, hx?: [Tensor, Tensor] | null): [Tensor, Tensor] {
    const p = this.prepare(x, hx ? [hx[0], hx[1]] : [null, null]);
    const [hNew, cNew] = this.step(p.x, p.states[0], p.states[1]);
    return p.unbatched ? [F.squeeze(hNew, 0), F.squeeze(cNew!, 0)] : [hNew, cNew!];
  }
}

export class GRUCell extends RNNCellBase {
  /** The printed name (kept through minification). */
  static readonly typeName = "GRUCell";

  constructor(inputSize: number, hiddenSize: number, options: { bias?: boolean } = {}) {
    super("GRU", inputSize, hiddenSize, options.bias ?? true);
  }

  forward(x: Tensor, h?: Tensor | null): Tensor {
    const p = this.prepare(x, [h ?? null]);
    const [hNew] = this.step(p.x, p.states[0], null);
    return p.unbatched ? F.squeeze(hNew, 0) : hNew;
  }
}
