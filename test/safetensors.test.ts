// safetensors: byte layout, conversions against PyTorch, every rejection, fuzzing, and atomic saves.
//
// Oracles: a layout computed by hand; files written by a hand-written Python writer from PyTorch tensors
// (test/fixtures/gen/safetensors.py, with the float32 bits of PyTorch's `.float()`); and, the other way,
// from_ts.safetensors, which that generator reads back and checks.

import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { Tensor, shapeNumel } from "../src/core/tensor.js";
import {
  MAX_HEADER_SIZE,
  SafetensorsError,
  decodeSafetensors,
  encodeSafetensors,
  readSafetensorsHeader,
} from "../src/io/index.js";
import {
  loadSafetensors,
  loadSafetensorsHeader,
  loadSafetensorsSync,
  saveSafetensors,
  saveSafetensorsSync,
} from "../src/node/checkpoint.js";
import { FROM_TS_PATH, fromTsContents } from "./fixtures/write-ts-safetensors.js";
import { FIXTURES, loadFixture } from "./helpers.js";

const t = (values: number[], shape: number[]) => new Tensor(Float32Array.from(values), shape);
const bitsOf = (a: Float32Array) => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));
const ascii = (s: string) => Array.from(s, (c) => c.charCodeAt(0));

/** A file from a header given as text (padded here to 8 with spaces unless `pad` is false) and data bytes. */
function file(header: string | object | Uint8Array, data: number | Uint8Array = 0, pad = true): Uint8Array {
  let h =
    header instanceof Uint8Array
      ? header
      : new TextEncoder().encode(typeof header === "string" ? header : JSON.stringify(header));
  if (pad && h.length % 8 !== 0) {
    const p = new Uint8Array(Math.ceil(h.length / 8) * 8).fill(0x20);
    p.set(h);
    h = p;
  }
  const d = typeof data === "number" ? new Uint8Array(data) : data;
  const out = new Uint8Array(8 + h.length + d.length);
  new DataView(out.buffer).setUint32(0, h.length, true);
  out.set(h, 8);
  out.set(d, 8 + h.length);
  return out;
}

/** Asserts that decoding `bytes` throws a SafetensorsError whose message matches `re`. */
function rejects(bytes: Uint8Array, re: RegExp): void {
  let err: unknown;
  try {
    decodeSafetensors(bytes);
  } catch (e) {
    err = e;
  }
  expect(err, `expected a SafetensorsError matching ${re}`).toBeInstanceOf(SafetensorsError);
  expect((err as Error).message).toMatch(re);
}

function expectSameTensors(got: Record<string, Tensor>, want: Record<string, Tensor>): void {
  expect(Object.keys(got).sort()).toEqual(Object.keys(want).sort());
  for (const k of Object.keys(want)) {
    expect(got[k].shape, k).toEqual(want[k].shape);
    expect(bitsOf(got[k].data), k).toEqual(bitsOf(want[k].data));
  }
}

const F32 = (shape: number[], begin: number, end: number) => ({
  dtype: "F32",
  shape,
  data_offsets: [begin, end],
});

describe("byte layout", () => {
  it("matches a layout computed by hand", () => {
    const bytes = encodeSafetensors({ b: t([1, -2], [2]), a: t([0.5], []) }, { k: "v" });
    const header =
      '{"__metadata__":{"k":"v"},"a":{"dtype":"F32","shape":[],"data_offsets":[0,4]},' +
      '"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}';
    expect(header.length).toBe(132); // padded with 4 spaces to 136
    // biome-ignore format: one line per field of the layout
    const want = [
      136, 0, 0, 0, 0, 0, 0, 0,
      ...ascii(header), 0x20, 0x20, 0x20, 0x20,
      0x00, 0x00, 0x00, 0x3f, // 0.5
      0x00, 0x00, 0x80, 0x3f, // 1
      0x00, 0x00, 0x00, 0xc0, // -2
    ];
    expect(Array.from(bytes)).toEqual(want);
  });

  it("writes an empty dict as {} and six spaces, and metadata only when there is some", () => {
    const empty = [8, 0, 0, 0, 0, 0, 0, 0, 0x7b, 0x7d, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20];
    expect(Array.from(encodeSafetensors({}))).toEqual(empty);
    expect(Array.from(encodeSafetensors({}, {}))).toEqual(empty);
    expect(decodeSafetensors(new Uint8Array(empty))).toEqual({ tensors: {}, metadata: {} });
    const withMeta = encodeSafetensors({}, { framework: "pt" });
    // {"__metadata__":{"framework":"pt"}} is 35 bytes, padded to 40
    expect(Array.from(withMeta.subarray(0, 8))).toEqual([40, 0, 0, 0, 0, 0, 0, 0]);
    expect(new TextDecoder().decode(withMeta.subarray(8))).toBe(`{"__metadata__":{"framework":"pt"}}     `);
  });

  it("sorts names by code point (UTF-8 byte order), and pads multi-byte headers by bytes", () => {
    const names = ["b", "\u{1F600}", "a", "\uFF5E", "B", "\u00e9"];
    const dict: Record<string, Tensor> = {};
    for (const [i, n] of names.entries()) dict[n] = t([i], [1]);
    const bytes = encodeSafetensors(dict);
    const h = readSafetensorsHeader(bytes);
    expect(Object.keys(h.tensors)).toEqual(["B", "a", "b", "\u00e9", "\uFF5E", "\u{1F600}"]);
    expect(Object.values(h.tensors).map((e) => e.dataOffsets[0])).toEqual([0, 4, 8, 12, 16, 20]);
    expect((h.dataStart - 8) % 8).toBe(0);
    expect(bytes.length).toBe(h.dataStart + 24);
  });
});

describe("round trips", () => {
  it("keeps 0-d, empty and multi-d tensors bit for bit, with metadata", () => {
    const r = new Float32Array(24);
    for (let i = 0; i < r.length; i++) r[i] = Math.sin(i * 1.7) * 10 ** ((i % 7) - 3);
    const dict: Record<string, Tensor> = {
      "layer.0.weight": new Tensor(r, [2, 3, 4]),
      scalar: t([-3.25], []),
      empty: t([], [0]),
      empty3: t([], [2, 0, 3]),
      specials: t(
        [
          Number.NaN,
          Number.POSITIVE_INFINITY,
          Number.NEGATIVE_INFINITY,
          -0,
          2 ** -149,
          3.4028234663852886e38,
        ],
        [6],
      ),
      __proto__name: t([1], [1, 1]),
    };
    Object.defineProperty(dict, "__proto__", { value: t([9, 8], [2]), enumerable: true });
    const meta = { format: "pt", "n\u00f6te": 'line\n"two"\t\u2713', empty: "" };
    const back = decodeSafetensors(encodeSafetensors(dict, meta));
    expect(back.metadata).toEqual(meta);
    expect(Object.hasOwn(back.tensors, "__proto__")).toBe(true);
    expectSameTensors(back.tensors, dict);
    expect(back.tensors.scalar.shape).toEqual([]);
    expect(back.tensors.empty3.shape).toEqual([2, 0, 3]);
  });

  it("reads from any byte offset (unaligned views, Node Buffers) and returns copies", () => {
    const dict = { w: t([1.5, -2.25, 3e-5], [3]), d: t([0.1], [1]) };
    const bytes = encodeSafetensors(dict);
    for (const shift of [1, 2, 3, 5]) {
      const big = new Uint8Array(bytes.length + shift + 3).fill(0xee);
      big.set(bytes, shift);
      const view = big.subarray(shift, shift + bytes.length);
      const back = decodeSafetensors(view);
      expectSameTensors(back.tensors, dict);
      big.fill(0); // tensors must not alias the input
      expectSameTensors(back.tensors, dict);
    }
    expectSameTensors(decodeSafetensors(Buffer.from(bytes)).tensors, dict);
    // and writes a tensor whose data is a view into a larger Float32Array
    const shared = new Float32Array([7, 1, 2, 3, 9]);
    const viewTensor = new Tensor(shared.subarray(1, 4), [3]);
    expect(bitsOf(decodeSafetensors(encodeSafetensors({ v: viewTensor })).tensors.v.data)).toEqual(
      bitsOf(shared.subarray(1, 4)),
    );
  });
});

describe("PyTorch fixtures", () => {
  interface FromPy {
    metadata: Record<string, string>;
    tensors: Record<string, { dtype: string; shape: number[]; bits: number[] }>;
  }
  const fixture = loadFixture<FromPy>("safetensors", "from_py");
  const bytes = new Uint8Array(readFileSync(join(FIXTURES, "safetensors", "from_py.safetensors")));

  it("reads F16 (subnormal, inf, NaN), BF16, F64, F32, I64, I32 as PyTorch's .float(), bit for bit", () => {
    const header = readSafetensorsHeader(bytes);
    const { tensors, metadata } = decodeSafetensors(bytes);
    expect(metadata).toEqual(fixture.metadata);
    expect(Object.keys(tensors).sort()).toEqual(Object.keys(fixture.tensors).sort());
    const seen = new Set<string>();
    for (const [name, want] of Object.entries(fixture.tensors)) {
      expect(header.tensors[name].dtype, name).toBe(want.dtype);
      seen.add(want.dtype);
      const got = tensors[name];
      expect(got.shape, name).toEqual(want.shape);
      const bits = bitsOf(got.data);
      expect(bits.length, name).toBe(want.bits.length);
      for (let i = 0; i < bits.length; i++) {
        const w = want.bits[i];
        const nan = (w & 0x7f800000) === 0x7f800000 && (w & 0x7fffff) !== 0;
        // NaN payloads of F64 go through a JS number, which need not keep them; everywhere else, exact bits.
        if (nan && want.dtype === "F64") expect(Number.isNaN(got.data[i]), `${name}[${i}]`).toBe(true);
        else expect(bits[i].toString(16), `${name}[${i}]`).toBe(w.toString(16));
      }
    }
    expect([...seen].sort()).toEqual(["BF16", "F16", "F32", "F64", "I32", "I64"]);
  });

  it("rounds int64 once (2^60 + 2^36 + 1 -> 2^60 + 2^37, where a float64 detour gives 2^60)", () => {
    const i64 = decodeSafetensors(bytes).tensors.i64.data;
    expect(i64[8]).toBe(2 ** 60 + 2 ** 37);
    expect(Math.fround(Number(2n ** 60n + 2n ** 36n + 1n))).toBe(2 ** 60); // the trap we avoid
  });

  it("our encoder still writes from_ts.safetensors byte for byte (the file the Python side checks)", () => {
    const { tensors, metadata } = fromTsContents();
    const committed = new Uint8Array(readFileSync(FROM_TS_PATH));
    expect(Array.from(encodeSafetensors(tensors, metadata))).toEqual(Array.from(committed));
    const back = decodeSafetensors(committed);
    expectSameTensors(back.tensors, tensors);
    expect(back.metadata).toEqual(metadata);
  });
});

describe("rejections", () => {
  const ok = { a: F32([2], 0, 8) };

  it("too short, header size absurd or beyond the file", () => {
    rejects(new Uint8Array(0), /at least 8 bytes.*got 0/);
    rejects(new Uint8Array(7), /at least 8 bytes.*got 7/);
    const big = new Uint8Array(16);
    new DataView(big.buffer).setBigUint64(0, 2n ** 40n, true);
    rejects(big, /header size 1099511627776 is absurd: expected at most 100000000/);
    new DataView(big.buffer).setBigUint64(0, 2n ** 64n - 1n, true);
    rejects(big, /header size 18446744073709551615 is absurd/);
    new DataView(big.buffer).setBigUint64(0, BigInt(MAX_HEADER_SIZE + 1), true);
    rejects(big, /absurd/);
    new DataView(big.buffer).setBigUint64(0, 100n, true);
    rejects(big, /truncated file: the header claims 100 bytes but only 8 bytes follow/);
    const whole = file(ok, 8);
    rejects(whole.subarray(0, 20), /truncated file/);
    rejects(
      whole.subarray(0, whole.length - 1),
      /tensor "a": data_offsets \[0, 8\] reach beyond the 7 bytes of data \(is the file truncated\?\)/,
    );
    rejects(file(ok, 9), /the tensors cover 8 bytes of data, but the file holds 9 bytes after the header/);
  });

  it("header not UTF-8, not JSON, not an object", () => {
    rejects(file(new Uint8Array([0x7b, 0xff, 0xfe, 0x7d])), /not valid UTF-8/);
    const bad = file("{}");
    bad[9] = 0xc3; // a lone lead byte
    rejects(bad, /not valid UTF-8/);
    const bom = new Uint8Array([8, 0, 0, 0, 0, 0, 0, 0, 0xef, 0xbb, 0xbf, 0x7b, 0x7d, 0x20, 0x20, 0x20]);
    rejects(bom, /not valid JSON/);
    rejects(file("{abc}"), /not valid JSON/);
    rejects(file('{"a":1'), /not valid JSON/);
    rejects(file(""), /not valid JSON/);
    rejects(file("{}\u0000\u0000\u0000\u0000\u0000\u0000", 0, false), /not valid JSON/);
    rejects(file("[1,2]"), /expected the header to be a JSON object, got an array/);
    rejects(file("42"), /JSON object, got number 42/);
    rejects(file("null"), /JSON object, got null/);
    rejects(file('"x"'), /JSON object, got the string "x"/);
  });

  it("entries: not objects, missing fields, wrong types", () => {
    rejects(file({ a: 5 }), /tensor "a": expected an object \{dtype, shape, data_offsets\}, got number 5/);
    rejects(file({ a: [1] }), /tensor "a": expected an object.*got an array/);
    for (const field of ["dtype", "shape", "data_offsets"]) {
      const e: Record<string, unknown> = F32([2], 0, 8);
      delete e[field];
      rejects(file({ a: e }, 8), new RegExp(`tensor "a": missing field "${field}"`));
    }
    rejects(file({ a: { ...F32([2], 0, 8), dtype: 5 } }, 8), /expected dtype to be a string, got number 5/);
    rejects(
      file({ a: { ...F32([2], 0, 8), shape: "2" } }, 8),
      /expected shape to be an array, got the string "2"/,
    );
    rejects(
      file({ a: { ...F32([2], 0, 8), shape: { 0: 2 } } }, 8),
      /expected shape to be an array, got an object/,
    );
  });

  it("unknown and unsupported dtypes", () => {
    rejects(
      file({ a: { ...F32([2], 0, 8), dtype: "F128" } }, 8),
      /unknown dtype "F128"; expected one of F64, F32, F16, BF16, I64, I32/,
    );
    rejects(file({ a: { ...F32([2], 0, 8), dtype: "f32" } }, 8), /unknown dtype "f32"/);
    rejects(
      file({ a: { ...F32([8], 0, 8), dtype: "U8" } }, 8),
      /dtype U8 is not supported here; expected one of/,
    );
  });

  it("shapes with negative, fractional, non-number or overflowing dimensions", () => {
    rejects(file({ a: F32([-2], 0, 8) }, 8), /non-negative integers, got number -2 in \[-2\]/);
    rejects(file({ a: F32([2.5], 0, 10) }, 10), /non-negative integers, got number 2.5/);
    rejects(
      file({ a: F32(["2"] as unknown as number[], 0, 8) }, 8),
      /non-negative integers, got the string "2"/,
    );
    rejects(file({ a: F32([null] as unknown as number[], 0, 8) }, 8), /non-negative integers, got null/);
    rejects(
      file('{"a":{"dtype":"F32","shape":[1e400],"data_offsets":[0,8]}}', 8),
      /non-negative integers, got number Infinity/,
    );
    rejects(file({ a: F32([2 ** 53, 1], 0, 8) }, 8), /non-negative integers, got number 9007199254740992/);
    const huge = Array(20).fill(2 ** 53 - 1);
    rejects(file({ a: F32(huge, 0, 8) }, 8), /more elements than any file can hold/);
    rejects(file({ a: F32([2 ** 30, 2 ** 30], 0, 8) }, 8), /more elements than any file can hold/);
    rejects(
      file({ a: F32([2 ** 20, 2 ** 20], 0, 8) }, 8),
      /shape \[1048576,1048576\] of F32 needs 4398046511104 bytes/,
    );
    expect(decodeSafetensors(file({ a: F32([2 ** 40, 2 ** 40, 0], 0, 0) })).tensors.a.shape).toEqual([
      2 ** 40,
      2 ** 40,
      0,
    ]);
  });

  it("data_offsets malformed, not matching the shape, or out of range", () => {
    rejects(
      file({ a: { ...F32([2], 0, 8), data_offsets: [0] } }, 8),
      /data_offsets to be \[begin, end\] of non-negative integers, got \[0\]/,
    );
    rejects(file({ a: { ...F32([2], 0, 8), data_offsets: [0, "8"] } }, 8), /got \[0,"8"\]/);
    rejects(file({ a: { ...F32([2], 0, 8), data_offsets: [-8, 0] } }, 8), /got \[-8,0\]/);
    rejects(file({ a: { ...F32([2], 0, 8), data_offsets: [0, 8, 16] } }, 8), /got \[0,8,16\]/);
    rejects(file({ a: { ...F32([2], 0, 8), data_offsets: null } }, 8), /got null/);
    rejects(file({ a: F32([0], 8, 0) }, 8), /data_offsets \[8, 0\] end before they begin/);
    rejects(
      file({ a: F32([2], 0, 4) }, 4),
      /shape \[2\] of F32 needs 8 bytes, but data_offsets \[0, 4\] hold 4/,
    );
    rejects(file({ a: { ...F32([2], 0, 8), dtype: "F64" } }, 8), /shape \[2\] of F64 needs 16 bytes/);
    rejects(
      file({ a: F32([2], 0, 8) }, 4),
      /tensor "a": data_offsets \[0, 8\] reach beyond the 4 bytes of data/,
    );
    rejects(file({ a: F32([2], 2 ** 40, 2 ** 40 + 8) }, 8), /reach beyond the 8 bytes/);
  });

  it("overlaps, gaps and uncovered data", () => {
    rejects(
      file({ a: F32([2], 0, 8), b: F32([2], 4, 12) }, 12),
      /tensor "b" starts at data byte 4, inside tensor "a" which ends at 8: tensors must not overlap/,
    );
    rejects(file({ a: F32([2], 0, 8), b: F32([2], 0, 8) }, 8), /must not overlap/);
    rejects(
      file({ a: F32([1], 0, 4), b: F32([1], 8, 12) }, 12),
      /tensor "b" starts at data byte 8, but the data before it ends at 4: tensors must cover the data without gaps/,
    );
    rejects(
      file({ a: F32([1], 4, 8) }, 8),
      /tensor "a" starts at data byte 4, but the data before it ends at 0/,
    );
    rejects(
      file({ a: F32([1], 0, 4) }, 8),
      /the tensors cover 4 bytes of data, but the file holds 8 bytes after the header/,
    );
    rejects(file({}, 4), /cover 0 bytes of data, but the file holds 4/);
    // empty tensors may sit anywhere their offsets say, in any order in the header
    const d = decodeSafetensors(
      file({ b: F32([1], 4, 8), e: F32([0], 4, 4), a: F32([1], 0, 4), z: F32([0, 5], 8, 8) }, 8),
    );
    expect(Object.keys(d.tensors)).toEqual(["a", "e", "b", "z"]);
    expect(d.tensors.z.shape).toEqual([0, 5]);
  });

  it("repeated keys anywhere in the header", () => {
    const e = '{"dtype":"F32","shape":[1],"data_offsets":[0,4]}';
    rejects(file(`{"a":${e},"a":${e}}`, 4), /repeats a key: key "a" appears twice in the header/);
    rejects(file(`{"\\u0061":${e},"a":${e}}`, 4), /key "a" appears twice in the header/);
    rejects(
      file(`{"__metadata__":{"k":"1","k":"2"},"a":${e}}`, 4),
      /key "k" appears twice in "__metadata__"/,
    );
    rejects(
      file('{"a":{"dtype":"F32","dtype":"F32","shape":[1],"data_offsets":[0,4]}}', 4),
      /key "dtype" appears twice in "a"/,
    );
    rejects(
      file(`{"__metadata__":{"k":"1"},"__metadata__":{"k":"1"},"a":${e}}`, 4),
      /key "__metadata__" appears twice/,
    );
    // the same key in different objects is fine, and so are strings that look like keys
    const fine = decodeSafetensors(
      file(`{"__metadata__":{"a":"\\",\\"a\\":","b":"{\\"a\\":1}"},"a":${e}}`, 4),
    );
    expect(fine.metadata).toEqual({ a: '","a":', b: '{"a":1}' });
  });

  it("metadata that is not a map of strings", () => {
    rejects(file({ __metadata__: { k: 1 } }), /expected __metadata__ "k" to be a string, got number 1/);
    rejects(file({ __metadata__: { k: null } }), /"k" to be a string, got null/);
    rejects(file({ __metadata__: { k: { x: "y" } } }), /"k" to be a string, got an object/);
    rejects(file({ __metadata__: ["a"] }), /expected __metadata__ to be an object of strings, got an array/);
    rejects(
      file({ __metadata__: "pt" }),
      /expected __metadata__ to be an object of strings, got the string "pt"/,
    );
    expect(decodeSafetensors(file({ __metadata__: null })).metadata).toEqual({}); // as the reference reads it
  });

  it("not bytes", () => {
    expect(() => decodeSafetensors("abc" as unknown as Uint8Array)).toThrow(SafetensorsError);
    expect(() => decodeSafetensors([8, 0, 0] as unknown as Uint8Array)).toThrow(
      /expected the safetensors bytes as a Uint8Array, got an array/,
    );
    expect(() => readSafetensorsHeader(new Uint8Array(16), 8)).toThrow(
      /fileSize must be an integer >= the 16 bytes given/,
    );
  });

  it("encoding: metadata values must be strings, names valid, tensors consistent", () => {
    const x = t([1, 2], [2]);
    const enc = (d: unknown, m?: unknown) => () =>
      encodeSafetensors(d as Record<string, Tensor>, m as Record<string, string>);
    expect(enc({ x }, { epoch: 3 })).toThrow(SafetensorsError);
    expect(enc({ x }, { epoch: 3 })).toThrow(/metadata "epoch" must be a string, got number 3/);
    expect(enc({ x }, { ok: "1", bad: null })).toThrow(/metadata "bad" must be a string, got null/);
    expect(enc({ x }, ["a"])).toThrow(/metadata to be an object of strings, got an array/);
    expect(enc({ x }, { k: "\ud800" })).toThrow(/lone UTF-16 surrogate/);
    expect(enc({ __metadata__: x })).toThrow(/"__metadata__" is reserved/);
    expect(enc({ "a\udc00": x })).toThrow(/tensor name "a\\udc00" contains a lone UTF-16 surrogate/);
    expect(enc({ x: [1, 2] })).toThrow(/expected a Tensor for "x", got an array/);
    expect(enc({ x: new Float32Array(2) })).toThrow(/expected a Tensor for "x", got a Float32Array/);
    expect(enc(null)).toThrow(/expected an object of name -> Tensor, got null/);
    const broken = t([1, 2], [2]);
    broken.data = new Float32Array(3);
    expect(enc({ broken })).toThrow(/tensor "broken" of shape \[2\] needs 2 float32 elements, got 3/);
    const badShape = t([1, 2], [2]);
    (badShape.shape as number[])[0] = -2;
    expect(enc({ badShape })).toThrow(/has shape \[-2\]; expected non-negative integer dimensions/);
  });
});

describe("fuzz", () => {
  const name = fc.string({ unit: "grapheme", maxLength: 6 }).filter((s) => s !== "__metadata__");
  const shape = fc.array(fc.integer({ min: 0, max: 4 }), { maxLength: 3 });
  const tensorArb = shape.chain((s) =>
    fc
      .array(fc.float(), { minLength: shapeNumel(s), maxLength: shapeNumel(s) })
      .map((v) => new Tensor(Float32Array.from(v), s)),
  );
  const dictArb = fc.dictionary(name, tensorArb, { maxKeys: 5 });
  const metaArb = fc.dictionary(
    fc.string({ unit: "grapheme", maxLength: 8 }),
    fc.string({ unit: "grapheme", maxLength: 8 }),
    {
      maxKeys: 3,
    },
  );

  /** Decodes, and requires either a SafetensorsError or tensors consistent with their shapes. */
  function decodeSafely(bytes: Uint8Array): void {
    let out: ReturnType<typeof decodeSafetensors>;
    try {
      out = decodeSafetensors(bytes);
    } catch (e) {
      if (!(e instanceof SafetensorsError))
        throw new Error(`escaped ${(e as Error)?.name}: ${(e as Error)?.message}`);
      return;
    }
    for (const [k, v] of Object.entries(out.tensors)) {
      if (!(v instanceof Tensor) || v.data.length !== shapeNumel(v.shape))
        throw new Error(`inconsistent tensor ${k}`);
    }
    for (const v of Object.values(out.metadata))
      if (typeof v !== "string") throw new Error("non-string metadata");
  }

  it("random valid dicts round-trip exactly", () => {
    fc.assert(
      fc.property(dictArb, metaArb, (dict, meta) => {
        const bytes = encodeSafetensors(dict, meta);
        const back = decodeSafetensors(bytes);
        expectSameTensors(back.tensors, dict);
        expect(back.metadata).toEqual(meta);
        expect((readSafetensorsHeader(bytes).dataStart - 8) % 8).toBe(0);
      }),
      { numRuns: 200 },
    );
  });

  it("random bytes and random headers give tensors or a SafetensorsError, nothing else", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (b) => decodeSafely(b)),
      { numRuns: 200 },
    );
    const entry = fc.record(
      {
        dtype: fc.constantFrom("F32", "F16", "BF16", "F64", "I64", "I32", "U8", "X"),
        shape: fc.oneof(fc.array(fc.integer({ min: -1, max: 3 }), { maxLength: 3 }), fc.jsonValue()),
        data_offsets: fc.oneof(
          fc.tuple(fc.integer({ min: -1, max: 40 }), fc.integer({ min: -1, max: 40 })),
          fc.jsonValue(),
        ),
      },
      { requiredKeys: [] },
    );
    const header = fc.dictionary(
      fc.constantFrom("a", "b", "c", "__metadata__"),
      fc.oneof(entry, fc.jsonValue()),
      {
        maxKeys: 3,
      },
    );
    fc.assert(
      fc.property(header, fc.integer({ min: 0, max: 40 }), (h, n) => decodeSafely(file(h, n))),
      { numRuns: 300 },
    );
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 30 }), (s) => decodeSafely(file(s, 4))),
      { numRuns: 100 },
    );
  });

  it("mutated valid files give tensors or a SafetensorsError, nothing else", () => {
    const mutation = fc.oneof(
      fc.record({ kind: fc.constant("set" as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
      fc.record({ kind: fc.constant("digit" as const), at: fc.nat(), value: fc.integer({ min: 0, max: 9 }) }),
      fc.record({ kind: fc.constant("cut" as const), at: fc.nat(), value: fc.constant(0) }),
      fc.record({
        kind: fc.constant("insert" as const),
        at: fc.nat(),
        value: fc.integer({ min: 0, max: 255 }),
      }),
      fc.record({
        kind: fc.constant("size" as const),
        at: fc.integer({ min: -9, max: 9 }),
        value: fc.constant(0),
      }),
    );
    fc.assert(
      fc.property(
        dictArb,
        metaArb,
        fc.array(mutation, { minLength: 1, maxLength: 3 }),
        (dict, meta, muts) => {
          let b = encodeSafetensors(dict, meta);
          for (const m of muts) {
            const at = b.length === 0 ? 0 : m.at % b.length;
            if (m.kind === "set") b[at] = m.value;
            else if (m.kind === "digit") {
              // rewrite a digit of the header: shapes and offsets that still parse
              const h = Array.from(b.subarray(8)).findIndex((c, i) => i >= at % 64 && c >= 0x30 && c <= 0x39);
              if (h >= 0) b[8 + h] = 0x30 + m.value;
            } else if (m.kind === "cut") b = b.slice(0, at);
            else if (m.kind === "insert")
              b = Uint8Array.from([...b.subarray(0, at), m.value, ...b.subarray(at)]);
            else if (b.length >= 8)
              new DataView(b.buffer, b.byteOffset).setUint32(0, Math.max(0, b[0] + m.at), true);
          }
          decodeSafely(b);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe("checkpoint files", () => {
  const root = mkdtempSync(join(tmpdir(), "recurrent-safetensors-"));
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  let n = 0;
  const freshDir = () => {
    const d = join(root, `case${n++}`);
    mkdirSync(d);
    return d;
  };
  const dict = () => ({ w: t([1, 2, 3, 4, 5, 6], [2, 3]), b: t([0.5], []) });

  it("saves and loads (async and sync), overwriting atomically, and reads the header alone", async () => {
    const dir = freshDir();
    const path = join(dir, "model.safetensors");
    await saveSafetensors(path, dict(), { epoch: "1" });
    expect(readdirSync(dir)).toEqual(["model.safetensors"]);
    const back = await loadSafetensors(path);
    expectSameTensors(back.tensors, dict());
    expect(back.metadata).toEqual({ epoch: "1" });
    expect(Array.from(readFileSync(path))).toEqual(Array.from(encodeSafetensors(dict(), { epoch: "1" })));

    saveSafetensorsSync(path, { z: t([7], [1]) }, { epoch: "2" });
    expect(readdirSync(dir)).toEqual(["model.safetensors"]);
    const again = loadSafetensorsSync(path);
    expectSameTensors(again.tensors, { z: t([7], [1]) });
    expect(again.metadata).toEqual({ epoch: "2" });

    await saveSafetensors(path, dict(), { epoch: "3" });
    const h = await loadSafetensorsHeader(path);
    expect(h.metadata).toEqual({ epoch: "3" });
    expect(h.tensors.w).toEqual({ dtype: "F32", shape: [2, 3], dataOffsets: [4, 28] });
    expect(h.tensors.b).toEqual({ dtype: "F32", shape: [], dataOffsets: [0, 4] });
  });

  it("load errors name the path", async () => {
    const dir = freshDir();
    const missing = join(dir, "missing.safetensors");
    await expect(loadSafetensors(missing)).rejects.toThrow(`cannot read ${missing}`);
    expect(() => loadSafetensorsSync(missing)).toThrow(`cannot read ${missing}`);
    await expect(loadSafetensorsHeader(missing)).rejects.toThrow(`cannot read ${missing}`);
    const bad = join(dir, "bad.safetensors");
    const bytes = encodeSafetensors(dict());
    writeFileSync(bad, bytes.subarray(0, bytes.length - 2));
    for (const load of [loadSafetensors, loadSafetensorsHeader]) {
      const err = await load(bad).then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(SafetensorsError);
      expect((err as Error).message).toMatch(
        new RegExp(
          `^${bad.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}: tensor "w": data_offsets \\[4, 28\\] reach beyond the 26 bytes`,
        ),
      );
    }
    expect(() => loadSafetensorsSync(bad)).toThrow(SafetensorsError);
    const absurd = join(dir, "absurd.safetensors");
    const head = new Uint8Array(16);
    new DataView(head.buffer).setUint32(0, 2 ** 31, true);
    writeFileSync(absurd, head);
    await expect(loadSafetensorsHeader(absurd)).rejects.toThrow(/absurd/);
  });

  it("a save whose encoding fails leaves neither the target nor a temporary file, and keeps an old file", async () => {
    const dir = freshDir();
    const path = join(dir, "m.safetensors");
    const broken = t([1, 2], [2]);
    broken.data = new Float32Array(5);
    await expect(saveSafetensors(path, { broken })).rejects.toThrow(
      `cannot save ${path}: encodeSafetensors: tensor "broken"`,
    );
    expect(() => saveSafetensorsSync(path, { x: t([1], [1]) }, { n: 1 as unknown as string })).toThrow(
      SafetensorsError,
    );
    expect(readdirSync(dir)).toEqual([]);
    await saveSafetensors(path, dict());
    const old = readFileSync(path);
    await expect(saveSafetensors(path, { broken })).rejects.toThrow(SafetensorsError);
    expect(readdirSync(dir)).toEqual(["m.safetensors"]);
    expect(readFileSync(path).equals(old)).toBe(true);
  });

  it("a save whose rename fails (target is a directory) removes its temporary file", async () => {
    const dir = freshDir();
    const target = join(dir, "taken.safetensors");
    mkdirSync(target);
    writeFileSync(join(target, "keep"), "x");
    await expect(saveSafetensors(target, dict())).rejects.toThrow(`cannot save ${target}`);
    expect(() => saveSafetensorsSync(target, dict())).toThrow(`cannot save ${target}`);
    expect(readdirSync(dir)).toEqual(["taken.safetensors"]);
    expect(readdirSync(target)).toEqual(["keep"]);
  });

  it("a save into a missing directory fails with the path and creates nothing", async () => {
    const dir = freshDir();
    const path = join(dir, "nope", "m.safetensors");
    await expect(saveSafetensors(path, dict())).rejects.toThrow(`cannot save ${path}`);
    expect(() => saveSafetensorsSync(path, dict())).toThrow(`cannot save ${path}`);
    expect(existsSync(join(dir, "nope"))).toBe(false);
    expect(readdirSync(dir)).toEqual([]);
  });
});
