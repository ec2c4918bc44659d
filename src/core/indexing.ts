// Indexing and selection: where.

import { broadcastIndex, broadcastShapes, reduceTo, toTensor } from "./broadcast.js";
import { alloc, promoteTypes } from "./dtype.js";
import { result } from "./engine.js";
import { shapeNumel } from "./shape.js";
import type { Tensor, TensorLike } from "./tensor.js";

/** Elementwise choice: `cond` (nonzero = true) ? a : b, broadcast. */
export function where(cond: Tensor, a: TensorLike, b: TensorLike): Tensor {
  const ta = toTensor(a);
  const tb = toTensor(b);
  const shape = broadcastShapes(broadcastShapes(cond.shape, ta.shape), tb.shape);
  const n = shapeNumel(shape);
  const ci = broadcastIndex(cond.shape, shape);
  const ai = broadcastIndex(ta.shape, shape);
  const bi = broadcastIndex(tb.shape, shape);
  const c = cond.data;
  const out = alloc(promoteTypes(ta.dtype, tb.dtype), n) as Float32Array;
  for (let i = 0; i < n; i++) {
    const pick = c[ci === null ? i : ci[i]] !== 0;
    out[i] = pick ? ta.data[ai === null ? i : ai[i]] : tb.data[bi === null ? i : bi[i]];
  }
  return result(out, shape, [ta, tb], "WhereBackward0", (g) => {
    const ga = new Float32Array(n);
    const gb = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      if (c[ci === null ? i : ci[i]] !== 0) ga[i] = g[i];
      else gb[i] = g[i];
    }
    return [
      ta.requiresGrad ? reduceTo(ga, ai, ta.numel) : null,
      tb.requiresGrad ? reduceTo(gb, bi, tb.numel) : null,
    ];
  });
}
