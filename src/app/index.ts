// The application core shared by the `recurrent` command (src/node/cli) and the browser page (web/):
// what both do with the library (open a checkpoint against a CSV, forecast, backtest, the sine and
// gradient-flow experiments), returning plain data that each renders its own way. Browser-safe.

export {
  type BacktestOptions,
  type BacktestPhase,
  type BacktestView,
  type ChartSeries,
  type CheckpointSetting,
  type CheckpointView,
  type DataSummary,
  type ForecastSession,
  type FutureView,
  type ScoreRow,
  type SettingConflict,
  backtestView,
  chartHistory,
  checkpointSettings,
  checkpointView,
  classicalName,
  dataSummary,
  futureView,
  openForecast,
  prepareForCheckpoint,
  readCheckpoint,
  sessionOf,
  settingConflicts,
} from "./session.js";
export {
  CLIP_DEFAULTS,
  type CellFlow,
  type ClipRunsOptions,
  FLOW_DEFAULTS,
  type FlowCompareOptions,
  type FlowCompareResult,
  type FlowInputKind,
  type FlowProgress,
  checkFlowOptions,
  clipRuns,
  compareFlow,
  flowInput,
  type FlowModelsOptions,
  flowModels,
} from "./gradflow.js";
export {
  type SineHooks,
  type SineJobOptions,
  type SineJobResult,
  type SineProgress,
  sineModelName,
  sineJobResult,
  trainSine,
} from "./sine.js";
export { failureText } from "./train.js";
