// A seeded generator (Mersenne Twister MT19937, as PyTorch's CPU generator) so that every random call in
// the library is reproducible from `manualSeed(n)`, in Node and in browsers alike.

const N = 624;
const M = 397;

export class Generator {
  private readonly mt = new Uint32Array(N);
  private index = N + 1;
  private spareNormal: number | null = null;
  private seedValue = 0;

  constructor(seed = 67280421310721) {
    this.manualSeed(seed);
  }

  /** Re-seeds the generator; the same seed gives the same sequence of numbers. */
  manualSeed(seed: number): this {
    // PyTorch's int(seed), then its unpacking into 64 bits (unsigned, else signed)
    if (typeof seed !== "number") throw new TypeError(`manualSeed: expected a number, got ${typeof seed}`);
    if (Number.isNaN(seed)) throw new Error("cannot convert float NaN to integer");
    if (!Number.isFinite(seed)) throw new Error("cannot convert float infinity to integer");
    if (seed < -(2 ** 63) || seed >= 2 ** 64) throw new Error("Overflow when unpacking long");
    this.seedValue = seed;
    const mt = this.mt;
    mt[0] = seed >>> 0;
    for (let i = 1; i < N; i++) {
      const prev = mt[i - 1] ^ (mt[i - 1] >>> 30);
      // 1812433253 * prev + i, in 32-bit arithmetic
      mt[i] = (Math.imul(1812433253, prev) + i) >>> 0;
    }
    this.index = N;
    this.spareNormal = null;
    return this;
  }

  initialSeed(): number {
    return this.seedValue;
  }

  /** A uniformly distributed 32-bit unsigned integer. */
  nextUint32(): number {
    const mt = this.mt;
    if (this.index >= N) {
      for (let k = 0; k < N; k++) {
        const y = (mt[k] & 0x80000000) | (mt[(k + 1) % N] & 0x7fffffff);
        let v = mt[(k + M) % N] ^ (y >>> 1);
        if (y & 1) v ^= 0x9908b0df;
        mt[k] = v >>> 0;
      }
      this.index = 0;
    }
    let y = mt[this.index++];
    y ^= y >>> 11;
    y ^= (y << 7) & 0x9d2c5680;
    y ^= (y << 15) & 0xefc60000;
    y ^= y >>> 18;
    return y >>> 0;
  }

  /** Uniform in [0, 1) with 24 bits, exactly representable in float32 (as PyTorch's `rand`). */
  nextFloat(): number {
    return (this.nextUint32() & 0xffffff) * 5.9604644775390625e-8;
  }

  /** Uniform in [0, 1) with 53 bits, from two draws (as PyTorch's CPU generator). */
  nextDouble(): number {
    const a = this.nextUint32();
    const b = this.nextUint32();
    return ((a & 0x1fffff) * 4294967296 + b) / 9007199254740992;
  }

  /**
   * Standard normal by the Box-Muller transform, as PyTorch's scalar path: the second value of each
   * pair is kept for the next call.
   */
  nextNormal(): number {
    if (this.spareNormal !== null) {
      const s = this.spareNormal;
      this.spareNormal = null;
      return s;
    }
    const u1 = this.nextDouble();
    const u2 = this.nextDouble();
    const r = Math.sqrt(-2 * Math.log(1 - u2));
    const theta = 2 * Math.PI * u1;
    this.spareNormal = r * Math.sin(theta);
    return r * Math.cos(theta);
  }

  /**
   * An integer uniformly drawn from [low, high), as PyTorch's CPU `random_(low, high)` (so `randint` gives
   * PyTorch's numbers for a seed): one 32-bit draw modulo the range, or for a range of 2^32 or more two
   * draws taken as one 64-bit value (the first as its high half) modulo the range.
   */
  randint(low: number, high: number): number {
    if (!Number.isInteger(low) || !Number.isInteger(high))
      throw new Error(`randint: expected integer bounds, got low=${low}, high=${high}`);
    if (!(high > low)) throw new Error(`randint: expected high > low, got low=${low}, high=${high}`);
    const range = high - low;
    if (range < 4294967296) return low + (this.nextUint32() % range);
    const hi = BigInt(this.nextUint32());
    const lo = BigInt(this.nextUint32());
    return low + Number(((hi << BigInt(32)) | lo) % BigInt(range));
  }
}

/** The default generator used by every random function unless one is passed. */
export const defaultGenerator = new Generator();

/** Seeds the default generator, as `torch.manual_seed`. */
export function manualSeed(seed: number): Generator {
  return defaultGenerator.manualSeed(seed);
}

// ---- filling arrays as PyTorch's CPU kernels do, so that the same seed gives PyTorch's numbers

const f32 = Math.fround;

/** Fills `x` with U(from, to) as PyTorch's CPU `uniform_` (float32 bounds, one 24-bit draw each). */
export function fillUniform(x: Float32Array, from: number, to: number, gen: Generator): void {
  const lo = f32(from);
  const range = f32(f32(to) - lo);
  for (let i = 0; i < x.length; i++) x[i] = gen.nextFloat() * range + lo;
}

const TWO_PI = f32(2 * Math.PI);

/** Box-Muller on the 16 uniforms at x[o..o+16), in place (PyTorch's `normal_fill_16`). */
function fillNormal16(x: Float32Array, o: number, mean: number, std: number): void {
  for (let j = 0; j < 8; j++) {
    const u1 = f32(1 - x[o + j]);
    const u2 = x[o + j + 8];
    const radius = f32(Math.sqrt(f32(-2 * f32(Math.log(u1)))));
    const theta = f32(TWO_PI * u2);
    x[o + j] = f32(radius * f32(Math.cos(theta))) * std + mean;
    x[o + j + 8] = f32(radius * f32(Math.sin(theta))) * std + mean;
  }
}

/** Fills `x` with N(mean, std²) as PyTorch's CPU `normal_` on a float32 tensor. */
export function fillNormal(x: Float32Array, mean: number, std: number, gen: Generator): void {
  const n = x.length;
  if (n >= 16) {
    const m = f32(mean);
    const s = f32(std);
    for (let i = 0; i < n; i++) x[i] = gen.nextFloat();
    for (let i = 0; i + 16 <= n; i += 16) fillNormal16(x, i, m, s);
    if (n % 16 !== 0) {
      // the tail: redraw the last 16 uniforms and transform them
      for (let i = n - 16; i < n; i++) x[i] = gen.nextFloat();
      fillNormal16(x, n - 16, m, s);
    }
  } else {
    for (let i = 0; i < n; i++) x[i] = gen.nextNormal() * std + mean;
  }
}

/**
 * Fills `order` with 0..n-1 in a Fisher-Yates order drawn from `g` (one randint per position, from the
 * last down): the epoch shuffle of the forecasters' training loops.
 */
export function shuffledIndices(order: Int32Array, g: Generator = defaultGenerator): Int32Array {
  const n = order.length;
  for (let i = 0; i < n; i++) order[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = g.randint(0, i + 1);
    const t = order[i];
    order[i] = order[j];
    order[j] = t;
  }
  return order;
}
