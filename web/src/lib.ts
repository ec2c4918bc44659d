// Everything the playground takes from the library, in one place: the public, browser-safe entry
// (src/index.ts) and nothing deeper, with short names for what the page uses most. The application
// logic the page shares with the `recurrent` command is the entry's `app` namespace (src/app).
// The short names are functions, not copies taken at load time, so that a bundle leaves out what its
// entry does not call (the pool worker needs none of them).

import { forecast, viz } from "../../src/index.js";

export * from "../../src/index.js";
export type ChartSpec = viz.ChartSpec;
export type ForecastCheckpoint = forecast.ForecastCheckpoint;
export type PreparedSeries = forecast.PreparedSeries;
export type TrainOptions = forecast.TrainOptions;
export type ForecastCell = forecast.CellType;

export const forecastChart = (i: viz.ForecastChartInput): ChartSpec => viz.forecastChart(i);
export const gradientFlowChart = (i: viz.GradientFlowChartInput): ChartSpec => viz.gradientFlowChart(i);
export const gradNormChart = (i: viz.GradNormChartInput): ChartSpec => viz.gradNormChart(i);
export const lossChart = (i: viz.LossChartInput): ChartSpec => viz.lossChart(i);
export const sineChart = (i: viz.SineChartInput): ChartSpec => viz.sineChart(i);
// The three names the page's first script needs beside the chart specs, the same functions as the
// entry's `app.sineModelName`, `forecast.describeNet` and `nn.flowRatio`, taken from the leaf modules
// that define them: esbuild cannot leave out the rest of a namespace re-exported with `export * as`,
// and through the namespaces the page's first script was 608 KiB instead of about 50.
export { sineModelName } from "../../src/app/sine-name.js";
export { describeNet } from "../../src/forecast/describe.js";
export { flowRatio } from "../../src/nn/flow-ratio.js";
export const decodeCheckpoint = (bytes: Uint8Array, source?: string): ForecastCheckpoint =>
  forecast.decodeCheckpoint(bytes, source);
