// Gradient clipping, as torch.nn.utils.clip_grad_norm_ / clip_grad_value_ (PyTorch 1.13). Both work in
// place on the `.grad` of the given tensors and skip tensors without a gradient.
//
// The norms are accumulated in float64 and rounded to float32 once per tensor, as a float32 result;
// the clip coefficient and the scaling are computed in float32, as PyTorch's tensor ops do.

import { Tensor } from "../core/tensor.js";

const f32 = Math.fround;

function gradsOf(params: Tensor | Iterable<Tensor>, who: string): Float32Array[] {
  const list = params instanceof Tensor ? [params] : Array.from(params);
  const out: Float32Array[] = [];
  for (const p of list) {
    if (!(p instanceof Tensor)) throw new TypeError(`${who}: expected Tensors, got ${typeof p}`);
    if (p.grad !== null) out.push(p.grad.data);
  }
  return out;
}

/** The p-norm of `x` as a float32 value (p = Infinity: max |x|, -Infinity: min |x|, 0: count of non-zeros). */
function vectorNorm(x: ArrayLike<number>, p: number): number {
  const n = x.length;
  if (p === Number.POSITIVE_INFINITY || p === Number.NEGATIVE_INFINITY) {
    let r = p > 0 ? 0 : Number.POSITIVE_INFINITY;
    for (let i = 0; i < n; i++) {
      const a = Math.abs(x[i]);
      if (Number.isNaN(a)) return Number.NaN;
      r = p > 0 ? Math.max(r, a) : Math.min(r, a);
    }
    return f32(r);
  }
  let s = 0;
  if (p === 0) {
    for (let i = 0; i < n; i++) if (x[i] !== 0) s += 1;
    return f32(s);
  }
  if (p === 1) {
    for (let i = 0; i < n; i++) s += Math.abs(x[i]);
    return f32(s);
  }
  if (p === 2) {
    for (let i = 0; i < n; i++) s += x[i] * x[i];
    return f32(Math.sqrt(s));
  }
  for (let i = 0; i < n; i++) s += Math.abs(x[i]) ** p;
  return f32(s ** (1 / p));
}

/** A norm type as Python prints the float (2 -> "2.0", Infinity -> "inf"). */
function normName(p: number): string {
  if (p === Number.POSITIVE_INFINITY) return "inf";
  if (p === Number.NEGATIVE_INFINITY) return "-inf";
  return Number.isInteger(p) ? `${p}.0` : String(p);
}

/**
 * Scales the gradients so that their joint `normType`-norm (all gradients viewed as one vector) is
 * at most `maxNorm`: each gradient is multiplied by maxNorm / (total + 1e-6) when that is below 1.
 * Returns the total norm before clipping. With `errorIfNonfinite`, a NaN or infinite total norm
 * throws instead.
 */
export function clipGradNorm_(
  params: Tensor | Iterable<Tensor>,
  maxNorm: number,
  normType = 2,
  options: { errorIfNonfinite?: boolean } = {},
): number {
  if (typeof maxNorm !== "number" || Number.isNaN(maxNorm)) {
    throw new Error(`clipGradNorm_: expected maxNorm to be a number, got ${maxNorm}`);
  }
  if (typeof normType !== "number" || Number.isNaN(normType)) {
    throw new Error(`clipGradNorm_: expected normType to be a number or Infinity, got ${normType}`);
  }
  const grads = gradsOf(params, "clipGradNorm_");
  if (grads.length === 0) return 0;
  const norms = grads.map((g) => vectorNorm(g, normType));
  const total =
    normType === Number.POSITIVE_INFINITY && norms.length === 1 ? norms[0] : vectorNorm(norms, normType);
  if (options.errorIfNonfinite && !Number.isFinite(total)) {
    throw new Error(
      `The total norm of order ${normName(normType)} for gradients from \`parameters\` is non-finite, so it cannot be clipped. To disable this error and scale the gradients by the non-finite norm anyway, set \`errorIfNonfinite: false\``,
    );
  }
  // PyTorch's max_norm / (total + 1e-6) on a tensor is reciprocal() then a product: two float32 roundings
  const coef = f32(f32(1 / f32(total + f32(1e-6))) * f32(maxNorm));
  // PyTorch multiplies by min(coef, 1): a no-op for coef >= 1, but a NaN coefficient still spreads.
  if (!(coef >= 1)) {
    for (const g of grads) for (let i = 0; i < g.length; i++) g[i] = g[i] * coef;
  }
  return total;
}

/** Clamps every gradient element into [-clipValue, clipValue] in place. */
export function clipGradValue_(params: Tensor | Iterable<Tensor>, clipValue: number): void {
  if (typeof clipValue !== "number" || Number.isNaN(clipValue)) {
    throw new Error(`clipGradValue_: expected clipValue to be a number, got ${clipValue}`);
  }
  const hi = f32(clipValue);
  const lo = f32(-clipValue);
  for (const g of gradsOf(params, "clipGradValue_")) {
    for (let i = 0; i < g.length; i++) {
      // clamp(min=lo, max=hi) = min(max(v, lo), hi): with a negative clipValue (lo > hi) all become hi
      const v = g[i] < lo ? lo : g[i];
      g[i] = v > hi ? hi : v;
    }
  }
}
