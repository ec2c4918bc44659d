// What the page needs to know about a CSV before training on it: its columns, which of them hold
// numbers (the target menu), its date column and span. Run in the parse worker (parse-worker.ts), so a
// large file never holds the page's thread; free of the DOM, so Node tests run it as it is.

import { data } from "./lib.js";

export interface CsvSummary {
  name: string;
  /** Size of the text in bytes (UTF-16 code units, as read). */
  chars: number;
  rows: number;
  header: string[];
  dateColumn: string | null;
  /** Columns (not the date column) whose every cell is a number or a missing-value marker. */
  numeric: string[];
  /** The other columns, not the date column. */
  others: string[];
  /** The first and last date as the file writes them, when a date column is found. */
  firstDate: string | null;
  lastDate: string | null;
}

const NUMBER_RE = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** "; <reason>" when some cell is a number written with a decimal comma, else "". */
function commaNote(table: data.CsvTable): string {
  for (const name of table.header) {
    for (const cell of table.columns[name]) {
      const why = data.decimalCommaReason(cell);
      if (why) return `; ${why}`;
    }
  }
  return "";
}

/** Reads `text` (from the file `name`); throws an Error whose message, prefixed by `name`, says why not. */
export function inspectCsv(text: string, name: string): CsvSummary {
  if (text.includes("\u0000")) throw new Error(`${name} is not a text CSV file: it holds binary data`);
  let table: data.CsvTable;
  try {
    table = data.parseCsv(text);
  } catch (e) {
    throw new Error(`${name}: ${e instanceof Error ? e.message : String(e)}`);
  }
  const numeric = table.header.filter((c) => {
    if (c === table.dateColumn) return false;
    let numbers = 0;
    for (const cell of table.columns[c]) {
      const v = cell.trim();
      if (NUMBER_RE.test(v)) numbers++;
      else if (!(v === "" || data.DEFAULT_MISSING.includes(v))) return false;
    }
    return numbers > 0;
  });
  if (numeric.length === 0) {
    throw new Error(
      `${name}: no column holds numbers (columns: ${table.header.join(", ")}), so there is nothing to forecast${commaNote(table)}`,
    );
  }
  const dates = table.dates;
  const fmt = (ms: number) => data.formatDate(ms, table.dateFormat ?? undefined);
  const dated = dates !== null && dates !== undefined && dates.length > 0;
  return {
    name,
    chars: text.length,
    rows: table.rowCount,
    header: [...table.header],
    dateColumn: table.dateColumn,
    numeric,
    others: table.header.filter((c) => c !== table.dateColumn && !numeric.includes(c)),
    firstDate: dated ? fmt(dates[0]) : null,
    lastDate: dated ? fmt(dates[dates.length - 1]) : null,
  };
}
