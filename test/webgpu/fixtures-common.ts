// Shared by the fixture check scripts (fixtures-*.mts): the error measure that webgpu-fixtures.test.ts
// asserts. Not a test file.

/**
 * max |a − e| / max |e| (the absolute error where e is all zeros): float32 rounding relative to the
 * tensor's own scale. A length or shape mismatch, or a NaN where e has none, gives Infinity.
 */
export function relErr(
  a: ArrayLike<number>,
  e: ArrayLike<number>,
  aShape?: readonly number[],
  eShape?: readonly number[],
): number {
  if (a.length !== e.length) return Number.POSITIVE_INFINITY;
  if (aShape && eShape && (aShape.length !== eShape.length || aShape.some((d, i) => d !== eShape[i]))) {
    return Number.POSITIVE_INFINITY;
  }
  let scale = 0;
  let diff = 0;
  for (let i = 0; i < e.length; i++) {
    if (Number.isNaN(e[i])) {
      if (!Number.isNaN(a[i])) return Number.POSITIVE_INFINITY;
      continue;
    }
    scale = Math.max(scale, Math.abs(e[i]));
    const d = Math.abs(a[i] - e[i]);
    diff = d <= diff ? diff : Number.isNaN(d) ? Number.POSITIVE_INFINITY : d;
  }
  return scale > 0 ? diff / scale : diff;
}

/** One ported tutorial's run on the device, as fixtures-examples.mts prints it and webgpu-examples.test.ts reads it. */
export interface ExampleCheck {
  /** losses trained on the device */
  steps: number;
  /** worst relative error of each loss against PyTorch's (the fixture's first `steps` losses) */
  "losses vs PyTorch": number;
  /** worst relative error of each loss against the CPU path's run of the same prefix */
  "losses vs CPU": number;
  /** relative errors of the final tensors against PyTorch's or the CPU path's (named in the key) */
  outputs: Record<string, number>;
  /** discrete outputs (decoded ids, sampled names, predicted tags): equal to the CPU path's */
  same: Record<string, boolean>;
  dispatches: number;
  reads: number;
  ms: number;
}
