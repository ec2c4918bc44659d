// Devices: where a tensor's values live. "cpu" tensors hold a typed array (tensor.ts); "webgpu" tensors
// hold a contiguous float32 GPUBuffer of the WebGPU context (kernels/webgpu), reached with
// `t.to("webgpu")` and read back with `await t.cpuAsync()` (WebGPU reads are asynchronous everywhere).
// The ops that run on the device so far: add, sub, mul, div (broadcast), neg, exp, tanh, sigmoid, relu,
// the 2-D matmul, linear (so nn.Linear, nn.Tanh, ... run there under noGrad), view / reshape / flatten /
// squeeze / unsqueeze (the same buffer) and clone. Autograd does not reach the device yet. Mixing devices in one op raises PyTorch's
// error.

import {
  type BinaryOp,
  gpuBinary,
  gpuBinaryBroadcast,
  gpuGemm,
  gpuMatmul,
  gpuUnary,
  type UnaryOp,
} from "../kernels/webgpu/ops.js";
import { type WebGPUContext, webgpuContext } from "../kernels/webgpu/index.js";
import { broadcastShapes } from "./broadcast.js";
import { isGradEnabled } from "./engine.js";
import { shapeNumel } from "./shape.js";
import { Tensor, type TensorLike } from "./tensor.js";

export type Device = "cpu" | "webgpu";

/** The storage of a "webgpu" tensor: a buffer of `ctx` holding numel float32 values, row-major. */
export interface DeviceStorage {
  readonly ctx: WebGPUContext;
  readonly buffer: GPUBuffer;
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
  if (t.dtype !== "float32") {
    throw new Error(`to('webgpu'): only float32 tensors can live on webgpu so far, got ${t.dtype}`);
  }
  checkNoGrad("to('webgpu')", t);
  const ctx = webgpuContext();
  return deviceTensor(ctx, ctx.upload(t.data), t.shape);
}

/**
 * @internal moves `t`'s values (and its gradient's) to the webgpu device in place: the same tensor object,
 * as PyTorch's Module.to() keeps each Parameter. No-op when already there.
 */
export function moveToDeviceInPlace(t: Tensor): void {
  if (t._gpu !== null) return;
  if (t.dtype !== "float32") {
    throw new Error(`to('webgpu'): only float32 tensors can live on webgpu so far, got ${t.dtype}`);
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
  const values = n === 0 ? new Float32Array(0) : await s.ctx.read(s.buffer, n * 4);
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

function checkNoGrad(what: string, ...ts: Tensor[]): void {
  if (isGradEnabled() && ts.some((t) => t.requiresGrad)) {
    throw new Error(
      `${what}: autograd does not reach the webgpu device yet; detach() the tensor or run under noGrad()`,
    );
  }
}

function operands(name: string, a: TensorLike, b: TensorLike): [Tensor, Tensor] {
  if (!(a instanceof Tensor) || !(b instanceof Tensor)) {
    throw new Error(`${name} on webgpu: a number operand is not supported yet; make it a tensor on webgpu`);
  }
  if (a.device !== b.device) throw mixedDevices(a.device, b.device);
  return [a, b];
}

/** add, sub, mul, div on the device, broadcast as PyTorch does. */
export function deviceBinary(op: BinaryOp, a: TensorLike, b: TensorLike, alpha = 1): Tensor {
  const [ta, tb] = operands(op, a, b);
  checkNoGrad(op, ta, tb);
  const s = ta._gpu!;
  if (ta.shape.length !== tb.shape.length || ta.shape.some((d, i) => d !== tb.shape[i])) {
    const shape = broadcastShapes(ta.shape, tb.shape); // PyTorch's error where they do not broadcast
    const out = gpuBinaryBroadcast(s.ctx, op, s.buffer, ta.shape, tb._gpu!.buffer, tb.shape, shape, alpha);
    return deviceTensor(s.ctx, out, shape);
  }
  const out = gpuBinary(s.ctx, op, s.buffer, tb._gpu!.buffer, shapeNumel(ta.shape), alpha);
  return deviceTensor(s.ctx, out, ta.shape);
}

/** neg, exp, tanh, sigmoid, relu on the device. */
export function deviceUnary(op: UnaryOp, a: Tensor): Tensor {
  checkNoGrad(op, a);
  const s = a._gpu!;
  return deviceTensor(s.ctx, gpuUnary(s.ctx, op, s.buffer, shapeNumel(a.shape)), a.shape);
}

/** The 2-D matrix product on the device. */
export function deviceMatmul(a: Tensor, b: Tensor): Tensor {
  const [ta, tb] = operands("matmul", a, b);
  if (ta.ndim !== 2 || tb.ndim !== 2) {
    throw new Error(`matmul on webgpu: only 2-D operands so far, got ${ta.ndim}-D and ${tb.ndim}-D`);
  }
  const [M, K] = ta.shape;
  const [K2, N] = tb.shape;
  if (K !== K2) {
    throw new Error(`mat1 and mat2 shapes cannot be multiplied (${M}x${K} and ${K2}x${N})`);
  }
  checkNoGrad("matmul", ta, tb);
  const s = ta._gpu!;
  return deviceTensor(s.ctx, gpuMatmul(s.ctx, s.buffer, tb._gpu!.buffer, M, N, K), [M, N]);
}

/** `F.linear` on the device: x (..., in) · Wᵀ (W (out, in)) + b (out). */
export function deviceLinear(x: Tensor, weight: Tensor, bias: Tensor | null): Tensor {
  for (const t of bias === null ? [weight] : [weight, bias]) {
    if (t.device !== x.device) throw mixedDevices(x.device, t.device);
  }
  const [outF, inF] = weight.shape;
  const rows = shapeNumel(x.shape) / inF;
  checkNoGrad("linear", x, weight, ...(bias === null ? [] : [bias]));
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
  return deviceTensor(s.ctx, out, shape);
}

/** view / reshape / squeeze / unsqueeze on the device: the same buffer under another shape (no copy). */
export function deviceReshape(a: Tensor, shape: readonly number[]): Tensor {
  checkNoGrad("reshape", a);
  return Tensor._onDevice(a._gpu!, shape);
}

/** clone on the device: a copy of the buffer, recorded in order with the dispatches. */
export function deviceClone(a: Tensor): Tensor {
  checkNoGrad("clone", a);
  const s = a._gpu!;
  const n = shapeNumel(a.shape);
  const out = s.ctx.storage(n * 4);
  s.ctx.copy(s.buffer, out, n * 4);
  return deviceTensor(s.ctx, out, a.shape);
}
