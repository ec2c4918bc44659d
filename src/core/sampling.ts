// Random sampling ops that draw PyTorch 1.13's CPU numbers for a seed (see random.ts): multinomial, randperm
// and bernoulli. Each follows the CPU kernel's use of the Mersenne Twister, draw for draw.

import { alloc } from "./dtype.js";
import { type Generator, defaultGenerator } from "./random.js";
import { topk } from "./sorting.js";
import { Tensor } from "./tensor.js";

export interface SampleOptions {
  generator?: Generator;
}

/**
 * `numSamples` category indices per row of `probs` (1-D, or 2-D: one distribution per row; weights need
 * not sum to 1), int64, as `torch.multinomial`. Without replacement PyTorch 1.13's CPU path
 * divides the weights by Exp(1) draws (one 53-bit uniform each, u -> -log(1 - u)) and takes the top
 * `numSamples`; with replacement it searches each 53-bit uniform draw in the float32 cumulative weights.
 */
export function multinomial(
  probs: Tensor,
  numSamples: number,
  replacement = false,
  opts: SampleOptions = {},
): Tensor {
  const gen = opts.generator ?? defaultGenerator;
  if (probs.dtype !== "float32")
    throw new Error(
      `multinomial only supports floating-point dtypes for input, got: ${probs.dtype === "int64" ? "Long" : "Bool"}`,
    );
  if (probs.ndim < 1 || probs.ndim > 2) throw new Error("prob_dist must be 1 or 2 dim");
  if (!Number.isInteger(numSamples) || numSamples <= 0)
    throw new Error(`cannot sample n_sample <= 0 samples`);
  const cats = probs.shape[probs.ndim - 1];
  const rows = probs.ndim === 1 ? 1 : probs.shape[0];
  if (!replacement && numSamples > cats)
    throw new Error("cannot sample n_sample > prob_dist.size(-1) samples without replacement");
  if (cats > 2 ** 24) throw new Error("number of categories cannot exceed 2^24");
  const p = probs.data;
  const outShape = probs.ndim === 1 ? [numSamples] : [rows, numSamples];
  if (!replacement) {
    let bad = false;
    for (let i = 0; i < p.length; i++) if (!(p[i] >= 0 && p[i] < Number.POSITIVE_INFINITY)) bad = true;
    if (bad) throw new Error("probability tensor contains either `inf`, `nan` or element < 0");
    for (let r = 0; r < rows; r++) {
      let s = 0;
      for (let j = 0; j < cats; j++) s += p[r * cats + j];
      if (s === 0) throw new Error("invalid multinomial distribution (sum of probabilities <= 0)");
    }
    const q = new Float32Array(p.length);
    for (let i = 0; i < q.length; i++) q[i] = -Math.log1p(-gen.nextDouble());
    for (let i = 0; i < q.length; i++) q[i] = p[i] / q[i];
    const picked = topk(new Tensor(q, probs.shape), numSamples, -1)[1];
    return new Tensor(picked.storage, outShape);
  }
  const out = alloc("int64", rows * numSamples) as Float64Array;
  const cum = new Float32Array(cats);
  for (let r = 0; r < rows; r++) {
    let s = 0;
    for (let j = 0; j < cats; j++) {
      const v = p[r * cats + j];
      if (!(v >= 0)) {
        throw new Error(
          Number.isNaN(v)
            ? "invalid multinomial distribution (encountering probability entry = infinity or NaN)"
            : "invalid multinomial distribution (encountering probability entry < 0)",
        );
      }
      if (!Number.isFinite(v))
        throw new Error(
          "invalid multinomial distribution (encountering probability entry = infinity or NaN)",
        );
      s = Math.fround(s + v);
      cum[j] = s;
    }
    if (!(s > 0)) throw new Error("invalid multinomial distribution (sum of probabilities <= 0)");
    for (let j = 0; j < cats; j++) cum[j] = Math.fround(cum[j] / s);
    cum[cats - 1] = 1;
    for (let k = 0; k < numSamples; k++) {
      const u = gen.nextDouble();
      let lo = 0;
      let hi = cats;
      while (hi - lo > 0) {
        const mid = lo + ((hi - lo) >> 1);
        if (cum[mid] < u) lo = mid + 1;
        else hi = mid;
      }
      out[r * numSamples + k] = lo;
    }
  }
  return new Tensor(out, outShape);
}

/** A random permutation of 0..n-1, int64, as `torch.randperm` (PyTorch's CPU swaps, one 32-bit draw each). */
export function randperm(n: number, opts: SampleOptions = {}): Tensor {
  if (!Number.isInteger(n) || n < 0)
    throw new Error(`Trying to create tensor with negative dimension ${n}: [${n}]`);
  const gen = opts.generator ?? defaultGenerator;
  const r = new Float64Array(n);
  for (let i = 0; i < n; i++) r[i] = i;
  for (let i = 0; i < n - 1; i++) {
    const z = gen.nextUint32() % (n - i);
    const t = r[i];
    r[i] = r[z + i];
    r[z + i] = t;
  }
  return new Tensor(r, [n]);
}

/**
 * 0/1 draws shaped and typed as `input`: with probability input[i] (`torch.bernoulli(input)`, one 24-bit
 * uniform per element, as PyTorch's float kernel), or with the one probability `p`
 * (`torch.bernoulli(input, p)`, one 53-bit uniform per element, as PyTorch's CPU build without MKL).
 */
export function bernoulli(input: Tensor, p?: number | null, opts: SampleOptions = {}): Tensor {
  const gen = opts.generator ?? defaultGenerator;
  const n = input.numel;
  const out = alloc(input.dtype, n) as Float32Array;
  const check = (v: number) => {
    if (!(v >= 0 && v <= 1))
      throw new Error(
        "Expected p_in >= 0 && p_in <= 1 to be true, but got false.  (Could this error message be improved?  If so, please report an enhancement request to PyTorch.)",
      );
  };
  if (p === undefined || p === null) {
    const x = input.data;
    for (let i = 0; i < n; i++) check(x[i]);
    if (input.dtype === "float32") for (let i = 0; i < n; i++) out[i] = gen.nextFloat() < x[i] ? 1 : 0;
    else for (let i = 0; i < n; i++) out[i] = gen.nextDouble() < x[i] ? 1 : 0;
  } else {
    check(p);
    for (let i = 0; i < n; i++) out[i] = gen.nextDouble() < p ? 1 : 0;
  }
  return new Tensor(out, input.shape);
}
