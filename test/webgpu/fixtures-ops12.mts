// Issue 12's PyTorch fixtures (test/fixtures/data/ops12/ops.json, the table of test/ops12-table.ts that
// test/ops12.test.ts runs on the CPU) on the webgpu device: the cases whose inputs and outputs are all
// float32 (flip, roll, cumsum, bmm, batched matmul), the inputs uploaded as leaves that require grad, the
// op, backward of Σ output · the fixture's weighting, and the output and every input gradient read back.
// Prints, as one JSON line, each case's relative error per tensor and node name, or the error that
// refused it; webgpu-fixtures.test.ts asserts them. A child process of the tests (run.ts says why).

import { mul, sum, type Tensor, tensor } from "../../src/index.js";
import { fromJson, loadFixture, num } from "../helpers.js";
import { build, type Case, OPS } from "../ops12-table.js";
import { relErr } from "./fixtures-common.js";
import { deviceOrExit, finish } from "./setup.js";

const ctx = await deviceOrExit();

const message = (e: unknown) => (e instanceof Error ? e.message : String(e));
const read = async (t: Tensor) => (await t.cpuAsync()).data as Float32Array;

const cases = loadFixture<Record<string, Case>>("ops12", "ops");
const float = (c: Case) =>
  c.inputs.every((d) => d.dtype === "torch.float32") && c.outs.every((d) => d.dtype === "torch.float32");

const ops: Record<string, Record<string, number>> = {};
const nodes: Record<string, string | null> = {};
const refused: Record<string, string> = {};
const skipped: string[] = []; // not float-only: an int64 or bool input or output
for (const [name, c] of Object.entries(cases)) {
  if (!float(c)) {
    skipped.push(name);
    continue;
  }
  try {
    const xs = c.inputs.map((d) => build(d, false).to("webgpu").requiresGrad_());
    const r = OPS[name](...xs);
    const outs = Array.isArray(r) ? r : [r];
    const errs: Record<string, number> = {};
    let loss: Tensor | null = null;
    for (let k = 0; k < outs.length; k++) {
      const o = outs[k];
      if (o.device !== "webgpu") throw new Error(`output ${k} is on ${o.device}`);
      errs[`output ${k}`] = relErr(
        await read(o),
        Float32Array.from(c.outs[k].values.map(num)),
        o.shape,
        c.outs[k].shape,
      );
      const w = c.weights[k];
      if (w === null) continue;
      const term = sum(mul(o, tensor(w.data.map(num), { shape: w.shape }).to("webgpu")));
      loss = loss === null ? term : loss.add(term);
    }
    nodes[name] = outs[0].gradFn?.name ?? null;
    loss?.backward();
    for (let i = 0; i < c.grads.length; i++) {
      const g = c.grads[i];
      if (g === null) continue;
      const got = xs[i].grad;
      errs[`grad ${i}`] =
        got === null ? Number.POSITIVE_INFINITY : relErr(await read(got), fromJson(g).data as Float32Array);
    }
    ops[name] = errs;
  } catch (e) {
    refused[name] = message(e);
  }
}

finish(ctx, { ops, nodes, refused, skipped });
