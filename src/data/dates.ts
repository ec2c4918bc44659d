// Dates of a series: parsing ISO-style date strings, inferring the step between rows, and continuing
// the dates past the end of the series for a forecast horizon.
//
// A date is a number: milliseconds since 1970-01-01T00:00:00Z. A date without a zone is taken as UTC
// (naive local dates never meet a daylight-saving shift that way); one with `Z` or an offset such as
// `+02:00` is converted to UTC.
//
// Steps come in two families:
// - calendar steps (monthly, quarterly, yearly, every N months) count whole months. Each date sits on
//   the same time of day and on an anchor day of its month: either every date is the last day of its
//   month (anchor "end": Jan 31, Feb 29, Mar 31, ...), or the day is min(D, days in that month) for
//   the largest day D seen (D = 30: Jan 30, Feb 29, Mar 30). Continuing keeps the anchor instead of
//   drifting: Jan 31 -> Feb 29 -> Mar 31, never Mar 29.
// - fixed steps (daily, weekly, or any number of seconds) are a constant number of milliseconds.

import { DataError, checkInt, quote } from "./errors.js";

const MS_DAY = 86_400_000;
const MS_WEEK = 7 * MS_DAY;

/** How finely a date string was written; formatting writes back the same precision. */
export type DatePrecision = "year" | "month" | "day" | "minute" | "second" | "millisecond";

/** The written form of a date column, so forecast dates can be printed the way the file has them. */
export interface DateFormat {
  precision: DatePrecision;
  /** Between the date and the time of day (`2020-01-01T10:00` or `2020-01-01 10:00`). */
  separator: "T" | " ";
  /** True when the source carried a zone (`Z` or an offset); such dates are written back in UTC with `Z`. */
  utc: boolean;
}

/** The step between consecutive dates. */
export type DateStep =
  | { kind: "monthly" | "quarterly" | "yearly" | "months"; months: number }
  | { kind: "daily" | "weekly" | "seconds"; seconds: number };

const DATE_RE =
  /^(\d{4})(?:-(\d{1,2})(?:-(\d{1,2})(?:([T ])(\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?)?)?)?$/i;

/** Days in month `month0` (0 = January) of `year`. */
export function daysInMonth(year: number, month0: number): number {
  return new Date(utc(year, month0 + 1, 0)).getUTCDate();
}

function utc(year: number, month0: number, day: number, h = 0, mi = 0, s = 0, ms = 0): number {
  // Date.UTC maps years 0..99 to 1900..1999; setUTCFullYear does not.
  const d = new Date(0);
  d.setUTCFullYear(year, month0, day);
  d.setUTCHours(h, mi, s, ms);
  return d.getTime();
}

/**
 * Parses an ISO-style date: `2020`, `2020-01`, `2020-01-31`, `2020-01-31T10:30`, `2020-01-31 10:30:15`,
 * `2020-01-31T10:30:15.250Z`, `2020-01-31T10:30:15+02:00`. Returns the time and the written form, or
 * null when the string is not such a date (including impossible ones such as `2021-02-29`).
 */
export function parseDateFormat(text: string): { time: number; format: DateFormat } | null {
  const m = DATE_RE.exec(text.trim());
  if (m === null) return null;
  const year = Number(m[1]);
  const month = m[2] === undefined ? 1 : Number(m[2]);
  const day = m[3] === undefined ? 1 : Number(m[3]);
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month - 1)) return null;
  const hour = m[5] === undefined ? 0 : Number(m[5]);
  const minute = m[6] === undefined ? 0 : Number(m[6]);
  const second = m[7] === undefined ? 0 : Number(m[7]);
  const ms = m[8] === undefined ? 0 : Math.floor(Number(`0.${m[8]}`) * 1000 + 1e-6);
  if (hour > 23 || minute > 59 || second > 59) return null;
  let time = utc(year, month - 1, day, hour, minute, second, ms);
  const zone = m[9];
  if (zone !== undefined && zone.toUpperCase() !== "Z") {
    const sign = zone[0] === "-" ? -1 : 1;
    const digits = zone.slice(1).replace(":", "");
    const offH = Number(digits.slice(0, 2));
    const offM = digits.length > 2 ? Number(digits.slice(2, 4)) : 0;
    if (offH > 23 || offM > 59) return null;
    time -= sign * (offH * 60 + offM) * 60_000;
  }
  const precision: DatePrecision =
    m[2] === undefined
      ? "year"
      : m[3] === undefined
        ? "month"
        : m[5] === undefined
          ? "day"
          : m[7] === undefined
            ? "minute"
            : m[8] === undefined
              ? "second"
              : "millisecond";
  return { time, format: { precision, separator: m[4] === " " ? " " : "T", utc: zone !== undefined } };
}

const MONTHS = [
  "January",
  "February",
  "March",
  "April",
  "May",
  "June",
  "July",
  "August",
  "September",
  "October",
  "November",
  "December",
];

/**
 * Why a string written like an ISO date (`2000-02-30`, `2000-13-01`, `2020-01-01T25:00`) is not a
 * possible one, or null when it is possible or not written like a date at all.
 */
export function impossibleDate(text: string): string | null {
  const m = DATE_RE.exec(text.trim());
  if (m === null || parseDateFormat(text) !== null) return null;
  const year = Number(m[1]);
  const month = m[2] === undefined ? 1 : Number(m[2]);
  if (month < 1 || month > 12) return `there is no month ${month}`;
  const day = m[3] === undefined ? 1 : Number(m[3]);
  const dim = daysInMonth(year, month - 1);
  if (day < 1 || day > dim) return `${MONTHS[month - 1]} ${year} has ${dim} days`;
  return "its time of day or zone offset is out of range";
}

/** Latest time any date format here can write: 9999-12-31T23:59:59.999Z (years have 4 digits). */
export const MAX_WRITABLE_TIME = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

/** Parses an ISO-style date (see `parseDateFormat`) to milliseconds since the epoch, or null. */
export function parseDate(text: string): number | null {
  const r = parseDateFormat(text);
  return r === null ? null : r.time;
}

const pad = (n: number, w = 2): string => String(n).padStart(w, "0");

/** Writes a date in the given form (default: `YYYY-MM-DD`, with the time of day if it is not midnight). */
export function formatDate(time: number, format?: DateFormat): string {
  const d = new Date(time);
  const y = d.getUTCFullYear();
  const ymd = `${pad(y, 4)}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
  const hm = `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}`;
  if (format === undefined) {
    const rest = time - utc(y, d.getUTCMonth(), d.getUTCDate());
    if (rest === 0) return ymd;
    const ms = d.getUTCMilliseconds();
    return `${ymd}T${hm}:${pad(d.getUTCSeconds())}${ms === 0 ? "" : `.${pad(ms, 3)}`}`;
  }
  const z = format.utc ? "Z" : "";
  switch (format.precision) {
    case "year":
      return pad(y, 4);
    case "month":
      return ymd.slice(0, 7);
    case "day":
      return ymd;
    case "minute":
      return `${ymd}${format.separator}${hm}${z}`;
    case "second":
      return `${ymd}${format.separator}${hm}:${pad(d.getUTCSeconds())}${z}`;
    case "millisecond":
      return `${ymd}${format.separator}${hm}:${pad(d.getUTCSeconds())}.${pad(d.getUTCMilliseconds(), 3)}${z}`;
  }
}

interface Parts {
  monthIndex: number; // year * 12 + month0
  day: number;
  dim: number; // days in that month
  timeOfDay: number; // ms since midnight
}

function parts(time: number): Parts {
  const d = new Date(time);
  const y = d.getUTCFullYear();
  const m0 = d.getUTCMonth();
  return {
    monthIndex: y * 12 + m0,
    day: d.getUTCDate(),
    dim: daysInMonth(y, m0),
    timeOfDay: time - utc(y, m0, d.getUTCDate()),
  };
}

/** The anchor day shared by all dates ("end" or a day number), or null when they are not month-aligned. */
function monthAnchor(ps: readonly Parts[]): number | "end" | null {
  const tod = ps[0].timeOfDay;
  if (ps.some((p) => p.timeOfDay !== tod)) return null;
  if (ps.every((p) => p.day === p.dim)) return "end";
  let maxDay = 0;
  for (const p of ps) maxDay = Math.max(maxDay, p.day);
  return ps.every((p) => p.day === Math.min(maxDay, p.dim)) ? maxDay : null;
}

function describeInterval(ms: number): string {
  if (ms % MS_DAY === 0) return `${ms / MS_DAY} day(s)`;
  return `${ms / 1000} second(s)`;
}

function checkIncreasing(dates: readonly number[]): void {
  for (let i = 0; i < dates.length; i++) {
    if (!Number.isFinite(dates[i])) throw new DataError(`dates[${i}] is not a valid time: ${dates[i]}`);
    if (i > 0 && dates[i] <= dates[i - 1]) {
      const rel = dates[i] === dates[i - 1] ? "the same as" : "before";
      throw new DataError(
        `dates must be strictly increasing: dates[${i}] = ${formatDate(dates[i])} is ${rel} dates[${i - 1}] = ${formatDate(dates[i - 1])}`,
      );
    }
  }
}

/**
 * Infers the step of strictly increasing dates: the smallest interval between neighbours, in whole
 * months when every date sits on the same anchor day and time of day (see the file comment), otherwise
 * in milliseconds. Larger intervals must be whole multiples of the step (they are gaps, see
 * `dateGaps`); anything else is an error.
 */
export function inferStep(dates: readonly number[]): DateStep {
  if (dates.length < 2) throw new DataError(`need at least 2 dates to infer a step, got ${dates.length}`);
  checkIncreasing(dates);
  const ps = dates.map(parts);
  if (monthAnchor(ps) !== null) {
    let step = Number.POSITIVE_INFINITY;
    for (let i = 1; i < ps.length; i++) step = Math.min(step, ps[i].monthIndex - ps[i - 1].monthIndex);
    for (let i = 1; i < ps.length; i++) {
      const diff = ps[i].monthIndex - ps[i - 1].monthIndex;
      if (diff % step !== 0) {
        throw new DataError(
          `dates are not evenly spaced: from dates[${i - 1}] = ${formatDate(dates[i - 1])} to dates[${i}] = ${formatDate(dates[i])} is ${diff} month(s), not a whole multiple of the smallest interval, ${step} month(s)`,
        );
      }
    }
    const kind = step === 1 ? "monthly" : step === 3 ? "quarterly" : step === 12 ? "yearly" : "months";
    return { kind, months: step };
  }
  let step = Number.POSITIVE_INFINITY;
  for (let i = 1; i < dates.length; i++) step = Math.min(step, dates[i] - dates[i - 1]);
  for (let i = 1; i < dates.length; i++) {
    const diff = dates[i] - dates[i - 1];
    if (diff % step !== 0) {
      throw new DataError(
        `dates are not evenly spaced: from dates[${i - 1}] = ${formatDate(dates[i - 1])} to dates[${i}] = ${formatDate(dates[i])} is ${describeInterval(diff)}, not a whole multiple of the smallest interval, ${describeInterval(step)}`,
      );
    }
  }
  const kind = step === MS_DAY ? "daily" : step === MS_WEEK ? "weekly" : "seconds";
  return { kind, seconds: step / 1000 };
}

/** Number of steps from date `a` to date `b` (may be fractional when `b` is off the grid). */
export function stepsBetween(a: number, b: number, step: DateStep): number {
  if ("months" in step) {
    const pa = parts(a);
    const pb = parts(b);
    return (pb.monthIndex - pa.monthIndex) / step.months;
  }
  return (b - a) / (step.seconds * 1000);
}

/**
 * Where rows are missing: for each i whose interval from dates[i-1] spans k > 1 steps, `{ index: i,
 * missing: k - 1 }`. The step is inferred unless given.
 */
export function dateGaps(dates: readonly number[], step?: DateStep): { index: number; missing: number }[] {
  const s = step ?? inferStep(dates);
  checkIncreasing(dates);
  const gaps: { index: number; missing: number }[] = [];
  for (let i = 1; i < dates.length; i++) {
    const k = stepsBetween(dates[i - 1], dates[i], s);
    if (k > 1) gaps.push({ index: i, missing: Math.round(k) - 1 });
  }
  return gaps;
}

/**
 * A function giving the date `k` steps after `from` (a date on the series' grid), keeping the anchor
 * day and time of day of `dates` for calendar steps.
 */
export function dateStepper(dates: readonly number[], step: DateStep): (from: number, k: number) => number {
  checkIncreasing(dates);
  if (!("months" in step)) {
    const ms = step.seconds * 1000;
    if (!(ms > 0)) throw new DataError(`step must be a positive number of seconds, got ${step.seconds}`);
    return (from, k) => from + k * ms;
  }
  checkInt(step.months, 1, "step.months");
  if (dates.length === 0) throw new DataError("need at least one date to step from, got none");
  const anchor = monthAnchor(dates.map(parts));
  if (anchor === null) {
    throw new DataError(
      `a ${step.kind} step needs every date on the same day of the month (or on month ends) and at the same time of day`,
    );
  }
  return (from, k) => {
    const p = parts(from);
    const mi = p.monthIndex + k * step.months;
    const y = Math.floor(mi / 12);
    const m0 = mi - y * 12;
    const dim = daysInMonth(y, m0);
    return utc(y, m0, anchor === "end" ? dim : Math.min(anchor, dim)) + p.timeOfDay;
  };
}

/**
 * The `n` dates that follow the last one, one step apart. The step is inferred from `dates` unless
 * given. Calendar steps keep the series' anchor day and time of day (a month-end series stays on month
 * ends: 2020-01-31 -> 2020-02-29 -> 2020-03-31). Given strings, returns strings written the way the
 * last input date is written; given times, returns times.
 */
export function continueDates(dates: readonly string[], n: number, step?: DateStep): string[];
export function continueDates(dates: readonly number[], n: number, step?: DateStep): number[];
export function continueDates(
  dates: readonly string[] | readonly number[],
  n: number,
  step?: DateStep,
): string[] | number[] {
  checkInt(n, 0, "continueDates: n");
  if (dates.length === 0) throw new DataError("continueDates: need at least one date, got none");
  const times: number[] = [];
  let format: DateFormat | null = null;
  for (let i = 0; i < dates.length; i++) {
    const d = dates[i];
    if (typeof d === "number") {
      times.push(d);
      continue;
    }
    const r = typeof d === "string" ? parseDateFormat(d) : null;
    if (r === null)
      throw new DataError(`continueDates: dates[${i}] = ${quote(String(d))} is not an ISO date`);
    times.push(r.time);
    format = r.format;
  }
  const s = step ?? inferStep(times);
  const next = dateStepper(times, s);
  const last = times[times.length - 1];
  const out: number[] = [];
  for (let k = 1; k <= n; k++) out.push(next(last, k));
  if (format === null) return out;
  const f = format;
  return out.map((t) => formatDate(t, f));
}
