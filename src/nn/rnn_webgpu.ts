// One layer-direction of RNN / LSTM / GRU on the webgpu device: the LayerRunner (rnn.ts) of "webgpu"
// tensors, over the WebGPU recurrent kernels (kernels/webgpu/recurrent.ts). Inference only for now:
// autograd does not reach the device yet, so a call that would record a graph is refused, as the device's
// other ops refuse it. The outputs are new "webgpu" tensors; nothing is read back.
//
// T = time, B = batch, I = input, H = hidden, P = proj, R = size of h, G = gates·H, N = Σ batchSizes

import { customNeedsGrad } from "../core/custom.js";
import { deviceTensor, mixedDevices } from "../core/device.js";
import type { Tensor } from "../core/tensor.js";
import type { RnnDims } from "../kernels/rnn.js";
import type { WebGPUContext } from "../kernels/webgpu/context.js";
import { GpuRecurrent } from "../kernels/webgpu/recurrent.js";
import type { LayerRunner } from "./rnn.js";

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
  if (customNeedsGrad(inputs)) {
    throw new Error(
      `${name} on webgpu: autograd does not reach the webgpu device yet; run under noGrad() (e.g. model.predict) or detach the inputs`,
    );
  }
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
  try {
    recurrentOf(ctx).forward(dims, w, buf(x)!, buf(h0), buf(c0), y, hN, cN, false);
  } catch (e) {
    for (const b of [y, hN, cN]) if (b !== null) ctx.release(b);
    throw e;
  }
  return {
    y: deviceTensor(ctx, y, [N, R]),
    hN: deviceTensor(ctx, hN, [B, R]),
    cN: cN === null ? null : deviceTensor(ctx, cN, [B, H]),
  };
};
