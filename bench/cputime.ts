// W2, W6 and W5 side by side, for a machine shared with other work, where wall-clock medians measure
// the neighbours: each training step is timed by the CPU time its process used (ours: process.cpuUsage,
// user + system; PyTorch's: time.process_time in bench/peers/torch_bench.py) and by the wall clock, one
// thread on each side (OpenBLAS pinned to one thread there). Ours and PyTorch's run alternately, each in
// a fresh process, `--rounds` times, so that both see the same load. Prints the median CPU and wall
// milliseconds per step of each side, and the ratio recurrent/PyTorch of each round (medians of the
// round's steps) with the median and range of those ratios. CPU time still grows under load: shared
// caches and memory bandwidth, and on a virtual machine other tenants on the host. On the 2-core VM of
// 2026-12-06 a 1024³ product drifted between 19 and 34 GFLOP/s in phases of tens of seconds, with no
// steal time shown, while an FMA loop in registers held its rate. So read the per-round ratios: each
// pairs two runs taken a minute apart.
//
//   npx tsx bench/cputime.ts [--only w2,w6,w5] [--rounds 3] [--steps 8] [--seq T] [--both-threads N]
//   npx tsx bench/cputime.ts --child w6 --steps 8 [--threads N]   (one side of ours: one JSON line)
//
// W5 (LSTM(64→512, 2 layers), B 256, T 100) is not in the default list: about a minute a round. It runs
// 2 steps a side unless --steps is given; --seq shortens its sequence.
//
// --both-threads N runs both sides on N threads (ours: the pool; PyTorch: torch.set_num_threads and
// OpenBLAS's threads), for "on the same cores" comparisons: read the wall-clock ratios then, CPU time
// counting every thread.
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
import { w5Setup, w5Step } from "./w5.js";
import { type OnStep, w2, w6 } from "./workloads.js";

const args = process.argv.slice(2);
const opt = (name: string, dflt: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
};
const stepsFor = (w: string) => Number(opt("steps", w === "w5" ? "2" : "8"));
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
  const steps = stepsFor(workload);
  if (workload === "w5") {
    // no warm-up steps: each W5 step is seconds long, as in bench/w5.ts and torch_bench.py w5
    const wall = w5Steps(steps, Number(opt("seq", "100")), onStep);
    console.log(JSON.stringify({ runs: wall, cpu_runs: cpu }));
  } else {
    const wall = workload === "w2" ? w2(steps, onStep) : w6(steps, onStep);
    console.log(JSON.stringify({ runs: wall, cpu_runs: cpu.slice(2) }));
  }
  shutdownPool();
}

/** W5's training steps as bench/w5.ts runs them (ms each), with the CPU clock read around each. */
function w5Steps(steps: number, T: number, onStep: OnStep): number[] {
  const setup = w5Setup(T);
  const times: number[] = [];
  for (let i = 0; i < steps; i++) {
    onStep("start");
    const t0 = performance.now();
    w5Step(setup);
    times.push(performance.now() - t0);
    onStep("end");
  }
  return times;
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
    if (w !== "w2" && w !== "w6" && w !== "w5")
      throw new Error(`--only: expected some of w2, w6, w5, got ${JSON.stringify(w)}`);
    const steps = stepsFor(w);
    const both = opt("both-threads", "1");
    const seqArgs = w === "w5" && args.includes("--seq") ? ["--seq", opt("seq", "100")] : [];
    const ratios: { cpu: number; wall: number }[] = [];
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
        "--threads",
        both,
        ...seqArgs,
      ]);
      const b = run("/usr/bin/python3", [
        join(import.meta.dirname, "peers", "torch_bench.py"),
        w,
        "--threads",
        both,
        "--steps",
        String(steps),
        ...seqArgs,
      ]);
      ratios.push({
        cpu: median(a.cpu_runs) / median(b.cpu_runs),
        wall: median(a.runs) / median(b.runs),
      });
      console.log(
        `  ${w} round ${r + 1}: recurrent ${median(a.cpu_runs).toFixed(1)} ms CPU (wall ${median(a.runs).toFixed(1)}), PyTorch ${median(b.cpu_runs).toFixed(1)} (wall ${median(b.runs).toFixed(1)}): ${ratios[r].cpu.toFixed(2)}× in CPU time, ${ratios[r].wall.toFixed(2)}× wall`,
      );
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
      `${w}: recurrent ${oc.toFixed(1)} ms CPU/step (wall ${median(ours.runs).toFixed(1)}), PyTorch ${tc.toFixed(1)} ms CPU/step (wall ${median(theirs.runs).toFixed(1)}); recurrent/PyTorch in CPU time ${(oc / tc).toFixed(2)}× (${rounds} rounds × ${steps} steps each side, ${both === "1" ? "one thread" : `${both} threads`})`,
    );
    const rc = ratios.map((x) => x.cpu);
    const rw = ratios.map((x) => x.wall);
    console.log(
      `${w}: per-round recurrent/PyTorch, median ${median(rc).toFixed(2)}× in CPU time (${Math.min(...rc).toFixed(2)}–${Math.max(...rc).toFixed(2)}), ${median(rw).toFixed(2)}× wall (${Math.min(...rw).toFixed(2)}–${Math.max(...rw).toFixed(2)}); above 1: recurrent slower`,
    );
  }
}

const ci = args.indexOf("--child");
if (ci >= 0) child(args[ci + 1]);
else main();
