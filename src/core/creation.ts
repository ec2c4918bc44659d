// Creating tensors: from nested arrays, constants, ranges and the seeded generator.

import { type DType, castStorage } from "./dtype.js";
import { pyFloatRepr } from "./format.js";
import { checkAllocation } from "./limits.js";
import { defaultGenerator, fillNormal, fillUniform, type Generator } from "./random.js";
import { type NestedArray, Tensor, shapeNumel, shapeStr } from "./tensor.js";

export interface CreateOptions {
  requiresGrad?: boolean;
  generator?: Generator;
  /** "float32" (the default), "int64" or "bool"; values are converted as `.to(dtype)` converts them. */
  dtype?: DType;
}

/** Nested arrays of booleans: `tensor([true, false])` is a bool tensor. */
export type NestedBoolArray = boolean | NestedBoolArray[];

/** `t` as `opts.dtype` (default float32), requiring grad after the conversion as `requiresGrad` asks. */
function withDtype(t: Tensor, opts: CreateOptions, inferred: DType = "float32"): Tensor {
  const dtype = opts.dtype ?? inferred;
  if (dtype === t.dtype) return t;
  return new Tensor(castStorage(t.data, dtype), t.shape, opts.requiresGrad ?? false);
}

export interface TensorOptions extends CreateOptions {
  shape?: readonly number[];
}

type ShapeOrOptions = number | readonly number[] | CreateOptions;

/** Parses PyTorch-style size arguments: `zeros(2, 3)`, `zeros([2, 3])`, optionally ending in options. */
function parseArgs(
  args: readonly ShapeOrOptions[],
  who = "tensor",
): { shape: number[]; opts: CreateOptions } {
  const shape: number[] = [];
  let opts: CreateOptions = {};
  for (const a of args) {
    if (typeof a === "number") shape.push(a);
    else if (Array.isArray(a)) shape.push(...(a as number[]));
    else opts = a as CreateOptions;
  }
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0)
      throw new Error(`invalid size ${shapeStr(shape)}: expected non-negative integers`);
  }
  checkAllocation(shapeNumel(shape), `${who}${shapeStr(shape).replace("[", "(").replace("]", ")")}`);
  return { shape, opts };
}

function inferNested(data: NestedArray): number[] {
  const shape: number[] = [];
  let cur: NestedArray = data;
  while (Array.isArray(cur)) {
    shape.push(cur.length);
    if (cur.length === 0) break;
    cur = cur[0];
  }
  return shape;
}

/** PyTorch's error for data that is not a number, a boolean or a sequence of them (JS type names). */
function dataTypeError(v: unknown): Error {
  if (typeof v === "string") return new TypeError("new(): invalid data type 'str'");
  const name =
    v === null ? "null" : v === undefined ? "undefined" : typeof v === "object" ? "object" : typeof v;
  return new TypeError(`Could not infer dtype of ${name}`);
}

function flattenNested(data: NestedArray, shape: number[], depth: number, out: number[]): void {
  if (depth === shape.length) {
    if (typeof data === "boolean") {
      out.push(data ? 1 : 0);
      return;
    }
    if (typeof data !== "number") {
      if (Array.isArray(data))
        throw new Error(`tensor(): expected a number at depth ${depth}, got a sequence`);
      throw dataTypeError(data);
    }
    out.push(data);
    return;
  }
  if (!Array.isArray(data) || data.length !== shape[depth]) {
    const got = Array.isArray(data) ? `a sequence of length ${data.length}` : typeof data;
    throw new Error(`tensor(): expected sequence of length ${shape[depth]} at dim ${depth} (got ${got})`);
  }
  for (const v of data) flattenNested(v, shape, depth + 1, out);
}

/**
 * A tensor from nested arrays, a number, or a Float32Array (with `shape`, default 1-D). A Float32Array
 * is used as is, not copied.
 */
export function tensor(
  data: NestedArray | NestedBoolArray | Float32Array | ArrayLike<number>,
  opts: TensorOptions = {},
): Tensor {
  let inferred: DType = "float32";
  let flat: Float32Array;
  let shape: number[];
  if (data instanceof Float32Array) {
    flat = data;
    shape = opts.shape ? opts.shape.slice() : [data.length];
  } else if (typeof data === "number" || typeof data === "boolean") {
    flat = new Float32Array([Number(data)]);
    shape = opts.shape ? opts.shape.slice() : [];
    if (typeof data === "boolean") inferred = "bool";
  } else if (Array.isArray(data)) {
    const nested = inferNested(data as NestedArray);
    const out: number[] = [];
    flattenNested(data as NestedArray, nested, 0, out);
    // int64 from the numbers themselves (a float32 pass would round integers past 2^24)
    flat = opts.dtype === "int64" ? (castStorage(out, "int64") as Float32Array) : Float32Array.from(out);
    shape = opts.shape ? opts.shape.slice() : nested;
    if (out.length > 0 && typeof firstLeaf(data as NestedArray) === "boolean") inferred = "bool";
  } else if (ArrayBuffer.isView(data) && !(data instanceof DataView)) {
    flat = Float32Array.from(data as unknown as ArrayLike<number>);
    shape = opts.shape ? opts.shape.slice() : [flat.length];
  } else {
    throw dataTypeError(data);
  }
  if (shapeNumel(shape) !== flat.length) {
    throw new Error(
      `tensor(): shape ${shapeStr(shape)} needs ${shapeNumel(shape)} elements, got ${flat.length}`,
    );
  }
  if ((opts.dtype ?? inferred) !== "float32") return withDtype(new Tensor(flat, shape), opts, inferred);
  return new Tensor(flat, shape, opts.requiresGrad ?? false);
}

function firstLeaf(data: NestedArray): unknown {
  let cur: unknown = data;
  while (Array.isArray(cur)) cur = cur[0];
  return cur;
}

export function full(shape: readonly number[], value: number, opts: CreateOptions = {}): Tensor {
  const s = parseArgs([shape], "full").shape;
  if (opts.dtype !== undefined && opts.dtype !== "float32")
    return withDtype(new Tensor(new Float32Array(shapeNumel(s)).fill(value), s), opts);
  return new Tensor(new Float32Array(shapeNumel(s)).fill(value), s, opts.requiresGrad ?? false);
}

export function zeros(...args: ShapeOrOptions[]): Tensor {
  const { shape, opts } = parseArgs(args, "zeros");
  if (opts.dtype !== undefined && opts.dtype !== "float32")
    return withDtype(new Tensor(new Float32Array(shapeNumel(shape)), shape), opts);
  return new Tensor(new Float32Array(shapeNumel(shape)), shape, opts.requiresGrad ?? false);
}

export function ones(...args: ShapeOrOptions[]): Tensor {
  const { shape, opts } = parseArgs(args, "ones");
  return full(shape, 1, opts);
}

/** Standard normal samples from the seeded generator (after `manualSeed(s)`, PyTorch's numbers for `torch.manual_seed(s)`). */
export function randn(...args: ShapeOrOptions[]): Tensor {
  const { shape, opts } = parseArgs(args, "randn");
  const d = new Float32Array(shapeNumel(shape));
  fillNormal(d, 0, 1, opts.generator ?? defaultGenerator);
  return new Tensor(d, shape, opts.requiresGrad ?? false);
}

/** Uniform samples in [0, 1) from the seeded generator (PyTorch's numbers for the same seed). */
export function rand(...args: ShapeOrOptions[]): Tensor {
  const { shape, opts } = parseArgs(args, "rand");
  const d = new Float32Array(shapeNumel(shape));
  fillUniform(d, 0, 1, opts.generator ?? defaultGenerator);
  return new Tensor(d, shape, opts.requiresGrad ?? false);
}

/** Integers uniformly drawn from [low, high), stored as floats. */
export function randint(
  low: number,
  high: number,
  shape: readonly number[],
  opts: CreateOptions = {},
): Tensor {
  const g = opts.generator ?? defaultGenerator;
  parseArgs([shape], "randint");
  const n = shapeNumel(shape);
  const d = opts.dtype === "int64" ? new Float64Array(n) : new Float32Array(n);
  for (let i = 0; i < d.length; i++) d[i] = g.randint(low, high);
  return withDtype(new Tensor(d, shape), opts);
}

/**
 * start, start + step, ... up to (not including) end; `arange(n)` is 0..n-1. The options may follow any of
 * the numbers, as keywords do in `torch.arange(5, requires_grad=True)`.
 */
export function arange(
  start: number,
  end?: number | CreateOptions,
  step: number | CreateOptions = 1,
  opts: CreateOptions = {},
): Tensor {
  if (typeof end === "object") {
    opts = end;
    end = undefined;
  }
  if (typeof step === "object") {
    opts = step;
    step = 1;
  }
  return arangeOf(end === undefined ? 0 : start, end === undefined ? start : end, step, opts);
}

function arangeOf(start: number, end: number, step: number, opts: CreateOptions): Tensor {
  if (![start, end, step].every(Number.isFinite)) {
    const py = (v: number) => (Number.isInteger(v) ? String(v) : pyFloatRepr(v));
    throw new Error(`unsupported range: ${py(start)} -> ${py(end)}`);
  }
  if (step === 0) throw new Error("arange: step must be nonzero");
  if ((end - start) / step < 0) {
    throw new Error(
      `arange: upper bound and larger bound inconsistent with step sign (start=${start}, end=${end}, step=${step})`,
    );
  }
  const n = Math.ceil((end - start) / step);
  checkAllocation(n, `arange(${start}, ${end}, ${step})`);
  const d = new Float32Array(n);
  for (let i = 0; i < n; i++) d[i] = start + i * step;
  if (opts.dtype !== undefined && opts.dtype !== "float32") {
    // integers exactly, beyond float32's 2^24
    const e = new Float64Array(n);
    for (let i = 0; i < n; i++) e[i] = start + i * step;
    return withDtype(new Tensor(castStorage(e, "int64"), [n]), opts);
  }
  return new Tensor(d, [n], opts.requiresGrad ?? false);
}

/** `steps` evenly spaced values from start to end inclusive (computed from both ends, as PyTorch). */
export function linspace(start: number, end: number, steps: number, opts: CreateOptions = {}): Tensor {
  if (!Number.isInteger(steps) || steps < 0)
    throw new Error(`linspace: number of steps must be non-negative, got ${steps}`);
  checkAllocation(steps, `linspace(${start}, ${end}, ${steps})`);
  const d = new Float32Array(steps);
  if (steps === 1) d[0] = start;
  else if (steps > 1) {
    // float32 arithmetic as PyTorch's CPU kernel does it (AVX2 build): blocks of 8 lanes start from a
    // fused multiply-add base and step by plain float additions; the tail is scalar with fused ops.
    // This reproduces PyTorch's values to the last bit in nearly every case (1 ulp otherwise).
    const f = Math.fround;
    const s0 = f(start);
    const e0 = f(end);
    const step = f(f(e0 - s0) / (steps - 1));
    const half = Math.floor(steps / 2);
    let idx = 0;
    for (; idx + 8 <= steps; idx += 8) {
      const base = idx < half ? fmaF32(step, idx, s0) : fmaF32(-step, steps - idx - 1, e0);
      for (let j = 0; j < 8; j++) d[idx + j] = f(base + f(step * j));
    }
    for (; idx < steps; idx++)
      d[idx] = idx < half ? fmaF32(step, idx, s0) : fmaF32(-step, steps - idx - 1, e0);
  }
  return new Tensor(d, [steps], opts.requiresGrad ?? false);
}

/** f32(a·b + c) with one rounding: a·b is exact in double for float32 a, b. */
function fmaF32(a: number, b: number, c: number): number {
  return Math.fround(a * b + c);
}

/** The n×m identity. */
export function eye(n: number, m = n, opts: CreateOptions = {}): Tensor {
  parseArgs([n, m], "eye");
  const d = new Float32Array(n * m);
  for (let i = 0; i < Math.min(n, m); i++) d[i * m + i] = 1;
  return new Tensor(d, [n, m], opts.requiresGrad ?? false);
}

export function zerosLike(t: Tensor, opts: CreateOptions = {}): Tensor {
  return zeros(t.shape, opts);
}

export function onesLike(t: Tensor, opts: CreateOptions = {}): Tensor {
  return ones(t.shape, opts);
}

export function fullLike(t: Tensor, value: number, opts: CreateOptions = {}): Tensor {
  return full(t.shape, value, opts);
}

export function randnLike(t: Tensor, opts: CreateOptions = {}): Tensor {
  return randn(t.shape, opts);
}

export function randLike(t: Tensor, opts: CreateOptions = {}): Tensor {
  return rand(t.shape, opts);
}
