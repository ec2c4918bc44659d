// recurrent: the public, browser-safe entry. Nothing here (or below it) touches Node built-ins;
// file and process helpers live in `recurrent/node`.
export * from "./core/index.js";
export * as app from "./app/index.js";
export * as data from "./data/index.js";
export * as forecast from "./forecast/index.js";
export * as io from "./io/index.js";
export * as nn from "./nn/index.js";
export * as optim from "./optim/index.js";
export * as viz from "./viz/index.js";
export {
  type BackendName,
  backendName,
  backendReady,
  getKernels,
  type Kernels,
  setBackend,
} from "./kernels/backend.js";
export { supportedWasmVariant } from "./kernels/wasm.js";
export {
  type HiddenState,
  rollOut,
  runSineExperiment,
  type SineOptions,
  type SinePrediction,
  type SineResult,
  SineNet,
  SineTrainer,
  sinePredict,
  sineWindow,
} from "./experiments/sine.js";
export {
  type Binding,
  hasWebGPU,
  IndexCheckError,
  requestWebGPU,
  useWebGPU,
  type WebGPUAdapterInfo,
  WebGPUContext,
  type WebGPUContextOptions,
  type WebGPUStats,
  webgpuContext,
} from "./kernels/webgpu/index.js";
export { serveWebPool, startWebThreads, type WebWorkerLike } from "./kernels/web-threads.js";
export {
  getNumThreads,
  type PoolPlatform,
  type PoolWorker,
  poolStats,
  servePool,
  setNumThreads,
  setPoolPlatform,
  shutdownPool,
} from "./kernels/pool.js";
