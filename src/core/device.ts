// Devices: where a tensor's values live. "cpu" tensors hold a typed array (tensor.ts); "webgpu" tensors
// hold a contiguous float32 GPUBuffer of the WebGPU context (kernels/webgpu), reached with
// `t.to("webgpu")` and read back with `await t.cpuAsync()` (WebGPU reads are asynchronous everywhere).
// The ops that run on the device (docs/webgpu.md lists them): element-wise ops and broadcasting, matmul and
// linear, views (reshape shares the buffer; the others are strided copies), cat / stack, sums and means,
// max / min (their indices are int64 tensors on the device: IndexStorage), softmax, the losses, and the
// indexing ops that take int64 / bool tensors (gather, scatter, indexSelect, maskedFill, sort, topk, all /
// any: device-index.ts). Each
// records its autograd node (engine.ts recordDevice) when an input requires a gradient: the backward
// passes run on the device too, with "webgpu" tensors as gradients, so `loss.backward()` leaves each
// parameter's `.grad` on the device. The backward passes run under noGrad (no graph of the backward).
// Mixing devices in one op raises PyTorch's error.

import {
  type BinaryOp,
  gpuBinary,
  gpuBinaryBroadcast,
  gpuCumsum,
  gpuExpandScalar,
  gpuExtremeAll,
  gpuExtremeBackward,
  gpuExtremeDim,
  gpuGatherRows,
  gpuGemm,
  gpuMatmul,
  gpuPowBackward,
  gpuSoftmax,
  gpuStrided,
  gpuSum,
  gpuSumTo,
  gpuUnary,
  type UnaryOp,
} from "../kernels/webgpu/ops.js";
import { type WebGPUContext, webgpuContext } from "../kernels/webgpu/index.js";
import {
  gpuBceWithLogits,
  gpuBceWithLogitsBackward,
  gpuCrossEntropy,
  gpuCrossEntropyBackward,
  gpuPointwiseLoss,
  gpuPointwiseLossBackward,
  type PointwiseLoss,
} from "../kernels/webgpu/loss.js";
import { broadcastShapes } from "./broadcast.js";
import { isGradEnabled, recordDevice, setDeviceAdd } from "./engine.js";
import { normDim, sameShape, shapeNumel, shapeStr } from "./shape.js";
import { Tensor, type TensorLike } from "./tensor.js";

export type Device = "cpu" | "webgpu";

/** The storage of a "webgpu" tensor: a buffer of `ctx` holding numel float32 values, row-major. */
export interface DeviceStorage {
  readonly ctx: WebGPUContext;
  readonly buffer: GPUBuffer;
  /** "int64" or "bool" for the storage of an integer tensor (IndexStorage); absent for float32 */
  readonly dtype?: "int64" | "bool";
}

/**
 * The storage of an int64 or bool "webgpu" tensor: numel 32-bit values in `indices`, i32 for int64 (max /
 * min's indices, `t.to("webgpu")` of an int64 tensor within the i32 range) and u32 0 / 1 for bool, read back
 * by cpuAsync as the CPU's storage (Float64Array, Uint8Array). Views that share the storage (reshape,
 * detach) keep the dtype; the ops that take integers read `indices` (index-ops.ts); every other op reads
 * `buffer`, the float32 values, which refuses: no op misreads the integers.
 */
export class IndexStorage implements DeviceStorage {
  constructor(
    readonly ctx: WebGPUContext,
    readonly indices: GPUBuffer,
    readonly dtype: "int64" | "bool" = "int64",
  ) {}
  get buffer(): GPUBuffer {
    throw new Error(
      `an op on ${this.dtype === "int64" ? "an" : "a"} ${this.dtype} tensor is not supported on the webgpu device yet (read the tensor with \`await t.cpuAsync()\`)`,
    );
  }
}

/**
 * @internal an int64 (or bool) "webgpu" tensor of `shape` over `indices` (numel 32-bit values), which it now
 * owns.
 */
export function deviceIndexTensor(
  ctx: WebGPUContext,
  indices: GPUBuffer,
  shape: readonly number[],
  dtype: "int64" | "bool" = "int64",
): Tensor {
  setDeviceAdd(addOrCopy);
  const storage = new IndexStorage(ctx, indices, dtype);
  finalizer.register(storage, { ctx, buffer: indices });
  return Tensor._onDevice(storage, shape);
}

/** The 32-bit device values of an int64 tensor (i32), or of a bool one (u32 0 / 1); checked by the caller. */
function intValues(t: Tensor): Int32Array {
  const src = t.storage;
  const out = new Int32Array(src.length);
  if (t.dtype === "bool") {
    for (let i = 0; i < src.length; i++) out[i] = src[i] !== 0 ? 1 : 0;
    return out;
  }
  for (let i = 0; i < src.length; i++) {
    const v = src[i];
    if (!(v >= -0x80000000 && v <= 0x7fffffff)) {
      throw new Error(
        `to('webgpu'): an int64 tensor on webgpu holds 32-bit integers (in [-2147483648, 2147483647]), got ${v} at element ${i}`,
      );
    }
    out[i] = v;
  }
  return out;
}

export function isDevice(x: unknown): x is Device {
  return x === "cpu" || x === "webgpu";
}

// A device buffer goes back to its context's pool when its storage object is collected, i.e. when no
// tensor holds it any more (detach() shares it).
const finalizer = new FinalizationRegistry<{ ctx: WebGPUContext; buffer: GPUBuffer }>(({ ctx, buffer }) => {
  if (ctx.alive) ctx.release(buffer);
});

/** @internal a "webgpu" tensor over `buffer` (which it now owns), of `shape`. */
export function deviceTensor(ctx: WebGPUContext, buffer: GPUBuffer, shape: readonly number[]): Tensor {
  // registered here, not at load: device.ts and engine.ts import each other through tensor.ts
  setDeviceAdd(addOrCopy);
  const storage: DeviceStorage = { ctx, buffer };
  finalizer.register(storage, { ctx, buffer });
  return Tensor._onDevice(storage, shape);
}

/** `t.to(device)`: a copy of `t` on `device` (itself when already there). */
export function toDevice(t: Tensor, device: Device): Tensor {
  if (!isDevice(device)) {
    throw new Error(`to: expected a device ("cpu" or "webgpu") or a dtype, got ${JSON.stringify(device)}`);
  }
  if (t.device === device) return t;
  if (device === "cpu") {
    throw new Error(
      "to('cpu'): reading a webgpu tensor back is asynchronous in WebGPU: use `await t.cpuAsync()`",
    );
  }
  if (t.requiresGrad && isGradEnabled()) {
    throw new Error(
      "to('webgpu'): moving a tensor that requires grad is not recorded yet; move a leaf with detach().to('webgpu').requiresGrad_() or move the module (model.to('webgpu'))",
    );
  }
  const ctx = webgpuContext();
  if (t.dtype !== "float32") return deviceIndexTensor(ctx, ctx.upload(intValues(t)), t.shape, t.dtype);
  return deviceTensor(ctx, ctx.upload(t.data), t.shape);
}

/**
 * @internal moves `t`'s values (and its gradient's) to the webgpu device in place: the same tensor object,
 * as PyTorch's Module.to() keeps each Parameter. No-op when already there.
 */
export function moveToDeviceInPlace(t: Tensor): void {
  if (t._gpu !== null) return;
  if (t.dtype !== "float32") {
    throw new Error(
      `Module.to('webgpu'): only float32 parameters and buffers move to webgpu in place so far, got a ${t.dtype} one`,
    );
  }
  const ctx = webgpuContext();
  const buffer = ctx.upload(t.data);
  const storage: DeviceStorage = { ctx, buffer };
  finalizer.register(storage, { ctx, buffer });
  t._data = new Float32Array(0);
  t._strides = null;
  t._offset = 0;
  t._gpu = storage;
  if (t.grad !== null) moveToDeviceInPlace(t.grad);
}

/** @internal moves `t`'s values (and its gradient's) back to the CPU in place. */
export async function moveToCpuInPlace(t: Tensor): Promise<void> {
  if (t.grad !== null) await moveToCpuInPlace(t.grad);
  if (t._gpu === null) return;
  const values = (await cpuAsync(t)).data;
  t._gpu = null; // the buffer goes back to the pool once no tensor holds its storage
  t._data = values;
}

/** `await t.cpuAsync()`: a CPU tensor with the values of `t` (itself when on the CPU). */
export async function cpuAsync(t: Tensor): Promise<Tensor> {
  const s = t._gpu;
  if (s === null) return t;
  const n = shapeNumel(t.shape);
  if (s instanceof IndexStorage) {
    // an empty one too: the read reports the device's index check (context.ts's readBytes)
    const i32 = new Int32Array(await s.ctx.readBytes(s.indices, n * 4));
    if (s.dtype === "bool")
      return new Tensor(
        Uint8Array.from(i32, (v) => (v !== 0 ? 1 : 0)),
        t.shape,
      );
    return new Tensor(Float64Array.from(i32), t.shape);
  }
  const values = await s.ctx.read(s.buffer, n * 4);
  return new Tensor(values, t.shape);
}

/** PyTorch's error for an op whose tensors are on two devices. */
export function mixedDevices(a: Device, b: Device): Error {
  return new Error(
    `Expected all tensors to be on the same device, but found at least two devices, ${a} and ${b}!`,
  );
}

/** Whether either operand is a "webgpu" tensor: then the op runs on the device, or throws saying why. */
export function onDevice(a: TensorLike, b?: TensorLike): boolean {
  return (a instanceof Tensor && a._gpu !== null) || (b instanceof Tensor && b._gpu !== null);
}

/** A new "webgpu" tensor of `shape` over `buffer`, on the context of `like`. */
function make(like: Tensor, buffer: GPUBuffer, shape: readonly number[]): Tensor {
  return deviceTensor(like._gpu!.ctx, buffer, shape);
}

/** `g` summed down to `shape` (the gradient of an operand broadcast to g's shape). */
function sumTo(g: Tensor, shape: readonly number[]): Tensor {
  if (sameShape(g.shape, shape)) return g;
  return make(g, gpuSumTo(g._gpu!.ctx, g._gpu!.buffer, g.shape, shape), shape);
}

function scale(g: Tensor, alpha: number): Tensor {
  if (alpha === 1) return g;
  const s = g._gpu!;
  return make(g, gpuUnary(s.ctx, "scale", s.buffer, shapeNumel(g.shape), alpha), g.shape);
}

/** a op b for two device tensors of one shape (the backward passes' products). */
function same(op: BinaryOp, a: Tensor, b: Tensor, alpha = 1): Tensor {
  const s = a._gpu!;
  return make(a, gpuBinary(s.ctx, op, s.buffer, b._gpu!.buffer, shapeNumel(a.shape), alpha), a.shape);
}

/** The engine's sum of two device gradients (b null: a copy of a); registered by deviceTensor. */
function addOrCopy(a: Tensor, b: Tensor | null): Tensor {
  const s = a._gpu!;
  const n = shapeNumel(a.shape);
  if (b === null) {
    const out = s.ctx.storage(n * 4);
    s.ctx.copy(s.buffer, out, n * 4);
    return make(a, out, a.shape);
  }
  return same("add", a, b);
}

/** The seed of `root.backward(gradient)` for a "webgpu" root: ones (a scalar root), or `gradient`. */
export function deviceSeed(root: Tensor, gradient: Tensor | Float32Array | null | undefined): Tensor {
  const ctx = root._gpu!.ctx;
  if (gradient === undefined || gradient === null) {
    if (root.numel !== 1) {
      throw new Error(
        `grad can be implicitly created only for scalar outputs; this tensor has shape ${shapeStr(root.shape)}`,
      );
    }
    return deviceTensor(ctx, ctx.upload(new Float32Array([1])), root.shape);
  }
  if (!(gradient instanceof Tensor) || gradient.device !== "webgpu") {
    throw new Error("backward: the gradient of a webgpu tensor must be a tensor on webgpu");
  }
  if (!sameShape(gradient.shape, root.shape)) {
    throw new Error(
      `Mismatch in shape: grad_output[0] has a shape of ${shapeStr(gradient.shape)} and output[0] has a shape of ${shapeStr(root.shape)}.`,
    );
  }
  return gradient;
}

function operands(name: string, a: TensorLike, b: TensorLike): [Tensor, Tensor] {
  // a number operand becomes a 0-d constant on the device (broadcast like any operand)
  const scalar = (v: TensorLike, like: TensorLike): TensorLike =>
    typeof v === "number" && like instanceof Tensor && like._gpu !== null
      ? deviceConstant(like, Float32Array.of(v), [])
      : v;
  a = scalar(a, b);
  b = scalar(b, a);
  if (!(a instanceof Tensor) || !(b instanceof Tensor)) {
    throw new Error(
      `${name} on webgpu: operands should be tensors or numbers, got ${typeof a} and ${typeof b}`,
    );
  }
  if (a.device !== b.device) throw mixedDevices(a.device, b.device);
  return [a, b];
}

/** add, sub, mul, div on the device, broadcast as PyTorch does. */
export function deviceBinary(
  op: "add" | "sub" | "mul" | "div",
  a: TensorLike,
  b: TensorLike,
  alpha = 1,
): Tensor {
  const [ta, tb] = operands(op, a, b);
  const s = ta._gpu!;
  let out: Tensor;
  if (ta.shape.length !== tb.shape.length || ta.shape.some((d, i) => d !== tb.shape[i])) {
    const shape = broadcastShapes(ta.shape, tb.shape); // PyTorch's error where they do not broadcast
    const buf = gpuBinaryBroadcast(s.ctx, op, s.buffer, ta.shape, tb._gpu!.buffer, tb.shape, shape, alpha);
    out = deviceTensor(s.ctx, buf, shape);
  } else {
    const buf = gpuBinary(s.ctx, op, s.buffer, tb._gpu!.buffer, shapeNumel(ta.shape), alpha);
    out = deviceTensor(s.ctx, buf, ta.shape);
  }
  const name =
    op === "add"
      ? "AddBackward0"
      : op === "sub"
        ? "SubBackward0"
        : op === "mul"
          ? "MulBackward0"
          : "DivBackward0";
  return recordDevice(out, [ta, tb], name, (g) => {
    if (op === "div") {
      // da = g / b; db = −g·a / b² = −(g / b)·out, each summed back to its operand's shape
      const q = bcastOp("div", g, tb);
      return [
        ta.requiresGrad ? sumTo(q, ta.shape) : null,
        tb.requiresGrad ? sumTo(scale(same("mul", q, out), -1), tb.shape) : null,
      ];
    }
    if (op === "mul") {
      return [
        ta.requiresGrad ? sumTo(bcastMul(g, tb), ta.shape) : null,
        tb.requiresGrad ? sumTo(bcastMul(g, ta), tb.shape) : null,
      ];
    }
    return [
      ta.requiresGrad ? sumTo(g, ta.shape) : null,
      tb.requiresGrad ? sumTo(scale(g, op === "sub" ? -alpha : alpha), tb.shape) : null,
    ];
  });
}

/** g · t, t broadcast to g's shape. */
function bcastMul(g: Tensor, t: Tensor): Tensor {
  return bcastOp("mul", g, t);
}

/** g op t, t broadcast to g's shape. */
function bcastOp(op: BinaryOp, g: Tensor, t: Tensor): Tensor {
  if (sameShape(g.shape, t.shape)) return same(op, g, t);
  const s = g._gpu!;
  return make(g, gpuBinaryBroadcast(s.ctx, op, s.buffer, g.shape, t._gpu!.buffer, t.shape, g.shape), g.shape);
}

/**
 * pow with a tensor exponent on the device (`a` or `b` a tensor, the other a tensor or a number; broadcast),
 * as the CPU path: x ** y as JavaScript's; PowBackward1 (PowBackward2 for a number base) whose gradients
 * are dx = g·y·x^(y−1), 0 where y = 0, and dy = g·out·log(x), 0 where x = 0 and y ≥ 0.
 */
export function devicePow(a: TensorLike, b: TensorLike): Tensor {
  const name = a instanceof Tensor ? "PowBackward1" : "PowBackward2";
  const [x, y] = operands("pow", a, b);
  const s = x._gpu!;
  const shape = broadcastShapes(x.shape, y.shape); // PyTorch's error where they do not broadcast
  const buf = sameShape(x.shape, y.shape)
    ? gpuBinary(s.ctx, "pow", s.buffer, y._gpu!.buffer, shapeNumel(shape))
    : gpuBinaryBroadcast(s.ctx, "pow", s.buffer, x.shape, y._gpu!.buffer, y.shape, shape);
  const out = deviceTensor(s.ctx, buf, shape);
  return recordDevice(out, [x, y], name, (g) => {
    const [dx, dy] = gpuPowBackward(
      s.ctx,
      g._gpu!.buffer,
      s.buffer,
      x.shape,
      y._gpu!.buffer,
      y.shape,
      out._gpu!.buffer,
      shape,
    );
    // each of out's shape, summed back to its operand's
    const back = (t: Tensor, d: GPUBuffer): Tensor | null => {
      if (t.requiresGrad) return sumTo(make(g, d, shape), t.shape);
      s.ctx.release(d);
      return null;
    };
    return [back(x, dx), back(y, dy)];
  });
}

/** The element-wise unary ops on the device (pow: by the number `alpha`). */
export type DeviceUnaryOp =
  | "neg"
  | "exp"
  | "tanh"
  | "sigmoid"
  | "relu"
  | "log"
  | "sqrt"
  | "abs"
  | "square"
  | "sin"
  | "cos"
  | "pow";

/** neg, exp, tanh, sigmoid, relu, log, sqrt, abs, square, sin, cos and pow by a number on the device. */
export function deviceUnary(op: DeviceUnaryOp, a: Tensor, alpha = 0): Tensor {
  const s = a._gpu!;
  const n = shapeNumel(a.shape);
  const y = deviceTensor(s.ctx, gpuUnary(s.ctx, op as UnaryOp, s.buffer, n, alpha), a.shape);
  switch (op) {
    case "log":
      return recordDevice(y, [a], "LogBackward0", (g) => [same("logGrad", g, a)]);
    case "sqrt":
      return recordDevice(y, [a], "SqrtBackward0", (g) => [same("sqrtGrad", g, y)]);
    case "abs":
      return recordDevice(y, [a], "AbsBackward0", (g) => [same("absGrad", g, a)]);
    case "square":
      return recordDevice(y, [a], "PowBackward0", (g) => [same("squareGrad", g, a)]);
    case "sin":
      return recordDevice(y, [a], "SinBackward0", (g) => [same("sinGrad", g, a)]);
    case "cos":
      return recordDevice(y, [a], "CosBackward0", (g) => [same("cosGrad", g, a)]);
    case "pow":
      // d/dx x^α = α·x^(α−1)
      return recordDevice(y, [a], "PowBackward0", (g) => {
        if (alpha === 0) return [scale(g, 0)];
        const d = make(g, gpuUnary(s.ctx, "pow", s.buffer, n, alpha - 1), a.shape);
        return [scale(same("mul", g, d), alpha)];
      });
    case "neg":
      return recordDevice(y, [a], "NegBackward0", (g) => [scale(g, -1)]);
    case "exp":
      return recordDevice(y, [a], "ExpBackward0", (g) => [same("mul", g, y)]);
    case "tanh":
      return recordDevice(y, [a], "TanhBackward0", (g) => [same("tanhGrad", g, y)]);
    case "sigmoid":
      return recordDevice(y, [a], "SigmoidBackward0", (g) => [same("sigmoidGrad", g, y)]);
    case "relu":
      return recordDevice(y, [a], "ReluBackward0", (g) => [same("reluGrad", g, a)]);
  }
}

/**
 * The matrix product on the device with PyTorch's rules: 1-D operands gain and lose a dimension, leading
 * (batch) dimensions broadcast (as expand views, whose gradients sum back), then one batched product.
 */
export function deviceMatmul(a: Tensor, b: Tensor): Tensor {
  const [ta, tb] = operands("matmul", a, b);
  if (ta.ndim === 2 && tb.ndim === 2) return deviceMm(ta, tb);
  if (ta.ndim === 0 || tb.ndim === 0) {
    throw new Error(
      `both arguments to matmul need to be at least 1D, but they are ${ta.ndim}D and ${tb.ndim}D`,
    );
  }
  const a2 = ta.ndim === 1 ? deviceReshape(ta, [1, ta.shape[0]]) : ta;
  const b2 = tb.ndim === 1 ? deviceReshape(tb, [tb.shape[0], 1]) : tb;
  const [M, K] = a2.shape.slice(-2);
  const [K2, N] = b2.shape.slice(-2);
  if (K !== K2) {
    throw new Error(
      `mat1 and mat2 shapes cannot be multiplied (${shapeNumel(a2.shape.slice(0, -1))}x${K} and ${K2}x${N})`,
    );
  }
  const batch = broadcastShapes(a2.shape.slice(0, -2), b2.shape.slice(0, -2));
  const Bt = shapeNumel(batch);
  const a3 = deviceReshape(expandOnDevice(a2, [...batch, M, K]), [Bt, M, K]);
  const b3 = deviceReshape(expandOnDevice(b2, [...batch, K, N]), [Bt, K, N]);
  const out = deviceBmm(a3, b3);
  const shape = [...batch];
  if (ta.ndim > 1) shape.push(M);
  if (tb.ndim > 1) shape.push(N);
  return deviceReshape(out, shape);
}

/** `t` broadcast to `shape` (checked by the caller) as an expand view; itself when it has that shape. */
function expandOnDevice(t: Tensor, shape: readonly number[]): Tensor {
  if (sameShape(t.shape, shape)) return t;
  const lead = shape.length - t.ndim;
  const st = t.stride();
  const strides = shape.map((d, i) => (i < lead || (t.shape[i - lead] === 1 && d !== 1) ? 0 : st[i - lead]));
  return deviceView(t, shape, strides, 0, "ExpandBackward0");
}

/** (Bt, M, K) · (Bt, K, N) on the device: one batched tiled product, and two in the backward. */
function deviceBmm(a: Tensor, b: Tensor): Tensor {
  const [Bt, M, K] = a.shape;
  const N = b.shape[2];
  const s = a._gpu!;
  const out = deviceTensor(s.ctx, gpuGemm(s.ctx, false, false, M, N, K, s.buffer, b._gpu!.buffer, null, Bt), [
    Bt,
    M,
    N,
  ]);
  return recordDevice(out, [a, b], "BmmBackward0", (g) => {
    const gb = g._gpu!.buffer;
    return [
      a.requiresGrad
        ? make(g, gpuGemm(s.ctx, false, true, M, K, N, gb, b._gpu!.buffer, null, Bt), a.shape)
        : null,
      b.requiresGrad ? make(g, gpuGemm(s.ctx, true, false, K, N, M, s.buffer, gb, null, Bt), b.shape) : null,
    ];
  });
}

/** The 2-D matrix product on the device. */
function deviceMm(ta: Tensor, tb: Tensor): Tensor {
  const [M, K] = ta.shape;
  const [K2, N] = tb.shape;
  if (K !== K2) {
    throw new Error(`mat1 and mat2 shapes cannot be multiplied (${M}x${K} and ${K2}x${N})`);
  }
  const s = ta._gpu!;
  const out = deviceTensor(s.ctx, gpuMatmul(s.ctx, s.buffer, tb._gpu!.buffer, M, N, K), [M, N]);
  return recordDevice(out, [ta, tb], "MmBackward0", (g) => {
    const gb = g._gpu!.buffer;
    return [
      // dA (M, K) = g (M, N) · Bᵀ; dB (K, N) = Aᵀ · g
      ta.requiresGrad ? make(g, gpuGemm(s.ctx, false, true, M, K, N, gb, tb._gpu!.buffer), [M, K]) : null,
      tb.requiresGrad ? make(g, gpuGemm(s.ctx, true, false, K, N, M, s.buffer, gb), [K, N]) : null,
    ];
  });
}

/** `F.linear` on the device: x (..., in) · Wᵀ (W (out, in)) + b (out). */
export function deviceLinear(x: Tensor, weight: Tensor, bias: Tensor | null): Tensor {
  for (const t of bias === null ? [weight] : [weight, bias]) {
    if (t.device !== x.device) throw mixedDevices(x.device, t.device);
  }
  const [outF, inF] = weight.shape;
  const rows = shapeNumel(x.shape) / inF;
  const s = x._gpu!;
  const out = gpuGemm(
    s.ctx,
    false,
    true,
    rows,
    outF,
    inF,
    s.buffer,
    weight._gpu!.buffer,
    bias?._gpu?.buffer ?? null,
  );
  const shape = x.shape.slice();
  shape[shape.length - 1] = outF;
  const inputs = bias === null ? [x, weight] : [x, weight, bias];
  return recordDevice(deviceTensor(s.ctx, out, shape), inputs, "AddmmBackward0", (g) => {
    const gb = g._gpu!.buffer;
    return [
      // dx (rows, in) = g (rows, out) · W; dW (out, in) = gᵀ · x; db (out) = Σ_rows g
      x.requiresGrad
        ? make(g, gpuGemm(s.ctx, false, false, rows, inF, outF, gb, weight._gpu!.buffer), x.shape)
        : null,
      weight.requiresGrad
        ? make(g, gpuGemm(s.ctx, true, false, outF, inF, rows, gb, s.buffer), [outF, inF])
        : null,
      bias?.requiresGrad ? make(g, gpuSumTo(s.ctx, gb, [rows, outF], [outF]), [outF]) : null,
    ];
  });
}

/** view / reshape / squeeze / unsqueeze on the device: the same buffer under another shape (no copy). */
export function deviceReshape(a: Tensor, shape: readonly number[]): Tensor {
  return recordDevice(Tensor._onDevice(a._gpu!, shape), [a], "ViewBackward0", (g) => [
    Tensor._onDevice(g._gpu!, a.shape),
  ]);
}

/** clone on the device: a copy of the buffer, recorded in order with the dispatches. */
export function deviceClone(a: Tensor): Tensor {
  const s = a._gpu!;
  const n = shapeNumel(a.shape);
  const out = s.ctx.storage(n * 4);
  s.ctx.copy(s.buffer, out, n * 4);
  return recordDevice(deviceTensor(s.ctx, out, a.shape), [a], "CloneBackward0", (g) => [g]);
}

/** sum() / mean() of every element on the device: a 0-d "webgpu" tensor. */
export function deviceSumAll(a: Tensor, mean: boolean): Tensor {
  const s = a._gpu!;
  const n = shapeNumel(a.shape);
  const alpha = mean ? 1 / n : 1;
  const out = deviceTensor(s.ctx, gpuSum(s.ctx, s.buffer, n, mean && n === 0 ? Number.NaN : alpha), []);
  return recordDevice(out, [a], mean ? "MeanBackward0" : "SumBackward0", (g) => [
    make(g, gpuExpandScalar(s.ctx, g._gpu!.buffer, n, alpha), a.shape),
  ]);
}

/**
 * sum / mean over the dimensions `dims` (non-negative, distinct; checked by the caller) on the device,
 * keeping them as size 1 with `keepdim`.
 */
export function deviceSumDims(a: Tensor, dims: readonly number[], keepdim: boolean, mean: boolean): Tensor {
  const s = a._gpu!;
  const kept = a.shape.map((d, i) => (dims.includes(i) ? 1 : d)); // keepdim's shape
  const count = dims.reduce((c, d) => c * a.shape[d], 1);
  const alpha = mean ? 1 / count : 1;
  let buf = gpuSumTo(s.ctx, s.buffer, a.shape, kept);
  if (alpha !== 1) {
    const scaled = gpuUnary(s.ctx, "scale", buf, shapeNumel(kept), count === 0 ? Number.NaN : alpha);
    s.ctx.release(buf);
    buf = scaled;
  }
  const shape = keepdim ? kept : a.shape.filter((_, i) => !dims.includes(i));
  const out = deviceTensor(s.ctx, buf, shape);
  const name = mean ? "MeanBackward1" : "SumBackward1";
  return recordDevice(out, [a], name, (g) => {
    // g (kept) broadcast back over the summed dimensions, times alpha
    const k = deviceConstant(g, Float32Array.of(alpha), []);
    const gb = g._gpu!.buffer;
    return [make(g, gpuBinaryBroadcast(s.ctx, "mul", gb, kept, k._gpu!.buffer, [], a.shape), a.shape)];
  });
}

/**
 * max / min on the device, as reductions.ts's CPU loop (a NaN wins; of ties, the first). Of every element
 * (dim undefined): a 0-d tensor whose gradient the ties share evenly (MaxBackward1 / MinBackward1). Along
 * `dim`: {values, indices}, the indices an int64 tensor on the device as PyTorch's, the gradient going to
 * each index (MaxBackward0 / MinBackward0).
 */
export function deviceExtreme(
  a: Tensor,
  isMax: boolean,
  dim: number,
  keepdim: boolean,
): { values: Tensor; indices: Tensor };
export function deviceExtreme(
  a: Tensor,
  isMax: boolean,
  dim: number | undefined,
  keepdim: boolean,
): Tensor | { values: Tensor; indices: Tensor };
export function deviceExtreme(
  a: Tensor,
  isMax: boolean,
  dim: number | undefined,
  keepdim: boolean,
): Tensor | { values: Tensor; indices: Tensor } {
  const s = a._gpu!;
  const n = shapeNumel(a.shape);
  const name = isMax ? "max" : "min";
  const node = isMax ? "Max" : "Min";
  if (dim === undefined) {
    if (n === 0) throw new Error(`${name}(): Expected reduction dim to be specified for input.numel() == 0`);
    const [v, index] = gpuExtremeAll(s.ctx, isMax, s.buffer, n);
    s.ctx.release(index);
    const out = deviceTensor(s.ctx, v, []);
    return recordDevice(out, [a], `${node}Backward1`, (g) => {
      // dx = g / count at each of the count elements equal to the extreme (NaN matching NaN), else 0
      // (a viewed flat: any number of dimensions)
      const ties = gpuBinaryBroadcast(s.ctx, "tie", s.buffer, [n], out._gpu!.buffer, [], [n]);
      const count = gpuSum(s.ctx, ties, n);
      const q = gpuBinary(s.ctx, "div", g._gpu!.buffer, count, 1);
      const dx = gpuBinaryBroadcast(s.ctx, "mul", ties, [n], q, [], [n]);
      for (const b of [ties, count, q]) s.ctx.release(b);
      return [make(g, dx, a.shape)];
    });
  }
  const d = normDim(dim, a.ndim);
  const size = a.ndim === 0 ? 1 : a.shape[d];
  if (size === 0) throw new Error(`${name}(): Expected reduction dim ${d} to have non-zero size.`);
  const inner = shapeNumel(a.shape.slice(d + 1));
  const outer = shapeNumel(a.shape.slice(0, d));
  const shape = keepdim ? a.shape.map((k, i) => (i === d ? 1 : k)) : a.shape.filter((_, i) => i !== d);
  const [v, index] = gpuExtremeDim(s.ctx, isMax, s.buffer, outer, size, inner);
  const indices = deviceIndexTensor(s.ctx, index, shape);
  const values = recordDevice(deviceTensor(s.ctx, v, shape), [a], `${node}Backward0`, (g) => {
    const ib = (indices._gpu as IndexStorage).indices;
    return [make(g, gpuExtremeBackward(s.ctx, g._gpu!.buffer, ib, outer, size, inner), a.shape)];
  });
  return { values, indices };
}

/** argmax / argmin on the device (of the flattened tensor, or along `dim`): int64 on the device. */
export function deviceArgExtreme(
  a: Tensor,
  isMax: boolean,
  dim: number | undefined,
  keepdim: boolean,
): Tensor {
  if (dim !== undefined) return deviceExtreme(a.detach(), isMax, dim, keepdim).indices;
  const s = a._gpu!;
  const n = shapeNumel(a.shape);
  // the CPU's argmax of an empty tensor fails as its max along dim 0 of the flattened tensor
  if (n === 0) throw new Error(`${isMax ? "max" : "min"}(): Expected reduction dim 0 to have non-zero size.`);
  const [v, index] = gpuExtremeAll(s.ctx, isMax, s.buffer, n);
  s.ctx.release(v);
  return deviceIndexTensor(s.ctx, index, keepdim ? a.shape.map(() => 1) : []);
}

/** softmax / logSoftmax along `dim` (non-negative, checked by the caller) on the device. */
export function deviceSoftmax(a: Tensor, dim: number, log: boolean): Tensor {
  const s = a._gpu!;
  const size = a.ndim === 0 ? 1 : a.shape[dim];
  const outer = a.shape.slice(0, dim).reduce((x, y) => x * y, 1);
  const inner = a.shape.slice(dim + 1).reduce((x, y) => x * y, 1);
  const y = deviceTensor(s.ctx, gpuSoftmax(s.ctx, log, s.buffer, outer, size, inner), a.shape);
  return recordDevice(y, [a], log ? "LogSoftmaxBackward0" : "SoftmaxBackward0", (g) => [
    make(g, gpuSoftmax(s.ctx, log, y._gpu!.buffer, outer, size, inner, g._gpu!.buffer), a.shape),
  ]);
}

/** mseLoss on the device: mean / sum of (input − target)² (reduction "none" keeps every element). */
export function deviceMseLoss(input: Tensor, target: Tensor, reduction: "mean" | "sum" | "none"): Tensor {
  if (input.device !== target.device) throw mixedDevices(input.device, target.device);
  if (!sameShape(input.shape, target.shape)) {
    throw new Error(
      `mseLoss on webgpu: input ${shapeStr(input.shape)} and target ${shapeStr(target.shape)} must have one shape (broadcasting is not supported on the device yet)`,
    );
  }
  const s = input._gpu!;
  const n = shapeNumel(input.shape);
  const diff = same("sub", input, target); // saved for the backward
  const sq = same("mul", diff, diff);
  const alpha = reduction === "mean" ? 1 / n : 1;
  const out =
    reduction === "none"
      ? sq
      : deviceTensor(
          s.ctx,
          gpuSum(s.ctx, sq._gpu!.buffer, n, reduction === "mean" && n === 0 ? Number.NaN : alpha),
          [],
        );
  return recordDevice(out, [input, target], "MseLossBackward0", (g) => {
    // d/dinput = 2·alpha·g·diff (g expanded from the scalar unless "none"); d/dtarget = −that
    const ge =
      reduction === "none"
        ? scale(g, 2)
        : make(g, gpuExpandScalar(s.ctx, g._gpu!.buffer, n, 2 * alpha), input.shape);
    const gi = same("mul", ge, diff);
    return [input.requiresGrad ? gi : null, target.requiresGrad ? scale(gi, -1) : null];
  });
}

/** Fills `t` (a gradient) with zeros in place, on the CPU or the webgpu device (zeroGrad(false)). */
export function zeroFill(t: Tensor): void {
  if (t._gpu !== null) {
    const s = t._gpu;
    s.ctx.write(s.buffer, new Float32Array(shapeNumel(t.shape)));
  } else t.data.fill(0);
}

/**
 * Rows of `x` (viewed as (rows, cols), cols = the product of dims after the first) gathered by `index`:
 * out row i = x's row index[i], zeros where index[i] is −1; of shape [index.length, ...x.shape[1:]] unless
 * `shape` says otherwise. Each row of x is taken at most once (the packed sequences' moves), so the
 * backward is the inverse gather. Recorded for autograd.
 */
export function deviceGatherRows(x: Tensor, index: Int32Array, shape?: readonly number[]): Tensor {
  const s = x._gpu!;
  const rows = x.ndim === 0 ? 1 : x.shape[0];
  const cols = rows === 0 ? 0 : shapeNumel(x.shape) / rows;
  const inv = new Int32Array(rows).fill(-1);
  for (let i = 0; i < index.length; i++) {
    const r = index[i];
    if (!Number.isInteger(r) || r < -1 || r >= rows) {
      throw new Error(`gather on webgpu: row indices should be in [-1, ${rows}), got ${r}`);
    }
    if (r < 0) continue;
    if (inv[r] !== -1) throw new Error(`gather on webgpu: row ${r} is taken twice (not supported)`);
    inv[r] = i;
  }
  const outShape = shape ?? [index.length, ...x.shape.slice(1)];
  const out = make(x, gpuGatherRows(s.ctx, s.buffer, index, cols), outShape);
  return recordDevice(out, [x], "IndexSelectBackward0", (g) => [
    make(g, gpuGatherRows(s.ctx, g._gpu!.buffer, inv, cols), x.shape),
  ]);
}

/**
 * out[i] = a[src[i]] for a permutation `src` of a's flat elements (flip, roll) on the device, recorded as
 * `name`; the gradient goes back through the inverse permutation.
 */
export function devicePermuteFlat(a: Tensor, src: Int32Array, name: string): Tensor {
  const s = a._gpu!;
  const inv = new Int32Array(src.length);
  for (let i = 0; i < src.length; i++) inv[src[i]] = i;
  const out = deviceTensor(s.ctx, gpuGatherRows(s.ctx, s.buffer, src, 1), a.shape);
  return recordDevice(out, [a], name, (g) => [
    make(g, gpuGatherRows(s.ctx, g._gpu!.buffer, inv, 1), a.shape),
  ]);
}

/** cumsum along `dim` (normalized by the caller) on the device; the gradient is g's reversed running sum. */
export function deviceCumsum(a: Tensor, dim: number): Tensor {
  const s = a._gpu!;
  const size = a.ndim === 0 ? 1 : a.shape[dim];
  const inner = shapeNumel(a.shape.slice(dim + 1));
  const outer = shapeNumel(a.shape.slice(0, dim));
  const out = deviceTensor(s.ctx, gpuCumsum(s.ctx, s.buffer, outer, size, inner, false), a.shape);
  return recordDevice(out, [a], "CumsumBackward0", (g) => [
    make(g, gpuCumsum(s.ctx, g._gpu!.buffer, outer, size, inner, true), a.shape),
  ]);
}

/** `torch.bmm` on the device: (B, M, K) · (B, K, N), the shapes checked by the caller. */
export function deviceBatchedMatmul(a: Tensor, b: Tensor): Tensor {
  const [ta, tb] = operands("bmm", a, b);
  return deviceBmm(ta, tb);
}

/** A "webgpu" tensor of zeros of `shape`, on the context of `like`. */
export function deviceZeros(like: Tensor, shape: readonly number[]): Tensor {
  const ctx = like._gpu!.ctx;
  return deviceTensor(ctx, ctx.upload(new Float32Array(shapeNumel(shape))), shape);
}

/** A "webgpu" copy of the CPU float32 `values` of `shape`, on the context of `like` (no grad). */
export function deviceConstant(like: Tensor, values: Float32Array, shape: readonly number[]): Tensor {
  const ctx = like._gpu!.ctx;
  return deviceTensor(ctx, ctx.upload(values), shape);
}

// ---------------------------------------------------------------------------------------------------------
// Losses on the device (kernels/webgpu/loss.ts): one node each, as nn/loss.ts's CPU losses.

type Reduction = "mean" | "sum" | "none";

/**
 * The loss tensor of per-item losses `l` (n items of `itemShape`) under `reduction` (the mean divides by
 * `denominator`, a number or a one-float buffer), and the per-item gradient of the loss's gradient g.
 */
function reduceLoss(
  ctx: WebGPUContext,
  l: GPUBuffer,
  n: number,
  itemShape: readonly number[],
  reduction: Reduction,
  denominator: number | GPUBuffer,
): { out: Tensor; items: (g: Tensor) => GPUBuffer } {
  if (reduction === "none") return { out: deviceTensor(ctx, l, itemShape), items: (g) => g._gpu!.buffer };
  if (reduction === "sum" || typeof denominator === "number") {
    const alpha = reduction === "sum" ? 1 : 1 / (denominator as number);
    const out = deviceTensor(ctx, gpuSum(ctx, l, n, alpha), []);
    ctx.release(l);
    return { out, items: (g) => gpuExpandScalar(ctx, g._gpu!.buffer, n, alpha) };
  }
  const sum = gpuSum(ctx, l, n, 1);
  ctx.release(l);
  const out = deviceTensor(ctx, gpuBinary(ctx, "div", sum, denominator, 1), []);
  ctx.release(sum);
  return {
    out,
    items: (g) => {
      const q = gpuBinary(ctx, "div", g._gpu!.buffer, denominator, 1);
      const e = gpuExpandScalar(ctx, q, n, 1);
      ctx.release(q);
      return e;
    },
  };
}

function sameDevice(fn: string, ts: (Tensor | null | undefined)[]): WebGPUContext {
  let ctx: WebGPUContext | null = null;
  for (const t of ts) {
    if (t === null || t === undefined) continue;
    if (t._gpu === null) throw mixedDevices("webgpu", "cpu");
    ctx ??= t._gpu.ctx;
  }
  if (ctx === null) throw new Error(`${fn} on webgpu: no tensor on the device`);
  return ctx;
}

/** l1Loss, smoothL1Loss (β), huberLoss (δ) and mseLoss on the device; input and target of one shape. */
export function devicePointwiseLoss(
  kind: PointwiseLoss,
  param: number,
  input: Tensor,
  target: Tensor,
  reduction: Reduction,
  nodeName: string,
): Tensor {
  const ctx = sameDevice(kind, [input, target]);
  const E = shapeNumel(input.shape);
  const x = input._gpu!.buffer;
  const y = target._gpu!.buffer;
  const l = gpuPointwiseLoss(ctx, kind, param, x, y, E);
  const { out, items } = reduceLoss(ctx, l, E, input.shape, reduction, E);
  return recordDevice(out, [input, target], nodeName, (g) => {
    const dl = items(g);
    const [dx, dy] = gpuPointwiseLossBackward(ctx, kind, param, x, y, dl, E);
    if (dl !== g._gpu!.buffer) ctx.release(dl);
    return [gradOrRelease(ctx, input, dx), gradOrRelease(ctx, target, dy)];
  });
}

/** `t` (a device tensor) broadcast to `shape` as a new buffer; PyTorch-style check, t may not grow it. */
function expandTo(fn: string, what: string, t: Tensor, shape: readonly number[]): GPUBuffer {
  const nd = shape.length;
  const fits = t.ndim <= nd && t.shape.every((d, k) => d === 1 || d === shape[nd - t.ndim + k]);
  if (!fits) {
    throw new Error(
      `${fn}: ${what} of shape ${shapeStr(t.shape)} cannot be broadcast to the input shape ${shapeStr(shape)}`,
    );
  }
  const ctx = t._gpu!.ctx;
  const zero = ctx.upload(new Float32Array(1));
  const out = gpuBinaryBroadcast(ctx, "add", t._gpu!.buffer, t.shape, zero, [], shape);
  ctx.release(zero);
  return out;
}

/** bceWithLogitsLoss on the device (weight and posWeight broadcast to the input's shape). */
export function deviceBceWithLogits(
  input: Tensor,
  target: Tensor,
  weight: Tensor | null,
  posWeight: Tensor | null,
  reduction: Reduction,
): Tensor {
  const fn = "bceWithLogitsLoss";
  const ctx = sameDevice(fn, [input, target, weight, posWeight]);
  const E = shapeNumel(input.shape);
  const w = weight === null ? null : expandTo(fn, "weight", weight, input.shape);
  const pw = posWeight === null ? null : expandTo(fn, "posWeight", posWeight, input.shape);
  const x = input._gpu!.buffer;
  const y = target._gpu!.buffer;
  const l = gpuBceWithLogits(ctx, x, y, w, pw, E);
  const { out, items } = reduceLoss(ctx, l, E, input.shape, reduction, E);
  const release = () => {
    if (w !== null) ctx.release(w);
    if (pw !== null) ctx.release(pw);
  };
  if (!needsGradOf(input, target)) {
    release();
    return out;
  }
  return recordDevice(out, [input, target], "BinaryCrossEntropyWithLogitsBackward0", (g) => {
    const dl = items(g);
    const [dx, dy] = gpuBceWithLogitsBackward(ctx, x, y, w, pw, dl, E);
    if (dl !== g._gpu!.buffer) ctx.release(dl);
    return [gradOrRelease(ctx, input, dx), gradOrRelease(ctx, target, dy)];
  });
}

/**
 * crossEntropyLoss on the device, the input viewed as (N, C, S): class indices `indices` (N·S, −1 where
 * ignored; read and checked on the CPU by the caller) or class probabilities `probs` (the input's shape,
 * on the device); class weights (C) on the device or null.
 */
export function deviceCrossEntropy(
  input: Tensor,
  indices: Int32Array | null,
  probs: Tensor | null,
  weight: Tensor | null,
  eps: number,
  reduction: Reduction,
  N: number,
  C: number,
  S: number,
  colShape: readonly number[],
): Tensor {
  const ctx = sameDevice("crossEntropyLoss", [input, probs, weight]);
  const prob = probs !== null;
  const x = input._gpu!.buffer;
  const t = prob ? probs._gpu!.buffer : ctx.upload(indices!);
  const w = weight === null ? null : weight._gpu!.buffer;
  const cols = N * S;
  const [l, wt] = gpuCrossEntropy(ctx, prob, x, t, w, eps, N, C, S);
  let denominator: number | GPUBuffer = cols;
  if (!prob && reduction === "mean") denominator = gpuSum(ctx, wt, cols, 1);
  ctx.release(wt);
  const { out, items } = reduceLoss(ctx, l, cols, colShape, reduction, denominator);
  const inputs = prob ? [input, probs] : [input];
  return recordDevice(out, inputs, "CrossEntropyLossBackward0", (g) => {
    const dl = items(g);
    const [dx, dy] = gpuCrossEntropyBackward(ctx, prob, x, t, w, eps, dl, N, C, S);
    if (dl !== g._gpu!.buffer) ctx.release(dl);
    const gx = gradOrRelease(ctx, input, dx);
    if (!prob) return [gx];
    return [gx, gradOrRelease(ctx, probs, dy!)];
  });
}

function needsGradOf(...ts: Tensor[]): boolean {
  return isGradEnabled() && ts.some((t) => t.requiresGrad);
}

/** A device tensor over `buf` as the gradient of `t`, or null (and `buf` released) when t needs none. */
function gradOrRelease(ctx: WebGPUContext, t: Tensor, buf: GPUBuffer): Tensor | null {
  if (t.requiresGrad) return deviceTensor(ctx, buf, t.shape);
  ctx.release(buf);
  return null;
}

/**
 * A view of `a` (shape, strides, offset in elements of a's contiguous buffer) on the device: materialized
 * as a contiguous copy (device tensors are contiguous; in-place writes refuse them, so no one can tell).
 * The gradient goes back to the view's places: summed over stride-0 (expanded) dimensions, written in
 * place for the others (each element of a at most once).
 */
export function deviceView(
  a: Tensor,
  shape: readonly number[],
  strides: readonly number[],
  offset: number,
  name: string,
): Tensor {
  const s = a._gpu!;
  const out = deviceTensor(s.ctx, gpuStrided(s.ctx, s.buffer, shape, strides, offset), shape);
  // expand is the one view with stride-0 dimensions (or new leading ones): its gradient sums them back
  const expanded = shape.length > a.ndim || strides.some((st, d) => st === 0 && shape[d] > 1);
  return recordDevice(out, [a], name, (g) => {
    if (expanded) return [sumTo(g, a.shape)];
    const gx = s.ctx.upload(new Float32Array(shapeNumel(a.shape)));
    gpuStrided(s.ctx, g._gpu!.buffer, shape, strides, offset, gx);
    return [make(g, gx, a.shape)];
  });
}

/**
 * cat / stack on the device: `outer` blocks of Σ sizes[k]·inner elements, operand k's sizes[k]·inner of each
 * block side by side, into a new tensor of `shape`. The gradient of each operand is its part of g.
 */
export function deviceJoin(
  tensors: readonly Tensor[],
  outer: number,
  sizes: readonly number[],
  inner: number,
  shape: number[],
  name: string,
): Tensor {
  const ctx = sameDevice(name, tensors as Tensor[]);
  const total = sizes.reduce((x, y) => x + y, 0);
  const out = ctx.storage(shapeNumel(shape) * 4);
  const starts = sizes.map((_, k) => sizes.slice(0, k).reduce((x, y) => x + y, 0) * inner);
  const place = (k: number): [number[], number[], number] => [
    [outer, sizes[k] * inner],
    [total * inner, 1],
    starts[k],
  ];
  tensors.forEach((t, k) => {
    const [sh, st, off] = place(k);
    gpuStrided(ctx, t._gpu!.buffer, sh, st, off, out);
  });
  return recordDevice(deviceTensor(ctx, out, shape), tensors as Tensor[], name, (g) =>
    tensors.map((t, k) => {
      if (!t.requiresGrad) return null;
      const [sh, st, off] = place(k);
      return make(g, gpuStrided(ctx, g._gpu!.buffer, sh, st, off), t.shape);
    }),
  );
}

/** clamp into [lo, hi] on the device (either side may be null): max with lo, then min with hi. */
export function deviceClamp(a: Tensor, lo: number | null, hi: number | null): Tensor {
  const s = a._gpu!;
  const n = shapeNumel(a.shape);
  let buf = s.buffer;
  for (const [op, v] of [
    ["clampMin", lo],
    ["clampMax", hi],
  ] as const) {
    if (v === null) continue;
    const next = gpuUnary(s.ctx, op, buf, n, v);
    if (buf !== s.buffer) s.ctx.release(buf);
    buf = next;
  }
  // the gradient passes where lo ≤ x ≤ hi
  return recordDevice(deviceTensor(s.ctx, buf, a.shape), [a], "ClampBackward1", (g) => {
    let d = g;
    if (lo !== null) d = same("passAbove", d, a, lo);
    if (hi !== null) d = same("passBelow", d, a, hi);
    return [d];
  });
}
