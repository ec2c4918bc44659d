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
    if (!Number.isFinite(seed)) throw new Error(`manualSeed: expected a finite number, got ${seed}`);
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

  /** Uniform in [0, 1) with 53 bits. */
  nextDouble(): number {
    const a = this.nextUint32() >>> 5;
    const b = this.nextUint32() >>> 6;
    return (a * 67108864 + b) / 9007199254740992;
  }

  /** Standard normal by the Box-Muller transform (pairs, the second one kept for the next call). */
  nextNormal(): number {
    if (this.spareNormal !== null) {
      const s = this.spareNormal;
      this.spareNormal = null;
      return s;
    }
    let u1 = this.nextDouble();
    while (u1 <= 0) u1 = this.nextDouble();
    const u2 = this.nextDouble();
    const r = Math.sqrt(-2 * Math.log(u1));
    this.spareNormal = r * Math.sin(2 * Math.PI * u2);
    return r * Math.cos(2 * Math.PI * u2);
  }

  /** An integer uniformly drawn from [low, high). */
  randint(low: number, high: number): number {
    if (!(high > low)) throw new Error(`randint: expected high > low, got low=${low}, high=${high}`);
    return low + Math.floor(this.nextDouble() * (high - low));
  }
}

/** The default generator used by every random function unless one is passed. */
export const defaultGenerator = new Generator();

/** Seeds the default generator, as `torch.manual_seed`. */
export function manualSeed(seed: number): Generator {
  return defaultGenerator.manualSeed(seed);
}
