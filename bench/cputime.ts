// W2 and W6 side by side in CPU time, for a machine shared with other work, where wall-clock medians
// measure the neighbours: each training step is timed by the CPU time its process used (ours:
// process.cpuUsage, user + system; PyTorch's: time.process_time in bench/peers/torch_bench.py), one thread
// on each side (OpenBLAS pinned to one thread there). Ours and PyTorch's run alternately, each in a fresh
// process, `--rounds` times, so that both see the same load; prints the median CPU and wall milliseconds
// per step of each side and the CPU-time ratio. CPU time still grows under load (shared caches and memory
// bandwidth), so ratios are the figures to read, and a quiet machine's wall-clock table (`npm run bench`)
// is the one to quote.
//
//   npx tsx bench/cputime.ts [--only w2,w6] [--rounds 3] [--steps 8]
//   npx tsx bench/cputime.ts --child w6 --steps 8 [--threads N]   (one side of ours: one JSON line)
//
// With --threads N the child's CPU time is that of all its threads together: against --threads 1 it says
// what splitting a step across the pool costs in extra work (copies, hand-offs, smaller products), which a
// loaded machine cannot show by wall-clock speed-ups.

import { execFileSync } from "node:child_process";
import { join } from "node:path";
import "../src/node/relaxed-simd.js"; // as the Node entry runs the kernels
import { setNumThreads, shutdownPool } from "../src/kernels/backend.js";
import "../src/node/threads.js"; // the worker platform, for --threads
import { machineInfo, machineLine } from "./machine.js";
import { w2, w6 } from "./workloads.js";

const args = process.argv.slice(2);
const opt = (name: string, dflt: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
};
const steps = Number(opt("steps", "8"));
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

interface Side {
  runs: number[]; // wall ms per step
  cpu_runs: number[]; // CPU ms per step
}

function child(workload: string): void {
  setNumThreads(Number(opt("threads", "1")));
  const cpu: number[] = [];
  let c0 = 0;
  const onStep = (phase: "start" | "end") => {
    const u = process.cpuUsage();
    const now = (u.user + u.system) / 1000;
    if (phase === "start") c0 = now;
    else cpu.push(now - c0);
  };
  const wall = workload === "w2" ? w2(steps, onStep) : w6(steps, onStep);
  console.log(JSON.stringify({ runs: wall, cpu_runs: cpu.slice(2) }));
  shutdownPool();
}

function run(cmd: string, cmdArgs: string[]): Side {
  const out = execFileSync(cmd, cmdArgs, { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] });
  return JSON.parse(out.trim().split("\n").pop()!) as Side;
}

function main(): void {
  const only = opt("only", "w2,w6").split(",");
  const rounds = Number(opt("rounds", "3"));
  console.log(machineLine(machineInfo()));
  for (const w of only) {
    if (w !== "w2" && w !== "w6") throw new Error(`--only: expected w2 and/or w6, got ${JSON.stringify(w)}`);
    const ours: Side = { runs: [], cpu_runs: [] };
    const theirs: Side = { runs: [], cpu_runs: [] };
    for (let r = 0; r < rounds; r++) {
      const a = run(process.execPath, [
        "--import",
        "tsx",
        import.meta.filename,
        "--child",
        w,
        "--steps",
        String(steps),
      ]);
      const b = run("/usr/bin/python3", [
        join(import.meta.dirname, "peers", "torch_bench.py"),
        w,
        "--threads",
        "1",
        "--steps",
        String(steps),
      ]);
      for (const [dst, src] of [
        [ours, a],
        [theirs, b],
      ] as const) {
        dst.runs.push(...src.runs);
        dst.cpu_runs.push(...src.cpu_runs);
      }
    }
    const oc = median(ours.cpu_runs);
    const tc = median(theirs.cpu_runs);
    console.log(
      `${w}: recurrent ${oc.toFixed(1)} ms CPU/step (wall ${median(ours.runs).toFixed(1)}), PyTorch ${tc.toFixed(1)} ms CPU/step (wall ${median(theirs.runs).toFixed(1)}); recurrent/PyTorch in CPU time ${(oc / tc).toFixed(2)}× (${rounds} rounds × ${steps} steps each side, one thread)`,
    );
  }
}

const ci = args.indexOf("--child");
if (ci >= 0) child(args[ci + 1]);
else main();
