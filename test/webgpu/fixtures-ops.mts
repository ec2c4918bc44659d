// The PyTorch fixtures of the generic ops (test/fixtures/data/ops/ops.json, the table of test/ops-table.ts
// that test/ops.test.ts runs on the CPU) on the webgpu device: the inputs uploaded as leaves that require
// grad, the op, backward of the fixture's output weighting, and the output and every input gradient read
// back. Then the losses (test/fixtures/data/loss/*.json, as test/loss.test.ts runs them). Prints, as one
// JSON line, each case's relative error per tensor or the error that refused it; webgpu-fixtures.test.ts
// asserts them. A child process of the tests (run.ts says why).

import type { Tensor } from "../../src/core/tensor.js";
import { fromJson, loadFixture, type TensorJson } from "../helpers.js";
import { LOSS_FILES, LOSS_FUNCTIONS, type LossCase, lossOptions } from "../loss-cases.js";
import { OPS } from "../ops-table.js";
import { relErr } from "./fixtures-common.js";
import { deviceOrExit, finish } from "./setup.js";

const ctx = await deviceOrExit();

interface OpCase {
  name: string;
  inputs: TensorJson[];
  output: TensorJson;
  weight: TensorJson;
  grads: (TensorJson | null)[];
}

const message = (e: unknown) => (e instanceof Error ? e.message : String(e));
const onDevice = (t: Tensor, grad: boolean) => (grad ? t.to("webgpu").requiresGrad_() : t.to("webgpu"));
const read = async (t: Tensor) => (await t.cpuAsync()).data as Float32Array;
const flat = (j: TensorJson) => fromJson(j).data as Float32Array;

const ops: Record<string, Record<string, number>> = {};
const opsRefused: Record<string, string> = {};
for (const c of loadFixture<{ cases: OpCase[] }>("ops", "ops").cases) {
  try {
    const xs = c.inputs.map((t) => onDevice(fromJson(t), true));
    const out = OPS[c.name](...xs);
    if (out.device !== "webgpu") throw new Error(`the output is on ${out.device}`);
    out.backward(onDevice(fromJson(c.weight), false));
    const errs: Record<string, number> = {};
    const want = fromJson(c.output);
    errs.output = relErr(await read(out), want.data as Float32Array, out.shape, want.shape);
    for (let i = 0; i < c.grads.length; i++) {
      const g = c.grads[i];
      if (g === null) continue;
      const got = xs[i].grad;
      errs[`grad ${i}`] = got === null ? Number.POSITIVE_INFINITY : relErr(await read(got), flat(g));
    }
    ops[c.name] = errs;
  } catch (e) {
    opsRefused[c.name] = message(e);
  }
}

const losses: Record<string, Record<string, number>> = {};
const lossesRefused: Record<string, string> = {};
for (const file of LOSS_FILES) {
  for (const c of loadFixture<{ cases: LossCase[] }>("loss", file).cases) {
    const name = `${file}: ${c.name}`;
    try {
      const input = onDevice(fromJson(c.input), true);
      // class indices stay on the CPU (read there to validate them); float targets go to the device
      const target =
        c.targetKind === "index" ? fromJson(c.target) : onDevice(fromJson(c.target), c.targetRequiresGrad);
      const opts = Object.fromEntries(
        Object.entries(lossOptions(c)).map(([k, v]) => [
          k,
          v instanceof Object && "shape" in v ? onDevice(v as Tensor, false) : v,
        ]),
      );
      const loss = LOSS_FUNCTIONS[c.fn](input, target, opts);
      if (loss.device !== "webgpu") throw new Error(`the loss is on ${loss.device}`);
      if (c.gradWeights === null) loss.backward();
      else loss.backward(onDevice(fromJson(c.gradWeights), false));
      const errs: Record<string, number> = { loss: relErr(await read(loss), flat(c.loss)) };
      errs["grad input"] =
        input.grad === null ? Number.POSITIVE_INFINITY : relErr(await read(input.grad), flat(c.gradInput));
      if (c.gradTarget !== null) {
        errs["grad target"] =
          target.grad === null
            ? Number.POSITIVE_INFINITY
            : relErr(await read(target.grad), flat(c.gradTarget));
      } else if (target.grad !== null) errs["grad target"] = Number.POSITIVE_INFINITY;
      losses[name] = errs;
    } catch (e) {
      lossesRefused[name] = message(e);
    }
  }
}

finish(ctx, { ops, opsRefused, losses, lossesRefused });
