// Runs the `recurrent` command in this process (src/node/cli/main.ts), capturing what it writes: the
// CLI test files share this one runner.

import { vi } from "vitest";
import { main } from "../src/node/cli/main.js";

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
