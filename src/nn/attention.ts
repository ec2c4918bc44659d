// nn.MultiheadAttention, as PyTorch 1.13's (its slow path, which is what training and autograd use):
// packed input projection, scaled dot-product attention per head, output projection. Composed from
// tensor ops, so autograd comes from theirs.
//
// L = target length, S = source length, N = batch, E = embedding, H = heads, Dh = E / H

import { zeros } from "../core/creation.js";
import { mixedDevices } from "../core/device.js";
import * as ops from "../core/ops.js";
import { type NestedArray, shapeStr, Tensor } from "../core/tensor.js";
import { xavierUniform_ } from "./init.js";
import { dropout, Linear } from "./linear.js";
import { Module, Parameter } from "./module.js";

/** A mask: a bool tensor or nested booleans (true = masked out), or a float tensor added to the scores. */
export type AttentionMask = Tensor | boolean[] | boolean[][] | boolean[][][];

/**
 * The mask as an additive float tensor: −inf where a boolean mask is true, the values of a float one.
 * A mask tensor must be on the query's device, as in PyTorch (a bool one on the device becomes −inf there,
 * by maskedFill); nested booleans have no device and go where the query is.
 */
function additiveMask(m: AttentionMask, what: string, like: Tensor): Tensor {
  const on = (t: Tensor) => (like._gpu !== null ? t.to("webgpu") : t);
  if (m instanceof Tensor) {
    if (m.device !== like.device) throw mixedDevices(like.device, m.device);
    if ((m.dtype as string) !== "bool") return m;
    if (m._gpu !== null)
      return zeros([...m.shape])
        .to("webgpu")
        .maskedFill(m, Number.NEGATIVE_INFINITY);
    const d = new Float32Array(m.numel);
    for (let i = 0; i < d.length; i++) if (Number(m.data[i]) !== 0) d[i] = Number.NEGATIVE_INFINITY;
    return new Tensor(d, m.shape);
  }
  const shape: number[] = [];
  let cur: unknown = m;
  while (Array.isArray(cur)) {
    shape.push(cur.length);
    cur = cur[0];
  }
  const flat = (m as unknown as NestedArray[]).flat(3) as unknown as unknown[];
  if (flat.some((v) => typeof v !== "boolean")) throw new Error(`${what}: expected booleans or a Tensor`);
  return on(
    new Tensor(
      Float32Array.from(flat, (v) => (v ? Number.NEGATIVE_INFINITY : 0)),
      shape,
    ),
  );
}

/** The printed name of the output projection, as PyTorch's class for it. */
class NonDynamicallyQuantizableLinear extends Linear {
  protected override get typeName(): string {
    return "NonDynamicallyQuantizableLinear";
  }
}

export interface MultiheadAttentionOptions {
  dropout?: number;
  bias?: boolean;
  /** Inputs are (N, L, E) instead of (L, N, E). */
  batchFirst?: boolean;
}

export interface AttentionForwardOptions {
  /** (N, S): true (or −inf / a float added) where a key is padding. */
  keyPaddingMask?: AttentionMask | null;
  /** Return the attention weights (default true). */
  needWeights?: boolean;
  /** (L, S) or (N·H, L, S): true where attention is not allowed, or a float mask added to the scores. */
  attnMask?: AttentionMask | null;
  /** Average the weights over the heads (default true), else (N, H, L, S). */
  averageAttnWeights?: boolean;
}

/** `nn.MultiheadAttention` with PyTorch's parameter names: in_proj_weight, in_proj_bias, out_proj.weight, out_proj.bias. */
export class MultiheadAttention extends Module {
  /** The printed name (kept through minification). */
  static readonly typeName = "MultiheadAttention";

  readonly embedDim: number;
  readonly numHeads: number;
  readonly headDim: number;
  readonly dropout: number;
  readonly batchFirst: boolean;
  in_proj_weight: Parameter;
  in_proj_bias: Parameter | null;
  out_proj: Linear;

  constructor(embedDim: number, numHeads: number, options: MultiheadAttentionOptions = {}) {
    super();
    this.embedDim = embedDim;
    this.numHeads = numHeads;
    this.dropout = options.dropout ?? 0;
    this.batchFirst = options.batchFirst ?? false;
    this.headDim = Math.floor(embedDim / numHeads);
    if (this.headDim * numHeads !== embedDim) throw new Error("embed_dim must be divisible by num_heads");
    const bias = options.bias ?? true;
    // PyTorch's order of draws: out_proj's Linear init, then xavier_uniform_ on in_proj_weight; both biases zero
    this.in_proj_weight = new Parameter(new Float32Array(3 * embedDim * embedDim), [3 * embedDim, embedDim]);
    this.in_proj_bias = bias ? new Parameter(new Float32Array(3 * embedDim), [3 * embedDim]) : null;
    this.out_proj = new NonDynamicallyQuantizableLinear(embedDim, embedDim, { bias });
    xavierUniform_(this.in_proj_weight);
    this.out_proj.bias?.data.fill(0);
  }

  /**
   * Attention of `query` over `key`/`value`, (L, N, E) / (S, N, E) (batch first when `batchFirst`) or
   * unbatched (L, E). Returns [output shaped as the query, weights (N, L, S) or null].
   */
  forward(
    query: Tensor,
    key: Tensor,
    value: Tensor,
    options: AttentionForwardOptions = {},
  ): [Tensor, Tensor | null] {
    const needWeights = options.needWeights ?? true;
    const average = options.averageAttnWeights ?? true;
    const batched = query.ndim === 3;
    if (!batched && query.ndim !== 2) {
      throw new Error(
        `query should be unbatched 2D or batched 3D tensor but received ${query.ndim}-D query tensor`,
      );
    }
    if (key.ndim !== query.ndim || value.ndim !== query.ndim) {
      throw new Error(
        `For ${batched ? "batched (3-D)" : "unbatched (2-D)"} \`query\`, expected \`key\` and \`value\` to be ${query.ndim}-D but found ${key.ndim}-D and ${value.ndim}-D tensors respectively`,
      );
    }
    let q = query;
    let k = key;
    let v = value;
    if (batched && this.batchFirst) {
      q = ops.transpose(q, 0, 1);
      k = ops.transpose(k, 0, 1);
      v = ops.transpose(v, 0, 1);
    }
    if (!batched) {
      q = ops.unsqueeze(q, 1);
      k = ops.unsqueeze(k, 1);
      v = ops.unsqueeze(v, 1);
    }
    const [L, N, E] = q.shape;
    const S = k.shape[0];
    const H = this.numHeads;
    const Dh = this.headDim;
    if (E !== this.embedDim)
      throw new Error(`was expecting embedding dimension of ${this.embedDim}, but got ${E}`);
    if (k.shape[0] !== v.shape[0] || k.shape[1] !== v.shape[1]) {
      throw new Error(`key shape ${shapeStr(k.shape)} does not match value shape ${shapeStr(v.shape)}`);
    }
    // input projections: rows [0, E) of the packed weight for q, [E, 2E) for k, [2E, 3E) for v
    const w = this.in_proj_weight;
    const b = this.in_proj_bias;
    const proj = (x: Tensor, i: number) =>
      ops.linear(x, ops.narrow(w, 0, i * E, E), b === null ? null : ops.narrow(b, 0, i * E, E));
    // (L, N, E) -> (L, N·H, Dh) -> (N·H, L, Dh)
    const heads = (x: Tensor, len: number) => ops.transpose(ops.reshape(x, [len, N * H, Dh]), 0, 1);
    const qh = heads(proj(q, 0), L);
    const kh = heads(proj(k, 1), S);
    const vh = heads(proj(v, 2), S);

    let mask: Tensor | null = null;
    if (options.attnMask !== null && options.attnMask !== undefined) {
      mask = additiveMask(options.attnMask, "attn_mask", q);
      if (mask.ndim === 2) {
        if (mask.shape[0] !== L || mask.shape[1] !== S)
          throw new Error(
            `The shape of the 2D attn_mask is ${shapeStr(mask.shape)}, but should be ${shapeStr([L, S])}.`,
          );
        mask = ops.unsqueeze(mask, 0);
      } else if (mask.ndim === 3) {
        if (mask.shape[0] !== N * H || mask.shape[1] !== L || mask.shape[2] !== S)
          throw new Error(
            `The shape of the 3D attn_mask is ${shapeStr(mask.shape)}, but should be ${shapeStr([N * H, L, S])}.`,
          );
      } else throw new Error(`attn_mask's dimension ${mask.ndim} is not supported`);
    }
    if (options.keyPaddingMask !== null && options.keyPaddingMask !== undefined) {
      let kpm = additiveMask(options.keyPaddingMask, "key_padding_mask", q);
      const want = batched ? [N, S] : [S];
      if (kpm.ndim !== want.length || kpm.shape.some((d, i) => d !== want[i])) {
        throw new Error(
          `expecting key_padding_mask shape of ${shapeStr(want)}, but got ${shapeStr(kpm.shape)}`,
        );
      }
      // (N, S) -> (N·H, 1, S)
      kpm = ops.reshape(ops.expand(ops.reshape(kpm, [N, 1, 1, S]), [N, H, 1, S]), [N * H, 1, S]);
      mask = mask === null ? kpm : ops.add(mask, kpm);
    }

    // scaled dot product: softmax(q kᵀ / sqrt(Dh) + mask) v
    const qs = ops.div(qh, Math.sqrt(Dh));
    let attn = ops.matmul(qs, ops.transpose(kh, 1, 2)); // (N·H, L, S)
    if (mask !== null) attn = ops.add(mask, attn);
    attn = ops.softmax(attn, -1);
    const p = this.training ? this.dropout : 0;
    const attnDrop = p > 0 ? dropout(attn, p, true) : attn;
    const ctx = ops.matmul(attnDrop, vh); // (N·H, L, Dh)
    const merged = ops.reshape(ops.transpose(ctx, 0, 1), [L * N, E]);
    let out = ops.reshape(this.out_proj.forward(merged), [L, N, E]);
    let weights: Tensor | null = null;
    if (needWeights) {
      weights = ops.reshape(attn, [N, H, L, S]);
      if (average) weights = ops.div(ops.sum(weights, 1), H);
      if (!batched) weights = ops.squeeze(weights, 0);
    }
    if (!batched) out = ops.squeeze(out, 1);
    else if (this.batchFirst) out = ops.transpose(out, 0, 1);
    return [out, weights];
  }
}
