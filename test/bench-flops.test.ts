// The benchmark's W2 floor divides a step's matrix-product flops by the 128-bit peak
// (bench/workloads.ts lstmStepFlops). Checked here against the products listed one by one.
import { describe, expect, it } from "vitest";
import { lstmStepFlops, W2_DIMS } from "../bench/workloads.js";

/** 2·m·n·k for each product an LSTM step computes, written out per layer and per time step. */
function listed(I: number, H: number, L: number, B: number, T: number, head: number): number {
  const mm = (m: number, n: number, k: number) => 2 * m * n * k;
  let f = 0;
  for (let l = 0; l < L; l++) {
    const inp = l === 0 ? I : H;
    for (let t = 0; t < T; t++) {
      f += mm(B, 4 * H, inp); // gates from the input
      f += mm(B, 4 * H, H); // gates from h(t-1)
      f += mm(4 * H, inp, B); // dW_ih += dGatesᵀ · x
      f += mm(4 * H, H, B); // dW_hh += dGatesᵀ · h(t-1)
      f += mm(B, H, 4 * H); // dh(t-1) = dGates · W_hh
      if (l > 0) f += mm(B, inp, 4 * H); // dx = dGates · W_ih (not for the data)
    }
  }
  // the head: forward, its weight's gradient and its input's gradient
  return f + 3 * mm(T * B, head, H);
}

describe("bench: lstmStepFlops", () => {
  it("W2 is 1.91488 GFLOP", () => {
    expect(lstmStepFlops(W2_DIMS)).toBe(1_914_880_000);
    expect(lstmStepFlops(W2_DIMS)).toBe(listed(8, 128, 2, 32, 50, 1));
  });
  it("matches the listed products for other shapes", () => {
    for (const [I, H, L, B, T, head] of [
      [1, 4, 1, 1, 1, 0],
      [3, 5, 3, 2, 7, 2],
      [64, 512, 2, 256, 100, 0],
    ])
      expect(lstmStepFlops({ input: I, hidden: H, layers: L, batch: B, seq: T, head })).toBe(
        listed(I, H, L, B, T, head),
      );
  });
});
