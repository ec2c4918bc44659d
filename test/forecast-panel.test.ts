// Many series in one long-format file (src/forecast/panel.ts, src/node/cli/panel-commands.ts): the
// windows against a numpy computation of them, global training against PyTorch DistributedDataParallel
// (scripts/torch_train.py --nproc 2 on the same file), PyTorch's per-series forecasts from its checkpoint,
// per-series and pooled evaluation, and the refusals. Fixtures: test/fixtures/gen/panel.py.

import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { DataError } from "../src/data/errors.js";
import { decodeCheckpoint } from "../src/forecast/checkpoint.js";
import { CheckpointError } from "../src/forecast/errors.js";
import type { PanelJSON } from "../src/forecast/panel-meta.js";
import { forecasterFrom } from "../src/forecast/forecast.js";
import { exportForecastOnnx } from "../src/forecast/onnx.js";
import {
  panelWindows,
  poolScores,
  preparePanel,
  seriesCheckpoint,
  trainPanel,
} from "../src/forecast/panel.js";
import { DEFAULT_TRAIN_OPTIONS } from "../src/forecast/train.js";
import { decodeSafetensors, encodeSafetensors } from "../src/io/safetensors.js";
import { runCli as run } from "./cli-run.js";
import { FIXTURES, expectClose, loadFixture } from "./helpers.js";

const DIR = join(FIXTURES, "panel");
const CSV = join(DIR, "panel.csv");
const CKPT = join(DIR, "panel_2proc.safetensors");
const TEXT = readFileSync(CSV, "utf8");
const tmp = mkdtempSync(join(tmpdir(), "recurrent-panel-"));

interface Windows {
  lookback: number;
  horizon: number;
  val: number;
  test: number;
  order: string[];
  series: { id: string; rows: number; ranges: [number, number][]; mean: number[]; scale: number[] }[];
  skipped: { id: string; rows: number }[];
  train_x: number[];
  train_y: number[];
  val_x: number[];
  val_y: number[];
}
interface Fc {
  dates: string[];
  values: number[];
}
interface Trained {
  args: string[];
  world_size: number;
  history: { loss: number; val_loss: number | null }[];
  panel: PanelJSON;
  forecasts: Record<string, { forecast: Fc; forecast_5: Fc }>;
}
const W = loadFixture<Windows>("panel", "windows");
const TR = loadFixture<Trained>("panel", "trained");
const arg = (flag: string) => TR.args[TR.args.indexOf(flag) + 1];
const withFeature = { idColumn: "id", target: "value", features: ["temp"], fill: "linear" as const };
const opts = { ...DEFAULT_TRAIN_OPTIONS, lookback: W.lookback, horizon: W.horizon, val: W.val, test: W.test };

describe("preparePanel and panelWindows", () => {
  it("reads each series in order of first appearance, with its own gaps filled", () => {
    const p = preparePanel(TEXT, withFeature);
    expect(p.members.map((m) => m.id)).toEqual(W.order);
    const north = p.members[0].prepared;
    expect(north.series.shape).toEqual([60, 2]); // 59 file rows + 2003-05 inserted
    expect(north.insertedDates).toBe(1);
    expect(north.series.columns).toEqual(["value", "temp"]);
    expect(p.members.map((m) => m.prepared.series.shape[0])).toEqual([60, 48, 8]);
  });

  it("gives each series its split and scaler, and the windows of all series in order (numpy oracle)", () => {
    const w = panelWindows(preparePanel(TEXT, withFeature), opts);
    expect(w.members.map((m) => m.id)).toEqual(W.series.map((s) => s.id));
    w.members.forEach((m, i) => {
      const o = W.series[i];
      expect(m.prepared.series.shape[0]).toBe(o.rows);
      expect([m.split.train, m.split.val, m.split.test].map((r) => [r.start, r.end])).toEqual(o.ranges);
      const j = m.scaler.toJSON() as { mean: number[]; scale: number[] };
      expectClose(j.mean, o.mean, { atol: 0, rtol: 1e-12, what: `${m.id} mean` });
      expectClose(j.scale, o.scale, { atol: 0, rtol: 1e-12, what: `${m.id} scale` });
    });
    expect(w.F).toBe(2);
    expect(w.train.n).toBe(W.train_y.length / W.horizon);
    expect(w.val.n).toBe(W.val_y.length / W.horizon);
    expectClose(w.train.x, W.train_x, { atol: 1e-6, rtol: 0, what: "training x" });
    expectClose(w.train.y, W.train_y, { atol: 1e-6, rtol: 0, what: "training y" });
    expectClose(w.val.x, W.val_x, { atol: 1e-6, rtol: 0, what: "validation x" });
    expectClose(w.val.y, W.val_y, { atol: 1e-6, rtol: 0, what: "validation y" });
  });

  it("skips a series too short for the split and a window, and says why", () => {
    const w = panelWindows(preparePanel(TEXT, withFeature), opts);
    expect(w.skipped.map((s) => [s.id, s.rows])).toEqual(W.skipped.map((s) => [s.id, s.rows]));
    expect(w.skipped[0].reason).toMatch(
      /series too short: 8 row\(s\), but one window needs lookback 6 \+ horizon 3/,
    );
    expect(() => panelWindows(preparePanel(TEXT, withFeature), { ...opts, lookback: 60 })).toThrow(
      /no series is long enough to train on: series "north": series too short/,
    );
  });

  it("refuses files it cannot read as many series, saying what was expected", () => {
    const spec = { idColumn: "id", target: "value" };
    expect(() => preparePanel("id,date,value\na,2020-01,1\n,2020-02,2\n", spec)).toThrow(
      /empty series id in column "id" on line 3/,
    );
    expect(() => preparePanel("id,date,value\na,2020-01,1\n", { ...spec, target: "id" })).toThrow(
      /column "id" names the series; it cannot also be a model input/,
    );
    expect(() => preparePanel("sid,date,value\na,2020-01,1\n", spec)).toThrow(DataError);
    const mixed = "id,date,value\na,2020-01,1\na,2020-02,2\nb,2020-01,1\nb,2020-04,2\nb,2020-07,3\n";
    expect(() => preparePanel(mixed, spec)).toThrow(/series "a" is monthly .* but series "b" is quarterly/);
    // a gap inside one series is that series' error, named
    expect(() => preparePanel("id,date,value\na,2020-01,1\na,2020-02,2\na,2020-04,3\n", spec)).toThrow(
      /^series "a": the monthly dates .* skip 1 step/,
    );
  });
});

describe("one global model over every series", () => {
  it("trains as PyTorch DDP (torch_train.py --nproc 2) does: the same losses, the same panel record", async () => {
    expect(TR.world_size).toBe(2);
    const p = preparePanel(TEXT, { idColumn: "id", target: "value", fill: "linear" });
    const r = await trainPanel(p, {
      ...opts,
      hidden: Number(arg("--hidden")),
      epochs: Number(arg("--epochs")),
      batchSize: Number(arg("--batch-size")),
      seed: Number(arg("--seed")),
      patience: 0,
    });
    const h = r.checkpoint!.meta.training.history;
    expectClose(
      h.flatMap((e) => [e.loss, e.val_loss!]),
      TR.history.flatMap((e) => [e.loss, e.val_loss!]),
      { atol: 0, rtol: 1e-4, what: "loss and validation loss per epoch, recurrent vs DDP" },
    );
    const ours = r.checkpoint!.meta.data.panel!;
    expect(ours.id_column).toBe("id");
    expect(ours.skipped).toEqual(TR.panel.skipped);
    expect(ours.series.map(({ scaler: _, ...s }) => s)).toEqual(
      TR.panel.series.map(({ scaler: _, ...s }) => s),
    );
    ours.series.forEach((s, i) => {
      const a = s.scaler as { mean: number[]; scale: number[] };
      const b = TR.panel.series[i].scaler as { mean: number[]; scale: number[] };
      expectClose([...a.mean, ...a.scale], [...b.mean, ...b.scale], {
        atol: 0,
        rtol: 1e-12,
        what: `${s.id} scaler`,
      });
    });
  });

  it("forecasts every series of PyTorch's checkpoint as PyTorch does (1e-5), as id,date,value rows", async () => {
    for (const steps of [null, 5]) {
      const r = await run([
        ...["forecast", "--model", CKPT, "--csv", CSV, "--no-chart"],
        ...(steps === null ? [] : ["--horizon", String(steps)]),
      ]);
      expect(r.code, r.stderr).toBe(0);
      const rows = r.stdout.trim().split("\n");
      expect(rows[0]).toBe("id,date,value");
      for (const id of ["north", "south"]) {
        const want = steps === null ? TR.forecasts[id].forecast : TR.forecasts[id].forecast_5;
        const mine = rows
          .slice(1)
          .filter((l) => l.startsWith(`${id},`))
          .map((l) => l.split(","));
        expect(mine.map((c) => c[1])).toEqual(want.dates);
        expectClose(
          mine.map((c) => Number(c[2])),
          want.values,
          { atol: 1e-5, rtol: 1e-7, what: `${id} forecast` },
        );
      }
      expect(rows.some((l) => l.startsWith("tiny,"))).toBe(false);
      expect(r.stderr).toContain("not forecast (the checkpoint was not trained on them): tiny");
    }
  });

  it("--series picks one series and its scaler: the forecast of that series alone", async () => {
    const r = await run([
      "forecast",
      "--model",
      CKPT,
      "--csv",
      CSV,
      "--series",
      "south",
      "--json",
      "--no-chart",
    ]);
    expect(r.code, r.stderr).toBe(0);
    const got = JSON.parse(r.stdout) as { forecast: { date: string; value: number }[] };
    expect(got.forecast.map((f) => f.date)).toEqual(TR.forecasts.south.forecast.dates);
    expectClose(
      got.forecast.map((f) => f.value),
      TR.forecasts.south.forecast.values,
      { atol: 1e-5, rtol: 1e-7, what: "south forecast" },
    );
  });

  it("evaluates each series as a one-series evaluate does, and pools them by points", async () => {
    const all = await run(["evaluate", "--model", CKPT, "--csv", CSV, "--json"]);
    expect(all.code, all.stderr).toBe(0);
    type S = { mae: number; rmse: number; smape: number; mase: number };
    const j = JSON.parse(all.stdout) as {
      series: { id: string; windows: number; scores: { model: S; seasonal_naive: S } }[];
      skipped: { id: string; reason: string }[];
      overall: { points: number; scores: { model: S; seasonal_naive: S } };
      horizon: number;
    };
    expect(j.series.map((s) => s.id)).toEqual(["north", "south"]);
    expect(j.skipped).toEqual([{ id: "tiny", reason: "not a series the checkpoint was trained on" }]);
    for (const s of j.series) {
      const one = await run([
        "evaluate",
        "--model",
        CKPT,
        "--csv",
        CSV,
        "--series",
        s.id,
        "--json",
        "--no-classical",
      ]);
      expect(one.code, one.stderr).toBe(0);
      const o = JSON.parse(one.stdout) as { windows: number; scores: { model: S } };
      expect(s.windows).toBe(o.windows);
      expect(s.scores.model).toEqual(o.scores.model);
    }
    const points = j.series.map((s) => s.windows * j.horizon);
    expect(j.overall.points).toBe(points[0] + points[1]);
    const pooled = poolScores(j.series.map((s, i) => ({ scores: s.scores.model, points: points[i] })));
    // by hand: MAE, sMAPE, MASE point-weighted means; RMSE the root of the point-weighted mean square
    const [a, b] = j.series.map((s) => s.scores.model);
    const n = points[0] + points[1];
    expect(pooled.mae).toBeCloseTo((a.mae * points[0] + b.mae * points[1]) / n, 12);
    expect(pooled.rmse).toBeCloseTo(Math.sqrt((a.rmse ** 2 * points[0] + b.rmse ** 2 * points[1]) / n), 9);
    expect(j.overall.scores.model).toEqual(pooled);
    const text = await run(["evaluate", "--model", CKPT, "--csv", CSV]);
    expect(text.stdout).toMatch(/^north\s+\d+\s/m);
    expect(text.stdout).toContain("overall: 2 series");
  });
});

describe("panel checkpoints and the command line", () => {
  const damaged = (edit: (p: PanelJSON) => void): string => {
    const { tensors, metadata } = decodeSafetensors(new Uint8Array(readFileSync(CKPT)));
    const data = JSON.parse(metadata["recurrent.data"]);
    edit(data.panel);
    const path = join(tmp, `damaged-${Math.random().toString(36).slice(2)}.safetensors`);
    writeFileSync(path, encodeSafetensors(tensors, { ...metadata, "recurrent.data": JSON.stringify(data) }));
    return path;
  };

  it("checks data.panel on load: ids, scalers and splits of every series", () => {
    const load = (p: string) => decodeCheckpoint(new Uint8Array(readFileSync(p)), p);
    expect(load(CKPT).meta.data.panel?.series.map((s) => s.id)).toEqual(["north", "south"]);
    // used raw, it would scale every series as the first: the library asks which series
    expect(() => forecasterFrom(load(CKPT), "p.safetensors")).toThrow(
      /p.safetensors holds one model of 2 series .* pick one series/,
    );
    expect(() => exportForecastOnnx(load(CKPT))).toThrow(/pick a series/);
    const south = forecasterFrom(seriesCheckpoint(load(CKPT), "south"));
    expect(south.spec.scaler.toJSON()).toEqual(TR.panel.series[1].scaler);
    expect(() => load(damaged((p) => p.series.push({ ...p.series[0] })))).toThrow(
      /data.panel .series lists "north" twice/,
    );
    expect(() => load(damaged((p) => (p.series = [])))).toThrow(/data.panel has no series/);
    expect(() => load(damaged((p) => ((p.series[1].scaler as { scale: number[] }).scale = [-1])))).toThrow(
      CheckpointError,
    );
    expect(() => load(damaged((p) => ((p.series[1].scaler as { scale: number[] }).scale = [-1])))).toThrow(
      /\(series "south"\)/,
    );
    expect(() => load(damaged((p) => (p.series[0].test_range = [50, 70])))).toThrow(/series "north"/);
    expect(() => load(damaged((p) => (p.id_column = "value")))).toThrow(
      /also one of the model's input columns/,
    );
  });

  it("refuses what it cannot do, with what to do instead", async () => {
    const out = join(tmp, "x.safetensors");
    const hybrid = await run([
      "train",
      "--csv",
      CSV,
      "--id-column",
      "id",
      "--target",
      "value",
      "--fill",
      "linear",
      "--model",
      "hybrid",
      "--out",
      out,
    ]);
    expect(hybrid.code).toBe(2);
    expect(hybrid.stderr).toMatch(/--model hybrid fits one series at a time.*--model lstm.*--series ID/);
    const noId = await run(["train", "--csv", CSV, "--series", "north", "--target", "value", "--out", out]);
    expect(noId.code).toBe(2);
    expect(noId.stderr).toContain("name its id column with --id-column");
    const unknown = await run(["forecast", "--model", CKPT, "--csv", CSV, "--series", "east", "--no-chart"]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/was not trained on series "east"; the 2 series are "north", "south"/);
    const skipped = await run(["forecast", "--model", CKPT, "--csv", CSV, "--series", "tiny", "--no-chart"]);
    expect(skipped.stderr).toMatch(
      /has no model of series "tiny": it was skipped in training \(series too short/,
    );
    const onnx = join(tmp, "panel.onnx");
    const exp = await run(["export", "--model", CKPT, "--onnx", onnx]);
    expect(exp.code).toBe(2);
    expect(exp.stderr).toMatch(
      /one model of 2 series, each with its own scaling.*--series ID \(north, south\)/,
    );
    const expSouth = await run(["export", "--model", CKPT, "--onnx", onnx, "--series", "south", "--json"]);
    expect(expSouth.code, expSouth.stderr).toBe(0);
    const resume = await run([
      "train",
      "--csv",
      CSV,
      "--resume",
      CKPT,
      "--series",
      "north",
      "--id-column",
      "id",
    ]);
    expect(resume.code).toBe(1);
    expect(resume.stderr).toMatch(/one model of 2 series .* train it again with --id-column/);
    const one = join(FIXTURES, "ddp", "lstm_2proc.safetensors");
    const oneSeries = await run(["evaluate", "--model", one, "--csv", CSV, "--id-column", "id"]);
    expect(oneSeries.code).toBe(2);
    expect(oneSeries.stderr).toContain("was trained on one series: pick the series");
  });

  it("train --series trains on one series of the file; --emit-torch passes the id column to torch_train.py", async () => {
    const out = join(tmp, "north.safetensors");
    const r = await run([
      ...[
        "train",
        "--csv",
        CSV,
        "--id-column",
        "id",
        "--series",
        "north",
        "--target",
        "value",
        "--fill",
        "linear",
      ],
      ...["--model", "lstm", "--lookback", "6", "--horizon", "3", "--epochs", "1", "--out", out, "--json"],
    ]);
    expect(r.code, r.stderr).toBe(0);
    const ck = decodeCheckpoint(new Uint8Array(readFileSync(out)));
    expect(ck.meta.data.rows).toBe(60);
    expect(ck.meta.data.panel).toBeUndefined();
    const dir = join(tmp, "emit");
    const e = await run([
      ...["train", "--csv", CSV, "--id-column", "id", "--target", "value", "--fill", "linear"],
      ...["--lookback", "6", "--horizon", "3", "--emit-torch", dir],
    ]);
    expect(e.code, e.stderr).toBe(0);
    const cfg = JSON.parse(readFileSync(join(dir, "torch_train.json"), "utf8"));
    expect(cfg.data).toMatchObject({ csv: CSV, target: "value", id_column: "id", fill: "linear" });
    expect(cfg.settings.lookback).toBe(6);
  });
});
