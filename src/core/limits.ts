// Sizes the library refuses before allocating, with a message that gives the size asked for instead of
// a bare RangeError from the JavaScript engine ("Invalid typed array length: Infinity") or a process
// that grows until the machine gives up. PyTorch has no such bounds; it fails in its allocator
// ("can't allocate memory: you tried to allocate N bytes"), whose words these messages reuse.

/** The most float32 elements one tensor, or all the parameters of one module, may hold: 2^31 (8 GiB). */
export const MAX_ELEMENTS = 2 ** 31;

/** The most stacked recurrent layers one module may have (no trained network comes near it). */
export const MAX_LAYERS = 1024;

/** A count for a message: as an integer below 2^64 (as PyTorch prints it), else in exponent form. */
function bytesStr(n: number): string {
  if (!Number.isFinite(n)) return "more than 1.798e308";
  return Number.isInteger(n) && n < 2 ** 64 ? BigInt(n).toString() : n.toExponential(3).replace("e+", "e");
}

/**
 * Throws when `numel` float32 elements cannot be allocated here (more than MAX_ELEMENTS, or not a
 * finite number); `what` names the caller (`zeros`, `LSTM(1, 1000000000)`).
 */
export function checkAllocation(numel: number, what: string): void {
  if (Number.isFinite(numel) && numel <= MAX_ELEMENTS) return;
  throw new Error(
    `${what}: can't allocate memory: you tried to allocate ${bytesStr(4 * numel)} bytes (${bytesStr(numel)} float32 elements); at most 2^31 elements (8 GiB) fit in one tensor or one module here`,
  );
}
