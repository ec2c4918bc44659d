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
