// The Adam / AdamW element update (plain TypeScript kernel; assembly/adam.ts is its WebAssembly twin, which
// must give the same bits), with the float32 roundings that reproduce PyTorch's results. The optimizer
// (src/optim/adam.ts) computes the per-step scalars.
// n = number of elements of one parameter.
//
//   g = ±grad (+ l2·p)                       p = p·decay
//   m = b1·m + c1·g                          v = b2·v + c2·g·g
//   v̂ = max(v̂, v) (amsgrad, NaN wins)        denom = √v̂ / bc2Sqrt + eps
//   p = p + negStepSize·m / denom
//
// Rounding, with f = Math.fround: products and sums of two float32 values round once (f(a·b), f(a + b));
// `f(a + b·c)` (l2, m and v updates) takes b·c exactly in float64 and rounds the sum to float64, then to
// float32. The optimizer tests check the result against PyTorch 1.13's trajectories.

const f32 = Math.fround;

/**
 * One Adam(W) step on n elements in place. `sign` is -1 to maximize (else 1), `l2` Adam's weight decay
 * (0: none), `decay` AdamW's factor 1 - lr·wd (1: none), `vMax` the amsgrad running maximum or null.
 * Every scalar is a float32 value.
 */
export function adamStep(
  p: Float32Array, // (n,) parameters, updated
  g: Float32Array, // (n,) gradient
  m: Float32Array, // (n,) first moment, updated
  v: Float32Array, // (n,) second moment, updated
  vMax: Float32Array | null, // (n,) running maximum of v (amsgrad), updated
  sign: number,
  l2: number,
  decay: number,
  b1: number,
  c1: number,
  b2: number,
  c2: number,
  eps: number,
  negStepSize: number,
  bc2Sqrt: number,
): void {
  expectAdamLengths(p, g, m, v, vMax);
  const n = p.length;
  if (sign === 1 && l2 === 0 && decay === 1 && vMax === null) {
    // Plain Adam (the common case): the same arithmetic without the per-element option branches.
    for (let i = 0; i < n; i++) {
      const gi = g[i];
      const mi = f32(f32(m[i] * b1) + c1 * gi);
      m[i] = mi;
      const vi = f32(f32(v[i] * b2) + f32(c2 * gi) * gi);
      v[i] = vi;
      const denom = f32(f32(f32(Math.sqrt(vi)) / bc2Sqrt) + eps);
      p[i] = p[i] + f32(f32(negStepSize * mi) / denom);
    }
    return;
  }
  for (let i = 0; i < n; i++) {
    let gi = sign * g[i];
    if (l2 !== 0) gi = f32(gi + l2 * p[i]);
    const pi = p[i] * decay;
    const mi = f32(f32(m[i] * b1) + c1 * gi);
    m[i] = mi;
    const vi = f32(f32(v[i] * b2) + f32(c2 * gi) * gi);
    v[i] = vi;
    let vm = vi;
    if (vMax !== null) {
      // torch.maximum: NaN wins
      vm = vMax[i] > vi || Number.isNaN(vMax[i]) ? vMax[i] : vi;
      vMax[i] = vm;
    }
    const denom = f32(f32(f32(Math.sqrt(vm)) / bc2Sqrt) + eps);
    p[i] = f32(pi) + f32(f32(negStepSize * mi) / denom);
  }
}

/** @internal shared with the WebAssembly wrapper (kernels/wasm.ts): every buffer holds n = p.length floats. */
export function expectAdamLengths(
  p: Float32Array, // (n,)
  g: Float32Array, // (n,)
  m: Float32Array, // (n,)
  v: Float32Array, // (n,)
  vMax: Float32Array | null, // (n,)
): void {
  const n = p.length;
  if (g.length !== n || m.length !== n || v.length !== n || (vMax !== null && vMax.length !== n)) {
    const got = `g ${g.length}, m ${m.length}, v ${v.length}${vMax !== null ? `, vMax ${vMax.length}` : ""}`;
    throw new Error(`adamStep: every buffer should have p's ${n} elements, got ${got}`);
  }
}
