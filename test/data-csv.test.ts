import { describe, expect, it } from "vitest";
import {
  DataError,
  decimalCommaReason,
  insertMissingDates,
  parseCsv,
  selectSeries,
} from "../src/data/index.js";

/** The DataError thrown by fn; fails the test when fn does not throw one. */
function dataError(fn: () => unknown): DataError {
  try {
    fn();
  } catch (e) {
    if (e instanceof DataError) return e;
    throw e;
  }
  throw new Error("expected a DataError, but nothing was thrown");
}

const iso = (s: string): number => Date.parse(`${s}T00:00:00Z`);

describe("parseCsv", () => {
  it("returns string columns by name, file lines, and the parsed date column", () => {
    const t = parseCsv("date,a,b\n2020-01-01,1,x\n2020-01-02, 2.5 ,y\n", { dateColumn: "date" });
    expect(t.header).toEqual(["date", "a", "b"]);
    expect(t.rowCount).toBe(2);
    expect(t.columns.a).toEqual(["1", " 2.5 "]);
    expect(t.columns.b).toEqual(["x", "y"]);
    expect(t.lines).toEqual([2, 3]);
    expect(t.dateColumn).toBe("date");
    expect(t.dates).toEqual([iso("2020-01-01"), iso("2020-01-02")]);
    expect(t.dateFormat).toEqual({ precision: "day", separator: "T", utc: false });
  });

  it("detects the date column when not told, and leaves bare years alone", () => {
    const t = parseCsv("value,when\n1,2020-01\n2,2020-02\n");
    expect(t.dateColumn).toBe("when");
    expect(t.dates).toEqual([iso("2020-01-01"), iso("2020-02-01")]);
    expect(t.dateFormat?.precision).toBe("month");
    const years = parseCsv("year,v\n1990,1\n1991,2\n");
    expect(years.dateColumn).toBeNull();
    expect(years.dates).toBeNull();
    const named = parseCsv("year,v\n1990,1\n1991,2\n", { dateColumn: "year" });
    expect(named.dates).toEqual([iso("1990-01-01"), iso("1991-01-01")]);
    expect(parseCsv("d,v\n2020-01-01,1\n", { dateColumn: false }).dateColumn).toBeNull();
  });

  it("counts lines through blank lines, CRLF, a BOM and quoted newlines", () => {
    const text = '\uFEFFa,b\r\n1,"two\r\nlines"\r\n\r\n3,4\r\n';
    const t = parseCsv(text);
    expect(t.header).toEqual(["a", "b"]);
    expect(t.columns.b).toEqual(["two\r\nlines", "4"]);
    // row 1 starts on line 2 and spans lines 2-3; line 4 is blank; row 2 is on line 5
    expect(t.lines).toEqual([2, 5]);
    const lead = parseCsv("\n\nx\n5\n");
    expect(lead.lines).toEqual([4]);
  });

  it("reads tab- and semicolon-separated files", () => {
    expect(parseCsv("a\tb\n1\t2\n").columns.b).toEqual(["2"]);
    expect(parseCsv("a;b\n1,5;2\n").columns.a).toEqual(["1,5"]);
  });

  it("rejects empty files, header-only files, bad headers and ragged rows", () => {
    expect(dataError(() => parseCsv("")).message).toMatch(/CSV is empty/);
    expect(dataError(() => parseCsv("  \n\n")).message).toMatch(/CSV is empty/);
    expect(dataError(() => parseCsv("a,b\n")).message).toBe("CSV has a header (a, b) but no data rows");
    expect(dataError(() => parseCsv("a,b,a\n1,2,3\n")).message).toBe(
      'duplicate column name "a" in the header (line 1): columns 1 and 3',
    );
    expect(dataError(() => parseCsv("a,,c\n1,2,3\n")).message).toMatch(
      /column 2 of the header \(line 1\) has no name/,
    );
    expect(dataError(() => parseCsv("a,b\n1,2\n3\n")).message).toBe(
      "line 3 has 1 field(s) but the header (line 1) has 2: a, b",
    );
    expect(dataError(() => parseCsv('a,b\n1,2\n3,"open\n')).message).toMatch(/malformed CSV on line 3/);
  });

  it("names the line of a bad date and lists the columns for an unknown date column", () => {
    expect(
      dataError(() => parseCsv("d,v\n2020-01-01,1\n2020-02-30,2\n", { dateColumn: "d" })).message,
    ).toMatch(
      /date column "d" on line 3 holds "2020-02-30", which is not a possible date: February 2020 has 29 days/,
    );
    expect(dataError(() => parseCsv("d,v\n2020-01-01,1\n", { dateColumn: "Date" })).message).toBe(
      'date column "Date" is not in the CSV; its columns are: d, v',
    );
  });
});

describe("selectSeries", () => {
  const csv = "date,y,x1,x2\n2020-01-01,1,10,100\n2020-01-02,2,20,200\n2020-01-03,3,30,300\n";

  it("puts the target first, then the features, row-major (T, F)", () => {
    const s = selectSeries(parseCsv(csv), { target: "y", features: ["x2", "x1"] });
    expect(s.shape).toEqual([3, 3]);
    expect(s.columns).toEqual(["y", "x2", "x1"]);
    expect(s.targetIndex).toBe(0);
    expect(Array.from(s.data)).toEqual([1, 100, 10, 2, 200, 20, 3, 300, 30]);
    expect(s.dates).toEqual([iso("2020-01-01"), iso("2020-01-02"), iso("2020-01-03")]);
    expect(s.lines).toEqual([2, 3, 4]);
  });

  it("keeps the order of `features` when it lists the target", () => {
    const s = selectSeries(parseCsv(csv), { target: "y", features: ["x1", "y"] });
    expect(s.columns).toEqual(["x1", "y"]);
    expect(s.targetIndex).toBe(1);
    expect(Array.from(s.data)).toEqual([10, 1, 20, 2, 30, 3]);
  });

  it("reads signed, decimal and exponent numbers and rejects anything else by line and column", () => {
    const s = selectSeries(parseCsv("v\n-1.5\n+2\n.25\n1e3\n 7 \n"), { target: "v" });
    expect(Array.from(s.data)).toEqual([-1.5, 2, 0.25, 1000, 7]);
    for (const bad of ["abc", "1,000", "0x10", "Infinity", "1.2.3"]) {
      const text = `v,w\n1,2\n3,4\n5,${bad.includes(",") ? `"${bad}"` : bad}\n`;
      const comma =
        bad === "1,000"
          ? ': "1,000" has a comma in a number, a decimal comma or a thousands separator; numbers must use a decimal point and no thousands separators'
          : "";
      expect(dataError(() => selectSeries(parseCsv(text), { target: "w" })).message).toBe(
        `non-numeric value "${bad}" in column "w" on line 4${comma}`,
      );
    }
  });

  it("lists the columns there are for an unknown column and refuses the date column", () => {
    expect(dataError(() => selectSeries(parseCsv(csv), { target: "z" })).message).toBe(
      'unknown column "z"; the columns are: date, y, x1, x2',
    );
    expect(dataError(() => selectSeries(parseCsv(csv), { target: "y", features: ["x9"] })).message).toBe(
      'unknown column "x9"; the columns are: date, y, x1, x2',
    );
    expect(dataError(() => selectSeries(parseCsv(csv), { target: "y", features: ["date"] })).message).toMatch(
      /"date" is the date column/,
    );
    expect(
      dataError(() => selectSeries(parseCsv(csv), { target: "y", features: ["x1", "x1"] })).message,
    ).toMatch(/"x1" is selected twice/);
  });

  const gappy = "a,b\n,10\n2,NA\n,\n8,40\n10,\n"; // lines 2..6

  it("reports the first missing value by line and column unless fill is given", () => {
    expect(dataError(() => selectSeries(parseCsv(gappy), { target: "b" })).message).toBe(
      'missing value in column "b" on line 3; pass fill: "ffill", "linear" or "drop" to fill or drop missing values',
    );
    expect(dataError(() => selectSeries(parseCsv(gappy), { target: "a" })).message).toMatch(
      /missing value in column "a" on line 2/,
    );
  });

  it("ffill carries values forward and back-fills a leading gap", () => {
    const s = selectSeries(parseCsv(gappy), { target: "a", features: ["b"], fill: "ffill" });
    // a: _,2,_,8,10 -> 2,2,2,8,10 ; b: 10,_,_,40,_ -> 10,10,10,40,40
    expect(Array.from(s.data)).toEqual([2, 10, 2, 10, 2, 10, 8, 40, 10, 40]);
  });

  it("linear interpolates by position and holds the nearest value at the edges", () => {
    const s = selectSeries(parseCsv(gappy), { target: "a", features: ["b"], fill: "linear" });
    // a: _,2,_,8,10 -> 2,2,5,8,10 ; b: 10,_,_,40,_ -> 10,20,30,40,40
    expect(Array.from(s.data)).toEqual([2, 10, 2, 20, 5, 30, 8, 40, 10, 40]);
  });

  it("drop removes rows with a missing value in a selected column, with their lines", () => {
    const s = selectSeries(parseCsv(gappy), { target: "a", features: ["b"], fill: "drop" });
    expect(s.shape).toEqual([1, 2]);
    expect(Array.from(s.data)).toEqual([8, 40]);
    expect(s.lines).toEqual([5]);
    const onlyA = selectSeries(parseCsv(gappy), { target: "a", fill: "drop" });
    expect(Array.from(onlyA.data)).toEqual([2, 8, 10]);
    expect(onlyA.lines).toEqual([3, 5, 6]);
  });

  it("custom missing tokens, and a column with no values at all", () => {
    const s = selectSeries(parseCsv("v\n1\n-999\n3\n"), {
      target: "v",
      fill: "linear",
      missingValues: ["-999"],
    });
    expect(Array.from(s.data)).toEqual([1, 2, 3]);
    expect(
      dataError(() => selectSeries(parseCsv("v,w\n,1\nNA,2\n"), { target: "v", fill: "ffill" })).message,
    ).toBe('column "v" has no values at all; there is nothing to fill from');
    expect(
      dataError(() => selectSeries(parseCsv("v,w\n,1\nNA,2\n"), { target: "v", fill: "drop" })).message,
    ).toMatch(/nothing is left after drop/);
  });
});

describe("insertMissingDates", () => {
  it("inserts empty rows on the date grid, which fill then completes", () => {
    const text = "month,v\n2020-01,1\n2020-02,2\n2020-05,8\n2020-06,9\n";
    const table = insertMissingDates(parseCsv(text));
    expect(table.rowCount).toBe(6);
    expect(table.columns.month).toEqual(["2020-01", "2020-02", "2020-03", "2020-04", "2020-05", "2020-06"]);
    expect(table.lines).toEqual([2, 3, 0, 0, 4, 5]);
    expect(table.dates).toEqual(
      ["2020-01", "2020-02", "2020-03", "2020-04", "2020-05", "2020-06"].map((m) => iso(`${m}-01`)),
    );
    expect(dataError(() => selectSeries(table, { target: "v" })).message).toMatch(
      /missing value in column "v" on the row for 2020-03 that insertMissingDates added/,
    );
    const s = selectSeries(table, { target: "v", fill: "linear" });
    expect(Array.from(s.data)).toEqual([1, 2, 4, 6, 8, 9]);
  });

  it("keeps month-end anchors and returns the table unchanged without gaps", () => {
    const t = insertMissingDates(parseCsv("d,v\n2020-01-31,1\n2020-04-30,4\n2020-05-31,5\n"));
    expect(t.columns.d).toEqual(["2020-01-31", "2020-02-29", "2020-03-31", "2020-04-30", "2020-05-31"]);
    const plain = parseCsv("d,v\n2020-01-01,1\n2020-01-02,2\n");
    expect(insertMissingDates(plain)).toBe(plain);
    expect(dataError(() => insertMissingDates(parseCsv("v\n1\n2\n"))).message).toMatch(/no date column/);
  });
});

describe("decimal commas", () => {
  it("refuses a semicolon CSV with decimal commas, saying why and what to do", () => {
    const t = parseCsv("date;temp\n2020-01-01;1,5\n2020-01-02;-0,25\n");
    expect(t.header).toEqual(["date", "temp"]); // the delimiter is found from the header
    expect(dataError(() => selectSeries(t, { target: "temp" })).message).toBe(
      'non-numeric value "1,5" in column "temp" on line 2: "1,5" looks like a number with a decimal comma; numbers must use a decimal point (1.5): export the file with "." as the decimal separator',
    );
  });

  it("recognises decimal commas with thousands points, and nothing else", () => {
    expect(decimalCommaReason(" 1.234,5 ")).toContain("(1234.5)");
    expect(decimalCommaReason("-0,25")).toContain("(-0.25)");
    for (const s of ["drizzle", "1.5", "1,2,3", "1.2,3.4", ",5", "", "1,"])
      expect(decimalCommaReason(s)).toBeNull();
    // a non-number that is not a decimal comma keeps the plain message
    const t = parseCsv("v\nx\n");
    expect(dataError(() => selectSeries(t, { target: "v" })).message).toBe(
      'non-numeric value "x" in column "v" on line 2',
    );
  });
});
