// The WebGPU recurrent kernels (src/kernels/webgpu/recurrent.ts) against the library's CPU kernels: every
// output and gradient of each case of recurrent-cases.ts within float32 rounding. The GPU work runs in a
// child process (recurrent-check.mts; run.ts says why), on Dawn over the machine's GPU or SwiftShader;
// skipped with the reason where there is neither, unless RECURRENT_REQUIRE_WEBGPU=1.

import { describe, expect, it } from "vitest";
import { CASES, caseName, LAYER_CASES, TOL } from "./recurrent-cases.js";
import { runWebGPUScript, skipUnlessWebGPU } from "./run.js";

describe("WebGPU recurrent kernels vs the CPU kernels (child process)", () => {
  it("match forward outputs, final states and every gradient of each case", async (ctx) => {
    const r = await runWebGPUScript("recurrent-check.mts", [], 290_000);
    if (skipUnlessWebGPU(ctx, r) || !r.available) return;
    const results = r.results as Record<string, Record<string, number>>;
    const adapter = (r.adapter as { description: string }).description;
    expect(Object.keys(results).sort()).toEqual(CASES.map(caseName).sort());
    let worst = { err: 0, what: "" };
    for (const c of CASES) {
      const name = caseName(c);
      const errs = results[name];
      const expected = ["y", "hN", "dX", "dH0", "dWih", "dWhh"];
      if (c.mode === "LSTM") expected.push("cN", "dC0");
      if (c.bias ?? true) expected.push("dBih", "dBhh");
      if (c.P) expected.push("dWhr");
      expect(Object.keys(errs).sort(), name).toEqual(expected.sort());
      for (const [what, err] of Object.entries(errs)) {
        if (err > worst.err) worst = { err, what: `${name}: ${what}` };
        expect(err, `${name}: ${what}`).toBeLessThanOrEqual(TOL);
      }
    }
    // bad input: a clear error before anything is recorded on the device
    const errors = r.errors as Record<string, string>;
    expect(errors.shortX).toMatch(
      /GpuRecurrent\.forward: x should hold at least 12 floats \(48 bytes\), got 20 bytes/,
    );
    expect(errors.noCN).toMatch(/mode LSTM needs a cN buffer/);
    expect(errors.gruProjection).toMatch(/a projection \(P = 2\) needs mode LSTM, got GRU/);
    expect(errors.increasingBatchSizes).toMatch(/batchSizes should be non-increasing .* got \[1, 2\]/);
    expect(errors.badMode).toMatch(/expected mode RNN_TANH, RNN_RELU, LSTM or GRU, got SRU/);
    expect(errors.tooBig).toMatch(
      /the saved gates and cell states take 18432000000 bytes, over this device's maxStorageBufferBindingSize of \d+; that is the most this adapter allows/,
    );
    expect(errors.otherDims).toMatch(/saved was made for dims LSTM .*reverse=false.*, got .*reverse=true/);
    expect(errors.released).toMatch(/expected the unreleased GpuRnnSaved of a forward with train = true/);
    // the nn layer runner of webgpu tensors, against the CPU's
    const layers = r.layers as Record<string, Record<string, number>>;
    const layerErrors = r.layerErrors as Record<string, string>;
    expect(Object.keys(layers).sort()).toEqual(LAYER_CASES.map(caseName).sort());
    for (const c of LAYER_CASES) {
      const name = caseName(c);
      expect(Object.keys(layers[name]).sort(), name).toEqual(
        (c.mode === "LSTM" ? ["device", "y", "hN", "cN"] : ["device", "y", "hN"]).sort(),
      );
      for (const [what, err] of Object.entries(layers[name])) {
        if (err > worst.err) worst = { err, what: `layer ${name}: ${what}` };
        expect(err, `layer ${name}: ${what}`).toBeLessThanOrEqual(TOL);
      }
      expect(layerErrors[`${name}: grad`]).toBe("no error"); // it records its autograd node
      expect(layerErrors[`${name}: mixed`]).toBe(
        "Expected all tensors to be on the same device, but found at least two devices, webgpu and cpu!",
      );
    }
    // whole modules on webgpu tensors (inference), against the same modules on the CPU
    const modules = r.modules as Record<string, number>;
    expect(Object.keys(modules).length).toBe(5 * 2 + 2 * 2 + 3); // y and shape of each, 2 states per LSTM, 1 else
    for (const [what, err] of Object.entries(modules)) {
      if (err > worst.err) worst = { err, what: `module ${what}` };
      expect(err, `module ${what}`).toBeLessThanOrEqual(TOL);
    }
    // dropout between layers in training mode runs on the device (its masks: webgpu-fixtures.test.ts)
    expect(layerErrors.dropout).toBe("no error");
    console.log(`worst relative error ${worst.err.toExponential(3)} (${worst.what}) on ${adapter}`);
  }, 300_000);
});
