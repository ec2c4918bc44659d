// Everything the playground takes from the library, in one place. The public entry (src/index.ts) is
// bundled whole; the forecasting layer, the chart specs, the sine experiment, the gradient-flow
// analysis and the kernel backend switch are not (yet) exported from it, so they are imported from
// their modules here. When src/index.ts exports them, only this file changes.

export * from "../../src/index.js";
export type { CellType as SineCell } from "../../src/experiments/sine.js";
export {
  type ForecastCheckpoint,
  decodeCheckpoint,
  encodeCheckpoint,
} from "../../src/forecast/checkpoint.js";
export {
  defaultSeason,
  describeStep,
  FILL_HINT,
  type PreparedSeries,
  prepareSeries,
} from "../../src/forecast/data.js";
export { CheckpointError, ForecastError } from "../../src/forecast/errors.js";
export {
  type Evaluation,
  evaluateForecaster,
  forecasterFrom,
  forecastSeries,
  seriesSpecOf,
} from "../../src/forecast/forecast.js";
export type { CellType as ForecastCell } from "../../src/forecast/model.js";
export { DEFAULT_TRAIN_OPTIONS, type TrainOptions, trainForecaster } from "../../src/forecast/train.js";
export { backendName, type BackendName, setBackend } from "../../src/kernels/backend.js";
export { supportedWasmVariant } from "../../src/kernels/wasm.js";
export {
  type ClipExperimentResult,
  clipExperiment,
  flowRatio,
  type GradientFlowResult,
  gradientFlow,
  makeFlowModel,
} from "../../src/nn/gradflow.js";
export {
  type ChartSpec,
  forecastChart,
  gradientFlowChart,
  gradNormChart,
  lossChart,
  sineChart,
} from "../../src/viz/index.js";
export { classicalBacktest } from "../../src/forecast/classical/backtest.js";
export { describeModel, modelKind } from "../../src/forecast/describe.js";
