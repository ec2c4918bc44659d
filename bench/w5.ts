// W5: one training step of a wide, deep LSTM, LSTM(64→512, 2 layers), batch 256, seq 100, Linear on every
// step, Adam: the compute-bound recurrent workload (3.29 M parameters; per time step a (256 × 576) ×
// (576 × 2048) product in layer 1 and a (256 × 1024) × (1024 × 2048) one in layer 2 forward, twice that
// backward). The PyTorch side is `torch_bench.py w5`, the same
// work measured the same way.
//
// Run as a child of bench/run.ts, in a fresh process, so that its peak resident set is its own:
//
//   node --import tsx bench/w5.ts [--threads N] [--steps N] [--seq T]
//
// Prints one JSON line: the milliseconds of each step, the resident set after start-up (runtime, library
// and wasm kernels loaded: the baseline) and the peak resident set over the steps (VmHWM, reset to the
// baseline first where the kernel allows it), in KiB. Linux only (/proc/self/status).

import { readFileSync, writeFileSync } from "node:fs";
import { backendName, setNumThreads } from "../src/kernels/backend.js";
import "../src/node/threads.js";
import { manualSeed, randn } from "../src/index.js";
import { Linear } from "../src/nn/linear.js";
import { mseLoss } from "../src/nn/loss.js";
import { LSTM } from "../src/nn/rnn.js";
import { Adam } from "../src/optim/adam.js";

/** W5's sizes: input, hidden, layers, batch, seq. */
export const W5 = { I: 64, H: 512, L: 2, B: 256, T: 100 } as const;

/** W5's model, optimizer and data (seq T, W5.T unless given). */
export function w5Setup(T: number = W5.T) {
  manualSeed(0);
  const lstm = new LSTM(W5.I, W5.H, { numLayers: W5.L });
  const head = new Linear(W5.H, 1);
  const opt = new Adam([...lstm.parameters(), ...head.parameters()], { lr: 1e-3 });
  const x = randn(T, W5.B, W5.I); // (T, B, I)
  const y = randn(T, W5.B, 1); // (T, B, 1)
  return { lstm, head, opt, x, y };
}

/** VmRSS and VmHWM of this process, in KiB. */
function status(): { rss: number; hwm: number } {
  const s = readFileSync("/proc/self/status", "utf8");
  const kib = (field: string) =>
    Number(new RegExp(`^${field}:\\s*(\\d+) kB`, "m").exec(s)?.[1] ?? Number.NaN);
  return { rss: kib("VmRSS"), hwm: kib("VmHWM") };
}

/** One W5 training step on a w5Setup; returns the loss. */
export function w5Step({ lstm, head, opt, x, y }: ReturnType<typeof w5Setup>) {
  const [out] = lstm.forward(x);
  const l = mseLoss(head.forward(out), y);
  opt.zeroGrad();
  l.backward();
  opt.step();
  return l;
}

function main(): void {
  const args = process.argv.slice(2);
  const arg = (name: string, dflt: number) => {
    const i = args.indexOf(`--${name}`);
    return i >= 0 ? Number(args[i + 1]) : dflt;
  };
  const threads = arg("threads", 1);
  const steps = arg("steps", 2);
  const T = arg("seq", W5.T);
  setNumThreads(threads);
  const backend = backendName(); // compiles the wasm kernels: part of the loaded runtime
  const baseline = status();
  let hwmReset = true;
  try {
    writeFileSync("/proc/self/clear_refs", "5");
  } catch {
    hwmReset = false;
  }
  const setup = w5Setup(T);
  const runs: number[] = [];
  const peaks: number[] = [];
  let loss = 0;
  for (let i = 0; i < steps; i++) {
    const t0 = performance.now();
    const l = w5Step(setup);
    runs.push(performance.now() - t0);
    loss = l.item();
    peaks.push(status().hwm);
  }
  const end = status();
  console.log(
    JSON.stringify({
      workload: "w5",
      threads,
      steps,
      seq: T,
      backend,
      node: process.version,
      unit: "ms/step",
      runs,
      baseline_kib: baseline.rss,
      peak_kib: end.hwm,
      peak_per_step_kib: peaks,
      end_rss_kib: end.rss,
      hwm_reset: hwmReset,
      final_loss: loss,
    }),
  );
  process.exit(0); // the pool's workers are unref'd, but do not wait for anything else either
}

if (import.meta.url === `file://${process.argv[1]}`) main();
