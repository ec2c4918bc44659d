// The device-side index check of gather, scatter, scatterAdd and indexSelect with device-resident indices
// (test/webgpu/index-check.mts, in a child process: see test/webgpu/run.ts), as PyTorch's CUDA kernels
// assert: an index out of range, too large or negative, rejects the next read back (cpuAsync, itemAsync,
// ctx.sync(), a read of any tensor) with the CPU's message for it and a note that it was raised
// asynchronously; that read clears it, and valid indices never trip it. Skips without WebGPU unless
// RECURRENT_REQUIRE_WEBGPU=1.

import { describe, expect, it } from "vitest";
import { runWebGPUScript, skipUnlessWebGPU } from "./webgpu/run.js";

const ASYNC =
  /\(raised asynchronously by a device-side index check: an earlier (\w+) on the webgpu device, or its gradient, read index (-?\d+) along dimension (\d), whose valid range is \[0, (\d)\); this is the first read back since: that op's results, and those computed from them, are not valid\)$/;

/** The message's op, index, dim and size from its asynchronous note; the CPU's words before it. */
function parse(msg: string): { cpuWords: string; op: string; index: number; dim: number; size: number } {
  const m = ASYNC.exec(msg);
  expect(m, msg).not.toBeNull();
  return {
    cpuWords: msg.slice(0, m!.index - 1),
    op: m![1],
    index: Number(m![2]),
    dim: Number(m![3]),
    size: Number(m![4]),
  };
}

describe("the device-side index check on webgpu (child process)", { timeout: 120_000 }, () => {
  it("rejects the next read after an index out of range, with the CPU's message, then clears", async (ctx) => {
    const r = await runWebGPUScript("index-check.mts", [], 110_000);
    if (skipUnlessWebGPU(ctx, r) || !r.available) return;
    const cases = r.cases as Record<string, { cpu: string; gpu: unknown; after: boolean }>;
    // 7 op variants (gather, scatter with a src and with a number, scatter_add, index_select; dims 0 and
    // 1) × 4 bad indices (too large, = size, negative beyond −size, −1)
    expect(Object.keys(cases)).toHaveLength(28);
    const OP = {
      gather: "gather",
      scatter: "scatter",
      scatter_add: "scatter_add",
      index_select: "index_select",
    };
    for (const [name, c] of Object.entries(cases)) {
      const [variant, badStr] = name.split(" ");
      const bad = Number(badStr);
      const dim = variant.endsWith("dim1") ? 1 : 0;
      const size = dim === 1 ? 3 : 5;
      const op = variant.startsWith("scatter_add")
        ? OP.scatter_add
        : variant.startsWith("scatter")
          ? OP.scatter
          : variant.startsWith("gather")
            ? OP.gather
            : OP.index_select;
      // the CPU's error for the same op and index, as PyTorch's
      expect(c.cpu, name).toBe(
        op === "index_select"
          ? `INDICES element is out of DATA bounds, id=${bad} axis_dim=${size}`
          : `index ${bad} is out of bounds for dimension ${dim} with size ${size}`,
      );
      // the device's read rejects with an IndexCheckError: the CPU's words, then the asynchronous note
      expect(Array.isArray(c.gpu), `${name}: the read should reject, got ${JSON.stringify(c.gpu)}`).toBe(
        true,
      );
      const [msg, kind] = c.gpu as [string, string];
      expect(kind, name).toBe("IndexCheckError");
      const p = parse(msg);
      expect(p.cpuWords, name).toBe(op === "index_select" ? `index out of range in self: ${c.cpu}` : c.cpu);
      expect([p.op, p.index, p.dim, p.size], name).toEqual([op, bad, dim, size]);
      // the read cleared the flag: a valid op and read afterwards give the CPU's values
      expect(c.after, `${name}: a valid op after it`).toBe(true);
    }
    // an int64 and a bool source (where the out-of-range word is 0, not NaN)
    expect(parse((r.int64Source as string[])[0]).cpuWords).toBe(
      "index 3 is out of bounds for dimension 0 with size 3",
    );
    expect(parse((r.boolSource as string[])[0]).cpuWords).toBe(
      "index out of range in self: INDICES element is out of DATA bounds, id=-4 axis_dim=3",
    );
    // a target of size 0 along the dim (no target element runs the scatter): the CPU's error; the read of
    // the empty result rejects
    const empty = r.emptyTarget as { cpu: string; gpu: string[] };
    expect(empty.cpu).toBe("index 0 is out of bounds for dimension 0 with size 0");
    expect(parse(empty.gpu[0]).cpuWords).toBe(empty.cpu);
    // an indexSelect whose output is empty (size 0 along the other dim) still checks its index
    const emptySelect = r.emptySelect as { cpu: string; gpu: string[] };
    expect(emptySelect.cpu).toBe("INDICES element is out of DATA bounds, id=4 axis_dim=3");
    expect(parse(emptySelect.gpu[0]).cpuWords).toBe(`index out of range in self: ${emptySelect.cpu}`);
    // two bad ops before a read: the first to run is reported (gather's 8, not index_select's 9), by the
    // first read (of the second op's result); the next read succeeds, holding garbage (NaN) for the bad index
    const fw = r.firstWins as { first: string[]; thenFirst: (number | null)[] };
    expect(parse(fw.first[0]).cpuWords).toBe("index 8 is out of bounds for dimension 0 with size 5");
    expect(fw.thenFirst).toEqual([null, 1, 2]);
    // the other read paths: itemAsync, ctx.sync() (a second sync then resolves), a read of an unrelated tensor
    expect(parse(r.item as string).cpuWords).toBe("index 5 is out of bounds for dimension 1 with size 3");
    const sync = parse(r.sync as string);
    expect(sync.cpuWords).toBe("index -7 is out of bounds for dimension 1 with size 3");
    expect(sync.op).toBe("scatter_add");
    expect(r.syncAfter).toBe("resolved");
    // clipGradNormAsync_'s read of the norm rejects; the next one resolves, with the norm of the gradient
    // (6, 8) as the first call clipped it on the device (to 1) before its read
    const clip = r.clip as { rejected: string; norm: number };
    expect(parse(clip.rejected).cpuWords).toBe("index 11 is out of bounds for dimension 0 with size 5");
    expect(clip.norm).toBeCloseTo(1, 5);
    expect(parse((r.unrelated as string[])[0]).cpuWords).toBe(
      "index out of range in self: INDICES element is out of DATA bounds, id=6 axis_dim=5",
    );
    // the gradients' kernels check too: the forward's read rejects, then the gradient's read again
    const grads = r.grads as { forward: string[]; backward: string[]; valid: boolean };
    expect(parse(grads.forward[0]).cpuWords).toBe("index 6 is out of bounds for dimension 0 with size 5");
    expect(parse(grads.backward[0]).cpuWords).toBe("index 6 is out of bounds for dimension 0 with size 5");
    expect(grads.valid).toBe(true);
    // valid indices at the edges (0 and size − 1), thousands of them: no rejection, the CPU's values
    expect(r.edges).toEqual({ gather: true, indexSelect: true, scatterAdd: true });
  });
});
