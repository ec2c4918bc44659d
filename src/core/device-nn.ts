// The sequence-model layers' ops on the webgpu device, beside device.ts's generic ones: a gather of rows
// with repeats (embedding lookups, nll's picks, conv1d's im2col, F.pad) whose backward is a scatter-add,
// and layer normalization. Kernels in kernels/webgpu/nn.ts; each op records its autograd node with
// recordDevice, so the backward runs on the device.

import { gpuGatherRows } from "../kernels/webgpu/ops.js";
import {
  gpuEmbeddingRenorm,
  gpuLayerNorm,
  gpuLayerNormBackward,
  gpuScatterAdd,
  type ScatterPlan,
  scatterPlan,
} from "../kernels/webgpu/nn.js";
import { deviceConstant, deviceTensor, mixedDevices } from "./device.js";
import { recordDevice } from "./engine.js";
import { shapeNumel } from "./shape.js";
import type { Tensor } from "./tensor.js";

/**
 * Rows of `x` (viewed as (R, cols)) gathered by `index` into a tensor of `shape`: out row i = x's row
 * index[i], zeros where index[i] is −1 (checked by the caller to lie in [−1, R)). Rows may repeat: the
 * gradient sums back into each row every position that read it (times `scale[i]` when given; positions
 * where `backIndex` (default: index) is −1 give nothing back, as embedding's padding_idx).
 */
export function deviceGatherRowsAdd(
  x: Tensor,
  index: Int32Array,
  cols: number,
  shape: readonly number[],
  name: string,
  backIndex: Int32Array = index,
  scale: Float32Array | null = null,
): Tensor {
  const s = x._gpu!;
  const rows = cols === 0 ? 0 : shapeNumel(x.shape) / cols;
  const out = deviceTensor(s.ctx, gpuGatherRows(s.ctx, s.buffer, index, cols), shape);
  let plan: ScatterPlan | null = null; // built at the first backward
  return recordDevice(out, [x], name, (g) => {
    plan ??= scatterPlan(backIndex, rows, scale);
    return [deviceTensor(s.ctx, gpuScatterAdd(s.ctx, g._gpu!.buffer, plan, cols), x.shape)];
  });
}

/** embedding_renorm_ on the device: the distinct rows of `idx` of weight (V, D) rescaled in place. */
export function deviceEmbeddingRenorm(weight: Tensor, idx: Int32Array, maxNorm: number, p: number): void {
  const s = weight._gpu!;
  const rows = Uint32Array.from(new Set(idx));
  gpuEmbeddingRenorm(s.ctx, s.buffer, rows, weight.shape[1], maxNorm, p);
}

/** layerNorm of input (M rows of D) on the device, weight and bias (D) both given or both null. */
export function deviceLayerNorm(
  input: Tensor,
  weight: Tensor | null,
  bias: Tensor | null,
  M: number,
  D: number,
  eps: number,
): Tensor {
  for (const t of [weight, bias]) if (t !== null && t._gpu === null) throw mixedDevices("webgpu", "cpu");
  const s = input._gpu!;
  if ((weight === null) !== (bias === null)) {
    // one of the two: the missing one as the identity's (ones or zeros), constant
    const ones = new Float32Array(D);
    if (weight === null) ones.fill(1);
    const k = deviceConstant(input, ones, [D]);
    return deviceLayerNorm(input, weight ?? k, bias ?? k, M, D, eps);
  }
  const w = weight === null ? null : weight._gpu!.buffer;
  const b = bias === null ? null : bias._gpu!.buffer;
  const { y, mean, rstd } = gpuLayerNorm(s.ctx, s.buffer, w, b, M, D, eps);
  // saved for the backward as tensors, so that their buffers go back to the pool with the graph
  const saved = [deviceTensor(s.ctx, mean, [M]), deviceTensor(s.ctx, rstd, [M])];
  const inputs = weight === null ? [input] : [input, weight, bias!];
  return recordDevice(deviceTensor(s.ctx, y, input.shape), inputs, "NativeLayerNormBackward0", (g) => {
    const affine = weight !== null && (weight.requiresGrad || bias!.requiresGrad);
    const [mu, r] = saved.map((t) => t._gpu!.buffer);
    const d = gpuLayerNormBackward(
      s.ctx,
      s.buffer,
      w,
      mu,
      r,
      g._gpu!.buffer,
      M,
      D,
      input.requiresGrad,
      affine,
    );
    const wrap = (t: Tensor | null, b: GPUBuffer | null) => {
      if (b === null) return null;
      if (t?.requiresGrad) return deviceTensor(s.ctx, b, t.shape);
      s.ctx.release(b);
      return null;
    };
    return [wrap(input, d.dx), wrap(weight, d.dw), wrap(bias, d.db)].slice(0, inputs.length);
  });
}
