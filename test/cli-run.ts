// Runs the `recurrent` command in this process (src/node/cli/main.ts), capturing what it writes: the
// CLI test files share this one runner.

import { spawn } from "node:child_process";
import { join } from "node:path";
import { vi } from "vitest";
import { main } from "../src/node/cli/main.js";

const ROOT = join(import.meta.dirname, "..");

export interface Run {
  code: number | null; // null: a child process ended by a signal (for runners that share this type)
  stdout: string;
  stderr: string;
}

/** `recurrent ...args`: its exit code and everything it wrote to stdout and stderr. */
export async function runCli(args: string[]): Promise<Run> {
  let stdout = "";
  let stderr = "";
  const o = vi.spyOn(process.stdout, "write").mockImplementation((s: string | Uint8Array) => {
    stdout += String(s);
    return true;
  });
  const e = vi.spyOn(process.stderr, "write").mockImplementation((s: string | Uint8Array) => {
    stderr += String(s);
    return true;
  });
  try {
    return { code: await main(args), stdout, stderr };
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
}

/**
 * Runs `command ...args` in a child process from the repository root: its exit code and everything it
 * wrote; `onStderr` sees all of stderr so far after each write and may send the child a signal.
 */
export function spawnCollect(
  command: string,
  args: string[],
  onStderr?: (text: string, kill: (sig: NodeJS.Signals) => void) => void,
): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => {
      stdout += d;
    });
    child.stderr.on("data", (d) => {
      stderr += d;
      onStderr?.(stderr, (sig) => child.kill(sig));
    });
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

/** Runs the real `recurrent` executable in a child process (Ctrl-C is `kill("SIGINT")`). */
export function spawnRun(
  args: string[],
  onStderr?: (text: string, kill: (sig: NodeJS.Signals) => void) => void,
): Promise<Run> {
  return spawnCollect(
    process.execPath,
    ["--import", "tsx", join(ROOT, "src/node/cli/bin.ts"), ...args],
    onStderr,
  );
}
