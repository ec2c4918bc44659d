// Shape helpers shared by the tensor, the engine and the ops (no imports: a leaf of the core's graph).

export function shapeNumel(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function shapeStr(shape: readonly number[]): string {
  return `[${shape.join(", ")}]`;
}

export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Normalizes a possibly negative dimension index, with PyTorch's error for out-of-range ones. */
export function normDim(dim: number, ndim: number, extra = 0): number {
  const n = ndim + extra;
  const lo = -Math.max(n, 1);
  const hi = Math.max(n, 1) - 1;
  if (!Number.isInteger(dim) || dim < lo || dim > hi) {
    throw new Error(`Dimension out of range (expected to be in range of [${lo}, ${hi}], but got ${dim})`);
  }
  return dim < 0 ? dim + Math.max(n, 1) : dim;
}
