// From a parsed table to a numeric series: pick the target and feature columns, read numbers strictly,
// and deal with missing values as asked.
//
// T = time steps (rows), F = selected columns (features, the target among them).
//
// Missing values are empty cells and the tokens in `missingValues` (NA, N/A, NaN, nan, null, NULL,
// None by default). Without `fill`, a missing value is an error naming its line and column. With it:
// - "drop":   rows with a missing value in any selected column are removed (dates and lines follow);
//             note that this leaves holes in the time axis.
// - "ffill":  each gap takes the last value seen before it. A leading gap, which has no value before
//             it, takes the first value seen after it (back-fill), so the series keeps its length.
// - "linear": each gap is interpolated linearly by row position between its neighbours; leading and
//             trailing gaps take the nearest value seen.
// A selected column with no value at all is an error whatever `fill` says.

import { type CsvTable, cellReader, checkColumn } from "./csv.js";
import { type DateFormat, type DateStep, dateGaps, dateStepper, formatDate, inferStep } from "./dates.js";
import { DataError, quote } from "./errors.js";

export type FillMethod = "ffill" | "linear" | "drop";

export interface SelectSeriesOptions {
  /** The column to forecast. */
  target: string;
  /**
   * Input columns besides the target. The target comes first (targetIndex 0) unless it is listed
   * here, in which case the columns keep this order and targetIndex is its position.
   */
  features?: readonly string[];
  /** How to treat missing values; default: they are errors. */
  fill?: FillMethod;
  /** Cell texts (after trimming) that mean "missing"; the empty cell always does. */
  missingValues?: readonly string[];
}

/** A numeric multivariate series: row-major (T, F) float32 values with the names and dates of its rows. */
export interface Series {
  data: Float32Array; // (T, F)
  shape: [number, number]; // [T, F]
  /** The F column names, in order. */
  columns: string[];
  /** Position of the target among the columns. */
  targetIndex: number;
  /** Date of each row (ms since epoch, UTC), or null when the table has no date column. */
  dates: number[] | null;
  dateFormat: DateFormat | null;
  /** File line of each row (0 for rows inserted by `insertMissingDates`). */
  lines: number[];
}

export const DEFAULT_MISSING: readonly string[] = ["NA", "N/A", "NaN", "nan", "null", "NULL", "None"];

const NUMBER_RE = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** A number written with a decimal comma (`1,5`, `-0,25`, `1.234,5`), which this reader does not take. */
const DECIMAL_COMMA_RE = /^[+-]?\d{1,3}(\.\d{3})*,\d+$|^[+-]?\d+,\d+$/;

/**
 * Why a cell that is not a number may still be meant as one: for a number with a decimal comma, a
 * sentence saying so and what to do; otherwise null. Error messages append it.
 */
export function decimalCommaReason(cell: string): string | null {
  const s = cell.trim();
  if (/^[+-]?\d{1,3}(,\d{3})+$/.test(s)) {
    return `${quote(s)} has a comma in a number, a decimal comma or a thousands separator; numbers must use a decimal point and no thousands separators`;
  }
  if (!DECIMAL_COMMA_RE.test(s)) return null;
  const point = s.replace(/\./g, "").replace(",", ".");
  return `${quote(s)} looks like a number with a decimal comma; numbers must use a decimal point (${point}): export the file with "." as the decimal separator`;
}

/** Where a row comes from, for messages: `line 12`, or the date of a row that `insertMissingDates` added. */
function rowWhere(table: CsvTable, row: number): string {
  const line = table.lines[row];
  if (line > 0) return `line ${line}`;
  const date =
    table.dates === null ? `row ${row}` : formatDate(table.dates[row], table.dateFormat ?? undefined);
  return `the row for ${date} that insertMissingDates added (no such line in the file)`;
}

/** Selects the target and feature columns of a table as a float32 (T, F) series. */
export function selectSeries(table: CsvTable, options: SelectSeriesOptions): Series {
  const { target, fill } = options;
  if (typeof target !== "string") throw new DataError("selectSeries: `target` must name a column");
  if (fill !== undefined && fill !== "ffill" && fill !== "linear" && fill !== "drop") {
    throw new DataError(`selectSeries: fill must be "ffill", "linear" or "drop", got ${quote(String(fill))}`);
  }
  const features = options.features ?? [];
  const names = features.includes(target) ? [...features] : [target, ...features];
  const seen = new Set<string>();
  for (const n of names) {
    if (seen.has(n)) throw new DataError(`selectSeries: column ${quote(n)} is selected twice`);
    seen.add(n);
    checkColumn(table, n);
    if (n === table.dateColumn) {
      throw new DataError(
        `selectSeries: column ${quote(n)} is the date column and cannot be a numeric feature`,
      );
    }
  }
  const missing = new Set(options.missingValues ?? DEFAULT_MISSING);
  const T = table.rowCount;
  const F = names.length;

  // values[c][t], NaN where missing
  const values: Float64Array[] = names.map((name) => {
    const cell = cellReader(table, name); // one cell at a time: no column of strings is built
    const col = new Float64Array(T);
    for (let t = 0; t < T; t++) {
      const s = cell(t).trim();
      if (s === "" || missing.has(s)) {
        if (fill === undefined) {
          throw new DataError(
            `missing value in column ${quote(name)} on ${rowWhere(table, t)}; pass fill: "ffill", "linear" or "drop" to fill or drop missing values`,
          );
        }
        col[t] = Number.NaN;
      } else if (NUMBER_RE.test(s)) {
        col[t] = Number(s);
        if (!Number.isFinite(Math.fround(col[t]))) {
          throw new DataError(
            `value ${quote(s)} in column ${quote(name)} on ${rowWhere(table, t)} is beyond the float32 range (±3.4028235e38) that models compute in; rescale the column (a fill method does not apply: the value is not missing)`,
          );
        }
      } else {
        const why = decimalCommaReason(s);
        throw new DataError(
          `non-numeric value ${quote(cell(t))} in column ${quote(name)} on ${rowWhere(table, t)}${why ? `: ${why}` : ""}`,
        );
      }
    }
    return col;
  });

  let keep: number[] | null = null; // rows kept by "drop"
  if (fill === "drop") {
    keep = [];
    for (let t = 0; t < T; t++) if (values.every((col) => !Number.isNaN(col[t]))) keep.push(t);
    if (keep.length === 0) {
      throw new DataError(
        `selectSeries: every row has a missing value in ${names.join(", ")}; nothing is left after drop`,
      );
    }
  } else if (fill !== undefined) {
    values.forEach((col, c) => {
      const ok = fill === "ffill" ? fillForward(col) : fillLinear(col);
      if (!ok)
        throw new DataError(`column ${quote(names[c])} has no values at all; there is nothing to fill from`);
    });
  }

  const rows = keep ?? Array.from({ length: T }, (_, t) => t);
  const data = new Float32Array(rows.length * F); // (T, F)
  rows.forEach((t, i) => {
    for (let c = 0; c < F; c++) data[i * F + c] = values[c][t];
  });
  return {
    data,
    shape: [rows.length, F],
    columns: names,
    targetIndex: names.indexOf(target),
    dates: table.dates === null ? null : rows.map((t) => table.dates![t]),
    dateFormat: table.dateFormat,
    lines: rows.map((t) => table.lines[t]),
  };
}

/** Forward-fills NaNs in place; a leading gap takes the first value. False when all are NaN. */
function fillForward(col: Float64Array): boolean {
  const first = col.findIndex((v) => !Number.isNaN(v));
  if (first < 0) return false;
  for (let t = 0; t < first; t++) col[t] = col[first];
  for (let t = first + 1; t < col.length; t++) if (Number.isNaN(col[t])) col[t] = col[t - 1];
  return true;
}

/** Fills NaNs in place by linear interpolation in row position; edges take the nearest value. */
function fillLinear(col: Float64Array): boolean {
  let prev = -1;
  for (let t = 0; t < col.length; t++) {
    if (Number.isNaN(col[t])) continue;
    if (prev < 0) {
      for (let u = 0; u < t; u++) col[u] = col[t];
    } else {
      for (let u = prev + 1; u < t; u++)
        col[u] = col[prev] + ((col[t] - col[prev]) * (u - prev)) / (t - prev);
    }
    prev = t;
  }
  if (prev < 0) return false;
  for (let u = prev + 1; u < col.length; u++) col[u] = col[prev];
  return true;
}

/**
 * Returns the table with a row inserted wherever the date column skips steps (monthly data without
 * 1958-06, say). Inserted rows have empty cells, their date, and line 0; `selectSeries` then needs a
 * `fill` to give them values. The step is inferred unless given.
 */
export function insertMissingDates(table: CsvTable, step?: DateStep): CsvTable {
  if (table.dates === null || table.dateColumn === null) {
    throw new DataError("insertMissingDates: the table has no date column (pass dateColumn to parseCsv)");
  }
  const dates = table.dates;
  const s = step ?? inferStep(dates);
  const gaps = dateGaps(dates, s);
  if (gaps.length === 0) return table;
  const next = dateStepper(dates, s);
  const newDates: number[] = [];
  const lines: number[] = [];
  const source: number[] = []; // original row of each new row, -1 for inserted
  let g = 0;
  for (let i = 0; i < dates.length; i++) {
    if (g < gaps.length && gaps[g].index === i) {
      for (let k = 1; k <= gaps[g].missing; k++) {
        newDates.push(next(dates[i - 1], k));
        lines.push(0);
        source.push(-1);
      }
      g++;
    }
    newDates.push(dates[i]);
    lines.push(table.lines[i]);
    source.push(i);
  }
  const columns: Record<string, string[]> = Object.create(null);
  for (const name of table.header) {
    const old = table.columns[name];
    columns[name] = source.map((r, i) =>
      r >= 0
        ? old[r]
        : name === table.dateColumn
          ? formatDate(newDates[i], table.dateFormat ?? undefined)
          : "",
    );
  }
  return { ...table, columns, rowCount: newDates.length, lines, dates: newDates };
}
