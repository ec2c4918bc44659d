// Issue 12's PyTorch fixtures (test/fixtures/data/ops12/ops.json, the table of test/ops12-table.ts that
// test/ops12.test.ts runs on the CPU) on the webgpu device: every case, its inputs uploaded (float32 ones as
// leaves that require grad; int64 and bool ones as the device's integers), the op, backward of Σ output ·
// the fixture's weighting, and the outputs and every input gradient read back. Prints, as one JSON line,
// each case's relative error per tensor (0 for the exact int64 / bool outputs, Infinity where one differs),
// its outputs' dtypes and node name, or the error that refused it; webgpu-fixtures.test.ts asserts them.
// A child process of the tests (run.ts says why).

import { mul, sum, type Tensor, tensor } from "../../src/index.js";
import { fromJson, loadFixture, num } from "../helpers.js";
import { build, type Case, OPS } from "../ops12-table.js";
import { relErr } from "./fixtures-common.js";
import { deviceOrExit, finish } from "./setup.js";

const ctx = await deviceOrExit();

const message = (e: unknown) => (e instanceof Error ? e.message : String(e));
const read = async (t: Tensor) => (await t.cpuAsync()).data as Float32Array;
const readAny = async (t: Tensor) => Array.from((await t.cpuAsync()).storage);

const cases = loadFixture<Record<string, Case>>("ops12", "ops");
const ops: Record<string, Record<string, number>> = {};
const nodes: Record<string, string | null> = {};
const dtypes: Record<string, string[]> = {};
const refused: Record<string, string> = {};
for (const [name, c] of Object.entries(cases)) {
  try {
    const xs = c.inputs.map((d) => {
      const x = build(d, false).to("webgpu");
      return d.dtype === "torch.float32" ? x.requiresGrad_() : x;
    });
    const r = OPS[name](...xs);
    const outs = Array.isArray(r) ? r : [r];
    const errs: Record<string, number> = {};
    let loss: Tensor | null = null;
    for (let k = 0; k < outs.length; k++) {
      const o = outs[k];
      if (o.device !== "webgpu") throw new Error(`output ${k} is on ${o.device}`);
      if (o.dtype === "float32") {
        errs[`output ${k}`] = relErr(
          await read(o),
          Float32Array.from(c.outs[k].values.map(num)),
          o.shape,
          c.outs[k].shape,
        );
      } else {
        // int64 / bool: exact, or Infinity
        const got = await readAny(o);
        const want = c.outs[k].values;
        const same = got.length === want.length && got.every((v, i) => v === Number(want[i]));
        errs[`output ${k}`] =
          same && o.shape.join() === c.outs[k].shape.join() ? 0 : Number.POSITIVE_INFINITY;
      }
      const w = c.weights[k];
      if (w === null) continue;
      const term = sum(mul(o, tensor(w.data.map(num), { shape: w.shape }).to("webgpu")));
      loss = loss === null ? term : loss.add(term);
    }
    nodes[name] = outs[0].gradFn?.name ?? null;
    dtypes[name] = outs.map((o) => `torch.${o.dtype}`);
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

// int64 and bool tensors to the device and back, exactly; an int64 beyond the i32 range refuses
const ints = [-2147483648, -7, 0, 5, 2147483647];
const bools = [1, 0, 0, 1];
const roundTrip = {
  int64: await readAny(tensor(ints, { dtype: "int64" }).to("webgpu")),
  int64Dtype: tensor(ints, { dtype: "int64" }).to("webgpu").dtype,
  bool: await readAny(tensor(bools, { dtype: "bool", shape: [2, 2] }).to("webgpu")),
  boolDtype: (await tensor(bools, { dtype: "bool" }).to("webgpu").cpuAsync()).dtype,
  tooLarge: (() => {
    try {
      tensor([1, 2147483648], { dtype: "int64" }).to("webgpu");
      return "accepted";
    } catch (e) {
      return message(e);
    }
  })(),
};

finish(ctx, { ops, nodes, dtypes, refused, roundTrip });
