// For the check scripts run by run.ts: the WebGPU device, or a printed {"available": false} and exit 0.

import { requestNodeWebGPU } from "../../src/node/webgpu.js";
import type { WebGPUContext } from "../../src/kernels/webgpu/index.js";

/** The context (Dawn, SwiftShader where there is no GPU); where there is none, says why and exits. */
export async function deviceOrExit(): Promise<WebGPUContext> {
  try {
    return await requestNodeWebGPU();
  } catch (e) {
    console.log(JSON.stringify({ available: false, reason: e instanceof Error ? e.message : String(e) }));
    process.exit(0);
  }
}

/** Prints the results as the last line of stdout, destroys the device and exits 0. */
export function finish(ctx: WebGPUContext, results: Record<string, unknown>): never {
  console.log(JSON.stringify({ available: true, adapter: ctx.adapterInfo, ...results }));
  ctx.destroy();
  process.exit(0);
}
