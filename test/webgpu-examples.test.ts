// The ported PyTorch tutorials (examples/{pos-tagger,char-lm,name-classifier,packed-gru,seq2seq-attention}.ts)
// trained on the webgpu device with `runAsync({ device: "webgpu" })`, for a short prefix of their steps
// (SwiftShader runs on the CPU): each loss against PyTorch's (test/fixtures/data/examples12, which
// test/examples-seq.test.ts checks on the CPU) and against the CPU path's same prefix, and the final
// outputs against the CPU path's (test/webgpu/fixtures-examples.mts, in a child process; run.ts says why).
// The examples the device refuses are listed with their errors and asserted exactly, so that coverage
// cannot shrink unnoticed. Skipped where there is no WebGPU, unless RECURRENT_REQUIRE_WEBGPU=1.
// RECURRENT_WEBGPU_EXAMPLES_FULL=1 trains each example as long as examples-seq.test.ts does (every loss of
// the fixtures, and the final outputs against PyTorch's too): minutes on SwiftShader, seconds on a GPU.

import { describe, expect, it } from "vitest";
import type { ExampleCheck as Check } from "./webgpu/fixtures-common.js";
import { runWebGPUScript, skipUnlessWebGPU } from "./webgpu/run.js";

/** float32 rounding of a loss, as examples-seq.test.ts's on the first losses (the full runs hold it too) */
const LOSS_TOL = 1e-5;
/** final outputs after a few steps, relative to each tensor's largest element */
const OUT_TOL = 1e-4;
/**
 * Weights after 3 Adam steps: Adam divides by the gradient's own scale, so where a weight's gradients
 * nearly cancel from step to step (its moment is a small difference of larger terms), the two devices'
 * float32 summation orders move it differently by up to a few lr·1e-3 (char-lm: head.weight, 1.9e-5 of
 * a 0.15 scale, with the losses within 1e-7 and the logits within 4e-6). The nn12 tagger leaves out
 * its key bias for the same reason.
 */
const WEIGHT_TOL = 1e-3;

const FULL = process.env.RECURRENT_WEBGPU_EXAMPLES_FULL === "1";

/** Each example and the number of losses it trains on the device: a prefix, or examples-seq's length. */
const STEPS: Record<string, number> = {
  "pos-tagger": FULL ? 600 : 6,
  "char-lm": FULL ? 50 : 3,
  "char-lm dropout": FULL ? 20 : 2,
  "name-classifier": FULL ? 300 : 10,
  "packed-gru": FULL ? 56 : 8,
  "seq2seq-attention": FULL ? 200 : 5,
};
const TIMEOUT = FULL ? 1_800_000 : 115_000;

/** What the device does not run yet, and the error that says so: exactly these. None now. */
const REFUSED: Record<string, string> = {};

describe("the ported PyTorch tutorials on the webgpu device", () => {
  it(
    "train as PyTorch's programs do: each loss of a prefix, and the final outputs as the CPU path's",
    async (ctx) => {
      const r = await runWebGPUScript("fixtures-examples.mts", FULL ? ["--full"] : [], TIMEOUT);
      if (skipUnlessWebGPU(ctx, r) || !r.available) return;
      const results = r.results as Record<string, Check>;
      expect(r.refused).toEqual(REFUSED);
      expect(Object.keys(results).sort()).toEqual(
        Object.keys(STEPS)
          .filter((n) => !(n in REFUSED))
          .sort(),
      );
      let worst = { err: 0, what: "" };
      let worstCpu = { err: 0, what: "" };
      let worstOut = { err: 0, what: "" };
      const lines: string[] = [];
      for (const [name, c] of Object.entries(results)) {
        expect(c.steps, name).toBe(STEPS[name]);
        expect(c["losses vs PyTorch"], `${name}: losses vs PyTorch`).toBeLessThanOrEqual(LOSS_TOL);
        expect(c["losses vs CPU"], `${name}: losses vs CPU`).toBeLessThanOrEqual(LOSS_TOL);
        if (!(c["losses vs PyTorch"] <= worst.err)) worst = { err: c["losses vs PyTorch"], what: name };
        if (!(c["losses vs CPU"] <= worstCpu.err)) worstCpu = { err: c["losses vs CPU"], what: name };
        expect(Object.keys(c.outputs).length, name).toBeGreaterThan(0);
        for (const [what, e] of Object.entries(c.outputs)) {
          expect(e, `${name}: ${what}`).toBeLessThanOrEqual(
            what.startsWith("weights") ? WEIGHT_TOL : OUT_TOL,
          );
          if (what.startsWith("weights")) lines.push(`${name}: ${what} ${e.toExponential(2)}`);
          else if (!(e <= worstOut.err)) worstOut = { err: e, what: `${name}: ${what}` };
        }
        for (const [what, same] of Object.entries(c.same)) expect(same, `${name}: ${what}`).toBe(true);
        // the work ran on the device: kernels dispatched every step, at least each loss read back
        expect(c.dispatches, name).toBeGreaterThan(10 * c.steps);
        expect(c.reads, name).toBeGreaterThanOrEqual(c.steps);
        lines.push(
          `${name}: ${c.steps} steps in ${(c.ms / 1000).toFixed(1)} s (${c.dispatches} dispatches, ${c.reads} reads)`,
        );
      }
      const adapter = (r.adapter as { description: string }).description;
      console.log(
        `examples on webgpu (${adapter}; the CPU path on ${r.cpuBackend}): ${Object.keys(results).length} run, ${Object.keys(REFUSED).length} refused. ` +
          `Losses vs PyTorch: worst ${worst.err.toExponential(2)} (${worst.what}); vs the CPU path: worst ${worstCpu.err.toExponential(2)} (${worstCpu.what}); ` +
          `final outputs vs PyTorch / the CPU path: worst ${worstOut.err.toExponential(2)} (${worstOut.what}).\n${lines.join("\n")}`,
      );
    },
    TIMEOUT + 5_000,
  );
});
