// Stochastic gradient descent with optional momentum, dampening, Nesterov momentum, L2 weight decay
// and maximization, as torch.optim.SGD:
//
//   d = ±g + wd·p
//   buf = d (first step) | μ·buf + (1 - dampening)·d
//   d = d + μ·buf (Nesterov) | buf
//   p = p - lr·d

import type { Tensor } from "../core/tensor.js";
import { gpuSgdStep } from "../kernels/webgpu/optim.js";
import { type ParamGroup, type ParamsInput, Optimizer, REQUIRED, check } from "./optimizer.js";

const f32 = Math.fround;

export interface SGDOptions {
  lr: number;
  momentum: number;
  dampening: number;
  weightDecay: number;
  nesterov: boolean;
  maximize: boolean;
}

export interface SGDState {
  [key: string]: Float32Array | null;
  /** The velocity (n,), `null` when the group has no momentum. */
  momentum_buffer: Float32Array | null;
}

export class SGD extends Optimizer<SGDOptions, SGDState> {
  constructor(params: ParamsInput<SGDOptions>, options: Partial<SGDOptions> = {}) {
    // an lr given as NaN is invalid, not "required" (the default's NaN)
    if (options.lr !== undefined && !Number.isFinite(options.lr)) check(false, "learning rate", options.lr);
    super(params, {
      lr: options.lr ?? REQUIRED,
      momentum: options.momentum ?? 0,
      dampening: options.dampening ?? 0,
      weightDecay: options.weightDecay ?? 0,
      nesterov: options.nesterov ?? false,
      maximize: options.maximize ?? false,
    });
  }

  protected override lrIsRequired(): boolean {
    return true;
  }

  protected override validateGroup(g: ParamGroup<SGDOptions>): void {
    check(!(g.lr < 0), "learning rate", g.lr);
    check(!(g.momentum < 0), "momentum value", g.momentum);
    check(!(g.weightDecay < 0), "weight_decay value", g.weightDecay);
    if (g.nesterov && (g.momentum <= 0 || g.dampening !== 0)) {
      throw new Error("Nesterov momentum requires a momentum and zero dampening");
    }
  }

  /** The same update as updateParam, in place on the device (kernels/webgpu/optim.ts). */
  protected override updateParamDevice(param: Tensor, group: ParamGroup<SGDOptions>): void {
    const s = param._gpu!;
    const st = this.deviceStateOf(param);
    let v = (st.momentum_buffer as GPUBuffer | null | undefined) ?? null;
    st.momentum_buffer = v;
    let first = false;
    if (group.momentum !== 0 && v === null) {
      v = s.ctx.storage(param.numel * 4); // filled by the first step (torch copies d into it)
      st.momentum_buffer = v;
      first = true;
    }
    gpuSgdStep(s.ctx, s.buffer, param.grad!._gpu!.buffer, v, param.numel, {
      lr: group.lr,
      momentum: group.momentum,
      dampening: group.dampening,
      weightDecay: group.weightDecay,
      nesterov: group.nesterov,
      maximize: group.maximize,
      first,
    });
  }

  protected override updateParam(param: Tensor, group: ParamGroup<SGDOptions>): void {
    const p = param.data; // (n,)
    const g = param.grad!.data; // (n,)
    const n = p.length;
    const sign = group.maximize ? -1 : 1;
    const wd = f32(group.weightDecay);
    const negLr = f32(-group.lr);
    let state = this.state.get(param);
    if (state === undefined) {
      state = { momentum_buffer: null };
      this.state.set(param, state);
    }
    if (group.momentum === 0) {
      for (let i = 0; i < n; i++) {
        let d = sign * g[i];
        if (wd !== 0) d = f32(d + wd * p[i]);
        p[i] = p[i] + negLr * d;
      }
      return;
    }
    const mu = f32(group.momentum);
    const keep = f32(1 - group.dampening);
    const nesterov = group.nesterov;
    let buf = state.momentum_buffer;
    const first = buf === null;
    if (buf === null) {
      buf = new Float32Array(n);
      state.momentum_buffer = buf;
    }
    for (let i = 0; i < n; i++) {
      let d = sign * g[i];
      if (wd !== 0) d = f32(d + wd * p[i]);
      const b = first ? d : f32(f32(buf[i] * mu) + keep * d);
      buf[i] = b;
      if (nesterov) d = f32(d + mu * b);
      else d = b;
      p[i] = p[i] + negLr * d;
    }
  }
}
