// CSV files read without a string per cell (src/data/csv.ts: scanPlain keeps offsets into the text for
// files without quotes) give exactly what Papa Parse gives (the slow twin: the same file with one
// header name quoted takes that path), with the same messages and 1-based lines, through the library
// and through `recurrent forecast`.

import { readFileSync, writeFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { type CsvTable, cellReader, parseCsv } from "../src/data/csv.js";
import { DataError } from "../src/data/errors.js";
import { prepareSeries } from "../src/forecast/data.js";
import { selectSeries } from "../src/data/series.js";
import { FIXTURES } from "./helpers.js";
import { runCli as run } from "./cli-run.js";

const dir = mkdtempSync(join(tmpdir(), "recurrent-csv-validate-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The same text through Papa Parse: the first header name quoted ("a" reads as a). */
const quoted = (text: string) => text.replace(/^(\uFEFF?)([^,\t;\r\n]+)/, '$1"$2"');

/** Everything a table says, with its columns read out. */
function contents(t: CsvTable) {
  const cols = Object.fromEntries(
    t.header.map((h) => [h, Array.from({ length: t.rowCount }, (_, r) => cellReader(t, h)(r))]),
  );
  return {
    header: t.header,
    cols,
    lines: t.lines,
    dateColumn: t.dateColumn,
    dates: t.dates,
    fmt: t.dateFormat,
  };
}

const message = (f: () => unknown): string => {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(DataError);
    return (e as Error).message;
  }
  throw new Error("no error");
};

describe("the plain scan and Papa Parse agree", () => {
  const texts: [string, string][] = [
    ["LF", "d,v,w\n2020-01-01,1,2\n2020-02-01,3,4\n"],
    ["CRLF, blank and whitespace lines, a BOM", "\uFEFFd,v\r\n\r\n2020-01,1\r\n   \r\n2020-02, 2 \r\n"],
    ["CR only", "d,v\r2020-01-01T10:00,1\r2020-01-01T11:00,2"],
    ["tabs, leading blank lines, no final newline", "\n\nd\tv\n2020-01-01\t1.5\n2020-01-02\t-2e3"],
    ["semicolons and decimal commas", "d;v\n2020-01-01;1,5\n2020-01-02;2,5\n"],
    ["empty cells and missing markers", "v,w\n1,\nNA,2\n,\n"],
    ["one column", "v\n1\n2\n\n3\n"],
    ["no date column: bare years", "year,v\n1990,1\n1991,2\n"],
  ];
  it.each(texts)("%s", (_, text) => {
    const a = parseCsv(text);
    const b = parseCsv(quoted(text));
    expect(contents(a)).toEqual(contents(b));
    expect(a.columns).toEqual(b.columns);
  });

  it.each([
    ["a ragged row", "a,b\n1,2\n\n3\n", "line 4 has 1 field(s) but the header (line 1) has 2: a, b"],
    ["a long row", "a,b\n1,2,3\n", "line 2 has 3 field(s) but the header (line 1) has 2: a, b"],
    ["a header only", "a,b\n\n", "CSV has a header (a, b) but no data rows"],
    [
      "a repeated name",
      "a,b,a\n1,2,3\n",
      'duplicate column name "a" in the header (line 1): columns 1 and 3',
    ],
    [
      "an impossible date",
      "d,v\n2000-01-31,1\n2000-02-30,2\n",
      'date column "d" on line 3 holds "2000-02-30", which is not a possible date',
    ],
  ])("the same message for %s", (_, text, want) => {
    expect(message(() => parseCsv(text))).toContain(want);
    expect(message(() => parseCsv(quoted(text)))).toContain(want);
  });

  it("selectSeries names the cell's 1-based line and column on either path", () => {
    const text = "d,v\n2020-01-01,1\n\n2020-01-02,abc\n";
    const want = 'non-numeric value "abc" in column "v" on line 4';
    expect(message(() => selectSeries(parseCsv(text), { target: "v" }))).toContain(want);
    expect(message(() => selectSeries(parseCsv(quoted(text)), { target: "v" }))).toContain(want);
    const big = "d,v\n2020-01-01,1\n2020-01-02,1e39\n";
    expect(message(() => selectSeries(parseCsv(big), { target: "v" }))).toMatch(
      /value "1e39" in column "v" on line 3 is beyond the float32 range/,
    );
  });
});

describe("memory: no column of strings is built to read a series", () => {
  it("selecting the series leaves the table's columns unread (offsets into the text only)", () => {
    const rows = Array.from(
      { length: 5000 },
      (_, i) => `${2000 + Math.floor(i / 12)}-${String((i % 12) + 1).padStart(2, "0")},${i},${-i}`,
    );
    const t = parseCsv(`d,a,b\n${rows.join("\n")}\n`);
    const s = selectSeries(t, { target: "a", features: ["b"] });
    expect(s.shape).toEqual([5000, 2]);
    expect(s.data[2 * 4999]).toBe(4999);
    expect(s.data[2 * 4999 + 1]).toBe(-4999);
    expect(t.dates?.length).toBe(5000);
    for (const name of ["d", "a", "b"]) {
      // still the lazy getter: nothing asked for the strings
      expect(Object.getOwnPropertyDescriptor(t.columns, name)?.get).toBeTypeOf("function");
    }
    // asked for, a column is built once and kept
    expect(t.columns.a[4999]).toBe("4999");
    expect(Object.getOwnPropertyDescriptor(t.columns, "a")?.value).toHaveLength(5000);
  });

  it("prepareSeries gives the same series from the plain scan and from Papa Parse (with filled dates)", () => {
    const text = readFileSync(join(FIXTURES, "forecast", "lstm_co2.csv"), "utf8")
      .split("\n")
      .filter((_, i) => i !== 30 && i !== 31) // two missing months, filled
      .join("\n");
    const spec = { target: "CO2", features: ["adjusted CO2"], fill: "linear" as const };
    const a = prepareSeries(text, spec);
    const b = prepareSeries(quoted(text), spec);
    expect(a.insertedDates).toBe(2);
    expect(Array.from(a.series.data)).toEqual(Array.from(b.series.data));
    expect(a.series.dates).toEqual(b.series.dates);
    expect(a.series.lines).toEqual(b.series.lines);
  });
});

describe("through the command", () => {
  it("forecast prints the same rows for a CRLF file and for the same file quoted", async () => {
    const csv = readFileSync(join(FIXTURES, "forecast", "lstm_co2.csv"), "utf8").replace(/\n/g, "\r\n");
    writeFileSync(join(dir, "crlf.csv"), csv);
    writeFileSync(join(dir, "quoted.csv"), quoted(csv));
    const model = join(FIXTURES, "forecast", "lstm_co2.safetensors");
    const a = await run(["forecast", "--model", model, "--csv", join(dir, "crlf.csv"), "--no-chart"]);
    const b = await run(["forecast", "--model", model, "--csv", join(dir, "quoted.csv"), "--no-chart"]);
    expect(a.code, a.stderr).toBe(0);
    expect(a.stdout).toBe(b.stdout);
    expect(a.stdout.split("\n")[1]).toMatch(/^2020-05-01,4\d\d\.\d+/);
  });
});
