// Gradient clipping and optimizers on the webgpu device (test/webgpu/optim-check.mts, in a child process:
// see test/webgpu/run.ts): device results against PyTorch 1.13's fixtures and against the CPU path on the
// same leaves. Skips without WebGPU unless RECURRENT_REQUIRE_WEBGPU=1.

import { beforeAll, describe, expect, it } from "vitest";
import { runWebGPUScript, skipUnlessWebGPU, type WebGPUScriptResult } from "./webgpu/run.js";

interface OptimCheck {
  errors: string[];
  clip: Record<string, number>;
  clipEdges: Record<string, string | number | boolean>;
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
    // 15 fixture cases + the single tensor, 3 value cases, 8 orders × 2 maxNorms × 3 gradient sets
    expect(Object.keys(c)).toHaveLength(3 + 48 + 1);
    for (const order of ["2", "1", "Infinity", "-Infinity", "0", "3", "0.5", "-1.5"]) {
      expect(c[`p=${order} maxNorm=0.25 zeros`], order).toBeDefined();
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
});
