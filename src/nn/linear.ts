// nn.Linear, nn.Sequential, nn.Dropout and simple activation modules.

import { defaultGenerator } from "../core/random.js";
import { linear } from "../core/ops.js";
import * as ops from "../core/ops.js";
import { pyFloatRepr } from "../core/format.js";
import { result, type Tensor } from "../core/tensor.js";
import { checkAllocation } from "../core/limits.js";
import { deviceConstant } from "../core/device.js";
import { checkTensorArg } from "./args.js";
import { Module, type Parameter, uniformParameter } from "./module.js";

/** y = x Wᵀ + b, W (out, in), initialized as PyTorch: U(-1/sqrt(in), 1/sqrt(in)) for both. */
export class Linear extends Module {
  /** The printed name (kept through minification). */
  static readonly typeName = "Linear";

  readonly inFeatures: number;
  readonly outFeatures: number;
  weight: Parameter;
  bias: Parameter | null;

  constructor(inFeatures: number, outFeatures: number, options: { bias?: boolean } = {}) {
    super();
    for (const [k, v] of [
      ["in_features", inFeatures],
      ["out_features", outFeatures],
    ] as const) {
      if (!Number.isInteger(v) || v < 0)
        throw new Error(`Linear: ${k} must be a non-negative integer, got ${v}`);
    }
    checkAllocation(outFeatures * (inFeatures + 1), `Linear(${inFeatures}, ${outFeatures})`);
    this.inFeatures = inFeatures;
    this.outFeatures = outFeatures;
    // PyTorch's reset_parameters: kaiming_uniform_(a=sqrt(5)) for the weight, U(±1/sqrt(fan_in)) for the
    // bias; the bounds are computed as it does, so the same seed gives the same bits
    const wBound = inFeatures > 0 ? Math.sqrt(3) * (Math.sqrt(2 / (1 + 5)) / Math.sqrt(inFeatures)) : 0;
    const bBound = inFeatures > 0 ? 1 / Math.sqrt(inFeatures) : 0;
    this.weight = uniformParameter([outFeatures, inFeatures], wBound);
    this.bias = (options.bias ?? true) ? uniformParameter([outFeatures], bBound) : null;
  }

  forward(x: Tensor): Tensor {
    checkTensorArg(x, "linear", "input", 1);
    return linear(x, this.weight, this.bias);
  }

  override extraRepr(): string {
    return `in_features=${this.inFeatures}, out_features=${this.outFeatures}, bias=${this.bias !== null ? "True" : "False"}`;
  }
}

/** Modules applied one after another. */
export class Sequential extends Module {
  /** The printed name (kept through minification). */
  static readonly typeName = "Sequential";

  constructor(...modules: Module[]) {
    super();
    modules.forEach((m, i) => {
      (this as unknown as Record<string, Module>)[String(i)] = m;
    });
  }

  forward(x: Tensor): Tensor {
    let y = x;
    for (const m of this.children()) {
      const f = (m as unknown as { forward(t: Tensor): Tensor }).forward;
      if (typeof f !== "function") throw new Error(`Sequential: ${m.toString()} has no forward(x)`);
      y = f.call(m, y);
    }
    return y;
  }
}

/** Zeroes elements with probability p in training mode and scales the rest by 1/(1-p). */
export class Dropout extends Module {
  /** The printed name (kept through minification). */
  static readonly typeName = "Dropout";

  constructor(readonly p = 0.5) {
    super();
    if (!(p >= 0 && p <= 1)) throw new Error(`dropout probability has to be between 0 and 1, but got ${p}`);
  }

  forward(x: Tensor): Tensor {
    return dropout(x, this.p, this.training);
  }

  override extraRepr(): string {
    return `p=${pyFloatRepr(this.p)}, inplace=False`;
  }
}

/**
 * Functional dropout. The mask is drawn as PyTorch 1.13's CPU `bernoulli_(1 − p)` draws it (one 53-bit
 * uniform per element, in order, kept where it is below 1 − p), and kept elements are multiplied by the
 * float32 reciprocal of 1 − p, so a seeded run drops the same elements as PyTorch's.
 */
export function dropout(x: Tensor, p: number, training = true): Tensor {
  if (!(p >= 0 && p <= 1)) throw new Error(`dropout probability has to be between 0 and 1, but got ${p}`);
  if (!training || p === 0) return x;
  const n = x.numel;
  const mask = new Float32Array(n);
  const keep = 1 - p;
  const scale = p === 1 ? 0 : Math.fround(1 / Math.fround(keep));
  for (let i = 0; i < n; i++) mask[i] = defaultGenerator.nextDouble() < keep ? scale : 0;
  // on the device: the same mask (drawn here, so one seed drops the same elements), uploaded
  if (x._gpu !== null) return ops.mul(x, deviceConstant(x, mask, x.shape));
  const out = new Float32Array(n);
  const xd = x.data; // once: a view's data is gathered on each read
  for (let i = 0; i < n; i++) out[i] = xd[i] * mask[i];
  return result(out, x.shape, [x], "MulBackward0", (g) => {
    const gx = new Float32Array(n);
    for (let i = 0; i < n; i++) gx[i] = g[i] * mask[i];
    return [gx];
  });
}

export class Tanh extends Module {
  /** The printed name (kept through minification). */
  static readonly typeName = "Tanh";

  forward(x: Tensor): Tensor {
    return ops.tanh(x);
  }
}

export class ReLU extends Module {
  /** The printed name (kept through minification). */
  static readonly typeName = "ReLU";

  forward(x: Tensor): Tensor {
    return ops.relu(x);
  }
}

export class Sigmoid extends Module {
  /** The printed name (kept through minification). */
  static readonly typeName = "Sigmoid";

  forward(x: Tensor): Tensor {
    return ops.sigmoid(x);
  }
}
