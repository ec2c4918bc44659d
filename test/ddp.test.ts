// Checkpoints trained by PyTorch's DistributedDataParallel (scripts/torch_train.py, two and three
// processes) are read by `recurrent forecast` unchanged and give PyTorch's forecast; their data record is
// what recurrent's own reading of the CSV gives; `train --resume` continues them; and `train --emit-torch`
// writes the script's settings. Fixtures: test/fixtures/gen/ddp.py (no Python needed here).

import { copyFileSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { MinMaxScaler, StandardScaler } from "../src/data/scaler.js";
import { decodeCheckpoint } from "../src/forecast/checkpoint.js";
import { prepareSeries } from "../src/forecast/data.js";
import { originsIn, planSplit } from "../src/forecast/train.js";
import { FIXTURES, expectClose, loadFixture } from "./helpers.js";
import { runCli as run } from "./cli-run.js";

const DIR = join(FIXTURES, "ddp");
const CSV = join(DIR, "co2_head.csv");
const CO2 = join(import.meta.dirname, "..", "datasets", "co2-concentration.csv");
const tmp = mkdtempSync(join(tmpdir(), "recurrent-ddp-"));

interface Case {
  args: string[];
  nproc: number;
  epochs_run: number;
  world_size: number;
  forecast: { dates: string[]; values: number[] };
  forecast_2: { dates: string[]; values: number[] };
}
const cases = loadFixture<Record<string, Case>>("ddp", "forecasts");

const argOf = (c: Case, flag: string): string | undefined => {
  const i = c.args.indexOf(flag);
  return i < 0 ? undefined : c.args[i + 1];
};

describe("checkpoints written by scripts/torch_train.py under DDP", () => {
  it("has both cases, trained by 2 and 3 processes", () => {
    expect(Object.keys(cases).sort()).toEqual(["lstm2_feature_3proc", "lstm_2proc"]);
    expect(cases.lstm_2proc.world_size).toBe(2);
    expect(cases.lstm2_feature_3proc.world_size).toBe(3);
  });

  for (const [name, c] of Object.entries(cases)) {
    const ckptPath = join(DIR, `${name}.safetensors`);

    it(`${name}: recurrent forecast gives PyTorch's forecast (1e-5)`, async () => {
      for (const [steps, want] of [
        [null, c.forecast],
        [2, c.forecast_2],
      ] as const) {
        const r = await run([
          "forecast",
          "--model",
          ckptPath,
          "--csv",
          CSV,
          "--json",
          "--no-chart",
          ...(steps === null ? [] : ["--horizon", String(steps)]),
        ]);
        expect(r.code, r.stderr).toBe(0);
        const got = JSON.parse(r.stdout) as { forecast: { date: string; value: number }[] };
        expect(got.forecast.map((f) => f.date)).toEqual(want.dates);
        expectClose(
          got.forecast.map((f) => f.value),
          want.values,
          { atol: 1e-5, rtol: 0, what: `${name} forecast` },
        );
      }
    });

    it(`${name}: its data record is recurrent's reading of the same CSV`, () => {
      const ck = decodeCheckpoint(new Uint8Array(readFileSync(ckptPath)), ckptPath);
      const feature = argOf(c, "--features");
      const p = prepareSeries(readFileSync(CSV, "utf8"), {
        target: "CO2",
        features: feature === undefined ? undefined : [feature],
        fill: "linear",
      });
      const T = p.series.shape[0];
      const d = ck.meta.data;
      // 160 file rows plus the 5 inserted months
      expect(T).toBe(165);
      expect(p.insertedDates).toBe(5);
      expect(d.rows).toBe(T);
      expect(d.columns).toEqual(p.series.columns);
      expect(d.date_column).toBe("Date");
      expect(d.date_format).toEqual(p.dateFormat);
      expect(d.date_step).toEqual(p.step);
      expect(d.first_date).toBe("1958-03-01");
      expect(d.last_date).toBe("1971-11-01");
      const L = Number(argOf(c, "--lookback"));
      const H = Number(argOf(c, "--horizon"));
      const split = planSplit(T, L, H, 0.15, 0.15);
      const s = ck.meta.split;
      expect(s.train_range).toEqual([split.train.start, split.train.end]);
      expect(s.val_range).toEqual([split.val.start, split.val.end]);
      expect(s.test_range).toEqual([split.test.start, split.test.end]);
      expect(s.windows.train).toBe(originsIn(split.train.start, split.train.end, L, H).length);
      expect(s.windows.val).toBe(originsIn(split.val.start, split.val.end, L, H).length);
      const kind = argOf(c, "--scaler") ?? "standard";
      const scaler = kind === "minmax" ? new MinMaxScaler() : new StandardScaler();
      scaler.fit({ data: p.series.data, shape: p.series.shape }, { end: split.train.end });
      const want = scaler.toJSON() as unknown as Record<string, unknown>;
      const got = d.scaler as unknown as Record<string, unknown>;
      expect(got.type).toBe(want.type);
      for (const k of Object.keys(want).filter((k) => k !== "type")) {
        expectClose(got[k] as number[], want[k] as number[], { atol: 0, rtol: 1e-12, what: `scaler.${k}` });
      }
      const t = ck.meta.training;
      expect(t.history.map((h) => h.epoch)).toEqual(Array.from({ length: c.epochs_run }, (_, i) => i + 1));
      expect(t.best_epoch).toBeGreaterThanOrEqual(1);
      expect((t as unknown as { trainer: { world_size: number } }).trainer.world_size).toBe(c.nproc);
      expect(ck.optimizer?.param_groups[0].params).toEqual(
        [0, 1, 2, 3, 4, 5, 6, 7, 8, 9].slice(0, 4 * ck.meta.model.num_layers + 2),
      );
      expect(ck.scheduler?.last_epoch).toBe(c.epochs_run);
    });

    it(`${name}: recurrent train --resume continues it with its optimizer and scheduler state`, async () => {
      const copy = join(tmp, `${name}.safetensors`);
      copyFileSync(ckptPath, copy);
      const before = decodeCheckpoint(new Uint8Array(readFileSync(copy)));
      const r = await run(["train", "--csv", CSV, "--resume", copy, "--epochs", "1"]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toContain(`resuming ${copy} (${c.epochs_run} epochs run`);
      const after = decodeCheckpoint(new Uint8Array(readFileSync(copy)));
      expect(after.meta.training.history.length).toBe(c.epochs_run + 1);
      expect(after.meta.training.history[c.epochs_run].lr).toBe(before.optimizer?.param_groups[0].lr);
      expect(after.meta.model).toEqual(before.meta.model);
    });
  }

  it("recurrent evaluate scores a DDP checkpoint against the baselines", async () => {
    const r = await run(["evaluate", "--model", join(DIR, "lstm_2proc.safetensors"), "--csv", CSV, "--json"]);
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout) as {
      test_start_date: string;
      windows: number;
      scores: { model: { mase: number } };
    };
    expect(j.test_start_date).toBe("1969-11-01");
    expect(j.windows).toBeGreaterThan(0);
    expect(Number.isFinite(j.scores.model.mase)).toBe(true);
  });
});

describe("recurrent train --emit-torch", () => {
  it("writes the run's settings, which for a default run are the script's defaults", async () => {
    const out = join(tmp, "emit");
    const r = await run(["train", "--csv", CO2, "--target", "CO2", "--fill", "linear", "--emit-torch", out]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain("scripts/torch_train.py --config");
    const cfg = JSON.parse(readFileSync(join(out, "torch_train.json"), "utf8"));
    expect(cfg.format).toBe("recurrent.torch_train");
    expect(cfg.version).toBe(1);
    expect(cfg.data).toEqual({ csv: CO2, target: "CO2", features: [], date_column: "Date", fill: "linear" });
    expect(cfg.out).toBeNull();
    expect(cfg.settings).toEqual(loadFixture("ddp", "defaults"));
  });

  it("carries the options given, and refuses --resume", async () => {
    const out = join(tmp, "emit2");
    const r = await run([
      ...["train", "--csv", CO2, "--target", "CO2", "--features", "adjusted CO2", "--fill", "ffill"],
      ...["--cell", "gru", "--layers", "2", "--dropout", "0.2", "--epochs", "7", "--seed", "5"],
      ...["--date-column", "none", "--emit-torch", out, "--out", "m.safetensors"],
    ]);
    expect(r.code, r.stderr).toBe(0);
    const cfg = JSON.parse(readFileSync(join(out, "torch_train.json"), "utf8"));
    expect(cfg.data).toMatchObject({ features: ["adjusted CO2"], date_column: false, fill: "ffill" });
    expect(cfg.settings).toMatchObject({ cell: "gru", layers: 2, dropout: 0.2, epochs: 7, seed: 5 });
    expect(cfg.out).toBe("m.safetensors");
    const bad = await run([
      "train",
      "--csv",
      CO2,
      "--resume",
      join(DIR, "lstm_2proc.safetensors"),
      "--emit-torch",
      out,
    ]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("--emit-torch writes the settings of a fresh run");
  });

  it("stands for --model lstm, and refuses another model given explicitly", async () => {
    const bad = await run([
      ...["train", "--csv", CO2, "--target", "CO2", "--fill", "linear"],
      ...["--model", "hybrid", "--emit-torch", join(tmp, "emit-hybrid")],
    ]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("--emit-torch writes settings for the LSTM forecaster (--model lstm)");
    expect(bad.stderr).toContain("got --model hybrid");
  });

  it("checks the split before writing anything", async () => {
    const out = join(tmp, "emit3");
    const r = await run([
      "train",
      "--csv",
      CSV,
      "--target",
      "CO2",
      "--fill",
      "linear",
      "--lookback",
      "200",
      "--emit-torch",
      out,
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("series too short");
  });
});
