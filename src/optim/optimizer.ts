// The optimizer base, as torch.optim.Optimizer: parameter groups holding their own hyper-parameters,
// per-parameter state created lazily on the first step, and a state dict in PyTorch's layout
// ({state: {index: {...}}, param_groups: [{lr, ..., params: [indices]}]}) so training can resume.
//
// Update rules operate in place on `p.data` with `p.grad.data`, element by element, so a step allocates
// nothing once the state buffers exist. Arithmetic follows PyTorch's float32 CPU kernels: a Python
// scalar passed to a kernel is rounded to float32 first (`f32(lr)`), each tensor op rounds its result,
// and `a.add_(b, alpha)` is a fused multiply-add, which `f32(a + alpha * b)` reproduces because the
// product of two float32 values is exact in float64.
//
// Parameters on the webgpu device keep their state there (`deviceState`: the same keys, buffers on the
// device); `stateDict()` refuses it, as it can only be read asynchronously, and `await stateDictAsync()`
// reads it back into the CPU layout. `loadStateDict` puts each parameter's state where the parameter is.

import { mixedDevices, zeroFill } from "../core/device.js";
import { pyFloatRepr } from "../core/format.js";
import { Tensor, enableGrad } from "../core/tensor.js";
import type { WebGPUContext } from "../kernels/webgpu/context.js";

/** Hyper-parameters every optimizer has. */
export interface BaseOptions {
  lr: number;
}

/** A parameter group: its tensors and its hyper-parameters (`initialLr` is set by schedulers). */
export type ParamGroup<O extends BaseOptions = BaseOptions> = O & { params: Tensor[]; initialLr?: number };

/** What a caller may pass as one group: tensors plus any hyper-parameters overriding the defaults. */
export type ParamGroupInput<O extends BaseOptions = BaseOptions> = Partial<O> & { params: Tensor[] | Tensor };

export type ParamsInput<O extends BaseOptions = BaseOptions> =
  | readonly Tensor[]
  | readonly ParamGroupInput<O>[];

/** One entry of the per-parameter state: step counts are numbers, buffers are Float32Arrays. */
export type StateValue = number | Float32Array | null;
export type ParamState = Record<string, StateValue>;

/** One state entry of a parameter on the webgpu device: step counts as numbers, buffers (n,) there. */
export type DeviceStateValue = number | GPUBuffer | null;
export type DeviceParamState = Record<string, DeviceStateValue>;

function isBuffer(v: DeviceStateValue | undefined): v is GPUBuffer {
  return typeof v === "object" && v !== null;
}

/** The optimizer's state in PyTorch's layout (parameters are numbered across groups in order). */
export interface OptimizerStateDict {
  /** Buffers may also be number[] or JSON.stringify's form of a Float32Array when loading. */
  state: Record<string, Record<string, StateValue | number[] | Record<string, number>>>;
  param_groups: (Record<string, unknown> & { params: number[] })[];
}

/** The default of a learning rate that each group must give (SGD's), as PyTorch's `required`. */
export const REQUIRED = Number.NaN;

function snakeCase(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

function camelCase(key: string): string {
  return key.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
}

function copyValue(v: unknown): unknown {
  if (v instanceof Float32Array) return v.slice();
  if (Array.isArray(v)) return v.map(copyValue);
  return v;
}

export abstract class Optimizer<O extends BaseOptions = BaseOptions, S extends ParamState = ParamState> {
  readonly defaults: O;
  readonly paramGroups: ParamGroup<O>[] = [];
  /** Per-parameter state, created on a parameter's first step. */
  readonly state = new Map<Tensor, S>();
  /**
   * Per-parameter state of parameters stepped on the webgpu device, under the CPU state's keys with
   * buffers on the device; `await stateDictAsync()` reads it.
   */
  protected readonly deviceState = new Map<Tensor, DeviceParamState>();
  /** The context that holds each parameter's device state. */
  private readonly deviceCtx = new Map<Tensor, WebGPUContext>();

  constructor(params: ParamsInput<O>, defaults: O) {
    if (params instanceof Tensor) {
      throw new TypeError(
        "params argument given to the optimizer should be an array of Tensors or param groups, but got a Tensor",
      );
    }
    if (!Array.isArray(params)) {
      throw new TypeError(
        `params argument given to the optimizer should be an array of Tensors or param groups, but got ${typeof params}`,
      );
    }
    this.defaults = defaults;
    if (params.length === 0) throw new Error("optimizer got an empty parameter list");
    const first: unknown = params[0];
    const isGroup =
      typeof first === "object" && first !== null && !(first instanceof Tensor) && "params" in first;
    const groups: ParamGroupInput<O>[] = isGroup
      ? (params as ParamGroupInput<O>[])
      : [{ params: params as Tensor[] } as ParamGroupInput<O>];
    for (const g of groups) this.addParamGroup(g);
  }

  /** Adds a group of parameters, filling unspecified hyper-parameters from the defaults. */
  addParamGroup(input: ParamGroupInput<O>): void {
    if (input === null || typeof input !== "object" || input instanceof Tensor || !("params" in input)) {
      throw new TypeError("param group must be an object with a `params` array");
    }
    const params = input.params instanceof Tensor ? [input.params] : Array.from(input.params);
    for (const p of params) {
      if (!(p instanceof Tensor)) {
        throw new TypeError(`optimizer can only optimize Tensors, but one of the params is ${typeof p}`);
      }
      if (!p.isLeaf && !p.retainsGrad) throw new Error("can't optimize a non-leaf Tensor");
    }
    const group = { ...input, params } as ParamGroup<O>;
    const record = group as unknown as Record<string, unknown>;
    for (const [k, v] of Object.entries(this.defaults)) {
      if (record[k] === undefined) {
        if (k === "lr" && Number.isNaN(v) && this.lrIsRequired()) {
          throw new Error(`parameter group didn't specify a value of required optimization parameter ${k}`);
        }
        record[k] = copyValue(v);
      }
    }
    checkLr(group.lr);
    this.validateGroup(group);
    const seen = new Set<Tensor>();
    for (const g of this.paramGroups) for (const p of g.params) seen.add(p);
    for (const p of params) {
      if (seen.has(p)) throw new Error("some parameters appear in more than one parameter group");
    }
    this.paramGroups.push(group);
  }

  /** Whether groups must give their own learning rate (SGD's `required`); the default NaN then means "not given". */
  protected lrIsRequired(): boolean {
    return false;
  }

  /** Throws PyTorch's error for an invalid hyper-parameter of a group. */
  protected validateGroup(_group: ParamGroup<O>): void {}

  /** Clears the gradients: drops them (`setToNone`, the default) or fills them with zeros. */
  zeroGrad(setToNone = true): void {
    for (const group of this.paramGroups) {
      for (const p of group.params) {
        if (p.grad === null) continue;
        if (setToNone) {
          p.grad = null;
        } else {
          p.grad.detach_();
          zeroFill(p.grad);
        }
      }
    }
  }

  /**
   * Performs one update of every parameter that has a gradient (the others are skipped, as PyTorch
   * does). `closure`, if given, re-evaluates the loss with the graph recorded and its value is returned.
   */
  step(closure?: () => number | Tensor): number | undefined {
    let loss: number | undefined;
    if (closure !== undefined) {
      const l = enableGrad(closure);
      loss = typeof l === "number" ? l : l.item();
    }
    for (const group of this.paramGroups) {
      for (const p of group.params) {
        if (p.grad === null) continue;
        if (p._gpu !== null || p.grad._gpu !== null) {
          if (p.device !== p.grad.device) throw mixedDevices(p.device, p.grad.device);
          this.updateParamDevice(p, group);
          continue;
        }
        if (this.deviceState.has(p)) {
          throw new Error(
            `${this.constructor.name}: this parameter's state is on the webgpu device but the parameter is on the CPU: save the state with \`await opt.stateDictAsync()\` and load it with opt.loadStateDict(...) after moving the parameters`,
          );
        }
        if (p.grad.data.length !== p.data.length) {
          throw new Error(
            `${this.constructor.name}: a parameter of ${p.data.length} elements has a gradient of ${p.grad.data.length}`,
          );
        }
        this.updateParam(p, group);
      }
    }
    return loss;
  }

  /** Updates one parameter that has a gradient, creating its state on first use. */
  protected abstract updateParam(p: Tensor, group: ParamGroup<O>): void;

  /** updateParam for a parameter on the webgpu device; optimizers not ported there refuse. */
  protected updateParamDevice(_p: Tensor, _group: ParamGroup<O>): void {
    throw new Error(
      `${this.constructor.name}: the step does not run on the webgpu device (SGD, Adam, AdamW and RMSprop do): override updateParamDevice, or train on the CPU`,
    );
  }

  /**
   * The device state of `param` (on the webgpu device), created on its first device step: from its CPU
   * state when it has one (uploaded, as after `model.to("webgpu")` mid-training), else empty.
   */
  protected deviceStateOf(param: Tensor): DeviceParamState {
    let st = this.deviceState.get(param);
    if (st === undefined) {
      st = {};
      const ctx = param._gpu!.ctx;
      this.deviceCtx.set(param, ctx);
      const cpu = this.state.get(param);
      if (cpu !== undefined) {
        for (const [k, v] of Object.entries(cpu)) st[k] = v instanceof Float32Array ? ctx.upload(v) : v;
        this.state.delete(param);
      }
      this.deviceState.set(param, st);
    }
    return st;
  }

  /** A device buffer of zeros as long as `param` (on the webgpu device). */
  protected deviceZeros(param: Tensor): GPUBuffer {
    return param._gpu!.ctx.upload(new Float32Array(param.numel));
  }

  /** Returns every device state buffer to its pool and forgets the device state. */
  private dropDeviceState(): void {
    for (const [p, st] of this.deviceState) {
      const ctx = this.deviceCtx.get(p)!;
      if (ctx.alive) for (const v of Object.values(st)) if (isBuffer(v)) ctx.release(v);
    }
    this.deviceState.clear();
    this.deviceCtx.clear();
  }

  /** Checks one state entry read by `loadStateDict` and returns it in memory form. */
  private loadValue(p: Tensor, key: string, v: unknown): StateValue {
    if (v === null) return v;
    if (typeof v === "number") {
      if (key === "step" && !(Number.isInteger(v) && v >= 0))
        throw new Error(`loadStateDict: state "step" should be a whole number >= 0, got ${pyStr(v)}`);
      if (!Number.isFinite(v))
        throw new Error(`loadStateDict: state "${key}" is ${pyStr(v)}, not a finite number`);
      return v;
    }
    if (typeof v !== "object") {
      throw new Error(`loadStateDict: state "${key}" should be a number, null or an array, got ${typeof v}`);
    }
    // a Float32Array, a number[], or what JSON.stringify makes of a Float32Array ({"0": .., "1": ..})
    const arr =
      v instanceof Float32Array
        ? v.slice()
        : Float32Array.from(Array.isArray(v) ? v : Object.values(v as Record<string, number>));
    if (arr.length !== p.numel) {
      throw new Error(
        `loadStateDict: state "${key}" has ${arr.length} elements but its parameter has ${p.numel}`,
      );
    }
    const bad = arr.findIndex((x) => !Number.isFinite(x));
    if (bad >= 0) throw new Error(`loadStateDict: state "${key}" holds ${pyStr(arr[bad])} at index ${bad}`);
    return arr;
  }

  /**
   * The optimizer's state as plain data plus Float32Arrays (copies), keyed as PyTorch keys it: state by
   * parameter index, hyper-parameters with snake_case names. State on the webgpu device can only be read
   * asynchronously: then this throws, naming `stateDictAsync()`.
   */
  stateDict(): OptimizerStateDict {
    if (this.deviceState.size > 0) {
      throw new TypeError(
        `${this.constructor.name}.stateDict: the state of ${this.deviceState.size} parameter(s) is on the webgpu device, which can only be read asynchronously: use \`await opt.stateDictAsync()\``,
      );
    }
    return this.packState(new Map());
  }

  /**
   * stateDict() with the state on the webgpu device read back (the same layout, Float32Arrays): loadable
   * into an optimizer on either device. The state is the one at the call: steps recorded after it, awaited
   * or not, do not change what it resolves to.
   */
  async stateDictAsync(): Promise<OptimizerStateDict> {
    const pending: [Tensor, string, Promise<Float32Array>][] = [];
    const read = new Map<Tensor, Record<string, StateValue>>();
    for (const [p, st] of this.deviceState) {
      const entry: Record<string, StateValue> = {};
      for (const [k, v] of Object.entries(st)) {
        entry[k] = isBuffer(v) ? null : v; // a buffer's place, filled below: the keys keep their order
        if (isBuffer(v)) pending.push([p, k, this.deviceCtx.get(p)!.read(v, p.numel * 4)]);
      }
      read.set(p, entry);
    }
    const dict = this.packState(read); // the hyper-parameters as they are now, too
    const index = new Map<Tensor, string>();
    this.paramGroups.forEach((g, i) => {
      g.params.forEach((p, j) => {
        index.set(p, String(dict.param_groups[i].params[j]));
      });
    });
    for (const [p, k, promise] of pending) dict.state[index.get(p)!][k] = await promise;
    return dict;
  }

  /** The state dict of the CPU state plus `device`'s entries (device state already read back). */
  private packState(device: Map<Tensor, Record<string, StateValue>>): OptimizerStateDict {
    const index = new Map<Tensor, number>();
    let next = 0;
    const paramGroups = this.paramGroups.map((g) => {
      const packed: Record<string, unknown> & { params: number[] } = { params: [] };
      for (const [k, v] of Object.entries(g)) if (k !== "params") packed[snakeCase(k)] = copyValue(v);
      for (const p of g.params) {
        if (!index.has(p)) index.set(p, next++);
        packed.params.push(index.get(p)!);
      }
      return packed;
    });
    const state: OptimizerStateDict["state"] = {};
    for (const source of [this.state as Map<Tensor, ParamState>, device]) {
      for (const [p, s] of source) {
        const i = index.get(p);
        if (i === undefined) continue;
        const entry: Record<string, StateValue> = {};
        for (const [k, v] of Object.entries(s)) if (v !== undefined) entry[k] = copyValue(v) as StateValue;
        state[String(i)] = entry;
      }
    }
    return { state, param_groups: paramGroups };
  }

  /**
   * Restores state and hyper-parameters saved by `stateDict()` or `stateDictAsync()` (for the same
   * parameter layout). Each parameter's state goes where the parameter is: uploaded to the webgpu device
   * for parameters there.
   */
  loadStateDict(dict: OptimizerStateDict): void {
    if (dict === null || typeof dict !== "object" || !Array.isArray(dict.param_groups) || !dict.state) {
      throw new Error("loadStateDict: expected an object with `state` and `param_groups`");
    }
    const saved = dict.param_groups;
    if (saved.length !== this.paramGroups.length) {
      throw new Error(
        `loaded state dict has a different number of parameter groups (${saved.length}, expected ${this.paramGroups.length})`,
      );
    }
    for (let i = 0; i < saved.length; i++) {
      if (saved[i].params.length !== this.paramGroups[i].params.length) {
        throw new Error(
          "loaded state dict contains a parameter group that doesn't match the size of optimizer's group",
        );
      }
    }
    const idMap = new Map<number, Tensor>();
    for (let i = 0; i < saved.length; i++) {
      const ps = this.paramGroups[i].params;
      for (let j = 0; j < ps.length; j++) idMap.set(saved[i].params[j], ps[j]);
    }
    const state = new Map<Tensor, S>();
    for (const [key, entry] of Object.entries(dict.state)) {
      const p = idMap.get(Number(key));
      if (p === undefined) throw new Error(`loadStateDict: state for parameter ${key}, which no group holds`);
      const s: ParamState = {};
      for (const [k, v] of Object.entries(entry)) s[k] = this.loadValue(p, k, v);
      state.set(p, s as S);
    }
    // the hyper-parameters are checked as the constructor checks them before any is copied (PyTorch
    // takes them as they are: a negative or NaN learning rate would then be used)
    const loaded = saved.map((g, i) => {
      const group = { ...this.paramGroups[i] } as unknown as Record<string, unknown>;
      for (const [k, v] of Object.entries(g)) if (k !== "params") group[camelCase(k)] = copyValue(v);
      try {
        checkLr(group.lr as number);
        this.validateGroup(group as unknown as ParamGroup<O>);
      } catch (e) {
        throw new Error(`loadStateDict: param_groups[${i}]: ${(e as Error).message}`);
      }
      return group;
    });
    for (let i = 0; i < saved.length; i++) Object.assign(this.paramGroups[i], loaded[i]);
    this.state.clear();
    this.dropDeviceState();
    for (const [p, s] of state) {
      this.state.set(p, s);
      if (p._gpu !== null) this.deviceStateOf(p); // moves it to the device
    }
  }

  toString(): string {
    let out = `${this.constructor.name} (`;
    this.paramGroups.forEach((g, i) => {
      out += `\nParameter Group ${i}\n`;
      const keys = Object.keys(g)
        .filter((k) => k !== "params")
        .map(snakeCase)
        .sort();
      const rec = g as unknown as Record<string, unknown>;
      for (const k of keys) out += `    ${k}: ${formatValue(rec[camelCase(k)])}\n`;
    });
    return `${out})`;
  }
}

function formatValue(v: unknown): string {
  if (typeof v === "boolean") return v ? "True" : "False";
  if (v === null || v === undefined) return "None";
  if (Array.isArray(v)) return `(${v.map(formatValue).join(", ")})`;
  return pyStr(v);
}

/** Throws PyTorch's "Invalid <what>: <value>" unless `ok`. */
/** A learning rate must be a finite number >= 0 (PyTorch also takes inf, which only makes NaN weights). */
function checkLr(lr: unknown): void {
  check(typeof lr === "number" && Number.isFinite(lr) && lr >= 0, "learning rate", lr);
}

export function check(ok: boolean, what: string, value: unknown): void {
  if (!ok) throw new Error(`Invalid ${what}: ${pyStr(value)}`);
}

/** A number as Python prints it (`-1`, `0.5`, `1e-08`, `5e-05`, `inf`): whole numbers as ints. */
export function pyStr(v: unknown): string {
  if (typeof v !== "number") return String(v);
  if (Number.isInteger(v) && Math.abs(v) < 1e16) return String(v);
  return pyFloatRepr(v);
}
