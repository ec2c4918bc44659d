// Tensors on the webgpu device (test/webgpu/tensor-check.mts, in a child process: see test/webgpu/run.ts):
// add, sub, mul, div, neg, exp, tanh, sigmoid, relu and matmul against the CPU ops on the same values,
// PyTorch's mixed-device error, and asynchronous read-back. Skips without WebGPU unless
// RECURRENT_REQUIRE_WEBGPU=1.

import { describe, expect, it } from "vitest";
import { nn, randn, tensor } from "../src/index.js";
import { runWebGPUScript, skipUnlessWebGPU } from "./webgpu/run.js";

interface TensorCheck {
  errors: Record<string, number>;
  extremes: { tanh: number[]; sigmoid: number[] };
  tanhRelErr: number;
  broadcast: Record<string, number>;
  broadcastShapes: Record<string, number[]>;
  shaped: Record<string, unknown>;
  gemmErrors: Record<string, number>;
  netErrors: number[];
  netShapes: number[][];
  netGrad: string;
  netMixed: string;
  moduleDevices: string[];
  sameObjects: boolean;
  moduleToCpu: string;
  moduleBack: Record<string, unknown>;
  devices: string[];
  shape: number[];
  scalar: { shape: number[]; numel: number; value: number };
  item: number;
  sameOnCpu: boolean;
  [message: string]: unknown;
}

const MIXED = "Expected all tensors to be on the same device, but found at least two devices,";

describe("tensors on webgpu (child process)", { timeout: 180_000 }, () => {
  it("compute what the CPU ops compute, and refuse what they cannot do yet", async (ctx) => {
    const r = await runWebGPUScript("tensor-check.mts");
    if (skipUnlessWebGPU(ctx, r)) return;
    const g = r as unknown as TensorCheck;
    // float32 rounding: max |gpu − cpu| / (1 + |cpu|), 33×47 operands, 33×47 · 47×21 product
    expect(Object.keys(g.errors).sort()).toEqual(
      ["add", "chain", "div", "exp", "matmul", "mul", "neg", "relu", "sigmoid", "sub", "tanh"].sort(),
    );
    for (const [op, err] of Object.entries(g.errors)) expect(err, op).toBeLessThan(1e-6);
    expect(g.tanhRelErr).toBeLessThan(1e-6); // relative, near 0 and around the switch at |x| = 0.625
    expect(g.extremes.tanh).toEqual([-1, -1, expect.closeTo(-1e-8, 12), 0, expect.closeTo(1e-8, 12), 1, 1]);
    expect(g.extremes.sigmoid[0]).toBeLessThan(1e-37); // 1/(1+e^100): 3.8e-44 or flushed to 0, no NaN
    expect(g.extremes.sigmoid[0]).toBeGreaterThanOrEqual(0);
    expect(g.extremes.sigmoid[1]).toBeCloseTo(2.061153622438558e-9, 15);
    expect(g.extremes.sigmoid.slice(2, 5)).toEqual([0.5, 0.5, 0.5]);
    expect(g.extremes.sigmoid.slice(5)).toEqual([1, 1]);
    expect(g.devices).toEqual(["cpu", "webgpu", "cpu", "webgpu"]);
    // reshape / view / flatten / squeeze keep the buffer, clone copies it (recorded in order)
    expect(g.shaped).toEqual({
      reshape: expect.any(Number),
      view: expect.any(Number),
      flatten: [33 * 47],
      squeeze: [33, 47],
      clone: 0,
      sharesBuffer: true,
      cloneSharesBuffer: false,
    });
    expect(g.shaped.reshape).toBeLessThan(1e-6);
    expect(g.shaped.view).toBeLessThan(1e-6);
    // the device product in each (transA, transB, bias) form against the TypeScript gemm: 19×37 · 37×23,
    // error relative to Σ|a·b| (float32 sums in another order)
    expect(Object.keys(g.gemmErrors)).toEqual(["NN", "TN", "NT+bias", "TT+bias"]);
    for (const [form, err] of Object.entries(g.gemmErrors)) expect(err, form).toBeLessThan(1e-6);
    // Linear(5,16) → Tanh → Linear(16,3) → Sigmoid on the device, 2-D and 3-D input, under noGrad
    for (const err of g.netErrors) expect(err).toBeLessThan(1e-6);
    expect(g.netShapes).toEqual([
      [7, 3],
      [2, 7, 3],
    ]);
    expect(g.netGrad).toBe(""); // under grad it records the graph now (webgpu-train.test.ts)
    expect(g.netMixed).toContain(`${MIXED} cpu and webgpu!`);
    // model.to("webgpu") keeps the Parameter objects; toAsync("cpu") brings back the same bits
    expect(g.moduleDevices).toEqual(["webgpu", "webgpu", "webgpu", "webgpu"]);
    expect(g.sameObjects).toBe(true);
    expect(g.moduleToCpu).toContain("await model.toAsync('cpu')");
    expect(g.moduleBack).toEqual({
      devices: ["cpu", "cpu", "cpu", "cpu"],
      valuesEqual: true,
      weight0Equal: true,
      optimizerHolds: true,
    });
    expect(g.shape).toEqual([33, 21]);
    expect(g.scalar).toEqual({ shape: [], numel: 1, value: 2.5 });
    expect(g.item).toBe(4.25);
    expect(g.sameOnCpu).toBe(true);
    expect(g.mixedAdd).toBe(`${MIXED} webgpu and cpu!`);
    expect(g.mixedMul).toBe(`${MIXED} cpu and webgpu!`);
    expect(g.mixedMatmul).toBe(`${MIXED} cpu and webgpu!`);
    expect(g.mixedMax).toBe(`${MIXED} webgpu and cpu!`); // an op with no webgpu kernel still says so
    expect(g.mixedMask).toBe(`${MIXED} webgpu and cpu!`); // a CPU mask for a device query, as PyTorch
    expect(g.nestedMask).toBe("no error"); // nested booleans go where the query is
    expect(g.data).toContain("await t.cpuAsync()");
    expect(g.toCpu).toContain("await t.cpuAsync()");
    expect(g.notYet).toContain("an op on an int64 tensor is not supported on the webgpu device yet");
    expect(g.fill).toContain("fill_ is not supported on the webgpu device yet");
    expect(g.broadcastError).toContain(
      "The size of tensor a (33) must match the size of tensor b (2) at non-singleton dimension 0",
    );
    // broadcasting: (33,47)+(1,47), (33,47)·(47), (33,1)−(1,47), (2,1,3,1)/(4,1,5), (33,47)·0-d
    for (const [pair, err] of Object.entries(g.broadcast)) expect(err, pair).toBeLessThan(1e-6);
    expect(g.broadcastShapes).toEqual({
      row: [33, 47],
      vector: [33, 47],
      outer: [33, 47],
      "4d3d": [2, 4, 3, 5],
      scalarTensor: [33, 47],
    });
    expect(g.grad).toContain("moving a tensor that requires grad is not recorded yet");
    expect(g.gradOk).toBe("webgpu");
    expect(g.str).toContain("device='webgpu'");
  });
});

describe("tensor devices without a WebGPU device", () => {
  it("CPU tensors say cpu, stay put, and read back as themselves", async () => {
    const t = randn(2, 3);
    expect(t.device).toBe("cpu");
    expect(t.to("cpu")).toBe(t);
    expect(await t.cpuAsync()).toBe(t);
    expect(await tensor([1.5]).itemAsync()).toBe(1.5);
    await expect(t.itemAsync()).rejects.toThrow("a Tensor with 6 elements cannot be converted to a scalar");
    expect(t.to("float32")).toBe(t); // dtypes still convert as before
    expect(t.to("int64").dtype).toBe("int64");
  });

  it("to('webgpu') says how to get a device", () => {
    expect(new nn.Linear(2, 3).to("cpu").weight.device).toBe("cpu");
    expect(() => new nn.Linear(2, 3).to("webgpu")).toThrow("No WebGPU device");
    expect(() => randn(2).to("webgpu")).toThrow("No WebGPU device: call `await requestWebGPU()` first");
    expect(() => randn(2).to("cuda" as "cpu")).toThrow(
      'to: expected a dtype ("float32", "int64", "bool") or a device ("cpu", "webgpu"), got "cuda"',
    );
  });
});
