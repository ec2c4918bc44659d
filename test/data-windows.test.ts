import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { DataError, makeWindows, splitSeries, splitWindows } from "../src/data/index.js";

function dataError(fn: () => unknown): DataError {
  try {
    fn();
  } catch (e) {
    if (e instanceof DataError) return e;
    throw e;
  }
  throw new Error("expected a DataError, but nothing was thrown");
}

/** A (T, F) series whose value at row t, column f is 100 t + f, so every value names its place. */
function coded(T: number, F: number): { data: Float32Array; shape: [number, number] } {
  const data = new Float32Array(T * F);
  for (let t = 0; t < T; t++) for (let f = 0; f < F; f++) data[t * F + f] = 100 * t + f;
  return { data, shape: [T, F] };
}

describe("makeWindows", () => {
  it("cuts a hand-checked (5, 2) series with lookback 2, horizon 2", () => {
    const series = { data: Float32Array.from([1, 10, 2, 20, 3, 30, 4, 40, 5, 50]), shape: [5, 2] };
    const w = makeWindows(series, 2, 2, { targetIndex: 1 });
    expect(w.inputs.shape).toEqual([2, 2, 2]);
    expect(w.targets.shape).toEqual([2, 2]);
    expect(Array.from(w.inputs.data)).toEqual([1, 10, 2, 20, 2, 20, 3, 30]);
    expect(Array.from(w.targets.data)).toEqual([30, 40, 40, 50]);
    expect(w.origins).toEqual([2, 3]);
    const first = makeWindows(series, 2, 2);
    expect(Array.from(first.targets.data)).toEqual([3, 4, 4, 5]);
  });

  it("takes a plain Float32Array as one column", () => {
    const w = makeWindows(Float32Array.from([0, 1, 2, 3]), 3, 1);
    expect(w.inputs.shape).toEqual([1, 3, 1]);
    expect(Array.from(w.inputs.data)).toEqual([0, 1, 2]);
    expect(Array.from(w.targets.data)).toEqual([3]);
  });

  it("matches direct indexing for any sizes, stride and target range (property)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 40 }),
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 1, max: 8 }),
        fc.integer({ min: 1, max: 5 }),
        fc.integer({ min: 1, max: 4 }),
        fc.nat(),
        fc.nat(),
        (T, F, L, H, stride, a, b) => {
          fc.pre(L + H <= T);
          const targetStart = a % (T + 1);
          const targetEnd = targetStart + (b % (T - targetStart + 1));
          const expectedOrigins: number[] = [];
          for (let o = Math.max(L, targetStart); o + H <= targetEnd; o += stride) expectedOrigins.push(o);
          const targetIndex = F - 1;
          const opts = { targetIndex, stride, targetStart, targetEnd };
          if (expectedOrigins.length === 0) {
            expect(() => makeWindows(coded(T, F), L, H, opts)).toThrow(/no window fits/);
            return;
          }
          const w = makeWindows(coded(T, F), L, H, opts);
          expect(w.origins).toEqual(expectedOrigins);
          const N = expectedOrigins.length;
          expect(w.inputs.shape).toEqual([N, L, F]);
          expect(w.targets.shape).toEqual([N, H]);
          expectedOrigins.forEach((o, n) => {
            for (let l = 0; l < L; l++)
              for (let f = 0; f < F; f++)
                expect(w.inputs.data[(n * L + l) * F + f]).toBe(100 * (o - L + l) + f);
            for (let h = 0; h < H; h++) expect(w.targets.data[n * H + h]).toBe(100 * (o + h) + targetIndex);
          });
        },
      ),
      { numRuns: 200 },
    );
  });

  it("says how many points are needed and how many there are", () => {
    expect(dataError(() => makeWindows(coded(30, 1), 24, 12)).message).toBe(
      "series too short: lookback 24 + horizon 12 needs at least 36 time steps, got 30",
    );
    expect(dataError(() => makeWindows(coded(10, 2), 2, 1, { targetIndex: 2 })).message).toBe(
      "targetIndex must be an integer in [0, 2) for a series of 2 column(s), got 2",
    );
    expect(dataError(() => makeWindows(coded(10, 1), 0, 1)).message).toBe(
      "lookback must be an integer >= 1, got 0",
    );
    expect(dataError(() => makeWindows(coded(10, 1), 2, 1.5)).message).toBe(
      "horizon must be an integer >= 1, got 1.5",
    );
    expect(dataError(() => makeWindows({ data: new Float32Array(5), shape: [2, 2] }, 1, 1)).message).toMatch(
      /shape \[2, 2\] for 5 values/,
    );
    expect(dataError(() => makeWindows(coded(20, 1), 3, 4, { targetStart: 17 })).message).toBe(
      "no window fits: targets must lie in rows [17, 20), which holds 3 step(s) after the first 3 (lookback) rows, fewer than horizon 4",
    );
  });
});

describe("splitSeries", () => {
  it("splits chronologically with rounded fractions or counts", () => {
    expect(splitSeries(100)).toEqual({
      train: { start: 0, end: 70 },
      val: { start: 70, end: 85 },
      test: { start: 85, end: 100 },
    });
    expect(splitSeries(10, { val: 0.2, test: 0.1 })).toEqual({
      train: { start: 0, end: 7 },
      val: { start: 7, end: 9 },
      test: { start: 9, end: 10 },
    });
    expect(splitSeries(741, { val: 0, test: 24 })).toEqual({
      train: { start: 0, end: 717 },
      val: { start: 717, end: 717 },
      test: { start: 717, end: 741 },
    });
  });

  it("rejects sizes that leave no training data or make no sense", () => {
    expect(dataError(() => splitSeries(4, { val: 2, test: 2 })).message).toBe(
      "splitSeries: validation (2) and test (2) take all 4 time steps; training needs at least one",
    );
    expect(dataError(() => splitSeries(10, { val: -0.1 })).message).toMatch(
      /val must be a fraction in \[0, 1\)/,
    );
    expect(dataError(() => splitSeries(10, { test: 2.5 })).message).toMatch(
      /read as a count, but it is not an integer/,
    );
    expect(dataError(() => splitSeries(0)).message).toBe("splitSeries: T must be an integer >= 1, got 0");
  });
});

describe("splitWindows", () => {
  it("keeps targets inside their part and lets inputs reach back for context", () => {
    const T = 40;
    const L = 5;
    const H = 3;
    const split = splitSeries(T, { val: 10, test: 8 }); // train [0,22) val [22,32) test [32,40)
    const w = splitWindows(coded(T, 1), L, H, split);
    const rowsOf = (data: Float32Array): number[] => Array.from(data, (v) => v / 100);
    // every training target row is before validation starts: no leak
    expect(Math.max(...rowsOf(w.train.targets.data))).toBe(21);
    expect(w.train.origins).toEqual(Array.from({ length: 22 - H - L + 1 }, (_, i) => L + i));
    // validation: first origin is the first validation row, its input is the last L training rows
    expect(w.val.origins).toEqual([22, 23, 24, 25, 26, 27, 28, 29]);
    expect(rowsOf(w.val.inputs.data.subarray(0, L))).toEqual([17, 18, 19, 20, 21]);
    const valTargets = rowsOf(w.val.targets.data);
    expect(Math.min(...valTargets)).toBe(22);
    expect(Math.max(...valTargets)).toBe(31);
    // test: same rule, its context comes from validation
    expect(w.test.origins).toEqual([32, 33, 34, 35, 36, 37]);
    expect(rowsOf(w.test.inputs.data.subarray(0, L))).toEqual([27, 28, 29, 30, 31]);
    expect(Math.max(...rowsOf(w.test.targets.data))).toBe(39);
  });

  it("gives an empty part no windows and names a part too short for one", () => {
    const w = splitWindows(coded(30, 2), 4, 2, splitSeries(30, { val: 0, test: 6 }));
    expect(w.val.inputs.shape).toEqual([0, 4, 2]);
    expect(w.val.targets.shape).toEqual([0, 2]);
    expect(w.val.origins).toEqual([]);
    expect(w.test.origins).toEqual([24, 25, 26, 27, 28]);
    expect(
      dataError(() => splitWindows(coded(30, 1), 4, 3, splitSeries(30, { val: 2, test: 6 }))).message,
    ).toBe(
      "val split [22, 24): no window fits: targets must lie in rows [22, 24), which holds 2 step(s) after the first 4 (lookback) rows, fewer than horizon 3",
    );
    expect(dataError(() => splitWindows(coded(30, 1), 4, 3, splitSeries(31))).message).toBe(
      "split covers 31 time steps but the series has 30",
    );
  });
});
