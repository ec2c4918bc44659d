// The Node-only entry (`recurrent/node`): files and processes.
export {
  type LoadedSafetensors,
  loadSafetensors,
  loadSafetensorsHeader,
  loadSafetensorsSync,
  saveSafetensors,
  saveSafetensorsSync,
} from "./checkpoint.js";
export {
  type ChartFonts,
  chartFonts,
  compileChart,
  encodePng,
  type PngOptions,
  renderChart,
  renderSvg,
  svgToPng,
  writeChart,
} from "./render.js";
// Importing the Node entry installs the worker-thread platform: large products and batches use both cores
// (setNumThreads(1) from the public entry turns it off; RECURRENT_NUM_THREADS sets the default).
export { nodeThreads } from "./threads.js";
// Importing the Node entry also turns on WebAssembly relaxed SIMD on Node 20 (fused multiply-add in the
// kernels; Node 22+ has it by default), before the kernels compile on their first call.
export { enableRelaxedSimd } from "./relaxed-simd.js";
// WebGPU through Dawn (the optional package `webgpu`), falling back to SwiftShader where there is no GPU.
export { type NodeGPUOptions, nodeGPU, requestNodeWebGPU, swiftshaderLibrary } from "./webgpu.js";
