// WebGPU in Node through Dawn (the optional npm package `webgpu`, a prebuilt dawn.node), with SwiftShader
// as the fallback where there is no GPU: Debian's and Ubuntu's chromium package ships SwiftShader, a
// Vulkan driver that runs on the CPU, as /usr/lib/chromium/libvk_swiftshader.so. Vulkan's loader finds it
// through an ICD manifest named in VK_ICD_FILENAMES; the manifest chromium ships holds a relative path,
// so we write a copy with the absolute one.
//
// Environment:
//   RECURRENT_WEBGPU_SWIFTSHADER=1   always use SwiftShader (e.g. CI on a machine that has a GPU)
//   RECURRENT_WEBGPU_SWIFTSHADER=0   never fall back to it
//   RECURRENT_SWIFTSHADER=<path>     where libvk_swiftshader.so is, when not in a known place

import { createHash } from "node:crypto";
import { existsSync, renameSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { requestWebGPU, type WebGPUContext, type WebGPUContextOptions } from "../kernels/webgpu/index.js";

/** Where distributions put SwiftShader's Vulkan driver (chromium's and Chrome's packages). */
const SWIFTSHADER_PATHS = [
  "/usr/lib/chromium/libvk_swiftshader.so",
  "/usr/lib/chromium-browser/libvk_swiftshader.so",
  "/usr/lib64/chromium-browser/libvk_swiftshader.so",
  "/opt/google/chrome/libvk_swiftshader.so",
];

export interface NodeGPUOptions {
  /**
   * "auto" (the default): the GPU's own Vulkan driver, else SwiftShader when no adapter is found;
   * true: SwiftShader only; false: never SwiftShader. RECURRENT_WEBGPU_SWIFTSHADER=1/0 overrides "auto".
   */
  swiftshader?: boolean | "auto";
  /** Dawn's creation flags (default on Linux: ["backend=vulkan"]). */
  flags?: string[];
}

interface Dawn {
  create(flags: string[]): GPU;
}

let dawn: Dawn | null = null;
// Every GPU object Dawn gave us, held for the process's life: Dawn frees its instance when the object is
// collected, and a device outliving its instance crashes the process at random.
const gpus: GPU[] = [];
let cached: { key: string; gpu: Promise<GPU> } | null = null;

/** libvk_swiftshader.so's path, or null where none is installed. */
export function swiftshaderLibrary(): string | null {
  const env = process.env.RECURRENT_SWIFTSHADER;
  if (env !== undefined && env !== "") {
    if (!existsSync(env)) throw new Error(`RECURRENT_SWIFTSHADER names ${env}, which does not exist`);
    return env;
  }
  return SWIFTSHADER_PATHS.find((p) => existsSync(p)) ?? null;
}

/** Writes (once) a Vulkan ICD manifest for SwiftShader with an absolute library path; returns its path. */
function swiftshaderIcd(library: string): string {
  const hash = createHash("sha256").update(library).digest("hex").slice(0, 12);
  const file = join(tmpdir(), `recurrent-swiftshader-${hash}.json`);
  if (!existsSync(file)) {
    const manifest = { file_format_version: "1.0.0", ICD: { library_path: library, api_version: "1.0.5" } };
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(manifest));
    renameSync(tmp, file); // atomic: another process never reads a half-written manifest
  }
  return file;
}

async function loadDawn(): Promise<Dawn> {
  if (dawn !== null) return dawn;
  const name = "webgpu"; // a variable, so that bundlers and the type checker leave the optional package alone
  try {
    dawn = (await import(name)) as Dawn;
  } catch (e) {
    throw new Error(
      `WebGPU in Node needs the optional package "webgpu" (Dawn's Node binding): npm install webgpu (${String(e)})`,
    );
  }
  return dawn;
}

function swiftshaderMode(option: NodeGPUOptions["swiftshader"]): boolean | "auto" {
  if (option !== undefined && option !== "auto") return option;
  const env = process.env.RECURRENT_WEBGPU_SWIFTSHADER;
  if (env === "1") return true;
  if (env === "0") return false;
  if (env !== undefined && env !== "") {
    throw new Error(`RECURRENT_WEBGPU_SWIFTSHADER should be "1" or "0", got ${JSON.stringify(env)}`);
  }
  return "auto";
}

function useSwiftshader(): boolean {
  const lib = swiftshaderLibrary();
  if (lib === null) return false;
  process.env.VK_ICD_FILENAMES = swiftshaderIcd(lib); // read by Vulkan's loader when Dawn creates an instance
  return true;
}

/**
 * Dawn's GPU object (the Node counterpart of navigator.gpu), with an adapter known to exist. Where the
 * machine's Vulkan drivers give no adapter, points Vulkan at SwiftShader (see NodeGPUOptions) and tries
 * again. Throws saying why when neither works. The same call returns the same object.
 */
export function nodeGPU(options: NodeGPUOptions = {}): Promise<GPU> {
  const mode = swiftshaderMode(options.swiftshader);
  const flags = options.flags ?? (process.platform === "linux" ? ["backend=vulkan"] : []);
  const key = JSON.stringify([mode, flags]);
  if (cached !== null && cached.key === key) return cached.gpu;
  const attempt = async (): Promise<GPU> => {
    const d = await loadDawn();
    const tryCreate = async (): Promise<GPU | null> => {
      const gpu = d.create(flags);
      gpus.push(gpu);
      return (await gpu.requestAdapter()) === null ? null : gpu;
    };
    if (mode === true) {
      if (!useSwiftshader()) {
        throw new Error(
          `WebGPU: SwiftShader was asked for but libvk_swiftshader.so is not installed (looked in ${SWIFTSHADER_PATHS.join(", ")}; install chromium or set RECURRENT_SWIFTSHADER)`,
        );
      }
      const gpu = await tryCreate();
      if (gpu === null) throw new Error("WebGPU: Dawn found no adapter on SwiftShader");
      return gpu;
    }
    const gpu = await tryCreate();
    if (gpu !== null) return gpu;
    if (mode === "auto" && useSwiftshader()) {
      const soft = await tryCreate();
      if (soft !== null) return soft;
    }
    throw new Error(
      mode === "auto" && swiftshaderLibrary() === null
        ? "WebGPU is unavailable: Dawn found no GPU adapter, and SwiftShader (chromium's libvk_swiftshader.so) is not installed to fall back on"
        : "WebGPU is unavailable: Dawn found no GPU adapter",
    );
  };
  const gpu = attempt();
  cached = { key, gpu };
  gpu.catch(() => {
    if (cached?.gpu === gpu) cached = null; // let a later call try again
  });
  return gpu;
}

/**
 * Sets up the WebGPU device for "webgpu" tensors and modules in Node (nodeGPU, then requestWebGPU) and
 * returns its context. As in a page, the device asks for the adapter's buffer and binding size limits.
 */
export async function requestNodeWebGPU(
  options: NodeGPUOptions & WebGPUContextOptions = {},
): Promise<WebGPUContext> {
  return requestWebGPU(await nodeGPU(options), options);
}
