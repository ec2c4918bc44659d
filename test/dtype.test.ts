// int64 and bool tensors beside float32: results, dtypes, promotion and printing held to PyTorch 1.13
// (test/fixtures/gen/ops12.py writes the fixtures from the same table of expressions).

import { describe, expect, it } from "vitest";
import * as R from "../src/index.js";
import type { Tensor } from "../src/core/tensor.js";
import { decodeSafetensors, encodeSafetensors } from "../src/io/safetensors.js";
import { loadFixture } from "./helpers.js";

interface Desc {
  dtype: string;
  str: string;
  shape: number[];
  values: number[];
}

const L = { dtype: "int64" } as const;
const aI = () =>
  R.tensor(
    [
      [1, -2, 3],
      [4, 5, -6],
    ],
    L,
  );
const bI = () => R.tensor([2, 0, -1], L);
const mB = () => R.tensor([true, false, true]);
const xF = () =>
  R.tensor([
    [0.5, -1.5, 2.0],
    [3.25, 0.0, -4.0],
  ]);

const DTYPES: Record<string, () => Tensor> = {
  int_tensor: aI,
  bool_tensor: () =>
    R.tensor([
      [true, false],
      [false, true],
    ]),
  int_scalar0d: () => R.tensor(7, L),
  int_wide: () => R.tensor([1, 100000, -3], L),
  empty_int: () => R.tensor([], L),
  empty_bool: () => R.zeros(0, 2, { dtype: "bool" }),
  int_add_int: () => aI().add(bI()),
  int_add_float: () => aI().add(xF()),
  int_add_intscalar: () => aI().add(3),
  int_add_floatscalar: () => aI().add(0.5),
  int_mul_int: () => aI().mul(bI()),
  int_sub_int: () => aI().sub(bI()),
  int_div_int: () => aI().div(bI().clamp(1)),
  int_div_scalar: () => aI().div(2),
  int_neg: () => aI().neg(),
  int_abs: () => aI().abs(),
  int_pow2: () => aI().pow(2),
  int_exp: () => bI().exp(),
  int_sum: () => aI().sum(),
  int_sum_dim: () => aI().sum(1),
  bool_sum: () => mB().sum(),
  bool_add_bool: () => mB().add(R.tensor([true, true, false])),
  bool_mul_bool: () => mB().mul(R.tensor([true, true, false])),
  bool_add_int: () => mB().add(1),
  bool_mul_float: () => mB().mul(1.5),
  bool_float_tensor: () => mB().mul(xF()),
  int_max: () => aI().max(),
  int_max_dim_values: () => aI().max(1).values,
  int_max_dim_indices: () => aI().max(1).indices,
  float_min_dim_indices: () => xF().min(0).indices,
  float_argmax: () => xF().argmax(),
  float_argmax_dim: () => xF().argmax(1),
  float_argmin_dim: () => xF().argmin(1),
  float_to_long: () => R.tensor([1.7, -1.7, 0.2, -0.0, 2.5]).long(),
  float_to_bool: () => R.tensor([0.0, -0.0, 0.1, Number.NaN]).bool(),
  int_to_float: () => aI().float(),
  bool_to_long: () => mB().long(),
  int_to_bool: () => bI().bool(),
  eq_int_scalar: () => aI().eq(3),
  lt_int_float: () => aI().lt(xF()),
  ge_float_scalar: () => xF().ge(0.5),
  ne_bcast: () => aI().ne(bI()),
  eq_float_double_scalar: () => R.tensor([0.1, 0.2]).eq(0.1),
  le_nan: () => R.tensor([Number.NaN, 1.0]).le(1.0),
  ne_nan: () => R.tensor([Number.NaN, 1.0]).ne(R.tensor([Number.NaN, 1.0])),
  logical_and: () => R.logicalAnd(mB(), R.tensor([1.0, 1.0, 0.0])),
  logical_or: () => R.logicalOr(mB(), bI()),
  logical_not: () => R.logicalNot(bI()),
  logical_xor: () => R.logicalXor(mB(), bI()),
  where_int: () => R.where(mB(), bI(), R.tensor(9, L)),
  where_mixed: () => R.where(mB(), bI(), R.tensor([0.5, 0.5, 0.5])),
  cat_int: () => R.cat([bI(), bI()]),
  cat_int_float: () => R.cat([bI().float(), bI()]),
  stack_bool: () => R.stack([mB(), mB()]),
  int_transpose: () => aI().t(),
  int_reshape: () => aI().reshape(3, 2),
  int_matmul: () =>
    aI().matmul(
      R.tensor(
        [
          [1, 0],
          [2, 1],
          [0, 3],
        ],
        L,
      ),
    ),
  arange_long: () => R.arange(5, { dtype: "int64" }),
  zeros_long: () => R.zeros(2, 2, L),
  ones_bool: () => R.ones(3, { dtype: "bool" }),
  full_long: () => R.full([2], 7, L),
  clamp_int: () => aI().clamp(-1, 2),
  relu_int: () => aI().relu(),
  int_big: () => R.tensor([2 ** 40 + 1, -(2 ** 50)], L),
};

describe("dtypes as PyTorch's", () => {
  const want = loadFixture<Record<string, Desc>>("ops12", "dtypes");
  it("covers every fixture case", () => {
    expect(Object.keys(DTYPES).sort()).toEqual(Object.keys(want).sort());
  });
  for (const [name, f] of Object.entries(DTYPES)) {
    it(name, () => {
      const got = f();
      const w = want[name];
      expect(`torch.${got.dtype}`).toBe(w.dtype);
      expect(got.shape).toEqual(w.shape);
      expect(Array.from(got.storage).map((v) => (v === 0 ? 0 : v))).toEqual(
        w.values.map((v) => (v === 0 ? 0 : v)),
      );
      expect(got.toString()).toBe(w.str);
    });
  }
});

describe("dtype errors as PyTorch's", () => {
  const want = loadFixture<Record<string, string>>("ops12", "errors");
  const cases: Record<string, () => unknown> = {
    requires_grad_int: () => R.tensor([1, 2], L).requiresGrad_(),
    mean_int: () => aI().mean(),
    sub_bool: () => mB().sub(mB()),
    neg_bool: () => mB().neg(),
    softmax_int: () => R.softmax(bI(), 0),
    log_softmax_int: () => R.logSoftmax(bI(), 0),
    matmul_mixed: () => aI().matmul(xF().t()),
  };
  for (const [name, f] of Object.entries(cases)) {
    it(name, () => expect(f).toThrow(want[name]));
  }
});

describe("dtype storage and conversions", () => {
  it("keeps int64 exact to 2^53 and bool as 0/1 bytes", () => {
    const t = R.tensor([2 ** 53 - 1, -(2 ** 53 - 1)], L);
    expect(t.storage).toBeInstanceOf(Float64Array);
    expect(t.tolist()).toEqual([2 ** 53 - 1, -(2 ** 53 - 1)]);
    expect(R.tensor([true, false]).storage).toBeInstanceOf(Uint8Array);
  });
  it("to() returns the tensor itself for its own dtype and copies otherwise", () => {
    const x = R.tensor([1.5]);
    expect(x.float() === x).toBe(true);
    const l = x.long();
    expect(l === x).toBe(false);
    expect(l.dtype).toBe("int64");
    expect(l.to("int64") === l).toBe(true);
  });
  it("views and clones keep the dtype; copy_ converts into the destination's", () => {
    const a = aI();
    expect(a.view(6).dtype).toBe("int64");
    expect(a.clone().dtype).toBe("int64");
    expect(a.select(1, 0).dtype).toBe("int64");
    expect(a.permute(1, 0).dtype).toBe("int64");
    expect(a.unsqueeze(0).expand(2, 2, 3).dtype).toBe("int64");
    const d = R.zeros(3, L);
    d.copy_(R.tensor([1.9, -1.9, 0.4]));
    expect(Array.from(d.storage)).toEqual([1, -1, 0]);
    const m = R.zeros(2, { dtype: "bool" });
    m.fill_(true);
    expect(m.toString()).toBe("tensor([True, True])");
  });
  it("safetensors writes int64 as I64 and bool as BOOL, and reads them back with keepDtype", () => {
    const bytes = encodeSafetensors({
      ids: R.tensor(
        [
          [1, 2 ** 40],
          [-3, 0],
        ],
        L,
      ),
      mask: mB(),
      w: xF(),
    });
    const header = JSON.parse(
      new TextDecoder().decode(bytes.subarray(8, 8 + Number(new DataView(bytes.buffer).getUint32(0, true)))),
    );
    expect(header.ids.dtype).toBe("I64");
    expect(header.mask.dtype).toBe("BOOL");
    expect(header.w.dtype).toBe("F32");
    const kept = decodeSafetensors(bytes, { keepDtype: true }).tensors;
    expect(kept.ids.dtype).toBe("int64");
    expect(kept.ids.tolist()).toEqual([
      [1, 2 ** 40],
      [-3, 0],
    ]);
    expect(kept.mask.dtype).toBe("bool");
    expect(Array.from(kept.mask.storage)).toEqual([1, 0, 1]);
    // by default everything reads as PyTorch's .float() of it, as before
    const asFloat = decodeSafetensors(bytes).tensors;
    expect(asFloat.ids.dtype).toBe("float32");
    expect(asFloat.mask.tolist()).toEqual([1, 0, 1]);
  });
});
