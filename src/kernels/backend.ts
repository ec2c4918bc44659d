// The kernel backend seam. Every numeric kernel (gemm, rnnForward, rnnBackward, adam) runs either as plain
// TypeScript (gemm.ts, rnn.ts, adam.ts: the reference twin and the fallback) or as WebAssembly SIMD
// (wasm.ts), chosen at run time; callers import the kernels from here and never see which one ran.
//
// Default: wasm when this runtime validates the SIMD module (the relaxed-SIMD build where accepted), else
// ts. Override with setBackend("ts" | "wasm") or the environment variable RECURRENT_BACKEND=ts|wasm (read
// through globalThis.process, so the module loads unchanged in browsers). Both backends share the `saved`
// layout of rnn.ts, so a forward on one and its backward on the other agree.
//
// Threads: large calls are split across a worker pool (pool.ts; setNumThreads), marked `// threads` below.

import { adamStep as adamTs } from "./adam.js";
import { gemm as gemmTs } from "./gemm.js";
import {
  poolGemm,
  poolRnnBackward,
  poolRnnForward,
  poolSplitsRnn,
  reserveSplitSaved,
  type SplitSaved,
} from "./pool.js"; // threads: large calls are split
import {
  type RnnDims,
  type RnnWeightGrads,
  type RnnWeights,
  rnnBackward as rnnBackwardTs,
  rnnForward as rnnForwardTs,
} from "./rnn.js";
import { TsStepper } from "./stepper.js";
import type { BackendName, Kernels } from "./kernels.js";
import {
  createWasmKernels,
  ResidentSaved,
  supportedWasmVariants,
  type WasmVariant,
  wasmBytes,
} from "./wasm.js";

export type { RnnDims, RnnMode, RnnWeightGrads, RnnWeights } from "./rnn.js";
export { rnnGateCount, rnnWorkspaceSize } from "./rnn.js";
export type {
  StepperHead,
  StepperKernel,
  StepperLayer,
  StepperSpec,
} from "./stepper.js";
export type { BackendName, Kernels } from "./kernels.js";
export { ResidentSaved } from "./wasm.js";
export {
  getNumThreads,
  type PoolPlatform,
  type PoolWorker,
  poolStats,
  setNumThreads,
  setPoolPlatform,
  shutdownPool,
} from "./pool.js";

const tsKernels: Kernels = {
  name: "ts",
  detail: "typescript",
  gemm: gemmTs,
  rnnForward: rnnForwardTs,
  rnnBackward: rnnBackwardTs,
  createStepper: (spec) => new TsStepper(spec),
  adam: adamTs,
};

/**
 * The CPU backends, by name: each entry returns its kernels or throws saying why this runtime cannot run
 * them. A new backend is a row here (and a name in kernels.ts's BackendName).
 */
const BACKENDS: Record<BackendName, () => Kernels> = {
  ts: () => tsKernels,
  wasm: () => loadWasm(),
};

/** The backend names, in the order of BACKENDS, quoted and joined for error messages: `"ts" or "wasm"`. */
function backendList(): string {
  const names = Object.keys(BACKENDS).map((n) => JSON.stringify(n));
  return names.length <= 1
    ? names.join("")
    : `${names.slice(0, -1).join(", ")} or ${names[names.length - 1]}`;
}

function isBackendName(name: unknown): name is BackendName {
  return typeof name === "string" && Object.hasOwn(BACKENDS, name);
}

let active: Kernels | null = null; // null until the first kernel call (or setBackend) picks one
let chosen = false; // set by setBackend or RECURRENT_BACKEND: an async compile must not override it
let wasm: Kernels | null = null;
let wasmError: string | null = null; // why wasm is unavailable, once known
let pending: Promise<void> | null = null; // an asynchronous compile in flight

/** The kernels of the active backend (picking the default on first use). */
export function getKernels(): Kernels {
  return active ?? pickDefault();
}

/** Name of the active backend. */
export function backendName(): BackendName {
  return getKernels().name;
}

/**
 * Selects the backend for every later kernel call. "wasm" throws, saying why, when this runtime cannot
 * run the WebAssembly SIMD module.
 */
export function setBackend(name: BackendName): void {
  if (!isBackendName(name))
    throw new Error(`setBackend: expected ${backendList()}, got ${JSON.stringify(name)}`);
  active = BACKENDS[name]();
  chosen = true;
}

/**
 * Resolves with the backend name once the default choice is final. Needed only where synchronous
 * compilation is refused (a browser's main thread, for modules over its limit): the kernels then start on
 * ts and switch to wasm when the asynchronous compile finishes, unless a backend was chosen explicitly.
 */
export async function backendReady(): Promise<BackendName> {
  getKernels();
  if (pending !== null) await pending;
  return backendName();
}

function envBackend(): string | undefined {
  const proc = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process;
  const v = proc?.env?.RECURRENT_BACKEND;
  return v === undefined || v === "" ? undefined : v;
}

function pickDefault(): Kernels {
  const env = envBackend();
  if (env !== undefined) {
    if (!isBackendName(env)) {
      throw new Error(`RECURRENT_BACKEND should be ${backendList()}, got ${JSON.stringify(env)}`);
    }
    setBackend(env);
    return active!;
  }
  try {
    active = loadWasm();
  } catch {
    active = tsKernels;
  }
  return active;
}

function loadWasm(): Kernels {
  if (wasm !== null) return wasm;
  const variants = supportedWasmVariants();
  if (variants.length === 0) wasmError = "this JavaScript runtime does not validate WebAssembly SIMD modules";
  if (wasmError !== null) throw new Error(`wasm backend unavailable: ${wasmError}`);
  let error: unknown = null;
  for (const v of variants) {
    try {
      wasm = createWasmKernels(new WebAssembly.Module(wasmBytes(v)), v);
      return wasm;
    } catch (e) {
      error ??= e; // the next variant may compile where this one did not
    }
  }
  // e.g. a browser main thread refusing synchronous compilation: compile asynchronously instead
  if (pending === null) compileAsync(variants);
  throw new Error(`wasm backend unavailable synchronously (${String(error)}); await backendReady()`);
}

function compileAsync(variants: WasmVariant[]): void {
  const attempt = async (): Promise<void> => {
    let error: unknown = null;
    for (const v of variants) {
      try {
        const m = await WebAssembly.compile(wasmBytes(v));
        wasm = createWasmKernels(m, v);
        if (!chosen) active = wasm;
        return;
      } catch (e) {
        error ??= e;
      }
    }
    wasmError = String(error);
  };
  pending = attempt();
}

// ---------------------------------------------------------------------------------------------------------
// The kernels, dispatched to the active backend (signatures and contracts: gemm.ts and rnn.ts)

export const gemm: Kernels["gemm"] = (
  transA,
  transB,
  M,
  N,
  K,
  A,
  aOff,
  lda,
  B,
  bOff,
  ldb,
  beta,
  C,
  cOff,
  ldc,
) => {
  const k = active ?? pickDefault();
  if (poolGemm(k, transA, transB, M, N, K, A, aOff, lda, B, bOff, ldb, beta, C, cOff, ldc)) return; // threads
  k.gemm(transA, transB, M, N, K, A, aOff, lda, B, bOff, ldb, beta, C, cOff, ldc);
};

/**
 * A `saved` buffer for a training forward that stays where the kernels write it until its backward, or
 * null: then pass a Float32Array. Unsplit, in the kernels' memory where the active kernels keep one
 * (ResidentSaved); split across threads, in a shared buffer each part's thread reads in place
 * (SplitSaved, src/kernels/pool.ts).
 */
export function reserveSaved(dims: RnnDims, n: number): ResidentSaved | SplitSaved | null {
  if (poolSplitsRnn(dims)) return reserveSplitSaved(dims, n);
  const k = active ?? pickDefault();
  if (k.reserveSaved === undefined) return null;
  return k.reserveSaved(n);
}

export const rnnForward = (
  dims: RnnDims,
  w: RnnWeights,
  x: Float32Array, // (N, I)
  h0: Float32Array | null, // (B, R)
  c0: Float32Array | null, // (B, H)
  y: Float32Array, // (N, R) out
  hN: Float32Array, // (B, R) out
  cN: Float32Array | null, // (B, H) out, LSTM
  saved: Float32Array | ResidentSaved | SplitSaved | null, // out, null = inference
  scratch: Float32Array,
): void => {
  // a resident saved runs on the kernels that hold it, on this thread (reserveSaved checked both just before)
  if (saved instanceof ResidentSaved) {
    saved.owner.rnnForward(dims, w, x, h0, c0, y, hN, cN, saved, scratch);
    return;
  }
  const k = active ?? pickDefault();
  if (poolRnnForward(k, dims, w, x, h0, c0, y, hN, cN, saved)) return; // threads (always for a SplitSaved)
  k.rnnForward(dims, w, x, h0, c0, y, hN, cN, saved as Float32Array | null, scratch);
};

export const rnnBackward = (
  dims: RnnDims,
  w: RnnWeights,
  dW: RnnWeightGrads, // accumulated (+=)
  x: Float32Array, // (N, I)
  dX: Float32Array | null, // (N, I) out
  h0: Float32Array | null, // (B, R)
  dH0: Float32Array | null, // (B, R) out
  c0: Float32Array | null, // (B, H)
  dC0: Float32Array | null, // (B, H) out
  y: Float32Array, // (N, R)
  dY: Float32Array | null, // (N, R)
  dHn: Float32Array | null, // (B, R)
  dCn: Float32Array | null, // (B, H)
  saved: Float32Array | ResidentSaved | SplitSaved | null,
  scratch: Float32Array,
): void => {
  const k = active ?? pickDefault();
  if (saved instanceof ResidentSaved) {
    // in place where the kernels that hold it still run the call unsplit; else copied out for the others
    if (saved.owner === k && !poolSplitsRnn(dims)) {
      saved.owner.rnnBackward(dims, w, dW, x, dX, h0, dH0, c0, dC0, y, dY, dHn, dCn, saved, scratch);
      return;
    }
    saved = saved.read();
  }
  if (poolRnnBackward(k, dims, w, dW, x, dX, h0, dH0, c0, dC0, y, dY, dHn, dCn, saved)) return; // threads (always for a SplitSaved)
  k.rnnBackward(dims, w, dW, x, dX, h0, dH0, c0, dC0, y, dY, dHn, dCn, saved as Float32Array | null, scratch);
};
