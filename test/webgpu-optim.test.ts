// Gradient clipping and optimizers on the webgpu device (test/webgpu/optim-check.mts, in a child process:
// see test/webgpu/run.ts): device results against PyTorch 1.13's fixtures and against the CPU path on the
// same leaves. Skips without WebGPU unless RECURRENT_REQUIRE_WEBGPU=1.

import { beforeAll, describe, expect, it } from "vitest";
import { runWebGPUScript, skipUnlessWebGPU, type WebGPUScriptResult } from "./webgpu/run.js";

interface OptimCheck {
  errors: string[];
  clip: Record<string, number>;
  clipEdges: Record<string, string | number | boolean>;
  trajectories: Record<string, number>;
  stateErrors: Record<string, number>;
  stateKeys: string[];
  untouched: string[];
  vsCpu: Record<string, number>;
  extremes: Record<string, number>;
  roundTrip: Record<string, number>;
  stateEdges: Record<string, unknown>;
}

// float32 rounding: the device sums in float32 (as PyTorch does), the CPU path in float64
const TOL = 2e-6;
const NONFINITE =
  "is non-finite, so it cannot be clipped. To disable this error and scale the gradients by the non-finite norm anyway, set `errorIfNonfinite: false`";

describe("clipping and optimizers on webgpu (child process)", { timeout: 200_000 }, () => {
  let r: WebGPUScriptResult;
  beforeAll(async () => {
    r = await runWebGPUScript("optim-check.mts", [], 180_000);
  }, 200_000);

  it("runs without errors", (ctx) => {
    if (skipUnlessWebGPU(ctx, r)) return;
    expect((r as unknown as OptimCheck).errors).toEqual([]);
  });

  it("clips gradient norms of every order and values on the device as PyTorch and the CPU do", (ctx) => {
    if (skipUnlessWebGPU(ctx, r)) return;
    const c = (r as unknown as OptimCheck).clip;
    // 15 fixture cases + the single tensor, 3 value cases, 8 orders × 2 maxNorms × 4 gradient sets
    expect(Object.keys(c)).toHaveLength(3 + 64 + 1);
    for (const order of ["2", "1", "Infinity", "-Infinity", "0", "3", "0.5", "-1.5"]) {
      expect(c[`p=${order} maxNorm=0.25 zeros`], order).toBeDefined();
      expect(c[`p=${order} maxNorm=0.25 large`], order).toBeDefined();
    }
    for (const [k, e] of Object.entries(c)) expect(e, k).toBeLessThan(TOL);
  });

  it("raises on non-finite totals, refuses the synchronous form and mixed devices", (ctx) => {
    if (skipUnlessWebGPU(ctx, r)) return;
    const e = (r as unknown as OptimCheck).clipEdges;
    for (const [tag, order] of [
      ["nan 2", "2.0"],
      ["inf inf", "inf"],
      ["nan inf", "inf"],
    ]) {
      expect(e[`${tag} error`]).toBe(
        `The total norm of order ${order} for gradients from \`parameters\` ${NONFINITE}`,
      );
      expect(e[`${tag} cpu error`]).toBe(`Error: ${e[`${tag} error`]}`);
      expect(e[`${tag} untouched`]).toBe(true);
      expect(e[`${tag} unchecked vs cpu`]).toBe(0);
    }
    expect(e.syncRefusal).toContain("TypeError: clipGradNorm_: the gradients are on the webgpu device");
    expect(e.syncRefusal).toContain("await clipGradNormAsync_(params, maxNorm, normType, options)");
    const mixed =
      "Expected all tensors to be on the same device, but found at least two devices, webgpu and cpu!";
    expect(e.mixedSync).toBe(`Error: ${mixed}`);
    expect(e.mixedAsync).toBe(mixed);
    expect(e.cpuAsync as number).toBeLessThan(TOL);
  });

  it("steps PyTorch's optimizer trajectories on the device, state included", (ctx) => {
    if (skipUnlessWebGPU(ctx, r)) return;
    const o = r as unknown as OptimCheck;
    // every case of trajectories.json (SGD, Adam, AdamW, RMSprop; groups, lr changes), every step's
    // parameters, and the state read back with stateDictAsync against PyTorch's state_dict
    expect(Object.keys(o.trajectories)).toHaveLength(34);
    expect(Object.keys(o.stateErrors)).toHaveLength(34);
    for (const name of ["rmsprop_all", "rmsprop_groups", "adamw_all", "sgd_all"]) {
      expect(o.trajectories[name], name).toBeDefined();
    }
    // float32 rounding (on SwiftShader the device is bit-identical to the CPU path: 0)
    for (const [k, e] of Object.entries(o.trajectories)) expect(e, k).toBeLessThan(1e-6);
    for (const [k, e] of Object.entries(o.stateErrors)) expect(e, k).toBeLessThan(1e-6);
    expect(o.stateKeys).toEqual([]); // the same parameters hold state, under PyTorch's keys
    expect(o.untouched).toEqual([]); // the parameter without a gradient is left alone
  });

  it("RMSprop with every option agrees with the CPU path on the same leaves", (ctx) => {
    if (skipUnlessWebGPU(ctx, r)) return;
    const v = (r as unknown as OptimCheck).vsCpu;
    expect(Object.keys(v).filter((k) => k.startsWith("RMSprop"))).toHaveLength(16);
    for (const [k, e] of Object.entries(v)) expect(e, k).toBeLessThan(1e-6);
    // NaN and ±inf gradients, a weight of 1e36: NaN where the CPU has NaN, the same values elsewhere
    const x = (r as unknown as OptimCheck).extremes;
    expect(Object.keys(x)).toHaveLength(11);
    for (const [k, e] of Object.entries(x)) expect(e, k).toBeLessThan(1e-6);
  });

  it("saves device state with stateDictAsync and resumes on either device", (ctx) => {
    if (skipUnlessWebGPU(ctx, r)) return;
    const o = r as unknown as OptimCheck;
    expect(Object.keys(o.roundTrip)).toHaveLength(16);
    for (const [k, e] of Object.entries(o.roundTrip)) {
      // the device resumed runs the same kernels on the same values: exactly the weights of not stopping
      if (k.endsWith("device resumed")) expect(e, k).toBe(0);
      else expect(e, k).toBeLessThan(1e-6);
    }
    const e = o.stateEdges;
    for (const name of ["SGD", "Adam", "AdamW", "RMSprop"]) {
      expect(Object.values(e)).toContain(
        `TypeError: ${name}.stateDict: the state of 3 parameter(s) is on the webgpu device, which can only be read asynchronously: use \`await opt.stateDictAsync()\``,
      );
    }
    expect(e.snapshotStep).toEqual([1, 2]); // the state at the call, not after the step recorded next
    expect(e.snapshotDiffers).toBe(true);
    expect(e.movedMidway as number).toBeLessThan(1e-6); // CPU state follows the module to the device
    expect(e.backOnCpu).toContain(
      "this parameter's state is on the webgpu device but the parameter is on the CPU",
    );
    expect(e.backOnCpuReloaded as number).toBeLessThan(1e-6);
  });
});
