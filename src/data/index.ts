// The data layer: CSV text -> numeric series -> scaled windows, chronological splits, dates, and
// forecast metrics with baselines. Browser-safe: strings and typed arrays in, typed arrays out.

export { DataError } from "./errors.js";
export { type CsvTable, type ParseCsvOptions, parseCsv, getColumn } from "./csv.js";
export {
  type FillMethod,
  type SelectSeriesOptions,
  type Series,
  DEFAULT_MISSING,
  selectSeries,
  insertMissingDates,
  decimalCommaReason,
} from "./series.js";
export {
  type DateFormat,
  type DatePrecision,
  type DateStep,
  parseDate,
  parseDateFormat,
  formatDate,
  daysInMonth,
  inferStep,
  stepsBetween,
  dateGaps,
  dateStepper,
  continueDates,
} from "./dates.js";
export {
  type Block,
  type SeriesLike,
  type Windows,
  type WindowOptions,
  type SplitWindows,
  makeWindows,
  splitWindows,
} from "./windows.js";
export { type IndexRange, type SeriesSplit, type SplitOptions, splitSeries } from "./split.js";
export {
  type FitOptions,
  type Scaler,
  type ScalerJSON,
  StandardScaler,
  MinMaxScaler,
  scalerFromJSON,
} from "./scaler.js";
export {
  type Scores,
  type Forecaster,
  type BacktestOptions,
  type BacktestResult,
  mae,
  rmse,
  smape,
  mase,
  seasonalNaiveScale,
  naiveForecast,
  seasonalNaiveForecast,
  rollingOriginBacktest,
} from "./metrics.js";
export {
  type Dataset,
  DataLoader,
  type DataLoaderOptions,
  defaultCollate,
  TensorDataset,
} from "./loader.js";
