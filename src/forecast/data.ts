// From CSV text to the numeric series a forecaster reads, with the same rules for training, forecasting
// and evaluation: the date column (if any) must be evenly spaced; missing dates are inserted and filled
// when a fill method that can fill is given (ffill, linear), and are an error otherwise; "drop" removes
// rows with a missing value and leaves holes in the time axis, as asked.

import { type CsvTable, checkColumn, parseCsv } from "../data/csv.js";
import { type DateFormat, type DateStep, dateGaps, formatDate, inferStep } from "../data/dates.js";
import { DataError } from "../data/errors.js";
import { type FillMethod, type Series, insertMissingDates, selectSeries } from "../data/series.js";

export interface SeriesSpec {
  /** The column to forecast. */
  target: string;
  /** Input columns besides the target (the target is always an input, first). */
  features?: readonly string[];
  /** The date column: a name, `false` for none, or undefined to detect an ISO date column. */
  dateColumn?: string | false;
  /** How to fill missing values and missing dates; default: both are errors. */
  fill?: FillMethod;
}

export interface PreparedSeries {
  series: Series;
  /** The date column's name, or null. */
  dateColumn: string | null;
  dateFormat: DateFormat | null;
  /** The step between dates (null without dates or with a single row). */
  step: DateStep | null;
  /** Rows inserted for missing dates (filled by `fill`). */
  insertedDates: number;
  /** Dates still missing (only with fill "drop", which leaves them). */
  missingDates: number;
  /** The fill method used (null: none was needed or allowed). */
  fill: FillMethod | null;
}

/** The phrase the data layer uses to ask for a fill method; the command line rewrites it to its option. */
export const FILL_HINT = 'pass fill: "ffill", "linear" or "drop"';

/** Parses CSV text and selects the target (first) and feature columns as a float32 (T, F) series. */
export function prepareSeries(text: string, spec: SeriesSpec): PreparedSeries {
  return prepareTable(parseCsv(text, { dateColumn: spec.dateColumn }), spec);
}

/**
 * The steps of `prepareSeries` after parsing, on a table already parsed: the date step, missing dates,
 * fill, and the selected columns. Long-format files (panel.ts) run it on each series' rows.
 */
export function prepareTable(parsed: CsvTable, spec: SeriesSpec): PreparedSeries {
  let table = parsed;
  // unknown columns first: they are a more basic mistake than gaps in the dates
  for (const name of [spec.target, ...(spec.features ?? [])]) checkColumn(table, name);
  let step: DateStep | null = null;
  let insertedDates = 0;
  let missingDates = 0;
  if (table.dates !== null && table.dates.length >= 2) {
    const dates = table.dates;
    try {
      step = inferStep(dates);
    } catch (e) {
      if (e instanceof DataError) {
        // name the lines: inferStep speaks of indices
        const m = /dates\[(\d+)\]/.exec(e.message);
        const where = m ? ` (line ${table.lines[Number(m[1])]})` : "";
        throw new DataError(`date column ${JSON.stringify(table.dateColumn)}${where}: ${e.message}`);
      }
      throw e;
    }
    const gaps = dateGaps(dates, step);
    const missing = gaps.reduce((s, g) => s + g.missing, 0);
    if (missing > 0) {
      const g = gaps[0];
      const fmt = table.dateFormat ?? undefined;
      const first = `between ${formatDate(dates[g.index - 1], fmt)} (line ${table.lines[g.index - 1]}) and ${formatDate(dates[g.index], fmt)} (line ${table.lines[g.index]})`;
      if (spec.fill === undefined) {
        throw new DataError(
          `the ${step.kind} dates in column ${JSON.stringify(table.dateColumn)} skip ${missing} step(s) in ${gaps.length} place(s), first ${first}; ${FILL_HINT} to insert the missing dates and fill them (drop leaves the holes)`,
        );
      }
      if (spec.fill === "drop") {
        missingDates = missing;
      } else {
        table = insertMissingDates(table, step);
        insertedDates = missing;
      }
    }
  }
  const series = selectSeries(table, { target: spec.target, features: spec.features, fill: spec.fill });
  return {
    series,
    dateColumn: table.dateColumn,
    dateFormat: table.dateFormat,
    step,
    insertedDates,
    missingDates,
    fill: spec.fill ?? null,
  };
}

/** The season length that fits a date step: 12 for months, 4 quarters, 7 days, 52 weeks, 24 hours; else 1. */
export function defaultSeason(step: DateStep | null): number {
  if (step === null) return 1;
  if ("months" in step) return step.months === 1 ? 12 : step.months === 3 ? 4 : 1;
  if (step.seconds === 86400) return 7;
  if (step.seconds === 7 * 86400) return 52;
  if (step.seconds === 3600) return 24;
  return 1;
}

/** A one-column copy of column `c` of a (T, F) series. */
export function column(series: { data: Float32Array; shape: readonly number[] }, c: number): Float32Array {
  const [T, F] = series.shape;
  const out = new Float32Array(T);
  const sd = series.data; // once: a tensor view's data is gathered on each read
  for (let t = 0; t < T; t++) out[t] = sd[t * F + c];
  return out;
}

/** Describes a date step for people: "monthly", "every 3 months", "daily", "every 3600 s". */
export function describeStep(step: DateStep | null): string {
  if (step === null) return "no dates";
  if ("months" in step)
    return step.months === 1 ? "monthly" : step.months === 12 ? "yearly" : `every ${step.months} months`;
  if (step.seconds === 86400) return "daily";
  if (step.seconds === 7 * 86400) return "weekly";
  if (step.seconds === 3600) return "hourly";
  return `every ${step.seconds} s`;
}
