// `recurrent sine` through the real command: the notes' log lines, the JSON figures, the chart files,
// reproducibility by seed, and usage errors.

import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const ROOT = join(import.meta.dirname, "..");
function recurrent(args: string[]) {
  const r = spawnSync(process.execPath, ["--import", "tsx", join(ROOT, "src/node/cli/bin.ts"), ...args], {
    cwd: ROOT,
    encoding: "utf8",
    timeout: 120_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe("recurrent sine", () => {
  const dir = mkdtempSync(join(tmpdir(), "recurrent-sine-"));

  it("prints the notes' log lines and a summary, and writes the chart", () => {
    const r = recurrent(["sine", "--iters", "300", "--out", join(dir, "a")]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const iterLines = r.stdout.split("\n").filter((l) => l.startsWith("Iteration: "));
    expect(iterLines.map((l) => l.split(" loss ")[0])).toEqual([
      "Iteration: 0",
      "Iteration: 100",
      "Iteration: 200",
    ]);
    for (const l of iterLines) expect(Number(l.split(" loss ")[1])).toBeGreaterThan(0);
    expect(r.stdout).toContain("notes' predict:");
    expect(r.stdout).toContain("context predict:");
    expect(existsSync(join(dir, "a.svg"))).toBe(true);
    const png = readFileSync(join(dir, "a.png"));
    expect(png.subarray(1, 4).toString()).toBe("PNG");
  });

  it("--json gives the figures; the same seed gives the same numbers, another seed others", () => {
    const run = (seed: number) => {
      const r = recurrent(["sine", "--iters", "200", "--seed", String(seed), "--json", "--no-chart"]);
      expect(r.code).toBe(0);
      return JSON.parse(r.stdout);
    };
    const a = run(3);
    const b = run(3);
    const c = run(4);
    for (const k of [
      "train_seconds",
      "final_loss",
      "mean_loss_last100",
      "notes_predict_mse",
      "context_predict_mse",
    ]) {
      expect(typeof a[k]).toBe("number");
    }
    expect(a.final_loss).toBe(b.final_loss);
    expect(a.notes_predict_mse).toBe(b.notes_predict_mse);
    expect(a.final_loss).not.toBe(c.final_loss);
    // 200 iterations already bring the loss well below the variance of sin (0.5)
    expect(a.mean_loss_last100).toBeLessThan(0.1);
  });

  it("trains every cell type, with clipping", () => {
    for (const cell of ["lstm", "gru"]) {
      const r = recurrent(["sine", "--cell", cell, "--iters", "150", "--clip", "1", "--json", "--no-chart"]);
      expect(r.code).toBe(0);
      expect(JSON.parse(r.stdout).cell).toBe(cell);
    }
  });

  it("usage errors exit with code 2 and say what was expected", () => {
    const bad = recurrent(["sine", "--hidden", "abc"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("--hidden expects a positive integer, got 'abc'");
    const cell = recurrent(["sine", "--cell", "transformer"]);
    expect(cell.code).toBe(2);
    expect(cell.stderr).toMatch(/Allowed choices are rnn, lstm, gru/);
    const unknown = recurrent(["sine", "--bogus"]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/unknown option '--bogus'/);
    const ctx = recurrent(["sine", "--context", "60", "--iters", "10"]);
    expect(ctx.code).toBe(2);
    expect(ctx.stderr).toMatch(
      /--context must be an integer in \[1, 48\] \(the window has 49 inputs\), got 60/,
    );
    expect(ctx.stderr).not.toMatch(/\n\s+at /); // no stack trace
  });
});
