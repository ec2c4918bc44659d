// The playground's gradients job (web/src/jobs.ts, what its worker runs) checked in Node against the
// `recurrent` command it stands for: gradientsJob must give the numbers `recurrent gradients --compare
// --json` prints. No browser needed: playground.test.ts drives the page itself. The sine job is the
// library's app.trainSine, tested in test/app/sine.test.ts.

import { spawnSync } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { setBackend } from "../../src/kernels/backend.js";
import { flowRatio } from "../../src/nn/gradflow.js";
import { forecastSpec, thinIndices } from "../../web/src/specs.js";
import { GRAD_DEFAULTS, type GradProgress, gradientsJob } from "../../web/src/jobs.js";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

describe("gradientsJob (the page's gradients panel)", () => {
  it("gives the numbers `recurrent gradients --compare --json` prints", () => {
    setBackend("ts");
    const page = gradientsJob(GRAD_DEFAULTS);
    const r = spawnSync(
      process.execPath,
      [
        "--import",
        "tsx",
        join(ROOT, "src/node/cli/bin.ts"),
        "gradients",
        "--compare",
        "--json",
        "--no-chart",
        "--init-scale",
        String(GRAD_DEFAULTS.initScale),
        "--forget-bias",
        String(GRAD_DEFAULTS.forgetBias),
      ],
      { cwd: ROOT, encoding: "utf8", env: { ...process.env, RECURRENT_BACKEND: "ts" }, timeout: 60_000 },
    );
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    const cli = JSON.parse(r.stdout) as {
      seq_len: number;
      models: {
        cell: string;
        module: string;
        loss: number;
        layers: {
          grad_h: number[];
          weight_hh_spectral: number;
          jacobian_h: { spectral: number[] } | null;
          jacobian_c: { spectral: number[] } | null;
        }[];
      }[];
    };
    expect(cli.seq_len).toBe(GRAD_DEFAULTS.seqLen);
    expect(cli.models.map((m) => m.cell)).toEqual(page.cells.map((c) => c.cell));
    page.cells.forEach((c, k) => {
      const m = cli.models[k];
      expect(c.module).toBe(m.module);
      expect(c.loss).toBe(m.loss);
      expect(c.weightHhSpectral).toBe(m.layers[0].weight_hh_spectral);
      expect(c.gradH).toEqual(m.layers[0].grad_h);
      expect(c.jacobianH).toEqual(m.layers[0].jacobian_h?.spectral);
      expect(c.jacobianC).toEqual(m.layers[0].jacobian_c?.spectral ?? null);
    });
    // the story the panel tells by default (the notes' lesson): the RNN's gradient fades along the
    // sequence (to ~2e-16 of its last step's here), while the LSTM's still carries (~2e-2)
    const kept = (g: number[]) => g[0] / g[g.length - 1];
    const [rnn, lstm] = page.cells;
    expect(kept(rnn.gradH)).toBeLessThan(1e-10);
    expect(kept(lstm.gradH)).toBeGreaterThan(1e-3);
  }, 60_000);
});

describe("gradientsJob progress, and the ratio's words", () => {
  it("reports every Jacobian step of every cell, in order, with the same numbers as without progress", () => {
    const o = { ...GRAD_DEFAULTS, seqLen: 40, hidden: 5 };
    const seen: GradProgress[] = [];
    const r = gradientsJob(o, (p) => seen.push(p));
    // per cell: a start (0 of 1), then steps 1..T of T (the Jacobian products, one per step)
    const expected = (["rnn", "lstm", "gru"] as const).flatMap((cell, index) => [
      { cell, index, of: 3, done: 0, total: 1 },
      ...Array.from({ length: o.seqLen }, (_, k) => ({ cell, index, of: 3, done: k + 1, total: o.seqLen })),
    ]);
    expect(seen).toEqual(expected);
    expect(r).toEqual(gradientsJob(o));
  });

  it("says why there is no ratio at length 1000: the RNN's gradient underflows to 0 in float32", () => {
    const r = gradientsJob({ ...GRAD_DEFAULTS, seqLen: 1000, jacobian: false });
    const [rnn, lstm] = r.cells;
    expect(rnn.gradH[0]).toBe(0);
    expect(rnn.gradH[999]).toBeGreaterThan(0);
    expect(flowRatio(rnn.gradH[0], rnn.gradH[999]).text).toBe(
      "no ratio: the gradient underflowed to 0 in float32 (below about 1e-45) on its way back: it vanished completely",
    );
    expect(lstm.gradH[0]).toBeGreaterThan(0);
  });

  it("flowRatio: orders of magnitude, overflow, a zero last step (hand-computed)", () => {
    expect(flowRatio(1e-3, 10)).toEqual({ ratio: 1e-4, text: "4.0 orders of magnitude smaller" });
    expect(flowRatio(250, 0.5)).toEqual({ ratio: 500, text: "2.7 orders of magnitude larger" });
    expect(flowRatio(Number.POSITIVE_INFINITY, 1).text).toBe(
      "no ratio: the gradient overflowed float32 (it is not a finite number): it exploded",
    );
    expect(flowRatio(Number.NaN, 1).text).toMatch(/overflowed/);
    expect(flowRatio(1, 0).text).toBe("no ratio: the gradient at the last step is 0");
  });
});

describe("thinning long series for drawing", () => {
  it("keeps every point of a short series, and each run's first, last, smallest and largest of a long one", () => {
    expect(thinIndices(7, [[1, 2, 3, 4, 5, 6, 7]], 4)).toEqual([0, 1, 2, 3, 4, 5, 6]);
    // 12 points in 3 runs of 4: [0,4) [4,8) [8,12)
    const v = [5, 9, 1, 5, 5, 5, 5, 5, -3, 5, 5, 8];
    expect(thinIndices(12, [v], 3)).toEqual([0, 1, 2, 3, 4, 7, 8, 11]);
    // a second series adds its own extremes; non-finite values are skipped
    const w = [0, 0, 0, 0, 0, 7, Number.NaN, 0, 0, 0, 0, 0];
    expect(thinIndices(12, [v, w], 3)).toEqual([0, 1, 2, 3, 4, 5, 7, 8, 11]);
  });

  it("draws a 400,000-point backtest from a few thousand points, its one-point spike and dip kept", () => {
    const n = 400_000;
    const history = Array.from({ length: 1000 }, (_, i) => Math.sin(i / 50));
    const heldOut = Array.from({ length: n }, (_, i) => Math.sin(i / 500));
    const forecast = heldOut.map((x) => x + 0.01);
    heldOut[123_457] = 40; // a spike of one point
    forecast[300_001] = -40; // a dip of one point
    const spec = forecastSpec(
      {
        history,
        forecast,
        heldOut,
        bands: null,
        dates: null,
        index: Array.from({ length: 1000 + n }, (_, i) => i),
      },
      { title: "t", yLabel: "y", width: 800 },
    ) as unknown as { data: { values: { series: string; x: number; y: number | null }[] } };
    const rows = spec.data.values;
    expect(rows.length).toBeLessThan(5000);
    expect(rows.some((r) => r.series === "held-out truth" && r.y === 40 && r.x === 1000 + 123_457)).toBe(
      true,
    );
    expect(rows.some((r) => r.series === "forecast" && r.y === -40 && r.x === 1000 + 300_001)).toBe(true);
    // the ends are there: the last history point and the last forecast step
    expect(rows.some((r) => r.series === "history" && r.x === 999)).toBe(true);
    expect(rows.some((r) => r.series === "forecast" && r.x === 1000 + n - 1)).toBe(true);
  });
});
