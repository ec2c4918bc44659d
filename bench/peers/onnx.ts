// onnxruntime side of `npm run bench`, W3 only (streaming inference of LSTM(1->64)+Linear).
//
// Usage: node --import tsx bench/peers/onnx.ts w3 --model PATH.onnx [--runs N] [--quick] [--threads N]
// Prints one JSON line: {"workload", "runs": [...], "unit", "measured"}; or {"skipped": reason} when
// no onnxruntime can be loaded.
//
// The model is written by our exporter (w3Onnx in bench/workloads.ts: the same modules and weights as our
// W3, one time step with the state as explicit inputs/outputs). Differences the API forces (also in the table's notes): every step
// is one InferenceSession.run(), which is asynchronous (a Promise per step, awaited before the next step
// since the output is fed back), and the session is limited to `--threads` intra-op threads (default 1).
//
// onnxruntime-node is not a devDependency (its package is a ~110 MB download holding every platform's
// binaries, and on linux/x64 its postinstall fetches CUDA libraries when npm runs install scripts). It is
// loaded from the project's node_modules if present, else from the folder named by ONNXRUNTIME_NODE_DIR
// (a folder whose node_modules holds onnxruntime-node); without it, onnxruntime-web (a devDependency, the
// same runtime compiled to WebAssembly, single-threaded here) runs the model.

import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";

interface OrtTensor {
  readonly data: Float32Array;
}
interface OrtSession {
  run(feeds: Record<string, OrtTensor>): Promise<Record<string, OrtTensor>>;
}
interface Ort {
  Tensor: new (type: "float32", data: Float32Array, dims: number[]) => OrtTensor;
  InferenceSession: { create(model: Uint8Array, opts: Record<string, unknown>): Promise<OrtSession> };
  env: { versions?: { node?: string; web?: string }; wasm?: { numThreads?: number }; logLevel?: string };
}

const args = process.argv.slice(2);
const workload = args[0];
const opt = (name: string, dflt: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
};
const runs = Number(opt("runs", "3"));
const quick = args.includes("--quick");
const threads = Number(opt("threads", "1"));
const model = opt("model", "");

async function loadOrt(): Promise<{ ort: Ort; version: string } | string> {
  const bases = [import.meta.url];
  const dir = process.env.ONNXRUNTIME_NODE_DIR;
  if (dir) bases.push(join(dir, "package.json"));
  for (const base of bases) {
    try {
      const require = createRequire(base);
      const ort = require("onnxruntime-node") as Ort;
      const version = (require("onnxruntime-node/package.json") as { version: string }).version;
      return { ort, version: `onnxruntime-node ${version}` };
    } catch {
      // try the next place
    }
  }
  try {
    const ort = (await import("onnxruntime-web")) as unknown as Ort;
    if (ort.env.wasm) ort.env.wasm.numThreads = 1;
    ort.env.logLevel = "error";
    return { ort, version: `onnxruntime-web ${ort.env.versions?.web ?? "?"} (wasm)` };
  } catch {
    return "neither onnxruntime-node (set ONNXRUNTIME_NODE_DIR) nor onnxruntime-web could be loaded";
  }
}

/** W3: microseconds per streamed step. */
async function w3(ort: Ort, session: OrtSession, steps: number): Promise<{ us: number; last: number }> {
  let x = new ort.Tensor("float32", new Float32Array(1), [1, 1, 1]);
  let h = new ort.Tensor("float32", new Float32Array(64), [1, 1, 64]);
  let c = new ort.Tensor("float32", new Float32Array(64), [1, 1, 64]);
  const step = async () => {
    const r = await session.run({ x, h0: h, c0: c });
    x = r.y;
    h = r.h1;
    c = r.c1;
  };
  for (let i = 0; i < 100; i++) await step();
  const t0 = performance.now();
  for (let i = 0; i < steps; i++) await step();
  return { us: ((performance.now() - t0) * 1000) / steps, last: x.data[0] };
}

async function main(): Promise<void> {
  if (workload !== "w3") throw new Error(`onnx peer runs only w3, got ${workload}`);
  const loaded = await loadOrt();
  if (typeof loaded === "string") {
    console.log(JSON.stringify({ workload, skipped: loaded }));
    return;
  }
  if (!model || !existsSync(model))
    throw new Error(`--model must name the exported .onnx file, got "${model}"`);
  const { ort, version } = loaded;
  const session = await ort.InferenceSession.create(new Uint8Array(readFileSync(model)), {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: "sequential",
    graphOptimizationLevel: "all",
  });
  const steps = quick ? 2000 : 20000;
  const rs: { us: number; last: number }[] = [];
  for (let i = 0; i < runs; i++) rs.push(await w3(ort, session, steps));
  console.log(
    JSON.stringify({
      workload,
      onnxruntime: version,
      threads,
      unit: "us/step",
      runs: rs.map((r) => r.us),
      measured: `${steps} steps`,
      extra: { last_output: rs[rs.length - 1].last },
    }),
  );
}

await main();
