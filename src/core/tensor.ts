// The Tensor: float32, int64 or bool (see dtype.ts), row-major, with reverse-mode automatic differentiation (the
// engine that runs it lives in engine.ts; the ops behind the methods in ops.ts and the files it gathers).
//
// Storage and views: a tensor made from an array owns it, contiguous. transpose / permute / t, select /
// narrow / split / unbind on any dimension, and expand return views: tensors that share their base's
// storage through strides and an offset, as PyTorch's do, so an in-place write (fill_, zero_, copy_)
// through a view changes the base. A view that happens to be contiguous holds a subarray of the storage
// (the same memory). `data` is always the elements in row-major order: for a non-contiguous view it is
// gathered into a fresh array on each read (kernels copy at their door), so write through the in-place
// methods, not into `data`, of such a view.

import { gatherStrided, stridedOffsets } from "./broadcast.js";
import { cpuAsync, type Device, type DeviceStorage, deviceSeed, isDevice, toDevice } from "./device.js";
import { alloc, castStorage, coerce, type DType, dtypeOf, type Storage } from "./dtype.js";
import { formatTensor } from "./format.js";
import * as ops from "./ops.js";
import { type GradFn, type GradHook, isGradEnabled, runBackward } from "./engine.js";
import { normDim, sameShape, shapeNumel, shapeStr } from "./shape.js";

export {
  enableGrad,
  type GradFn,
  type GradHook,
  type GradInto,
  isGradEnabled,
  needsGrad,
  noGrad,
  record,
  result,
  resultMulti,
} from "./engine.js";
export { normDim, shapeNumel, shapeStr } from "./shape.js";
export type { DType, Storage } from "./dtype.js";

/** PyTorch's refusal to write in place into a leaf that requires grad while grad mode is on. */
function checkInPlace(t: Tensor): void {
  if (isGradEnabled() && t.requiresGrad && t.gradFn === null) {
    throw new Error("a leaf Variable that requires grad is being used in an in-place operation.");
  }
}

function checkShape(shape: readonly number[]): void {
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) {
      throw new Error(`invalid shape ${shapeStr(shape)}: every dimension must be a non-negative integer`);
    }
  }
}

/** @internal refuses an operation that has no webgpu version yet on a "webgpu" tensor. */
export function cpuOnly(t: Tensor, what: string): void {
  if (t._gpu !== null) {
    throw new Error(
      `${what} is not supported on the webgpu device yet (read the tensor with \`await t.cpuAsync()\`)`,
    );
  }
}

/** PyTorch's refusal of gradients on an integer or bool tensor. */
function checkRequiresGrad(data: Storage, flag: boolean): void {
  if (flag && !(data instanceof Float32Array))
    throw new Error("only Tensors of floating point dtype can require gradients");
}

export class Tensor {
  /**
   * The elements, row-major. Its class is the dtype: a Float32Array (float32), a Float64Array (int64) or a
   * Uint8Array (bool). It is typed Float32Array for the float-only code (kernels, nn, optim) that reads it;
   * code that may meet other dtypes reads `storage`, or checks `dtype` first.
   */
  get data(): Float32Array {
    if (this._gpu !== null) {
      throw new Error("this tensor is on the webgpu device: read its values with `await t.cpuAsync()`");
    }
    return this._strides === null ? this._data : this._gather();
  }
  set data(v: Float32Array) {
    this._data = v;
    this._strides = null;
    this._offset = 0;
  }
  /** @internal the storage: the elements themselves when contiguous, else the base's storage */
  _data: Float32Array;
  /** @internal strides into `_data` of a non-contiguous view (null: contiguous, `_data` is the elements) */
  _strides: number[] | null = null;
  /** @internal where a non-contiguous view starts in `_data` */
  _offset = 0;
  /** The size of each dimension. */
  readonly shape: number[];
  requiresGrad: boolean;
  /** Accumulated gradient of a leaf (or of a tensor that called `retainGrad()`). */
  grad: Tensor | null = null;
  /** The node that produced this tensor, `null` for leaves. */
  gradFn: GradFn | null = null;
  /** @internal */ _retainsGrad = false;
  /** @internal */ _hooks: GradHook[] | null = null;
  /** @internal the backward pass's bookkeeping: visit stamp, gradient so far, and whether it owns it */
  _mark = 0;
  /** @internal */ _g: Float32Array | Tensor | null = null;
  /** @internal */ _gOwned = false;
  /** @internal the values of a "webgpu" tensor (then `_data` is empty), null on the CPU */
  _gpu: DeviceStorage | null = null;

  constructor(data: Storage, shape: readonly number[], requiresGrad = false) {
    checkShape(shape);
    dtypeOf(data);
    checkRequiresGrad(data, requiresGrad);
    const n = shapeNumel(shape);
    if (data.length !== n) {
      throw new Error(`tensor data has ${data.length} elements but shape ${shapeStr(shape)} needs ${n}`);
    }
    this._data = data as Float32Array;
    this.shape = shape.slice();
    this.requiresGrad = requiresGrad;
  }

  /** "float32", "int64" or "bool" (PyTorch prints them `torch.float32`, ...; see `torchDtype`). */
  get dtype(): DType {
    return dtypeOf(this._data);
  }

  /** The elements with their honest type (the same array as `data`). */
  get storage(): Storage {
    return this.data;
  }

  get isFloatingPoint(): boolean {
    return this._data instanceof Float32Array;
  }

  /** Where the values live: "cpu", or "webgpu" after `to("webgpu")` (device.ts). */
  get device(): Device {
    return this._gpu === null ? "cpu" : "webgpu";
  }

  /**
   * This tensor as `dtype`: itself when it already is, else a copy (ints truncate toward zero, bools are
   * `!= 0`). Like PyTorch's, a conversion to float32 is differentiable (the gradient passes through) and
   * a conversion to int64 or bool is not. Given a device ("cpu" or "webgpu"), a copy on that device;
   * a webgpu tensor comes back with `await t.cpuAsync()`, as reading the GPU is asynchronous.
   */
  to(target: DType | Device): Tensor {
    if (isDevice(target)) return toDevice(this, target);
    if (target !== "float32" && target !== "int64" && target !== "bool") {
      throw new Error(
        `to: expected a dtype ("float32", "int64", "bool") or a device ("cpu", "webgpu"), got ${JSON.stringify(target)}`,
      );
    }
    if (target === this.dtype) return this;
    if (this._gpu !== null)
      throw new Error(`to('${target}'): dtype conversion on webgpu is not supported yet`);
    return ops.toDtype(this, target);
  }
  /** A CPU tensor with these values, once read back from the device (this tensor itself on the CPU). */
  cpuAsync(): Promise<Tensor> {
    return cpuAsync(this);
  }
  /** `item()` for a tensor on any device. */
  async itemAsync(): Promise<number> {
    if (this.numel !== 1) {
      throw new Error(`a Tensor with ${this.numel} elements cannot be converted to a scalar`);
    }
    return (await this.cpuAsync()).item();
  }
  /** `to("float32")`. */
  float(): Tensor {
    return this.to("float32");
  }
  /** `to("int64")`. */
  long(): Tensor {
    return this.to("int64");
  }
  /** `to("bool")`. */
  bool(): Tensor {
    return this.to("bool");
  }

  /** Number of elements. */
  get numel(): number {
    return this._strides === null && this._gpu === null ? this._data.length : shapeNumel(this.shape);
  }

  /** Number of dimensions. */
  get ndim(): number {
    return this.shape.length;
  }

  dim(): number {
    return this.shape.length;
  }

  /** The size of dimension `d` (negative counts from the end), or the whole shape. */
  size(): number[];
  size(d: number): number;
  size(d?: number): number | number[] {
    if (d === undefined) return this.shape.slice();
    return this.shape[normDim(d, this.shape.length)];
  }

  get isLeaf(): boolean {
    return this.gradFn === null;
  }

  /** The value of a one-element tensor. */
  item(): number {
    if (this.numel !== 1) {
      throw new Error(`a Tensor with ${this.numel} elements cannot be converted to a scalar`);
    }
    return this.data[0];
  }

  /** Nested arrays of numbers (a number for a 0-d tensor). */
  tolist(): NestedArray {
    const data = this.data;
    if (this.shape.length === 0) return data[0];
    const build = (dim: number, offset: number): NestedArray[] | number[] => {
      const n = this.shape[dim];
      if (dim === this.shape.length - 1) return Array.from(data.subarray(offset, offset + n));
      const stride = shapeNumel(this.shape.slice(dim + 1));
      const out: NestedArray[] = [];
      for (let i = 0; i < n; i++) out.push(build(dim + 1, offset + i * stride));
      return out;
    };
    return build(0, 0);
  }

  toString(): string {
    if (this._gpu !== null)
      return `tensor(<on webgpu: await t.cpuAsync()>, device='webgpu', size=${shapeStr(this.shape)}${this.dtype === "float32" ? "" : `, dtype=torch.${this.dtype}`})`;
    return formatTensor(this);
  }

  /** `console.log(t)` and `util.inspect(t)` in Node print PyTorch's text (a registered symbol: no node: import). */
  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return this.toString();
  }

  /** Iterates over the first dimension, as `for xt in x` in PyTorch. */
  *[Symbol.iterator](): IterableIterator<Tensor> {
    if (this.shape.length === 0) throw new Error("iteration over a 0-d tensor");
    for (let i = 0; i < this.shape[0]; i++) yield ops.select(this, 0, i);
  }

  // ---- autograd ----

  /** Sets `requiresGrad` in place (leaves only) and returns this tensor. */
  requiresGrad_(flag = true): this {
    if (!this.isLeaf && !flag) {
      throw new Error("you can only change requiresGrad flags of leaf variables");
    }
    checkRequiresGrad(this._data, flag);
    this.requiresGrad = flag;
    return this;
  }

  /** Keeps the gradient of a non-leaf tensor in `.grad` after `backward()`. */
  retainGrad(): this {
    if (!this.requiresGrad) throw new Error("can't retainGrad on a Tensor that has requiresGrad=false");
    this._retainsGrad = true;
    return this;
  }

  get retainsGrad(): boolean {
    return this._retainsGrad;
  }

  /**
   * Calls `hook(grad)` each time the gradient with respect to this tensor is computed; a tensor the hook
   * returns replaces the gradient, as in PyTorch.
   */
  registerHook(hook: GradHook): () => void {
    if (!this.requiresGrad)
      throw new Error("cannot register a hook on a tensor that doesn't require gradient");
    if (this._hooks === null) this._hooks = [];
    this._hooks.push(hook);
    return () => {
      const i = this._hooks?.indexOf(hook) ?? -1;
      if (i >= 0) this._hooks?.splice(i, 1);
    };
  }

  /**
   * Computes the gradient of this tensor with respect to the graph leaves and accumulates it in their
   * `.grad`. Without `gradient`, the tensor must hold a single element. As in PyTorch, nodes that hold
   * large saved buffers (the fused recurrent layers) free them once their backward has run; pass
   * `retainGraph: true` to backward through the same graph again.
   */
  backward(gradient?: Tensor | Float32Array | null, options: { retainGraph?: boolean } = {}): void {
    if (!this.requiresGrad) {
      throw new Error("element 0 of tensors does not require grad and does not have a grad_fn");
    }
    if (this._gpu !== null) {
      runBackward(this, deviceSeed(this, gradient), options.retainGraph ?? false);
      return;
    }
    let seed: Float32Array;
    if (gradient === undefined || gradient === null) {
      if (this.numel !== 1) {
        throw new Error(
          `grad can be implicitly created only for scalar outputs; this tensor has shape ${shapeStr(this.shape)}`,
        );
      }
      seed = new Float32Array(1).fill(1);
    } else {
      if (gradient instanceof Tensor && !sameShape(gradient.shape, this.shape)) {
        throw new Error(
          `Mismatch in shape: grad_output[0] has a shape of ${shapeStr(gradient.shape)} and output[0] has a shape of ${shapeStr(this.shape)}.`,
        );
      }
      seed = gradient instanceof Tensor ? gradient.data : gradient;
      if (seed.length !== this.numel) {
        throw new Error(
          `backward: gradient has ${seed.length} elements but the tensor has shape ${shapeStr(this.shape)}`,
        );
      }
    }
    runBackward(this, seed, options.retainGraph ?? false);
  }

  /** A tensor sharing this one's data, cut from the graph. */
  detach(): Tensor {
    if (this._gpu !== null) return Tensor._onDevice(this._gpu, this.shape);
    if (this._strides === null) return new Tensor(this._data, this.shape, false);
    return Tensor._view(this._data, this.shape, this._strides, this._offset);
  }

  /**
   * @internal A tensor of `shape` over `storage` (the array of a base tensor) with the given strides and
   * offset: a view sharing the storage. When those strides are the contiguous ones, the view is a plain
   * tensor over a subarray of the storage (still the same memory).
   */
  static _view(
    storage: Float32Array,
    shape: readonly number[],
    strides: readonly number[],
    offset: number,
  ): Tensor {
    const n = shapeNumel(shape);
    let contiguous = true;
    let expect = 1;
    for (let d = shape.length - 1; d >= 0; d--) {
      if (shape[d] !== 1 && strides[d] !== expect) contiguous = false;
      expect *= shape[d];
    }
    if (contiguous || n === 0) return new Tensor(storage.subarray(offset, offset + n), shape);
    const t = new Tensor(storage.subarray(0, 0), new Array<number>(shape.length).fill(0));
    (t as { shape: number[] }).shape = shape.slice();
    t._data = storage;
    t._strides = strides.slice();
    t._offset = offset;
    return t;
  }

  /** @internal a "webgpu" tensor of `shape` over `storage` (device.ts deviceTensor registers its release) */
  static _onDevice(storage: DeviceStorage, shape: readonly number[]): Tensor {
    // the empty CPU storage carries the dtype: int64 or bool for the device's integers, else float32
    const empty =
      storage.dtype === "int64"
        ? new Float64Array(0)
        : storage.dtype === "bool"
          ? new Uint8Array(0)
          : new Float32Array(0);
    const t = new Tensor(empty, [0]);
    (t as { shape: number[] }).shape = shape.slice();
    t._gpu = storage;
    return t;
  }

  /** @internal the storage offset of each element, in row-major order (a non-contiguous view only) */
  _offsets(): Int32Array {
    const off = stridedOffsets(this.shape, this._strides as number[]);
    const o = this._offset;
    if (o !== 0) for (let i = 0; i < off.length; i++) off[i] += o;
    return off;
  }

  /** @internal the elements of a non-contiguous view, gathered in row-major order */
  _gather(): Float32Array {
    const src = this._data;
    const out = alloc(dtypeOf(src), shapeNumel(this.shape)) as Float32Array;
    return gatherStrided(src, this.shape, this._strides as number[], this._offset, out);
  }

  /**
   * @internal writes `values` (row-major, one per element) into this tensor's storage, through a view too.
   * A view whose elements share memory (expand) takes one value for all (`fill_`), not several (`copy_`).
   */
  _write(values: ArrayLike<number>, uniform = false): void {
    cpuOnly(this, "writing into a tensor");
    if (this._strides === null) {
      this._data.set(values);
      return;
    }
    const st = this._strides;
    if (!uniform && this.shape.some((n, d) => n > 1 && st[d] === 0))
      throw new Error(
        "unsupported operation: more than one element of the written-to tensor refers to a single memory location. Please clone() the tensor before performing the operation.",
      );
    const off = this._offsets();
    const dst = this._data;
    for (let i = 0; i < off.length; i++) dst[off[i]] = values[i];
  }

  /** Cuts this tensor from the graph in place. */
  detach_(): this {
    this.gradFn = null;
    this.requiresGrad = false;
    return this;
  }

  // ---- ops as methods (see ops.ts) ----
  add(other: TensorLike, alpha?: number): Tensor {
    return ops.add(this, other, alpha);
  }
  sub(other: TensorLike, alpha?: number): Tensor {
    return ops.sub(this, other, alpha);
  }
  mul(other: TensorLike): Tensor {
    return ops.mul(this, other);
  }
  div(other: TensorLike): Tensor {
    return ops.div(this, other);
  }
  pow(exponent: TensorLike): Tensor {
    return ops.pow(this, exponent);
  }
  neg(): Tensor {
    return ops.neg(this);
  }
  exp(): Tensor {
    return ops.exp(this);
  }
  log(): Tensor {
    return ops.log(this);
  }
  sqrt(): Tensor {
    return ops.sqrt(this);
  }
  abs(): Tensor {
    return ops.abs(this);
  }
  sin(): Tensor {
    return ops.sin(this);
  }
  cos(): Tensor {
    return ops.cos(this);
  }
  tanh(): Tensor {
    return ops.tanh(this);
  }
  sigmoid(): Tensor {
    return ops.sigmoid(this);
  }
  relu(): Tensor {
    return ops.relu(this);
  }
  square(): Tensor {
    return ops.square(this);
  }
  clamp(min?: number | null, max?: number | null): Tensor {
    return ops.clamp(this, min, max);
  }
  matmul(other: Tensor): Tensor {
    return ops.matmul(this, other);
  }
  sum(dim?: number | number[] | null, keepdim?: boolean): Tensor {
    return ops.sum(this, dim, keepdim);
  }
  mean(dim?: number | number[] | null, keepdim?: boolean): Tensor {
    return ops.mean(this, dim, keepdim);
  }
  max(): Tensor;
  max(dim: number, keepdim?: boolean): { values: Tensor; indices: Tensor };
  max(dim?: number, keepdim?: boolean): Tensor | { values: Tensor; indices: Tensor } {
    return dim === undefined ? ops.max(this) : ops.max(this, dim, keepdim);
  }
  min(): Tensor;
  min(dim: number, keepdim?: boolean): { values: Tensor; indices: Tensor };
  min(dim?: number, keepdim?: boolean): Tensor | { values: Tensor; indices: Tensor } {
    return dim === undefined ? ops.min(this) : ops.min(this, dim, keepdim);
  }
  argmax(dim?: number, keepdim?: boolean): Tensor {
    return ops.argmax(this, dim, keepdim);
  }
  argmin(dim?: number, keepdim?: boolean): Tensor {
    return ops.argmin(this, dim, keepdim);
  }
  eq(other: TensorLike): Tensor {
    return ops.eq(this, other);
  }
  ne(other: TensorLike): Tensor {
    return ops.ne(this, other);
  }
  lt(other: TensorLike): Tensor {
    return ops.lt(this, other);
  }
  le(other: TensorLike): Tensor {
    return ops.le(this, other);
  }
  gt(other: TensorLike): Tensor {
    return ops.gt(this, other);
  }
  ge(other: TensorLike): Tensor {
    return ops.ge(this, other);
  }
  logicalAnd(other: TensorLike): Tensor {
    return ops.logicalAnd(this, other);
  }
  logicalOr(other: TensorLike): Tensor {
    return ops.logicalOr(this, other);
  }
  logicalXor(other: TensorLike): Tensor {
    return ops.logicalXor(this, other);
  }
  logicalNot(): Tensor {
    return ops.logicalNot(this);
  }
  gather(dim: number, index: Tensor): Tensor {
    return ops.gather(this, dim, index);
  }
  scatter(dim: number, index: Tensor, src: Tensor | number): Tensor {
    return ops.scatter(this, dim, index, src);
  }
  scatterAdd(dim: number, index: Tensor, src: Tensor): Tensor {
    return ops.scatterAdd(this, dim, index, src);
  }
  indexSelect(dim: number, index: Tensor): Tensor {
    return ops.indexSelect(this, dim, index);
  }
  maskedFill(mask: Tensor, value: TensorLike): Tensor {
    return ops.maskedFill(this, mask, value);
  }
  all(dim?: number, keepdim?: boolean): Tensor {
    return ops.all(this, dim, keepdim);
  }
  any(dim?: number, keepdim?: boolean): Tensor {
    return ops.any(this, dim, keepdim);
  }
  flip(...dims: ShapeArgs): Tensor {
    return ops.flip(this, flattenShapeArgs(dims));
  }
  roll(shifts: number | readonly number[], dims?: number | readonly number[]): Tensor {
    return ops.roll(this, shifts, dims);
  }
  /** `[values, indices]` of the k largest (or smallest) along `dim`. */
  topk(k: number, dim?: number, largest?: boolean, sorted?: boolean): [Tensor, Tensor] {
    return ops.topk(this, k, dim, largest, sorted);
  }
  /** `[values, indices]` sorted along `dim`. */
  sort(dim?: number, descending?: boolean): [Tensor, Tensor] {
    return ops.sort(this, dim, descending);
  }
  argsort(dim?: number, descending?: boolean): Tensor {
    return ops.argsort(this, dim, descending);
  }
  cumsum(dim: number): Tensor {
    return ops.cumsum(this, dim);
  }
  bmm(other: Tensor): Tensor {
    return ops.bmm(this, other);
  }
  multinomial(numSamples: number, replacement?: boolean, opts?: ops.SampleOptions): Tensor {
    return ops.multinomial(this, numSamples, replacement, opts);
  }
  /** 0/1 draws with probability `this` (or `p`), as `torch.bernoulli`. */
  bernoulli(p?: number | null, opts?: ops.SampleOptions): Tensor {
    return ops.bernoulli(this, p, opts);
  }
  norm(p?: number): Tensor {
    return ops.norm(this, p);
  }
  view(...shape: ShapeArgs): Tensor {
    return ops.view(this, flattenShapeArgs(shape));
  }
  reshape(...shape: ShapeArgs): Tensor {
    return ops.reshape(this, flattenShapeArgs(shape));
  }
  flatten(startDim?: number, endDim?: number): Tensor {
    return ops.flatten(this, startDim, endDim);
  }
  squeeze(dim?: number): Tensor {
    return ops.squeeze(this, dim);
  }
  unsqueeze(dim: number): Tensor {
    return ops.unsqueeze(this, dim);
  }
  transpose(dim0: number, dim1: number): Tensor {
    return ops.transpose(this, dim0, dim1);
  }
  /** Transpose of a tensor of at most 2 dimensions. */
  t(): Tensor {
    return ops.t(this);
  }
  get T(): Tensor {
    return ops.permute(
      this,
      this.shape.map((_, i) => this.shape.length - 1 - i),
    );
  }
  permute(...dims: ShapeArgs): Tensor {
    return ops.permute(this, flattenShapeArgs(dims));
  }
  expand(...shape: ShapeArgs): Tensor {
    return ops.expand(this, flattenShapeArgs(shape));
  }
  chunk(chunks: number, dim?: number): Tensor[] {
    return ops.chunk(this, chunks, dim);
  }
  split(splitSize: number | number[], dim?: number): Tensor[] {
    return ops.split(this, splitSize, dim);
  }
  select(dim: number, index: number): Tensor {
    return ops.select(this, dim, index);
  }
  narrow(dim: number, start: number, length: number): Tensor {
    return ops.narrow(this, dim, start, length);
  }
  unbind(dim?: number): Tensor[] {
    return ops.unbind(this, dim);
  }
  clone(): Tensor {
    return ops.clone(this);
  }
  /** This tensor when its elements lie in row-major order in memory, else a contiguous copy (CloneBackward0). */
  contiguous(): Tensor {
    return this._strides === null ? this : ops.clone(this);
  }
  /** Whether the elements lie in row-major order in memory (false only for views that reorder or skip). */
  isContiguous(): boolean {
    return this._strides === null;
  }
  /** The step in memory between neighbours along each dimension, in elements, as `Tensor.stride()`. */
  stride(): number[];
  stride(dim: number): number;
  stride(dim?: number): number | number[] {
    const st = this._strides ?? contiguousStrides(this.shape);
    return dim === undefined ? st.slice() : st[normDim(dim, this.shape.length)];
  }

  // ---- in-place helpers (no graph) ----
  // As in PyTorch, they refuse a leaf that requires grad while grad mode is on (write it under noGrad).

  /** Fills with `value` in place. */
  fill_(value: number | boolean): this {
    checkInPlace(this);
    cpuOnly(this, "fill_");
    const v = coerce(Number(value), this.dtype);
    if (this._strides === null) this._data.fill(v);
    else this._write(new Float64Array(this.numel).fill(v), true);
    return this;
  }
  zero_(): this {
    checkInPlace(this);
    cpuOnly(this, "zero_");
    if (this._strides === null) this._data.fill(0);
    else this._write(new Float64Array(this.numel), true);
    return this;
  }
  /** Copies `src`, broadcast to this tensor's shape, into this tensor in place. */
  copy_(src: Tensor): this {
    checkInPlace(this);
    const shape = ops.broadcastShapes(this.shape, src.shape);
    if (!sameShape(shape, this.shape)) {
      throw new Error(
        `output with shape ${shapeStr(this.shape)} doesn't match the broadcast shape ${shapeStr(shape)}`,
      );
    }
    const from = sameShape(src.shape, shape) ? src.data : ops.expand(src.detach(), shape).data;
    this._write(src.dtype === this.dtype ? from : castStorage(from, this.dtype));
    return this;
  }
}

export type NestedArray = number | NestedArray[];
export type TensorLike = Tensor | number;
export type ShapeArgs = (number | readonly number[])[];

function flattenShapeArgs(args: ShapeArgs): number[] {
  if (args.length === 1 && Array.isArray(args[0])) return (args[0] as number[]).slice();
  return args as number[];
}

/** Row-major strides of a contiguous tensor of `shape`. */
export function contiguousStrides(shape: readonly number[]): number[] {
  const st = new Array<number>(shape.length);
  let s = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    st[d] = s;
    s *= shape[d];
  }
  return st;
}
