// Issue 12's PyTorch fixtures (test/fixtures/data/ops12/ops.json, the table of test/ops12-table.ts that
// test/ops12.test.ts runs on the CPU) on the webgpu device: every case, its inputs uploaded (float32 ones as
// leaves that require grad; int64 and bool ones as the device's integers), the op, backward of Σ output ·
// the fixture's weighting, and the outputs and every input gradient read back. Prints, as one JSON line,
// each case's relative error per tensor (0 for the exact int64 / bool outputs, Infinity where one differs),
// its outputs' dtypes and node name, or the error that refused it; webgpu-fixtures.test.ts asserts them.
// A child process of the tests (run.ts says why).

import { mul, sum, type Tensor, tensor } from "../../src/index.js";
import * as R from "../../src/index.js";
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

// Beyond the fixtures' sizes and cases: each op on the device against the same op on the CPU (held to
// PyTorch by test/ops12.test.ts): lines longer than a workgroup, ties (a stable order), NaN and −0, repeated
// indices (the last scatter wins, scatter_add sums), src larger than the index, int64 and bool sources.
// Outputs and the gradients of the float inputs under a fixed weighting.
const F = { dtype: "float32" } as const;
const L = { dtype: "int64" } as const;
const B = { dtype: "bool" } as const;
const lcg = (n: number, seed: number, mod = 0): number[] => {
  let x = seed;
  return Array.from({ length: n }, () => {
    x = (x * 1103515245 + 12345) % 2147483648;
    return mod > 0 ? x % mod : (x / 2147483648) * 4 - 2;
  });
};
const ties = lcg(2 * 300, 7, 5).map((v) => v - 2); // few distinct values: many ties
ties[3] = Number.NaN;
ties[10] = -0;
const AGREE: Record<string, [(...xs: Tensor[]) => Tensor | Tensor[], Tensor[]]> = {
  sort_long_ties: [(a) => a.sort(-1), [tensor(ties, { shape: [2, 300] })]],
  sort_desc_dim0_3d: [(a) => R.sort(a, 0, true), [tensor(lcg(5 * 3 * 4, 3), { shape: [5, 3, 4] })]],
  topk_long: [(a) => a.topk(17, 1, false), [tensor(ties, { shape: [2, 300] })]],
  argsort_long: [(a) => a.argsort(-1, true), [tensor(ties, { shape: [2, 300] })]],
  gather_repeats: [
    (a, i) => a.gather(1, i),
    [tensor(lcg(3 * 7, 5), { shape: [3, 7] }), tensor(lcg(3 * 9, 9, 7), { shape: [3, 9], ...L })],
  ],
  gather_int64_source: [
    (a, i) => a.gather(0, i),
    [tensor(lcg(12, 4, 1000), { shape: [4, 3], ...L }), tensor(lcg(6, 2, 4), { shape: [2, 3], ...L })],
  ],
  scatter_repeats_src_larger: [
    (a, i, s) => a.scatter(0, i, s),
    [
      tensor(lcg(4 * 5, 1), { shape: [4, 5] }),
      tensor(lcg(3 * 4, 8, 4), { shape: [3, 4], ...L }),
      tensor(lcg(5 * 6, 6), { shape: [5, 6] }),
    ],
  ],
  scatter_add_repeats_src_larger: [
    (a, i, s) => a.scatterAdd(1, i, s),
    [
      tensor(lcg(4 * 5, 2), { shape: [4, 5] }),
      tensor(lcg(3 * 6, 3, 5), { shape: [3, 6], ...L }),
      tensor(lcg(4 * 7, 4), { shape: [4, 7] }),
    ],
  ],
  scatter_value_bool: [
    (a, i) => a.scatter(1, i, 1),
    [tensor(lcg(6, 5, 2), { shape: [2, 3], ...B }), tensor([[2], [0]], L)],
  ],
  index_select_repeats: [
    (a, i) => a.indexSelect(1, i),
    [tensor(lcg(2 * 5 * 3, 11), { shape: [2, 5, 3] }), tensor([4, 0, 4, 4, 2, 1], L)],
  ],
  index_select_bool: [
    (a, i) => a.indexSelect(0, i),
    [tensor(lcg(8, 3, 2), { shape: [4, 2], ...B }), tensor([3, 3, 0], L)],
  ],
  // large enough for the index side's atomic adds (index-ops.ts's scatterKernel; small cases run ordered)
  index_select_grad_atomic: [
    (a, i) => a.indexSelect(0, i),
    [tensor(lcg(4096 * 16, 21), { shape: [4096, 16] }), tensor(lcg(8192, 22, 4096), L)],
  ],
  gather_grad_atomic: [
    (a, i) => a.gather(1, i),
    [
      tensor(lcg(64 * 2048, 23), { shape: [64, 2048] }),
      tensor(lcg(64 * 4096, 24, 2048), { shape: [64, 4096], ...L }),
    ],
  ],
  scatter_add_atomic: [
    (a, i, s) => a.scatterAdd(1, i, s),
    [
      tensor(lcg(32 * 4096, 25), { shape: [32, 4096] }),
      tensor(lcg(32 * 8192, 26, 4096), { shape: [32, 8192], ...L }),
      tensor(lcg(32 * 8192, 27), { shape: [32, 8192] }),
    ],
  ],
  masked_fill_int64: [
    (a, m) => a.maskedFill(m, -5),
    [tensor(lcg(12, 6, 100), { shape: [3, 4], ...L }), tensor(lcg(4, 9, 2), { shape: [1, 4], ...B })],
  ],
  masked_fill_grow: [
    (a, m) => a.maskedFill(m, 3),
    [tensor(lcg(4, 7), { shape: [4] }), tensor(lcg(12, 1, 2), { shape: [3, 4], ...B })],
  ],
  all_nan_negzero: [
    (a) => [a.all(1), a.any(0, true), a.all(), a.any()],
    [tensor([Number.NaN, 1, -0, 0, 0, 2], { shape: [3, 2], ...F })],
  ],
  cumsum_bool: [(a) => a.cumsum(1), [tensor(lcg(12, 4, 2), { shape: [3, 4], ...B })]],
  cumsum_int_dim0: [
    (a) => R.cumsum(a, 0),
    [
      tensor(
        lcg(12, 5, 200).map((v) => v - 100),
        { shape: [4, 3], ...L },
      ),
    ],
  ],
};
const agree: Record<string, Record<string, number>> = {};
for (const [name, [fn, ins]] of Object.entries(AGREE)) {
  try {
    const cpuIns = ins.map((t) => (t.dtype === "float32" ? t.detach().requiresGrad_() : t));
    const devIns = ins.map((t) => {
      const x = t.to("webgpu");
      return t.dtype === "float32" ? x.requiresGrad_() : x;
    });
    const run = (xs: Tensor[]) => {
      const r = fn(...xs);
      const outs = Array.isArray(r) ? r : [r];
      let loss: Tensor | null = null;
      outs.forEach((o, k) => {
        if (o.dtype !== "float32" || !o.requiresGrad) return;
        const w = tensor(lcg(o.numel, 100 + k), { shape: o.shape });
        const term = sum(mul(o, o.device === "webgpu" ? w.to("webgpu") : w));
        loss = loss === null ? term : loss.add(term);
      });
      (loss as Tensor | null)?.backward();
      return outs;
    };
    const cpuOuts = run(cpuIns);
    const devOuts = run(devIns);
    const errs: Record<string, number> = {};
    for (let k = 0; k < cpuOuts.length; k++) {
      const same =
        devOuts[k].dtype === cpuOuts[k].dtype && devOuts[k].gradFn?.name === cpuOuts[k].gradFn?.name;
      const got = await readAny(devOuts[k]);
      errs[`output ${k}`] = same
        ? relErr(got, Array.from(cpuOuts[k].storage), devOuts[k].shape, cpuOuts[k].shape)
        : Number.POSITIVE_INFINITY;
    }
    for (let i = 0; i < ins.length; i++) {
      if (ins[i].dtype !== "float32" || (cpuIns[i].grad === null && devIns[i].grad === null)) continue;
      const g = devIns[i].grad;
      errs[`grad ${i}`] =
        g === null
          ? Number.POSITIVE_INFINITY
          : relErr(await readAny(g), Array.from(cpuIns[i].grad?.storage ?? []));
    }
    agree[name] = errs;
  } catch (e) {
    agree[name] = { [message(e)]: Number.POSITIVE_INFINITY };
  }
}

// index values are checked on the device: one out of range rejects the next read (webgpu-index-check)
const oob = {
  gather: await readAny(
    tensor([[1, 2]])
      .to("webgpu")
      .gather(1, tensor([[1, 5]], L).to("webgpu")),
  ).catch(message),
  scatter: await readAny(
    tensor([[1, 2]])
      .to("webgpu")
      .scatter(1, tensor([[7, 7]], L).to("webgpu"), 9),
  ).catch(message),
};
const zeroDimSrc = (() => {
  try {
    tensor([1, 2])
      .to("webgpu")
      .scatter(0, tensor([1], L).to("webgpu"), tensor(3).to("webgpu").requiresGrad_());
    return "accepted";
  } catch (e) {
    return message(e);
  }
})();
const floatMask = (() => {
  try {
    tensor([1, 2])
      .to("webgpu")
      .maskedFill(tensor([0, 1]).to("webgpu"), 0);
    return "accepted";
  } catch (e) {
    return message(e);
  }
})();
const mixed = (() => {
  try {
    tensor([[1, 2]])
      .to("webgpu")
      .gather(1, tensor([[1, 0]], L));
    return "accepted";
  } catch (e) {
    return message(e);
  }
})();

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

finish(ctx, { ops, nodes, dtypes, refused, roundTrip, agree, oob, mixed, zeroDimSrc, floatMask });
