// Classical forecasters (browser-safe): ETS with automatic model selection, Theta, and the naive
// family, with the small statistics and the Nelder–Mead optimizer they are built on.

export {
  type EtsCandidate,
  EtsError,
  type EtsErrorType,
  type EtsFilterResult,
  type EtsFit,
  type EtsForecast,
  type EtsForecastOptions,
  type EtsParams,
  type EtsSeasonType,
  type EtsTrendType,
  type EtsType,
  type FitEtsOptions,
  autoEts,
  etsAdmissible,
  etsCandidates,
  etsFilter,
  etsForecast,
  etsModel,
  etsSpec,
  fitEts,
  parseEtsModel,
} from "./ets.js";
export { type NelderMeadOptions, type NelderMeadResult, nelderMead } from "./optim.js";
export {
  type Decomposition,
  NormalRng,
  acf,
  centredMovingAverage,
  decompose,
  leastSquares,
  lineFit,
  pnorm,
  qnorm,
  quantileSorted,
  rootsInUnitDisk,
} from "./stats.js";
export { type ThetaFit, fitTheta, thetaSeasonalTest } from "./theta.js";
export { naive, seasonalNaive, seasonalNaiveDrift } from "./naive.js";
export {
  CLASSICAL_FORECASTERS,
  type FittedForecaster,
  type SeriesForecaster,
  arimaForecaster,
  makeArimaForecaster,
  etsForecaster,
  makeEtsForecaster,
  naiveForecaster,
  seasonalNaiveDriftForecaster,
  seasonalNaiveForecaster,
  thetaForecaster,
} from "./forecasters.js";
export { type ClassicalBacktestOptions, type ClassicalRow, classicalBacktest } from "./backtest.js";
export {
  type ArimaFit,
  type ArimaForecast,
  type ArimaOrder,
  type ArimaParams,
  type AutoArimaOptions,
  type FitArimaOptions,
  ArimaError,
  KPSS_CRITICAL_5,
  SEASONAL_STRENGTH_THRESHOLD,
  arimaForecast,
  arimaResiduals,
  arimaSpec,
  autoArima,
  difference,
  fitArima,
  expandedCoefficients,
  kpssStatistic,
  ndiffs,
  nsdiffs,
  psiWeights,
  seasonalStrength,
} from "./arima.js";
