// The shipped real datasets load through the data layer with the expected sizes and date steps.

import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import {
  DataError,
  continueDates,
  dateGaps,
  formatDate,
  inferStep,
  insertMissingDates,
  parseCsv,
  rollingOriginBacktest,
  selectSeries,
} from "../src/data/index.js";

const DATASETS = join(dirname(fileURLToPath(import.meta.url)), "..", "datasets");
const read = (name: string): string => readFileSync(join(DATASETS, name), "utf8");

describe("datasets/co2-concentration.csv (Mauna Loa, monthly)", () => {
  const table = parseCsv(read("co2-concentration.csv"));

  it("has 741 monthly rows from 1958-03 to 2020-04 with three gaps", () => {
    expect(table.header).toEqual(["Date", "CO2", "adjusted CO2"]);
    expect(table.rowCount).toBe(741);
    expect(table.dateColumn).toBe("Date");
    const dates = table.dates!;
    expect(formatDate(dates[0])).toBe("1958-03-01");
    expect(formatDate(dates[740])).toBe("2020-04-01");
    expect(inferStep(dates)).toEqual({ kind: "monthly", months: 1 });
    expect(dateGaps(dates).map((g) => [formatDate(dates[g.index]), g.missing])).toEqual([
      ["1958-07-01", 1],
      ["1958-11-01", 1],
      ["1964-05-01", 3],
    ]);
  });

  it("selects CO2 with the adjusted series as a feature", () => {
    const s = selectSeries(table, { target: "CO2", features: ["adjusted CO2"] });
    expect(s.shape).toEqual([741, 2]);
    expect(s.lines[0]).toBe(2);
    // first and last data lines of the file: 1958-03-01,315.70,314.44 and 2020-04-01,416.18,413.35
    expect(Array.from(s.data.subarray(0, 2))).toEqual([Math.fround(315.7), Math.fround(314.44)]);
    expect(Array.from(s.data.subarray(1480, 1482))).toEqual([Math.fround(416.18), Math.fround(413.35)]);
  });

  it("becomes an evenly spaced 746-month series after inserting the missing months", () => {
    const full = insertMissingDates(table);
    expect(full.rowCount).toBe(746);
    expect(dateGaps(full.dates!)).toEqual([]);
    expect(full.columns.Date[3]).toBe("1958-06-01");
    const s = selectSeries(full, { target: "CO2", fill: "linear" });
    // 1958-06 lies between 1958-05 (317.51) and 1958-07 (315.86)
    expect(s.data[3]).toBeCloseTo((317.51 + 315.86) / 2, 4);
    expect(continueDates(full.columns.Date, 3)).toEqual(["2020-05-01", "2020-06-01", "2020-07-01"]);
  });

  it("has a trend plus a yearly cycle: last year + last year's growth beats both baselines", () => {
    const s = selectSeries(insertMissingDates(table), { target: "CO2", fill: "linear" });
    const r = rollingOriginBacktest({
      series: s.data,
      testStart: 746 - 120,
      horizon: 12,
      m: 12,
      stride: 12,
      forecaster: (h) => {
        const T = h.length;
        const growth = h[T - 1] - h[T - 13];
        return Array.from({ length: 12 }, (_, k) => h[T - 12 + k] + growth);
      },
    });
    expect(r.origins).toEqual([626, 638, 650, 662, 674, 686, 698, 710, 722, 734]);
    // the seasonal-naive baseline is exactly last year's values at each origin
    for (const [w, o] of r.origins.entries()) {
      expect(Array.from(r.forecasts.seasonalNaive.subarray(w * 12, w * 12 + 12))).toEqual(
        Array.from(s.data.subarray(o - 12, o)),
      );
    }
    expect(r.scores.model.mae).toBeLessThan(r.scores.naive.mae / 2);
    expect(r.scores.model.mae).toBeLessThan(r.scores.seasonalNaive.mae / 2);
    expect(r.scores.model.mase).toBeLessThan(1);
  });
});

describe("datasets/seattle-weather.csv (daily)", () => {
  const table = parseCsv(read("seattle-weather.csv"));

  it("has 1461 daily rows from 2012-01-01 to 2015-12-31 without gaps", () => {
    expect(table.header).toEqual(["date", "precipitation", "temp_max", "temp_min", "wind", "weather"]);
    expect(table.rowCount).toBe(1461);
    expect(table.dateColumn).toBe("date");
    expect(inferStep(table.dates!)).toEqual({ kind: "daily", seconds: 86400 });
    expect(dateGaps(table.dates!)).toEqual([]);
    expect(table.columns.date[1460]).toBe("2015-12-31");
    expect(continueDates(table.columns.date, 2)).toEqual(["2016-01-01", "2016-01-02"]);
  });

  it("selects the numeric columns and refuses the categorical one by line", () => {
    const s = selectSeries(table, { target: "temp_max", features: ["temp_min", "precipitation", "wind"] });
    expect(s.shape).toEqual([1461, 4]);
    // line 2: 2012-01-01,0.0,12.8,5.0,4.7,drizzle
    expect(Array.from(s.data.subarray(0, 4))).toEqual([12.8, 5, 0, 4.7].map(Math.fround));
    const e = (() => {
      try {
        selectSeries(table, { target: "temp_max", features: ["weather"] });
      } catch (err) {
        return err;
      }
    })();
    expect(e).toBeInstanceOf(DataError);
    expect((e as DataError).message).toBe('non-numeric value "drizzle" in column "weather" on line 2');
  });
});
