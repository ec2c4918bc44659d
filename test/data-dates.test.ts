import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  DataError,
  continueDates,
  dateGaps,
  formatDate,
  inferStep,
  parseDate,
  parseDateFormat,
} from "../src/data/index.js";

function dataError(fn: () => unknown): DataError {
  try {
    fn();
  } catch (e) {
    if (e instanceof DataError) return e;
    throw e;
  }
  throw new Error("expected a DataError, but nothing was thrown");
}

const times = (xs: string[]): number[] => xs.map((s) => parseDate(s)!);

describe("parseDate / formatDate", () => {
  it("parses the ISO forms as UTC, applying offsets", () => {
    expect(parseDate("2020-01-31")).toBe(Date.UTC(2020, 0, 31));
    expect(parseDate("2020-03")).toBe(Date.UTC(2020, 2, 1));
    expect(parseDate("1999")).toBe(Date.UTC(1999, 0, 1));
    expect(parseDate("2020-01-31T10:30")).toBe(Date.UTC(2020, 0, 31, 10, 30));
    expect(parseDate("2020-01-31 10:30:15")).toBe(Date.UTC(2020, 0, 31, 10, 30, 15));
    expect(parseDate("2020-01-31T10:30:15.25Z")).toBe(Date.UTC(2020, 0, 31, 10, 30, 15, 250));
    expect(parseDate("2020-01-31T10:30:00+02:00")).toBe(Date.UTC(2020, 0, 31, 8, 30));
    expect(parseDate("2020-01-31T01:00:00-0530")).toBe(Date.UTC(2020, 0, 31, 6, 30));
    expect(parseDate("0050-06-01")).toBe(new Date("0050-06-01T00:00:00Z").getTime());
  });

  it("rejects impossible and non-ISO dates", () => {
    for (const s of [
      "2021-02-29",
      "2020-13-01",
      "2020-00-10",
      "2020-01-32",
      "2020-01-01T24:00",
      "31/01/2020",
      "Jan 2020",
      "",
      "12",
    ]) {
      expect(parseDate(s), s).toBeNull();
    }
    expect(parseDate("2020-02-29")).toBe(Date.UTC(2020, 1, 29));
  });

  it("writes a date back the way it was written", () => {
    for (const s of [
      "2020",
      "2020-07",
      "2020-07-04",
      "2020-07-04T05:06",
      "2020-07-04 05:06:07",
      "2020-07-04T05:06:07.089",
      "2020-07-04T05:06:07Z",
    ]) {
      const r = parseDateFormat(s)!;
      expect(formatDate(r.time, r.format)).toBe(s);
    }
    expect(formatDate(Date.UTC(2020, 0, 2))).toBe("2020-01-02");
    expect(formatDate(Date.UTC(2020, 0, 2, 3, 4, 5))).toBe("2020-01-02T03:04:05");
  });

  it("round-trips any day-precision date (property)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: Date.UTC(1000, 0, 1) / 86_400_000, max: Date.UTC(2999, 11, 31) / 86_400_000 }),
        (day) => {
          const t = day * 86_400_000;
          const s = new Date(t).toISOString().slice(0, 10);
          expect(parseDate(s)).toBe(t);
          expect(formatDate(t)).toBe(s);
        },
      ),
    );
  });
});

describe("inferStep", () => {
  it("names daily, weekly, monthly, quarterly, yearly and fixed-second steps", () => {
    expect(inferStep(times(["2020-02-28", "2020-02-29", "2020-03-01"]))).toEqual({
      kind: "daily",
      seconds: 86400,
    });
    expect(inferStep(times(["2020-01-06", "2020-01-13", "2020-01-20"]))).toEqual({
      kind: "weekly",
      seconds: 604800,
    });
    expect(inferStep(times(["2020-01-15", "2020-02-15", "2020-03-15"]))).toEqual({
      kind: "monthly",
      months: 1,
    });
    expect(inferStep(times(["2019-12-31", "2020-01-31", "2020-02-29", "2020-03-31"]))).toEqual({
      kind: "monthly",
      months: 1,
    });
    expect(inferStep(times(["2020-01-30", "2020-02-29", "2020-03-30"]))).toEqual({
      kind: "monthly",
      months: 1,
    });
    expect(inferStep(times(["2019-10", "2020-01", "2020-04"]))).toEqual({ kind: "quarterly", months: 3 });
    expect(inferStep(times(["2020-03-31", "2020-06-30", "2020-09-30", "2020-12-31"]))).toEqual({
      kind: "quarterly",
      months: 3,
    });
    expect(inferStep(times(["1990", "1991", "1992"]))).toEqual({ kind: "yearly", months: 12 });
    expect(inferStep(times(["2020-01", "2020-07", "2021-01"]))).toEqual({ kind: "months", months: 6 });
    expect(inferStep(times(["2020-01-01T23:00", "2020-01-02T00:00", "2020-01-02T01:00"]))).toEqual({
      kind: "seconds",
      seconds: 3600,
    });
    expect(inferStep(times(["2020-01-01T00:00:00", "2020-01-01T00:00:30"]))).toEqual({
      kind: "seconds",
      seconds: 30,
    });
  });

  it("takes the smallest interval as the step and finds whole-step gaps", () => {
    const monthly = times(["2020-01", "2020-02", "2020-04", "2020-05", "2020-09"]);
    expect(inferStep(monthly)).toEqual({ kind: "monthly", months: 1 });
    expect(dateGaps(monthly)).toEqual([
      { index: 2, missing: 1 },
      { index: 4, missing: 3 },
    ]);
    expect(dateGaps(times(["2020-01-01", "2020-01-02", "2020-01-05"]))).toEqual([{ index: 2, missing: 2 }]);
  });

  it("explains unsorted, duplicate, uneven and too few dates", () => {
    expect(dataError(() => inferStep(times(["2020-01-02", "2020-01-01"]))).message).toBe(
      "dates must be strictly increasing: dates[1] = 2020-01-01 is before dates[0] = 2020-01-02",
    );
    expect(dataError(() => inferStep(times(["2020-01-01", "2020-01-01"]))).message).toMatch(/is the same as/);
    expect(dataError(() => inferStep(times(["2020-01-01", "2020-01-03", "2020-01-06"]))).message).toBe(
      "dates are not evenly spaced: from dates[1] = 2020-01-03 to dates[2] = 2020-01-06 is 3 day(s), not a whole multiple of the smallest interval, 2 day(s)",
    );
    expect(dataError(() => inferStep(times(["2020-01", "2020-03", "2020-06"]))).message).toMatch(
      /is 3 month\(s\), not a whole multiple of the smallest interval, 2 month\(s\)/,
    );
    expect(dataError(() => inferStep(times(["2020-01-01"]))).message).toBe(
      "need at least 2 dates to infer a step, got 1",
    );
  });
});

describe("continueDates", () => {
  it("continues month ends as month ends, leap years included", () => {
    expect(continueDates(["2019-11-30", "2019-12-31", "2020-01-31"], 4)).toEqual([
      "2020-02-29",
      "2020-03-31",
      "2020-04-30",
      "2020-05-31",
    ]);
    expect(continueDates(["2020-12-31", "2021-01-31"], 2)).toEqual(["2021-02-28", "2021-03-31"]);
  });

  it("keeps a clamped anchor day instead of drifting", () => {
    // day 30 in every month that has one, else the month's last day
    expect(continueDates(["2020-01-30", "2020-02-29", "2020-03-30"], 3)).toEqual([
      "2020-04-30",
      "2020-05-30",
      "2020-06-30",
    ]);
    expect(continueDates(["2020-12-30", "2021-01-30"], 2)).toEqual(["2021-02-28", "2021-03-30"]);
  });

  it("continues months, quarters and years across year ends in the input's format", () => {
    expect(continueDates(["2020-10", "2020-11"], 3)).toEqual(["2020-12", "2021-01", "2021-02"]);
    expect(continueDates(["2020-04-01", "2020-07-01", "2020-10-01"], 2)).toEqual([
      "2021-01-01",
      "2021-04-01",
    ]);
    expect(continueDates(["2018", "2019"], 2)).toEqual(["2020", "2021"]);
    expect(continueDates(["2019-02-28", "2020-02-29"], 2)).toEqual(["2021-02-28", "2022-02-28"]);
  });

  it("continues fixed steps, keeping time of day and zone suffix", () => {
    expect(continueDates(["2020-02-27", "2020-02-28"], 3)).toEqual([
      "2020-02-29",
      "2020-03-01",
      "2020-03-02",
    ]);
    expect(continueDates(["2020-12-21", "2020-12-28"], 2)).toEqual(["2021-01-04", "2021-01-11"]);
    expect(continueDates(["2020-01-01 22:00", "2020-01-01 23:00"], 2)).toEqual([
      "2020-01-02 00:00",
      "2020-01-02 01:00",
    ]);
    expect(continueDates(["2020-01-31T12:00:00Z", "2020-02-29T12:00:00Z"], 1)).toEqual([
      "2020-03-31T12:00:00Z",
    ]);
    expect(continueDates(["2020-03-01T00:00:00+01:00", "2020-03-01T01:00:00+01:00"], 1)).toEqual([
      "2020-03-01T01:00:00Z",
    ]);
  });

  it("returns times for times, accepts an explicit step, and rejects bad input", () => {
    expect(continueDates([Date.UTC(2020, 0, 31)], 2, { kind: "monthly", months: 1 })).toEqual([
      Date.UTC(2020, 1, 29),
      Date.UTC(2020, 2, 31),
    ]);
    expect(continueDates([Date.UTC(2020, 0, 1)], 2, { kind: "seconds", seconds: 90 })).toEqual([
      Date.UTC(2020, 0, 1, 0, 1, 30),
      Date.UTC(2020, 0, 1, 0, 3),
    ]);
    expect(continueDates(["2020-01-01", "2020-01-02"], 0)).toEqual([]);
    expect(dataError(() => continueDates(["2020-01-01", "nope"], 1)).message).toBe(
      'continueDates: dates[1] = "nope" is not an ISO date',
    );
    expect(dataError(() => continueDates(["2020-01-01", "2020-01-02"], -1)).message).toMatch(
      /n must be an integer >= 0/,
    );
    expect(
      dataError(() => continueDates(["2020-01-15", "2020-02-16"], 1, { kind: "monthly", months: 1 })).message,
    ).toMatch(/same day of the month/);
  });

  it("continuing a prefix of a daily series reproduces the rest (property, oracle: Date.UTC)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1900, max: 2100 }),
        fc.integer({ min: 0, max: 11 }),
        fc.integer({ min: 1, max: 28 }),
        fc.integer({ min: 2, max: 10 }),
        fc.integer({ min: 1, max: 60 }),
        (y, m, d, k, n) => {
          const all = Array.from({ length: k + n }, (_, i) => Date.UTC(y, m, d + i));
          expect(continueDates(all.slice(0, k), n)).toEqual(all.slice(k));
        },
      ),
    );
  });

  it("continuing a prefix of a month-end series reproduces the rest (property, oracle: day 0 of next month)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1900, max: 2100 }),
        fc.integer({ min: 0, max: 11 }),
        fc.constantFrom(1, 3, 12),
        fc.integer({ min: 2, max: 6 }),
        fc.integer({ min: 1, max: 30 }),
        (y, m, every, k, n) => {
          const all = Array.from({ length: k + n }, (_, i) => Date.UTC(y, m + i * every + 1, 0));
          expect(continueDates(all.slice(0, k), n)).toEqual(all.slice(k));
        },
      ),
    );
  });
});
