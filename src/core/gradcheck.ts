// Finite-difference gradient checking: compares the autograd gradient of a random weighting of an
// op's output with central differences. Tensors are float32, so differences use a fairly large step
// and the comparison a tolerance suited to float32.

import { noGrad, type Tensor } from "./tensor.js";
import { Generator } from "./random.js";

export interface GradcheckOptions {
  eps?: number;
  atol?: number;
  rtol?: number;
  seed?: number;
}

export interface GradcheckResult {
  ok: boolean;
  /** The worst |analytic - numeric| - tolerance found, with where it was. */
  worst: { input: number; index: number; analytic: number; numeric: number } | null;
}

/**
 * Checks d(sum(w · fn(inputs)))/d(input) for every input that requires a gradient, element by
 * element, against (f(x + eps) - f(x - eps)) / (2 eps) evaluated in float64 over the float32 output.
 */
export function gradcheck(
  fn: (...inputs: Tensor[]) => Tensor,
  inputs: Tensor[],
  opts: GradcheckOptions = {},
): GradcheckResult {
  const eps = opts.eps ?? 1e-2;
  const atol = opts.atol ?? 1e-3;
  const rtol = opts.rtol ?? 1e-2;
  const gen = new Generator(opts.seed ?? 1234);
  for (const x of inputs) x.grad = null;
  const out = fn(...inputs);
  const w = new Float64Array(out.numel);
  for (let i = 0; i < w.length; i++) w[i] = gen.nextDouble() * 2 - 1;
  const weighted = (o: Tensor) => {
    let s = 0;
    const od = o.data; // once: a view's data is gathered on each read
    for (let i = 0; i < od.length; i++) s += od[i] * w[i];
    return s;
  };
  out.backward(Float32Array.from(w));
  let worst: GradcheckResult["worst"] = null;
  let worstExcess = 0;
  inputs.forEach((x, k) => {
    if (!x.requiresGrad) return;
    const analytic = x.grad?.data ?? new Float32Array(x.numel);
    const xd = x.data; // the input itself (a leaf: contiguous), perturbed in place
    for (let i = 0; i < x.numel; i++) {
      const orig = xd[i];
      xd[i] = orig + eps;
      const fp = noGrad(() => weighted(fn(...inputs)));
      xd[i] = orig - eps;
      const fm = noGrad(() => weighted(fn(...inputs)));
      xd[i] = orig;
      const numeric = (fp - fm) / (2 * eps);
      const excess = Math.abs(analytic[i] - numeric) - (atol + rtol * Math.abs(numeric));
      if (!(excess <= 0) && (worst === null || excess > worstExcess || Number.isNaN(excess))) {
        worst = { input: k, index: i, analytic: analytic[i], numeric };
        worstExcess = excess;
      }
    }
  });
  return { ok: worst === null, worst };
}
