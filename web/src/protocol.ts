// Messages between the page (main.ts) and the training worker (worker.ts). One job runs at a time;
// every job message carries an id that its progress, result and error messages repeat.

import type {
  BacktestPhase,
  ClipJobOptions,
  CsvJobOptions,
  CsvJobResult,
  EpochProgress,
  FillChoice,
  ForecastJobResult,
  GradJobOptions,
  GradJobResult,
  GradProgress,
  SineJobOptions,
  SineJobResult,
  SinePrediction,
  SineProgress,
} from "./jobs.js";

/** Which kernels the worker runs: the library's default choice, plain TypeScript, or WebAssembly SIMD. */
export type KernelChoice = "auto" | "ts" | "wasm";

/** Where the sine job trains: the CPU (the kernels above) or the WebGPU device (`model.to("webgpu")`). */
export type DeviceChoice = "cpu" | "webgpu";

/** What the worker found about WebGPU (gpu-sine.ts probeWebGPU): usable, with its adapter, or why not. */
export type WebGPUProbe = { available: true; adapter: string } | { available: false; reason: string };

export type ToWorker =
  | {
      type: "sine";
      id: number;
      kernels: KernelChoice;
      device: DeviceChoice;
      options: SineJobOptions;
      reportEvery: number;
      previewEvery: number;
    }
  /** The CSV goes as the file (a Blob, not copied); the worker reads its text. */
  | { type: "csv"; id: number; kernels: KernelChoice; csv: Blob; source: string; options: CsvJobOptions }
  | {
      type: "checkpoint";
      id: number;
      kernels: KernelChoice;
      bytes: Uint8Array;
      source: string;
      /** The loaded CSV, or null when none is (the job then says so). */
      csv: Blob | null;
      csvSource: string;
      fill: FillChoice;
    }
  | { type: "gradients"; id: number; kernels: KernelChoice; options: GradJobOptions }
  | { type: "clip"; id: number; kernels: KernelChoice; options: ClipJobOptions }
  /** Check the thread pool: one product split across the pool workers against the same on one thread. */
  | { type: "threads-check"; id: number }
  /**
   * Stop the running job after its current step, keeping what it has (the best model so far). Phases
   * that run in one go (backtest, gradients, clipping runs) are stopped by the page ending the worker.
   */
  | { type: "stop" };

export interface ClipSummary {
  cell: string;
  hidden: number;
  initScale: number;
  clip: number;
  steps: number;
  seqLen: number;
  lr: number;
  seed: number;
  unclipped: { gradNorm: number[]; appliedNorm: number[]; loss: number[]; divergedAt: number | null };
  clipped: { gradNorm: number[]; appliedNorm: number[]; loss: number[]; divergedAt: number | null };
}

export type FromWorker =
  | {
      type: "ready";
      backend: string;
      wasmVariant: string | null;
      threads: number;
      threadsError: string | null;
    }
  /** Sent once after "ready": whether the WebGPU choice can be offered, and why not. */
  | { type: "webgpu"; probe: WebGPUProbe }
  | { type: "threads-checked"; id: number; threads: number; pooledCalls: number; maxDiff: number }
  /** The job began: the CPU kernels, and the device it trains on (with the adapter's name on webgpu). */
  | { type: "started"; id: number; backend: string; device: DeviceChoice; adapter: string | null }
  | ({ type: "sine-progress"; id: number } & SineProgress)
  | ({ type: "sine-preview"; id: number; iter: number } & SinePrediction)
  | { type: "sine-done"; id: number; result: SineJobResult }
  | ({ type: "csv-epoch"; id: number } & EpochProgress)
  /** Training ended: the checkpoint, before the backtest (kept if the backtest is stopped). */
  | { type: "csv-trained"; id: number; bytes: Uint8Array; fileName: string }
  /** A backtest phase starts (csv and checkpoint jobs). */
  | { type: "backtest"; id: number; phase: BacktestPhase }
  | { type: "csv-done"; id: number; result: CsvJobResult }
  | { type: "checkpoint-done"; id: number; result: ForecastJobResult }
  | ({ type: "gradients-progress"; id: number } & GradProgress)
  | { type: "gradients-done"; id: number; result: GradJobResult }
  | { type: "clip-progress"; id: number; run: string; step: number; loss: number }
  | { type: "clip-done"; id: number; result: ClipSummary }
  | { type: "error"; id: number; name: string; message: string };
