// brain.js side of `npm run bench`: the closest brain.js can come to the work of bench/workloads.ts.
//
// Usage: node --import tsx bench/peers/brain.ts WORKLOAD [--runs N] [--quick] [--iters N]
// Prints one JSON line: {"workload", "runs": [...], "unit", "measured", "extra"}.
//
// brain.js 1.6.1 is what the registry serves as `latest`; 2.0.0-beta.* needs gpu.js 2 as a peer, which pulls
// in headless-gl (a native build / prebuilt download), so it is not used. Where the brain.js API forces a
// difference (also carried into the table's notes):
// - W1: brain.recurrent.RNNTimeStep({inputSize 1, hiddenLayers [16], outputSize 1}) trained one 50-point
//   sine window per iteration with trainPattern() (49 next-value predictions, as ours). But its cell is
//   relu, not tanh; its trainer is brain.js's own RMSProp-style update with gradient clipping, not Adam,
//   at lr 0.001 because at the notes' lr 0.01 this relu RNN diverges (error ~1e5 and rising); and the hidden
//   state starts from zero on every window (no carried state).
// - W2: not run. The time-step nets predict the next input vector (output size = input size), train one
//   sequence at a time (no batch), so LSTM(8->128, 2 layers) with a per-step 1-wide head has no equivalent.
// - W3: brain.recurrent.LSTMTimeStep({1, [64], 1}).forecast([0], steps): one LSTM step at a time with the
//   output fed back, the state carried - the same stream. brain.js unrolls one "equation" object per step
//   of the forecast, so its per-step cost includes that allocation.
// - W4: no matrix-product API.

import { createRequire } from "node:module";

interface TimeStepNet {
  train(data: number[][], opts: Record<string, unknown>): { error: number; iterations: number };
  trainPattern(input: Float32Array[], logErrorRate?: boolean): number | undefined;
  formatData(data: number[][]): Float32Array[][];
  forecast(input: number[], count: number): number[];
}
interface Brain {
  recurrent: {
    RNNTimeStep: new (opts: Record<string, unknown>) => TimeStepNet;
    LSTMTimeStep: new (opts: Record<string, unknown>) => TimeStepNet;
  };
}

const require = createRequire(import.meta.url);
const brain = require("brain.js") as Brain;
const version = (require("brain.js/package.json") as { version: string }).version;

const args = process.argv.slice(2);
const workload = args[0];
const opt = (name: string, dflt: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
};
const runs = Number(opt("runs", "3"));
const quick = args.includes("--quick");

/** A random-start sine window of 50 points, as in the notes (start in {0, 1, 2}). */
function sineWindow(): number[] {
  const start = Math.floor(Math.random() * 3);
  return Array.from({ length: 50 }, (_, i) => Math.sin(start + (10 * i) / 49));
}

/** W1: seconds for `iters` training iterations (one sine window each). */
function w1(iters: number): { seconds: number; finalLoss: number } {
  const net = new brain.recurrent.RNNTimeStep({ inputSize: 1, hiddenLayers: [16], outputSize: 1 });
  // train() sets the options and builds the model; one window, one iteration (not timed)
  net.train([sineWindow()], { iterations: 1, learningRate: 0.001 });
  let finalLoss = Number.NaN;
  const t0 = performance.now();
  for (let i = 0; i < iters; i++) {
    // trainPattern wants the window in brain.js's own format (one Float32Array per step), as train() makes
    finalLoss = net.trainPattern(net.formatData([sineWindow()])[0], true) ?? Number.NaN;
  }
  return { seconds: (performance.now() - t0) / 1000, finalLoss };
}

/** W3: microseconds per streamed step. */
function w3(steps: number): number {
  const net = new brain.recurrent.LSTMTimeStep({ inputSize: 1, hiddenLayers: [64], outputSize: 1 });
  net.train([sineWindow()], { iterations: 1 }); // builds the model so it is runnable
  net.forecast([0], 100);
  const t0 = performance.now();
  const out = net.forecast([0], steps);
  const us = ((performance.now() - t0) * 1000) / steps;
  if (out.length !== steps) throw new Error(`forecast gave ${out.length} values, expected ${steps}`);
  return us;
}

const out: Record<string, unknown> = { workload, brain: version };
if (workload === "w1") {
  const iters = Number(opt("iters", quick ? "1000" : "6000"));
  const rs = Array.from({ length: runs }, () => w1(iters));
  Object.assign(out, {
    unit: "s",
    runs: rs.map((r) => r.seconds),
    measured: `${iters} iters`,
    extra: { final_loss: rs[rs.length - 1].finalLoss },
  });
} else if (workload === "w3") {
  const steps = quick ? 2000 : 10000;
  Object.assign(out, {
    unit: "us/step",
    runs: Array.from({ length: runs }, () => w3(steps)),
    measured: `${steps} steps`,
  });
} else {
  throw new Error(`brain.js has no equivalent of ${workload} (only w1 and w3 are run)`);
}
console.log(JSON.stringify(out));
