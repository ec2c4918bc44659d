// Element types. A tensor's dtype is the class of its storage, one to one:
//
//   float32  Float32Array
//   int64    Float64Array  (whole numbers, exact in [-(2^53 - 1), 2^53 - 1]: past that PyTorch's int64 keeps
//                           every integer and we round; token ids, class indices and counts never get there)
//   bool     Uint8Array    (0 or 1)
//
// A Float64Array holds int64 (not float64) so that integer results need neither BigInt nor a second field,
// and every existing reader of `tensor.data[i]` keeps working. There is no float64 dtype: every float op
// and kernel here computes in float32, as the PyTorch fixtures they match do.

export type DType = "float32" | "int64" | "bool";

/** The storage behind a tensor of any dtype. */
export type Storage = Float32Array | Float64Array | Uint8Array;

export function dtypeOf(data: Storage): DType {
  if (data instanceof Float32Array) return "float32";
  if (data instanceof Float64Array) return "int64";
  if (data instanceof Uint8Array) return "bool";
  throw new TypeError(`tensor storage must be a Float32Array, Float64Array (int64) or Uint8Array (bool)`);
}

/** A zeroed storage of `n` elements for `dtype`. */
export function alloc(dtype: DType, n: number): Storage {
  return dtype === "float32"
    ? new Float32Array(n)
    : dtype === "int64"
      ? new Float64Array(n)
      : new Uint8Array(n);
}

/** PyTorch's spelling, as `print(x.dtype)` writes it: `torch.float32`, `torch.int64`, `torch.bool`. */
export function torchDtype(dtype: DType): string {
  return `torch.${dtype}`;
}

/** PyTorch's scalar-type name in kernel errors: Float, Long, Bool. */
export function scalarTypeName(dtype: DType): string {
  return dtype === "float32" ? "Float" : dtype === "int64" ? "Long" : "Bool";
}

const RANK: Record<DType, number> = { bool: 0, int64: 1, float32: 2 };

/** The result type of an op on operands of these dtypes (PyTorch's categories: bool < integer < float). */
export function promoteTypes(...dtypes: DType[]): DType {
  let best: DType = "bool";
  for (const d of dtypes) if (RANK[d] > RANK[best]) best = d;
  return best;
}

/** The dtype a JavaScript scalar takes in type promotion: an integer is int64, any other number float32. */
export function scalarDtype(v: number | boolean): DType {
  if (typeof v === "boolean") return "bool";
  return Number.isInteger(v) ? "int64" : "float32";
}

export function isFloatingPoint(dtype: DType): boolean {
  return dtype === "float32";
}

/** Converts `src` to `dtype` as PyTorch's `.to()` does: to int64 by truncation, to bool by `!= 0`. */
export function castStorage(src: ArrayLike<number>, dtype: DType): Storage {
  const n = src.length;
  const out = alloc(dtype, n);
  if (dtype === "float32") (out as Float32Array).set(src);
  else if (dtype === "int64") for (let i = 0; i < n; i++) out[i] = Math.trunc(src[i]) || 0;
  else for (let i = 0; i < n; i++) out[i] = src[i] !== 0 ? 1 : 0;
  return out;
}

/** Writes a value computed in double into storage of `dtype` (ints by truncation, bools by `!= 0`). */
export function coerce(v: number, dtype: DType): number {
  if (dtype === "bool") return v !== 0 ? 1 : 0;
  if (dtype === "int64") return Math.trunc(v) || 0;
  return v;
}
