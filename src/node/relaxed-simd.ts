// Fused multiply-add for the WebAssembly kernels on Node 20. Node 22+ (V8 11.4+) validates relaxed SIMD by
// default and the kernels pick their relaxed build (f32x4.relaxed_madd, a 6-row register tile) on their own;
// Node 20's V8 has it behind --experimental-wasm-relaxed-simd. A V8 flag set at run time applies to modules
// compiled after it, and the kernels compile lazily, on their first call: importing this module (the Node
// entry and the thread platform do, first) sets the flag before that, where a probe shows it is needed.
// Browsers are untouched: the browser-safe core never imports this.
//
// RECURRENT_WASM_RELAXED=0 leaves the flag alone (the plain SIMD build then runs on Node 20), for comparison.

import { setFlagsFromString } from "node:v8";

/** The smallest module that uses f32x4.relaxed_madd: (func (param v128) (result v128) madd(p, p, p)). */
const PROBE = Uint8Array.from(
  [
    "0061736d01000000", // header
    "0106016001 7b017b", // type section: (v128) -> v128
    "03020100", // function section: one function of type 0
    "0a0d010b00 200020002000 fd8502 0b", // code: local.get 0 ×3, f32x4.relaxed_madd, end
  ]
    .join("")
    .replace(/ /g, "")
    .match(/../g)!,
  (h) => Number.parseInt(h, 16),
);

function validates(): boolean {
  try {
    return WebAssembly.validate(PROBE);
  } catch {
    return false;
  }
}

/**
 * Whether this runtime now validates relaxed SIMD: true where it did already, or after setting V8's flag
 * (Node 20); false where the flag does not help or RECURRENT_WASM_RELAXED=0. Kernels compiled before the
 * call keep their build.
 */
export function enableRelaxedSimd(): boolean {
  if (validates()) return true;
  if (process.env.RECURRENT_WASM_RELAXED === "0") return false;
  try {
    setFlagsFromString("--experimental-wasm-relaxed-simd");
  } catch {
    return false;
  }
  return validates();
}

enableRelaxedSimd();
