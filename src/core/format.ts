// Printing tensors the way PyTorch prints them: one number format for the whole tensor (integers as
// `1.`, fixed `0.1234` or scientific `1.0000e-05` chosen from the value range), right-aligned columns,
// lines wrapped at 80 characters, `...` for tensors over 1000 elements.

import type { Tensor } from "./tensor.js";

const PRECISION = 4;
const LINEWIDTH = 80;
const THRESHOLD = 1000;
const EDGEITEMS = 3;

/**
 * The exact decimal digits of |v| from its first significant digit (at most 100 of them), and the power of
 * ten of that digit. Float32 values in the printing ranges have short exact expansions.
 */
function exactDigits(v: number): { digits: string; exp: number } {
  const [m, e] = Math.abs(v).toExponential(99).split("e");
  return { digits: m.replace(".", ""), exp: Number(e) };
}

/**
 * Whether keeping the first `keep` exact digits of |v| leaves an exact tie (a 5 then only zeros), which
 * JavaScript rounds away from zero and Python to even; then the digits kept when rounding to even down.
 */
function tieDown(v: number, keep: number): string | null {
  const { digits } = exactDigits(v);
  if (keep < 0 || keep >= digits.length || !/^50*$/.test(digits.slice(keep))) return null;
  const last = keep > 0 ? Number(digits[keep - 1]) : 0;
  return last % 2 === 0 ? digits.slice(0, keep) : null;
}

/** Python's '{:.4e}': two-digit exponent at least, ties to even. */
function sci(v: number): string {
  const down = v !== 0 && Number.isFinite(v) ? tieDown(v, PRECISION + 1) : null;
  let s = v.toExponential(PRECISION);
  if (down !== null) {
    s = `${v < 0 ? "-" : ""}${down[0]}.${down.slice(1)}e${exactDigits(v).exp < 0 ? "" : "+"}${exactDigits(v).exp}`;
  }
  return s.replace(/e([+-])(\d)$/, "e$10$2");
}

/** Python's '{:.4f}': ties to even (JavaScript's toFixed rounds them away from zero). */
function fixed(v: number): string {
  const s = v.toFixed(PRECISION);
  if (v === 0 || !Number.isFinite(v)) return s;
  const { exp } = exactDigits(v);
  const keep = exp + 1 + PRECISION; // digits up to the 4th decimal
  const down = tieDown(v, keep);
  if (down === null) return s;
  // the kept digits, rounded down: pad to the units digit and place the point
  const all = keep <= 0 ? "0".repeat(PRECISION + 1) : down.padStart(PRECISION + 1, "0");
  return `${v < 0 ? "-" : ""}${all.slice(0, -PRECISION)}.${all.slice(-PRECISION)}`;
}

/** int64 and bool elements, as PyTorch prints them: `str(value)` right-aligned to the widest (`True`, `False`). */
class PlainFormatter {
  readonly width: number;
  constructor(
    values: ArrayLike<number>,
    private readonly bool: boolean,
  ) {
    let width = 1;
    for (let i = 0; i < values.length; i++) width = Math.max(width, this.raw(values[i]).length);
    this.width = width;
  }
  private raw(v: number): string {
    return this.bool ? (v !== 0 ? "True" : "False") : String(v === 0 ? 0 : v);
  }
  format(v: number): string {
    return this.raw(v).padStart(this.width);
  }
}

class Formatter {
  readonly intMode: boolean;
  readonly sciMode: boolean;
  readonly width: number;

  constructor(values: ArrayLike<number>) {
    const finite: number[] = [];
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      if (Number.isFinite(v) && v !== 0) finite.push(Math.abs(v));
    }
    let intMode = true;
    let sciMode = false;
    if (finite.length > 0) {
      const maxV = Math.max(...finite);
      const minV = Math.min(...finite);
      intMode = finite.every((v) => v === Math.ceil(v));
      if (intMode) sciMode = maxV / minV > 1000 || maxV > 1e8;
      else sciMode = maxV / minV > 1000 || maxV > 1e8 || minV < 1e-4;
    }
    this.intMode = intMode;
    this.sciMode = sciMode;
    // The column width comes from the finite nonzero values only, as PyTorch's formatter.
    let width = 1;
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      if (Number.isFinite(v) && v !== 0) width = Math.max(width, this.raw(v).length);
    }
    this.width = width;
  }

  private raw(v: number): string {
    if (Number.isNaN(v)) return "nan";
    if (!Number.isFinite(v)) return v > 0 ? "inf" : "-inf";
    // JavaScript drops the sign of -0 (`(-0).toFixed(4)` is "0.0000"); Python prints "-0.0000"
    if (Object.is(v, -0)) return `-${this.raw(0)}`;
    if (this.sciMode) return sci(v);
    if (this.intMode) return `${v.toFixed(0)}.`;
    return fixed(v);
  }

  format(v: number): string {
    const s = this.raw(v);
    return " ".repeat(Math.max(0, this.width - s.length)) + s;
  }
}

interface View {
  data: Float32Array;
  offset: number;
  shape: number[];
}

function sub(v: View, i: number): View {
  const inner = v.shape.slice(1).reduce((a, b) => a * b, 1);
  return { data: v.data, offset: v.offset + i * inner, shape: v.shape.slice(1) };
}

function summarizedValues(v: View, summarize: boolean, out: number[]): void {
  if (v.shape.length === 0) {
    out.push(v.data[v.offset]);
    return;
  }
  const n = v.shape[0];
  const idx: number[] = [];
  if (summarize && n > 2 * EDGEITEMS) {
    for (let i = 0; i < EDGEITEMS; i++) idx.push(i);
    for (let i = n - EDGEITEMS; i < n; i++) idx.push(i);
  } else for (let i = 0; i < n; i++) idx.push(i);
  for (const i of idx) summarizedValues(sub(v, i), summarize, out);
}

type Fmt = Formatter | PlainFormatter;

function vectorStr(v: View, indent: number, summarize: boolean, fmt: Fmt): string {
  const elementLength = fmt.width + 2;
  const perLine = Math.max(1, Math.floor((LINEWIDTH - indent) / elementLength));
  const n = v.shape[0];
  const items: string[] = [];
  if (summarize && n > 2 * EDGEITEMS) {
    for (let i = 0; i < EDGEITEMS; i++) items.push(fmt.format(v.data[v.offset + i]));
    items.push(" ...");
    for (let i = n - EDGEITEMS; i < n; i++) items.push(fmt.format(v.data[v.offset + i]));
  } else for (let i = 0; i < n; i++) items.push(fmt.format(v.data[v.offset + i]));
  const lines: string[] = [];
  for (let i = 0; i < items.length; i += perLine) lines.push(items.slice(i, i + perLine).join(", "));
  return `[${lines.join(`,\n${" ".repeat(indent + 1)}`)}]`;
}

function tensorStr(v: View, indent: number, summarize: boolean, fmt: Fmt): string {
  const dim = v.shape.length;
  if (dim === 0) return fmt.format(v.data[v.offset]);
  if (dim === 1) return vectorStr(v, indent, summarize, fmt);
  const n = v.shape[0];
  const parts: string[] = [];
  if (summarize && n > 2 * EDGEITEMS) {
    for (let i = 0; i < EDGEITEMS; i++) parts.push(tensorStr(sub(v, i), indent + 1, summarize, fmt));
    parts.push("...");
    for (let i = n - EDGEITEMS; i < n; i++) parts.push(tensorStr(sub(v, i), indent + 1, summarize, fmt));
  } else for (let i = 0; i < n; i++) parts.push(tensorStr(sub(v, i), indent + 1, summarize, fmt));
  return `[${parts.join(`,${"\n".repeat(dim - 1)}${" ".repeat(indent + 1)}`)}]`;
}

/** The tensor as PyTorch prints it, e.g. `tensor([1.0000, 2.5000], requires_grad=True)`. */
export function formatTensor(t: Tensor): string {
  const prefix = "tensor(";
  const indent = prefix.length;
  const suffixes: string[] = [];
  let body: string;
  if (t.numel === 0) {
    body = "[]";
    if (t.shape.length !== 1) suffixes.push(`size=(${t.shape.join(", ")}${t.shape.length === 1 ? "," : ""})`);
    // an empty tensor has no elements to show its dtype by
    if (t.dtype !== "float32") suffixes.push(`dtype=torch.${t.dtype}`);
  } else {
    const summarize = t.numel > THRESHOLD;
    const view: View = { data: t.data, offset: 0, shape: t.shape };
    const vals: number[] = [];
    summarizedValues(view, summarize, vals);
    const fmt = t.dtype === "float32" ? new Formatter(vals) : new PlainFormatter(vals, t.dtype === "bool");
    body = tensorStr(view, indent, summarize, fmt);
  }
  if (t.gradFn !== null) suffixes.push(`grad_fn=<${t.gradFn.name}>`);
  else if (t.requiresGrad) suffixes.push("requires_grad=True");
  let s = prefix + body;
  // PyTorch's _add_suffixes, with its bookkeeping: the last line counts 2 more than its length, except
  // right after a suffix was wrapped onto a line of its own
  let lastLen = s.length - s.lastIndexOf("\n") + 1;
  for (const suffix of suffixes) {
    if (lastLen + suffix.length + 2 > LINEWIDTH) {
      s += `,\n${" ".repeat(indent)}${suffix}`;
      lastLen = indent + suffix.length;
    } else {
      s += `, ${suffix}`;
      lastLen += suffix.length + 2;
    }
  }
  return `${s})`;
}

/**
 * A number as Python's repr(float) writes it: the shortest digits that read back to it, in exponent form
 * below 1e-4 and from 1e16 up (`1e-05`, `1e+16`), `.0` on whole numbers, `inf`, `nan`, `-0.0`.
 */
export function pyFloatRepr(v: number): string {
  if (Number.isNaN(v)) return "nan";
  if (!Number.isFinite(v)) return v > 0 ? "inf" : "-inf";
  if (v === 0) return Object.is(v, -0) ? "-0.0" : "0.0";
  const a = Math.abs(v);
  if (a < 1e-4 || a >= 1e16) {
    const [m, e] = v.toExponential().split("e");
    const exp = Number(e);
    return `${m}e${exp < 0 ? "-" : "+"}${String(Math.abs(exp)).padStart(2, "0")}`;
  }
  const s = String(v);
  return Number.isInteger(v) ? `${s}.0` : s;
}
