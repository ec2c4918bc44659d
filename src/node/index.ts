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
