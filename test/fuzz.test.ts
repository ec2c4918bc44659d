// The fuzz harness's short run for CI (`npm run fuzz` runs 100,000 cases on demand): mutated
// checkpoints (LSTM, GRU, RNN, hybrid and ETS) and CSV files through `recurrent forecast`, `evaluate` and
// `train --resume`, with no crash, no raw JavaScript error, no non-finite number printed, no case over
// 10 s of CPU and no case that grows the process by more than 512 MB. A few hundred cases in this
// process (a few seconds of CPU): the fixtures are read once, and each case calls the command's `main`.

import { rmSync } from "node:fs";
import { afterAll, describe, expect, it } from "vitest";
import { type CaseResult, caseRoot, loadBases, makeCase, runCase } from "./fuzz/harness.js";

const dir = caseRoot("recurrent-fuzz-ci-");
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("fuzz: the whole forecast / evaluate / train --resume path", () => {
  it("finds no crash, raw error, non-finite output, slow case or memory growth in 500 cases", async () => {
    const bases = loadBases();
    const counts: Record<string, number> = {};
    const findings: string[] = [];
    const names: string[] = [];
    const rss0 = process.memoryUsage().rss;
    const t0 = performance.now();
    const cpu0 = process.cpuUsage();
    const N = 500;
    for (let i = 0; i < N; i++) {
      const c = makeCase(bases, 7, i);
      names.push(c.mutation.split(";")[0]);
      const r: CaseResult = await runCase(c, dir);
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
    const cpu = process.cpuUsage(cpu0);
    console.log(
      `fuzz (CI): ${N} cases in ${seconds.toFixed(1)} s (${((cpu.user + cpu.system) / 1e6).toFixed(1)} s of CPU): ${JSON.stringify(counts)}`,
    );
    expect(findings).toEqual([]);
    // the mutations reach both sides: some cases succeed, most are refused with a clear message; and
    // every family of checkpoint is among them
    expect(counts.ok).toBeGreaterThan(N / 10);
    expect(counts.error).toBeGreaterThan(N / 2);
    expect(new Set(names)).toEqual(new Set(bases.map((b) => b.name)));
  }, 60_000);
});
