// The generic ops of the PyTorch fixture test/fixtures/data/ops/ops.json, by case name: the same table as
// CASES in test/fixtures/gen/ops.py. Not a test file: test/ops.test.ts runs it on the CPU and
// test/webgpu/fixtures-ops.mts on the webgpu device.

import * as F from "../src/core/ops.js";
import type { Tensor } from "../src/core/tensor.js";

export type Fn = (...xs: Tensor[]) => Tensor;
const flatcat = (ts: Tensor[]) => F.cat(ts.map((t) => t.reshape(-1)));

// The same table as CASES in test/fixtures/gen/ops.py.
export const OPS: Record<string, Fn> = {
  add_same: (a, b) => a.add(b),
  add_row: (a, b) => a.add(b),
  add_broadcast_both: (a, b) => a.add(b),
  add_alpha: (a, b) => F.add(a, b, -2.5),
  add_scalar: (a) => a.add(1.5),
  sub_broadcast: (a, b) => a.sub(b),
  sub_alpha: (a, b) => F.sub(a, b, 0.5),
  rsub_scalar: (a) => F.sub(2, a),
  mul_broadcast: (a, b) => a.mul(b),
  mul_scalar: (a) => a.mul(-3),
  div_broadcast: (a, b) => a.div(b),
  div_scalar: (a) => a.div(4),
  pow_2: (a) => a.pow(2),
  pow_3: (a) => a.pow(3),
  pow_half: (a) => a.pow(0.5),
  pow_tensor: (a, b) => a.pow(b),
  neg: (a) => a.neg(),
  exp: (a) => a.exp(),
  log: (a) => a.log(),
  sqrt: (a) => a.sqrt(),
  abs: (a) => a.abs(),
  tanh: (a) => a.tanh(),
  sigmoid: (a) => a.sigmoid(),
  relu: (a) => a.relu(),
  sin: (a) => a.sin(),
  cos: (a) => a.cos(),
  square: (a) => a.square(),
  clamp: (a) => a.clamp(-0.5, 0.7),
  matmul_2d: (a, b) => a.matmul(b),
  matmul_batched: (a, b) => a.matmul(b),
  matmul_broadcast_b: (a, b) => a.matmul(b),
  matmul_broadcast_a: (a, b) => a.matmul(b),
  matmul_batch_bcast: (a, b) => a.matmul(b),
  matmul_vec_mat: (a, b) => a.matmul(b),
  matmul_mat_vec: (a, b) => a.matmul(b),
  matmul_dot: (a, b) => a.matmul(b),
  linear_bias: (x, w, b) => F.linear(x, w, b),
  linear_nobias: (x, w) => F.linear(x, w),
  linear_3d: (x, w, b) => F.linear(x, w, b),
  sum_all: (a) => a.sum(),
  sum_dim1: (a) => a.sum(1),
  sum_dims_keepdim: (a) => a.sum([0, 2], true),
  sum_neg_dim: (a) => a.sum(-1),
  mean_all: (a) => a.mean(),
  mean_dim0: (a) => a.mean(0),
  mean_dim_keepdim: (a) => a.mean(2, true),
  max_all: (a) => a.max(),
  max_dim: (a) => a.max(1).values,
  max_dim_keepdim: (a) => a.max(-1, true).values,
  min_dim: (a) => a.min(0).values,
  view: (a) => a.view(6, 4).mul(1),
  reshape_infer: (a) => a.reshape(-1, 2).mul(1),
  squeeze: (a) => a.squeeze().mul(1),
  squeeze_dim: (a) => a.squeeze(1).mul(1),
  unsqueeze: (a) => a.unsqueeze(1).mul(1),
  unsqueeze_neg: (a) => a.unsqueeze(-1).mul(1),
  transpose: (a) => a.transpose(0, 2).contiguous(),
  permute: (a) => a.permute(1, 2, 0),
  flatten: (a) => a.flatten(1),
  expand: (a) => a.expand(2, 3, 4),
  cat0: (a, b) => F.cat([a, b], 0),
  cat1: (a, b, c) => F.cat([a, b, c], 1),
  stack1: (a, b) => F.stack([a, b], 1),
  chunk: (a) => flatcat(a.chunk(2, 0)),
  split_sizes: (a) => flatcat(a.split([1, 2, 3], 1).map((t, i) => t.mul(i + 1))),
  select: (a) => a.select(1, 2).mul(1),
  select_neg: (a) => a.select(-1, -1).mul(1),
  narrow: (a) => a.narrow(1, 1, 3).mul(1),
  narrow0: (a) => a.narrow(0, 2, 2).mul(1),
  unbind: (a) => flatcat(a.unbind(1).map((t, i) => t.mul(i + 1))),
  clone: (a) => a.clone(),
  softmax: (a) => F.softmax(a, 1),
  softmax0: (a) => F.softmax(a, 0),
  log_softmax: (a) => F.logSoftmax(a, -1),
  composite: (a, b) =>
    a
      .mul(b)
      .tanh()
      .add(a.sigmoid().div(b.abs().add(1)))
      .sum(1)
      .exp(),
};
