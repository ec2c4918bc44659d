// Adam and AdamW, as torch.optim.Adam / torch.optim.AdamW (one implementation; AdamW decays the
// weights directly instead of adding wd·p to the gradient):
//
//   g = ±grad (+ wd·p for Adam)            p = p·(1 - lr·wd) (AdamW)
//   m = β1·m + (1 - β1)·g                  v = β2·v + (1 - β2)·g²
//   v̂ = max(v̂, v) (amsgrad)                denom = √v / √(1 - β2^t) + eps
//   p = p - lr / (1 - β1^t) · m / denom
//
// The bias corrections are computed in float64 from the step count, as PyTorch does in Python, and
// rounded to float32 where they enter the element-wise kernel (kernels/adam.ts, and its WebAssembly twin).

import type { Tensor } from "../core/tensor.js";
import { getKernels } from "../kernels/backend.js";
import { type GpuAdamStep, gpuAdamStep } from "../kernels/webgpu/optim.js";
import { type ParamGroup, type ParamsInput, Optimizer, check } from "./optimizer.js";

const f32 = Math.fround;

export interface AdamOptions {
  lr: number;
  betas: [number, number];
  eps: number;
  weightDecay: number;
  amsgrad: boolean;
  maximize: boolean;
}

export interface AdamState {
  [key: string]: number | Float32Array;
  step: number;
  /** First moment m (n,). */
  exp_avg: Float32Array;
  /** Second moment v (n,). */
  exp_avg_sq: Float32Array;
  /** Running maximum of v (n,), with amsgrad only. */
  max_exp_avg_sq: Float32Array;
}

class AdamBase extends Optimizer<AdamOptions, AdamState> {
  constructor(
    params: ParamsInput<AdamOptions>,
    options: Partial<AdamOptions>,
    private readonly decoupled: boolean,
  ) {
    super(params, {
      lr: options.lr ?? 1e-3,
      betas: options.betas ? [options.betas[0], options.betas[1]] : [0.9, 0.999],
      eps: options.eps ?? 1e-8,
      weightDecay: options.weightDecay ?? (decoupled ? 1e-2 : 0),
      amsgrad: options.amsgrad ?? false,
      maximize: options.maximize ?? false,
    });
  }

  protected override validateGroup(g: ParamGroup<AdamOptions>): void {
    if (!Array.isArray(g.betas) || g.betas.length !== 2) {
      throw new Error(
        `${this.constructor.name}: expected betas to be a pair of numbers, got ${String(g.betas)}`,
      );
    }
    check(0 <= g.lr, "learning rate", g.lr);
    check(0 <= g.eps, "epsilon value", g.eps);
    check(0 <= g.betas[0] && g.betas[0] < 1, "beta parameter at index 0", g.betas[0]);
    check(0 <= g.betas[1] && g.betas[1] < 1, "beta parameter at index 1", g.betas[1]);
    check(0 <= g.weightDecay, "weight_decay value", g.weightDecay);
  }

  protected override updateParam(param: Tensor, group: ParamGroup<AdamOptions>): void {
    const p = param.data; // (n,)
    const g = param.grad!.data; // (n,)
    const n = p.length;
    let state = this.state.get(param);
    if (state === undefined) {
      state = { step: 0, exp_avg: new Float32Array(n), exp_avg_sq: new Float32Array(n) } as AdamState;
      this.state.set(param, state);
    }
    const amsgrad = group.amsgrad;
    if (amsgrad && state.max_exp_avg_sq === undefined) state.max_exp_avg_sq = new Float32Array(n);
    const m = state.exp_avg; // (n,)
    const v = state.exp_avg_sq; // (n,)

    // PyTorch keeps the step count in a float32 tensor.
    const step = f32(state.step + 1);
    state.step = step;
    const k = this.scalars(group, step);
    getKernels().adam(
      p,
      g,
      m,
      v,
      amsgrad ? state.max_exp_avg_sq : null,
      k.sign,
      k.l2,
      k.decay,
      k.b1,
      k.c1,
      k.b2,
      k.c2,
      k.eps,
      k.negStepSize,
      k.bc2Sqrt,
    );
  }

  /** The float32 scalars of step number `step` (from 1) of a group. */
  private scalars(group: ParamGroup<AdamOptions>, step: number): GpuAdamStep {
    const beta1 = group.betas[0];
    const beta2 = group.betas[1];
    const { lr, weightDecay } = group;
    return {
      negStepSize: f32(-(lr / (1 - beta1 ** step))),
      bc2Sqrt: f32(Math.sqrt(1 - beta2 ** step)),
      b1: f32(beta1),
      b2: f32(beta2),
      c1: f32(1 - beta1),
      c2: f32(1 - beta2),
      eps: f32(group.eps),
      sign: group.maximize ? -1 : 1,
      l2: this.decoupled ? 0 : f32(weightDecay),
      decay: this.decoupled ? f32(1 - lr * weightDecay) : 1,
    };
  }

  /** The same update as updateParam, in place on the device (kernels/webgpu/optim.ts). */
  protected override updateParamDevice(param: Tensor, group: ParamGroup<AdamOptions>): void {
    const s = param._gpu!;
    const st = this.deviceStateOf(param);
    if (st.step === undefined) {
      st.step = 0;
      st.exp_avg = this.deviceZeros(param);
      st.exp_avg_sq = this.deviceZeros(param);
    }
    if (group.amsgrad && st.max_exp_avg_sq === undefined) st.max_exp_avg_sq = this.deviceZeros(param);
    const step = f32((st.step as number) + 1);
    st.step = step;
    const k = this.scalars(group, step);
    const buf = (key: string) => st[key] as GPUBuffer;
    const vMax = group.amsgrad ? buf("max_exp_avg_sq") : null;
    gpuAdamStep(
      s.ctx,
      s.buffer,
      param.grad!._gpu!.buffer,
      buf("exp_avg"),
      buf("exp_avg_sq"),
      vMax,
      param.numel,
      k,
    );
  }
}

/** Adam with L2 weight decay added to the gradient (default weightDecay 0). */
export class Adam extends AdamBase {
  constructor(params: ParamsInput<AdamOptions>, options: Partial<AdamOptions> = {}) {
    super(params, options, false);
  }
}

/** Adam with decoupled weight decay (default weightDecay 0.01). */
export class AdamW extends AdamBase {
  constructor(params: ParamsInput<AdamOptions>, options: Partial<AdamOptions> = {}) {
    super(params, options, true);
  }
}
