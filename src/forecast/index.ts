// Forecasting real series (browser-safe): the ForecastNet model, the series -> windows -> forecast
// pipeline, training with early stopping, checkpoints as safetensors bytes, forecasting and backtests.

export { CheckpointError, ForecastError } from "./errors.js";
export {
  type CellType,
  CELL_TYPES,
  ForecastNet,
  type ForecastModelConfig,
  type ModelConfigJSON,
  modelConfigFromJSON,
  modelConfigToJSON,
} from "./model.js";
export {
  type PreparedSeries,
  type SeriesSpec,
  FILL_HINT,
  defaultSeason,
  describeStep,
  prepareSeries,
  prepareTable,
} from "./data.js";
export {
  type PipelineSpec,
  decodeOutputs,
  forecastAt,
  gatherInput,
  predictWindows,
  scaleSeries,
  windowInputs,
  windowTargets,
} from "./pipeline.js";
export {
  CHECKPOINT_FORMAT_VERSION,
  CHECKPOINT_KIND,
  type DataSpecJSON,
  type EpochRecord,
  type ForecastCheckpoint,
  type ForecastMeta,
  LIBRARY_VERSION,
  type SplitJSON,
  type TrainingJSON,
  type WindowNorm,
  buildModel,
  checkpointFromParts,
  checkpointMetadata,
  checkpointScaler,
  decodeCheckpoint,
  withoutTimings,
  encodeCheckpoint,
} from "./checkpoint.js";
export {
  DEFAULT_TRAIN_OPTIONS,
  fixedSettings,
  type EpochReport,
  type FixedSettings,
  type StopReason,
  type TrainFailure,
  type TrainHooks,
  type TrainOptions,
  type TrainResult,
  originsIn,
  planSplit,
  trainForecaster,
} from "./train.js";
export {
  type EvaluateOptions,
  type Evaluation,
  type ForecastOutput,
  type Forecaster,
  checkSeriesFits,
  evaluateForecaster,
  forecastSeries,
  forecasterFrom,
  seriesSpecOf,
  testStartIn,
} from "./forecast.js";
// ETS, ARIMA, Theta and the naive family, with their statistics and optimizer (browser-safe).
export * as classical from "./classical/index.js";
export { exportForecastOnnx } from "./onnx.js";
export { NonFiniteError } from "./finite.js";
export {
  LIMITS,
  type RecurrentArch,
  checkDeclaredArch,
  recurrentArchOf,
  validateForecastCheckpoint,
} from "./validate.js";
export { describeModel, describeNet, modelKind } from "./describe.js";
export {
  type PanelEvaluation,
  type PanelForecast,
  type PanelSpec,
  type PanelTrainResult,
  type PanelWindows,
  type PreparedPanel,
  evaluatePanel,
  forecastPanel,
  panelOf,
  panelWindows,
  poolScores,
  preparePanel,
  seriesCheckpoint,
  trainPanel,
} from "./panel.js";
export { type PanelJSON, type PanelSeriesJSON, seriesView } from "./panel-meta.js";
