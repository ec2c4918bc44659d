// Float32 SIMD nonlinearities for the recurrent kernels: exp, sigmoid, tanh on four lanes at once.
// Accuracy: exp within 2 ulp on its range (Cody-Waite reduction + degree-6 polynomial, Cephes' expf
// coefficients); tanh within ~2 ulp (odd polynomial below 0.625, 1 - 2/(e^2x + 1) above); sigmoid is
// 1/(1 + e^-x). Results flush to 0 / ±1 where float32 does.

const LOG2E: f32 = 1.44269504088896341;
const LN2_HI: f32 = 0.693359375; // ln 2 split so that n·LN2_HI is exact
const LN2_LO: f32 = -2.12194440e-4;
const EXP_HI: f32 = 88.0; // 2^127 · 1.42 stays finite
const EXP_LO: f32 = -87.33654; // e^x ≥ FLT_MIN, a normal number
const ROUNDER: f32 = 12582912; // 1.5 · 2^23

/** e^x per lane, x clamped to [-87.34, 88] (so e^x saturates at ~1.65e38 and ~1.2e-38). */
// @ts-ignore: decorator
@inline
export function exp4(x: v128): v128 {
  x = f32x4.min(f32x4.max(x, f32x4.splat(EXP_LO)), f32x4.splat(EXP_HI));
  // n = round(x·log2 e): adding 1.5·2^23 rounds to an integer, which then sits in the low mantissa bits
  const t = f32x4.add(f32x4.mul(x, f32x4.splat(LOG2E)), f32x4.splat(ROUNDER));
  const n = f32x4.sub(t, f32x4.splat(ROUNDER));
  let r = f32x4.sub(x, f32x4.mul(n, f32x4.splat(LN2_HI)));
  r = f32x4.sub(r, f32x4.mul(n, f32x4.splat(LN2_LO)));
  let p = f32x4.splat(1.9875691500e-4);
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1.3981999507e-3));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(8.3334519073e-3));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(4.1665795894e-2));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1.6666665459e-1));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(5.0000001201e-1));
  p = f32x4.add(f32x4.add(f32x4.mul(f32x4.mul(p, r), r), r), f32x4.splat(1));
  // 2^n built in the exponent field, n ∈ [-126, 127]: the low bits of t are n (mod 2^9), shifted into place
  const scale = i32x4.add(i32x4.shl(t, 23), i32x4.splat(127 << 23));
  return f32x4.mul(p, scale);
}

/** 1 / (1 + e^-x) per lane. */
// @ts-ignore: decorator
@inline
export function sigmoid4(x: v128): v128 {
  return f32x4.div(f32x4.splat(1), f32x4.add(f32x4.splat(1), exp4(f32x4.neg(x))));
}

/** tanh x per lane. */
// @ts-ignore: decorator
@inline
export function tanh4(x: v128): v128 {
  const ax = f32x4.abs(x);
  // |x| < 0.625: x + x³·P(x²)
  const z = f32x4.mul(x, x);
  let p = f32x4.splat(-5.70498872745e-3);
  p = f32x4.add(f32x4.mul(p, z), f32x4.splat(2.06390887954e-2));
  p = f32x4.add(f32x4.mul(p, z), f32x4.splat(-5.37397155531e-2));
  p = f32x4.add(f32x4.mul(p, z), f32x4.splat(1.33314422036e-1));
  p = f32x4.add(f32x4.mul(p, z), f32x4.splat(-3.33332819422e-1));
  const small = f32x4.add(f32x4.mul(f32x4.mul(p, z), x), x);
  // |x| ≥ 0.625: sign(x)·(1 - 2/(e^{2|x|} + 1)); e^{2|x|} saturates, giving exactly 1 for |x| > 9
  const e = exp4(f32x4.add(ax, ax));
  const big = f32x4.sub(f32x4.splat(1), f32x4.div(f32x4.splat(2), f32x4.add(e, f32x4.splat(1))));
  const signed = v128.or(big, v128.and(x, i32x4.splat(0x80000000)));
  return v128.bitselect(small, signed, f32x4.lt(ax, f32x4.splat(0.625)));
}

/** Scalar twins for the tails of rows that are not a multiple of 4 long. */
// @ts-ignore: decorator
@inline
export function sigmoid1(x: f32): f32 {
  return f32x4.extract_lane(sigmoid4(f32x4.splat(x)), 0);
}

// @ts-ignore: decorator
@inline
export function tanh1(x: f32): f32 {
  return f32x4.extract_lane(tanh4(f32x4.splat(x)), 0);
}
