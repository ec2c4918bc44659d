// `tsx bench/threads.ts [--runs=N]`: our W2 (LSTM training step) and W4 (1024³ matmul) at 1 and 2 threads
// (src/kernels/pool.ts; W4 as GFLOP/s, higher is better), interleaved so a loaded machine hurts both alike; prints medians and the speed-up.
// `threadsRows(runs)` gives the same numbers for bench/run.ts.

import { setNumThreads, shutdownPool } from "../src/kernels/backend.js";
import "../src/node/threads.js";
import { w2, w4 } from "./workloads.js";

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

export interface ThreadsRow {
  workload: string;
  unit: string;
  one: number; // median at 1 thread
  two: number; // median at 2 threads
}

/** Medians of W2 (ms per step) and W4 (GFLOP/s) at 1 and 2 threads, `runs` rounds each. */
export function threadsRows(runs: number): ThreadsRow[] {
  const t: Record<string, number[]> = { w2_1: [], w2_2: [], w4_1: [], w4_2: [] };
  for (let r = 0; r < runs; r++) {
    for (const n of [1, 2]) {
      setNumThreads(n);
      t[`w2_${n}`].push(median(w2(5)));
      t[`w4_${n}`].push(w4(1024, 3));
    }
  }
  shutdownPool();
  return [
    {
      workload: "W2 LSTM(8->128, 2 layers) b32 s50 train step",
      unit: "ms",
      one: median(t.w2_1),
      two: median(t.w2_2),
    },
    { workload: "W4 matmul 1024^3", unit: "GFLOP/s", one: median(t.w4_1), two: median(t.w4_2) },
  ];
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const runs = Number(process.argv.find((a) => a.startsWith("--runs="))?.slice(7) ?? 3);
  for (const r of threadsRows(runs)) {
    console.log(
      `${r.workload}: 1 thread ${r.one.toFixed(1)} ${r.unit}, 2 threads ${r.two.toFixed(1)} ${r.unit}, ×${(r.unit === "ms" ? r.one / r.two : r.two / r.one).toFixed(2)} faster`,
    );
  }
}
