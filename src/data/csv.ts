// CSV text -> a table of string columns, keyed by header name, with the file line of every row and,
// when the table has one, its date column parsed. Numbers are read later, by `selectSeries`, which
// reports bad cells by line and column.
//
// Rules: the first non-blank line is the header; names are trimmed and must be non-empty and distinct;
// every row has as many fields as the header; blank lines are skipped; a leading byte-order mark is
// dropped. Line numbers are 1-based lines of the file, header included, counting the newlines inside
// quoted fields, so they match what an editor shows.
//
// Memory: a file without quotes (most are) is read by a plain scan that keeps each cell as an offset
// into the text (4 bytes a cell) instead of a string of its own (about 30 bytes and an array slot);
// `cellReader` reads one cell at a time, and `columns` builds a column's strings only when asked. So a
// file costs its text plus a few bytes a cell, not ten times its size. Files with quotes go through
// Papa Parse, which unquotes them.

import Papa from "papaparse";
import { type DateFormat, impossibleDate, parseDateFormat } from "./dates.js";
import { DataError, quote } from "./errors.js";

export interface ParseCsvOptions {
  /**
   * The column holding dates. Default: the first column whose every value is an ISO date with at
   * least a year and a month (`2020-01`, `2020-01-31`, `2020-01-31T10:00`, ...); bare years are taken
   * only when the column is named here. `false`: no date column.
   */
  dateColumn?: string | false;
  /** Field delimiter. Default: `,`, or tab / `;` when the header has no comma but has one of those. */
  delimiter?: string;
}

export interface CsvTable {
  /** Column names in file order. */
  readonly header: readonly string[];
  /** The cells of each column, as written (untrimmed), by name. */
  readonly columns: Readonly<Record<string, readonly string[]>>;
  /** Number of data rows. */
  readonly rowCount: number;
  /** For each data row, the 1-based line of the file where it starts (the header is line 1 or later). */
  readonly lines: readonly number[];
  /** The name of the date column, or null. */
  readonly dateColumn: string | null;
  /** For each row, its date in milliseconds since the epoch (UTC), or null without a date column. */
  readonly dates: readonly number[] | null;
  /** How the date column is written, for printing continued dates the same way. */
  readonly dateFormat: DateFormat | null;
}

/** Parses CSV text with a header line into columns of strings, and the date column into times. */
export function parseCsv(text: string, options: ParseCsvOptions = {}): CsvTable {
  if (typeof text !== "string")
    throw new DataError(`parseCsv: expected the CSV text as a string, got ${typeof text}`);
  const src = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  if (src.trim() === "")
    throw new DataError("CSV is empty: expected a header line and at least one data row");

  const delimiter = options.delimiter ?? guessDelimiter(src);
  const crOnly = !src.includes("\n") && src.includes("\r");
  const nl = crOnly ? "\r" : "\n";
  const plain = delimiter.length === 1 && !src.includes('"') ? scanPlain(src, delimiter, nl) : null;
  const { header, columns, lines } = plain ?? parseQuoted(src, delimiter, nl);
  const cellsOf = (name: string): ((row: number) => string) => {
    if (plain === null) {
      const cells = columns[name];
      return (i) => cells[i];
    }
    return plain.reader(header.indexOf(name));
  };

  let dateColumn: string | null = null;
  let dates: number[] | null = null;
  let dateFormat: DateFormat | null = null;
  if (typeof options.dateColumn === "string") {
    dateColumn = options.dateColumn;
    if (!(dateColumn in columns)) {
      throw new DataError(
        `date column ${quote(dateColumn)} is not in the CSV; its columns are: ${header.join(", ")}`,
      );
    }
    const cell = cellsOf(dateColumn);
    dates = [];
    for (let i = 0; i < lines.length; i++) {
      const r = parseDateFormat(cell(i));
      if (r === null) {
        const why = impossibleDate(cell(i));
        throw new DataError(
          why !== null
            ? `date column ${quote(dateColumn)} on line ${lines[i]} holds ${quote(cell(i))}, which is not a possible date: ${why}`
            : `date column ${quote(dateColumn)} on line ${lines[i]} holds ${quote(cell(i))}, which is not a date (expected e.g. 2020-01-31, 2020-01 or 2020-01-31T10:00:00)`,
        );
      }
      dates.push(r.time);
      dateFormat = r.format;
    }
  } else if (options.dateColumn === undefined) {
    for (const name of header) {
      const parsed: number[] = [];
      let format: DateFormat | null = null;
      let impossible = -1; // the first cell written like a date that is not a possible one
      const cell = cellsOf(name);
      for (let i = 0; i < lines.length; i++) {
        const text = cell(i);
        const r = text.includes("-") ? parseDateFormat(text) : null;
        if (r === null) {
          if (!text.includes("-") || impossibleDate(text) === null) break;
          if (impossible < 0) impossible = i;
          parsed.push(Number.NaN);
          continue;
        }
        parsed.push(r.time);
        format = r.format;
      }
      // a date column with one impossible date is an error, not a column of text (which would drop the
      // dates and their gap checks without a word)
      if (impossible >= 0 && parsed.length === lines.length && format !== null) {
        throw new DataError(
          `date column ${quote(name)} on line ${lines[impossible]} holds ${quote(cell(impossible))}, which is not a possible date: ${impossibleDate(cell(impossible))}`,
        );
      }
      if (parsed.length === lines.length && impossible < 0) {
        dateColumn = name;
        dates = parsed;
        dateFormat = format;
        break;
      }
    }
  }

  const table: CsvTable = { header, columns, rowCount: lines.length, lines, dateColumn, dates, dateFormat };
  if (plain !== null) readers.set(table, plain.reader);
  return table;
}

/** The cells of a table read by scanPlain: offsets into its text. */
const readers = new WeakMap<CsvTable, (column: number) => (row: number) => string>();

/**
 * Reads column `name` of `table` cell by cell (a new string for each, kept by no one), without the
 * column's array of strings; a DataError lists the columns when there is no such one.
 */
export function cellReader(table: CsvTable, name: string): (row: number) => string {
  const reader = readers.get(table);
  if (reader === undefined) {
    const cells = getColumn(table, name);
    return (i) => cells[i];
  }
  checkColumn(table, name);
  return reader(table.header.indexOf(name));
}

interface Parsed {
  header: string[];
  columns: Record<string, readonly string[]>;
  lines: number[];
}

/**
 * A file without quotes: lines split at `nl` (a "\r" before "\n" dropped), fields at `delimiter`, each
 * cell kept as its start offset in `src` (and each row's end), so no string is made per cell. Throws
 * the messages the Papa path gives.
 */
function scanPlain(
  src: string,
  delimiter: string,
  nl: string,
): Parsed & { reader: (column: number) => (row: number) => string } {
  const d = delimiter.charCodeAt(0);
  let n = 1; // lines, so rows <= n
  for (let i = src.indexOf(nl); i >= 0; i = src.indexOf(nl, i + 1)) n++;
  let header: string[] | null = null;
  let headerLine = 0;
  let C = 0;
  let starts = new Uint32Array(0); // (rows, C) where each cell starts
  const ends = new Uint32Array(n); // (rows) where each row ends
  const lines: number[] = [];
  let line = 0;
  for (let pos = 0; pos <= src.length; ) {
    let end = src.indexOf(nl, pos);
    if (end < 0) end = src.length;
    line++;
    const e = nl === "\n" && end > pos && src.charCodeAt(end - 1) === 13 ? end - 1 : end;
    const next = end + nl.length;
    let fields = 1;
    for (let i = pos; i < e; i++) if (src.charCodeAt(i) === d) fields++;
    if (fields === 1 && src.slice(pos, e).trim() === "") {
      pos = next;
      continue; // a blank line
    }
    if (header === null) {
      header = src
        .slice(pos, e)
        .split(delimiter)
        .map((h) => h.trim());
      headerLine = line;
      const failure = headerProblem(header, headerLine);
      if (failure !== null) throw new DataError(failure);
      C = header.length;
      starts = new Uint32Array(n * C);
    } else {
      if (fields !== C) {
        throw new DataError(
          `line ${line} has ${fields} field(s) but the header (line ${headerLine}) has ${C}: ${header.join(", ")}`,
        );
      }
      const r = lines.length;
      let k = r * C;
      starts[k++] = pos;
      for (let i = pos; i < e; i++) if (src.charCodeAt(i) === d) starts[k++] = i + 1;
      ends[r] = e;
      lines.push(line);
    }
    pos = next;
  }
  if (header === null) throw new DataError("CSV is empty: expected a header line and at least one data row");
  if (lines.length === 0) throw new DataError(`CSV has a header (${header.join(", ")}) but no data rows`);
  const cols = C;
  const reader =
    (c: number) =>
    (r: number): string =>
      src.slice(starts[r * cols + c], c + 1 < cols ? starts[r * cols + c + 1] - 1 : ends[r]);
  // a column's strings are made when something asks for them (the page, insertMissingDates)
  const columns: Record<string, readonly string[]> = Object.create(null);
  header.forEach((name, c) => {
    Object.defineProperty(columns, name, {
      enumerable: true,
      configurable: true,
      get() {
        const read = reader(c);
        const v = Array.from({ length: lines.length }, (_, r) => read(r));
        Object.defineProperty(columns, name, { value: v, enumerable: true });
        return v;
      },
    });
  });
  return { header, columns, lines, reader };
}

/** Any file, through Papa Parse: quoted fields unquoted, their newlines counted. */
function parseQuoted(src: string, delimiter: string, nl: string): Parsed {
  // Rows go straight into their columns as the parser meets them (no table of rows is kept), so the
  // memory is the file's text plus its cells. Line numbers are counted as the rows come, in order.
  let line = 1;
  let pos = 0;
  const lineAt = (offset: number): number => {
    while (true) {
      const next = src.indexOf(nl, pos);
      if (next < 0 || next >= offset) break;
      line++;
      pos = next + 1;
    }
    return line;
  };
  const isBlank = (r: string[]): boolean => r.length === 1 && r[0].trim() === "";
  let problem = null as { line: number; message: string } | null; // the parser's first complaint
  let failure = null as string | null; // ours, reported unless the parser complains
  let header = null as string[] | null; // set by the parser callback
  let headerLine = 0;
  let cols: string[][] = [];
  const lines: number[] = [];
  let cursor = 0;
  Papa.parse<string[]>(src, {
    delimiter,
    skipEmptyLines: false,
    step: (r) => {
      const start = cursor;
      cursor = r.meta.cursor;
      if (problem !== null) return;
      const ln = lineAt(start);
      if (r.errors.length > 0) {
        problem = { line: ln, message: r.errors[0].message };
        return;
      }
      const row = r.data;
      if (failure !== null || isBlank(row)) return;
      if (header === null) {
        header = row.map((s) => s.trim());
        headerLine = ln;
        failure = headerProblem(header, headerLine);
        cols = header.map(() => []);
        return;
      }
      if (row.length !== header.length) {
        failure = `line ${ln} has ${row.length} field(s) but the header (line ${headerLine}) has ${header.length}: ${header.join(", ")}`;
        return;
      }
      for (let c = 0; c < row.length; c++) cols[c].push(row[c]);
      lines.push(ln);
    },
  });
  if (problem !== null) throw new DataError(`malformed CSV on line ${problem.line}: ${problem.message}`);
  if (failure !== null) throw new DataError(failure);
  if (header === null) throw new DataError("CSV is empty: expected a header line and at least one data row");
  const columns: Record<string, string[]> = Object.create(null);
  header.forEach((name, c) => {
    columns[name] = cols[c];
  });
  if (lines.length === 0) {
    throw new DataError(`CSV has a header (${header.join(", ")}) but no data rows`);
  }
  return { header, columns, lines };
}

/** What is wrong with a header (an empty or repeated name), or null. */
function headerProblem(header: readonly string[], headerLine: number): string | null {
  const seen = new Map<string, number>();
  for (let i = 0; i < header.length; i++) {
    const name = header[i];
    if (name === "")
      return `column ${i + 1} of the header (line ${headerLine}) has no name; every column needs one`;
    const prev = seen.get(name);
    if (prev !== undefined)
      return `duplicate column name ${quote(name)} in the header (line ${headerLine}): columns ${prev + 1} and ${i + 1}`;
    seen.set(name, i);
  }
  return null;
}

function guessDelimiter(src: string): string {
  const body = src.trimStart();
  const end = body.search(/\r|\n/);
  const first = end < 0 ? body : body.slice(0, end);
  if (first.includes(",")) return ",";
  if (first.includes("\t")) return "\t";
  if (first.includes(";")) return ";";
  return ",";
}

/** The cells of column `name`, or a DataError listing the columns there are. */
export function getColumn(table: CsvTable, name: string): readonly string[] {
  checkColumn(table, name);
  return table.columns[name];
}

/** A DataError listing the columns there are unless the table has column `name` (its cells are not read). */
export function checkColumn(table: CsvTable, name: string): void {
  if (!Object.hasOwn(table.columns, name)) {
    throw new DataError(`unknown column ${quote(name)}; the columns are: ${table.header.join(", ")}`);
  }
}
