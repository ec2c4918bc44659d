// The training worker: runs one job at a time (jobs.ts) off the page's thread and reports progress,
// results and errors as messages (protocol.ts). A "stop" message sets a flag the running job checks
// between steps; the jobs yield to the event loop often enough for it to arrive.

import { adapterName, gpuContext, probeWebGPU, trainSineWebGPU } from "./gpu-sine.js";
import { clipJob, forecastWithCheckpoint, gradientsJob, messageOf, trainCsv, trainSine } from "./jobs.js";
import {
  backendName,
  getNumThreads,
  manualSeed,
  matmul,
  poolStats,
  randn,
  setBackend,
  startWebThreads,
  supportedWasmVariant,
  type Tensor,
  type WebWorkerLike,
} from "./lib.js";
import type { FromWorker, KernelChoice, ToWorker } from "./protocol.js";
import type { SinePrediction, SineProgress } from "./jobs.js";

interface WorkerScope {
  postMessage(message: FromWorker, transfer?: Transferable[]): void;
  onmessage: ((e: MessageEvent<ToWorker>) => void) | null;
}
const scope = globalThis as unknown as WorkerScope;
const post = (m: FromWorker, transfer?: Transferable[]) => scope.postMessage(m, transfer);

let stopRequested = false;
let busy = false;
const queue: Exclude<ToWorker, { type: "stop" }>[] = [];

function useKernels(choice: KernelChoice): void {
  // "auto" is the library's own default: WebAssembly SIMD where this runtime validates it, else ts.
  if (choice === "auto") {
    try {
      setBackend("wasm");
    } catch {
      setBackend("ts");
    }
  } else setBackend(choice);
}

/**
 * One product large enough for the pool to split (256×512 by 512×256), against the same rows computed in
 * blocks of 8 rows, each too small to split: the pool's result must be the single-threaded one.
 */
function threadsCheck(id: number): FromWorker {
  manualSeed(1);
  const a = randn(256, 512);
  const b = randn(512, 256);
  const before = poolStats().pooledCalls;
  const split = matmul(a, b);
  const pooledCalls = poolStats().pooledCalls - before;
  let maxDiff = 0;
  for (let r = 0; r < 256; r += 8) {
    const rows: Tensor = matmul(a.narrow(0, r, 8), b);
    for (let i = 0; i < rows.numel; i++) {
      maxDiff = Math.max(maxDiff, Math.abs(rows.data[i] - split.data[r * 256 + i]));
    }
  }
  return { type: "threads-checked", id, threads: getNumThreads(), pooledCalls, maxDiff };
}

async function run(m: Exclude<ToWorker, { type: "stop" }>): Promise<void> {
  stopRequested = false;
  if (m.type === "threads-check") {
    post(threadsCheck(m.id));
    return;
  }
  const shouldStop = () => stopRequested;
  useKernels(m.kernels);
  if (m.type === "sine" && m.device === "webgpu") {
    let adapter: string;
    try {
      adapter = adapterName((await gpuContext()).adapterInfo);
    } catch (e) {
      throw new Error(`WebGPU could not be set up in this browser: ${messageOf(e)}. Train on the CPU`);
    }
    post({ type: "started", id: m.id, backend: backendName(), device: "webgpu", adapter });
  } else {
    post({ type: "started", id: m.id, backend: backendName(), device: "cpu", adapter: null });
  }
  switch (m.type) {
    case "sine": {
      const hooks = {
        reportEvery: m.reportEvery,
        previewEvery: m.previewEvery,
        shouldStop,
        onProgress: (p: SineProgress) => post({ type: "sine-progress", id: m.id, ...p }),
        onPreview: (p: SinePrediction & { iter: number }) => post({ type: "sine-preview", id: m.id, ...p }),
      };
      const result =
        m.device === "webgpu" ? await trainSineWebGPU(m.options, hooks) : await trainSine(m.options, hooks);
      post({ type: "sine-done", id: m.id, result });
      return;
    }
    case "csv": {
      const text = await m.csv.text();
      const result = await trainCsv(text, m.source, m.options, {
        shouldStop,
        onEpoch: (p) => post({ type: "csv-epoch", id: m.id, ...p }),
        onTrained: (t) => post({ type: "csv-trained", id: m.id, ...t }),
        onBacktest: (phase) => post({ type: "backtest", id: m.id, phase }),
      });
      post({ type: "csv-done", id: m.id, result });
      return;
    }
    case "checkpoint": {
      const text = m.csv === null ? "" : await m.csv.text();
      const result = forecastWithCheckpoint(m.bytes, m.source, text, m.csvSource, m.fill, 0, {
        onBacktest: (phase) => post({ type: "backtest", id: m.id, phase }),
      });
      post({ type: "checkpoint-done", id: m.id, result });
      return;
    }
    case "gradients": {
      // Progress from inside the computation (it runs in one go): at most every 100 ms.
      let last = 0;
      const result = gradientsJob(m.options, (p) => {
        const t = performance.now();
        if (t - last > 100 || p.done === 0) {
          last = t;
          post({ type: "gradients-progress", id: m.id, ...p });
        }
      });
      post({ type: "gradients-done", id: m.id, result });
      return;
    }
    case "clip": {
      let last = 0;
      const r = clipJob(m.options, (run, step, loss) => {
        const t = performance.now();
        if (t - last > 100) {
          last = t;
          post({ type: "clip-progress", id: m.id, run, step, loss });
        }
      });
      const o = r.options;
      const plain = (x: typeof r.clipped) => ({
        gradNorm: x.gradNorm,
        appliedNorm: x.appliedNorm,
        loss: x.loss,
        divergedAt: x.divergedAt,
      });
      post({
        type: "clip-done",
        id: m.id,
        result: {
          cell: o.cell,
          hidden: o.hidden,
          initScale: o.initScale,
          clip: o.clip,
          steps: o.steps,
          seqLen: o.seqLen,
          lr: o.lr,
          seed: o.seed,
          unclipped: plain(r.unclipped),
          clipped: plain(r.clipped),
        },
      });
      return;
    }
  }
}

async function drain(): Promise<void> {
  if (busy) return;
  busy = true;
  while (queue.length > 0) {
    const m = queue.shift()!;
    try {
      await run(m);
    } catch (e) {
      post({ type: "error", id: m.id, name: e instanceof Error ? e.name : "Error", message: messageOf(e) });
    }
  }
  busy = false;
}

scope.onmessage = (e) => {
  const m = e.data;
  if (m.type === "stop") {
    stopRequested = true;
    return;
  }
  queue.push(m);
  void drain();
};

// Both cores: in a cross-origin-isolated page this worker may block, so large kernel calls are split
// across pool workers started here (before any blocking call: a browser starts a worker only when its
// creator returns to the event loop).
let threads = 1;
let threadsError: string | null = null;
if (globalThis.crossOriginIsolated === true) {
  try {
    threads = await startWebThreads(
      () =>
        new Worker(new URL("./pool-worker.js", import.meta.url), {
          type: "module",
          name: "recurrent-pool",
        }) as unknown as WebWorkerLike,
    );
  } catch (e) {
    threadsError = messageOf(e);
  }
}

post({
  type: "ready",
  backend: backendName(),
  wasmVariant: supportedWasmVariant(),
  threads,
  threadsError,
});
// WebGPU, where the training runs: the worker's own navigator.gpu and an adapter (no device yet).
post({ type: "webgpu", probe: await probeWebGPU() });
