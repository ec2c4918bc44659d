// nn.functional: PyTorch's `torch.nn.functional` under camelCase names, so that
// `import { nn } from "recurrent"; const F = nn.functional;` reads as `import torch.nn.functional as F`.

import { customOp } from "../core/custom.js";
import { deviceConstant } from "../core/device.js";
import { deviceGatherRowsAdd } from "../core/device-nn.js";
import * as ops from "../core/ops.js";
import { shapeNumel, type Tensor } from "../core/tensor.js";
import { dropout as dropoutImpl } from "./linear.js";
import { softmaxDim } from "./layers.js";

export { embedding } from "./embedding.js";
export { conv1d, layerNorm, nllLoss } from "./layers.js";
export {
  bceWithLogitsLoss as binaryCrossEntropyWithLogits,
  crossEntropyLoss as crossEntropy,
  huberLoss,
  l1Loss,
  mseLoss,
  smoothL1Loss,
} from "./loss.js";
export { linear, relu, sigmoid, tanh } from "../core/ops.js";

/** log(softmax(x)) along `dim`, as `F.log_softmax` (no dim: PyTorch's legacy choice). */
export function logSoftmax(x: Tensor, dim?: number | null): Tensor {
  return ops.logSoftmax(x, softmaxDim(x.ndim, dim));
}

/** softmax(x) along `dim`, as `F.softmax` (no dim: PyTorch's legacy choice). */
export function softmax(x: Tensor, dim?: number | null): Tensor {
  return ops.softmax(x, softmaxDim(x.ndim, dim));
}

/** Dropout with PyTorch's mask for a seed, as `F.dropout(input, p=0.5, training=True)`. */
export function dropout(x: Tensor, p = 0.5, training = true): Tensor {
  return dropoutImpl(x, p, training);
}

/**
 * Pads the last dimensions of `x`, as `F.pad(input, pad, mode="constant", value=0)`: `pad` lists
 * (left, right) pairs from the last dimension backwards; negative amounts crop. Constant mode only.
 */
export function pad(x: Tensor, padding: readonly number[], mode = "constant", value = 0): Tensor {
  if (mode !== "constant") throw new Error(`pad: mode '${mode}' is not supported (only 'constant')`);
  if (padding.length % 2 !== 0) throw new Error("Padding length must be divisible by 2");
  if (padding.length / 2 > x.ndim) throw new Error("Padding length too large");
  const nd = x.ndim;
  const lo = new Array<number>(nd).fill(0);
  const outShape = x.shape.slice();
  for (let i = 0; i < padding.length / 2; i++) {
    const d = nd - 1 - i;
    lo[d] = padding[2 * i];
    outShape[d] = x.shape[d] + padding[2 * i] + padding[2 * i + 1];
    if (outShape[d] < 0) {
      throw new Error(
        `The input size ${x.shape[d]}, plus negative padding ${padding[2 * i]} and ${padding[2 * i + 1]} resulted in a negative output size, which is invalid. Check dimension ${d} of your input.`,
      );
    }
  }
  const n = shapeNumel(outShape);
  const src = new Int32Array(n).fill(-1); // (out) flat index into x, −1 for padding
  const inStrides = new Array<number>(nd);
  let st = 1;
  for (let d = nd - 1; d >= 0; d--) {
    inStrides[d] = st;
    st *= x.shape[d];
  }
  const idx = new Array<number>(nd).fill(0);
  for (let o = 0; o < n; o++) {
    let s = 0;
    let inside = true;
    for (let d = 0; d < nd; d++) {
      const i = idx[d] - lo[d];
      if (i < 0 || i >= x.shape[d]) {
        inside = false;
        break;
      }
      s += i * inStrides[d];
    }
    if (inside) src[o] = s;
    for (let d = nd - 1; d >= 0; d--) {
      if (++idx[d] < outShape[d]) break;
      idx[d] = 0;
    }
  }
  if (x._gpu !== null) {
    // on the device: the kept elements gathered (their gradient scattered back), plus the fill value
    const kept = deviceGatherRowsAdd(x, src, 1, outShape, "ConstantPadNdBackward0");
    if (value === 0) return kept;
    const fill = Float32Array.from(src, (s) => (s < 0 ? value : 0));
    return ops.add(kept, deviceConstant(x, fill, outShape));
  }
  const y = new Float32Array(n);
  for (let o = 0; o < n; o++) y[o] = src[o] < 0 ? value : x.data[src[o]];
  return customOp("ConstantPadNdBackward0", [x], [{ data: y, shape: outShape }], (g, d) => {
    const dx = d.add(0);
    if (dx === null) return;
    const g0 = g[0]!;
    for (let o = 0; o < n; o++) if (src[o] >= 0) dx[src[o]] += g0[o];
  })[0];
}
