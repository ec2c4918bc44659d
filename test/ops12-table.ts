// Issue 12's ops of the PyTorch fixture test/fixtures/data/ops12/ops.json (test/fixtures/gen/ops12.py), by
// case name, and the fixture's reader. Not a test file: test/ops12.test.ts runs it on the CPU and
// test/webgpu/fixtures-ops12.mts its float cases on the webgpu device.

import * as R from "../src/index.js";
import type { Tensor } from "../src/core/tensor.js";
import { num, type TensorJson } from "./helpers.js";

export interface Desc {
  dtype: string;
  shape: number[];
  values: number[];
}
export interface Case {
  inputs: Desc[];
  outs: Desc[];
  weights: (TensorJson | null)[];
  grads: (TensorJson | null)[];
  grad_fn: (string | null)[];
}

const DT: Record<string, R.DType> = {
  "torch.float32": "float32",
  "torch.int64": "int64",
  "torch.bool": "bool",
};

export function build(d: Desc, requiresGrad: boolean): Tensor {
  const t = R.tensor(d.values.map(num), { shape: d.shape, dtype: DT[d.dtype] });
  return requiresGrad ? t.requiresGrad_() : t;
}

export type Fn = (...xs: Tensor[]) => Tensor | Tensor[];

export const OPS: Record<string, Fn> = {
  gather_dim1: (a, i) => a.gather(1, i),
  gather_dim0: (a, i) => R.gather(a, 0, i),
  gather_3d: (a, i) => a.gather(-2, i),
  scatter_src: (a, i, s) => a.scatter(1, i, s),
  scatter_value: (a, i) => a.scatter(1, i, 2.5),
  scatter_add: (a, i, s) => a.scatterAdd(0, i, s),
  index_select0: (a, i) => a.indexSelect(0, i),
  index_select1: (a, i) => R.indexSelect(a, 1, i),
  masked_fill: (a, m) => a.maskedFill(m, -1e9),
  masked_fill_bcast: (a, m) => a.maskedFill(m, 0.25),
  masked_fill_tensor: (a, m, v) => a.maskedFill(m, v),
  flip: (a) => a.flip(0, 2),
  flip_neg: (a) => R.flip(a, [-1]),
  roll: (a) => a.roll(1, 0),
  roll_two: (a) => a.roll([-1, 5], [0, 1]),
  roll_flat: (a) => a.roll(3),
  topk: (a) => a.topk(3),
  topk_smallest_dim0: (a) => R.topk(a, 2, 0, false),
  sort: (a) => a.sort(),
  sort_desc_dim0: (a) => R.sort(a, 0, true),
  sort_nan: (a) => a.sort(),
  sort_nan_desc: (a) => a.sort(-1, true),
  argsort: (a) => a.argsort(),
  argsort_desc: (a) => R.argsort(a, 0, true),
  cumsum: (a) => a.cumsum(1),
  cumsum0: (a) => R.cumsum(a, 0),
  cumsum_int: (a) => a.cumsum(0),
  bmm: (a, b) => R.bmm(a, b),
  matmul_batched: (a, b) => a.matmul(b),
  matmul_batched_bcast: (a, b) => R.matmul(a, b),
  all_dim: (a) => a.all(1),
  any_dim_keep: (a) => a.any(0, true),
  all_float: (a) => a.all(),
  any_int: (a) => a.any(),
};

// our batched matmul is one node; PyTorch's reshapes around mm (UnsafeViewBackward0)
export const OWN_NODE_NAME: Record<string, string> = {
  matmul_batched: "MmBackward0",
  matmul_batched_bcast: "MmBackward0",
};
