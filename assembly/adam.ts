// The Adam / AdamW element update in WebAssembly: a port of src/kernels/adam.ts (read its header for the
// formulas), four elements at a time, giving the TypeScript twin's bits.
//
// n = number of elements of one parameter
//
// All pointers are byte addresses into this module's memory; vMax = 0 stands for null (no amsgrad). The caller
// validated sizes.
//
// Rounding, lane by lane, as the twin (f = Math.fround there):
//   f(a·b), f(a / b), f(a + b), f(√a) of float32 values: one f32x4 operation. The twin rounds to float64
//     first, then to float32; that gives the same float32 for these single operations (53 ≥ 2·24 + 2 bits).
//   f(a + b·c): the twin's float64 operations themselves: promote, f64x2.mul (exact), f64x2.add, demote.
//   No fused multiply-add, not even in the relaxed-SIMD build: it would round a·b + c once, the twin twice.

import { at, ld, st } from "./lanes";

/** f(a + b·c) per lane of float32 values: b·c exact in float64, the sum rounded to float64, then to float32. */
// @ts-ignore: decorator
@inline
function addMul(a: v128, b: v128, c: v128, one: bool): v128 {
  const lo = f32x4.demote_f64x2_zero(
    f64x2.add(
      f64x2.promote_low_f32x4(a),
      f64x2.mul(f64x2.promote_low_f32x4(b), f64x2.promote_low_f32x4(c)),
    ),
  );
  if (one) return lo;
  const ah = v128.shuffle<f32>(a, a, 2, 3, 2, 3);
  const bh = v128.shuffle<f32>(b, b, 2, 3, 2, 3);
  const ch = v128.shuffle<f32>(c, c, 2, 3, 2, 3);
  const hi = f32x4.demote_f64x2_zero(
    f64x2.add(
      f64x2.promote_low_f32x4(ah),
      f64x2.mul(f64x2.promote_low_f32x4(bh), f64x2.promote_low_f32x4(ch)),
    ),
  );
  return v128.shuffle<f32>(lo, hi, 0, 1, 4, 5);
}

/**
 * Elements [i, i + 4) (or element i when one) of the update. plain = no option (sign 1, no l2, no decay, no
 * amsgrad): the options' operations are left out, as in the twin's plain loop.
 */
// @ts-ignore: decorator
@inline
function update(
  i: i32,
  one: bool,
  plain: bool,
  p: usize,
  g: usize,
  m: usize,
  v: usize,
  vMax: usize,
  useL2: bool,
  sign: v128,
  l2: v128,
  decay: v128,
  b1: v128,
  c1: v128,
  b2: v128,
  c2: v128,
  eps: v128,
  negStepSize: v128,
  bc2Sqrt: v128,
): void {
  const pp = at(p, i);
  const pm = at(m, i);
  const pv = at(v, i);
  const pi = ld(pp, one);
  let gi = ld(at(g, i), one);
  let pd = pi;
  if (!plain) {
    gi = f32x4.mul(sign, gi); // ±1: exact
    if (useL2) gi = addMul(gi, l2, pi, one);
    pd = f32x4.mul(pi, decay);
  }
  const mi = addMul(f32x4.mul(ld(pm, one), b1), c1, gi, one);
  st(pm, mi, one);
  const vi = addMul(f32x4.mul(ld(pv, one), b2), f32x4.mul(c2, gi), gi, one);
  st(pv, vi, one);
  let vm = vi;
  if (!plain && vMax != 0) {
    // the twin's `vMax > v || isNaN(vMax) ? vMax : v`: NaN wins, and +0 vs -0 keeps v (f32x4.max would not)
    const px = at(vMax, i);
    const x = ld(px, one);
    vm = v128.bitselect(x, vi, v128.or(f32x4.gt(x, vi), f32x4.ne(x, x)));
    st(px, vm, one);
  }
  const denom = f32x4.add(f32x4.div(f32x4.sqrt(vm), bc2Sqrt), eps);
  st(pp, f32x4.add(pd, f32x4.div(f32x4.mul(negStepSize, mi), denom)), one);
}

// @ts-ignore: decorator
@inline
function loop(
  n: i32,
  plain: bool,
  p: usize,
  g: usize,
  m: usize,
  v: usize,
  vMax: usize,
  sign: f32,
  l2: f32,
  decay: f32,
  b1: f32,
  c1: f32,
  b2: f32,
  c2: f32,
  eps: f32,
  negStepSize: f32,
  bc2Sqrt: f32,
): void {
  const useL2 = l2 != 0;
  const vSign = f32x4.splat(sign);
  const vL2 = f32x4.splat(l2);
  const vDecay = f32x4.splat(decay);
  const vB1 = f32x4.splat(b1);
  const vC1 = f32x4.splat(c1);
  const vB2 = f32x4.splat(b2);
  const vC2 = f32x4.splat(c2);
  const vEps = f32x4.splat(eps);
  const vStep = f32x4.splat(negStepSize);
  const vBc2 = f32x4.splat(bc2Sqrt);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    update(i, false, plain, p, g, m, v, vMax, useL2, vSign, vL2, vDecay, vB1, vC1, vB2, vC2, vEps, vStep, vBc2);
  }
  for (; i < n; i++) {
    update(i, true, plain, p, g, m, v, vMax, useL2, vSign, vL2, vDecay, vB1, vC1, vB2, vC2, vEps, vStep, vBc2);
  }
}

/**
 * One Adam(W) step on n elements in place: the twin of adamStep in src/kernels/adam.ts, same arguments
 * (vMax = 0: no amsgrad). Every scalar is a float32 value.
 */
export function adamStep(
  p: usize, // (n,) parameters, updated
  g: usize, // (n,) gradient
  m: usize, // (n,) first moment, updated
  v: usize, // (n,) second moment, updated
  vMax: usize, // (n,) running maximum of v (amsgrad), updated; 0 = none
  n: i32,
  sign: f32,
  l2: f32,
  decay: f32,
  b1: f32,
  c1: f32,
  b2: f32,
  c2: f32,
  eps: f32,
  negStepSize: f32,
  bc2Sqrt: f32,
): void {
  if (sign == 1 && l2 == 0 && decay == 1 && vMax == 0) {
    loop(n, true, p, g, m, v, vMax, sign, l2, decay, b1, c1, b2, c2, eps, negStepSize, bc2Sqrt);
  } else {
    loop(n, false, p, g, m, v, vMax, sign, l2, decay, b1, c1, b2, c2, eps, negStepSize, bc2Sqrt);
  }
}
