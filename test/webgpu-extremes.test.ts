// pow with a tensor exponent and max / min / argmax / argmin on the webgpu device against the same ops on
// the CPU (test/webgpu/extremes-check.mts, in a child process: see test/webgpu/run.ts), where the two could
// part: JavaScript's ** at its edges, ties and NaN in the extremes, the indices and the gradients. The
// PyTorch fixtures of these ops run on the device in webgpu-fixtures.test.ts. Skips without WebGPU unless
// RECURRENT_REQUIRE_WEBGPU=1.

import { describe, expect, it } from "vitest";
import { runWebGPUScript, skipUnlessWebGPU } from "./webgpu/run.js";

const NOT_YET =
  "an op on an int64 tensor is not supported on the webgpu device yet (read the tensor with `await t.cpuAsync()`)";

describe("pow, max and min on webgpu (child process)", { timeout: 120_000 }, () => {
  it("give the CPU's values, indices and gradients at the edges", async (ctx) => {
    const r = await runWebGPUScript("extremes-check.mts", [], 110_000);
    if (skipUnlessWebGPU(ctx, r) || !r.available) return;
    // 15 bases (negative, ±0, NaN, ±∞) × 15 exponents (integers odd and even, fractions, NaN, ±∞):
    // x ** y, dx and dy elementwise as the CPU's JavaScript ** (NaN where it is NaN, the same infinities)
    expect(r.powEdges).toEqual([]);
    // the same bases to each exponent as a number (PowBackward0): values and gradients
    expect(r.scalarPow).toEqual([]);
    // a negative base: odd integer powers negative, even ones positive, fractional ones NaN;
    // −0 keeps its sign for an odd power
    expect(r.signs).toEqual(["-8", "4", "NaN", "-0", "-Infinity"]);
    // (4,1,3) ** (5,1): the gradients summed back to each operand
    expect(r.powBroadcast).toEqual([]);
    const nb = r.numberBase as Record<string, unknown>;
    expect(nb.name).toBe("PowBackward2");
    expect(nb.tensorName).toBe("PowBackward1");
    // 2 ** [−1, 0, 0.5, 3] and its gradient 2^y·ln 2, to float32 rounding (a few units in the last place)
    const rel = (a: number, b: number) => Math.abs(a - b) / Math.abs(b);
    [0.5, 1, Math.SQRT2, 8].forEach((want, i) => {
      expect(rel((nb.out as number[])[i], want), `2 ** y [${i}]`).toBeLessThan(1e-6);
      expect(rel((nb.grad as number[])[i], want * Math.LN2), `grad [${i}]`).toBeLessThan(1e-6);
      expect(rel((nb.cpuGrad as number[])[i], want * Math.LN2), `CPU grad [${i}]`).toBeLessThan(1e-6);
    });
    // max / min along each dim and overall, with ties (±0 too) and NaN; argmax / argmin over 5000 tied
    // values (across the reduction's threads) and with NaN: values, node names, shapes, indices and
    // gradients all the CPU's
    const extremes = r.extremes as Record<string, string[]>;
    expect(Object.keys(extremes)).toHaveLength(19);
    for (const [name, bad] of Object.entries(extremes)) expect(bad, name).toEqual([]);
    for (const [name, info] of Object.entries(r.deviceInfo as Record<string, Record<string, string>>)) {
      expect(info.device, name).toBe("webgpu");
      expect(info.dtype, name).toBe("int64");
      expect(info.back, name).toBe("int64");
      expect(info.str, name).toContain("dtype=torch.int64");
    }
    // the device's int64 tensors: reshape and detach share the storage; every other op refuses
    const int64 = r.int64 as Record<string, unknown>;
    expect(int64.reshape).toEqual({ dtype: "int64", device: "webgpu", values: [1, 0, 0, 0] });
    expect(int64.detach).toBe("int64");
    for (const k of ["add", "mulFloat", "max"]) expect(int64[k], k).toBe(NOT_YET);
    expect(int64.requiresGrad).toBe("only Tensors of floating point dtype can require gradients");
    expect(int64.toFloat).toContain("not supported yet");
    expect(int64.data).toContain("await t.cpuAsync()");
    // the CPU's errors, word for word
    const errors = r.errors as Record<string, string[] | string>;
    for (const k of ["emptyAll", "emptyDim", "emptyArg", "dim"]) {
      const [gpu, cpu] = errors[k] as string[];
      expect(cpu, k).not.toBe("");
      expect(gpu, k).toBe(cpu);
    }
    expect(errors.mixed).toBe(
      "Expected all tensors to be on the same device, but found at least two devices, webgpu and cpu!",
    );
  });
});
