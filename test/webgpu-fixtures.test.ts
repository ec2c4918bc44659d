// The PyTorch fixture suites on the webgpu device (Dawn over the machine's GPU, or SwiftShader on the CPU):
// the recurrent layers and cells (test/fixtures/data/rnn), the generic ops (ops/ops.json) and the losses
// (loss/*.json) run with every tensor on the device, forward and backward, against PyTorch's values and
// gradients. Each check runs in a child process (test/webgpu/fixtures-*.mts; run.ts says why). The cases
// the device still refuses are listed here with their reasons and asserted exactly, so that coverage
// cannot shrink unnoticed. Skipped where there is no WebGPU, unless RECURRENT_REQUIRE_WEBGPU=1.

import { describe, expect, it } from "vitest";
import { RNN_CASES } from "./rnn-fixtures.js";
import { runWebGPUScript, skipUnlessWebGPU } from "./webgpu/run.js";

/** float32 rounding, relative to each tensor's largest element */
const TOL = 1e-4;

type Errors = Record<string, Record<string, number>>;

/** Asserts every error within TOL and returns the worst, for the log. */
function worstOf(results: Errors): { err: number; what: string } {
  let worst = { err: 0, what: "" };
  for (const [name, errs] of Object.entries(results)) {
    expect(Object.keys(errs).length, name).toBeGreaterThan(0);
    for (const [what, err] of Object.entries(errs)) {
      if (!(err <= worst.err)) worst = { err, what: `${name}: ${what}` };
      expect(err, `${name}: ${what}`).toBeLessThanOrEqual(TOL);
    }
  }
  return worst;
}

describe("PyTorch fixtures on the webgpu device", () => {
  it("recurrent layers and cells: outputs, final states and every gradient; dropout from one seed", async (ctx) => {
    const r = await runWebGPUScript("fixtures-rnn.mts", [], 115_000);
    if (skipUnlessWebGPU(ctx, r) || !r.available) return;
    const results = r.results as Errors;
    const refused = r.refused as Record<string, string>;
    // every case runs on the device: none refused
    expect(refused).toEqual({});
    expect(Object.keys(results).sort()).toEqual([...RNN_CASES].sort());
    for (const name of RNN_CASES) {
      const keys = Object.keys(results[name]);
      expect(keys, name).toContain("loss");
      expect(keys, name).toContain("grad input");
      expect(
        keys.some((k) => k.startsWith("grad weight_ih")),
        name,
      ).toBe(true);
    }
    const worst = worstOf(results);
    // dropout between layers in training mode: one seed, one mask on both devices; another seed differs
    const d = r.dropout as Record<string, number>;
    for (const mode of ["LSTM", "GRU"]) {
      for (const k of ["y", "dx", "dW"]) {
        expect(d[`${mode} ${k}`], `${mode} ${k}`).toBeLessThan(1e-5);
        expect(d[`${mode} ${k} other seed`], `${mode} ${k} other seed`).toBeGreaterThan(0.05);
      }
      expect(d[`${mode} loss`]).toBeLessThan(1e-5);
    }
    const adapter = (r.adapter as { description: string }).description;
    console.log(
      `rnn fixtures on webgpu: ${Object.keys(results).length} cases, 0 refused; worst relative error ${worst.err.toExponential(2)} (${worst.what}) on ${adapter}`,
    );
  }, 120_000);
});
