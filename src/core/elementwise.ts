// Element-wise ops with broadcasting. Each op's backward sits right below its forward, inside the same
// function: the closure passed to `result` maps dL/d(out) to dL/d(inputs).

import { broadcastIndex, broadcastShapes, reduceTo, toTensor } from "./broadcast.js";
import { type DType, alloc, castStorage, promoteTypes, scalarDtype } from "./dtype.js";
import { deviceBinary, deviceClamp, devicePow, deviceUnary, mixedDevices, onDevice } from "./device.js";
import { result } from "./engine.js";
import { shapeNumel } from "./shape.js";
import { Tensor, type TensorLike } from "./tensor.js";

// ---------------------------------------------------------------- elementwise binary

function binary(
  a: Tensor,
  b: Tensor,
  name: string,
  f: (x: number, y: number) => number,
  dA: ((g: number, x: number, y: number, out: number) => number) | null,
  dB: ((g: number, x: number, y: number, out: number) => number) | null,
  dtype: DType = promoteTypes(a.dtype, b.dtype),
): Tensor {
  if ((a._gpu === null) !== (b._gpu === null)) throw mixedDevices(a.device, b.device);
  const shape = broadcastShapes(a.shape, b.shape);
  const n = shapeNumel(shape);
  const ai = broadcastIndex(a.shape, shape);
  const bi = broadcastIndex(b.shape, shape);
  const x = a.data;
  const y = b.data;
  const out = alloc(dtype, n) as Float32Array;
  if (dtype === "bool") {
    const fb = f;
    f = (u, v) => (fb(u, v) !== 0 ? 1 : 0);
  }
  if (ai === null && bi === null) for (let i = 0; i < n; i++) out[i] = f(x[i], y[i]);
  else if (ai === null) for (let i = 0; i < n; i++) out[i] = f(x[i], y[bi![i]]);
  else if (bi === null) for (let i = 0; i < n; i++) out[i] = f(x[ai[i]], y[i]);
  else for (let i = 0; i < n; i++) out[i] = f(x[ai[i]], y[bi[i]]);
  return result(out, shape, [a, b], name, (g) => {
    let ga: Float32Array | null = null;
    let gb: Float32Array | null = null;
    if (a.requiresGrad && dA !== null) {
      const t = new Float32Array(n);
      for (let i = 0; i < n; i++)
        t[i] = dA(g[i], x[ai === null ? i : ai[i]], y[bi === null ? i : bi[i]], out[i]);
      ga = reduceTo(t, ai, a.numel);
    }
    if (b.requiresGrad && dB !== null) {
      const t = new Float32Array(n);
      for (let i = 0; i < n; i++)
        t[i] = dB(g[i], x[ai === null ? i : ai[i]], y[bi === null ? i : bi[i]], out[i]);
      gb = reduceTo(t, bi, b.numel);
    }
    return [ga, gb];
  });
}

/** a + alpha·b, broadcast. */
export function add(a: TensorLike, b: TensorLike, alpha = 1): Tensor {
  if (onDevice(a, b)) return deviceBinary("add", a, b, alpha);
  const ta = toTensor(a);
  const tb = toTensor(b);
  if (!(b instanceof Tensor)) return addScalar(ta, alpha * b);
  if (!(a instanceof Tensor)) return addScalar(mulScalar(tb, alpha), a);
  if (alpha === 1) {
    // The common case, without a callback per element.
    const shape = broadcastShapes(ta.shape, tb.shape);
    const n = shapeNumel(shape);
    const ai = broadcastIndex(ta.shape, shape);
    const bi = broadcastIndex(tb.shape, shape);
    const x = ta.data;
    const y = tb.data;
    const out = alloc(promoteTypes(ta.dtype, tb.dtype), n) as Float32Array;
    if (out instanceof Uint8Array) return binary(ta, tb, "AddBackward0", (u, v) => u + v, null, null);
    if (ai === null && bi === null) for (let i = 0; i < n; i++) out[i] = x[i] + y[i];
    else for (let i = 0; i < n; i++) out[i] = x[ai === null ? i : ai[i]] + y[bi === null ? i : bi[i]];
    return result(out, shape, [ta, tb], "AddBackward0", (g) => [
      ta.requiresGrad ? reduceTo(g, ai, ta.numel) : null,
      tb.requiresGrad ? reduceTo(g, bi, tb.numel) : null,
    ]);
  }
  return binary(
    ta,
    tb,
    "AddBackward0",
    (x, y) => x + alpha * y,
    (g) => g,
    (g) => alpha * g,
  );
}

/** a - alpha·b, broadcast. */
export function sub(a: TensorLike, b: TensorLike, alpha = 1): Tensor {
  const boolA = a instanceof Tensor && a.dtype === "bool";
  const boolB = b instanceof Tensor && b.dtype === "bool";
  if (boolA && boolB)
    throw new Error(
      "Subtraction, the `-` operator, with two bool tensors is not supported. Use the `^` or `logical_xor()` operator instead.",
    );
  if (boolA || boolB)
    throw new Error(
      "Subtraction, the `-` operator, with a bool tensor is not supported. If you are trying to invert a mask, use the `~` or `logical_not()` operator instead.",
    );
  if (onDevice(a, b)) return deviceBinary("sub", a, b, alpha);
  if (!(b instanceof Tensor)) return addScalar(toTensor(a), -alpha * b, "SubBackward0");
  if (!(a instanceof Tensor)) return rsubScalar(b, a, alpha);
  return binary(
    a,
    b,
    "SubBackward0",
    (x, y) => x - alpha * y,
    (g) => g,
    (g) => -alpha * g,
  );
}

export function mul(a: TensorLike, b: TensorLike): Tensor {
  if (onDevice(a, b)) return deviceBinary("mul", a, b);
  if (!(b instanceof Tensor)) return mulScalar(toTensor(a), b);
  if (!(a instanceof Tensor)) return mulScalar(b, a);
  return binary(
    a,
    b,
    "MulBackward0",
    (x, y) => x * y,
    (g, _x, y) => g * y,
    (g, x) => g * x,
  );
}

/** True division: the result is float even for integer operands, as PyTorch's `/`. */
export function div(a: TensorLike, b: TensorLike): Tensor {
  if (onDevice(a, b)) return deviceBinary("div", a, b);
  if (!(b instanceof Tensor)) {
    const ta = toTensor(a);
    if (ta.dtype === "float32") return mulScalar(ta, 1 / b, "DivBackward0");
    return binary(ta, toTensor(b), "DivBackward0", (x, y) => x / y, null, null, "float32");
  }
  return binary(
    toTensor(a),
    b,
    "DivBackward0",
    (x, y) => x / y,
    (g, _x, y) => g / y,
    (g, x, y) => (-g * x) / (y * y),
    "float32",
  );
}

/** Elementwise power: a scalar or a tensor exponent (broadcast). */
export function pow(a: TensorLike, p: TensorLike): Tensor {
  if (!(p instanceof Tensor)) {
    if (a instanceof Tensor && a._gpu !== null && typeof p === "number") return deviceUnary("pow", a, p);
    const t = toTensor(a);
    const e = p;
    return unary(
      t,
      "PowBackward0",
      (x) => x ** e,
      (g, x) => (e === 0 ? 0 : g * e * x ** (e - 1)),
      promoteTypes(t.dtype, scalarDtype(e), "int64"),
    );
  }
  if (onDevice(a, p)) return devicePow(a, p);
  return binary(
    toTensor(a),
    p,
    a instanceof Tensor ? "PowBackward1" : "PowBackward2",
    (x, y) => x ** y,
    (g, x, y) => (y === 0 ? 0 : g * y * x ** (y - 1)),
    (g, x, y, out) => (x === 0 && y >= 0 ? 0 : g * out * Math.log(x)),
  );
}

/** Elementwise maximum of two tensors (broadcast); ties split the gradient evenly, as PyTorch. */
export function maximum(a: Tensor, b: Tensor): Tensor {
  return binary(
    a,
    b,
    "MaximumBackward0",
    (x, y) => (Number.isNaN(x) || Number.isNaN(y) ? Number.NaN : Math.max(x, y)),
    (g, x, y) => (x > y ? g : x === y ? g / 2 : 0),
    (g, x, y) => (y > x ? g : x === y ? g / 2 : 0),
  );
}

export function minimum(a: Tensor, b: Tensor): Tensor {
  return binary(
    a,
    b,
    "MinimumBackward0",
    (x, y) => (Number.isNaN(x) || Number.isNaN(y) ? Number.NaN : Math.min(x, y)),
    (g, x, y) => (x < y ? g : x === y ? g / 2 : 0),
    (g, x, y) => (y < x ? g : x === y ? g / 2 : 0),
  );
}

// ---------------------------------------------------------------- elementwise unary

function unary(
  a: Tensor,
  name: string,
  f: (x: number) => number,
  df: (g: number, x: number, out: number) => number,
  dtype: DType = "float32",
): Tensor {
  const n = a.numel;
  const x = a.data;
  const out = alloc(dtype, n) as Float32Array;
  for (let i = 0; i < n; i++) out[i] = f(x[i]);
  return result(out, a.shape, [a], name, (g) => {
    const gx = new Float32Array(n);
    for (let i = 0; i < n; i++) gx[i] = df(g[i], x[i], out[i]);
    return [gx];
  });
}

function addScalar(a: Tensor, s: number, name = "AddBackward0"): Tensor {
  const n = a.numel;
  const x = a.data;
  const dtype = promoteTypes(a.dtype, scalarDtype(s));
  if (dtype === "bool") return add(a, new Tensor(new Uint8Array([s ? 1 : 0]), []));
  const out = alloc(dtype, n) as Float32Array;
  for (let i = 0; i < n; i++) out[i] = x[i] + s;
  return result(out, a.shape, [a], name, (g) => [g]);
}

/** s − alpha·a, one node as PyTorch's `s - a` (RsubBackward1); rounded as (a·(−alpha)) + s. */
function rsubScalar(a: Tensor, s: number, alpha: number): Tensor {
  const n = a.numel;
  const x = a.data;
  const out = alloc(promoteTypes(a.dtype, scalarDtype(s), scalarDtype(alpha)), n) as Float32Array;
  for (let i = 0; i < n; i++) out[i] = Math.fround(x[i] * -alpha) + s;
  return result(out, a.shape, [a], "RsubBackward1", (g) => {
    const gx = new Float32Array(n);
    for (let i = 0; i < n; i++) gx[i] = g[i] * -alpha;
    return [gx];
  });
}

function mulScalar(a: Tensor, s: number, name = "MulBackward0"): Tensor {
  const n = a.numel;
  const x = a.data;
  const dtype = promoteTypes(a.dtype, scalarDtype(s));
  if (dtype === "bool") return mul(a, new Tensor(new Uint8Array([s ? 1 : 0]), []));
  const out = alloc(dtype, n) as Float32Array;
  for (let i = 0; i < n; i++) out[i] = x[i] * s;
  return result(out, a.shape, [a], name, (g) => {
    const gx = new Float32Array(n);
    for (let i = 0; i < n; i++) gx[i] = g[i] * s;
    return [gx];
  });
}

export function neg(a: Tensor): Tensor {
  if (a._gpu !== null) return deviceUnary("neg", a);
  if (a.dtype === "bool")
    throw new Error(
      "Negation, the `-` operator, on a bool tensor is not supported. If you are trying to invert a mask, use the `~` or `logical_not()` operator instead.",
    );
  return unary(
    a,
    "NegBackward0",
    (x) => -x,
    (g) => -g,
    a.dtype,
  );
}

export function exp(a: Tensor): Tensor {
  if (a._gpu !== null) return deviceUnary("exp", a);
  return unary(a, "ExpBackward0", Math.exp, (g, _x, y) => g * y);
}

export function log(a: Tensor): Tensor {
  if (a._gpu !== null) return deviceUnary("log", a);
  return unary(a, "LogBackward0", Math.log, (g, x) => g / x);
}

export function sqrt(a: Tensor): Tensor {
  if (a._gpu !== null) return deviceUnary("sqrt", a);
  return unary(a, "SqrtBackward0", Math.sqrt, (g, _x, y) => g / (2 * y));
}

export function abs(a: Tensor): Tensor {
  if (a._gpu !== null) return deviceUnary("abs", a);
  return unary(a, "AbsBackward0", Math.abs, (g, x) => (x > 0 ? g : x < 0 ? -g : 0), a.dtype);
}

export function sin(a: Tensor): Tensor {
  if (a._gpu !== null) return deviceUnary("sin", a);
  return unary(a, "SinBackward0", Math.sin, (g, x) => g * Math.cos(x));
}

export function cos(a: Tensor): Tensor {
  if (a._gpu !== null) return deviceUnary("cos", a);
  return unary(a, "CosBackward0", Math.cos, (g, x) => -g * Math.sin(x));
}

export function tanh(a: Tensor): Tensor {
  if (a._gpu !== null) return deviceUnary("tanh", a);
  return unary(a, "TanhBackward0", Math.tanh, (g, _x, y) => g * (1 - y * y));
}

export function sigmoid(a: Tensor): Tensor {
  if (a._gpu !== null) return deviceUnary("sigmoid", a);
  return unary(
    a,
    "SigmoidBackward0",
    (x) => 1 / (1 + Math.exp(-x)),
    (g, _x, y) => g * y * (1 - y),
  );
}

export function relu(a: Tensor): Tensor {
  if (a._gpu !== null) return deviceUnary("relu", a);
  return unary(
    a,
    "ReluBackward0",
    (x) => (x > 0 ? x : Number.isNaN(x) ? x : 0),
    (g, _x, y) => (y > 0 ? g : 0),
    a.dtype,
  );
}

export function square(a: Tensor): Tensor {
  if (a._gpu !== null) return deviceUnary("square", a);
  return unary(
    a,
    "PowBackward0",
    (x) => x * x,
    (g, x) => 2 * g * x,
    promoteTypes(a.dtype, "int64"),
  );
}

/**
 * Clamps into [min, max] (either may be omitted) as PyTorch's min(max(x, min), max), so everything becomes
 * `max` when min > max; the gradient passes where min <= x <= max.
 */
export function clamp(a: Tensor, min?: number | null, max?: number | null): Tensor {
  const lo = min ?? Number.NEGATIVE_INFINITY;
  const hi = max ?? Number.POSITIVE_INFINITY;
  if (min == null && max == null) throw new Error("clamp: at least one of 'min' or 'max' must not be None");
  if (a._gpu !== null) return deviceClamp(a, min ?? null, max ?? null);
  return unary(
    a,
    "ClampBackward1",
    (x) => {
      if (Number.isNaN(x)) return x;
      const y = x < lo ? lo : x;
      return y > hi ? hi : y;
    },
    (g, x) => (x >= lo && x <= hi ? g : 0),
    promoteTypes(a.dtype, scalarDtype(min ?? 0), scalarDtype(max ?? 0)),
  );
}

// ---------------------------------------------------------------- dtype conversion

/**
 * `a` as `dtype` (the tensor itself when it already is), as `x.to(dtype)`. No gradient crosses a dtype change
 * here: integer and bool tensors cannot require one, and float32 is the only float dtype.
 */
export function toDtype(a: Tensor, dtype: DType): Tensor {
  if (a.dtype === dtype) return a;
  return new Tensor(castStorage(a.data, dtype), a.shape);
}

// ---------------------------------------------------------------- comparisons and logic (bool results)

/** A bool-valued element-wise op, compared after type promotion as PyTorch compares. */
function predicate(a: TensorLike, b: TensorLike, f: (x: number, y: number) => boolean): Tensor {
  const ta = toTensor(a);
  const tb = toTensor(b);
  const shape = broadcastShapes(ta.shape, tb.shape);
  const n = shapeNumel(shape);
  const ai = broadcastIndex(ta.shape, shape);
  const bi = broadcastIndex(tb.shape, shape);
  // float32 compares in float32: a double scalar is rounded first (0.1 as a float32 equals float32 0.1)
  const round = promoteTypes(ta.dtype, tb.dtype, scalarOf(a), scalarOf(b)) === "float32";
  const x = ta.data;
  const y = tb.data;
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    let u = x[ai === null ? i : ai[i]];
    let v = y[bi === null ? i : bi[i]];
    if (round) {
      u = Math.fround(u);
      v = Math.fround(v);
    }
    out[i] = f(u, v) ? 1 : 0;
  }
  return new Tensor(out, shape);
}

function scalarOf(v: TensorLike): DType {
  return v instanceof Tensor ? "bool" : scalarDtype(v);
}

/** a == b element-wise (broadcast), a bool tensor. */
export function eq(a: TensorLike, b: TensorLike): Tensor {
  return predicate(a, b, (x, y) => x === y);
}
/** a != b element-wise (NaN != NaN is true). */
export function ne(a: TensorLike, b: TensorLike): Tensor {
  return predicate(a, b, (x, y) => x !== y);
}
export function lt(a: TensorLike, b: TensorLike): Tensor {
  return predicate(a, b, (x, y) => x < y);
}
export function le(a: TensorLike, b: TensorLike): Tensor {
  return predicate(a, b, (x, y) => x <= y);
}
export function gt(a: TensorLike, b: TensorLike): Tensor {
  return predicate(a, b, (x, y) => x > y);
}
export function ge(a: TensorLike, b: TensorLike): Tensor {
  return predicate(a, b, (x, y) => x >= y);
}

/** Element-wise AND of the truth values (nonzero is true), a bool tensor. */
export function logicalAnd(a: TensorLike, b: TensorLike): Tensor {
  return predicate(a, b, (x, y) => x !== 0 && y !== 0);
}
export function logicalOr(a: TensorLike, b: TensorLike): Tensor {
  return predicate(a, b, (x, y) => x !== 0 || y !== 0);
}
export function logicalXor(a: TensorLike, b: TensorLike): Tensor {
  return predicate(a, b, (x, y) => (x !== 0) !== (y !== 0));
}
export function logicalNot(a: Tensor): Tensor {
  const x = a.data;
  const out = new Uint8Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = x[i] === 0 ? 1 : 0;
  return new Tensor(out, a.shape);
}
