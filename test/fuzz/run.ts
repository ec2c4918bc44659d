// `npm run fuzz [-- --cases N --seed S --from I --workers W --time-ms T --mem-mb M --verbose --lstm-only]`:
// runs fuzz cases (harness.ts) in worker threads, each case a call of the command's `main` inside the
// worker (no process is spawned; the fixtures are read once per worker), under a time bound (the worker is stopped
// and the case recorded as "slow" past it) and a memory bound (the worker's heap is capped, and the
// process's resident memory is watched). Prints counts by outcome and every finding with its replay
// command. The bases are the LSTM, GRU and RNN fixtures and the hybrid and ETS ones (scripts/
// fuzz-fixtures.ts); --lstm-only keeps the first three, as the harness had them first.
//
// Default: 100,000 cases from seed 1 on 2 workers, 10 s of CPU (60 s of wall time) and 1024 MB per case.
// On a shared machine, run it with `nice`.

import { createRequire } from "node:module";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";
import { caseRoot, loadBases, makeCase } from "./harness.js";

const argv = process.argv.slice(2);
const opt = (name: string, dflt: number): number => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? Number(argv[i + 1]) : dflt;
};
const cases = opt("cases", 100_000);
const seed = opt("seed", 1);
const from = opt("from", 0);
const workers = opt("workers", 2);
const timeMs = opt("time-ms", 10_000);
const memMb = opt("mem-mb", 1024);
const verbose = argv.includes("--verbose");
// the hybrid and ETS checkpoints are fuzzed too unless --lstm-only (the recurrent fixtures alone, as the
// harness had them first); --families, their earlier switch, is accepted
const families = !argv.includes("--lstm-only");

const bases = loadBases(families);
const here = import.meta.url;
const tsxApi = pathToFileURL(
  createRequire(here)
    .resolve("tsx/esm/api")
    .replace(/\.cjs$/, ".mjs"),
).href;
const workerEntry = new URL("./worker.ts", here).href;
const source = `import(${JSON.stringify(tsxApi)}).then((api) => api.tsImport(${JSON.stringify(workerEntry)}, ${JSON.stringify(here)}))`;

interface Finding {
  index: number;
  outcome: string;
  detail: string;
  mutation: string;
  args: string;
}

const counts: Record<string, number> = {};
const findings: Finding[] = [];
let done = 0;
let next = from;
const end = from + cases;
const t0 = Date.now();
let maxMs = 0;
let maxRss = 0;
const root = caseRoot("recurrent-fuzz-");

function record(outcome: string, f?: Omit<Finding, "outcome">) {
  counts[outcome] = (counts[outcome] ?? 0) + 1;
  done++;
  if (f && outcome !== "ok" && outcome !== "error") {
    findings.push({ outcome, ...f });
    process.stderr.write(
      `finding #${f.index}: ${outcome} [${f.mutation}] ${f.args}\n  ${f.detail.slice(0, 300)}\n`,
    );
  }
  if (done % 1000 === 0) {
    const s = (Date.now() - t0) / 1000;
    process.stderr.write(
      `${done}/${cases} cases in ${s.toFixed(0)} s: ${JSON.stringify(counts)}; slowest ${maxMs.toFixed(0)} ms; peak rss ${(maxRss / 2 ** 20).toFixed(0)} MB\n`,
    );
  }
}

function startWorker(id: number): Promise<void> {
  return new Promise((resolve) => {
    if (next >= end) {
      resolve();
      return;
    }
    const w = new Worker(source, {
      eval: true,
      workerData: { seed, families, dir: join(root, `w${id}`) },
      resourceLimits: { maxOldGenerationSizeMb: memMb },
    });
    let current = -1;
    let started = 0;
    let finished = false;
    const stop = (outcome: string, detail: string) => {
      if (finished) return;
      finished = true;
      clearInterval(watch);
      if (current >= 0) {
        // the case the worker was running (its own report never came)
        const c = makeCase(bases, seed, current);
        record(outcome, { index: current, detail, mutation: c.mutation, args: c.args.join(" ") });
      }
      void w.terminate();
      startWorker(id).then(resolve);
    };
    const watch = setInterval(() => {
      const rss = process.memoryUsage().rss;
      maxRss = Math.max(maxRss, rss);
      // the watchdog (wall time, for a real hang) allows for a loaded machine; finished cases are
      // judged by their CPU time
      if (current >= 0 && Date.now() - started > 6 * timeMs)
        stop("slow", `over ${6 * timeMs} ms of wall time`);
      else if (current >= 0 && rss > (memMb + 512) * 2 ** 20)
        stop("memory", `rss ${(rss / 2 ** 20).toFixed(0)} MB`);
    }, 50);
    const feed = () => {
      if (next >= end) {
        finished = true;
        clearInterval(watch);
        void w.terminate();
        resolve();
        return;
      }
      current = next++;
      started = Date.now();
      w.postMessage(current);
    };
    w.on(
      "message",
      (m: {
        ready?: boolean;
        index: number;
        outcome: string;
        ms: number;
        cpuMs: number;
        detail: string;
        mutation: string;
        args: string;
      }) => {
        if (m.ready) {
          feed();
          return;
        }
        maxMs = Math.max(maxMs, m.ms);
        const outcome = m.cpuMs > timeMs ? "slow" : m.outcome;
        if (verbose)
          process.stderr.write(
            `#${m.index} ${outcome} ${m.ms.toFixed(0)} ms [${m.mutation}] ${m.args}\n  ${m.detail}\n`,
          );
        record(outcome, { index: m.index, detail: m.detail, mutation: m.mutation, args: m.args });
        current = -1;
        feed();
      },
    );
    w.on("error", (e) => stop(/memory/i.test(String(e)) ? "memory" : "crash", String(e)));
    w.on("exit", () => {
      if (!finished) stop("crash", "the worker exited");
    });
  });
}

await Promise.all(Array.from({ length: workers }, (_, i) => startWorker(i)));
rmSync(root, { recursive: true, force: true });
const seconds = (Date.now() - t0) / 1000;
process.stdout.write(
  `fuzz: ${done} cases (seed ${seed}, from ${from}) in ${seconds.toFixed(0)} s on ${workers} worker(s); bounds ${timeMs} ms and ${memMb} MB per case\n` +
    `outcomes: ${Object.entries(counts)
      .map(([k, v]) => `${k} ${v}`)
      .join(
        ", ",
      )}; slowest case ${maxMs.toFixed(0)} ms; peak resident memory ${(maxRss / 2 ** 20).toFixed(0)} MB\n`,
);
for (const f of findings.slice(0, 50)) {
  process.stdout.write(
    `finding #${f.index}: ${f.outcome} [${f.mutation}] ${f.args}\n  ${f.detail.split("\n").slice(0, 3).join("\n  ")}\n  replay: npm run fuzz -- --seed ${seed} --from ${f.index} --cases 1 --verbose${families ? "" : " --lstm-only"}\n`,
  );
}
process.exitCode = findings.length > 0 ? 1 : 0;
