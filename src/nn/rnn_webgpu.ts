// One layer-direction of RNN / LSTM / GRU on the webgpu device: the LayerRunner (rnn.ts) of "webgpu"
// tensors, over the WebGPU recurrent kernels (kernels/webgpu/recurrent.ts). Under grad, the forward keeps
// what the backward needs and the call records one autograd node (engine.ts recordMultiDevice) whose
// backward is GpuRecurrent.backward: the input, state and weight gradients come back as "webgpu" tensors.
// The outputs are new "webgpu" tensors; nothing is read back.
//
// T = time, B = batch, I = input, H = hidden, P = proj, R = size of h, G = gates·H, N = Σ batchSizes

import { customNeedsGrad } from "../core/custom.js";
import { deviceConstant, deviceReshape, deviceTensor, mixedDevices } from "../core/device.js";
import { mul } from "../core/elementwise.js";
import { recordDevice, recordMultiDevice } from "../core/engine.js";
import { Tensor } from "../core/tensor.js";
import type { RnnDims } from "../kernels/rnn.js";
import type { WebGPUContext } from "../kernels/webgpu/context.js";
import { GpuRecurrent, type GpuRnnSaved, type GpuRnnWeightGrads } from "../kernels/webgpu/recurrent.js";
import { dropout } from "./linear.js";
import { indexSelect1, PackedSequence } from "./packed.js";
import type { LayerRunner, RNNBase } from "./rnn.js";

const kernels = new WeakMap<WebGPUContext, GpuRecurrent>();

function recurrentOf(ctx: WebGPUContext): GpuRecurrent {
  let r = kernels.get(ctx);
  if (r === undefined) {
    r = new GpuRecurrent(ctx);
    kernels.set(ctx, r);
  }
  return r;
}

export const webgpuLayer: LayerRunner = (a) => {
  const { mode, x, h0, c0, wIh, wHh, bIh, bHh, wHr } = a;
  const inputs = [x, h0, c0, wIh, wHh, bIh, bHh, wHr].filter((t): t is Tensor => t !== null);
  for (const t of inputs) if (t.device !== "webgpu") throw mixedDevices("webgpu", t.device);
  const name = mode === "LSTM" ? "LSTM" : mode === "GRU" ? "GRU" : "RNN";
  const train = customNeedsGrad(inputs);
  const ctx = x._gpu!.ctx;
  for (const t of inputs) {
    if (t._gpu!.ctx !== ctx) throw new Error(`${name} on webgpu: the tensors belong to two WebGPU contexts`);
  }
  const N = x.shape[0];
  const I = x.shape[1];
  const T = a.batchSizes.length;
  const B = h0.shape[0];
  const R = h0.shape[1];
  const H = wHr !== null ? wHr.shape[1] : R;
  const P = wHr !== null ? wHr.shape[0] : 0;
  const full = a.full === true || a.batchSizes.every((b) => b === B);
  const dims: RnnDims = { mode, T, B, I, H, P, batchSizes: full ? null : a.batchSizes, reverse: a.reverse };
  const buf = (t: Tensor | null): GPUBuffer | null => (t === null ? null : t._gpu!.buffer);
  const w = { wIh: buf(wIh)!, wHh: buf(wHh)!, bIh: buf(bIh), bHh: buf(bHh), wHr: buf(wHr) };
  const y = ctx.storage(N * R * 4); // (N, R)
  const hN = ctx.storage(B * R * 4); // (B, R)
  const cN = mode === "LSTM" ? ctx.storage(B * H * 4) : null; // (B, H)
  const rec = recurrentOf(ctx);
  let saved: GpuRnnSaved | null;
  try {
    saved = rec.forward(dims, w, buf(x)!, buf(h0), buf(c0), y, hN, cN, train);
  } catch (e) {
    for (const b of [y, hN, cN]) if (b !== null) ctx.release(b);
    throw e;
  }
  const yT = deviceTensor(ctx, y, [N, R]);
  const hT = deviceTensor(ctx, hN, [B, R]);
  const cT = cN === null ? null : deviceTensor(ctx, cN, [B, H]);
  if (saved === null) return { y: yT, hN: hT, cN: cT };
  const s = saved;
  const outs = cT === null ? [yT, hT] : [yT, hT, cT];
  /** a zeroed buffer of n floats for a gradient of t, or null when t needs none */
  const zeros = (t: Tensor | null, n: number): GPUBuffer | null =>
    t?.requiresGrad ? ctx.upload(new Float32Array(n)) : null;
  recordMultiDevice(
    outs,
    inputs,
    `${name === "RNN" ? "Rnn" : name === "GRU" ? "Gru" : "Lstm"}Backward0`,
    (grads) => {
      const G = wIh.shape[0];
      const dW: GpuRnnWeightGrads = {
        dWih: zeros(wIh, G * I),
        dWhh: zeros(wHh, G * R),
        dBih: zeros(bIh, G),
        dBhh: zeros(bHh, G),
        dWhr: zeros(wHr, P * H),
      };
      const dX = zeros(x, N * I);
      const dH0 = zeros(h0, B * R);
      const dC0 = zeros(c0, B * H);
      const gb = (i: number): GPUBuffer | null => grads[i]?._gpu?.buffer ?? null;
      rec.backward(dims, w, dW, buf(x)!, dX, buf(h0), dH0, buf(c0), dC0, y, gb(0), gb(1), gb(2), s);
      const grad = new Map<Tensor | null, GPUBuffer | null>([
        [x, dX],
        [h0, dH0],
        [c0, dC0],
        [wIh, dW.dWih],
        [wHh, dW.dWhh],
        [bIh, dW.dBih],
        [bHh, dW.dBhh],
        [wHr, dW.dWhr],
      ]);
      return inputs.map((t) => {
        const b = grad.get(t) ?? null;
        return b === null ? null : deviceTensor(ctx, b, t.shape);
      });
    },
    () => s.release(),
  );
  return { y: yT, hN: hT, cN: cT };
};

// ---------------------------------------------------------------------------------------------------------
// A whole RNN / LSTM / GRU module on webgpu tensors (RNNBase.run hands its webgpu inputs here): the layers
// one after another through webgpuLayer, both directions, batch_first, with the rows moved by gathers on
// the device (each recorded for autograd: a gather's backward is the inverse gather, a slice's and a
// concatenation's are copies). So far a padded (T, B, I) or unbatched (T, I) input (no PackedSequence) and no dropout in
// training mode; those are refused saying so.

type State = Tensor | [Tensor, Tensor];

/** A "webgpu" tensor of `shape` sharing the storage of `t` (same element count, contiguous), recorded. */
function view(t: Tensor, shape: number[]): Tensor {
  return deviceReshape(t, shape);
}

/** Rows [from, from + count) of `t` along dim 0 (each row `row` floats), as a new "webgpu" tensor, recorded. */
function rows(t: Tensor, from: number, count: number, row: number, shape: number[]): Tensor {
  const ctx = t._gpu!.ctx;
  const out = ctx.storage(count * row * 4);
  ctx.copy(t._gpu!.buffer, out, count * row * 4, from * row * 4, 0);
  return recordDevice(deviceTensor(ctx, out, shape), [t], "SliceBackward0", (g) => {
    // zeros outside the rows taken
    const back = ctx.upload(new Float32Array(t.numel));
    ctx.copy(g._gpu!.buffer, back, count * row * 4, 0, from * row * 4);
    return [deviceTensor(ctx, back, t.shape)];
  });
}

/** The tensors (each of `n` floats) one after another, as a new "webgpu" tensor of `shape`, recorded. */
function concat(ts: Tensor[], n: number, shape: number[]): Tensor {
  const ctx = ts[0]._gpu!.ctx;
  const out = ctx.storage(ts.length * n * 4);
  for (let i = 0; i < ts.length; i++) ctx.copy(ts[i]._gpu!.buffer, out, n * 4, 0, i * n * 4);
  return recordDevice(deviceTensor(ctx, out, shape), ts, "CatBackward0", (g) =>
    ts.map((t, i) => {
      if (!t.requiresGrad) return null;
      const back = ctx.storage(n * 4);
      ctx.copy(g._gpu!.buffer, back, n * 4, i * n * 4, 0);
      return deviceTensor(ctx, back, t.shape);
    }),
  );
}

function sameShape(t: Tensor, want: number[], what: string): void {
  if (t.shape.length !== want.length || t.shape.some((d, i) => d !== want[i])) {
    throw new Error(`Expected ${what} size (${want.join(", ")}), got (${t.shape.join(", ")})`);
  }
}

/** RNNBase.run for an input (a padded tensor or a PackedSequence) on the webgpu device. */
export function runOnWebGPU(
  m: RNNBase,
  input: Tensor | PackedSequence,
  hx: State | null | undefined,
): [Tensor | PackedSequence, State] {
  const isLstm = m.mode === "LSTM";
  const name = isLstm ? "LSTM" : m.mode === "GRU" ? "GRU" : "RNN";
  const L = m.numLayers;
  const H = m.hiddenSize;
  const hOut = m.outputHiddenSize;
  const D = m.numDirections;
  const packed = input instanceof PackedSequence ? input : null;
  const x0 = packed !== null ? packed.data : (input as Tensor);
  if (packed !== null && x0.ndim !== 2) {
    throw new Error(
      `${name}: packed input data must be 2-D (N, ${m.inputSize}), got (${x0.shape.join(", ")})`,
    );
  }
  if (packed === null && x0.ndim !== 2 && x0.ndim !== 3) {
    throw new Error(
      `${name}: Expected input to be 2-D or 3-D but received ${x0.ndim}-D tensor of shape (${x0.shape.join(", ")})`,
    );
  }
  const unbatched = packed === null && x0.ndim === 2;
  const batchFirst = packed === null && m.batchFirst && !unbatched;
  const T = packed !== null ? packed.batchSizes.length : x0.shape[batchFirst ? 1 : 0];
  const B =
    packed !== null ? (T > 0 ? packed.batchSizes[0] : 0) : unbatched ? 1 : x0.shape[batchFirst ? 0 : 1];
  const I = x0.shape[x0.ndim - 1];
  if (T === 0) throw new Error(`${name}: Expected sequence length to be larger than 0 in RNN`);
  if (I !== m.inputSize) {
    throw new Error(`input.size(-1) must be equal to input_size. Expected ${m.inputSize}, got ${I}`);
  }
  const ctx = x0._gpu!.ctx;
  const rec = recurrentOf(ctx);
  const stateShape = (w: number): number[] => (unbatched ? [L * D, w] : [L * D, B, w]);
  /** rows of `cols` floats of t, reordered: out row i = t's row index[i] */
  const gather = (t: Tensor, index: Int32Array, cols: number): Tensor => {
    const out = ctx.storage(index.length * cols * 4);
    rec.gatherRows(t._gpu!.buffer, index, cols, out);
    const g = deviceTensor(ctx, out, [index.length, cols]);
    // the gradient of a permutation of rows: the inverse permutation of the gradient's rows
    return recordDevice(g, [t], "IndexBackward0", (dg) => {
      const inv = new Int32Array(index.length);
      for (let i = 0; i < index.length; i++) inv[index[i]] = i;
      const back = ctx.storage(index.length * cols * 4);
      rec.gatherRows(dg._gpu!.buffer, inv, cols, back);
      return [deviceTensor(ctx, back, t.shape)];
    });
  };
  // (B, T) ↔ (T, B) row orders
  const toTimeMajor = Int32Array.from({ length: T * B }, (_, i) => (i % B) * T + Math.floor(i / B));
  const toBatchMajor = Int32Array.from({ length: T * B }, (_, i) => (i % T) * B + Math.floor(i / T));
  let h0: Tensor;
  let c0: Tensor | null = null;
  if (hx === null || hx === undefined) {
    h0 = deviceTensor(ctx, ctx.upload(new Float32Array(L * D * B * hOut)), stateShape(hOut));
    if (isLstm) c0 = deviceTensor(ctx, ctx.upload(new Float32Array(L * D * B * H)), stateShape(H));
  } else {
    if (isLstm !== Array.isArray(hx)) {
      throw new Error(
        isLstm
          ? "LSTM: expected hx to be a pair [h0, c0]"
          : `${name}: expected hx to be a tensor, got a pair`,
      );
    }
    h0 = Array.isArray(hx) ? hx[0] : hx;
    c0 = Array.isArray(hx) ? hx[1] : null;
    for (const s of c0 === null ? [h0] : [h0, c0])
      if (s.device !== "webgpu") throw mixedDevices("webgpu", s.device);
    sameShape(h0, stateShape(hOut), isLstm ? "hidden[0]" : "hidden");
    if (c0 !== null) sameShape(c0, stateShape(H), "hidden[1]");
    if (packed?.sortedIndices) {
      // the states follow the sequences into their sorted order
      h0 = indexSelect1(h0, packed.sortedIndices);
      if (c0 !== null) c0 = indexSelect1(c0, packed.sortedIndices);
    }
  }
  const batchSizes = packed !== null ? packed.batchSizes : new Int32Array(T).fill(B);
  let layerIn = packed !== null ? x0 : batchFirst ? gather(x0, toTimeMajor, I) : view(x0, [T * B, I]);
  const N = packed !== null ? x0.shape[0] : T * B;
  const LD = L * D;
  const hNs: Tensor[] = [];
  const cNs: Tensor[] = [];
  for (let l = 0; l < L; l++) {
    const outs: Tensor[] = [];
    for (let d = 0; d < D; d++) {
      const idx = l * D + d;
      const r = webgpuLayer({
        mode: m.mode,
        x: layerIn,
        batchSizes,
        full: packed === null,
        h0: LD === 1 ? view(h0, [B, hOut]) : rows(h0, idx * B, B, hOut, [B, hOut]),
        c0: c0 === null ? null : LD === 1 ? view(c0, [B, H]) : rows(c0, idx * B, B, H, [B, H]),
        ...m.layerWeights(l, d === 1),
        reverse: d === 1,
      });
      outs.push(r.y);
      hNs.push(r.hN);
      if (r.cN !== null) cNs.push(r.cN);
    }
    if (D === 1) layerIn = outs[0];
    else {
      // (N, 2·hOut): row n is the forward direction's row n, then the reverse one's
      const both = concat(outs, N * hOut, [2 * N, hOut]);
      const side = Int32Array.from({ length: 2 * N }, (_, i) => (i % 2) * N + (i >> 1));
      layerIn = view(gather(both, side, hOut), [N, 2 * hOut]);
    }
    if (m.dropout > 0 && m.training && l < L - 1) layerIn = dropoutOnDevice(layerIn, m.dropout);
  }
  let hN = LD === 1 ? view(hNs[0], stateShape(hOut)) : concat(hNs, B * hOut, stateShape(hOut));
  if (packed !== null) {
    let cN = isLstm ? (LD === 1 ? view(cNs[0], stateShape(H)) : concat(cNs, B * H, stateShape(H))) : null;
    if (packed.unsortedIndices) {
      hN = indexSelect1(hN, packed.unsortedIndices);
      if (cN !== null) cN = indexSelect1(cN, packed.unsortedIndices);
    }
    return [packed.withData(layerIn), cN === null ? hN : [hN, cN]];
  }
  const F = D * hOut;
  const y = unbatched
    ? view(layerIn, [T, F])
    : batchFirst
      ? view(gather(layerIn, toBatchMajor, F), [B, T, F])
      : view(layerIn, [T, B, F]);
  if (!isLstm) return [y, hN];
  const cN = LD === 1 ? view(cNs[0], stateShape(H)) : concat(cNs, B * H, stateShape(H));
  return [y, [hN, cN]];
}

/**
 * Dropout between layers on the device: the mask is drawn on the CPU by nn.dropout itself (same
 * generator, same order, same 1/(1 − p) scale as the CPU path, so one seed gives one mask on both
 * devices), uploaded, and multiplied in (MulBackward0: the gradient is masked the same way).
 */
function dropoutOnDevice(x: Tensor, p: number): Tensor {
  const mask = dropout(new Tensor(new Float32Array(x.numel).fill(1), x.shape), p, true).data;
  return mul(x, deviceConstant(x, mask as Float32Array, x.shape));
}
