// The device-side index check (context.ts's indexCheck(), index-ops.ts): gather, scatter, scatterAdd and
// indexSelect with device-resident indices out of range, too large or negative, reject the next read back
// (cpuAsync, itemAsync, ctx.sync()) with the CPU path's message for the same op and index, then a note that
// it was raised asynchronously; the flag is cleared by that read, so a valid op and read afterwards
// succeed. Each case's message is set against the CPU's own error. Prints one JSON line for
// test/webgpu-index-check.test.ts.

import { IndexCheckError, sum, type Tensor, tensor, zeros } from "../../src/index.js";
import { clipGradNormAsync_ } from "../../src/nn/index.js";
import { deviceOrExit, finish } from "./setup.js";

const ctx = await deviceOrExit();

const L = { dtype: "int64" } as const;
const message = (e: unknown) => (e instanceof Error ? e.message : String(e));
const cpuError = (f: () => unknown): string => {
  try {
    f();
    return "accepted";
  } catch (e) {
    return message(e);
  }
};
/** The read's values, or its rejection: [message, error name]. */
const readOr = async (t: Tensor): Promise<number[] | [string, string]> => {
  try {
    return Array.from((await t.cpuAsync()).storage);
  } catch (e) {
    return [message(e), e instanceof IndexCheckError ? "IndexCheckError" : String(e)];
  }
};

// a (5, 3) source, rows r·10 + column
const A = Array.from({ length: 15 }, (_, i) => Math.floor(i / 3) * 10 + (i % 3));
const src = () => tensor(A, { shape: [5, 3] });
const dev = (t: Tensor) => t.to("webgpu");
const ones = (shape: number[]) => tensor(new Array(shape.reduce((a, b) => a * b, 1)).fill(1), { shape });

type Op = (a: Tensor, index: Tensor) => Tensor;
// each op with a bad index along dim 0 (size 5) or dim 1 (size 3); the index is [[0, bad, 1]] or its like
const OPS: Record<string, [Op, (bad: number) => number[][] | number[]]> = {
  gather_dim0: [(a, i) => a.gather(0, i), (bad) => [[0, bad, 1]]],
  gather_dim1: [
    (a, i) => a.gather(1, i),
    (bad) => [
      [2, 0],
      [bad, 1],
    ],
  ],
  scatter_src: [
    (a, i) => a.scatter(0, i, i.device === "webgpu" ? dev(ones([1, 3])) : ones([1, 3])),
    (bad) => [[0, bad, 1]],
  ],
  scatter_value_dim1: [(a, i) => a.scatter(1, i, 7), (bad) => [[2], [bad]]],
  scatter_add: [
    (a, i) => a.scatterAdd(0, i, i.device === "webgpu" ? dev(ones([1, 3])) : ones([1, 3])),
    (bad) => [[1, 2, bad]],
  ],
  index_select_dim0: [(a, i) => a.indexSelect(0, i), (bad) => [3, bad]],
  index_select_dim1: [(a, i) => a.indexSelect(1, i), (bad) => [bad, 0]],
};
// along dim 0 the size is 5, along dim 1 it is 3: too large, and negative beyond −size, and −1
const BADS: Record<string, number[]> = { 0: [7, 5, -6, -1], 1: [3, 9, -4, -1] };

const cases: Record<string, { cpu: string; gpu: number[] | [string, string]; after: boolean }> = {};
for (const [name, [op, index]] of Object.entries(OPS)) {
  const dim = name.endsWith("dim1") ? 1 : 0;
  for (const bad of BADS[dim]) {
    const cpu = cpuError(() => op(src(), tensor(index(bad), L)));
    const gpu = await readOr(op(dev(src()), dev(tensor(index(bad), L))));
    // the flag was cleared by that read: a valid op on the device then reads back the CPU's values
    const good = index(dim === 0 ? 4 : 2);
    const want = Array.from(op(src(), tensor(good, L)).storage);
    const got = await readOr(op(dev(src()), dev(tensor(good, L))));
    cases[`${name} ${bad}`] = { cpu, gpu, after: JSON.stringify(got) === JSON.stringify(want) };
  }
}

// an int64 source (the out-of-range word is 0 there) and a bool one
const int64Source = await readOr(dev(tensor([4, 5, 6], L)).gather(0, dev(tensor([2, 3], L))));
const boolSource = await readOr(
  dev(tensor([1, 0, 1], { dtype: "bool" })).indexSelect(0, dev(tensor([-4], L))),
);

// the target has size 0 along the dim: no target element runs the kernel, every index is out of range
const emptyTarget = {
  cpu: cpuError(() => zeros([0, 3]).scatter(0, tensor([[0, 0, 0]], L), 1)),
  gpu: await readOr(dev(zeros([0, 3])).scatter(0, dev(tensor([[0, 0, 0]], L)), 1)),
};

// an indexSelect with an empty output (size 0 along another dim): its kernel reads no index; still checked
const emptySelect = {
  cpu: cpuError(() => zeros([0, 3]).indexSelect(1, tensor([0, 4], L))),
  gpu: await readOr(dev(zeros([0, 3])).indexSelect(1, dev(tensor([0, 4], L)))),
};

// the first violation wins, in the order the ops ran: gather's 8, not index_select's 9; one read reports
// it, the next (of an untouched tensor) succeeds
const first = dev(src()).gather(0, dev(tensor([[8, 0, 0]], L)));
const second = dev(src()).indexSelect(0, dev(tensor([9], L)));
const firstWins = {
  first: await readOr(second),
  thenFirst: await readOr(first),
};

// the other read paths: itemAsync, ctx.sync(), a read of an unrelated tensor
const item = await (async () => {
  const y = dev(src()).gather(1, dev(tensor([[5]], L)));
  try {
    return await y.itemAsync();
  } catch (e) {
    return message(e);
  }
})();
const sync = await (async () => {
  dev(src()).scatterAdd(1, dev(tensor([[-7]], L)), dev(tensor([[1]])));
  try {
    await ctx.sync();
    return "resolved";
  } catch (e) {
    return message(e);
  }
})();
const syncAfter = await ctx.sync().then(
  () => "resolved",
  (e) => message(e),
);
const clip = await (async () => {
  const w = dev(tensor([3, 4])).requiresGrad_();
  sum(w.mul(w)).backward(); // grad (6, 8): norm 10
  dev(src()).scatter(0, dev(tensor([[11, 0, 0]], L)), 1);
  const rejected = await clipGradNormAsync_(w, 1).then(String, message);
  const norm = await clipGradNormAsync_(w, 1e9); // the flag was cleared: resolves
  return { rejected, norm };
})();
const unrelated = await (async () => {
  const ok = dev(tensor([1.5, 2.5]));
  dev(src()).indexSelect(0, dev(tensor([6], L)));
  return readOr(ok);
})();

// the gradients' kernels check too: the forward's read rejects, then backward reads the same index again
const grads = await (async () => {
  const a = dev(src()).requiresGrad_();
  const y = a.gather(0, dev(tensor([[0, 6, 1]], L)));
  const forward = await readOr(y);
  sum(y).backward();
  const backward = await readOr(a.grad!);
  // a valid gather's gradient: no rejection, the CPU's values
  const b = dev(src()).requiresGrad_();
  sum(b.gather(0, dev(tensor([[0, 4, 4]], L)))).backward();
  const bc = src().requiresGrad_();
  sum(bc.gather(0, tensor([[0, 4, 4]], L))).backward();
  const valid = await readOr(b.grad!);
  return {
    forward,
    backward,
    valid: JSON.stringify(valid) === JSON.stringify(Array.from(bc.grad!.storage)),
  };
})();

// valid indices at the edges (0 and size − 1) over many elements never trip the check
const edges = await (async () => {
  const n = 4000;
  const idx = Array.from({ length: n }, (_, i) => (i % 2 === 0 ? 0 : 4));
  const a = src();
  const i0 = tensor([idx.slice(0, 3 * Math.floor(n / 3))], L).reshape([-1, 3]);
  const wantG = Array.from(a.gather(0, i0).storage);
  const g = await readOr(dev(a).gather(0, dev(i0)));
  const wantS = Array.from(a.indexSelect(0, tensor(idx, L)).storage);
  const s = await readOr(dev(a).indexSelect(0, dev(tensor(idx, L))));
  const base = zeros([5, 3]);
  const sv = tensor(
    Array.from({ length: i0.numel }, (_, k) => k % 7),
    { shape: i0.shape },
  );
  const wantA = Array.from(base.scatterAdd(0, i0, sv).storage);
  const sa = await readOr(dev(base).scatterAdd(0, dev(i0), dev(sv)));
  return {
    gather: JSON.stringify(g) === JSON.stringify(wantG),
    indexSelect: JSON.stringify(s) === JSON.stringify(wantS),
    scatterAdd: JSON.stringify(sa) === JSON.stringify(wantA),
  };
})();

finish(ctx, {
  cases,
  int64Source,
  boolSource,
  emptyTarget,
  emptySelect,
  firstWins,
  item,
  sync,
  syncAfter,
  clip,
  unrelated,
  grads,
  edges,
});
