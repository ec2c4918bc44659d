// RMSprop, as torch.optim.RMSprop:
//
//   g = ±grad + wd·p
//   s = α·s + (1 - α)·g²
//   avg = √(s - ḡ²) with ḡ = α·ḡ + (1 - α)·g (centered) | √s,   then avg = avg + eps
//   buf = μ·buf + g / avg,  p = p - lr·buf (momentum) | p = p - lr·g / avg

import type { Tensor } from "../core/tensor.js";
import { type GpuRmspropStep, gpuRmspropStep } from "../kernels/webgpu/optim.js";
import { type ParamGroup, type ParamsInput, Optimizer, check } from "./optimizer.js";

const f32 = Math.fround;

export interface RMSpropOptions {
  lr: number;
  alpha: number;
  eps: number;
  weightDecay: number;
  momentum: number;
  centered: boolean;
  maximize: boolean;
}

export interface RMSpropState {
  [key: string]: number | Float32Array;
  step: number;
  /** Running mean of g² (n,). */
  square_avg: Float32Array;
  /** Velocity (n,), with momentum > 0 only. */
  momentum_buffer: Float32Array;
  /** Running mean of g (n,), when centered only. */
  grad_avg: Float32Array;
}

export class RMSprop extends Optimizer<RMSpropOptions, RMSpropState> {
  constructor(params: ParamsInput<RMSpropOptions>, options: Partial<RMSpropOptions> = {}) {
    super(params, {
      lr: options.lr ?? 1e-2,
      alpha: options.alpha ?? 0.99,
      eps: options.eps ?? 1e-8,
      weightDecay: options.weightDecay ?? 0,
      momentum: options.momentum ?? 0,
      centered: options.centered ?? false,
      maximize: options.maximize ?? false,
    });
  }

  protected override validateGroup(g: ParamGroup<RMSpropOptions>): void {
    check(0 <= g.lr, "learning rate", g.lr);
    check(0 <= g.eps, "epsilon value", g.eps);
    check(0 <= g.momentum, "momentum value", g.momentum);
    check(0 <= g.weightDecay, "weight_decay value", g.weightDecay);
    check(0 <= g.alpha, "alpha value", g.alpha);
  }

  protected override updateParam(param: Tensor, group: ParamGroup<RMSpropOptions>): void {
    const p = param.data; // (n,)
    const g = param.grad!.data; // (n,)
    const n = p.length;
    const { momentum, centered } = group;
    let state = this.state.get(param);
    if (state === undefined) {
      state = { step: 0, square_avg: new Float32Array(n) } as RMSpropState;
      this.state.set(param, state);
    }
    if (momentum > 0 && state.momentum_buffer === undefined) state.momentum_buffer = new Float32Array(n);
    if (centered && state.grad_avg === undefined) state.grad_avg = new Float32Array(n);
    state.step += 1;
    const sq = state.square_avg; // (n,)
    const buf = state.momentum_buffer; // (n,) or undefined
    const gAvg = state.grad_avg; // (n,) or undefined

    const { sign, weightDecay: wd, alpha, c, eps, negLr, momentum: mu } = this.scalars(group);

    for (let i = 0; i < n; i++) {
      let gi = sign * g[i];
      if (wd !== 0) gi = f32(gi + wd * p[i]);
      const s = f32(f32(sq[i] * alpha) + f32(c * gi) * gi);
      sq[i] = s;
      let avg: number;
      if (centered) {
        const a = f32(f32(gAvg[i] * alpha) + c * gi);
        gAvg[i] = a;
        avg = f32(Math.sqrt(f32(s - a * a)));
      } else {
        avg = f32(Math.sqrt(s));
      }
      avg = f32(avg + eps);
      if (momentum > 0) {
        const b = f32(f32(buf[i] * mu) + f32(gi / avg));
        buf[i] = b;
        p[i] = p[i] + negLr * b;
      } else {
        p[i] = p[i] + f32(f32(negLr * gi) / avg);
      }
    }
  }

  /** The float32 scalars of a group's step. */
  private scalars(group: ParamGroup<RMSpropOptions>): GpuRmspropStep {
    return {
      sign: group.maximize ? -1 : 1,
      weightDecay: f32(group.weightDecay),
      alpha: f32(group.alpha),
      c: f32(1 - group.alpha),
      eps: f32(group.eps),
      negLr: f32(-group.lr),
      momentum: f32(group.momentum),
    };
  }

  /** The same update as updateParam, in place on the device (kernels/webgpu/optim.ts). */
  protected override updateParamDevice(param: Tensor, group: ParamGroup<RMSpropOptions>): void {
    const s = param._gpu!;
    const st = this.deviceStateOf(param);
    if (st.step === undefined) {
      st.step = 0;
      st.square_avg = this.deviceZeros(param);
    }
    if (group.momentum > 0 && st.momentum_buffer === undefined) st.momentum_buffer = this.deviceZeros(param);
    if (group.centered && st.grad_avg === undefined) st.grad_avg = this.deviceZeros(param);
    st.step = (st.step as number) + 1;
    gpuRmspropStep(
      s.ctx,
      s.buffer,
      param.grad!._gpu!.buffer,
      st.square_avg as GPUBuffer,
      group.centered ? (st.grad_avg as GPUBuffer) : null,
      group.momentum > 0 ? (st.momentum_buffer as GPUBuffer) : null,
      param.numel,
      this.scalars(group),
    );
  }
}
