// Peak memory of W2 (see bench/workloads.ts) in a fresh process: the resident set of the bare runtime with
// the library loaded and its kernels compiled (the baseline), then the peak resident set over `--steps`
// training steps of the same model, data and optimizer as w2. The PyTorch side is
// `torch_bench.py w2 --memory`, measured the same way. bench/run.ts starts this as a child; prints one JSON
// line, sizes in KiB.
//
//   node --import tsx bench/memory.ts [--threads N] [--steps N]
//
// Linux only (/proc/self/status). The peak high-water mark is reset to the current resident set at the
// baseline (writing 5 to /proc/self/clear_refs), so start-up transients do not count as the work's peak;
// where the kernel refuses that, the peak is the process's whole-life peak and `hwm_reset` is false.

import { readFileSync, writeFileSync } from "node:fs";
import { backendName, setNumThreads } from "../src/kernels/backend.js";
import "../src/node/threads.js";
import { mseLoss } from "../src/nn/loss.js";
import { w2Setup } from "./workloads.js";

const args = process.argv.slice(2);
const arg = (name: string, dflt: number) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};
const threads = arg("threads", 1);
const steps = arg("steps", 20);

/** VmRSS and VmHWM of this process, in KiB. */
function status(): { rss: number; hwm: number } {
  const s = readFileSync("/proc/self/status", "utf8");
  const kib = (field: string) =>
    Number(new RegExp(`^${field}:\\s*(\\d+) kB`, "m").exec(s)?.[1] ?? Number.NaN);
  return { rss: kib("VmRSS"), hwm: kib("VmHWM") };
}

setNumThreads(threads);
const backend = backendName(); // compiles the wasm kernels: part of the loaded runtime, like torch's import
const baseline = status();
let hwmReset = true;
try {
  writeFileSync("/proc/self/clear_refs", "5");
} catch {
  hwmReset = false;
}

// the work: w2's model, data and optimizer (bench/workloads.ts), `steps` training steps
const { lstm, head, opt, x, y } = w2Setup();
let firstStepPeak = 0;
let loss = 0;
for (let i = 0; i < steps; i++) {
  const [out] = lstm.forward(x);
  const l = mseLoss(head.forward(out), y);
  opt.zeroGrad();
  l.backward();
  opt.step();
  loss = l.item();
  if (i === 0) firstStepPeak = status().hwm;
}
const end = status();
console.log(
  JSON.stringify({
    workload: "w2",
    threads,
    steps,
    backend,
    node: process.version,
    baseline_kib: baseline.rss,
    peak_kib: end.hwm,
    peak_first_step_kib: firstStepPeak,
    end_rss_kib: end.rss,
    hwm_reset: hwmReset,
    final_loss: loss,
  }),
);
process.exit(0); // the pool's workers are unref'd, but do not wait for anything else either
