// One training program for both devices. A program is a generator that yields every tensor whose values
// it must read (a loss to record, logits to decode, a final output) and gets back a CPU tensor holding
// them: on the CPU the tensor itself, read synchronously, so each example's `run()` keeps its synchronous
// API and its numbers; on webgpu `await t.cpuAsync()`, since reading the GPU is asynchronous. Each yield
// marks a point where a device program waits for the GPU, as `loss.item()` does in PyTorch on CUDA.
import type { Device, Tensor } from "../src/index.js";
import { requestNodeWebGPU } from "../src/node/index.js";

export type { Device };

/** A program's reads: yields a tensor, gets it back on the CPU. */
export type Program<R> = Generator<Tensor, R, Tensor>;

/** Runs a program built for the CPU, synchronously. */
export function runOnCpu<R>(program: Program<R>): R {
  let step = program.next();
  while (!step.done) {
    if (step.value.device !== "cpu") {
      throw new Error(`a CPU run read a tensor on ${step.value.device}: run the program with runOnDevice`);
    }
    step = program.next(step.value);
  }
  return step.value;
}

/** Runs a program on any device, reading each yielded tensor back with `await t.cpuAsync()`. */
export async function runOnDevice<R>(program: Program<R>): Promise<R> {
  let step = program.next();
  while (!step.done) step = program.next(await step.value.cpuAsync());
  return step.value;
}

/**
 * The device an example's command line names (`--device webgpu`; "cpu" without the flag) and the other
 * arguments. For "webgpu" it sets up Dawn's Node binding first (SwiftShader where there is no GPU).
 */
export async function deviceFromArgs(
  argv = process.argv.slice(2),
): Promise<{ device: Device; args: string[] }> {
  const args = argv.slice();
  const at = args.indexOf("--device");
  if (at < 0) return { device: "cpu", args };
  const device = args[at + 1];
  if (device !== "cpu" && device !== "webgpu") {
    throw new Error(`--device: expected "cpu" or "webgpu", got ${JSON.stringify(device ?? "nothing")}`);
  }
  args.splice(at, 2);
  if (device === "webgpu") await requestNodeWebGPU();
  return { device, args };
}
