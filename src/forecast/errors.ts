// The forecasting layer's error: bad options, unusable checkpoints, series that do not fit a model.
// Messages say what was expected and what was found; the command line prints them as they are.

export class ForecastError extends Error {
  override name = "ForecastError";
}

/** A checkpoint that cannot be used: not ours, damaged, too new, or not matching the data. */
export class CheckpointError extends ForecastError {
  override name = "CheckpointError";
}
