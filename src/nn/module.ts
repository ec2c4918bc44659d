// nn.Module: parameters and submodules found by walking the module's own fields in the order they
// were assigned (as PyTorch's __setattr__ registers them), so `namedParameters()` gives PyTorch's
// dotted names and the state dict is the checkpoint format.

import { defaultGenerator, fillUniform } from "../core/random.js";
import { isGradEnabled, resultMulti, Tensor, shapeStr } from "../core/tensor.js";
import {
  type Device,
  isDevice,
  mixedDevices,
  moveToCpuInPlace,
  moveToDeviceInPlace,
  zeroFill,
} from "../core/device.js";
import { recordMultiDevice } from "../core/engine.js";

/** A tensor that is a module's learnable parameter (requires a gradient unless told otherwise). */
export class Parameter extends Tensor {
  constructor(data: Tensor | Float32Array, shape?: readonly number[], requiresGrad = true) {
    if (data instanceof Tensor) super(data.data, data.shape, requiresGrad);
    else super(data, shape ?? [data.length], requiresGrad);
  }

  /** PyTorch's text: `Parameter containing:` over the tensor's. */
  override toString(): string {
    return `Parameter containing:\n${super.toString()}`;
  }
}

/**
 * A new parameter drawn from U(-bound, bound) with the default generator, in PyTorch's arithmetic
 * (`uniform_`), so a seeded module starts from the same bits as PyTorch's.
 */
export function uniformParameter(shape: number[], bound: number): Parameter {
  const d = new Float32Array(shape.reduce((a, b) => a * b, 1));
  fillUniform(d, -bound, bound, defaultGenerator);
  return new Parameter(d, shape);
}

export type StateDict = Record<string, Tensor>;

export interface LoadResult {
  missingKeys: string[];
  unexpectedKeys: string[];
}

/** What `register*Hook` returns: `remove()` unregisters the hook, as PyTorch's RemovableHandle. */
export interface RemovableHandle {
  remove(): void;
}

/** Called before `forward` with its arguments; an array returned replaces them (a non-array, the first). */
// biome-ignore lint/suspicious/noConfusingVoidType: hooks that return nothing must stay assignable
export type ForwardPreHook = (module: Module, args: unknown[]) => unknown[] | unknown | void;
/** Called after `forward` with its arguments and output; a value returned replaces the output. */
// biome-ignore lint/suspicious/noConfusingVoidType: hooks that return nothing must stay assignable
export type ForwardHook = (module: Module, args: unknown[], output: unknown) => unknown | void;
/**
 * Called when the gradients with respect to the module's tensor inputs are computed, with those
 * (null for inputs that need none) and the gradients with respect to its tensor outputs; an array
 * returned replaces the input gradients.
 */
export type FullBackwardHook = (
  module: Module,
  gradInput: (Tensor | null)[],
  gradOutput: (Tensor | null)[],
  // biome-ignore lint/suspicious/noConfusingVoidType: hooks that return nothing must stay assignable
) => (Tensor | null)[] | void;

interface Hooks {
  pre: ForwardPreHook[];
  fwd: ForwardHook[];
  bwd: FullBackwardHook[];
}

/** The tensors in a value (a tensor, or arrays of them, nested), and a way to rebuild it with others. */
function tensorsIn(v: unknown): { ts: Tensor[]; rebuild: (ts: Tensor[]) => unknown } {
  const ts: Tensor[] = [];
  const walk = (x: unknown): unknown => {
    if (x instanceof Tensor) {
      ts.push(x);
      return null;
    }
    if (Array.isArray(x)) for (const e of x) walk(e);
    return null;
  };
  walk(v);
  const rebuild = (repl: Tensor[]) => {
    let k = 0;
    const build = (x: unknown): unknown => {
      if (x instanceof Tensor) return repl[k++];
      if (Array.isArray(x)) return x.map(build);
      return x;
    };
    return build(v);
  };
  return { ts, rebuild };
}

/**
 * Identity on `ts` as one graph node whose backward calls `onGrad` with the gradients as tensors (null:
 * none came) and passes on the gradients it returns. On the webgpu device (every tensor there) the
 * outputs share the inputs' buffers and the gradients are webgpu tensors.
 */
function identityNode(
  ts: Tensor[],
  name: string,
  onGrad: (grads: (Tensor | null)[]) => (Tensor | null)[],
): Tensor[] {
  if (ts.some((t) => t._gpu !== null)) {
    if (ts.some((t) => t._gpu === null)) throw mixedDevices("webgpu", "cpu");
    const outs = ts.map((t) => Tensor._onDevice(t._gpu!, t.shape));
    return recordMultiDevice(outs, ts, name, (grads) => onGrad(grads.slice()), null);
  }
  return resultMulti(
    ts.map((t) => t.data),
    ts.map((t) => t.shape),
    ts,
    name,
    (grads) =>
      onGrad(grads.map((g, i) => (g === null ? null : new Tensor(g, ts[i].shape)))).map((g) =>
        g === null ? null : g.data,
      ),
  );
}

export abstract class Module {
  /** Training mode (dropout active) or evaluation mode. */
  training = true;
  private buffers: Map<string, Tensor> | null = null;
  private hooks: Hooks | null = null;

  private hookList<K extends keyof Hooks>(kind: K, hook: Hooks[K][number]): RemovableHandle {
    if (this.hooks === null) {
      this.hooks = { pre: [], fwd: [], bwd: [] };
      // forward is wrapped on the instance (a hidden own property), so hooks run however it is called
      const inner = (this as unknown as { forward?: (...a: unknown[]) => unknown }).forward;
      if (typeof inner !== "function") throw new Error(`${this.typeName} has no forward() to hook`);
      Object.defineProperty(this, "forward", {
        value: (...args: unknown[]) => this.callWithHooks(inner, args),
        enumerable: false,
        configurable: true,
        writable: true,
      });
    }
    const list = this.hooks[kind] as Hooks[K][number][];
    list.push(hook);
    return {
      remove: () => {
        const i = list.indexOf(hook);
        if (i >= 0) list.splice(i, 1);
      },
    };
  }

  /** Registers a hook run before every forward call, as `register_forward_pre_hook`. */
  registerForwardPreHook(hook: ForwardPreHook): RemovableHandle {
    return this.hookList("pre", hook);
  }

  /** Registers a hook run after every forward call, as `register_forward_hook`. */
  registerForwardHook(hook: ForwardHook): RemovableHandle {
    return this.hookList("fwd", hook);
  }

  /** Registers a hook run with the module's input and output gradients, as `register_full_backward_hook`. */
  registerFullBackwardHook(hook: FullBackwardHook): RemovableHandle {
    return this.hookList("bwd", hook);
  }

  private callWithHooks(inner: (...a: unknown[]) => unknown, argsIn: unknown[]): unknown {
    const h = this.hooks!;
    let args = argsIn;
    for (const pre of h.pre.slice()) {
      const r = pre(this, args);
      if (r !== undefined && r !== null) args = Array.isArray(r) ? r : [r];
    }
    const bwd = h.bwd.length > 0 && isGradEnabled() ? h.bwd.slice() : null;
    let gradOutputs: (Tensor | null)[] = [];
    let nInputs = 0;
    let inputsHooked = false;
    if (bwd !== null) {
      const inTs = tensorsIn(args);
      nInputs = inTs.ts.length;
      if (inTs.ts.some((t) => t.requiresGrad)) {
        inputsHooked = true;
        const wrapped = identityNode(inTs.ts, "BackwardHookFunctionBackward", (grads) => {
          let gin = grads;
          for (const hook of bwd) {
            const r = hook(this, gin, gradOutputs);
            if (r !== undefined && r !== null) {
              if (r.length !== gin.length)
                throw new Error(
                  `Backward hook returned an invalid number of grad_input, got ${r.length}, but expected ${gin.length}`,
                );
              gin = r;
            }
          }
          return gin;
        });
        args = inTs.rebuild(wrapped) as unknown[];
      }
    }
    let out = inner.apply(this, args);
    for (const fwd of h.fwd.slice()) {
      const r = fwd(this, args, out);
      if (r !== undefined && r !== null) out = r;
    }
    if (bwd !== null) {
      const outTs = tensorsIn(out);
      if (outTs.ts.some((t) => t.requiresGrad)) {
        const wrapped = identityNode(outTs.ts, "BackwardHookFunctionBackward", (grads) => {
          gradOutputs = grads;
          if (!inputsHooked) {
            // no input needs a gradient: the hooks run now, with no input gradients
            const none = new Array<Tensor | null>(nInputs).fill(null);
            for (const hook of bwd) hook(this, none, gradOutputs);
          }
          return grads;
        });
        out = outTs.rebuild(wrapped);
      }
    }
    return out;
  }

  /** The module's name in its printed form: the class name, as PyTorch prints it. */
  protected get typeName(): string {
    // A class's own static `typeName` survives minifiers, which rename classes; subclasses that do not
    // declare one print their class name, as PyTorch prints type(self).__name__.
    const ctor = this.constructor as { typeName?: string; name: string };
    return Object.hasOwn(ctor, "typeName") && ctor.typeName ? ctor.typeName : ctor.name;
  }

  /** Registers a tensor that is part of the state dict but not a parameter (as `register_buffer`). */
  registerBuffer(name: string, t: Tensor): void {
    if (this.buffers === null) this.buffers = new Map();
    this.buffers.set(name, t);
  }

  /** Direct submodules with their attribute names, in registration order. */
  namedChildren(): [string, Module][] {
    const out: [string, Module][] = [];
    for (const [k, v] of Object.entries(this)) if (v instanceof Module) out.push([k, v]);
    return out;
  }

  children(): Module[] {
    return this.namedChildren().map(([, m]) => m);
  }

  /**
   * This module and every submodule, depth first, with dotted names ("" for this one). A module reachable
   * under several names is listed once, under the first, as PyTorch's named_modules does (so apply() and
   * train() visit a shared module once).
   */
  namedModules(prefix = "", memo: Set<Module> = new Set()): [string, Module][] {
    if (memo.has(this)) return [];
    memo.add(this);
    const out: [string, Module][] = [[prefix, this]];
    for (const [k, m] of this.namedChildren()) {
      out.push(...m.namedModules(prefix ? `${prefix}.${k}` : k, memo));
    }
    return out;
  }

  modules(): Module[] {
    return this.namedModules().map(([, m]) => m);
  }

  /** This module's own parameters (not its submodules'), in registration order. */
  protected ownParameters(): [string, Parameter][] {
    const out: [string, Parameter][] = [];
    for (const [k, v] of Object.entries(this)) if (v instanceof Parameter) out.push([k, v]);
    return out;
  }

  /** Every parameter with PyTorch's dotted name (`rnn.weight_ih_l0`), each tensor once. */
  namedParameters(prefix = "", recurse = true): [string, Parameter][] {
    const out: [string, Parameter][] = [];
    const seen = new Set<Tensor>();
    const visit = (m: Module, pre: string) => {
      for (const [k, p] of m.ownParameters()) {
        if (seen.has(p)) continue;
        seen.add(p);
        out.push([pre ? `${pre}.${k}` : k, p]);
      }
      if (!recurse) return;
      for (const [k, c] of m.namedChildren()) visit(c, pre ? `${pre}.${k}` : k);
    };
    visit(this, prefix);
    return out;
  }

  parameters(recurse = true): Parameter[] {
    return this.namedParameters("", recurse).map(([, p]) => p);
  }

  namedBuffers(prefix = ""): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    for (const [name, m] of this.namedModules(prefix)) {
      if (m.buffers === null) continue;
      for (const [k, b] of m.buffers) out.push([name ? `${name}.${k}` : k, b]);
    }
    return out;
  }

  /**
   * Parameters and buffers by dotted name: the checkpoint format. Tensors are shared, not copied. A module
   * reachable under several names appears under each, as in PyTorch's state_dict.
   */
  stateDict(): StateDict {
    const out: StateDict = {};
    const visit = (m: Module, pre: string) => {
      for (const [k, p] of m.ownParameters()) out[pre + k] = p;
      if (m.buffers !== null) for (const [k, b] of m.buffers) out[pre + k] = b;
      for (const [k, c] of m.namedChildren()) visit(c, `${pre}${k}.`);
    };
    visit(this, "");
    return out;
  }

  /**
   * The keys of `dict` that this module does not have, in the order PyTorch reports them: module by
   * module from the root, each module's own unexpected keys in the dict's order.
   */
  private unexpectedKeysOf(dict: StateDict, own: StateDict): string[] {
    const left = new Set(Object.keys(dict).filter((k) => !(k in own)));
    const out: string[] = [];
    const visit = (m: Module, pre: string) => {
      const kids = new Set(m.namedChildren().map(([k]) => k));
      for (const key of left) {
        if (key.startsWith(pre) && !kids.has(key.slice(pre.length).split(".")[0])) {
          out.push(key);
          left.delete(key);
        }
      }
      for (const [k, c] of m.namedChildren()) visit(c, `${pre}${k}.`);
    };
    visit(this, "");
    return out.concat([...left]);
  }

  /**
   * Copies values from `dict` into this module's parameters and buffers. With `strict` (the default),
   * a missing or unexpected key is an error; a wrongly shaped tensor always is. On an error nothing is
   * copied (PyTorch has copied the tensors that matched by the time it raises).
   */
  loadStateDict(dict: StateDict, options: { strict?: boolean } = {}): LoadResult {
    const strict = options.strict ?? true;
    const own = this.stateDict();
    const missingKeys = Object.keys(own).filter((k) => !(k in dict));
    const unexpectedKeys = this.unexpectedKeysOf(dict, own);
    const errors: string[] = [];
    for (const [k, t] of Object.entries(own)) {
      const src = dict[k];
      if (src === undefined) continue;
      if (src.shape.length !== t.shape.length || src.shape.some((d, i) => d !== t.shape[i])) {
        errors.push(
          `size mismatch for ${k}: copying a param with shape torch.Size(${shapeStr(src.shape)}) from checkpoint, the shape in current model is torch.Size(${shapeStr(t.shape)}).`,
        );
      }
    }
    if (strict) {
      // PyTorch's order: missing keys, unexpected keys, then size mismatches
      if (unexpectedKeys.length > 0)
        errors.unshift(
          `Unexpected key(s) in state_dict: ${unexpectedKeys.map((k) => `"${k}"`).join(", ")}. `,
        );
      if (missingKeys.length > 0)
        errors.unshift(`Missing key(s) in state_dict: ${missingKeys.map((k) => `"${k}"`).join(", ")}. `);
    }
    if (errors.length > 0) {
      throw new Error(`Error(s) in loading state_dict for ${this.typeName}:\n\t${errors.join("\n\t")}`);
    }
    for (const [k, t] of Object.entries(own)) {
      const src = dict[k];
      if (src !== undefined) t.data.set(src.data);
    }
    this.onStateLoaded();
    return { missingKeys, unexpectedKeys };
  }

  /** Called after `loadStateDict` copied values in; modules with derived caches override it. */
  protected onStateLoaded(): void {}

  /** Sets training mode on this module and every submodule. */
  train(mode = true): this {
    for (const m of this.modules()) m.training = mode;
    return this;
  }

  eval(): this {
    return this.train(false);
  }

  /**
   * Clears every parameter's gradient: drops it (`setToNone`, the default, as Optimizer.zeroGrad and
   * PyTorch 2's Module.zero_grad) or detaches it and fills it with zeros.
   */
  zeroGrad(setToNone = true): void {
    for (const p of this.parameters()) {
      if (p.grad === null) continue;
      if (setToNone) {
        p.grad = null;
      } else {
        p.grad.detach_();
        zeroFill(p.grad);
      }
    }
  }

  /**
   * Moves every parameter and buffer to `device` in place (the same Parameter objects, so an optimizer
   * built before keeps working), as PyTorch's `model.to(device)`. Moving back from "webgpu" reads the GPU,
   * which is asynchronous: use `await model.toAsync("cpu")`.
   */
  to(device: Device): this {
    if (!isDevice(device))
      throw new Error(`to: expected a device ("cpu" or "webgpu"), got ${JSON.stringify(device)}`);
    const tensors = [...this.parameters(), ...this.namedBuffers().map(([, b]) => b)];
    if (device === "webgpu") for (const t of tensors) moveToDeviceInPlace(t);
    else if (tensors.some((t) => t.device !== "cpu")) {
      throw new Error(
        "to('cpu'): reading webgpu tensors back is asynchronous in WebGPU: use `await model.toAsync('cpu')`",
      );
    }
    return this;
  }

  /** `to(device)`, also back from "webgpu" to "cpu" (reading the GPU is asynchronous). */
  async toAsync(device: Device): Promise<this> {
    if (device !== "cpu") return this.to(device);
    for (const t of [...this.parameters(), ...this.namedBuffers().map(([, b]) => b)])
      await moveToCpuInPlace(t);
    return this;
  }

  /** Sets `requiresGrad` on every parameter. */
  requiresGrad_(flag = true): this {
    for (const p of this.parameters()) p.requiresGrad = flag;
    return this;
  }

  /** Calls `fn` on every submodule, then on this module (as `Module.apply`). */
  apply(fn: (m: Module) => void): this {
    for (const c of this.children()) c.apply(fn);
    fn(this);
    return this;
  }

  /** The options printed between the parentheses (as PyTorch's `extra_repr`). */
  extraRepr(): string {
    return "";
  }

  /** The module as PyTorch prints it. */
  toString(): string {
    const extra = this.extraRepr();
    const lines: string[] = extra ? extra.split("\n") : [];
    for (const [k, m] of this.namedChildren()) {
      const sub = m.toString().split("\n");
      lines.push([`(${k}): ${sub[0]}`, ...sub.slice(1).map((l) => `  ${l}`)].join("\n"));
    }
    let s = `${this.typeName}(`;
    if (lines.length > 0) {
      if (extra && lines.length === 1 && !extra.includes("\n")) s += extra;
      else s += `\n  ${lines.join("\n  ")}\n`;
    }
    return `${s})`;
  }
}

/** Holds submodules in a list; its children are named "0", "1", ... */
export class ModuleList extends Module {
  /** The printed name (kept through minification). */
  static readonly typeName = "ModuleList";

  constructor(modules: Module[] = []) {
    super();
    for (const m of modules) this.append(m);
  }

  append(m: Module): this {
    (this as unknown as Record<string, Module>)[String(this.length)] = m;
    return this;
  }

  get length(): number {
    return this.namedChildren().length;
  }

  at(i: number): Module {
    return this.namedChildren()[i < 0 ? this.length + i : i][1];
  }

  *[Symbol.iterator](): IterableIterator<Module> {
    yield* this.children();
  }
}
