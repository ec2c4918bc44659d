// The kernel seam: the set of numeric kernels a CPU backend provides. Every backend takes the same typed
// arrays and integers and fills the same buffers (contracts: gemm.ts, rnn.ts, adam.ts, stepper.ts); the
// TypeScript kernels are the reference implementation and the others are measured against them. The
// backends themselves are listed in one table, BACKENDS in backend.ts.
//
// The WebGPU device (webgpu/) is not a Kernels backend: its buffers live on the GPU and its results are
// read back asynchronously, so it speaks GPUBuffers through WebGPUContext (webgpu/context.ts) instead.

import type { adamStep } from "./adam.js";
import type { gemm } from "./gemm.js";
import type { rnnBackward, rnnForward } from "./rnn.js";
import type { StepperKernel, StepperSpec } from "./stepper.js";
import type { ResidentSaved } from "./wasm.js";

/** Names of the CPU kernel backends (the rows of BACKENDS in backend.ts). */
export type BackendName = "ts" | "wasm";

/** The kernel set a backend provides; the TypeScript kernels are the reference implementation. */
export interface Kernels {
  readonly name: BackendName;
  /** What runs: "typescript", "wasm-simd" or "wasm-relaxed-simd". */
  readonly detail: string;
  gemm: typeof gemm;
  rnnForward: typeof rnnForward;
  rnnBackward: typeof rnnBackward;
  /** A stepper for streaming inference (stepper.ts), holding its own copy of the weights. */
  createStepper(spec: StepperSpec): StepperKernel;
  adam: typeof adamStep;
  /**
   * A `saved` buffer that stays in the kernels' own memory between a forward and its backward (the wasm
   * kernels; null where there is none or no room), or absent (the TypeScript kernels).
   */
  reserveSaved?(n: number): ResidentSaved | null;
}
