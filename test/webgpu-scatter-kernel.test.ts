// Which scatter kernel the device runs (src/kernels/webgpu/index-ops.ts): the target side's ordered loop
// for small adds and every "last" scatter, the index side's atomic adds from ATOMIC_SCATTER_FROM work on.
// The results of both are checked against the CPU in test/webgpu-fixtures.test.ts (ops12, "agree").
import { describe, expect, it } from "vitest";
import { ATOMIC_SCATTER_FROM, scatterKernel, type ScatterSpec } from "../src/kernels/webgpu/index-ops.js";

const spec = (T: number[], S: number[], d: number, mode: "add" | "last" = "add"): ScatterSpec => ({
  T,
  S,
  istr: [],
  vstr: [],
  d,
  mode,
  check: "gather",
});

describe("webgpu scatter kernel choice", () => {
  it("runs large adds from the index side and everything else from the target side", () => {
    expect(ATOMIC_SCATTER_FROM).toBe(4194304);
    // the large "agree" cases of test/webgpu/fixtures-ops12.mts
    expect(scatterKernel(spec([4096, 16], [8192, 16], 0))).toBe("atomic"); // indexSelect backward
    expect(scatterKernel(spec([64, 2048], [64, 4096], 1))).toBe("atomic"); // gather backward
    expect(scatterKernel(spec([32, 4096], [32, 8192], 1))).toBe("atomic"); // scatterAdd
    // the fixtures' sizes, and a scatter (the last write wins: ordered whatever the size)
    expect(scatterKernel(spec([3, 7], [3, 9], 1))).toBe("target");
    expect(scatterKernel(spec([32, 4096], [32, 8192], 1, "last"))).toBe("target");
    // the boundary: target elements × index positions along d
    expect(scatterKernel(spec([1024, 1], [4096, 1], 0))).toBe("atomic");
    expect(scatterKernel(spec([1023, 1], [4096, 1], 0))).toBe("target");
    // nothing to scatter: the target side's path (it runs the index check alone)
    expect(scatterKernel(spec([0, 4], [0, 4], 0))).toBe("target");
  });
});
