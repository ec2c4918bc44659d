// src/node/relaxed-simd.ts: importing the Node entry turns on the kernels' fused multiply-add build on
// Node 20 (V8 flag set before the kernels compile), and RECURRENT_WASM_RELAXED=0 leaves the plain one.
// Each case runs in a child process: a V8 flag is process-wide and would leak into other test files.

import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const ROOT = join(import.meta.dirname, "..");
const NODE_MAJOR = Number(process.versions.node.split(".")[0]);

/** The kernel build a fresh process picks after importing the Node entry. */
function buildAfterNodeEntry(env: Record<string, string>): string {
  const script = `import("./src/node/index.ts").then(async () => {
    const { getKernels } = await import("./src/kernels/backend.ts");
    console.log(getKernels().detail);
  });`;
  const r = spawnSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
    cwd: ROOT,
    encoding: "utf8",
    env: { ...process.env, RECURRENT_BACKEND: "", ...env },
    timeout: 60_000,
  });
  expect(r.status, r.stderr).toBe(0);
  return r.stdout.trim().split("\n").pop()!;
}

describe("relaxed SIMD from the Node entry", () => {
  it("the kernels run the fused multiply-add build after importing recurrent/node", () => {
    expect(buildAfterNodeEntry({})).toBe("wasm-relaxed-simd");
  });

  it.runIf(NODE_MAJOR === 20)("RECURRENT_WASM_RELAXED=0 keeps Node 20 on the plain SIMD build", () => {
    expect(buildAfterNodeEntry({ RECURRENT_WASM_RELAXED: "0" })).toBe("wasm-simd");
  });
});
