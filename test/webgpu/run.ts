// Runs a WebGPU check script (test/webgpu/*.mts) in a child Node process and returns the JSON it prints.
// Dawn's Node binding crashes when a vitest worker thread that loaded it ends, so GPU code never runs in
// the test worker itself. A script prints one JSON line: {"available": false, "reason": "..."} where this
// machine has no WebGPU (no `webgpu` package, no adapter, no SwiftShader), else its results.
//
// In a test: `const r = await runWebGPUScript("context-check.mts"); if (skipUnlessWebGPU(ctx, r)) return;`
// Where RECURRENT_REQUIRE_WEBGPU=1 (CI), an unavailable device fails the test instead of skipping it.

import { spawn } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const HERE = dirname(fileURLToPath(import.meta.url));

export type WebGPUScriptResult =
  | { available: false; reason: string }
  | ({ available: true } & Record<string, unknown>);

/** Runs test/webgpu/<script> under tsx; rejects with its stderr when it fails or prints no JSON. */
export function runWebGPUScript(
  script: string,
  args: string[] = [],
  timeoutMs = 120_000,
): Promise<WebGPUScriptResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", join(HERE, script), ...args], {
      cwd: join(HERE, "..", ".."),
      stdio: ["ignore", "pipe", "pipe"],
      env: process.env,
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on("data", (d: Buffer) => {
      stderr += d.toString();
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("error", reject);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      const line = stdout.trim().split("\n").pop() ?? "";
      let parsed: WebGPUScriptResult | null = null;
      try {
        parsed = JSON.parse(line) as WebGPUScriptResult;
      } catch {
        parsed = null;
      }
      if (code !== 0 || parsed === null) {
        const how = signal !== null ? `signal ${signal}` : `exit code ${code}`;
        reject(
          new Error(
            `${script} ended with ${how}\nstdout:\n${stdout.slice(-4000)}\nstderr:\n${stderr.slice(-4000)}`,
          ),
        );
        return;
      }
      resolve(parsed);
    });
  });
}

/**
 * True (and the test skipped, with the reason) when the script found no WebGPU; fails the test instead
 * where RECURRENT_REQUIRE_WEBGPU=1.
 */
export function skipUnlessWebGPU(ctx: { skip: (note?: string) => void }, r: WebGPUScriptResult): boolean {
  if (r.available) return false;
  if (process.env.RECURRENT_REQUIRE_WEBGPU === "1") {
    throw new Error(`WebGPU is unavailable but RECURRENT_REQUIRE_WEBGPU=1: ${r.reason}`);
  }
  ctx.skip(`WebGPU unavailable: ${r.reason}`);
  return true;
}
