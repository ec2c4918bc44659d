// Chart specs shared by the `recurrent` command (rendered headless by recurrent/node) and the browser
// page (vega-embed or vega's own renderer). Each chart is a pure function from plain arrays to a
// Vega-Lite spec: the same input always gives the same spec JSON.
export {
  type ChartFrame,
  type ChartSpec,
  ChartError,
  FONT,
  MAX_SERIES,
  type NamedSeries,
  PALETTE,
} from "./common.js";
export { type ForecastChartInput, forecastChart } from "./forecast.js";
export { type SineChartInput, sineChart } from "./sine.js";
export {
  type GradientFlowChartInput,
  type GradNormChartInput,
  type LineChartOptions,
  type LossChartInput,
  gradNormChart,
  gradientFlowChart,
  lossChart,
} from "./training.js";
