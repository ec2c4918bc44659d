// Addressing and lane helpers shared by the kernels: a body written once runs on 4 lanes (one = false) or
// on the single tail element in lane 0 (one = true).

/** Byte address of float i of the buffer at p. */
// @ts-ignore: decorator
@inline
export function at(p: usize, i: i32): usize {
  return p + (<usize>i << 2);
}

// @ts-ignore: decorator
@inline
export function ld(p: usize, one: bool): v128 {
  return one ? v128.load32_zero(p) : v128.load(p);
}

// @ts-ignore: decorator
@inline
export function st(p: usize, v: v128, one: bool): void {
  if (one) v128.store32_lane(p, v, 0);
  else v128.store(p, v);
}
