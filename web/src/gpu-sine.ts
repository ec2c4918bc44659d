// The notes' sine experiment on the WebGPU device, for the playground's worker: the same seed, the same
// windows drawn from the same generator, the same SineNet and Adam as the CPU job (app.trainSine), with the
// model, the carried hidden state and every step on the GPU (`model.to("webgpu")`). Only the reading
// differs: the losses come back with `itemAsync` a few steps at a time (reading drains the GPU's queue,
// so not every step), previews read the weights into a CPU copy of the model, and the result is the CPU
// job's own (SineTrainer.finish on that copy, with the GPU's weights, state and losses), so the page
// shows a GPU run as it shows a CPU one.
//
// Also `probeWebGPU`: whether this worker has WebGPU (navigator.gpu and an adapter), and why not.

import {
  app,
  defaultGenerator,
  type HiddenState,
  manualSeed,
  nn,
  optim,
  requestWebGPU,
  type SinePrediction,
  SineNet,
  SineTrainer,
  sinePredict,
  sineWindow,
  Tensor,
  type WebGPUAdapterInfo,
  type WebGPUContext,
} from "./lib.js";
import type { SineHooks, SineJobOptions, SineJobResult } from "./jobs.js";
import type { WebGPUProbe } from "./protocol.js";

/** A short name for an adapter: its description, else vendor / architecture / device. */
export function adapterName(info: WebGPUAdapterInfo | GPUAdapterInfo | undefined): string {
  if (info === undefined) return "unknown adapter";
  const parts = [info.vendor, info.architecture, info.device].filter((s) => s !== "");
  const name = info.description !== "" ? info.description : parts.join(" ");
  return name === "" ? "unnamed adapter" : name;
}

/**
 * Looks for WebGPU in this worker without creating a device: `navigator.gpu`, then `requestAdapter()`.
 * The page greys its WebGPU choice out with `reason` where this fails.
 */
export async function probeWebGPU(): Promise<WebGPUProbe> {
  const gpu = (globalThis as { navigator?: { gpu?: GPU } }).navigator?.gpu;
  if (gpu === undefined || gpu === null) {
    return {
      available: false,
      reason:
        globalThis.isSecureContext === false
          ? "this browser has no WebGPU (navigator.gpu is undefined): WebGPU needs a secure context, a page served over https or from localhost"
          : "this browser has no WebGPU (navigator.gpu is undefined)",
    };
  }
  let adapter: GPUAdapter | null;
  try {
    adapter = await gpu.requestAdapter();
  } catch (e) {
    return { available: false, reason: `no adapter: requestAdapter() failed (${String(e)})` };
  }
  if (adapter === null) {
    return {
      available: false,
      reason:
        "no adapter: requestAdapter() returned null (no GPU driver this browser may use; Chromium on Linux needs --enable-unsafe-webgpu)",
    };
  }
  return { available: true, adapter: adapterName(adapter.info) };
}

/** The WebGPU device for the jobs (set up once per worker). */
export async function gpuContext(): Promise<WebGPUContext> {
  return requestWebGPU();
}

const now = (): number => performance.now();

function toGpu(s: HiddenState): HiddenState {
  return Array.isArray(s) ? [s[0].to("webgpu"), s[1].to("webgpu")] : s.to("webgpu");
}

function detach(s: HiddenState): HiddenState {
  return Array.isArray(s) ? [s[0].detach(), s[1].detach()] : s.detach();
}

async function toCpu(s: HiddenState): Promise<HiddenState> {
  return Array.isArray(s) ? [await s[0].cpuAsync(), await s[1].cpuAsync()] : s.cpuAsync();
}

/** Copies the GPU model's weights into the CPU model (same architecture, same parameter order). */
async function copyWeights(from: SineNet, to: SineNet): Promise<void> {
  const src = from.parameters();
  const dst = to.parameters();
  const values = await Promise.all(src.map((p) => p.cpuAsync()));
  values.forEach((v, i) => {
    dst[i].data.set(v.data);
  });
}

export interface GpuSineHooks extends SineHooks {
  /**
   * Losses are read back (and reported) every min(readEvery, reportEvery) steps, at least 2 (default 16),
   * and at previews and the last step: each read waits for the GPU to finish what was recorded.
   */
  readEvery?: number;
}

/**
 * The sine job on the WebGPU device (`requestWebGPU()` must have succeeded). The same numbers as
 * app.trainSine for the same options, to float32 rounding.
 */
export async function trainSineWebGPU(
  opts: SineJobOptions,
  hooks: GpuSineHooks = {},
): Promise<SineJobResult> {
  // The CPU trainer seeds the generator and builds the model; it is the CPU copy that previews and the
  // result use. Seeding again and building once more gives the GPU model the same weights and leaves the
  // generator where the CPU job's is before its first window.
  const trainer = new SineTrainer({
    cell: opts.cell,
    hidden: opts.hidden,
    layers: opts.layers ?? 1,
    iters: opts.iters,
    lr: opts.lr,
    clip: opts.clip ?? undefined,
    seed: opts.seed,
    context: opts.context ?? 10,
    steps: opts.steps ?? 50,
  });
  const o = trainer.options;
  manualSeed(o.seed);
  const model = new SineNet(o.cell, o.hidden, o.layers);
  model.to("webgpu");
  const params = model.parameters();
  const optimizer = new optim.Adam(params, { lr: o.lr });
  let state = toGpu(model.zeroState());
  const T = o.steps - 1;
  const reportEvery = Math.max(1, hooks.reportEvery ?? 100);
  const previewEvery = Math.max(1, hooks.previewEvery ?? 500);
  // Reading waits for the GPU to finish what was recorded: a few steps at a time, never every step.
  const readEvery = Math.max(2, Math.min(hooks.readEvery ?? 16, reportEvery));
  const losses = trainer.losses;
  const pending: Tensor[] = []; // losses of steps [read, iters) not read yet
  const norms: Promise<number>[] = []; // clipGradNormAsync_'s totals of those steps
  let read = 0;
  let reported = 0;
  let iters = 0;
  let stopped = false;
  let lastYield = now();

  const readLosses = async (): Promise<void> => {
    const values = await Promise.all(pending.splice(0).map((l) => l.itemAsync()));
    await Promise.all(norms.splice(0));
    for (const v of values) {
      losses[read] = v;
      if (!Number.isFinite(v)) {
        throw new Error(`the loss became ${v} at iteration ${read}; try a smaller learning rate or clipping`);
      }
      read++;
    }
  };
  const report = () => {
    if (!hooks.onProgress || reported >= read) return;
    const iter = read - 1;
    hooks.onProgress({
      iter,
      loss: losses[iter],
      elapsed: trainer.elapsed,
      from: reported,
      losses: losses.slice(reported, read),
    });
    reported = read;
  };

  while (iters < o.iters) {
    const start = defaultGenerator.randint(0, 3);
    const { values } = sineWindow(start, o.steps);
    const x = new Tensor(values.slice(0, T), [1, T, 1]).to("webgpu");
    const y = new Tensor(values.slice(1), [1, T, 1]).to("webgpu");
    const [out, next] = model.forward(x, state);
    state = detach(next);
    const loss = nn.functional.mseLoss(out, y);
    optimizer.zeroGrad(false); // the CPU job's p.grad.data.fill(0)
    loss.backward();
    if (o.clip !== null) {
      // recorded on the device now (the step below sees the clipped gradients); the total norm is read
      // with the losses, so a non-finite norm or a failure surfaces there
      norms.push(nn.clipGradNormAsync_(params, o.clip));
    }
    optimizer.step();
    pending.push(loss);
    const iter = iters++;
    const last = iters >= o.iters;
    const preview = hooks.onPreview !== undefined && iter % previewEvery === 0 && !last;
    if (last || preview || pending.length >= readEvery) {
      await readLosses();
      report();
      lastYield = now();
    }
    if (preview) {
      await copyWeights(model, trainer.model);
      const cpuState = await toCpu(state);
      const p: SinePrediction = sinePredict(trainer.model, cpuState, 0, o.steps, o.context);
      hooks.onPreview!({ iter, ...p });
    }
    if (!last && now() - lastYield > 40) {
      await new Promise((r) => setTimeout(r, 0));
      lastYield = now();
    }
    if (!last && hooks.shouldStop?.()) {
      stopped = true;
      await readLosses();
      report();
      break;
    }
  }
  // The result as the CPU job computes it, from the GPU's weights, state and losses.
  await copyWeights(model, trainer.model);
  trainer.state = await toCpu(state);
  trainer.iters = iters;
  return app.sineJobResult(o, trainer, stopped);
}
