// nn.Embedding and F.embedding: a lookup table of vectors indexed by token ids, as PyTorch's.
// The kernel pair is kernels/seq.ts's embeddingForward/Backward, lifted by core/custom.ts; on the webgpu
// device, core/device-nn.ts's gather of rows and its scatter-add.

import { customOp } from "../core/custom.js";
import { deviceEmbeddingRenorm, deviceGatherRowsAdd } from "../core/device-nn.js";
import { pyFloatRepr } from "../core/format.js";
import { defaultGenerator, fillNormal } from "../core/random.js";
import { type NestedArray, noGrad, shapeStr, Tensor } from "../core/tensor.js";
import { embeddingBackward, embeddingForward, embeddingRenorm } from "../kernels/seq.js";
import { Module, Parameter } from "./module.js";

/** Class indices or token ids: an int64 tensor, nested arrays of integers, or one integer. */
export type IndexLike = Tensor | NestedArray;

/** The values and shape of `x` as integers, with a clear error for anything else. */
export function toIndices(x: IndexLike, what: string): { idx: Int32Array; shape: number[] } {
  let shape: number[];
  let flat: ArrayLike<number | bigint>;
  if (x instanceof Tensor) {
    if (x.dtype !== "int64") {
      throw new Error(
        `Expected tensor for argument #1 'indices' to have one of the following scalar types: Long, Int; but got ${x.dtype === "bool" ? "torch.BoolTensor" : "torch.FloatTensor"} instead (while checking arguments for ${what})`,
      );
    }
    shape = x.shape.slice();
    flat = x.data as ArrayLike<number | bigint>;
  } else if (typeof x === "number") {
    shape = [];
    flat = [x];
  } else if (Array.isArray(x)) {
    shape = [];
    let cur: NestedArray = x;
    while (Array.isArray(cur)) {
      shape.push(cur.length);
      if (cur.length === 0) break;
      cur = cur[0];
    }
    const out: number[] = [];
    const walk = (v: NestedArray, depth: number) => {
      if (depth === shape.length) {
        if (typeof v !== "number") throw new Error(`${what}: expected integers, got a ragged nested array`);
        out.push(v);
        return;
      }
      if (!Array.isArray(v) || v.length !== shape[depth])
        throw new Error(`${what}: expected a rectangular nested array of shape ${shapeStr(shape)}`);
      for (const e of v) walk(e, depth + 1);
    };
    walk(x, 0);
    flat = out;
  } else {
    throw new Error(`${what}: expected a Tensor or (nested) array of integer indices, got ${typeof x}`);
  }
  const idx = new Int32Array(flat.length);
  for (let i = 0; i < flat.length; i++) {
    const v = Number(flat[i]);
    if (!Number.isInteger(v))
      throw new Error(`${what}: expected integer indices, got ${v} at flat position ${i}`);
    idx[i] = v;
  }
  return { idx, shape };
}

export interface EmbeddingFnOptions {
  /** Entries at this index get no gradient (and the module's row starts at zero). */
  paddingIdx?: number | null;
  /** Rows looked up whose `normType`-norm exceeds this are rescaled in place to this norm first. */
  maxNorm?: number | null;
  /** The p of the max-norm (default 2). */
  normType?: number;
  /** Divides each row's gradient by how often its index occurs in the batch. */
  scaleGradByFreq?: boolean;
}

function checkPaddingIdx(paddingIdx: number | null | undefined, V: number): number | null {
  if (paddingIdx === null || paddingIdx === undefined) return null;
  if (!Number.isInteger(paddingIdx)) throw new Error(`padding_idx must be an integer, got ${paddingIdx}`);
  if (paddingIdx >= V) throw new Error("Padding_idx must be within num_embeddings");
  if (paddingIdx < -V) throw new Error("Padding_idx must be within num_embeddings");
  return paddingIdx < 0 ? paddingIdx + V : paddingIdx;
}

/** Looks rows of `weight` (V, D) up by `input`'s indices: output shape input.shape + [D], as `F.embedding`. */
export function embedding(input: IndexLike, weight: Tensor, options: EmbeddingFnOptions = {}): Tensor {
  if (weight.ndim !== 2)
    throw new Error(`'weight' must be 2-D, got a tensor of shape ${shapeStr(weight.shape)}`);
  const [V, D] = weight.shape;
  const { idx, shape } = toIndices(input, "embedding");
  for (const v of idx) if (v < 0 || v >= V) throw new Error("index out of range in self");
  const pad = checkPaddingIdx(options.paddingIdx, V) ?? -1;
  if (weight._gpu !== null) return embeddingOnDevice(idx, shape, weight, pad, options);
  if (options.maxNorm !== null && options.maxNorm !== undefined) {
    const maxNorm = options.maxNorm;
    const p = options.normType ?? 2;
    noGrad(() => embeddingRenorm(weight.data, idx, D, maxNorm, p));
  }
  const out = new Float32Array(idx.length * D); // (N, D)
  embeddingForward(weight.data, idx, out, D);
  const scale = options.scaleGradByFreq ?? false;
  return customOp("EmbeddingBackward0", [weight], [{ data: out, shape: [...shape, D] }], (g, d) => {
    const dW = d.add(0);
    if (dW !== null) embeddingBackward(dW, idx, g[0]!, D, pad, scale);
  })[0];
}

/**
 * embedding on the webgpu device: the rows gathered (max-norm first rescales the rows looked up, in place);
 * the gradient scatter-adds each position's row back, skipping padding_idx, divided by the index's count
 * with scale_grad_by_freq. The ids stay on the CPU, where they were checked.
 */
function embeddingOnDevice(
  idx: Int32Array, // (N)
  shape: number[],
  weight: Tensor, // (V, D)
  pad: number,
  options: EmbeddingFnOptions,
): Tensor {
  const D = weight.shape[1];
  if (options.maxNorm !== null && options.maxNorm !== undefined) {
    deviceEmbeddingRenorm(weight, idx, options.maxNorm, options.normType ?? 2);
  }
  const back = pad < 0 ? idx : idx.map((v) => (v === pad ? -1 : v));
  let scale: Float32Array | null = null;
  if (options.scaleGradByFreq ?? false) {
    const counts = new Map<number, number>();
    for (const v of idx) counts.set(v, (counts.get(v) ?? 0) + 1);
    scale = Float32Array.from(idx, (v) => 1 / counts.get(v)!);
  }
  return deviceGatherRowsAdd(weight, idx, D, [...shape, D], "EmbeddingBackward0", back, scale);
}

export interface EmbeddingOptions extends EmbeddingFnOptions {
  /** Gradients as sparse tensors: not supported (dense only). */
  sparse?: boolean;
  /** Start from this (V, D) weight instead of N(0, 1) draws. */
  weight?: Tensor | null;
}

/** A (numEmbeddings, embeddingDim) table drawn from N(0, 1), as `torch.nn.Embedding`. */
export class Embedding extends Module {
  /** The printed name (kept through minification). */
  static readonly typeName = "Embedding";

  readonly numEmbeddings: number;
  readonly embeddingDim: number;
  readonly paddingIdx: number | null;
  readonly maxNorm: number | null;
  readonly normType: number;
  readonly scaleGradByFreq: boolean;
  weight: Parameter;

  constructor(numEmbeddings: number, embeddingDim: number, options: EmbeddingOptions = {}) {
    super();
    for (const [k, v] of [
      ["num_embeddings", numEmbeddings],
      ["embedding_dim", embeddingDim],
    ] as const) {
      if (!Number.isInteger(v) || v < 0)
        throw new Error(`Embedding: ${k} must be a non-negative integer, got ${v}`);
    }
    if (options.sparse) throw new Error("Embedding: sparse gradients are not supported (use sparse: false)");
    this.numEmbeddings = numEmbeddings;
    this.embeddingDim = embeddingDim;
    this.paddingIdx = checkPaddingIdx(options.paddingIdx, numEmbeddings);
    this.maxNorm = options.maxNorm ?? null;
    this.normType = options.normType ?? 2;
    this.scaleGradByFreq = options.scaleGradByFreq ?? false;
    const w = options.weight ?? null;
    if (w === null) {
      const d = new Float32Array(numEmbeddings * embeddingDim);
      fillNormal(d, 0, 1, defaultGenerator);
      if (this.paddingIdx !== null)
        d.fill(0, this.paddingIdx * embeddingDim, (this.paddingIdx + 1) * embeddingDim);
      this.weight = new Parameter(d, [numEmbeddings, embeddingDim]);
    } else {
      if (w.ndim !== 2 || w.shape[0] !== numEmbeddings || w.shape[1] !== embeddingDim) {
        throw new Error("Shape of weight does not match num_embeddings and embedding_dim");
      }
      this.weight = new Parameter(Float32Array.from(w.data), w.shape);
    }
  }

  /**
   * An Embedding holding `embeddings` (V, D) (copied), frozen (no gradient) unless `freeze: false`, as
   * `nn.Embedding.from_pretrained`.
   */
  static fromPretrained(
    embeddings: Tensor,
    options: EmbeddingFnOptions & { freeze?: boolean } = {},
  ): Embedding {
    if (embeddings.ndim !== 2) throw new Error("Embeddings parameter is expected to be 2-dimensional");
    const [V, D] = embeddings.shape;
    const e = new Embedding(V, D, { ...options, weight: embeddings });
    e.weight.requiresGrad = !(options.freeze ?? true);
    return e;
  }

  forward(input: IndexLike): Tensor {
    return embedding(input, this.weight, {
      paddingIdx: this.paddingIdx,
      maxNorm: this.maxNorm,
      normType: this.normType,
      scaleGradByFreq: this.scaleGradByFreq,
    });
  }

  override extraRepr(): string {
    let s = `${this.numEmbeddings}, ${this.embeddingDim}`;
    if (this.paddingIdx !== null) s += `, padding_idx=${this.paddingIdx}`;
    if (this.maxNorm !== null) s += `, max_norm=${pyFloatRepr(this.maxNorm)}`;
    if (this.normType !== 2) s += `, norm_type=${pyFloatRepr(this.normType)}`;
    if (this.scaleGradByFreq) s += ", scale_grad_by_freq=True";
    return s;
  }
}
