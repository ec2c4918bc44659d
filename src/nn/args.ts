// Arguments that are not tensors, refused with PyTorch's words ("linear(): argument 'input' (position 1)
// must be Tensor, not NoneType") instead of the engine's ("Cannot read properties of null").

import { Tensor } from "../core/tensor.js";
import { PackedSequence } from "./packed.js";

/** What a value is, in the words of the message: null, undefined, number, string, Array, Float32Array, ... */
function typeName(v: unknown): string {
  if (v === null) return "null";
  if (typeof v !== "object") return typeof v;
  return (v as object).constructor?.name ?? "object";
}

/** Throws PyTorch's TypeError when argument `name` (at `position`, 1-based) of `fn` is not a Tensor. */
export function checkTensorArg(v: unknown, fn: string, name: string, position: number, packed = false): void {
  if (v instanceof Tensor || (packed && v instanceof PackedSequence)) return;
  throw new TypeError(
    `${fn}(): argument '${name}' (position ${position}) must be Tensor${packed ? " or PackedSequence" : ""}, not ${typeName(v)}`,
  );
}
