import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { DataError, MinMaxScaler, StandardScaler, makeWindows, scalerFromJSON } from "../src/data/index.js";
import { expectClose } from "./helpers.js";

function dataError(fn: () => unknown): DataError {
  try {
    fn();
  } catch (e) {
    if (e instanceof DataError) return e;
    throw e;
  }
  throw new Error("expected a DataError, but nothing was thrown");
}

// (6, 3): column 0 = 1..4 then 10, 20; column 1 constant 5 in the first 4 rows; column 2 = 0, 2, 0, 2, ...
const series = {
  data: Float32Array.from([1, 5, 0, 2, 5, 2, 3, 5, 0, 4, 5, 2, 10, 7, 0, 20, 9, 2]),
  shape: [6, 3],
};

describe("StandardScaler", () => {
  it("fits mean and population std on the training rows only (hand-computed)", () => {
    const s = new StandardScaler().fit(series, { end: 4 });
    // column 0 on rows 0..3: mean 2.5, variance (2.25 + 0.25 + 0.25 + 2.25) / 4 = 1.25
    expectClose(s.mean, [2.5, 5, 1], { atol: 0, rtol: 0 });
    expectClose(s.scale, [Math.sqrt(1.25), 1, 1], { atol: 0, rtol: 1e-15 });
    const r = Math.sqrt(1.25);
    const y = s.transform(series);
    expect(y.shape).toEqual([6, 3]);
    expectClose(
      y.data,
      [-1.5 / r, 0, -1, -0.5 / r, 0, 1, 0.5 / r, 0, -1, 1.5 / r, 0, 1, 7.5 / r, 2, -1, 17.5 / r, 4, 1],
      { atol: 1e-6, rtol: 1e-6 },
    );
  });

  it("treats a constant column as scale 1 even when float rounding would give a tiny std", () => {
    const T = 1000;
    const data = new Float32Array(T).fill(0.1);
    const s = new StandardScaler().fit({ data, shape: [T, 1] });
    expect(s.scale).toEqual([1]);
    expect(s.transform({ data: Float32Array.from([0.1, 1.1]), shape: [2, 1] }).data[1]).toBeCloseTo(1, 6);
  });

  it("transforms windows (N, L, F) and inverts target columns", () => {
    const s = new StandardScaler().fit(series, { end: 4 });
    const w = makeWindows(series, 2, 2);
    const scaled = s.transform(w.inputs);
    expect(scaled.shape).toEqual(w.inputs.shape);
    // input of window 0, row 1 (= series row 1), column 0: (2 - 2.5) / sqrt(1.25)
    expect(scaled.data[3]).toBeCloseTo(-0.5 / Math.sqrt(1.25), 6);
    const t = s.transformColumn(w.targets.data, 0);
    expectClose(s.inverseTransformColumn(t, 0), w.targets.data, { atol: 1e-5, rtol: 1e-6 });
    expectClose(s.inverseTransform(scaled).data, w.inputs.data, { atol: 1e-5, rtol: 1e-6 });
  });

  it("round-trips through JSON", () => {
    const s = new StandardScaler().fit(series, { end: 4 });
    const back = scalerFromJSON(JSON.parse(JSON.stringify(s.toJSON())));
    expect(back).toBeInstanceOf(StandardScaler);
    expect(back.transform(series).data).toEqual(s.transform(series).data);
    expect(s.toJSON()).toEqual({ type: "standard", mean: [2.5, 5, 1], scale: [Math.sqrt(1.25), 1, 1] });
  });

  it("inverseTransform(transform(x)) = x (property)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 4 }),
        fc.array(fc.float({ min: -1e4, max: 1e4, noNaN: true }), { minLength: 4, maxLength: 40 }),
        (F, values) => {
          const T = Math.floor(values.length / F);
          const data = Float32Array.from(values.slice(0, T * F));
          const x = { data, shape: [T, F] };
          for (const s of [new StandardScaler(), new MinMaxScaler([-1, 1])]) {
            s.fit(x);
            expectClose(s.inverseTransform(s.transform(x)).data, data, { atol: 2e-3, rtol: 1e-5 });
          }
        },
      ),
    );
  });
});

describe("MinMaxScaler", () => {
  it("maps the training min and max onto the range (hand-computed)", () => {
    const s = new MinMaxScaler().fit(series, { end: 4 });
    expect(s.dataMin).toEqual([1, 5, 0]);
    expect(s.dataMax).toEqual([4, 5, 2]);
    const y = s.transform(series);
    // column 0: (x - 1) / 3 ; column 1 constant: x - 5 ; column 2: x / 2 ; later rows may leave [0, 1]
    expectClose(y.data, [0, 0, 0, 1 / 3, 0, 1, 2 / 3, 0, 0, 1, 0, 1, 3, 2, 0, 19 / 3, 4, 1], { atol: 1e-6 });
  });

  it("honours featureRange and round-trips through JSON", () => {
    const s = new MinMaxScaler([-1, 1]).fit(series, { start: 0, end: 4 });
    // column 0: 2 (x - 1) / 3 - 1
    expectClose(s.transformColumn([1, 2.5, 4, 7], 0), [-1, 0, 1, 3], { atol: 1e-6 });
    const back = scalerFromJSON(JSON.parse(JSON.stringify(s)));
    expect(back).toBeInstanceOf(MinMaxScaler);
    expect(back.toJSON()).toEqual({
      type: "minmax",
      featureRange: [-1, 1],
      dataMin: [1, 5, 0],
      dataMax: [4, 5, 2],
    });
    expect(back.transform(series).data).toEqual(s.transform(series).data);
  });
});

describe("scaler errors", () => {
  it("explains misuse", () => {
    expect(dataError(() => new StandardScaler().transform(series)).message).toBe(
      "StandardScaler is not fitted: call fit() first",
    );
    const s = new StandardScaler().fit(series);
    expect(dataError(() => s.transform({ data: new Float32Array(4), shape: [2, 2] })).message).toBe(
      "StandardScaler: expected an array whose last dimension is 3 (the fitted columns), got shape [2, 2] for 4 values",
    );
    expect(dataError(() => s.transformColumn([1], 3)).message).toMatch(
      /column must be an integer in \[0, 3\)/,
    );
    expect(dataError(() => new MinMaxScaler().fit(series, { start: 4, end: 4 })).message).toBe(
      "MinMaxScaler.fit: rows [4, 4) must be a non-empty range within the 6 rows",
    );
    expect(dataError(() => new MinMaxScaler([1, 0])).message).toMatch(/lo < hi/);
    expect(
      dataError(() => new StandardScaler().fit({ data: Float32Array.from([1, Number.NaN]), shape: [2, 1] }))
        .message,
    ).toBe(
      "StandardScaler.fit: the value at row index 1, column index 0 (both 0-based) is NaN; fill missing values first",
    );
    expect(dataError(() => scalerFromJSON({ type: "robust" })).message).toMatch(
      /expected type "standard" or "minmax"/,
    );
    expect(dataError(() => scalerFromJSON({ type: "standard", mean: [0, 1], scale: [1] })).message).toBe(
      "scaler JSON: scale has 1 entries, expected 2",
    );
  });
});
