// The WebGPU device registry: the one context that tensors and modules moved to "webgpu" use. A page calls
// `await requestWebGPU()` (navigator.gpu); Node calls `await requestNodeWebGPU()` from recurrent/node
// (Dawn); either may instead build a WebGPUContext itself and pass it to useWebGPU.

import { WebGPUContext, type WebGPUContextOptions } from "./context.js";

export {
  ADAPTER_LIMITS,
  type Binding,
  IndexCheckError,
  poolSize,
  type WebGPUAdapterInfo,
  WebGPUContext,
  type WebGPUContextOptions,
  type WebGPUStats,
} from "./context.js";

let current: WebGPUContext | null = null;
let pending: Promise<WebGPUContext> | null = null;

/** Makes `ctx` the WebGPU device for everything moved to "webgpu" (null: none). Returns the previous one. */
export function useWebGPU(ctx: WebGPUContext | null): WebGPUContext | null {
  if (ctx !== null && !(ctx instanceof WebGPUContext)) {
    throw new TypeError(`useWebGPU: expected a WebGPUContext or null, got ${String(ctx)}`);
  }
  const previous = current;
  current = ctx;
  return previous;
}

/** Whether a WebGPU device is set up (by requestWebGPU, requestNodeWebGPU or useWebGPU). */
export function hasWebGPU(): boolean {
  return current !== null;
}

/** The WebGPU device in use; throws saying how to get one when none is set up. */
export function webgpuContext(): WebGPUContext {
  if (current === null) {
    throw new Error(
      'No WebGPU device: call `await requestWebGPU()` first (in Node: `await requestNodeWebGPU()` from "recurrent/node")',
    );
  }
  return current;
}

/**
 * Sets up the WebGPU device once and returns it: from `gpu` when given, else from the browser's
 * navigator.gpu. The device asks for the adapter's buffer and binding size limits (ADAPTER_LIMITS), not
 * WebGPU's defaults (`options.limits: "default"` for those). Throws saying why when this runtime has no
 * WebGPU or no adapter.
 */
export async function requestWebGPU(gpu?: GPU, options?: WebGPUContextOptions): Promise<WebGPUContext> {
  if (current !== null) return current;
  if (pending !== null) return pending;
  const g = gpu ?? (globalThis as { navigator?: { gpu?: GPU } }).navigator?.gpu;
  if (g === undefined || g === null) {
    throw new Error(
      'WebGPU is unavailable: this runtime has no navigator.gpu (in Node use requestNodeWebGPU() from "recurrent/node")',
    );
  }
  pending = WebGPUContext.create(g, options);
  try {
    current = await pending;
    return current;
  } finally {
    pending = null;
  }
}
