// TensorFlow.js side of `npm run bench` (cpu and wasm backends): the same work as bench/workloads.ts and
// bench/peers/torch_bench.py, through the tfjs Layers API the way a tfjs user would write it.
//
// Usage: node --import tsx bench/peers/tfjs.ts WORKLOAD --backend cpu|wasm [--runs N] [--quick] [--iters N]
// Prints one JSON line: {"workload", "backend", "runs": [...], "unit", "measured", "extra"}.
//
// Where the tfjs API forces a difference (also carried into the table's notes):
// - W1: tf.layers.simpleRNN (one bias vector where PyTorch has b_ih + b_hh; same function) with
//   returnSequences + returnState, the carried hidden state passed back as `initialState` and so detached
//   (it is a plain tensor, not a variable); tf.layers.dense(1) on the 3-D output; Adam via tf.train.adam(0.01)
//   and optimizer.minimize. tfjs is batch-major: x is [1, 49, 1].
// - W2: two tf.layers.lstm(128, returnSequences) stacked (PyTorch's one 2-layer LSTM), dense(1) on every
//   step, mean squared error, tf.train.adam(1e-3); input batch-major [32, 50, 8].
// - W3: tf.layers.lstm(64, returnState) applied to one [1, 1, 1] step at a time with `initialState`, then
//   dense(1); the output is fed back as the next input.
// - W4: tf.matMul, with dataSync() so the product is really computed.
// The cpu backend is far slower than the others, so W1/W3 run fewer iterations than ours and the result is
// normalized per iteration (W1 is scaled to the row's iteration count; see "measured" in the JSON).

import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import * as tf from "@tensorflow/tfjs";
import { setWasmPaths } from "@tensorflow/tfjs-backend-wasm";

const args = process.argv.slice(2);
const workload = args[0];
const opt = (name: string, dflt: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
};
const backend = opt("backend", "cpu");
const runs = Number(opt("runs", "3"));
const quick = args.includes("--quick");

async function init(): Promise<void> {
  if (backend === "wasm") {
    const require = createRequire(import.meta.url);
    // the .wasm files ship inside the npm package, next to its main bundle
    const dist = dirname(require.resolve("@tensorflow/tfjs-backend-wasm"));
    setWasmPaths(`${join(dist)}/`);
  }
  if (!(await tf.setBackend(backend))) throw new Error(`tfjs backend ${backend} did not initialise`);
  await tf.ready();
}

/** A random-start sine window of 50 points, as in the notes (start in {0, 1, 2}). */
function sineWindow(): Float32Array {
  const start = Math.floor(Math.random() * 3);
  const out = new Float32Array(50);
  for (let i = 0; i < 50; i++) out[i] = Math.sin(start + (10 * i) / 49);
  return out;
}

/** W1: seconds for `iters` iterations of the notes' training loop. */
function w1(iters: number): { seconds: number; finalLoss: number } {
  const init = tf.initializers.randomNormal({ mean: 0, stddev: 0.001, seed: 0 });
  const rnn = tf.layers.simpleRNN({
    units: 16,
    returnSequences: true,
    returnState: true,
    kernelInitializer: init,
    recurrentInitializer: init,
    biasInitializer: init,
  });
  const head = tf.layers.dense({ units: 1 });
  const adam = tf.train.adam(0.01);
  let h = tf.zeros([1, 16]);
  // build the weights outside minimize() (variables created inside it are not on the tape)
  tf.tidy(() => {
    head.apply((rnn.apply(tf.zeros([1, 49, 1]), { initialState: [h] }) as tf.Tensor[])[0]);
  });
  let finalLoss = Number.NaN;
  const t0 = performance.now();
  for (let it = 0; it < iters; it++) {
    const w = sineWindow();
    const x = tf.tensor3d(w.subarray(0, 49), [1, 49, 1]);
    const y = tf.tensor3d(w.subarray(1), [1, 49, 1]);
    let hNext: tf.Tensor | null = null;
    const loss = adam.minimize(() => {
      const [out, state] = rnn.apply(x, { initialState: [h] }) as tf.Tensor[];
      hNext = tf.keep(state);
      return tf.mean(tf.square(tf.sub(head.apply(out) as tf.Tensor, y))) as tf.Scalar;
    }, true);
    h.dispose();
    h = hNext!;
    if (it === iters - 1) finalLoss = loss!.dataSync()[0];
    tf.dispose([x, y, loss!]);
  }
  h.dataSync();
  return { seconds: (performance.now() - t0) / 1000, finalLoss };
}

/** W2: milliseconds per training step. */
function w2(steps: number): number[] {
  const l1 = tf.layers.lstm({ units: 128, returnSequences: true });
  const l2 = tf.layers.lstm({ units: 128, returnSequences: true });
  const head = tf.layers.dense({ units: 1 });
  const adam = tf.train.adam(1e-3);
  const x = tf.randomNormal([32, 50, 8], 0, 1, "float32", 0);
  const y = tf.randomNormal([32, 50, 1], 0, 1, "float32", 1);
  tf.tidy(() => {
    head.apply(l2.apply(l1.apply(x)));
  });
  const times: number[] = [];
  for (let i = 0; i < steps + 1; i++) {
    const t0 = performance.now();
    const loss = adam.minimize(() => {
      const out = head.apply(l2.apply(l1.apply(x))) as tf.Tensor;
      return tf.mean(tf.square(tf.sub(out, y))) as tf.Scalar;
    }, true);
    loss!.dataSync();
    loss!.dispose();
    times.push(performance.now() - t0);
  }
  return times.slice(1); // one warm-up step (ours and PyTorch's have two; tfjs cpu steps take ~15 s)
}

/** W3: microseconds per streamed step. */
function w3(steps: number): number {
  const lstm = tf.layers.lstm({ units: 64, returnState: true });
  const head = tf.layers.dense({ units: 1 });
  let x: tf.Tensor = tf.zeros([1, 1, 1]);
  let state: tf.Tensor[] | null = null;
  const step = () => {
    const next = tf.tidy(() => {
      const [out, h, c] = (state ? lstm.apply(x, { initialState: state }) : lstm.apply(x)) as tf.Tensor[];
      return [tf.reshape(head.apply(out) as tf.Tensor, [1, 1, 1]), h, c];
    });
    tf.dispose([x, ...(state ?? [])]);
    x = next[0];
    state = next.slice(1);
  };
  for (let i = 0; i < 100; i++) step();
  x.dataSync();
  const t0 = performance.now();
  for (let i = 0; i < steps; i++) step();
  x.dataSync();
  return ((performance.now() - t0) * 1000) / steps;
}

/** W4: GFLOP/s of an n×n by n×n product. */
function w4(n: number, reps: number, warmUp: boolean): number {
  const a = tf.randomNormal([n, n], 0, 1, "float32", 0);
  const b = tf.randomNormal([n, n], 0, 1, "float32", 1);
  if (warmUp) {
    const warm = tf.matMul(a, b);
    warm.dataSync();
    warm.dispose();
  }
  const t0 = performance.now();
  for (let i = 0; i < reps; i++) {
    const c = tf.matMul(a, b);
    c.dataSync();
    c.dispose();
  }
  const s = (performance.now() - t0) / 1000 / reps;
  return (2 * n ** 3) / s / 1e9;
}

await init();
const slow = backend === "cpu";
const out: Record<string, unknown> = { workload, backend, tfjs: tf.version.tfjs };
/** for the notes: which wasm build ran (SIMD / multi-threaded) */
const wasmKind =
  backend === "wasm"
    ? `, wasm${(await tf.env().getAsync("WASM_HAS_SIMD_SUPPORT")) ? " SIMD" : ""}${(await tf.env().getAsync("WASM_HAS_MULTITHREAD_SUPPORT")) ? " threaded" : " single-threaded"}`
    : "";
if (workload === "w1") {
  // the row's iteration count (ours / PyTorch's); tfjs runs fewer and scales per iteration
  const target = Number(opt("iters", quick ? "1000" : "6000"));
  const measured = Math.min(target, slow ? (quick ? 30 : 100) : quick ? 100 : 200);
  const rs = Array.from({ length: runs }, () => w1(measured));
  Object.assign(out, {
    unit: "s",
    runs: rs.map((r) => (r.seconds * target) / measured),
    measured: `${measured} iters, scaled ×${(target / measured).toFixed(1)}`,
    extra: { final_loss: rs[rs.length - 1].finalLoss },
  });
} else if (workload === "w2") {
  const steps = slow ? 1 : quick ? 2 : 5;
  Object.assign(out, { unit: "ms/step", runs: w2(steps), measured: `${steps} step(s) after 1 warm-up` });
} else if (workload === "w3") {
  const steps = slow ? (quick ? 200 : 1000) : quick ? 500 : 3000;
  Object.assign(out, {
    unit: "us/step",
    runs: Array.from({ length: runs }, () => w3(steps)),
    measured: `${steps} steps`,
  });
} else if (workload.startsWith("w4-")) {
  const n = Number(workload.slice(3));
  const reps = n <= 256 ? (slow ? 5 : 20) : slow ? 1 : 3;
  Object.assign(out, {
    unit: "GFLOP/s",
    runs: Array.from({ length: runs }, (_, i) => w4(n, reps, i === 0)),
    measured: `${reps} reps`,
  });
} else {
  throw new Error(`unknown workload ${workload}; expected w1, w2, w3, w4-256 or w4-1024`);
}
out.measured = `${out.measured}${wasmKind}`;
console.log(JSON.stringify(out));
