// nn.init against PyTorch 1.13 (test/fixtures/gen/init.py): gains, fans and errors from PyTorch; the
// seeded fills compared value for value with what PyTorch draws after the same torch.manual_seed; and
// the documented distributions checked by statistics on large tensors.

import { describe, expect, it } from "vitest";
import { Generator, manualSeed } from "../src/core/random.js";
import { Tensor } from "../src/core/tensor.js";
import {
  type Nonlinearity,
  calculateFanInAndFanOut,
  calculateGain,
  constant_,
  kaimingNormal_,
  kaimingUniform_,
  normal_,
  ones_,
  orthogonal_,
  uniform_,
  xavierNormal_,
  xavierUniform_,
  zeros_,
} from "../src/nn/init.js";
import { expectClose, loadFixture } from "./helpers.js";

interface Seeded {
  name: string;
  shape: number[];
  // biome-ignore lint/suspicious/noExplicitAny: arguments come from JSON
  args: any;
  seed: number;
  values: number[];
}

const fx = loadFixture<{
  gains: { nonlinearity: Nonlinearity; param: number | null; gain: number }[];
  fans: { shape: number[]; fanIn: number; fanOut: number }[];
  seeded: Seeded[];
  errors: Record<string, string>;
}>("init", "init");

const empty = (shape: number[]) => new Tensor(new Float32Array(shape.reduce((a, b) => a * b, 1)), shape);

function apply(c: Pick<Seeded, "name" | "args">, t: Tensor, gen?: Generator): Tensor {
  const a = c.args;
  switch (c.name) {
    case "uniform_":
      return uniform_(t, a.a ?? 0, a.b ?? 1, gen);
    case "normal_":
      return normal_(t, a.mean ?? 0, a.std ?? 1, gen);
    case "xavierUniform_":
      return xavierUniform_(t, a.gain ?? 1, gen);
    case "xavierNormal_":
      return xavierNormal_(t, a.gain ?? 1, gen);
    case "kaimingUniform_":
      return kaimingUniform_(t, { ...a, generator: gen });
    case "kaimingNormal_":
      return kaimingNormal_(t, { ...a, generator: gen });
    case "orthogonal_":
      return orthogonal_(t, a.gain ?? 1, gen);
    default:
      throw new Error(`unknown initializer ${c.name}`);
  }
}

describe("gains and fans are PyTorch's", () => {
  it("calculateGain", () => {
    for (const g of fx.gains) {
      expect(calculateGain(g.nonlinearity, g.param), `${g.nonlinearity}(${g.param})`).toBe(g.gain);
    }
  });

  it("calculateFanInAndFanOut", () => {
    for (const f of fx.fans)
      expect(calculateFanInAndFanOut(empty(f.shape)), String(f.shape)).toEqual([f.fanIn, f.fanOut]);
  });

  it("errors", () => {
    const e = fx.errors;
    expect(() => calculateFanInAndFanOut(empty([5]))).toThrow(e.fan1d);
    expect(() => xavierUniform_(empty([5]))).toThrow(e.fan1d);
    expect(() => calculateGain("softplus" as Nonlinearity)).toThrow(e.gain);
    expect(() => calculateGain("leaky_relu", "x" as unknown as number)).toThrow(e.slope);
    expect(() => kaimingUniform_(empty([3, 4]), { mode: "fan_avg" as "fan_in" })).toThrow(e.mode);
    expect(() => orthogonal_(empty([5]))).toThrow(e.orthogonal1d);
    expect(() => uniform_(empty([3]), 1, 0)).toThrow(e.uniform);
    expect(() => normal_(empty([3]), 0, -1)).toThrow(e.normal);
  });
});

// Tensors of fewer than 16 elements take PyTorch's per-element normal path (Generator.nextNormal),
// tensors of 16 or more its vectorized layout; both are reproduced.
const perElementNormal = (_c: Seeded) => false;

describe("seeded fills reproduce PyTorch's numbers", () => {
  for (const c of fx.seeded.filter((c) => !perElementNormal(c))) {
    it(`${c.name}(${JSON.stringify(c.shape)}, ${JSON.stringify(c.args)})`, () => {
      manualSeed(c.seed);
      const t = apply(c, empty(c.shape));
      if (c.name.includes("niform")) {
        // the same 24-bit draws through the same float32 arithmetic: identical
        expectClose(t, c.values, { rtol: 0, atol: 0 });
      } else if (c.name === "orthogonal_") {
        // PyTorch's QR runs in float32 (LAPACK), ours in float64
        expectClose(t, c.values, { rtol: 0, atol: 5e-7 });
      } else {
        // PyTorch's vectorized log/sin/cos are within an ulp or two of the exact ones
        expectClose(t, c.values, { rtol: 2e-6, atol: 1e-7 });
      }
    });
  }

  it("the exact-parity list is not empty for any initializer", () => {
    const names = new Set(fx.seeded.filter((c) => !perElementNormal(c)).map((c) => c.name));
    expect([...names].sort()).toEqual(
      [
        "kaimingNormal_",
        "kaimingUniform_",
        "normal_",
        "orthogonal_",
        "uniform_",
        "xavierNormal_",
        "xavierUniform_",
      ].sort(),
    );
  });

  for (const c of fx.seeded) {
    it(`${c.name}(${JSON.stringify(c.shape)}) is reproducible from the seed and from a Generator`, () => {
      manualSeed(c.seed);
      const a = apply(c, empty(c.shape));
      manualSeed(c.seed);
      const b = apply(c, empty(c.shape));
      expect(Array.from(b.data)).toEqual(Array.from(a.data));
      // an explicit generator with the same seed gives the same numbers and leaves the default one alone
      manualSeed(12345);
      const gen = new Generator(c.seed);
      const d = apply(c, empty(c.shape), gen);
      expect(Array.from(d.data)).toEqual(Array.from(a.data));
      const afterOwn = uniform_(empty([4]));
      manualSeed(12345);
      expect(Array.from(uniform_(empty([4])).data)).toEqual(Array.from(afterOwn.data));
      // another seed gives other numbers
      manualSeed(c.seed + 1);
      expect(Array.from(apply(c, empty(c.shape)).data)).not.toEqual(Array.from(a.data));
    });
  }
});

function stats(x: Float32Array): { mean: number; std: number; min: number; max: number } {
  let s = 0;
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  for (const v of x) {
    s += v;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const mean = s / x.length;
  let ss = 0;
  for (const v of x) ss += (v - mean) ** 2;
  return { mean, std: Math.sqrt(ss / (x.length - 1)), min, max };
}

describe("distributions on large tensors match PyTorch's documentation", () => {
  const N = 200_000;

  /** Checks U(-bound, bound) (or U(lo, hi)): bounds exact, moments within a few percent. */
  function expectUniform(x: Float32Array, lo: number, hi: number): void {
    const s = stats(x);
    expect(s.min).toBeGreaterThanOrEqual(Math.fround(lo));
    expect(s.max).toBeLessThan(Math.fround(hi));
    expect(s.min - lo).toBeLessThan((hi - lo) * 1e-3);
    expect(hi - s.max).toBeLessThan((hi - lo) * 1e-3);
    expect(Math.abs(s.mean - (lo + hi) / 2)).toBeLessThan((hi - lo) * 0.005);
    expect(s.std / ((hi - lo) / Math.sqrt(12))).toBeCloseTo(1, 1.5);
  }

  function expectNormal(x: Float32Array, mean: number, std: number): void {
    const s = stats(x);
    expect(Math.abs(s.mean - mean)).toBeLessThan(std * 0.01);
    expect(Math.abs(s.std / std - 1)).toBeLessThan(0.01);
    // about 0.27% beyond 3 std
    let tail = 0;
    for (const v of x) if (Math.abs(v - mean) > 3 * std) tail++;
    expect(tail / x.length).toBeGreaterThan(0.0018);
    expect(tail / x.length).toBeLessThan(0.0036);
  }

  it("uniform_ and normal_", () => {
    manualSeed(1);
    expectUniform(uniform_(empty([N]), -2, 3).data, -2, 3);
    expectNormal(normal_(empty([N]), 1.5, 0.3).data, 1.5, 0.3);
    expectNormal(normal_(empty([N - 5])).data, 0, 1); // not a multiple of 16
  });

  it("normal_ on many small tensors (the per-element path)", () => {
    manualSeed(2);
    const all = new Float32Array(N);
    for (let i = 0; i < N; i += 10) all.set(normal_(empty([10]), -1, 2).data, i);
    expectNormal(all, -1, 2);
  });

  it("xavier: bound gain·√(6 / (fanIn + fanOut)), std gain·√(2 / (fanIn + fanOut))", () => {
    manualSeed(3);
    const t = xavierUniform_(empty([400, 100, 5]), 1.7); // fanIn 500, fanOut 2000
    const bound = 1.7 * Math.sqrt(6 / 2500);
    expectUniform(t.data, -bound, bound);
    expectNormal(xavierNormal_(empty([500, 400]), 0.5).data, 0, 0.5 * Math.sqrt(2 / 900));
  });

  it("kaiming: bound gain·√(3 / fan), std gain / √fan", () => {
    manualSeed(4);
    // default: leaky_relu with a = 0, i.e. gain √2, fan_in
    const bound = Math.sqrt(2) * Math.sqrt(3 / 250);
    expectUniform(kaimingUniform_(empty([800, 250])).data, -bound, bound);
    const b2 = Math.sqrt(2 / (1 + 0.3 ** 2)) * Math.sqrt(3 / 800);
    expectUniform(kaimingUniform_(empty([800, 250]), { a: 0.3, mode: "fan_out" }).data, -b2, b2);
    expectNormal(
      kaimingNormal_(empty([1000, 200]), { nonlinearity: "relu" }).data,
      0,
      Math.sqrt(2) / Math.sqrt(200),
    );
    expectNormal(
      kaimingNormal_(empty([200, 10, 100]), { mode: "fan_out", nonlinearity: "tanh" }).data,
      0,
      5 / 3 / Math.sqrt(200 * 100), // fan_out = out · receptive field
    );
  });

  it("kaiming on an empty tensor is a no-op", () => {
    const t = empty([0, 3]);
    expect(kaimingUniform_(t)).toBe(t);
    expect(kaimingNormal_(t)).toBe(t);
  });
});

describe("orthogonal_", () => {
  /** G = A·Aᵀ (rows) or Aᵀ·A (columns) of the row-major (r, c) matrix. */
  function gram(a: Float32Array, r: number, c: number, ofRows: boolean): Float64Array {
    const n = ofRows ? r : c;
    const g = new Float64Array(n * n);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        let s = 0;
        if (ofRows) for (let k = 0; k < c; k++) s += a[i * c + k] * a[j * c + k];
        else for (let k = 0; k < r; k++) s += a[k * c + i] * a[k * c + j];
        g[i * n + j] = s;
      }
    }
    return g;
  }

  for (const [shape, gain] of [
    [[30, 8], 1],
    [[8, 30], 2.5],
    [[16, 16], 0.7],
    [[6, 3, 4], 1],
    [[3, 3], 1],
  ] as [number[], number][]) {
    it(`${JSON.stringify(shape)} with gain ${gain}: QᵀQ = gain²·I`, () => {
      manualSeed(7);
      const t = orthogonal_(empty(shape), gain);
      const rows = shape[0];
      const cols = t.data.length / rows;
      // the orthonormal direction is the shorter side's
      const g = gram(t.data, rows, cols, rows < cols);
      const n = Math.min(rows, cols);
      const eye = new Float64Array(n * n);
      for (let i = 0; i < n; i++) eye[i * n + i] = gain * gain;
      expectClose(Array.from(g), Array.from(eye), { atol: 2e-6 * gain * gain, rtol: 0 });
    });
  }

  it("is not just any orthogonal matrix: the sign correction gives Q with R's diagonal positive", () => {
    // Q = A R⁻¹ with R upper triangular and a positive diagonal: R = QᵀA has a positive diagonal
    manualSeed(11);
    const a = normal_(empty([7, 4]));
    manualSeed(11);
    const q = orthogonal_(empty([7, 4]));
    for (let j = 0; j < 4; j++) {
      let rjj = 0;
      for (let i = 0; i < 7; i++) rjj += q.data[i * 4 + j] * a.data[i * 4 + j];
      expect(rjj).toBeGreaterThan(0);
      // and R is upper triangular: (QᵀA)[j][k] = 0 for k < j
      for (let k = 0; k < j; k++) {
        let r = 0;
        for (let i = 0; i < 7; i++) r += q.data[i * 4 + j] * a.data[i * 4 + k];
        expect(Math.abs(r)).toBeLessThan(1e-5);
      }
    }
  });
});

describe("constant fills", () => {
  it("constant_, zeros_, ones_ fill in place and return the tensor", () => {
    const t = empty([2, 3]);
    expect(constant_(t, 0.1)).toBe(t);
    expect(Array.from(t.data)).toEqual(new Array(6).fill(Math.fround(0.1)));
    expect(Array.from(ones_(t).data)).toEqual(new Array(6).fill(1));
    expect(Array.from(zeros_(t).data)).toEqual(new Array(6).fill(0));
  });
});
