// WebGPUContext on a real device: Dawn in a child process (test/webgpu/run.ts says why), on the machine's
// GPU or, without one, on SwiftShader from Debian's chromium package. Skips where neither is installed,
// unless RECURRENT_REQUIRE_WEBGPU=1 (CI). Oracle: the same arithmetic on the CPU, in float64.

import { describe, expect, it } from "vitest";
import { poolSize } from "../src/kernels/webgpu/context.js";
import { hasWebGPU, requestWebGPU, useWebGPU, webgpuContext } from "../src/kernels/webgpu/index.js";
import { runWebGPUScript, skipUnlessWebGPU } from "./webgpu/run.js";

/** What test/webgpu/context-check.mts prints. */
interface ContextCheck {
  adapter: { description: string };
  axpyMaxErr: number;
  axpyLength: number;
  matmulMaxRelErr: number;
  ordering: { sameUniformBuffer: boolean; first: number; second: number };
  writeOrder: number[];
  pooled: Record<string, number | boolean>;
  doubleRelease: string;
  pipelineCached: boolean;
  bindGroupHits: number;
  submits: number;
  range: number[];
  expectedRange: number[];
  copied: number[];
  expectedCopied: number[];
  autoFlush: { submitsBeforeRead: number; values: number[] };
  badShader: string;
  badDispatch: string;
  uniformFloat: string;
  uniformTooBig: string;
  stats: { buffersLive: number };
  limits: {
    device: Record<string, number>;
    adapter: Record<string, number>;
    defaults: Record<string, number>;
    bufferTooBig: string;
    bindingTooBig: string;
    bindingRange: string;
  };
}

describe("WebGPUContext (child process)", { timeout: 180_000 }, () => {
  it("computes, pools, caches and reads back on the device", async (ctx) => {
    const r = await runWebGPUScript("context-check.mts");
    if (skipUnlessWebGPU(ctx, r)) return;
    const g = r as unknown as ContextCheck;
    expect(g.adapter.description).not.toBe("");
    // y = 2.5x + y over 1000 floats, and a 37×53 · 53×29 tiled product: float32 rounding only
    expect(g.axpyLength).toBe(1000); // read() returns the requested size, not the pooled 4096 bytes
    expect(g.axpyMaxErr).toBeLessThan(1e-6);
    expect(g.matmulMaxRelErr).toBeLessThan(1e-6);
    // a uniform released while its dispatch still waits in the encoder is not rewritten under it
    expect(g.ordering).toEqual({ sameUniformBuffer: false, first: 2, second: 3 });
    // write() after a recorded dispatch: the dispatch sees the old contents (0+10, then +100)
    expect(g.writeOrder).toEqual([110, 220]);
    // a released buffer comes back from the pool for the next request of its size class
    expect(g.pooled).toEqual({
      reusedSameBuffer: true,
      reusedCount: 1,
      createdCount: 1,
      poolSize: 4096,
      sizeOf: 3900,
    });
    expect(g.doubleRelease).toContain("released twice");
    expect(g.pipelineCached).toBe(true);
    expect(g.bindGroupHits).toBe(1); // the second of two identical dispatches
    expect(g.submits).toBe(1); // two dispatches, one submit at sync()
    expect(g.range).toEqual(g.expectedRange);
    expect(g.copied).toEqual(g.expectedCopied);
    // 600 dispatches of acc += 1: one submit on its own at 512, the rest at the read; all in order
    expect(g.autoFlush).toEqual({ submitsBeforeRead: 1, values: [600, 600, 600, 600] });
    expect(g.badShader).toContain("WebGPU error");
    expect(g.badShader).toContain("undefined_thing");
    expect(g.badDispatch).toContain("should be an integer");
    expect(g.uniformFloat).toBe(
      "uniform: a list of numbers holds 32-bit integer words, but word 1 is 0.5; pass float parameters as bytes (a Float32Array, or an ArrayBuffer written with a DataView)",
    );
    expect(g.uniformTooBig).toContain("but word 0 is 4294967296;");
    expect(g.stats.buffersLive).toBeGreaterThan(0);
    // the device asks for the adapter's buffer and binding limits, not WebGPU's defaults (256, 128 MiB)
    const L = g.limits;
    expect(L.device.maxStorageBufferBindingSize).toBe(L.adapter.maxStorageBufferBindingSize);
    expect(L.device.maxBufferSize).toBe(L.adapter.maxBufferSize);
    expect(L.defaults).toEqual({ maxStorageBufferBindingSize: 134_217_728, maxBufferSize: 268_435_456 });
    // with the defaults, what does not fit says which limit, its value and the size needed, before any
    // GPU work (no validation error later, no silent wrong result)
    const allows = (k: string) =>
      L.adapter[k] > L.defaults[k]
        ? `; the adapter allows ${L.adapter[k]}`
        : "; that is the most this adapter allows";
    expect(L.bufferTooBig).toContain(
      `WebGPU: a buffer needs 300000000 bytes, over this device's maxBufferSize of 268435456${allows("maxBufferSize")}`,
    );
    expect(L.bindingTooBig).toContain(
      `WebGPU: a kernel's storage binding 0 needs 200000000 bytes, over this device's maxStorageBufferBindingSize of 134217728${allows("maxStorageBufferBindingSize")}`,
    );
    expect(L.bindingRange).toBe("no error");
  });
});

describe("WebGPU registry (no device needed)", () => {
  it("says how to get a device when there is none", async () => {
    expect(hasWebGPU()).toBe(false);
    expect(() => webgpuContext()).toThrow("No WebGPU device: call `await requestWebGPU()` first");
    // Node has no navigator.gpu
    await expect(requestWebGPU()).rejects.toThrow("WebGPU is unavailable: this runtime has no navigator.gpu");
    expect(() => useWebGPU({} as never)).toThrow("useWebGPU: expected a WebGPUContext or null");
  });

  it("rounds pooled sizes up to 256 bytes or a quarter step of a power of two", () => {
    expect([0, 1, 256, 257, 4000, 4096, 4097, 5121, 1_000_000].map(poolSize)).toEqual([
      256, 256, 256, 320, 4096, 4096, 5120, 6144, 1_048_576,
    ]);
  });
});
