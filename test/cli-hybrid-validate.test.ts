// Hybrid, ETS and ARIMA checkpoints from strangers, through the real command (`main(argv)` in this process):
// every field is checked against the weights and sane bounds before the ensemble is built (a clear
// message naming the file and the field, exit 1), and a forecast that would not be finite is refused
// (exit 1, no file written). The fixtures are scripts/fuzz-fixtures.ts's; the numbered cases are what
// the fuzz harness (test/fuzz) found before these checks.

import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Tensor } from "../src/core/tensor.js";
import { decodeCheckpoint, encodeCheckpoint } from "../src/forecast/checkpoint.js";
import { arimaCheckpoint } from "../src/forecast/hybrid/run.js";
import { etsModel } from "../src/forecast/classical/ets.js";
import { column, prepareSeries } from "../src/forecast/data.js";
import { decodeSafetensors, encodeSafetensors } from "../src/io/safetensors.js";
import { FIXTURES } from "./helpers.js";
import { runCli as run } from "./cli-run.js";

const HYBRID = join(FIXTURES, "fuzz", "hybrid_co2.safetensors"); // 2 members, hidden 4, lookback 12, horizon 6
const HYBRID_CSV = join(FIXTURES, "forecast", "lstm_co2.csv"); // 120 months of CO2
const ETS = join(FIXTURES, "fuzz", "ets_co2.safetensors"); // ETS(M,N,A), horizon 6
const ETS_CSV = join(FIXTURES, "fuzz", "ets_co2.csv"); // the first 36 of those months
const dir = mkdtempSync(join(tmpdir(), "recurrent-hybrid-validate-"));
const p = (name: string) => join(dir, name);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

type Parts = { tensors: Record<string, Tensor>; metadata: Record<string, string> };
// metadata sections as parsed JSON, edited freely by each case
// biome-ignore lint/suspicious/noExplicitAny: a test edits arbitrary JSON
type Json = any;
const read = (path: string): Parts => decodeSafetensors(new Uint8Array(readFileSync(path)));

/** Writes the fixture with `edit` applied to its parts (metadata sections as parsed JSON). */
function variant(
  from: string,
  name: string,
  edit: (meta: Record<string, Json>, tensors: Record<string, Tensor>) => void,
): string {
  const { tensors, metadata } = read(from);
  const meta: Record<string, Json> = {};
  for (const [k, v] of Object.entries(metadata)) meta[k] = v.startsWith("{") ? JSON.parse(v) : v;
  edit(meta, tensors);
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(meta)) out[k] = typeof v === "string" ? v : JSON.stringify(v);
  writeFileSync(p(name), encodeSafetensors(tensors, out));
  return p(name);
}

/** The same, with one metadata field written as raw JSON text (for 1e308, -0 and the like). */
function rawField(from: string, name: string, key: string, path: string[], raw: string): string {
  const { tensors, metadata } = read(from);
  const j = JSON.parse(metadata[key]);
  let o = j;
  for (const k of path.slice(0, -1)) o = o[k];
  o[path[path.length - 1]] = "__RAW__";
  const text = JSON.stringify(j).replace('"__RAW__"', raw);
  writeFileSync(p(name), encodeSafetensors(tensors, { ...metadata, [key]: text }));
  return p(name);
}

const forecast = (model: string, csv: string, ...more: string[]) =>
  run(["forecast", "--model", model, "--csv", csv, "--no-chart", ...more]);

/** Runs forecast (and evaluate) and expects exit 1 with `message` and nothing on stdout. */
async function refused(model: string, csv: string, message: RegExp, commands = ["forecast"]) {
  for (const cmd of commands) {
    const r =
      cmd === "forecast"
        ? await forecast(model, csv)
        : await run(["evaluate", "--model", model, "--csv", csv, "--no-classical"]);
    expect(r.code, `${cmd}: ${r.stderr}`).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(/^error: /);
    expect(r.stderr).toMatch(message);
    // no engine words (a raw JavaScript error) reach the user
    expect(r.stderr).not.toMatch(
      /Cannot read propert|is not a function|Invalid typed array|out of bounds|undefined/,
    );
  }
}

const H = "recurrent.hybrid";

describe("the fixtures themselves", () => {
  it("the hybrid forecasts 6 finite steps with intervals, bounds around the point", async () => {
    const r = await forecast(HYBRID, HYBRID_CSV, "--json");
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.forecast).toHaveLength(6);
    for (const row of j.forecast) {
      expect(Number.isFinite(row.value)).toBe(true);
      expect(row.lower_95).toBeLessThanOrEqual(row.lower_80);
      expect(row.lower_80).toBeLessThanOrEqual(row.value);
      expect(row.value).toBeLessThanOrEqual(row.upper_80);
      expect(row.upper_80).toBeLessThanOrEqual(row.upper_95);
      // CO2 in 2020 was 410-420 ppm: a forecast of it is near there
      expect(row.value).toBeGreaterThan(380);
      expect(row.value).toBeLessThan(450);
    }
  });

  it("the ETS checkpoint forecasts what etsModel forecasts with its parameters (oracle: the filter run here)", async () => {
    const r = await forecast(ETS, ETS_CSV, "--json");
    expect(r.code).toBe(0);
    const c = decodeCheckpoint(new Uint8Array(readFileSync(ETS)));
    const e = c.meta.ets!;
    expect(e.spec).toBe("ETS(M,N,A)");
    const y = column(prepareSeries(readFileSync(ETS_CSV, "utf8"), { target: "CO2" }).series, 0);
    const want = etsModel(Array.from(y), e.type, e.params, e.period).forecast(6);
    JSON.parse(r.stdout).forecast.forEach((row: { value: number }, h: number) => {
      expect(Math.abs(row.value - want.mean[h])).toBeLessThan(1e-4 * want.mean[h]);
    });
  });
});

describe("hybrid: the config is checked against the weights before the ensemble is built", () => {
  it.each([
    ["members", "1e9", /hybrid\.config\.members = 1000000000; expected 2, as the weights hold 2 members/],
    ["members", "1000000", /hybrid\.config\.members = 1000000; expected 2/],
    ["hidden", "1e308", /hybrid\.config\.hidden = 1e308; expected 4, as the weights hold a hidden size of 4/],
    ["layers", "1e6", /hybrid\.config\.layers = 1000000; expected 1, as the weights hold 1 layer/],
    ["horizon", "0", /hybrid\.config\.horizon = 0; expected 6, as the weights hold 6 outputs/],
    ["season", "1.5", /hybrid\.config\.season = 1\.5; expected 12, as the weights hold a season_init of 12/],
    ["trend", "false", /hybrid\.config\.trend = false; expected true, as the weights hold beta_logit/],
    ["lookback", "-1", /hybrid\.config\.lookback = -1; expected an integer in \[1, 1000000\]/],
    ["lookback", "1.5", /hybrid\.config\.lookback = 1\.5; expected an integer/],
    ["mode", '"cubic"', /hybrid\.config\.mode = "cubic"; expected one of "multiplicative", "additive"/],
    [
      "inputTerms",
      '[{"period":7,"harmonics":1e9}]',
      /hybrid\.config\.inputTerms\[0\]\.harmonics = 1000000000; expected an integer in \[1, 1000\]/,
    ],
    ["stepMs", "-1", /hybrid\.config\.stepMs = -1; expected null \(time is counted in rows\)/],
  ])("config.%s = %s", async (field, raw, message) => {
    const path = rawField(HYBRID, `cfg-${field}-${raw.length}.safetensors`, H, ["config", field], raw);
    await refused(path, HYBRID_CSV, message, ["forecast", "evaluate"]);
  });

  it("a scale that cannot be inverted in float32 (1e-300) and an offset on a multiplicative model", async () => {
    let path = rawField(HYBRID, "scale.safetensors", H, ["config", "scale", "scale"], "1e-300");
    await refused(
      path,
      HYBRID_CSV,
      /hybrid\.config\.scale\.scale = 1e-300; expected a positive float32 number/,
    );
    path = rawField(HYBRID, "offset.safetensors", H, ["config", "scale", "offset"], "5");
    await refused(
      path,
      HYBRID_CSV,
      /hybrid\.config\.scale\.offset = 5; expected 0 for a multiplicative model/,
    );
  });

  it("the data section must hold the hybrid's working units (its scaler)", async () => {
    const path = variant(HYBRID, "scaler.safetensors", (m) => {
      m["recurrent.data"].scaler.scale = [1];
    });
    await refused(path, HYBRID_CSV, /metadata says data\.scaler = .*; expected the hybrid's working units/);
  });

  it("interval quantiles: one row per step, four increasing finite numbers", async () => {
    let path = variant(HYBRID, "q-rows.safetensors", (m) => {
      m[H].intervals.quantiles.pop();
    });
    await refused(
      path,
      HYBRID_CSV,
      /hybrid\.intervals\.quantiles = .*; expected 6 rows \(the horizon\) of 4 finite/,
    );
    path = variant(HYBRID, "q-order.safetensors", (m) => {
      m[H].intervals.quantiles[2] = [1, 0, 2, 3];
    });
    await refused(path, HYBRID_CSV, /hybrid\.intervals\.quantiles\[2\] = \[1,0,2,3\]; expected 4 increasing/);
    path = rawField(HYBRID, "q-big.safetensors", H, ["intervals", "quantiles", "0"], "[0,1,2,1e308]");
    await refused(
      path,
      HYBRID_CSV,
      /quantiles\[0\] = \[0,1,2,1e\+?308\]; expected 4 increasing .* at most 700/,
    );
  });

  it("#3054: data.horizon = 0 (was a raw JavaScript error)", async () => {
    const path = rawField(HYBRID, "d-horizon.safetensors", "recurrent.data", ["horizon"], "0");
    await refused(path, HYBRID_CSV, /metadata says data\.horizon = 0; expected 6, the weights' horizon/, [
      "forecast",
      "evaluate",
    ]);
  });

  it("#4326: data.target = null (was a raw JavaScript error)", async () => {
    const path = rawField(HYBRID, "d-target.safetensors", "recurrent.data", ["target"], "null");
    await refused(path, HYBRID_CSV, /metadata says data\.target = null; expected a string/, [
      "forecast",
      "evaluate",
    ]);
  });

  it("the split must cover the rows in order (test_range = -1)", async () => {
    const path = rawField(HYBRID, "s-test.safetensors", "recurrent.split", ["test_range"], "-1");
    await refused(path, HYBRID_CSV, /metadata says split\.test_range = -1; expected \[start, end\)/);
  });

  it("an optimizer state (nothing resumes a hybrid) and a file that is both hybrid and ETS", async () => {
    let path = variant(HYBRID, "opt.safetensors", (m) => {
      m["recurrent.optimizer"] = { state: {}, param_groups: [] };
    });
    await refused(
      path,
      HYBRID_CSV,
      /holds recurrent\.optimizer, but a hybrid checkpoint has no optimizer state/,
    );
    path = variant(HYBRID, "both.safetensors", (m) => {
      m["recurrent.ets"] = JSON.parse(read(ETS).metadata["recurrent.ets"]);
    });
    await refused(path, HYBRID_CSV, /holds both recurrent\.hybrid and recurrent\.ets/);
  });
});

describe("hybrid: the weights are read first", () => {
  it("a name no hybrid has, a gap in the members, a member missing a tensor", async () => {
    let path = variant(HYBRID, "w-extra.safetensors", (_, t) => {
      t["members.0.extra"] = new Tensor(Float32Array.of(1), [1]);
    });
    await refused(path, HYBRID_CSV, /the weights hold members\.1\.extra|members\.0\.extra/);
    path = variant(HYBRID, "w-name.safetensors", (_, t) => {
      t["rnn.weight_ih_l0"] = new Tensor(Float32Array.of(1), [1, 1]);
    });
    await refused(
      path,
      HYBRID_CSV,
      /the weights hold "rnn\.weight_ih_l0", which a hybrid model \(members\.\{k\}\.\*\) does not have/,
    );
    path = variant(HYBRID, "w-gap.safetensors", (_, t) => {
      for (const k of Object.keys(t)) {
        if (k.startsWith("members.1.")) {
          t[k.replace("members.1.", "members.7.")] = t[k];
          delete t[k];
        }
      }
    });
    await refused(
      path,
      HYBRID_CSV,
      /the weights hold 2 members but not members\.1: members must be numbered 0 to 1/,
    );
    path = variant(HYBRID, "w-missing.safetensors", (_, t) => {
      delete t["members.1.head.bias"];
    });
    await refused(path, HYBRID_CSV, /the weights have members\.0\.head\.bias but no members\.1\.head\.bias/);
  });

  it("shapes: a head for another hidden size, a member of another shape", async () => {
    let path = variant(HYBRID, "w-head.safetensors", (_, t) => {
      t["members.0.head.weight"] = new Tensor(new Float32Array(6 * 5), [6, 5]);
    });
    await refused(
      path,
      HYBRID_CSV,
      /members\.0\.head\.weight has shape \[6, 5\], but after a hidden size of 4 it needs \[horizon, 4\]/,
    );
    path = variant(HYBRID, "w-season.safetensors", (_, t) => {
      t["members.1.season_init"] = new Tensor(new Float32Array(7), [7]);
    });
    await refused(
      path,
      HYBRID_CSV,
      /members\.1\.season_init has shape \[7\], but members\.0\.season_init has \[12\]/,
    );
  });

  it("values: NaN, infinities and non-float32 weights are named with their element", async () => {
    const path = variant(HYBRID, "w-nan.safetensors", (_, t) => {
      const w = t["members.1.rnn.weight_hh_l0"];
      const a = (w.data as Float32Array).slice();
      a[5] = Number.NaN;
      t["members.1.rnn.weight_hh_l0"] = new Tensor(a, [...w.shape]);
    });
    await refused(
      path,
      HYBRID_CSV,
      /tensor members\.1\.rnn\.weight_hh_l0 holds NaN at element 5; weights must be finite/,
    );
  });
});

describe("hybrid: finite weights whose forecast is not finite are refused (exit 1, nothing written)", () => {
  it("#2390: members.0.head.bias = 100 (exp(100) overflows float32)", async () => {
    const path = variant(HYBRID, "bias100.safetensors", (_, t) => {
      t["members.0.head.bias"] = new Tensor(new Float32Array(6).fill(100), [6]);
    });
    await refused(
      path,
      HYBRID_CSV,
      /the forecast would not be finite: the hybrid model makes its forecast at step 1 after row \d+ Infinity/,
      ["forecast", "evaluate"],
    );
    // with a chart asked for: the error comes before anything is written
    const r = await run(["forecast", "--model", path, "--csv", HYBRID_CSV, "--out", p("chart-bias")]);
    expect(r.code).toBe(1);
    expect(existsSync(p("chart-bias.svg"))).toBe(false);
    expect(existsSync(p("chart-bias.png"))).toBe(false);
  });

  it("#4039: members.0.head.weight = ±3e38 (the network overflows)", async () => {
    const withHead = (v: number, name: string) =>
      variant(HYBRID, name, (_, t) => {
        t["members.0.head.weight"] = new Tensor(new Float32Array(24).fill(v), [6, 4]);
      });
    // -3e38 (the LSTM's last hidden state is negative here): exp(+huge) overflows
    await refused(
      withHead(-3e38, "w-3e38.safetensors"),
      HYBRID_CSV,
      /the forecast would not be finite: the hybrid model makes its forecast at step 1 after row 120 Infinity/,
    );
    // +3e38: member 0 forecasts exp(-huge) = 0, so the ensemble's mean is half of member 1's: finite
    const r = await forecast(withHead(3e38, "w+3e38.safetensors"), HYBRID_CSV, "--json");
    expect(r.code).toBe(0);
    const plain = JSON.parse((await forecast(HYBRID, HYBRID_CSV, "--json")).stdout).forecast;
    JSON.parse(r.stdout).forecast.forEach((row: { value: number }, h: number) => {
      expect(Number.isFinite(row.value)).toBe(true);
      expect(row.value).toBeLessThan(plain[h].value);
    });
  });

  it("#4393: CSV values near the float32 limit: finite forecasts print, overflowing ones are refused", async () => {
    const lines = readFileSync(HYBRID_CSV, "utf8").trim().split("\n");
    const big = (back: number, v: string, name: string) => {
      const l = lines.slice();
      l[l.length - back] = l[l.length - back].replace(/,[\d.]+,/, `,${v},`);
      writeFileSync(p(name), `${l.join("\n")}\n`);
      return p(name);
    };
    // 1e23 in the last row: the level follows it, and every printed number is finite
    const ok = await forecast(HYBRID, big(1, "1e23", "big1.csv"), "--json");
    expect(ok.code).toBe(0);
    for (const row of JSON.parse(ok.stdout).forecast) {
      for (const v of Object.values(row).slice(1)) expect(Number.isFinite(v as number)).toBe(true);
      expect(row.value).toBeGreaterThan(1e22);
    }
    // 3.4e38 a season back: the seasonal index it leaves overflows float32 at the next step
    await refused(
      HYBRID,
      big(13, "3.4e38", "big13.csv"),
      /the forecast would not be finite: the hybrid model makes its forecast at step 1 after row 120 NaN in float32/,
    );
  });

  it("feeding forecasts back is bounded: 50,000 steps are refused up front with the most that fit", async () => {
    const r = await forecast(HYBRID, HYBRID_CSV, "--horizon", "50000");
    expect(r.code).toBe(1);
    const most = Number(/Use --horizon (\d+) or less/.exec(r.stderr)?.[1]);
    expect(r.stderr).toMatch(
      /a forecast of 50000 steps from this hybrid model would feed 8334 blocks of 6 forecasts back/,
    );
    // the most that fit is a whole number of blocks, and it runs
    expect(most % 6).toBe(0);
    const ok = await forecast(HYBRID, HYBRID_CSV, "--horizon", String(most), "--json");
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout).forecast).toHaveLength(most);
  }, 60_000);
});

describe("ARIMA: no weights, orders autoArima can choose, one finite coefficient per order", () => {
  // an ARIMA checkpoint as `train --model auto` writes it when seasonal ARIMA wins, on 120 months of CO2
  const ARIMA = p("arima.safetensors");
  beforeAll(() => {
    const prepared = prepareSeries(readFileSync(HYBRID_CSV, "utf8"), { target: "CO2" });
    const { checkpoint } = arimaCheckpoint(prepared, 6, 12, { val: 0.15, test: 0.15 }, "test", 0);
    writeFileSync(ARIMA, encodeCheckpoint(checkpoint));
  });
  const A = "recurrent.arima";

  it("the fixture forecasts 6 finite steps with nested bands", async () => {
    const r = await forecast(ARIMA, HYBRID_CSV, "--json");
    expect(r.code, r.stderr).toBe(0);
    const rows = JSON.parse(r.stdout).forecast;
    expect(rows).toHaveLength(6);
    for (const row of rows) {
      expect(row.lower_95).toBeLessThanOrEqual(row.lower_80);
      expect(row.upper_80).toBeLessThanOrEqual(row.upper_95);
      expect(row.value).toBeGreaterThan(380);
      expect(row.value).toBeLessThan(450);
    }
  });

  it.each([
    [["order", "p"], "9", /arima\.order\.p = 9; expected an integer in \[0, 5\]/],
    [["order", "m"], "1e9", /arima\.order\.m = 1000000000; expected an integer in \[1, 366\]/],
    [
      ["params", "ma"],
      "[1,2,3,4,5,6,7]",
      /arima\.params\.ma = \[1,2,3,4,5,6,7\]; expected \d+ finite coefficients?/,
    ],
    [["params", "constant"], "null", /arima\.params\.constant = null; expected a finite number/],
    [["sigma2"], "-1", /arima\.sigma2 = -1; expected a finite number >= 0/],
    [["log"], '"yes"', /arima\.log = "yes"; expected true or false/],
    [["spec"], "7", /arima\.spec = 7; expected a string/],
  ])("arima.%s = %s", async (path, raw, message) => {
    const file = rawField(ARIMA, `arima-${path.join("-")}.safetensors`, A, path as string[], raw);
    await refused(file, HYBRID_CSV, message, ["forecast", "evaluate"]);
  });

  it("weights, or a second model in the same file, are refused", async () => {
    const weighted = variant(ARIMA, "arima-weights.safetensors", (_, t) => {
      t["head.weight"] = new Tensor(new Float32Array(2), [1, 2]);
    });
    await refused(
      weighted,
      HYBRID_CSV,
      /the weights hold "head\.weight", but an ARIMA checkpoint has no weights/,
    );
    const both = variant(ARIMA, "arima-ets.safetensors", (m) => {
      m["recurrent.ets"] = JSON.parse(read(ETS).metadata["recurrent.ets"]);
    });
    await refused(both, HYBRID_CSV, /holds both recurrent\.ets and recurrent\.arima/);
  });
});

describe("ETS: no weights, and parameters the filter can run with", () => {
  const E = "recurrent.ets";
  it.each([
    [["params", "alpha"], "2", /ets\.params\.alpha = 2; expected a number in \[0, 1\]/],
    [["params", "phi"], "0", /ets\.params\.phi = 0; expected a damping factor in \(0, 1\]/],
    [
      ["params", "level"],
      "-1",
      /ets\.params\.level = -1; expected a positive initial level \(multiplicative errors\)/,
    ],
    [
      ["params", "season"],
      "[1,2]",
      /ets\.params\.season = \[1,2\]; expected 12 finite initial seasonal states/,
    ],
    [["period"], "1e9", /ets\.period = 1000000000; expected an integer in \[1, 24\]/],
    [["type", "season"], '"M"', /ets\.spec = "ETS\(M,N,A\)"; expected "ETS\(M,N,M\)", as ets\.type says/],
    [["type", "error"], '"A"', /ets\.spec = "ETS\(M,N,A\)"; expected "ETS\(A,N,A\)"/],
    [["type", "trend"], "null", /ets\.type\.trend = null; expected one of "N", "A", "Ad"/],
    [["spec"], "7", /ets\.spec = 7; expected "ETS\(M,N,A\)"/],
  ])("ets.%s = %s", async (path, raw, message) => {
    const file = rawField(ETS, `ets-${path.join("-")}.safetensors`, E, path as string[], raw);
    await refused(file, ETS_CSV, message, ["forecast", "evaluate"]);
  });

  it("#812: split.test_range = -1 (was a raw JavaScript error)", async () => {
    const path = rawField(ETS, "ets-test-range.safetensors", "recurrent.split", ["test_range"], "-1");
    await refused(path, ETS_CSV, /metadata says split\.test_range = -1; expected \[start, end\)/, [
      "forecast",
      "evaluate",
    ]);
  });

  it("a horizon no weights pin down is bounded: data.horizon = 1e9, model.horizon disagreeing", async () => {
    let path = rawField(ETS, "ets-h.safetensors", "recurrent.data", ["horizon"], "1e9");
    await refused(
      path,
      ETS_CSV,
      /metadata says data\.horizon = 1000000000; expected an integer in \[1, 2000\]/,
    );
    path = rawField(ETS, "ets-mh.safetensors", "recurrent.model", ["horizon"], "7");
    await refused(path, ETS_CSV, /metadata says model\.horizon = 7; expected 6, the model's horizon/);
  });

  it("a tensor in an ETS file, and an optimizer state", async () => {
    let path = variant(ETS, "ets-w.safetensors", (_, t) => {
      t["rnn.weight_ih_l0"] = new Tensor(new Float32Array(4), [4, 1]);
    });
    await refused(
      path,
      ETS_CSV,
      /the weights hold "rnn\.weight_ih_l0", but an ETS checkpoint has no weights/,
    );
    path = variant(ETS, "ets-opt.safetensors", (m) => {
      m["recurrent.optimizer"] = { state: {}, param_groups: [] };
    });
    await refused(path, ETS_CSV, /holds recurrent\.optimizer, but an ETS checkpoint has no optimizer state/);
  });

  it("#1238: a CSV value that sends the multiplicative filter to infinity is refused, not printed", async () => {
    const lines = readFileSync(ETS_CSV, "utf8").trim().split("\n");
    lines[lines.length - 1] = lines[lines.length - 1].replace(/,[\d.]+,/, ",3e38,");
    writeFileSync(p("ets-big.csv"), `${lines.join("\n")}\n`);
    await refused(
      ETS,
      p("ets-big.csv"),
      /the forecast would not be finite: ETS\(M,N,A\) makes its .* after row 36/,
    );
  });

  it("train --resume of an ETS or hybrid checkpoint says what to do instead", async () => {
    for (const [ckpt, csv, kind] of [
      [ETS, ETS_CSV, "ETS"],
      [HYBRID, HYBRID_CSV, "hybrid"],
    ]) {
      const r = await run([
        "train",
        "--csv",
        csv,
        "--resume",
        ckpt,
        "--epochs",
        "1",
        "--out",
        p("resumed.safetensors"),
      ]);
      expect(r.code).toBe(2); // a usage error: the option does not apply to this file
      expect(r.stderr).toMatch(
        new RegExp(`holds a ${kind} model; --resume continues LSTM checkpoints only: train it again instead`),
      );
      expect(existsSync(p("resumed.safetensors"))).toBe(false);
    }
  });
});

describe("evaluate a hybrid or ETS checkpoint on its test part", () => {
  /** The CSV's first `rows` data rows. */
  const headOf = (csv: string, rows: number, name: string) => {
    const lines = readFileSync(csv, "utf8").trim().split("\n");
    writeFileSync(p(name), `${lines.slice(0, rows + 1).join("\n")}\n`);
    return p(name);
  };
  const y = (csv: string) => column(prepareSeries(readFileSync(csv, "utf8"), { target: "CO2" }).series, 0);

  it("ETS: the MAE is the filter's, re-run with the saved parameters up to each origin (oracle: etsModel)", async () => {
    const r = await run(["evaluate", "--model", ETS, "--csv", ETS_CSV, "--json", "--no-classical"]);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    const e = decodeCheckpoint(new Uint8Array(readFileSync(ETS))).meta.ets!;
    const v = y(ETS_CSV);
    // 36 rows, a test part of 7 and a horizon of 6: origins 29 and 30
    expect(j.test_start).toBe(29);
    expect(j.windows).toBe(2);
    let sum = 0;
    for (const o of [29, 30]) {
      const fc = etsModel(Array.from(v.subarray(0, o)), e.type, e.params, e.period).forecast(6).mean;
      for (let h = 0; h < 6; h++) sum += Math.abs(Math.fround(fc[h]) - v[o + h]);
    }
    expect(j.scores.model.mae).toBeCloseTo(sum / 12, 4);
  });

  it("hybrid: each origin's forecast is what `forecast` gives on the rows before it", async () => {
    const r = await run(["evaluate", "--model", HYBRID, "--csv", HYBRID_CSV, "--json", "--no-classical"]);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    const v = y(HYBRID_CSV);
    expect(j.horizon).toBe(6);
    const origins = Array.from({ length: j.windows }, (_, w) => j.test_start + w);
    // the ensemble run once over the series at every origin (evaluate) against one origin at a time
    // (forecast on a shortened file): the recursion is causal, so they must agree
    let sum = 0;
    const perStep = new Array(6).fill(0);
    for (const o of origins) {
      const f = await forecast(HYBRID, headOf(HYBRID_CSV, o, `head${o}.csv`), "--json");
      expect(f.code).toBe(0);
      JSON.parse(f.stdout).forecast.forEach((row: { value: number }, h: number) => {
        const err = Math.abs(row.value - v[o + h]);
        sum += err;
        perStep[h] += err / origins.length;
      });
    }
    expect(j.scores.model.mae).toBeCloseTo(sum / (6 * origins.length), 3);
    j.per_step_mae.model.forEach((m: number, h: number) => {
      expect(m).toBeCloseTo(perStep[h], 3);
    });
    // and its intervals cover some of the held-out points, as a share
    for (const k of ["80", "95"]) {
      expect(j.coverage[k]).toBeGreaterThanOrEqual(0);
      expect(j.coverage[k]).toBeLessThanOrEqual(1);
    }
  }, 60_000);

  it("a classical model whose scores overflow is reported as not scored, never as null or NaN", async () => {
    // rnn_gaps (no dates): a value at the float32 limit in the test part; the drift forecasts overflow
    const csv = join(FIXTURES, "forecast", "rnn_gaps.csv");
    const lines = readFileSync(csv, "utf8").trim().split("\n");
    lines[95] = lines[95].replace(/^[^,]*/, "3.4028235e38");
    writeFileSync(p("gaps-big.csv"), `${lines.join("\n")}\n`);
    const model = join(FIXTURES, "forecast", "rnn_gaps.safetensors");
    const r = await run(["evaluate", "--model", model, "--csv", p("gaps-big.csv"), "--json"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).not.toMatch(/"(mae|rmse|smape|mase)": null/);
    const j = JSON.parse(r.stdout);
    for (const c of j.classical) {
      if (c.scores === null)
        expect(c.label).toMatch(
          /would be (NaN|Infinity|-Infinity): its forecasts or the series overflow float32/,
        );
      else for (const v of Object.values(c.scores)) expect(Number.isFinite(v)).toBe(true);
    }
    expect(j.classical.some((c: { scores: unknown }) => c.scores === null)).toBe(true);
  });
});
