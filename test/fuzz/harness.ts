// The fuzz harness: mutated checkpoints and CSV files driven through the whole `recurrent forecast`,
// `evaluate` and `train --resume` path (the real command's `main`, not only the decoder), each case
// classified as a success, a clear error, or a finding: a crash (an exception out of the command), a
// raw JavaScript error (the engine's words reaching the user), a non-finite number printed as a result,
// a case over its time bound, or one over its memory bound.
//
// Cases are a pure function of (seed, index), so any finding can be replayed alone:
// `npm run fuzz -- --seed S --from I --cases 1 --verbose`.

import { mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { main } from "../../src/node/cli/main.js";

const FDIR = join(import.meta.dirname, "..", "fixtures", "data", "forecast");

export interface Base {
  name: string;
  ckpt: Uint8Array;
  csv: string;
  /** Forecast horizons worth asking for. */
  horizons: number[];
}

const FUZZ = join(import.meta.dirname, "..", "fixtures", "data", "fuzz");

/**
 * The fixture checkpoints with their CSV files: an LSTM with dates, a multivariate GRU, an RNN without
 * dates, and (the other families, scripts/fuzz-fixtures.ts) a hybrid ensemble and an ETS fallback.
 * Read once per process: every case mutates copies of these bytes.
 */
export function loadBases(families = true): Base[] {
  const lstm: [string, string, string, number[]][] = [
    ["lstm_co2", FDIR, "lstm_co2", [1, 3, 7, 500, 95757, 3_300_000]],
    ["gru_weather", FDIR, "gru_weather", [1, 4, 6]],
    ["rnn_gaps", FDIR, "rnn_gaps", [1, 2, 5, 300]],
  ];
  const others: [string, string, string, number[]][] = [
    ["hybrid_co2", FUZZ, "../forecast/lstm_co2", [1, 6, 13, 300, 95757]],
    ["ets_co2", FUZZ, "ets_co2", [1, 6, 40, 95757]],
  ];
  return (families ? [...lstm, ...others] : lstm).map(([name, dir, csv, horizons]) => ({
    name,
    ckpt: new Uint8Array(readFileSync(join(dir, `${name}.safetensors`))),
    csv: readFileSync(join(dir, `${csv}.csv`), "utf8"),
    horizons,
  }));
}

/** mulberry32: a small seeded generator, so every case is reproducible from (seed, index). */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Rand = () => number;
const pick = <T>(r: Rand, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)];
const int = (r: Rand, n: number): number => Math.floor(r() * n);

/** JSON texts for values at the edge (written raw, so 1e308 and -0 stay as they are). */
const EDGE_JSON = [
  "0",
  "-1",
  "1",
  "2",
  "1.5",
  "-0",
  "1e308",
  "-1e308",
  "1e-300",
  "1e9",
  "1000000",
  "9007199254740993",
  "3.4028235e38",
  "1e39",
  '"12"',
  '"NaN"',
  '"Infinity"',
  '""',
  "null",
  "true",
  "false",
  "[]",
  "{}",
  "[1,2]",
  "[[[[[[[[[[1]]]]]]]]]]",
  '{"type":"standard"}',
  '"lstm"',
  '"gru"',
  '"rnn"',
  '"\\u001b[31m"',
  `"${"x".repeat(2000)}"`,
];

/** Float32 values at the edge for weights. */
const EDGE_F32 = [
  0,
  -0,
  1,
  -1,
  3e38,
  -3e38,
  3.4028234663852886e38,
  1e30,
  -1e30,
  1e-45,
  1e-38,
  Number.NaN,
  Number.POSITIVE_INFINITY,
  Number.NEGATIVE_INFINITY,
  100,
  1e10,
];

/** Cell texts at the edge for CSV files. */
const EDGE_CELLS = [
  "",
  "NA",
  "nan",
  "1e39",
  "-1e39",
  "1e308",
  "3.4028235e38",
  "3.5e38",
  "1e-45",
  "abc",
  "0x10",
  " 5 ",
  "--",
  "2000-02-30",
  "2000-13-01",
  "9999-12-31",
  "0001-01-01",
  "2020-01-01T25:00",
  "\u001b[31m7",
  "1,5",
  '"7"',
  "1e",
  ".",
  "-",
  "+1",
  "Infinity",
  "-0",
  "99999999999999999999999",
];

export interface FuzzCase {
  index: number;
  /** What was mutated, for the report. */
  mutation: string;
  /** The command line, with CKPT, CSV and OUT to be replaced by paths. */
  args: string[];
  ckpt: Uint8Array;
  csv: string;
}

function headerOf(bytes: Uint8Array): { n: number; json: Record<string, unknown> } | null {
  if (bytes.length < 8) return null;
  const n = new DataView(bytes.buffer, bytes.byteOffset).getUint32(0, true);
  try {
    return { n, json: JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n))) };
  } catch {
    return null;
  }
}

/** Rebuilds safetensors bytes from header text and the original data section. */
function withHeader(bytes: Uint8Array, n: number, header: string): Uint8Array {
  const json = new TextEncoder().encode(header);
  const pad = (8 - (json.length % 8)) % 8;
  const data = bytes.subarray(8 + n);
  const out = new Uint8Array(8 + json.length + pad + data.length);
  new DataView(out.buffer).setUint32(0, json.length + pad, true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + json.length + pad);
  out.set(data, 8 + json.length + pad);
  return out;
}

/** Sets a random path inside a JSON value to raw JSON text; returns the text and the path. */
function mutateJson(r: Rand, text: string, raw: string): { text: string; path: string } {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return { text: raw, path: "(whole)" };
  }
  const MARK = "\u0000MARK\u0000";
  const path: string[] = [];
  let cur = v;
  let parent: Record<string, unknown> | unknown[] | null = null;
  let key: string | number = "";
  while (cur !== null && typeof cur === "object" && (path.length === 0 || r() < 0.6)) {
    const keys = Array.isArray(cur) ? cur.map((_, i) => i) : Object.keys(cur);
    if (keys.length === 0) break;
    key = pick(r, keys as (string | number)[]);
    parent = cur as Record<string, unknown>;
    path.push(String(key));
    cur = (cur as Record<string, unknown>)[key as string];
  }
  if (parent === null) return { text: raw, path: "(whole)" };
  if (r() < 0.1 && !Array.isArray(parent)) delete (parent as Record<string, unknown>)[key as string];
  else (parent as Record<string, unknown>)[key as string] = MARK;
  return { text: JSON.stringify(v).replace(JSON.stringify(MARK), raw), path: path.join(".") };
}

function mutateCheckpoint(r: Rand, bytes: Uint8Array): { bytes: Uint8Array; what: string } {
  const kind = int(r, 10);
  const h = headerOf(bytes);
  if (kind <= 3 && h !== null) {
    // a metadata field set to a value at the edge
    const meta = h.json.__metadata__ as Record<string, string>;
    const keys = Object.keys(meta).filter((k) => k.startsWith("recurrent."));
    const key = pick(r, keys);
    const raw = pick(r, EDGE_JSON);
    const m = mutateJson(r, meta[key], raw);
    const header = JSON.stringify({ ...h.json, __metadata__: { ...meta, [key]: m.text } });
    return { bytes: withHeader(bytes, h.n, header), what: `metadata ${key}.${m.path} = ${raw.slice(0, 30)}` };
  }
  if (kind === 4 && h !== null && Object.keys(h.json).some((k) => k !== "__metadata__")) {
    // a tensor entry of the header: shape, dtype or offsets
    const names = Object.keys(h.json).filter((k) => k !== "__metadata__");
    const name = pick(r, names);
    const e = h.json[name] as Record<string, unknown>;
    const field = pick(r, ["shape", "dtype", "data_offsets"]);
    const raw = pick(r, [
      ...EDGE_JSON,
      '"F16"',
      '"I64"',
      '"BF16"',
      '"U8"',
      "[0]",
      "[1e9,1e9]",
      "[0,0]",
      "[4,1e15]",
    ]);
    const header = JSON.stringify({ ...h.json, [name]: { ...e, [field]: "\u0000M\u0000" } }).replace(
      JSON.stringify("\u0000M\u0000"),
      raw,
    );
    return { bytes: withHeader(bytes, h.n, header), what: `tensor ${name}.${field} = ${raw.slice(0, 30)}` };
  }
  const names = h === null ? [] : Object.keys(h.json).filter((k) => k !== "__metadata__");
  if (kind <= 6 && h !== null && names.length > 0) {
    // weights set to values at the edge (the header stays valid)
    const out = bytes.slice();
    const name = pick(r, names);
    const [b, e] = (h.json[name] as { data_offsets: [number, number] }).data_offsets;
    const view = new DataView(out.buffer, 8 + h.n);
    const v = pick(r, EDGE_F32);
    const all = r() < 0.3;
    for (let i = b; i < e; i += 4) if (all || r() < 0.2) view.setFloat32(i, v, true);
    return { bytes: out, what: `weights ${name} = ${v}${all ? " (all)" : ""}` };
  }
  if (kind === 7 || kind <= 6) {
    // random bytes flipped (also where a checkpoint has no tensors to set)
    const out = bytes.slice();
    const k = 1 + int(r, 8);
    for (let i = 0; i < k; i++) out[int(r, out.length)] ^= 1 << int(r, 8);
    return { bytes: out, what: `${k} bit flip(s)` };
  }
  if (kind === 8) {
    const cut = int(r, bytes.length);
    return { bytes: bytes.subarray(0, cut), what: `truncated to ${cut} bytes` };
  }
  // the header size field
  const out = bytes.slice();
  const v = pick(r, [0, 1, 7, 8, 2 ** 31, 99_999_999, 100_000_001, out.length, out.length - 7]);
  new DataView(out.buffer).setUint32(0, v >>> 0, true);
  return { bytes: out, what: `header size = ${v}` };
}

function mutateCsv(r: Rand, text: string): { text: string; what: string } {
  const lines = text.split("\n");
  const kind = int(r, 8);
  const row = 1 + int(r, Math.max(1, lines.length - 2));
  if (kind <= 3) {
    const cells = lines[row].split(",");
    const c = int(r, cells.length);
    const v = pick(r, EDGE_CELLS);
    cells[c] = v;
    lines[row] = cells.join(",");
    return { text: lines.join("\n"), what: `line ${row + 1} cell ${c} = ${JSON.stringify(v)}` };
  }
  if (kind === 4) {
    lines.splice(row, 1 + int(r, 5));
    return { text: lines.join("\n"), what: `lines from ${row + 1} deleted` };
  }
  if (kind === 5) {
    const cells = lines[0].split(",");
    const c = int(r, cells.length);
    cells[c] = pick(r, ["", "x", cells[(c + 1) % cells.length], "\u001b[2J", "date", " CO2 "]);
    lines[0] = cells.join(",");
    return { text: lines.join("\n"), what: `header column ${c} = ${JSON.stringify(cells[c])}` };
  }
  if (kind === 6) {
    lines.splice(row, 0, lines[row]);
    return { text: lines.join("\n"), what: `line ${row + 1} duplicated` };
  }
  const cut = int(r, text.length);
  return { text: text.slice(0, cut), what: `truncated to ${cut} characters` };
}

/** Case `index` of the run seeded by `seed`. */
export function makeCase(bases: Base[], seed: number, index: number): FuzzCase {
  const r = rng((seed * 1_000_003 + index) >>> 0);
  const base = pick(r, bases);
  let ckpt = base.ckpt;
  let csv = base.csv;
  const what: string[] = [base.name];
  const target = r();
  if (target < 0.6) {
    const m = mutateCheckpoint(r, ckpt);
    ckpt = m.bytes;
    what.push(m.what);
  }
  if (target >= 0.4) {
    const m = mutateCsv(r, csv);
    csv = m.text;
    what.push(m.what);
  }
  const cmd = r();
  let args: string[];
  if (cmd < 0.55) {
    args = [
      "forecast",
      "--model",
      "CKPT",
      "--csv",
      "CSV",
      "--no-chart",
      "--horizon",
      String(pick(r, base.horizons)),
    ];
    if (r() < 0.3) args.push("--json");
  } else if (cmd < 0.8) {
    args = ["evaluate", "--model", "CKPT", "--csv", "CSV"];
    if (r() < 0.3) args.push("--json");
    // the classical models (a few ETS fits per case) are most of an evaluation's time: one case in five
    if (r() < 0.8) args.push("--no-classical");
  } else {
    args = ["train", "--csv", "CSV", "--resume", "CKPT", "--epochs", "1", "--out", "OUT"];
  }
  if (r() < 0.2) args.push("--fill", pick(r, ["ffill", "linear", "drop"]));
  return { index, mutation: what.join("; "), args, ckpt, csv };
}

export type Outcome = "ok" | "error" | "crash" | "raw-js-error" | "non-finite" | "slow" | "memory";

export interface CaseResult {
  outcome: Outcome;
  code: number | null;
  /**
   * Wall time, and CPU time of the process (a bound that the machine's other load does not move; read
   * for cases over CPU_CHECK_MS of wall time, else the wall time, which bounds it).
   */
  ms: number;
  cpuMs: number;
  /** The message or the offending output. */
  detail: string;
}

/** The JavaScript engine's own words: a message that reaches the user in these is a finding. */
const RAW_JS =
  /Cannot read propert|Cannot set propert|is not a function|is not iterable|Invalid typed array length|Invalid array length|out of bounds|Maximum call stack|Array buffer allocation failed|is not defined|Cannot convert|Invalid string length|Reduce of empty array|toFixed\(\) digits|Invalid time value/;

/** Whether a printed result holds a non-finite number. */
function nonFiniteOutput(stdout: string): string | null {
  const m = /(^|[,\s:])(NaN|-?Infinity|null)(?=$|[,\s}\]])/m.exec(
    stdout.replace(/"chart": null|"test_start_date": null|"intervals": null|"coverage": null/g, ""),
  );
  return m === null ? null : stdout.slice(Math.max(0, m.index - 40), m.index + 40);
}

/**
 * A folder for the cases' files: in memory (/dev/shm) where there is one, since writing two files per
 * case to disk was half the harness's time.
 */
export function caseRoot(prefix: string): string {
  const shm = "/dev/shm";
  try {
    if (statSync(shm).isDirectory()) return mkdtempSync(join(shm, prefix));
  } catch {
    // no /dev/shm here: the system's temporary folder
  }
  return mkdtempSync(join(tmpdir(), prefix));
}

/** What each folder's two files hold now, so a file that a case leaves as its base is not rewritten. */
const written = new Map<string, { ckpt: Uint8Array | null; csv: string | null }>();

/** Wall time under which a case's CPU time is not read (see runCase). */
const CPU_CHECK_MS = 1000;

/** Runs one case through `main` in this process, with files under `dir`. */
export async function runCase(c: FuzzCase, dir: string): Promise<CaseResult> {
  let now = written.get(dir);
  if (now === undefined) {
    mkdirSync(dir, { recursive: true });
    now = { ckpt: null, csv: null };
    written.set(dir, now);
  }
  const ckptPath = join(dir, "model.safetensors");
  const csvPath = join(dir, "series.csv");
  if (now.ckpt !== c.ckpt) {
    now.ckpt = null; // unknown until the write is done
    writeFileSync(ckptPath, c.ckpt);
    now.ckpt = c.ckpt;
  }
  if (now.csv !== c.csv) {
    now.csv = null;
    writeFileSync(csvPath, c.csv);
    now.csv = c.csv;
  }
  const args = c.args.map((a) =>
    a === "CKPT" ? ckptPath : a === "CSV" ? csvPath : a === "OUT" ? join(dir, "out.safetensors") : a,
  );
  let stdout = "";
  let stderr = "";
  const out = process.stdout.write;
  const err = process.stderr.write;
  process.stdout.write = ((s: string | Uint8Array) => {
    stdout += String(s);
    return true;
  }) as typeof process.stdout.write;
  process.stderr.write = ((s: string | Uint8Array) => {
    stderr += String(s);
    return true;
  }) as typeof process.stderr.write;
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  let code: number | null = null;
  let thrown: unknown = null;
  try {
    code = await main(args);
  } catch (e) {
    thrown = e;
  } finally {
    process.stdout.write = out;
    process.stderr.write = err;
  }
  const ms = performance.now() - t0;
  // reading the CPU clock is a system call (most of a millisecond where system calls are slow): a case
  // quicker than CPU_CHECK_MS of wall time took no more CPU than that, so only slower ones ask
  let cpuMs = ms;
  if (ms > CPU_CHECK_MS) {
    const cpu = process.cpuUsage(cpu0);
    cpuMs = (cpu.user + cpu.system) / 1000;
  }
  if (thrown !== null)
    return { outcome: "crash", code, ms, cpuMs, detail: String((thrown as Error)?.stack ?? thrown) };
  if (code === 0) {
    const bad = nonFiniteOutput(stdout);
    return bad === null
      ? { outcome: "ok", code, ms, cpuMs, detail: "" }
      : { outcome: "non-finite", code, ms, cpuMs, detail: bad };
  }
  // progress lines may come first (train); the message is what follows "error: "
  const at = stderr.startsWith("error: ") ? 0 : stderr.indexOf("\nerror: ") + 1;
  const msg = stderr.slice(at).trim();
  if (at < 0 || RAW_JS.test(msg) || /\n\s+at /.test(msg) || !msg.startsWith("error: ")) {
    return { outcome: "raw-js-error", code, ms, cpuMs, detail: msg.slice(0, 400) };
  }
  return { outcome: "error", code, ms, cpuMs, detail: msg.slice(0, 200) };
}
