// Gradient clipping, as torch.nn.utils.clip_grad_norm_ / clip_grad_value_ (PyTorch 1.13). Both work in
// place on the `.grad` of the given tensors and skip tensors without a gradient.
//
// The norms are accumulated in float64 and rounded to float32 once per tensor, as a float32 result;
// the clip coefficient and the scaling are computed in float32, as PyTorch's tensor ops do.
//
// Gradients on the webgpu device are clipped there (kernels/webgpu/clip.ts): the norms, the total and
// the coefficient are computed on the device and the gradients scaled by a kernel reading it, with
// nothing read back. As the total norm can only be read asynchronously, `clipGradNorm_` refuses them
// and `clipGradNormAsync_` records the clipping at once and resolves to the total.

import { mixedDevices } from "../core/device.js";
import { Tensor } from "../core/tensor.js";
import { gpuClampInPlace, gpuClipGradNorm } from "../kernels/webgpu/clip.js";

const f32 = Math.fround;

/** The gradients of `params` that exist, checked to be Tensors. */
function gradTensors(params: Tensor | Iterable<Tensor>, who: string): Tensor[] {
  const list = params instanceof Tensor ? [params] : Array.from(params);
  const out: Tensor[] = [];
  for (const p of list) {
    if (!(p instanceof Tensor)) throw new TypeError(`${who}: expected Tensors, got ${typeof p}`);
    if (p.grad !== null) out.push(p.grad);
  }
  return out;
}

/** Whether the gradients live on the webgpu device; a mix of devices raises PyTorch's error. */
function onWebGPU(grads: readonly Tensor[]): boolean {
  for (const g of grads) if (g.device !== grads[0].device) throw mixedDevices(grads[0].device, g.device);
  return grads.length > 0 && grads[0].device === "webgpu";
}

function checkNormArgs(who: string, maxNorm: number, normType: number): void {
  if (typeof maxNorm !== "number" || Number.isNaN(maxNorm)) {
    throw new Error(`${who}: expected maxNorm to be a number, got ${maxNorm}`);
  }
  if (typeof normType !== "number" || Number.isNaN(normType)) {
    throw new Error(`${who}: expected normType to be a number or Infinity, got ${normType}`);
  }
}

function nonfinite(normType: number): Error {
  return new Error(
    `The total norm of order ${normName(normType)} for gradients from \`parameters\` is non-finite, so it cannot be clipped. To disable this error and scale the gradients by the non-finite norm anyway, set \`errorIfNonfinite: false\``,
  );
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
  checkNormArgs("clipGradNorm_", maxNorm, normType);
  const tensors = gradTensors(params, "clipGradNorm_");
  if (onWebGPU(tensors)) {
    throw new TypeError(
      "clipGradNorm_: the gradients are on the webgpu device, whose values can only be read asynchronously: use `await clipGradNormAsync_(params, maxNorm, normType, options)`, which clips on the device and resolves to the total norm",
    );
  }
  const grads = tensors.map((g) => g.data);
  if (grads.length === 0) return 0;
  const norms = grads.map((g) => vectorNorm(g, normType));
  const total =
    normType === Number.POSITIVE_INFINITY && norms.length === 1 ? norms[0] : vectorNorm(norms, normType);
  if (options.errorIfNonfinite && !Number.isFinite(total)) throw nonfinite(normType);
  // PyTorch's max_norm / (total + 1e-6) on a tensor is reciprocal() then a product: two float32 roundings
  const coef = f32(f32(1 / f32(total + f32(1e-6))) * f32(maxNorm));
  // PyTorch multiplies by min(coef, 1): a no-op for coef >= 1, but a NaN coefficient still spreads.
  if (!(coef >= 1)) {
    for (const g of grads) for (let i = 0; i < g.length; i++) g[i] = g[i] * coef;
  }
  return total;
}

/**
 * clipGradNorm_ for gradients on either device: on the webgpu device the clipping is recorded there when
 * this is called (an `opt.step()` right after sees the clipped gradients, awaited or not) and the promise
 * resolves to the total norm once the device has computed it. With `errorIfNonfinite`, a NaN or infinite
 * total leaves the gradients unscaled and the promise rejects with clipGradNorm_'s error. CPU gradients
 * are clipped by clipGradNorm_ itself.
 */
export async function clipGradNormAsync_(
  params: Tensor | Iterable<Tensor>,
  maxNorm: number,
  normType = 2,
  options: { errorIfNonfinite?: boolean } = {},
): Promise<number> {
  checkNormArgs("clipGradNormAsync_", maxNorm, normType);
  const list = params instanceof Tensor ? [params] : Array.from(params); // a generator is read once
  const grads = gradTensors(list, "clipGradNormAsync_");
  if (!onWebGPU(grads)) return clipGradNorm_(list, maxNorm, normType, options);
  const ctx = grads[0]._gpu!.ctx;
  const check = options.errorIfNonfinite === true;
  const out = gpuClipGradNorm(
    ctx,
    grads.map((g) => ({ buffer: g._gpu!.buffer, n: g.numel })),
    normType,
    f32(maxNorm),
    check,
  );
  let total: number;
  try {
    total = (await ctx.read(out, 4))[0];
  } finally {
    ctx.release(out);
  }
  if (check && !Number.isFinite(total)) throw nonfinite(normType);
  return total;
}

/** Clamps every gradient element into [-clipValue, clipValue] in place (on the device for webgpu ones). */
export function clipGradValue_(params: Tensor | Iterable<Tensor>, clipValue: number): void {
  if (typeof clipValue !== "number" || Number.isNaN(clipValue)) {
    throw new Error(`clipGradValue_: expected clipValue to be a number, got ${clipValue}`);
  }
  const hi = f32(clipValue);
  const lo = f32(-clipValue);
  for (const t of gradTensors(params, "clipGradValue_")) {
    if (t._gpu !== null) {
      gpuClampInPlace(t._gpu.ctx, t._gpu.buffer, t.numel, lo, hi);
      continue;
    }
    const g = t.data;
    for (let i = 0; i < g.length; i++) {
      // clamp(min=lo, max=hi) = min(max(v, lo), hi): with a negative clipValue (lo > hi) all become hi
      const v = g[i] < lo ? lo : g[i];
      g[i] = v > hi ? hi : v;
    }
  }
}
