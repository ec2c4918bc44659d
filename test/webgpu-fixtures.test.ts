// The PyTorch fixture suites on the webgpu device (Dawn over the machine's GPU, or SwiftShader on the CPU):
// the recurrent layers and cells (test/fixtures/data/rnn), the generic ops (ops/ops.json), issue 12's ops
// (ops12/ops.json, int64 and bool tensors on the device too) and the losses (loss/*.json) run with every tensor on the
// device, forward and backward, against PyTorch's values and gradients. Each check runs in a child process
// (test/webgpu/fixtures-*.mts; run.ts says why). Every case runs on the device, and the names that ran are
// asserted exactly, so that coverage cannot shrink unnoticed. Skipped where there is no WebGPU, unless
// RECURRENT_REQUIRE_WEBGPU=1.
import { describe, expect, it } from "vitest";
import { loadFixture } from "./helpers.js";
import { LOSS_FILES } from "./loss-cases.js";
import { OPS } from "./ops-table.js";
import type { Case } from "./ops12-table.js";
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

  it("ops and losses: values and every gradient, every case on the device", async (ctx) => {
    const r = await runWebGPUScript("fixtures-ops.mts", [], 115_000);
    if (skipUnlessWebGPU(ctx, r) || !r.available) return;
    const ops = r.ops as Errors;
    // every ops case runs on the device (max / min with their indices and a tensor exponent included):
    // none refused, and exactly the table's cases ran, so that coverage cannot shrink unnoticed
    expect(r.opsRefused).toEqual({});
    expect(Object.keys(ops).sort()).toEqual(Object.keys(OPS).sort());
    expect(Object.keys(ops)).toHaveLength(75);
    for (const [name, errs] of Object.entries(ops)) expect(Object.keys(errs), name).toContain("output");
    const worstOps = worstOf(ops);
    // every loss case runs: mse, l1, smooth L1, Huber, cross entropy (indices and probabilities, weights,
    // ignore_index, label smoothing, K-dim) and BCE with logits (weight, pos_weight)
    const losses = r.losses as Errors;
    expect(r.lossesRefused).toEqual({});
    const names = LOSS_FILES.flatMap((f) =>
      loadFixture<{ cases: { name: string }[] }>("loss", f).cases.map((c) => `${f}: ${c.name}`),
    );
    expect(Object.keys(losses).sort()).toEqual(names.sort());
    for (const [name, errs] of Object.entries(losses)) {
      expect(Object.keys(errs), name).toEqual(expect.arrayContaining(["loss", "grad input"]));
    }
    const worstLoss = worstOf(losses);
    console.log(
      `ops fixtures on webgpu: ${Object.keys(ops).length} run, 0 refused; worst ${worstOps.err.toExponential(2)} (${worstOps.what}). ` +
        `loss fixtures: ${Object.keys(losses).length} run, 0 refused; worst ${worstLoss.err.toExponential(2)} (${worstLoss.what})`,
    );
  }, 120_000);

  it("issue 12's ops (every case's tensors on the device): values, dtypes, gradients and node names", async (ctx) => {
    const r = await runWebGPUScript("fixtures-ops12.mts", [], 115_000);
    if (skipUnlessWebGPU(ctx, r) || !r.available) return;
    const ops = r.ops as Errors;
    const cases = loadFixture<Record<string, Case>>("ops12", "ops");
    // every case's inputs go to the device (int64 and bool ones too); exactly these are refused, with
    // these messages (none now), and every other case runs: coverage cannot shrink unnoticed
    const REFUSED: Record<string, string> = {};
    expect(r.refused).toEqual(REFUSED);
    expect(Object.keys(ops).sort()).toEqual(
      Object.keys(cases)
        .filter((n) => !(n in REFUSED))
        .sort(),
    );
    const dtypes = r.dtypes as Record<string, string[]>;
    const nodes = r.nodes as Record<string, string | null>;
    for (const [name, errs] of Object.entries(ops)) {
      const c = cases[name];
      // every output and every gradient PyTorch has, with PyTorch's dtypes
      const want = [
        ...c.outs.map((_, k) => `output ${k}`),
        ...c.grads.flatMap((g, i) => (g === null ? [] : [`grad ${i}`])),
      ];
      expect(Object.keys(errs).sort(), name).toEqual(want.sort());
      expect(dtypes[name], name).toEqual(c.outs.map((o) => o.dtype));
      // PyTorch's node names; the batched matmul ends in a view, as PyTorch's (UnsafeViewBackward0 there)
      const matmul = name === "matmul_batched" || name === "matmul_batched_bcast";
      expect(nodes[name], name).toBe(matmul ? "ViewBackward0" : c.grad_fn[0]);
    }
    // int64 and bool tensors go to the device and come back exactly; an int64 outside i32 refuses
    expect(r.roundTrip).toEqual({
      int64: [-2147483648, -7, 0, 5, 2147483647],
      int64Dtype: "int64",
      bool: [1, 0, 0, 1],
      boolDtype: "bool",
      tooLarge:
        "to('webgpu'): an int64 tensor on webgpu holds 32-bit integers (in [-2147483648, 2147483647]), got 2147483648 at element 1",
    });
    // beyond the fixtures: the device against the CPU path (long lines, ties, NaN, repeated indices, int64
    // and bool sources), every output and float gradient
    const agree = r.agree as Errors;
    expect(Object.keys(agree).length).toBe(19);
    for (const [name, errs] of Object.entries(agree)) {
      expect(Object.keys(errs), name).toContain("output 0");
      for (const [what, err] of Object.entries(errs))
        expect(err, `${name}: ${what}`).toBeLessThanOrEqual(TOL);
    }
    for (const name of ["sort_long_ties", "topk_long", "scatter_repeats_src_larger", "masked_fill_grow"]) {
      expect(Object.keys(agree[name]), name).toContain("grad 0");
    }
    expect(Object.keys(agree.scatter_add_repeats_src_larger)).toContain("grad 2");
    // the index side's atomic adds (large cases): the gradients, and scatterAdd's output and src gradient
    for (const name of ["index_select_grad_atomic", "gather_grad_atomic", "scatter_add_atomic"])
      expect(Object.keys(agree[name]), name).toContain("grad 0");
    expect(Object.keys(agree.scatter_add_atomic)).toContain("grad 2");
    // index values are checked on the device: out of range, the next read rejects (webgpu-index-check)
    const oob = r.oob as Record<string, string>;
    expect(oob.gather).toMatch(/^index 5 is out of bounds for dimension 1 with size 2 \(/);
    expect(oob.scatter).toMatch(/^index 7 is out of bounds for dimension 1 with size 2 \(/);
    expect(r.mixed).toBe(
      "Expected all tensors to be on the same device, but found at least two devices, webgpu and cpu!",
    );
    expect(r.zeroDimSrc).toBe(
      "scatter on webgpu: the gradient of a 0-d src is not supported yet (give src the index's shape)",
    );
    expect(r.floatMask).toBe("masked_fill on webgpu: expected a bool mask, got float32");
    const worst = worstOf(ops);
    console.log(
      `ops12 fixtures on webgpu: ${Object.keys(ops).length} run, ${Object.keys(REFUSED).length} refused; worst ${worst.err.toExponential(2)} (${worst.what}); ` +
        `${Object.keys(agree).length} further cases agree with the CPU path, worst ${worstOf(agree).err.toExponential(2)}`,
    );
  }, 120_000);
});
