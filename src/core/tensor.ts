// The Tensor: float32, row-major, always contiguous, with reverse-mode automatic differentiation.
//
// A tensor that results from an op on tensors that require gradients holds a `gradFn`: the op's
// inputs and a backward function that maps the gradient of the output to the gradients of the inputs.
// `backward()` walks that graph once in reverse topological order.

import * as ops from "./ops.js";
import { formatTensor } from "./format.js";

/** One node of the autograd graph: the inputs of an op and its derivative. */
export interface GradFn {
  /** PyTorch-style name of the node, e.g. `AddBackward0`. */
  readonly name: string;
  readonly inputs: readonly Tensor[];
  /**
   * Maps dL/d(output), shaped as the output, to dL/d(input) for each input, shaped as that input
   * (`null` for inputs that need no gradient). A returned array may alias `grad`; the engine never
   * writes into an array it did not allocate.
   *
   * `into(input)`, when given, offers a buffer to ADD the input's gradient into directly: the `.grad` of
   * a leaf without hooks (created zeroed if it had none), or null. An op that adds its gradient there
   * returns null for that input, saving a buffer and a pass (large parameter gradients of fused kernels).
   */
  backward(grad: Float32Array, into?: GradInto): ReadonlyArray<Float32Array | null>;
}

/** See GradFn.backward. */
export type GradInto = (input: Tensor) => Float32Array | null;

/**
 * A gradient hook. Returning a tensor (shaped as the hooked tensor) replaces the gradient: later hooks,
 * `.grad` and the rest of the backward pass see the returned one. Returning nothing keeps it.
 */
// biome-ignore lint/suspicious/noConfusingVoidType: hooks typed `=> void` (returning nothing) must stay assignable
export type GradHook = (grad: Tensor) => Tensor | void;

let gradEnabled = true;

/** Whether ops record the graph (false inside `noGrad`). */
export function isGradEnabled(): boolean {
  return gradEnabled;
}

/** Runs `fn` with graph recording turned off, as `with torch.no_grad():`. */
export function noGrad<T>(fn: () => T): T {
  const prev = gradEnabled;
  gradEnabled = false;
  try {
    return fn();
  } finally {
    gradEnabled = prev;
  }
}

/** Runs `fn` with graph recording turned on, as `with torch.enable_grad():`. */
export function enableGrad<T>(fn: () => T): T {
  const prev = gradEnabled;
  gradEnabled = true;
  try {
    return fn();
  } finally {
    gradEnabled = prev;
  }
}

export function shapeNumel(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function shapeStr(shape: readonly number[]): string {
  return `[${shape.join(", ")}]`;
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** PyTorch's refusal to write in place into a leaf that requires grad while grad mode is on. */
function checkInPlace(t: Tensor): void {
  if (gradEnabled && t.requiresGrad && t.gradFn === null) {
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

export class Tensor {
  /** The elements, row-major. */
  data: Float32Array;
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
  /** @internal */ _g: Float32Array | null = null;
  /** @internal */ _gOwned = false;

  constructor(data: Float32Array, shape: readonly number[], requiresGrad = false) {
    checkShape(shape);
    const n = shapeNumel(shape);
    if (data.length !== n) {
      throw new Error(`tensor data has ${data.length} elements but shape ${shapeStr(shape)} needs ${n}`);
    }
    this.data = data;
    this.shape = shape.slice();
    this.requiresGrad = requiresGrad;
  }

  get dtype(): "float32" {
    return "float32";
  }

  /** Number of elements. */
  get numel(): number {
    return this.data.length;
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
    if (this.data.length !== 1) {
      throw new Error(`a Tensor with ${this.data.length} elements cannot be converted to a scalar`);
    }
    return this.data[0];
  }

  /** Nested arrays of numbers (a number for a 0-d tensor). */
  tolist(): NestedArray {
    if (this.shape.length === 0) return this.data[0];
    const build = (dim: number, offset: number): NestedArray[] | number[] => {
      const n = this.shape[dim];
      if (dim === this.shape.length - 1) return Array.from(this.data.subarray(offset, offset + n));
      const stride = shapeNumel(this.shape.slice(dim + 1));
      const out: NestedArray[] = [];
      for (let i = 0; i < n; i++) out.push(build(dim + 1, offset + i * stride));
      return out;
    };
    return build(0, 0);
  }

  toString(): string {
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
    let seed: Float32Array;
    if (gradient === undefined || gradient === null) {
      if (this.data.length !== 1) {
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
      if (seed.length !== this.data.length) {
        throw new Error(
          `backward: gradient has ${seed.length} elements but the tensor has shape ${shapeStr(this.shape)}`,
        );
      }
    }
    runBackward(this, seed, options.retainGraph ?? false);
  }

  /** A tensor sharing this one's data, cut from the graph. */
  detach(): Tensor {
    return new Tensor(this.data, this.shape, false);
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
  /** Tensors here are always contiguous: returns this tensor. */
  contiguous(): Tensor {
    return this;
  }
  isContiguous(): boolean {
    return true;
  }

  // ---- in-place helpers (no graph) ----
  // As in PyTorch, they refuse a leaf that requires grad while grad mode is on (write it under noGrad).

  /** Fills with `value` in place. */
  fill_(value: number): this {
    checkInPlace(this);
    this.data.fill(value);
    return this;
  }
  zero_(): this {
    checkInPlace(this);
    this.data.fill(0);
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
    this.data.set(sameShape(src.shape, shape) ? src.data : ops.expand(src.detach(), shape).data);
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

/**
 * Makes the result of an op. When grad mode is on and an input requires a gradient, the result
 * records `backward` as its graph node.
 */
export function result(
  data: Float32Array,
  shape: readonly number[],
  inputs: readonly Tensor[],
  name: string,
  backward: (grad: Float32Array, into?: GradInto) => ReadonlyArray<Float32Array | null>,
): Tensor {
  const out = new Tensor(data, shape);
  if (gradEnabled) {
    for (const t of inputs) {
      if (t.requiresGrad) {
        out.requiresGrad = true;
        out.gradFn = { name, inputs, backward };
        break;
      }
    }
  }
  return out;
}

/**
 * Makes the several results of one op (e.g. a recurrent layer's output and final states). The op's
 * backward runs once, with the gradient of every output (`null` for outputs that received none).
 */
export function resultMulti(
  datas: readonly Float32Array[],
  shapes: readonly (readonly number[])[],
  inputs: readonly Tensor[],
  name: string,
  backward: (
    grads: ReadonlyArray<Float32Array | null>,
    into?: GradInto,
  ) => ReadonlyArray<Float32Array | null>,
  release: (() => void) | null = null,
): Tensor[] {
  const outs = datas.map((d, i) => new Tensor(d, shapes[i]));
  if (!needsGrad(...inputs)) return outs;
  const node: MultiNode = { name, inputs, outputs: outs, backward, release, freed: false };
  outs.forEach((o, i) => {
    o.requiresGrad = true;
    o.gradFn = { name, inputs, backward: noBackward, multi: node, index: i } as GradFn;
  });
  return outs;
}

/** The per-output backward of a multi-output node (the node's own backward runs instead). */
function noBackward(): ReadonlyArray<Float32Array | null> {
  return [];
}

interface MultiNode {
  name: string;
  inputs: readonly Tensor[];
  outputs: Tensor[];
  backward: (
    grads: ReadonlyArray<Float32Array | null>,
    into?: GradInto,
  ) => ReadonlyArray<Float32Array | null>;
  /** Frees what the backward needed (called after it ran, unless the graph is retained). */
  release: (() => void) | null;
  freed: boolean;
}

type MultiGradFn = GradFn & { multi: MultiNode; index: number };

/** Whether a graph would be recorded for an op on these inputs. */
export function needsGrad(...inputs: Tensor[]): boolean {
  if (!gradEnabled) return false;
  for (const t of inputs) if (t.requiresGrad) return true;
  return false;
}

let backwardStamp = 0;

function topoOrder(root: Tensor): Tensor[] {
  // Iterative post-order DFS; the result lists every tensor after all of its inputs. Visits are
  // marked on the tensors themselves (a fresh stamp per pass), so no Set is built.
  const stamp = ++backwardStamp;
  const order: Tensor[] = [];
  const stack: Tensor[] = [root];
  const next: number[] = [0];
  root._mark = stamp;
  while (stack.length > 0) {
    const top = stack[stack.length - 1];
    const fn = top.gradFn;
    const k = next[next.length - 1];
    if (fn !== null && k < fn.inputs.length) {
      next[next.length - 1] = k + 1;
      const child = fn.inputs[k];
      if (child.requiresGrad && child._mark !== stamp) {
        child._mark = stamp;
        stack.push(child);
        next.push(0);
      }
    } else {
      order.push(top);
      stack.pop();
      next.pop();
    }
  }
  return order;
}

function accumulateInto(t: Tensor, g: Float32Array): void {
  if (t.grad === null) {
    t.grad = new Tensor(Float32Array.from(g), t.shape);
  } else {
    const d = t.grad.data;
    for (let i = 0; i < d.length; i++) d[i] += g[i];
  }
}

/** Adds an op's input gradients to the gradients in flight on its inputs. */
function distribute(
  name: string,
  inputs: readonly Tensor[],
  inGrads: ReadonlyArray<Float32Array | null>,
): void {
  for (let i = 0; i < inputs.length; i++) {
    const x = inputs[i];
    const gi = inGrads[i];
    if (gi === null || gi === undefined || !x.requiresGrad) continue;
    if (gi.length !== x.data.length) {
      throw new Error(
        `internal error: ${name} returned a gradient of ${gi.length} elements for an input of shape ${shapeStr(x.shape)}`,
      );
    }
    const prev = x._g;
    if (prev === null) {
      x._g = gi;
    } else if (x._gOwned) {
      for (let j = 0; j < prev.length; j++) prev[j] += gi[j];
    } else {
      const sum = new Float32Array(prev.length);
      for (let j = 0; j < prev.length; j++) sum[j] = prev[j] + gi[j];
      x._g = sum;
      x._gOwned = true;
    }
  }
}

/**
 * The engine's GradInto: a leaf's .grad takes its gradient directly (accumulation is a sum, so it may come
 * first); a leaf without one gets a zeroed .grad to take it, as PyTorch's AccumulateGrad keeps the buffer
 * instead of copying it. With hooks the leaf must see its whole gradient at once, so they get none.
 * (Module-level functions here, not closures per backward: closures in hot paths cost more under keepNames.)
 */
function into(x: Tensor): Float32Array | null {
  if (x.gradFn !== null || !x.requiresGrad || x._hooks !== null) return null;
  if (x.grad === null) x.grad = new Tensor(new Float32Array(x.numel), x.shape);
  return x.grad.numel === x.numel ? x.grad.data : null;
}

/**
 * Runs a tensor's hooks in order on its gradient; a returned tensor replaces the gradient for the hooks
 * after it and for the rest of the pass. The result may be an array the engine did not allocate.
 */
function runHooks(t: Tensor, hooks: readonly GradHook[], g: Float32Array): Float32Array {
  let gt = new Tensor(g, t.shape);
  for (const h of hooks) {
    const r: unknown = h(gt);
    if (r === undefined || r === null) continue;
    if (!(r instanceof Tensor)) throw new TypeError(`expected Tensor, but hook returned '${typeof r}'`);
    if (!sameShape(r.shape, t.shape))
      throw new Error(`hook '${h.name || "<anonymous>"}' has changed the size of value`);
    gt = r;
  }
  return gt.data;
}

function runBackward(root: Tensor, seed: Float32Array, retainGraph: boolean): void {
  const order = topoOrder(root);
  // Gradients in flight live on the tensors (`_g`); `_gOwned` marks arrays the engine allocated
  // itself and may therefore add into (an op's backward may return an alias of its input gradient).
  for (const t of order) {
    t._g = null;
    t._gOwned = false;
  }
  // Multi-output nodes run once, when the last of their outputs in this graph has been reached.
  let pending: Map<MultiNode, { left: number; grads: (Float32Array | null)[] }> | null = null;
  for (const t of order) {
    const m = (t.gradFn as MultiGradFn | null)?.multi;
    if (m === undefined) continue;
    if (pending === null) pending = new Map();
    const p = pending.get(m);
    if (p === undefined) pending.set(m, { left: 1, grads: m.outputs.map(() => null) });
    else p.left++;
  }
  root._g = seed;
  try {
    for (let k = order.length - 1; k >= 0; k--) {
      const t = order[k];
      const fn = t.gradFn;
      const multi = (fn as MultiGradFn | null)?.multi;
      let g = t._g;
      if (g !== null) {
        t._g = null;
        if (t._hooks !== null) g = runHooks(t, t._hooks, g);
        if (fn === null || t._retainsGrad) accumulateInto(t, g);
        if (fn === null) continue;
      }
      if (multi !== undefined) {
        const p = pending!.get(multi)!;
        if (g !== null) p.grads[(fn as MultiGradFn).index] = g;
        if (--p.left > 0 || p.grads.every((x) => x === null)) continue;
        if (multi.freed) {
          throw new Error(
            `Trying to backward through the graph a second time: the saved values of ${multi.name} were freed when backward() ran through it. Pass { retainGraph: true } to the first backward() to backward through the graph again.`,
          );
        }
        const inGrads = multi.backward(p.grads, into);
        if (!retainGraph && multi.release !== null) {
          multi.freed = true;
          multi.release();
        }
        distribute(multi.name, multi.inputs, inGrads);
      } else if (g !== null && fn !== null) {
        distribute(fn.name, fn.inputs, fn.backward(g, into));
      }
    }
  } finally {
    for (const t of order) t._g = null;
  }
}
