// The sequence-model fixtures (test/fixtures/data/nn12, which test/nn-seq.test.ts runs on the CPU) on the
// webgpu device: Embedding, NLLLoss, LayerNorm, Conv1d, MultiheadAttention, dropout, F.pad and a full
// backward hook, each module moved with `.to("webgpu")` and every float input on the device, forward and
// backward, against PyTorch's values and gradients (test/webgpu/fixtures-nn12.mts, in a child process;
// run.ts says why). dataloader.json is not run: it batches CPU tensors and checks the generator's state,
// nothing a device computes. Then options the fixtures leave out (layerNorm with a weight or a bias alone,
// embedding max-norm of orders 1, 3 and inf, padding_idx with scale_grad_by_freq, unbatched grouped conv1d,
// dropout's gradient, pad with crops, nll with every target ignored) against the CPU path on the same
// values, PyTorch's errors for mixed devices, and a small tagger built of these layers trained with Adam on
// both devices from the same weights. The cases the device still refuses are listed with their errors and asserted
// exactly, so that coverage cannot shrink unnoticed. Skipped where there is no WebGPU, unless
// RECURRENT_REQUIRE_WEBGPU=1.

import { describe, expect, it } from "vitest";
import { loadFixture } from "./helpers.js";
import { runWebGPUScript, skipUnlessWebGPU } from "./webgpu/run.js";

/** float32 rounding, relative to each tensor's largest element */
const TOL = 1e-4;

/** Each suite's prefix in the script's case names, and its number of cases in the fixtures. */
const A = "nn12";
const dp = loadFixture<{ dropout: unknown[]; pad: unknown[] }>(A, "dropout_pad");
const SUITES: Record<string, number> = {
  "embedding: ": loadFixture<unknown[]>(A, "embedding").length,
  "nll #": loadFixture<unknown[]>(A, "nll").length,
  "layer_norm: ": loadFixture<unknown[]>(A, "layer_norm").length,
  "conv1d: ": loadFixture<unknown[]>(A, "conv1d").length,
  "mha #": loadFixture<unknown[]>(A, "mha").length,
  // case 1 again, its boolean mask given as a bool tensor (on the CPU: bool tensors live there)
  "mha bool tensor mask": 1,
  "dropout: ": dp.dropout.length,
  "pad: ": dp.pad.length,
  "hooks: ": 1,
};

/**
 * What the device does not run yet, and the error that says so: exactly these. None now: every case runs
 * (embedding max_norm too, rescaling the table's rows in place on the device).
 */
const REFUSED: Record<string, string> = {};

describe("PyTorch's nn12 fixtures on the webgpu device", () => {
  it("modules forward and backward: outputs and every gradient, except the cases listed with their errors", async (ctx) => {
    const r = await runWebGPUScript("fixtures-nn12.mts", [], 115_000);
    if (skipUnlessWebGPU(ctx, r) || !r.available) return;
    const results = r.results as Record<string, Record<string, number>>;
    const refused = r.refused as Record<string, string>;
    expect(refused).toEqual(REFUSED);
    const names = [...Object.keys(results), ...Object.keys(refused)];
    // every fixture case is either run or refused: none left out
    for (const [prefix, n] of Object.entries(SUITES)) {
      expect(
        names.filter((k) => k.startsWith(prefix)),
        prefix,
      ).toHaveLength(n);
    }
    expect(names).toHaveLength(Object.values(SUITES).reduce((a, b) => a + b, 0));
    let worst = { err: 0, what: "" };
    for (const [name, errs] of Object.entries(results)) {
      expect(Object.keys(errs).length, name).toBeGreaterThan(0);
      for (const [what, e] of Object.entries(errs)) {
        if (!(e <= worst.err)) worst = { err: e, what: `${name}: ${what}` };
        expect(e, `${name}: ${what}`).toBeLessThanOrEqual(TOL);
      }
    }
    // options the fixtures do not exercise, against the CPU path on the same values: every one runs
    expect(r.againstCpuRefused).toEqual({});
    const againstCpu = r.againstCpu as Record<string, Record<string, number>>;
    expect(Object.keys(againstCpu)).toHaveLength(10);
    let worstCpu = { err: 0, what: "" };
    for (const [name, errs] of Object.entries(againstCpu)) {
      expect(Object.keys(errs).length, name).toBeGreaterThan(1);
      for (const [what, e] of Object.entries(errs)) {
        if (!(e <= worstCpu.err)) worstCpu = { err: e, what: `${name}: ${what}` };
        expect(e, `${name}: ${what}`).toBeLessThanOrEqual(TOL);
      }
    }
    const mixed = (a: string, b: string) =>
      `Expected all tensors to be on the same device, but found at least two devices, ${a} and ${b}!`;
    expect(r.errors).toEqual({
      "nllLoss: input on webgpu, weight on cpu": mixed("webgpu", "cpu"),
      "conv1d: input on webgpu, weight on cpu": mixed("webgpu", "cpu"),
      "conv1d: input on cpu, weight on webgpu": mixed("cpu", "webgpu"),
      "layerNorm: input on cpu, weight on webgpu": mixed("cpu", "webgpu"),
      "embedding on webgpu: an id out of range": "index out of range in self",
    });
    // a tagger of these layers (Embedding, Conv1d, LSTM, attention, LayerNorm, dropout, Linear, NLLLoss)
    // trains on the device as on the CPU: 6 Adam steps from the same weights and dropout draws
    const tr = r.training as Record<string, number | string>;
    expect(tr.refused).toBeUndefined();
    expect(tr.steps).toBe(6);
    expect(tr.params).toBe(15);
    expect(tr["last loss"] as number).toBeLessThan((tr["first loss"] as number) - 0.3);
    expect(tr.losses as number).toBeLessThanOrEqual(1e-5);
    expect(tr.weights as number).toBeLessThanOrEqual(TOL);
    const adapter = (r.adapter as { description: string }).description;
    console.log(
      `nn12 fixtures on webgpu: ${Object.keys(results).length} run, ${Object.keys(refused).length} refused; worst relative error ${worst.err.toExponential(2)} (${worst.what}) on ${adapter}. ` +
        `Against the CPU path: ${Object.keys(againstCpu).length} cases, worst ${worstCpu.err.toExponential(2)} (${worstCpu.what}). ` +
        `Tagger, 6 Adam steps: losses within ${(tr.losses as number).toExponential(2)}, weights within ${(tr.weights as number).toExponential(2)} (${tr["worst weight"]}) of the CPU's`,
    );
  }, 120_000);
});
