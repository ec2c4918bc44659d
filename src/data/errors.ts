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

/**
 * `s` with control characters (C0 but newline and tab, DEL, C1) written as \u escapes, so that text from
 * a file (a column name holding an ANSI escape sequence) cannot drive the terminal it is printed on.
 */
export function escapeControls(s: string): string {
  let out = "";
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const control = (c < 0x20 && c !== 0x0a && c !== 0x09) || (c >= 0x7f && c <= 0x9f);
    out += control ? `\\u${c.toString(16).padStart(4, "0")}` : s[i];
  }
  return out;
}
