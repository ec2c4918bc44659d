// The fuzz harness's short run for CI (`npm run fuzz` runs 100,000 cases on demand): mutated
// checkpoints and CSV files through `recurrent forecast`, `evaluate` and `train --resume`, with no crash,
// no raw JavaScript error, no non-finite number printed, no case over 10 s of CPU and no case that grows the
// process by more than 512 MB.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { type CaseResult, loadBases, makeCase, runCase } from "./fuzz/harness.js";

const dir = mkdtempSync(join(tmpdir(), "recurrent-fuzz-ci-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("fuzz: the whole forecast / evaluate / train --resume path", () => {
  it("finds no crash, raw error, non-finite output, slow case or memory growth in 2000 cases", async () => {
    const bases = loadBases();
    const counts: Record<string, number> = {};
    const findings: string[] = [];
    const rss0 = process.memoryUsage().rss;
    const t0 = performance.now();
    const N = 2000;
    for (let i = 0; i < N; i++) {
      const c = makeCase(bases, 7, i);
      const r: CaseResult = await runCase(c, join(dir, String(i % 4)));
      let outcome: string = r.outcome;
      // CPU time: the machine's other load stretches wall time (a 95,757-step forecast is legitimately
      // a few seconds of work); a hang would still exceed the test's own timeout
      if (r.cpuMs > 10_000) outcome = "slow";
      if (process.memoryUsage().rss - rss0 > 512 * 2 ** 20) outcome = "memory";
      counts[outcome] = (counts[outcome] ?? 0) + 1;
      if (outcome !== "ok" && outcome !== "error")
        findings.push(`#${i} ${outcome} [${c.mutation}] ${c.args.join(" ")}: ${r.detail}`);
    }
    const seconds = (performance.now() - t0) / 1000;
    console.log(`fuzz (CI): ${N} cases in ${seconds.toFixed(1)} s: ${JSON.stringify(counts)}`);
    expect(findings).toEqual([]);
    // the mutations reach both sides: some cases succeed, most are refused with a clear message
    expect(counts.ok).toBeGreaterThan(N / 10);
    expect(counts.error).toBeGreaterThan(N / 2);
  }, 180_000);
});
