// `recurrent train | forecast | evaluate` through the real command: `main(argv)` in this process with
// its output captured for most cases, and the built command in a child process for exit codes, messages
// without stack traces, Ctrl-C, and the full CO2 run that must beat seasonal naive.

import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decodeCheckpoint } from "../src/forecast/checkpoint.js";
import { prepareSeries } from "../src/forecast/data.js";
import {
  evaluateForecaster,
  forecastSeries,
  forecasterFrom,
  seriesSpecOf,
} from "../src/forecast/forecast.js";
import { FIXTURES, expectClose, loadFixture } from "./helpers.js";
import { type Run, runCli as run, spawnRun } from "./cli-run.js";

const ROOT = join(import.meta.dirname, "..");
const CO2 = join(ROOT, "datasets", "co2-concentration.csv");
const FDIR = join(FIXTURES, "forecast");
const SMALL_CSV = join(FDIR, "lstm_co2.csv"); // the last 120 months of CO2
const dir = mkdtempSync(join(tmpdir(), "recurrent-forecast-"));
const p = (name: string) => join(dir, name);

// the plain LSTM (the hybrid, the default, has its own tests in cli-hybrid.test.ts)
const SMALL = [
  "--model",
  "lstm",
  "--lookback",
  "12",
  "--horizon",
  "3",
  "--hidden",
  "4",
  "--val",
  "0.2",
  "--test",
  "0.2",
];

describe("recurrent train / forecast / evaluate: the happy path on a small series", () => {
  const ckpt = p("small.safetensors");
  let trained: Run;

  beforeAll(async () => {
    trained = await run([
      "train",
      "--csv",
      SMALL_CSV,
      "--target",
      "CO2",
      ...SMALL,
      "--epochs",
      "3",
      "--out",
      ckpt,
      "--loss-chart",
      p("loss"),
    ]);
  }, 120_000); // training and the first chart (loading vega and resvg) pass the 10 s hook default on a loaded machine

  it("train prints progress lines and a summary, and saves a checkpoint with the history", () => {
    expect(trained.code).toBe(0);
    expect(trained.stderr).toMatch(
      /^training on .*lstm_co2\.csv: target CO2, 120 rows, monthly 2010-05-01 to 2020-04-01\n/,
    );
    const lines = trained.stderr.split("\n").filter((l) => l.startsWith("epoch "));
    expect(lines.length).toBe(3);
    expect(lines[0]).toMatch(
      /^epoch {3}1\/3 {2}loss \d\.\d{3}e-\d+ {2}val \d\.\d{3}e-\d+ {2}lr 5\.0e-3 {2}[\d.]+s {2}\*best {2}\(at most [\d.ms]+ left\)$/,
    );
    expect(trained.stdout).toMatch(
      /model {6}LSTM\(1, 4\) -> Linear\(4, 3\) on CO2 \(lookback 12, horizon 3, window norm last, standard scaling\)/,
    );
    expect(trained.stdout).toContain(
      "split      train 72 rows (58 windows), validation 24 (22), test 24 (22)",
    );
    expect(trained.stdout).toContain(`saved      ${ckpt}`);
    const ck = decodeCheckpoint(new Uint8Array(readFileSync(ckpt)));
    expect(ck.meta.training.history.map((h) => h.epoch)).toEqual([1, 2, 3]);
    expect(ck.meta.training.stopped).toBe("max-epochs");
    expect(ck.meta.data.fill).toBeNull();
    expect(readFileSync(p("loss.png")).subarray(1, 4).toString()).toBe("PNG");
    expect(readFileSync(p("loss.svg"), "utf8")).toContain("<svg");
  });

  it("forecast prints date,value CSV equal to the library's forecast, and draws the chart", async () => {
    const r = await run(["forecast", "--model", ckpt, "--csv", SMALL_CSV, "--out", p("fc")]);
    expect(r.code).toBe(0);
    const ck = decodeCheckpoint(new Uint8Array(readFileSync(ckpt)));
    const f = forecasterFrom(ck);
    const want = forecastSeries(f, prepareSeries(readFileSync(SMALL_CSV, "utf8"), seriesSpecOf(ck)).series);
    const lines = r.stdout.trimEnd().split("\n");
    expect(lines[0]).toBe("date,value");
    expect(lines.slice(1).map((l) => l.split(",")[0])).toEqual(["2020-05-01", "2020-06-01", "2020-07-01"]);
    expect(lines.slice(1).map((l) => Math.fround(Number(l.split(",")[1])))).toEqual(Array.from(want.values));
    expect(r.stderr).toBe(`chart: ${p("fc")}.svg, ${p("fc")}.png\n`);
    expect(readFileSync(p("fc.png")).subarray(1, 4).toString()).toBe("PNG");
  });

  it("forecast --json, and beyond the horizon by feeding forecasts back", async () => {
    const r = await run([
      "forecast",
      "--model",
      ckpt,
      "--csv",
      SMALL_CSV,
      "--horizon",
      "7",
      "--json",
      "--no-chart",
    ]);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.steps).toBe(7);
    expect(j.recursive_steps).toBe(4);
    expect(j.trained_horizon).toBe(3);
    expect(j.last_observed.date).toBe("2020-04-01");
    expect(j.forecast.map((x: { date: string }) => x.date)).toEqual([
      "2020-05-01",
      "2020-06-01",
      "2020-07-01",
      "2020-08-01",
      "2020-09-01",
      "2020-10-01",
      "2020-11-01",
    ]);
    expect(j.chart).toBeNull();
    expect(existsSync(join(ROOT, "forecast.svg"))).toBe(false);
  });

  it("evaluate prints the table; --json has the library's scores on the test part", async () => {
    const t = await run(["evaluate", "--model", ckpt, "--csv", SMALL_CSV]);
    expect(t.code).toBe(0);
    expect(t.stdout).toMatch(
      /test part: 24 rows from 2018-05-01; 22 forecast origin\(s\) from 2018-05-01 to 2020-02-01, every 1 step\(s\); horizon 3; season 12/,
    );
    expect(t.stdout).toMatch(/forecaster +MAE +RMSE +sMAPE % +MASE/);
    expect(t.stdout).toMatch(/seasonal naive \(m=12\) +[\d.]+ +[\d.]+ +[\d.]+ +[\d.]+/);
    const r = await run([
      "evaluate",
      "--model",
      ckpt,
      "--csv",
      SMALL_CSV,
      "--json",
      "--season",
      "6",
      "--stride",
      "2",
    ]);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    const ck = decodeCheckpoint(new Uint8Array(readFileSync(ckpt)));
    const series = prepareSeries(readFileSync(SMALL_CSV, "utf8"), seriesSpecOf(ck)).series;
    const ev = evaluateForecaster(forecasterFrom(ck), series, { season: 6, stride: 2 });
    expect(j.scores).toEqual({
      model: ev.scores.model,
      naive: ev.scores.naive,
      seasonal_naive: ev.scores.seasonalNaive,
    });
    expect(j.windows).toBe(11);
    expect(j.season).toBe(6);
    expect(j.per_step_mae.model.length).toBe(3);
    const mean = j.per_step_mae.model.reduce((a: number, b: number) => a + b, 0) / 3;
    expect(mean).toBeCloseTo(ev.scores.model.mae, 10);
  });

  it("--resume continues the history and refuses to change the model", async () => {
    const copy = p("resume.safetensors");
    copyFileSync(ckpt, copy);
    const r = await run(["train", "--csv", SMALL_CSV, "--resume", copy, "--epochs", "2", "--json"]);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.history.map((h: { epoch: number }) => h.epoch)).toEqual([1, 2, 3, 4, 5]);
    expect(j.checkpoint).toBe(copy);
    const ck = decodeCheckpoint(new Uint8Array(readFileSync(copy)));
    expect(ck.meta.training.history.length).toBe(5);
    const bad = await run(["train", "--csv", SMALL_CSV, "--resume", copy, "--hidden", "8"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe(
      "error: --hidden 8 differs from the checkpoint being resumed (4); --resume takes the data and model settings from the checkpoint\n",
    );
    // the CSV passes the same checks as forecast and evaluate (app/session.ts): here its date step
    const daily = p("daily.csv");
    const days = Array.from({ length: 28 }, (_, i) => `2020-01-${String(i + 1).padStart(2, "0")},${400 + i}`);
    writeFileSync(daily, `Date,CO2\n${days.join("\n")}\n`);
    const step = await run(["train", "--csv", daily, "--resume", copy, "--epochs", "1"]);
    expect(step.code).toBe(1);
    expect(step.stderr).toBe(
      `error: the checkpoint ${copy} was trained on monthly data but ${daily} is daily\n`,
    );
  });

  it("the command's forecast from the PyTorch fixture checkpoint is PyTorch's forecast", async () => {
    const fx = loadFixture<Record<string, Record<string, { values: number[]; dates: string[] }>>>(
      "forecast",
      "forecast",
    );
    const r = await run([
      "forecast",
      "--model",
      join(FDIR, "lstm_co2.safetensors"),
      "--csv",
      SMALL_CSV,
      "--horizon",
      "8",
      "--json",
      "--no-chart",
    ]);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    const want = fx.lstm_co2["8"];
    expectClose(
      j.forecast.map((x: { value: number }) => x.value),
      want.values,
      { atol: 1e-5 * 420, rtol: 0 },
    );
    expect(j.forecast.map((x: { date: string }) => x.date)).toEqual(want.dates);
  });
});

describe("bad input: a clear message, exit code 1 (2 for usage), nothing lost", () => {
  const good = p("good.safetensors");
  const bad = (name: string, text: string) => {
    writeFileSync(p(name), text);
    return p(name);
  };
  beforeAll(async () => {
    const r = await run([
      "train",
      "--csv",
      SMALL_CSV,
      "--target",
      "CO2",
      ...SMALL,
      "--epochs",
      "1",
      "--out",
      good,
    ]);
    expect(r.code).toBe(0);
  }, 120_000);
  const expectError = (r: Run, code: number, message: string | RegExp) => {
    expect(r.code).toBe(code);
    if (typeof message === "string") expect(r.stderr).toContain(`error: ${message}`);
    else expect(r.stderr).toMatch(message);
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
  };
  const train = (csv: string, ...more: string[]) =>
    run([
      "train",
      "--model",
      "lstm",
      "--csv",
      csv,
      "--target",
      "y",
      "--lookback",
      "3",
      "--horizon",
      "2",
      "--out",
      p("x.safetensors"),
      ...more,
    ]);

  it("missing, empty and directory CSV files", async () => {
    expectError(await train(p("nope.csv")), 1, `cannot read the CSV file ${p("nope.csv")}: no such file`);
    expectError(
      await train(bad("empty.csv", "")),
      1,
      "CSV is empty: expected a header line and at least one data row",
    );
    expectError(await train(dir), 1, `cannot read the CSV file ${dir}: it is a directory, not a file`);
  });

  it("a non-numeric value, by line and column", async () => {
    const csv = bad("nonnum.csv", "t,y\n1,1.5\n2,2.5\n3,abc\n4,1\n");
    expectError(await train(csv), 1, 'non-numeric value "abc" in column "y" on line 4');
  });

  it("missing values unless --fill", async () => {
    const rows = Array.from({ length: 40 }, (_, i) => `${i},${i === 7 ? "NA" : Math.sin(i)}`);
    const csv = bad("missing.csv", `t,y\n${rows.join("\n")}\n`);
    expectError(
      await train(csv),
      1,
      'missing value in column "y" on line 9; pass --fill ffill, linear or drop to fill or drop missing values',
    );
    const r = await train(
      csv,
      "--fill",
      "ffill",
      "--epochs",
      "1",
      "--hidden",
      "2",
      "--val",
      "0",
      "--test",
      "0",
    );
    expect(r.code).toBe(0);
  });

  it("missing dates unless --fill", async () => {
    expectError(
      await run(["train", "--csv", CO2, "--target", "CO2", "--out", p("x.safetensors")]),
      1,
      'the monthly dates in column "Date" skip 5 step(s) in 3 place(s), first between 1958-05-01 (line 4) and 1958-07-01 (line 5); pass --fill ffill, linear or drop to insert the missing dates and fill them',
    );
  });

  it("an unknown column lists the columns", async () => {
    expectError(
      await run(["train", "--csv", CO2, "--target", "co2", "--out", p("x.safetensors")]),
      1,
      'unknown column "co2"; the columns are: Date, CO2, adjusted CO2',
    );
    expectError(
      await run([
        "train",
        "--csv",
        CO2,
        "--target",
        "CO2",
        "--features",
        "wind",
        "--fill",
        "linear",
        "--out",
        p("x.safetensors"),
      ]),
      1,
      'unknown column "wind"; the columns are: Date, CO2, adjusted CO2',
    );
  });

  it("a series too short for lookback + horizon", async () => {
    const csv = bad("short.csv", "t,y\n1,1\n2,2\n3,3\n4,4\n");
    expectError(
      await train(csv),
      1,
      "series too short: 4 row(s), but one window needs lookback 3 + horizon 2 = 5 rows",
    );
    expectError(
      await run([
        "forecast",
        "--model",
        good,
        "--csv",
        bad("short2.csv", "Date,CO2\n2020-01-01,1\n2020-02-01,2\n"),
        "--no-chart",
      ]),
      1,
      "series too short: the model reads the last 12 rows (its lookback) but the series has 2",
    );
  });

  it("corrupt, truncated, empty, missing and foreign checkpoints", async () => {
    const bytes = readFileSync(good);
    const fc = (model: string) => run(["forecast", "--model", model, "--csv", SMALL_CSV, "--no-chart"]);
    expectError(
      await fc(p("none.safetensors")),
      1,
      `cannot read the checkpoint ${p("none.safetensors")}: no such file`,
    );
    expectError(
      await fc(bad("empty.safetensors", "")),
      1,
      `the checkpoint ${p("empty.safetensors")} is empty (0 bytes)`,
    );
    writeFileSync(p("trunc.safetensors"), bytes.subarray(0, bytes.length - 100));
    expectError(
      await fc(p("trunc.safetensors")),
      1,
      new RegExp(
        `error: ${p("trunc.safetensors")} is not a readable safetensors file \\(damaged or truncated\\?\\): `,
      ),
    );
    expectError(
      await fc(bad("junk.safetensors", "this is not a checkpoint at all")),
      1,
      /is not a readable safetensors file/,
    );
    copyFileSync(join(FIXTURES, "rnn", "gru_1l.safetensors"), p("foreign.safetensors"));
    expectError(
      await fc(p("foreign.safetensors")),
      1,
      `${p("foreign.safetensors")} is a safetensors file but not a recurrent forecast checkpoint`,
    );
    expectError(
      await run(["evaluate", "--model", p("foreign.safetensors"), "--csv", SMALL_CSV]),
      1,
      /^error: .*foreign\.safetensors is a safetensors file but not a recurrent forecast checkpoint: /,
    );
  });

  // the checks themselves are app/session.ts's (test/app/session.test.ts); here, that the command shows them
  it("a checkpoint whose columns the CSV does not have", async () => {
    const csv = bad("renamed.csv", readFileSync(SMALL_CSV, "utf8").replace("Date,CO2,", "Date,co2,"));
    expectError(
      await run(["evaluate", "--model", good, "--csv", csv]),
      1,
      `the checkpoint ${good} reads columns CO2 with dates in "Date", which ${csv} does not match: unknown column "CO2"; the columns are: Date, co2, adjusted CO2`,
    );
  });

  it("a multivariate model asked beyond its horizon", async () => {
    expectError(
      await run([
        "forecast",
        "--model",
        join(FDIR, "gru_weather.safetensors"),
        "--csv",
        join(FDIR, "gru_weather.csv"),
        "--horizon",
        "6",
        "--no-chart",
      ]),
      1,
      "this model forecasts 4 step(s) at once and reads 3 columns; going beyond 4 steps would need future values of temp_min, wind, which it does not forecast. Use --horizon 4 or less",
    );
  });

  it("a non-finite loss stops training, says where, and leaves the last good checkpoint as it was", async () => {
    const copy = p("kept.safetensors");
    copyFileSync(good, copy);
    const before = readFileSync(copy);
    const r = await run([
      "train",
      "--csv",
      SMALL_CSV,
      "--target",
      "CO2",
      ...SMALL,
      "--lr",
      "1e30",
      "--clip",
      "0",
      "--out",
      copy,
    ]);
    expectError(
      r,
      1,
      `training stopped: the loss became Infinity at epoch 1, batch 2 (learning rate 1e+30); try a smaller --lr or --clip 1. No epoch finished, so no checkpoint was written (${copy} was left as it was)`,
    );
    expect(readFileSync(copy).equals(before)).toBe(true);
  });

  it("usage errors exit with 2", async () => {
    expectError(
      await run(["train", "--csv", SMALL_CSV, "--out", p("x.safetensors")]),
      2,
      "train needs --target COLUMN",
    );
    expectError(
      await run(["train", "--csv", SMALL_CSV, "--target", "CO2"]),
      2,
      "train needs --out FILE.safetensors",
    );
    expectError(
      await run(["train", "--csv", SMALL_CSV, "--target", "CO2", "--lookback", "0", "--out", "x"]),
      2,
      "option --lookback expects a positive integer, got '0'",
    );
    expectError(
      await run(["train", "--csv", SMALL_CSV, "--target", "CO2", "--val", "1.5", "--out", "x"]),
      2,
      "option --val expects a fraction in [0, 1) or a whole number of rows, got '1.5'",
    );
    expectError(
      await run([
        "train",
        "--csv",
        SMALL_CSV,
        "--target",
        "CO2",
        "--dropout",
        "0.2",
        "--out",
        p("x.safetensors"),
      ]),
      2,
      "--dropout acts between stacked recurrent layers; it needs --layers 2 or more (got --layers 1)",
    );
    expectError(
      await run(["train", "--csv", SMALL_CSV, "--target", "CO2", "--cell", "tcn", "--out", "x"]),
      2,
      /argument 'tcn' is invalid/,
    );
    expectError(
      await run(["forecast", "--csv", SMALL_CSV]),
      2,
      /required option '--model <checkpoint>' not specified/,
    );
    expectError(
      await run(["train", "--csv", SMALL_CSV, "--target", "CO2", "--out", p("no/such/dir/m.safetensors")]),
      1,
      `cannot write the checkpoint ${p("no/such/dir/m.safetensors")}: the folder ${p("no/such/dir")} does not exist`,
    );
  });

  it("each command has help with examples", async () => {
    for (const cmd of ["train", "forecast", "evaluate"]) {
      const r = await run([cmd, "--help"]);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain(`Usage: recurrent ${cmd} [options]`);
      expect(r.stdout).toContain("Examples:");
    }
  });
});

describe("the real process", () => {
  it("exit codes 1 and 2 with the message and no stack trace", async () => {
    const [missing, usage, foreign, nonFinite] = await Promise.all([
      spawnRun(["train", "--csv", p("nope.csv"), "--target", "y", "--out", p("x.safetensors")]),
      spawnRun(["evaluate", "--model", "m", "--csv", SMALL_CSV, "--stride", "0"]),
      spawnRun(["evaluate", "--model", join(FIXTURES, "rnn", "gru_1l.safetensors"), "--csv", SMALL_CSV]),
      spawnRun([
        "train",
        "--csv",
        SMALL_CSV,
        "--target",
        "CO2",
        ...SMALL,
        "--lr",
        "1e30",
        "--out",
        p("nf.safetensors"),
      ]),
    ]);
    expect(missing).toEqual({
      code: 1,
      stdout: "",
      stderr: `error: cannot read the CSV file ${p("nope.csv")}: no such file\n`,
    });
    expect(usage).toEqual({
      code: 2,
      stdout: "",
      stderr: "error: option --stride expects a positive integer, got '0'\n",
    });
    expect(foreign.code).toBe(1);
    expect(foreign.stderr).toMatch(
      /^error: .*gru_1l\.safetensors is a safetensors file but not a recurrent forecast checkpoint: .*\n$/,
    );
    expect(nonFinite.code).toBe(1);
    expect(nonFinite.stderr).toMatch(
      /\nerror: training stopped: the (loss|gradient norm) became (Infinity|NaN) at epoch 1, batch \d+ /,
    );
    expect(existsSync(p("nf.safetensors"))).toBe(false);
    for (const r of [missing, usage, foreign, nonFinite]) expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it("Ctrl-C saves the best checkpoint so far and exits with 130", async () => {
    const out = p("interrupted.safetensors");
    let sent = false;
    const r = await spawnRun(
      [
        "train",
        "--csv",
        SMALL_CSV,
        "--target",
        "CO2",
        ...SMALL,
        "--epochs",
        "100000",
        "--patience",
        "0",
        "--out",
        out,
      ],
      (err, kill) => {
        if (!sent && /epoch {3}3\//.test(err)) {
          sent = true;
          kill("SIGINT");
        }
      },
    );
    expect(sent).toBe(true);
    expect(r.code).toBe(130);
    expect(r.stderr).toContain("interrupted: stopping after this batch and saving the best checkpoint");
    expect(r.stderr).toMatch(
      new RegExp(
        `error: interrupted after \\d+ epoch\\(s\\); the best checkpoint so far \\(epoch \\d+\\) is saved in ${out.replace(/[.]/g, "\\.")}\\n$`,
      ),
    );
    const ck = decodeCheckpoint(new Uint8Array(readFileSync(out)));
    expect(ck.meta.training.stopped).toBe("interrupted");
    expect(ck.meta.training.history.length).toBeGreaterThanOrEqual(3);
  });

  it("on Mauna Loa CO2 the default configuration beats seasonal naive on MASE over 12 months", async () => {
    const out = p("co2.safetensors");
    const t0 = performance.now();
    const tr = await spawnRun([
      "train",
      "--csv",
      CO2,
      "--target",
      "CO2",
      "--fill",
      "linear",
      "--out",
      out,
      "--json",
    ]);
    const seconds = (performance.now() - t0) / 1000;
    expect(tr.code).toBe(0);
    const summary = JSON.parse(tr.stdout);
    expect(summary.model).toEqual({
      cell: "lstm",
      input_size: 1,
      hidden_size: 32,
      num_layers: 1,
      dropout: 0,
      batch_first: true,
      horizon: 12,
    });
    expect(summary.data.lookback).toBe(24);
    const ev = await spawnRun(["evaluate", "--model", out, "--csv", CO2, "--json"]);
    expect(ev.code).toBe(0);
    const j = JSON.parse(ev.stdout);
    expect(j.horizon).toBe(12);
    expect(j.season).toBe(12);
    expect(j.test_start_date).toBe("2011-01-01");
    expect(j.scores.model.mase).toBeLessThan(j.scores.seasonal_naive.mase);
    expect(j.scores.model.mase).toBeLessThan(j.scores.naive.mase);
    const fc = await spawnRun(["forecast", "--model", out, "--csv", CO2, "--out", p("co2-forecast")]);
    expect(fc.code).toBe(0);
    // the default (hybrid) model adds its 80 % and 95 % intervals
    expect(fc.stdout.split("\n")[0]).toBe("date,value,lower_80,upper_80,lower_95,upper_95");
    expect(fc.stdout.split("\n")[1]).toMatch(/^2020-05-01(,4\d\d\.\d+){5}$/);
    expect(readFileSync(p("co2-forecast.png")).subarray(1, 4).toString()).toBe("PNG");
    process.stderr.write(
      `CO2 default run: ${summary.epochs_run} epochs, ${seconds.toFixed(1)} s with process start; MASE model ${j.scores.model.mase.toFixed(3)}, seasonal naive ${j.scores.seasonal_naive.mase.toFixed(3)}, naive ${j.scores.naive.mase.toFixed(3)}\n`,
    );
  }, 300_000);
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});
