// The autograd engine: graph nodes (GradFn), grad mode, the constructors of op results (`result`,
// `resultMulti`) and the backward pass (`runBackward`), kept apart from the Tensor class as micrograd keeps
// engine.py. A tensor that results from an op on tensors that require gradients holds a `gradFn`: the op's
// inputs and a backward function that maps the gradient of the output to the gradients of the inputs.
// `backward()` walks that graph once in reverse topological order.

import { sameShape, shapeStr } from "./shape.js";
import { Tensor } from "./tensor.js";

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
  /**
   * The backward of an op on the webgpu device: the gradients are "webgpu" tensors (core/device.ts), and
   * `backward` is not called. Runs under noGrad.
   */
  readonly backwardDevice?: (grad: Tensor) => ReadonlyArray<Tensor | null>;
}

/** A gradient in flight: an array for CPU tensors, a "webgpu" tensor for device ones. */
type Grad = Float32Array | Tensor;

/** How the engine adds two device gradients (core/device.ts registers it: device.ts imports this file). */
let deviceAdd: ((a: Tensor, b: Tensor | null) => Tensor) | null = null;
/** @internal `add(a, b)`: a + b in a new device tensor; `add(a, null)`: a copy of a. */
export function setDeviceAdd(add: (a: Tensor, b: Tensor | null) => Tensor): void {
  deviceAdd = add;
}

function addDevice(a: Tensor, b: Tensor | null): Tensor {
  if (deviceAdd === null) throw new Error("internal error: no device gradient adder registered");
  return deviceAdd(a, b);
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
  return record(new Tensor(data, shape), inputs, name, backward);
}

/**
 * Records `backward` as the graph node of `out` (a tensor an op made, e.g. a view of its input) when grad
 * mode is on and an input requires a gradient; returns `out`.
 */
export function record(
  out: Tensor,
  inputs: readonly Tensor[],
  name: string,
  backward: (grad: Float32Array, into?: GradInto) => ReadonlyArray<Float32Array | null>,
): Tensor {
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
 * Names the node that made `t` (a composed op's last node) as PyTorch names the one node its op makes;
 * returns `t`. The node's inputs and backward are unchanged.
 */
export function renameNode(t: Tensor, name: string): Tensor {
  if (t.gradFn !== null) t.gradFn = { ...t.gradFn, name };
  return t;
}

/**
 * Records the graph node of `out`, the result of an op on the webgpu device, when grad mode is on and an
 * input requires a gradient: `backwardDevice` maps the output's gradient (a "webgpu" tensor) to the inputs'.
 */
export function recordDevice(
  out: Tensor,
  inputs: readonly Tensor[],
  name: string,
  backwardDevice: (grad: Tensor) => ReadonlyArray<Tensor | null>,
): Tensor {
  if (needsGrad(...inputs)) {
    out.requiresGrad = true;
    out.gradFn = { name, inputs, backward: deviceOnly(name), backwardDevice };
  }
  return out;
}

function deviceOnly(name: string): () => never {
  return () => {
    throw new Error(`${name}: a webgpu node was reached with a CPU gradient`);
  };
}

/**
 * The several results of one op on the webgpu device (a recurrent layer's output and final states):
 * `backwardDevice` runs once with the gradient of every output (`null` where none reached it); `release`
 * frees what it saved, after it ran unless the graph is retained.
 */
export function recordMultiDevice(
  outs: Tensor[],
  inputs: readonly Tensor[],
  name: string,
  backwardDevice: (grads: ReadonlyArray<Tensor | null>) => ReadonlyArray<Tensor | null>,
  release: (() => void) | null,
): Tensor[] {
  if (!needsGrad(...inputs)) {
    release?.();
    return outs;
  }
  const node: MultiNode = {
    name,
    inputs,
    outputs: outs,
    backward: deviceOnly(name),
    backwardDevice,
    release,
    freed: false,
  };
  outs.forEach((o, i) => {
    o.requiresGrad = true;
    o.gradFn = { name, inputs, backward: noBackward, multi: node, index: i } as GradFn;
  });
  return outs;
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
  backwardDevice?: (grads: ReadonlyArray<Tensor | null>) => ReadonlyArray<Tensor | null>;
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

function accumulateInto(t: Tensor, g: Grad): void {
  if (g instanceof Tensor) {
    // a device gradient: .grad takes a copy (g may be another tensor's gradient too), then sums in place
    if (t.grad === null) t.grad = addDevice(g, null);
    else t.grad._gpu = addDevice(t.grad, g)._gpu;
    return;
  }
  if (t.grad === null) {
    t.grad = new Tensor(Float32Array.from(g), t.shape);
  } else {
    const d = t.grad.data;
    for (let i = 0; i < d.length; i++) d[i] += g[i];
  }
}

/** Adds an op's input gradients to the gradients in flight on its inputs. */
function distribute(name: string, inputs: readonly Tensor[], inGrads: ReadonlyArray<Grad | null>): void {
  for (let i = 0; i < inputs.length; i++) {
    const x = inputs[i];
    const gi = inGrads[i];
    if (gi === null || gi === undefined || !x.requiresGrad) continue;
    if (gi instanceof Tensor) {
      if (gi.numel !== x.numel || gi._gpu === null) {
        throw new Error(
          `internal error: ${name} returned a bad device gradient for an input of shape ${shapeStr(x.shape)}`,
        );
      }
      const prev = x._g;
      if (prev !== null && !(prev instanceof Tensor))
        throw new Error(`${name}: a gradient reached both devices`);
      x._g = prev === null ? gi : addDevice(prev, gi);
      continue;
    }
    if (gi.length !== x.numel) {
      throw new Error(
        `internal error: ${name} returned a gradient of ${gi.length} elements for an input of shape ${shapeStr(x.shape)}`,
      );
    }
    const prev = x._g;
    if (prev instanceof Tensor) throw new Error(`${name}: a gradient reached both devices`);
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
  if (x._gpu !== null || x.gradFn !== null || !x.requiresGrad || x._hooks !== null) return null;
  if (x.grad === null) x.grad = new Tensor(new Float32Array(x.numel), x.shape);
  return x.grad.numel === x.numel ? x.grad.data : null;
}

/**
 * Runs a tensor's hooks in order on its gradient; a returned tensor replaces the gradient for the hooks
 * after it and for the rest of the pass. The result may be an array the engine did not allocate.
 */
function runHooks<G extends Grad>(t: Tensor, hooks: readonly GradHook[], g: G): G {
  let gt = g instanceof Tensor ? g : new Tensor(g as Float32Array, t.shape);
  for (const h of hooks) {
    const r: unknown = h(gt);
    if (r === undefined || r === null) continue;
    if (!(r instanceof Tensor)) throw new TypeError(`expected Tensor, but hook returned '${typeof r}'`);
    if (!sameShape(r.shape, t.shape))
      throw new Error(`hook '${h.name || "<anonymous>"}' has changed the size of value`);
    if (r.device !== t.device)
      throw new Error(`hook '${h.name || "<anonymous>"}' has changed the device of value`);
    gt = r;
  }
  return (g instanceof Tensor ? gt : gt.data) as G;
}

export function runBackward(root: Tensor, seed: Grad, retainGraph: boolean): void {
  const order = topoOrder(root);
  // Gradients in flight live on the tensors (`_g`); `_gOwned` marks arrays the engine allocated
  // itself and may therefore add into (an op's backward may return an alias of its input gradient).
  for (const t of order) {
    t._g = null;
    t._gOwned = false;
  }
  // Multi-output nodes run once, when the last of their outputs in this graph has been reached.
  let pending: Map<MultiNode, { left: number; grads: (Grad | null)[] }> | null = null;
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
        const inGrads: ReadonlyArray<Grad | null> =
          multi.backwardDevice !== undefined
            ? deviceStep(() => multi.backwardDevice!(p.grads as (Tensor | null)[]))
            : multi.backward(p.grads as (Float32Array | null)[], into);
        if (!retainGraph && multi.release !== null) {
          multi.freed = true;
          multi.release();
        }
        distribute(multi.name, multi.inputs, inGrads);
      } else if (g !== null && fn !== null) {
        if (g instanceof Tensor) {
          const bd = fn.backwardDevice;
          if (bd === undefined) throw new Error(`${fn.name}: a device gradient reached a CPU node`);
          distribute(
            fn.name,
            fn.inputs,
            deviceStep(() => bd(g)),
          );
        } else distribute(fn.name, fn.inputs, fn.backward(g, into));
      }
    }
  } finally {
    for (const t of order) t._g = null;
  }
}

/** A device backward runs without recording (double backward does not reach the device). */
function deviceStep<T>(fn: () => T): T {
  return noGrad(fn);
}
