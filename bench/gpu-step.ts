// W2 and W5 full training steps (forward, backward, Adam step) on the WebGPU device, for issue 14's targets
// (bench/gpu/run.sh runs this beside torch_bench.py --device cuda on the same GPU). Each step is timed from
// its first op to the GPU having finished everything it recorded (ctx.sync(), as torch.cuda.synchronize()
// on the PyTorch side); the warm-up steps are left out; the figure is the median. Data and weights are
// moved to the device before the clock starts, as x.cuda() would be.
//
//   node --import tsx bench/gpu-step.ts [--workloads w2,w5] [--steps N] [--warmup N] [--seq T]
//                                       [--max-seconds S] [--cpu-threads N|all] [--cpu-steps N]
//
// --seq T overrides both workloads' sequence length (W2 50, W5 100): on SwiftShader (a Vulkan driver on
// the CPU, about 25 s per W5 time step) use --workloads w2 --seq 1. --max-seconds S stops a workload's
// timed steps once S seconds have passed in it (at least one is timed), so that a slow device still
// reports. --workloads none skips the device (and does not ask for one): with --cpu-threads, the CPU only. --cpu-threads also times our CPU
// path's W5 (WebAssembly, N threads; "all" = every core; one warm-up step, --cpu-steps timed) for the "30× faster than our CPU" target.
// Prints one JSON line.

import { availableParallelism } from "node:os";
import { setNumThreads } from "../src/kernels/backend.js";
import "../src/node/threads.js";
import { manualSeed, randn, type Tensor } from "../src/index.js";
import { Linear } from "../src/nn/linear.js";
import { mseLoss } from "../src/nn/loss.js";
import { LSTM } from "../src/nn/rnn.js";
import { requestNodeWebGPU } from "../src/node/webgpu.js";
import { Adam } from "../src/optim/adam.js";

/** The workloads' sizes (bench/workloads.ts's w2Setup, bench/w5.ts's W5). */
const SIZES = {
  w2: { I: 8, H: 128, L: 2, B: 32, T: 50 },
  w5: { I: 64, H: 512, L: 2, B: 256, T: 100 },
} as const;
type Workload = keyof typeof SIZES;

const args = process.argv.slice(2);
function arg(name: string): string | undefined {
  const i = args.indexOf(`--${name}`);
  if (i < 0) return undefined;
  const v = args[i + 1];
  if (v === undefined) fail(`--${name} needs a value`);
  return v;
}
function fail(msg: string): never {
  console.error(`gpu-step: ${msg}`);
  process.exit(2);
}
function intArg(name: string, dflt: number, min: number): number {
  const s = arg(name);
  const v = s === undefined ? dflt : Number(s);
  if (!Number.isInteger(v) || v < min) fail(`--${name} should be an integer ≥ ${min}, got ${s}`);
  return v;
}
const known = new Set(["workloads", "steps", "warmup", "seq", "max-seconds", "cpu-threads", "cpu-steps"]);
for (const a of args) {
  if (a.startsWith("--") && !known.has(a.slice(2))) fail(`unknown option ${a}`);
}
const wl = arg("workloads") ?? "w2,w5";
const workloads = (wl === "none" ? [] : wl.split(",")) as Workload[];
for (const w of workloads) if (!(w in SIZES)) fail(`--workloads takes w2 and/or w5, or none, got ${w}`);
const steps = intArg("steps", 10, 1);
const warmup = intArg("warmup", 2, 0);
const seqArg = arg("seq");
const seq = seqArg === undefined ? undefined : intArg("seq", 0, 1);
const cpuThreadsArg = arg("cpu-threads");
const cpuThreads =
  cpuThreadsArg === undefined
    ? 0
    : cpuThreadsArg === "all"
      ? availableParallelism()
      : intArg("cpu-threads", 0, 1);
const cpuSteps = intArg("cpu-steps", 2, 1);
const maxSeconds = intArg("max-seconds", 1e9, 1);

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/** The workload's model, optimizer and data, from manualSeed(0), in bench/w5.ts's order. */
function setup(w: Workload, T: number) {
  const z = SIZES[w];
  manualSeed(0);
  const lstm = new LSTM(z.I, z.H, { numLayers: z.L });
  const head = new Linear(z.H, 1);
  const x = randn(T, z.B, z.I);
  const y = randn(T, z.B, 1);
  return { lstm, head, x, y };
}

/** `warm + n` training steps; the ms of the last n, and the last loss. */
async function run(
  w: Workload,
  T: number,
  device: "cpu" | "webgpu",
  n: number,
  warm: number,
  sync: () => Promise<void>,
): Promise<{ runs: number[]; loss: number }> {
  const s = setup(w, T);
  s.lstm.to(device);
  s.head.to(device);
  const x = device === "cpu" ? s.x : s.x.to("webgpu");
  const y = device === "cpu" ? s.y : s.y.to("webgpu");
  const opt = new Adam([...s.lstm.parameters(), ...s.head.parameters()], { lr: 1e-3 });
  await sync();
  const runs: number[] = [];
  const start = performance.now();
  let loss: Tensor | null = null;
  for (let i = 0; i < warm + n; i++) {
    const t0 = performance.now();
    const [out] = s.lstm.forward(x);
    loss = mseLoss(s.head.forward(out), y);
    opt.zeroGrad();
    loss.backward();
    opt.step();
    await sync(); // the GPU has finished the step (nothing is read back)
    const ms = performance.now() - t0;
    if (i >= warm) runs.push(ms);
    // on stderr as it goes, so that a run killed by its timeout still says how far it got
    console.error(
      `gpu-step: ${w} on ${device}, ${i < warm ? "warm-up" : "timed"} step ${i + 1}: ${ms.toFixed(2)} ms`,
    );
    if (runs.length > 0 && performance.now() - start > maxSeconds * 1000) break;
  }
  return { runs, loss: loss === null ? Number.NaN : await loss.itemAsync() };
}

const ctx = workloads.length > 0 ? await requestNodeWebGPU() : null;
const info = ctx?.adapterInfo;
const out: Record<string, unknown> = {
  bench: "gpu-step",
  adapter: info
    ? [info.vendor, info.architecture, info.device, info.description].filter((s) => s).join(" / ")
    : null,
  swiftshader: info ? /swiftshader/i.test(JSON.stringify(info)) : null,
  node: process.version,
  steps,
  warmup,
  unit: "ms/step",
};
setNumThreads(1); // the CPU side of the device path (graph bookkeeping) on one thread
for (const w of workloads) {
  const T = seq ?? SIZES[w].T;
  const t0 = performance.now();
  const sync = () => (ctx as NonNullable<typeof ctx>).sync();
  const r = await run(w, T, "webgpu", steps, warmup, sync);
  out[w] = { ...SIZES[w], T, median: median(r.runs), runs: r.runs, final_loss: r.loss };
  console.error(
    `gpu-step: ${w} (T ${T}) median ${median(r.runs).toFixed(2)} ms (${((performance.now() - t0) / 1000).toFixed(1)} s in all)`,
  );
}
if (cpuThreads > 0) {
  setNumThreads(cpuThreads);
  const T = seq ?? SIZES.w5.T;
  const r = await run("w5", T, "cpu", cpuSteps, 1, async () => {});
  out.cpu_w5 = {
    threads: cpuThreads,
    T,
    warmup: 1,
    median: median(r.runs),
    runs: r.runs,
    final_loss: r.loss,
  };
}
console.log(JSON.stringify(out));
process.exit(0); // the pool's workers and Dawn's instance: nothing else to wait for
