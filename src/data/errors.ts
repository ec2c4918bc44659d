// The one error class of the data layer: bad files, bad columns, bad options. The message says what
// was expected and what was found, with the 1-based file line (header = line 1) where one applies.

/** Thrown for malformed CSV text, unknown columns, bad values and unusable data options. */
export class DataError extends Error {
  override name = "DataError";
}

/** Quotes a cell or column name for a message, shortening very long values. */
export function quote(value: string): string {
  const s = value.length > 40 ? `${value.slice(0, 37)}...` : value;
  return JSON.stringify(s);
}

/** Checks that `value` is an integer >= `min`; `what` names it in the error. */
export function checkInt(value: number, min: number, what: string): void {
  if (!Number.isInteger(value) || value < min) {
    throw new DataError(`${what} must be an integer >= ${min}, got ${value}`);
  }
}
