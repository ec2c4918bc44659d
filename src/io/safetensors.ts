// safetensors: a dict of float32 tensors to bytes and back, on Uint8Array only (no files here).
//
// Layout, in bytes:
//   [0, 8)          N, the header size, u64 little-endian
//   [8, 8 + N)      UTF-8 JSON header {name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__"?: {str: str}},
//                   padded with spaces so that N is a multiple of 8
//   [8 + N, end)    D, the data: each tensor's elements, little-endian, row-major, at [begin, end) of D;
//                   the tensors cover D exactly, with neither gaps nor overlaps.
//
// We write F32, and I64 / BOOL for int64 / bool tensors. We read F32, F64, F16, BF16, I64, I32 and BOOL, each
// converted to float32 bit for bit (or, with `{ keepDtype: true }`, I64 and BOOL as int64 and bool tensors) as
// PyTorch's `.float()` does: F16 and BF16 exactly (subnormals, infinities, NaN payloads; F16 signalling
// NaNs come out quiet), F32 as it is, F64, I64 and I32 rounded once to nearest even.

import { Tensor } from "../core/tensor.js";

/** Any malformed safetensors input, or a dict/metadata that cannot be written. */
export class SafetensorsError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "SafetensorsError";
  }
}

/** The dtypes we can read. */
export type SafetensorsDtype = "F64" | "F32" | "F16" | "BF16" | "I64" | "I32" | "BOOL";

const DTYPE_SIZE: Record<SafetensorsDtype, number> = {
  F64: 8,
  F32: 4,
  F16: 2,
  BF16: 2,
  I64: 8,
  I32: 4,
  BOOL: 1,
};

/** Dtypes of the format that we recognise but do not read. */
const UNSUPPORTED_DTYPES = new Set(["U8", "I8", "F8_E5M2", "F8_E4M3", "I16", "U16", "U32", "U64"]);

/** Largest header we accept, as the reference implementation does. */
export const MAX_HEADER_SIZE = 100_000_000;

/**
 * Deepest JSON nesting a header may have. A valid header nests 3 levels ({name: {shape: [...]}}); its
 * metadata values are strings. Deeper JSON is refused before JSON.parse sees it (50 MB of brackets
 * would otherwise take gigabytes to parse).
 */
export const MAX_HEADER_DEPTH = 8;

/**
 * A header may be at most this many bytes plus HEADER_PER_DATA_BYTE times the data it declares: a
 * forecast checkpoint's metadata carries the optimizer's two buffers per weight in base64 (about 2.7
 * bytes per byte of weights) and the training history.
 */
export const HEADER_BASE_SIZE = 1 << 20;
export const HEADER_PER_DATA_BYTE = 4;

/**
 * Scans header JSON text once, without building anything: the deepest nesting outside strings. Stops
 * as soon as `limit` is passed.
 */
function nestingDepth(text: string, limit: number): number {
  let depth = 0;
  let max = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      // skip the string: to the next quote not escaped
      i++;
      while (i < text.length && text.charCodeAt(i) !== 0x22) i += text.charCodeAt(i) === 0x5c ? 2 : 1;
    } else if (c === 0x7b || c === 0x5b) {
      depth++;
      if (depth > max) {
        max = depth;
        if (max > limit) return max;
      }
    } else if (c === 0x7d || c === 0x5d) {
      depth--;
    }
  }
  return max;
}

/** One tensor's entry in the header. */
export interface SafetensorsEntry {
  dtype: SafetensorsDtype;
  shape: number[];
  /** [begin, end) in bytes, relative to the start of the data section. */
  dataOffsets: [number, number];
}

/** A validated header. */
export interface SafetensorsHeader {
  /** The entries, in the order of their data (but integer-like names first: JS objects order them so). */
  tensors: Record<string, SafetensorsEntry>;
  metadata: Record<string, string>;
  /** Where the data section starts in the file: 8 + N. */
  dataStart: number;
}

const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

// ---------------------------------------------------------------- helpers

function describe(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "an array";
  if (typeof v === "string")
    return `the string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}...` : v)}`;
  if (typeof v === "number" || typeof v === "boolean") return `${typeof v} ${v}`;
  if (typeof v === "object") {
    const name = (v as object).constructor?.name;
    return name && name !== "Object" ? `a ${name}` : "an object";
  }
  return typeof v;
}

/** A short, printable rendering of a key for error messages. */
function q(s: string): string {
  return JSON.stringify(s.length > 60 ? `${s.slice(0, 60)}...` : s);
}

/** Whether `s` has no lone surrogates (so it is valid UTF-8 once encoded, as JSON readers require). */
function isWellFormed(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const d = s.charCodeAt(i + 1);
      if (!(d >= 0xdc00 && d <= 0xdfff)) return false;
      i++;
    } else if (c >= 0xdc00 && c <= 0xdfff) {
      return false;
    }
  }
  return true;
}

/** Compares by Unicode code point, which is the byte order of UTF-8 (how Rust sorts strings). */
function compareCodePoints(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const ca = a.codePointAt(i)!;
    const cb = b.codePointAt(i)!;
    if (ca !== cb) return ca - cb;
    if (ca > 0xffff) i++;
  }
  return a.length - b.length;
}

/** Defines an own enumerable property (safe for names like "__proto__"). */
function put<T>(obj: Record<string, T>, key: string, value: T): void {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}

// ---------------------------------------------------------------- encode

/**
 * Encodes `dict` (name -> float32 tensor) and optional string metadata as safetensors bytes: keys in
 * sorted order (as the reference implementation writes them), dtype F32, header padded to 8 bytes.
 * `__metadata__` is written only when `metadata` has at least one key.
 */
export function encodeSafetensors(
  dict: Record<string, Tensor>,
  metadata?: Record<string, string>,
): Uint8Array {
  if (typeof dict !== "object" || dict === null || Array.isArray(dict)) {
    throw new SafetensorsError(
      `encodeSafetensors: expected an object of name -> Tensor, got ${describe(dict)}`,
    );
  }
  const names = Object.keys(dict).sort(compareCodePoints);
  const parts: string[] = [];
  if (metadata !== undefined && metadata !== null) {
    if (typeof metadata !== "object" || Array.isArray(metadata)) {
      throw new SafetensorsError(
        `encodeSafetensors: expected metadata to be an object of strings, got ${describe(metadata)}`,
      );
    }
    const keys = Object.keys(metadata).sort(compareCodePoints);
    const entries: string[] = [];
    for (const k of keys) {
      const v: unknown = metadata[k];
      if (typeof v !== "string") {
        throw new SafetensorsError(
          `encodeSafetensors: metadata ${q(k)} must be a string, got ${describe(v)}`,
        );
      }
      if (!isWellFormed(k) || !isWellFormed(v)) {
        throw new SafetensorsError(`encodeSafetensors: metadata ${q(k)} contains a lone UTF-16 surrogate`);
      }
      entries.push(`${JSON.stringify(k)}:${JSON.stringify(v)}`);
    }
    if (entries.length > 0) parts.push(`"__metadata__":{${entries.join(",")}}`);
  }
  const tensors: (Float32Array | Uint8Array)[] = []; // one per name, in file order
  let offset = 0;
  for (const name of names) {
    const t: unknown = dict[name];
    if (name === "__metadata__") {
      throw new SafetensorsError(`encodeSafetensors: "__metadata__" is reserved and cannot name a tensor`);
    }
    if (!isWellFormed(name)) {
      throw new SafetensorsError(
        `encodeSafetensors: tensor name ${q(name)} contains a lone UTF-16 surrogate`,
      );
    }
    if (!(t instanceof Tensor)) {
      throw new SafetensorsError(`encodeSafetensors: expected a Tensor for ${q(name)}, got ${describe(t)}`);
    }
    let numel = 1;
    for (const d of t.shape) {
      if (!Number.isSafeInteger(d) || d < 0) {
        throw new SafetensorsError(
          `encodeSafetensors: tensor ${q(name)} has shape [${t.shape.join(", ")}]; expected non-negative integer dimensions`,
        );
      }
      numel *= d;
    }
    // int64 as I64 and bool as BOOL (their own dtypes, as PyTorch saves them), everything else F32
    const stored: Float32Array | Uint8Array =
      t.data instanceof Float64Array ? int64Bytes(t.data) : (t.data as Float32Array | Uint8Array);
    const tag = t.data instanceof Float64Array ? "I64" : t.data instanceof Uint8Array ? "BOOL" : "F32";
    const size = DTYPE_SIZE[tag];
    if (
      !(stored instanceof Float32Array || stored instanceof Uint8Array) ||
      stored.byteLength !== size * numel
    ) {
      throw new SafetensorsError(
        `encodeSafetensors: tensor ${q(name)} of shape [${t.shape.join(", ")}] needs ${numel} float32 elements, ` +
          `got ${t.data instanceof Float32Array ? `${t.data.length}` : describe(t.data)}`,
      );
    }
    const end = offset + size * numel;
    parts.push(
      `${JSON.stringify(name)}:{"dtype":"${tag}","shape":[${t.shape.join(",")}],"data_offsets":[${offset},${end}]}`,
    );
    tensors.push(stored);
    offset = end;
  }
  const json = new TextEncoder().encode(`{${parts.join(",")}}`);
  const n = Math.ceil(json.length / 8) * 8;
  const out = new Uint8Array(8 + n + offset); // zero-filled
  const view = new DataView(out.buffer);
  view.setUint32(0, n % 2 ** 32, true);
  view.setUint32(4, Math.floor(n / 2 ** 32), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + n);
  let pos = 8 + n;
  for (const data of tensors) {
    if (LITTLE_ENDIAN_HOST) {
      out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), pos);
    } else if (data instanceof Float32Array) {
      for (let i = 0; i < data.length; i++) view.setFloat32(pos + 4 * i, data[i], true);
    } else out.set(data, pos);
    pos += data.byteLength;
  }
  return out;
}

// ---------------------------------------------------------------- header

/**
 * Finds a repeated key in any object of `text`, which JSON.parse has already accepted (it keeps the last
 * value silently). Returns a description of the first repetition, or null.
 */
function findDuplicateKey(text: string): string | null {
  interface Frame {
    keys: Set<string> | null; // null for arrays
    label: string; // where this container sits, for messages
    lastKey: string;
  }
  const stack: Frame[] = [];
  let expectKey = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      let j = i + 1;
      while (text.charCodeAt(j) !== 0x22) j += text.charCodeAt(j) === 0x5c ? 2 : 1;
      const top = stack[stack.length - 1];
      if (expectKey && top?.keys) {
        const key = JSON.parse(text.slice(i, j + 1)) as string;
        if (top.keys.has(key)) return `key ${q(key)} appears twice ${top.label}`;
        top.keys.add(key);
        top.lastKey = key;
        expectKey = false;
      }
      i = j;
    } else if (c === 0x7b || c === 0x5b) {
      const parent = stack[stack.length - 1];
      const label =
        parent === undefined
          ? "in the header"
          : parent.keys
            ? `in ${q(parent.lastKey)}`
            : `in an array (${parent.label})`;
      stack.push({ keys: c === 0x7b ? new Set() : null, label, lastKey: "" });
      expectKey = c === 0x7b;
    } else if (c === 0x7d || c === 0x5d) {
      stack.pop();
    } else if (c === 0x2c) {
      expectKey = stack[stack.length - 1]?.keys != null;
    }
  }
  return null;
}

function readEntry(name: string, raw: unknown): SafetensorsEntry {
  const where = `tensor ${q(name)}`;
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    throw new SafetensorsError(
      `${where}: expected an object {dtype, shape, data_offsets}, got ${describe(raw)}`,
    );
  }
  const r = raw as Record<string, unknown>;
  for (const field of ["dtype", "shape", "data_offsets"]) {
    if (!Object.hasOwn(r, field)) throw new SafetensorsError(`${where}: missing field "${field}"`);
  }
  const dtype = r.dtype;
  if (typeof dtype !== "string")
    throw new SafetensorsError(`${where}: expected dtype to be a string, got ${describe(dtype)}`);
  if (!Object.hasOwn(DTYPE_SIZE, dtype)) {
    const supported = Object.keys(DTYPE_SIZE).join(", ");
    throw new SafetensorsError(
      UNSUPPORTED_DTYPES.has(dtype)
        ? `${where}: dtype ${dtype} is not supported here; expected one of ${supported}`
        : `${where}: unknown dtype ${q(dtype)}; expected one of ${supported}`,
    );
  }
  const shape = r.shape;
  if (!Array.isArray(shape))
    throw new SafetensorsError(`${where}: expected shape to be an array, got ${describe(shape)}`);
  let numel = 1;
  for (const d of shape) {
    if (typeof d !== "number" || !Number.isSafeInteger(d) || d < 0) {
      throw new SafetensorsError(
        `${where}: expected shape to hold non-negative integers, got ${describe(d)} in ${JSON.stringify(shape)}`,
      );
    }
    numel *= d;
  }
  const offs = r.data_offsets;
  if (
    !Array.isArray(offs) ||
    offs.length !== 2 ||
    !offs.every((o) => typeof o === "number" && Number.isSafeInteger(o) && o >= 0)
  ) {
    throw new SafetensorsError(
      `${where}: expected data_offsets to be [begin, end] of non-negative integers, got ${JSON.stringify(offs)}`,
    );
  }
  const [begin, end] = offs as [number, number];
  if (end < begin)
    throw new SafetensorsError(`${where}: data_offsets [${begin}, ${end}] end before they begin`);
  // The running product is exact while it stays below 2^53: beyond, no file could hold the tensor.
  const needed = numel * DTYPE_SIZE[dtype as SafetensorsDtype];
  if (!Number.isSafeInteger(needed)) {
    throw new SafetensorsError(
      `${where}: shape ${JSON.stringify(shape)} has more elements than any file can hold`,
    );
  }
  if (needed !== end - begin) {
    throw new SafetensorsError(
      `${where}: shape ${JSON.stringify(shape)} of ${dtype} needs ${needed} bytes, ` +
        `but data_offsets [${begin}, ${end}] hold ${end - begin}`,
    );
  }
  return { dtype: dtype as SafetensorsDtype, shape: shape.slice() as number[], dataOffsets: [begin, end] };
}

/**
 * Reads and validates the header of a safetensors file. `bytes` holds the file, or at least its first
 * 8 + N bytes when `fileSize` gives the length of the whole file. Throws `SafetensorsError` on any
 * malformation, including tensor data that does not exactly cover the rest of the file.
 */
export function readSafetensorsHeader(bytes: Uint8Array, fileSize?: number): SafetensorsHeader {
  if (!(bytes instanceof Uint8Array)) {
    throw new SafetensorsError(`expected the safetensors bytes as a Uint8Array, got ${describe(bytes)}`);
  }
  const total = fileSize ?? bytes.length;
  if (!Number.isSafeInteger(total) || total < bytes.length) {
    throw new SafetensorsError(
      `fileSize must be an integer >= the ${bytes.length} bytes given, got ${fileSize}`,
    );
  }
  if (total < 8) {
    throw new SafetensorsError(`file too short: expected at least 8 bytes (the header size), got ${total}`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const lo = view.getUint32(0, true);
  const hi = view.getUint32(4, true);
  if (hi !== 0 || lo > MAX_HEADER_SIZE) {
    throw new SafetensorsError(
      `header size ${view.getBigUint64(0, true)} is absurd: expected at most ${MAX_HEADER_SIZE} bytes`,
    );
  }
  const n = lo;
  if (8 + n > total) {
    throw new SafetensorsError(
      `truncated file: the header claims ${n} bytes but only ${total - 8} bytes follow the 8-byte size`,
    );
  }
  if (8 + n > bytes.length) {
    throw new SafetensorsError(
      `expected the first ${8 + n} bytes of the file (the whole header), got ${bytes.length}`,
    );
  }
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes.subarray(8, 8 + n));
  } catch (e) {
    throw new SafetensorsError(`the ${n}-byte header is not valid UTF-8`, { cause: e });
  }
  // bound the parser's work before it starts: the size against the data, then the nesting
  const dataBytes = total - 8 - n;
  const allowed = HEADER_BASE_SIZE + HEADER_PER_DATA_BYTE * dataBytes;
  if (n > allowed) {
    throw new SafetensorsError(
      `the ${n}-byte header is out of proportion to the ${dataBytes} bytes of tensor data it describes (at most ${allowed} bytes: ${HEADER_BASE_SIZE} + ${HEADER_PER_DATA_BYTE} per data byte)`,
    );
  }
  const depth = nestingDepth(text, MAX_HEADER_DEPTH);
  if (depth > MAX_HEADER_DEPTH) {
    throw new SafetensorsError(
      `the header nests JSON more than ${MAX_HEADER_DEPTH} levels deep (a safetensors header needs 3): refused before parsing`,
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw new SafetensorsError(`the header is not valid JSON (${(e as Error).message})`, { cause: e });
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new SafetensorsError(`expected the header to be a JSON object, got ${describe(parsed)}`);
  }
  const dup = findDuplicateKey(text);
  if (dup !== null) throw new SafetensorsError(`the header repeats a key: ${dup}`);

  const metadata: Record<string, string> = {};
  const found: [string, SafetensorsEntry][] = [];
  for (const [name, raw] of Object.entries(parsed as Record<string, unknown>)) {
    if (name === "__metadata__") {
      if (raw === null) continue; // the reference reader treats null as absent
      if (typeof raw !== "object" || Array.isArray(raw)) {
        throw new SafetensorsError(`expected __metadata__ to be an object of strings, got ${describe(raw)}`);
      }
      for (const [k, v] of Object.entries(raw as Record<string, unknown>)) {
        if (typeof v !== "string") {
          throw new SafetensorsError(`expected __metadata__ ${q(k)} to be a string, got ${describe(v)}`);
        }
        put(metadata, k, v);
      }
      continue;
    }
    found.push([name, readEntry(name, raw)]);
  }

  const dataLength = total - 8 - n;
  for (const [name, e] of found) {
    if (e.dataOffsets[1] > dataLength) {
      throw new SafetensorsError(
        `tensor ${q(name)}: data_offsets [${e.dataOffsets[0]}, ${e.dataOffsets[1]}] reach beyond the ${dataLength} bytes of data (is the file truncated?)`,
      );
    }
  }
  found.sort(([, a], [, b]) => a.dataOffsets[0] - b.dataOffsets[0] || a.dataOffsets[1] - b.dataOffsets[1]);
  let cursor = 0;
  let prev = "";
  for (const [name, e] of found) {
    const [begin, end] = e.dataOffsets;
    if (begin < cursor) {
      throw new SafetensorsError(
        `tensor ${q(name)} starts at data byte ${begin}, inside tensor ${q(prev)} which ends at ${cursor}: tensors must not overlap`,
      );
    }
    if (begin > cursor) {
      throw new SafetensorsError(
        `tensor ${q(name)} starts at data byte ${begin}, but the data before it ends at ${cursor}: ` +
          "tensors must cover the data without gaps",
      );
    }
    cursor = end;
    prev = name;
  }
  if (cursor !== dataLength) {
    throw new SafetensorsError(
      `the tensors cover ${cursor} bytes of data, but the file holds ${dataLength} bytes after the header`,
    );
  }
  const tensors: Record<string, SafetensorsEntry> = {};
  for (const [name, e] of found) put(tensors, name, e);
  return { tensors, metadata, dataStart: 8 + n };
}

// ---------------------------------------------------------------- decode

let halfTable: Uint32Array | null = null;

/** float32 bit patterns of all 65536 float16 values (exact: every float16 is a float32). */
function halfToFloatBits(): Uint32Array {
  if (halfTable !== null) return halfTable;
  const t = new Uint32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const sign = (h & 0x8000) << 16;
    const e = (h >> 10) & 0x1f;
    let m = h & 0x3ff;
    if (e === 31) {
      // inf, or NaN with its payload, quieted (PyTorch's conversion sets the quiet bit of a signalling NaN)
      t[h] = m === 0 ? sign | 0x7f800000 : sign | 0x7fc00000 | (m << 13);
    } else if (e > 0) {
      t[h] = sign | ((e + 112) << 23) | (m << 13); // normal: rebias 15 -> 127
    } else if (m === 0) {
      t[h] = sign; // +-0
    } else {
      // subnormal m * 2^-24: normalise so that the leading 1 moves to bit 10
      let exp = 113; // 127 - 14
      while ((m & 0x400) === 0) {
        m <<= 1;
        exp--;
      }
      t[h] = sign | (exp << 23) | ((m & 0x3ff) << 13);
    }
  }
  halfTable = t;
  return t;
}

/** An int64 tensor's values as little-endian I64 bytes. */
function int64Bytes(data: Float64Array): Uint8Array {
  const out = new Uint8Array(8 * data.length);
  const view = new DataView(out.buffer);
  for (let i = 0; i < data.length; i++) view.setBigInt64(8 * i, BigInt(data[i]), true);
  return out;
}

/** The int64 at `pos` rounded once, to nearest even, to float32 (as a C cast; no double rounding). */
function int64ToFloat32(view: DataView, pos: number): number {
  const v = view.getBigInt64(pos, true);
  const neg = v < 0n;
  let mag = neg ? -v : v;
  if (mag < 2n ** 53n) return Math.fround(Number(v)); // exact in a double, then one rounding
  const shift = BigInt(mag.toString(2).length - 24); // keep 24 significant bits
  const rest = mag & ((1n << shift) - 1n);
  const half = 1n << (shift - 1n);
  mag >>= shift;
  if (rest > half || (rest === half && (mag & 1n) === 1n)) mag += 1n;
  const r = Number(mag) * 2 ** Number(shift); // exact: <= 2^24 * 2^40
  return neg ? -r : r;
}

/** Converts the `e.dataOffsets` bytes of `bytes` (data starting at `base`) to float32. */
function toFloat32(bytes: Uint8Array, base: number, e: SafetensorsEntry): Float32Array {
  const begin = base + e.dataOffsets[0];
  const count = (e.dataOffsets[1] - e.dataOffsets[0]) / DTYPE_SIZE[e.dtype];
  const out = new Float32Array(count);
  const view = new DataView(bytes.buffer, bytes.byteOffset + begin, count * DTYPE_SIZE[e.dtype]);
  switch (e.dtype) {
    case "F32":
      if (LITTLE_ENDIAN_HOST) new Uint8Array(out.buffer).set(bytes.subarray(begin, begin + 4 * count));
      else for (let i = 0; i < count; i++) out[i] = view.getFloat32(4 * i, true);
      break;
    case "F64":
      for (let i = 0; i < count; i++) out[i] = view.getFloat64(8 * i, true); // ToFloat32: nearest even
      break;
    case "F16": {
      const table = halfToFloatBits();
      const bits = new Uint32Array(out.buffer);
      for (let i = 0; i < count; i++) bits[i] = table[view.getUint16(2 * i, true)];
      break;
    }
    case "BF16": {
      const bits = new Uint32Array(out.buffer);
      for (let i = 0; i < count; i++) bits[i] = view.getUint16(2 * i, true) << 16;
      break;
    }
    case "I32":
      for (let i = 0; i < count; i++) out[i] = view.getInt32(4 * i, true);
      break;
    case "I64":
      for (let i = 0; i < count; i++) out[i] = int64ToFloat32(view, 8 * i);
      break;
    case "BOOL":
      for (let i = 0; i < count; i++) out[i] = bytes[begin + i] !== 0 ? 1 : 0;
      break;
  }
  return out;
}

/** I64 as int64 (exact to 2^53: see core/dtype.ts) and BOOL as bool, for `keepDtype`. */
function toIntegral(bytes: Uint8Array, base: number, e: SafetensorsEntry): Float64Array | Uint8Array {
  const begin = base + e.dataOffsets[0];
  const count = (e.dataOffsets[1] - e.dataOffsets[0]) / DTYPE_SIZE[e.dtype];
  if (e.dtype === "BOOL")
    return Uint8Array.from(bytes.subarray(begin, begin + count), (b) => (b !== 0 ? 1 : 0));
  const view = new DataView(bytes.buffer, bytes.byteOffset + begin, 8 * count);
  const out = new Float64Array(count);
  for (let i = 0; i < count; i++) out[i] = Number(view.getBigInt64(8 * i, true));
  return out;
}

/**
 * Decodes safetensors bytes into float32 tensors (fresh copies, not views of `bytes`) and the string
 * metadata ({} when absent). With `keepDtype: true`, I64 and BOOL entries come back as int64 and bool
 * tensors instead of PyTorch's `.float()` of them. Throws `SafetensorsError` on any malformed input.
 */
export function decodeSafetensors(
  bytes: Uint8Array,
  options: { keepDtype?: boolean } = {},
): {
  tensors: Record<string, Tensor>;
  metadata: Record<string, string>;
} {
  const header = readSafetensorsHeader(bytes);
  const tensors: Record<string, Tensor> = {};
  for (const [name, e] of Object.entries(header.tensors)) {
    const keep = options.keepDtype === true && (e.dtype === "I64" || e.dtype === "BOOL");
    const data = keep ? toIntegral(bytes, header.dataStart, e) : toFloat32(bytes, header.dataStart, e);
    put(tensors, name, new Tensor(data, e.shape));
  }
  return { tensors, metadata: header.metadata };
}
