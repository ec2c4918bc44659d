// Checkpoints from strangers and numbers at the edge, through the real command: `main(argv)` in this
// process for messages and exit codes, the built command in a child process for pipes and signals.
// The library's side of the same cases is in reliability.test.ts.

import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it, vi } from "vitest";
import { Tensor } from "../src/core/tensor.js";
import { checkpointMetadata, decodeCheckpoint } from "../src/forecast/checkpoint.js";
import { encodeSafetensors } from "../src/io/safetensors.js";
import { FIXTURES } from "./helpers.js";
import { runCli as run, spawnCollect } from "./cli-run.js";

const FDIR = join(FIXTURES, "forecast");
const CKPT = join(FDIR, "lstm_co2.safetensors"); // LSTM(1, 8) -> Linear(8, 3), lookback 12, 120 rows
const CSV = join(FDIR, "lstm_co2.csv"); // 2010-05-01 .. 2020-04-01, monthly
const dir = mkdtempSync(join(tmpdir(), "recurrent-reliability-"));
const p = (name: string) => join(dir, name);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const ckpt = decodeCheckpoint(new Uint8Array(readFileSync(CKPT)));

/** The fixture checkpoint with a metadata field set to raw JSON text, written to `name`. */
function withField(name: string, key: string, field: string, raw: string): string {
  const meta = checkpointMetadata(ckpt);
  const j = JSON.parse(meta[key]);
  j[field] = "__RAW__";
  const path = p(name);
  writeFileSync(
    path,
    encodeSafetensors(ckpt.stateDict, { ...meta, [key]: JSON.stringify(j).replace('"__RAW__"', raw) }),
  );
  return path;
}

/** The fixture checkpoint with other weights and/or a changed data section, written to `name`. */
function withWeights(
  name: string,
  edit: (sd: Record<string, Tensor>) => void,
  data?: (d: Record<string, unknown>) => void,
): string {
  const sd: Record<string, Tensor> = {};
  for (const [k, t] of Object.entries(ckpt.stateDict)) sd[k] = new Tensor(t.data.slice(), [...t.shape]);
  edit(sd);
  const meta = checkpointMetadata(ckpt);
  const d = JSON.parse(meta["recurrent.data"]);
  data?.(d);
  const path = p(name);
  writeFileSync(path, encodeSafetensors(sd, { ...meta, "recurrent.data": JSON.stringify(d) }));
  return path;
}

const fill = (t: Tensor, v: number) => t.data.fill(v);

describe("a checkpoint's metadata is checked against its weights by every command that reads one", () => {
  const cases: [string, string, string, string][] = [
    ["num_layers", "1e308", "layers1e308", "metadata says num_layers = 1e308, but the weights hold 1 layer"],
    [
      "num_layers",
      "1000000",
      "layers1e6",
      "metadata says num_layers = 1000000, but the weights hold 1 layer",
    ],
    [
      "hidden_size",
      "1e9",
      "hidden1e9",
      "metadata says hidden_size = 1000000000, but the weights hold a hidden size of 8",
    ],
    [
      "hidden_size",
      "1e308",
      "hidden1e308",
      "metadata says hidden_size = 1e308, but the weights hold a hidden size of 8",
    ],
  ];
  for (const [field, raw, name, msg] of cases) {
    it(`${field} = ${raw}: forecast, evaluate, train --resume and gradients fail at once, naming file and field`, async () => {
      const path = withField(`${name}.safetensors`, "recurrent.model", field, raw);
      const t0 = performance.now();
      for (const args of [
        ["forecast", "--model", path, "--csv", CSV, "--no-chart"],
        ["evaluate", "--model", path, "--csv", CSV],
        ["train", "--csv", CSV, "--resume", path, "--epochs", "1", "--out", p(`${name}-out.safetensors`)],
      ]) {
        const r = await run(args);
        expect(r.code, args.join(" ")).toBe(1);
        expect(r.stderr).toBe(`error: ${path}: ${msg}\n`);
        expect(r.stdout).toBe("");
      }
      const g = await run(["gradients", "--model", path, "--no-chart"]);
      expect(g.code).toBe(1);
      expect(g.stderr).toBe(`error: ${path}: ${msg}\n`);
      expect(performance.now() - t0).toBeLessThan(5000);
      expect(existsSync(p(`${name}-out.safetensors`))).toBe(false);
    });
  }

  it("lookback 1.5 and -1 (once 'offset is out of bounds' and 'Invalid typed array length: -1')", async () => {
    for (const raw of ["1.5", "-1"]) {
      const path = withField(`lookback${raw}.safetensors`, "recurrent.data", "lookback", raw);
      for (const cmd of ["forecast", "evaluate"]) {
        const r = await run(
          [cmd, "--model", path, "--csv", CSV, "--no-chart"].slice(0, cmd === "forecast" ? 6 : 5),
        );
        expect(r.code).toBe(1);
        expect(r.stderr).toBe(
          `error: ${path}: metadata says data.lookback = ${raw}; expected an integer in [1, 120]\n`,
        );
      }
    }
  });
});

describe("a forecast or a metric that would not be finite is refused, saying where it came from", () => {
  it("huge but finite weights: the network overflows float32", async () => {
    // every gate saturates (h = tanh(c) with c growing to 12), then 8 * 3e38 overflows
    const path = withWeights("huge.safetensors", (sd) => {
      fill(sd["rnn.bias_ih_l0"], 1e30);
      fill(sd["head.weight"], 3e38);
    });
    for (const json of [false, true]) {
      const r = await run([
        "forecast",
        "--model",
        path,
        "--csv",
        CSV,
        "--no-chart",
        ...(json ? ["--json"] : []),
      ]);
      expect(r.code).toBe(1);
      expect(r.stdout).toBe(""); // no NaN rows, no null in JSON
      expect(r.stderr).toMatch(
        /^error: the forecast would not be finite: the network turns a finite input window into (-?Infinity|NaN) \(output 1 of 3\); its weights overflow float32 \(the largest is 3e38 in head\.weight\)\n$/,
      );
    }
    const ev = await run(["evaluate", "--model", path, "--csv", CSV]);
    expect(ev.code).toBe(1);
    expect(ev.stdout).toBe("");
    expect(ev.stderr).toMatch(/the network turns a finite input window into/);
  });

  it("a scaler whose scale overflows the forecast scaled back", async () => {
    const path = withWeights(
      "scaleback.safetensors",
      (sd) => fill(sd["head.bias"], 100),
      (d) => {
        d.scaler = { type: "standard", mean: [0], scale: [1e37] };
      },
    );
    const r = await run(["forecast", "--model", path, "--csv", CSV, "--no-chart"]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(
      /^error: the forecast would not be finite: the network's output [\d.e]+ \(in scaled units\) becomes Infinity when the checkpoint's scaler \(mean 0 and scale 1e37\) scales it back to float32\n$/,
    );
  });

  it("a scaler that overflows the input window", async () => {
    const path = withWeights(
      "scalein.safetensors",
      () => {},
      (d) => {
        d.scaler = { type: "standard", mean: [0], scale: [1e-36] };
      },
    );
    const r = await run(["forecast", "--model", path, "--csv", CSV, "--no-chart", "--json"]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toBe(
      "error: the forecast would not be finite: the checkpoint's scaler (mean 0 and scale 1e-36 for column 0) turns values of the input window into Infinity in float32; the scaler does not suit this series\n",
    );
  });

  it("scales of 1e-300 and 1e308 are refused when the checkpoint is read", async () => {
    for (const scale of [1e-300, 1e308]) {
      const path = withWeights(
        `scale${scale > 1 ? "big" : "small"}.safetensors`,
        () => {},
        (d) => {
          d.scaler = { type: "standard", mean: [396], scale: [scale] };
        },
      );
      const r = await run(["forecast", "--model", path, "--csv", CSV, "--no-chart"]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(
        new RegExp(
          `^error: .*scale${scale > 1 ? "big" : "small"}\\.safetensors: metadata says data\\.scaler\\.scale\\[0\\] = ${String(scale).replace("+", "")}, which makes the scaling factor `,
        ),
      );
    }
  });
});

describe("a header built to exhaust the parser is refused before parsing", () => {
  it("deeply nested JSON, under the 100 MB header limit", async () => {
    const deep = `{"x":${"[".repeat(5_000_000)}${"]".repeat(5_000_000)}}`;
    const json = new TextEncoder().encode(deep);
    const bytes = new Uint8Array(8 + json.length + 4_000_000);
    new DataView(bytes.buffer).setUint32(0, json.length, true);
    bytes.set(json, 8);
    const path = p("deep.safetensors");
    writeFileSync(path, bytes);
    const t0 = performance.now();
    const r = await run(["forecast", "--model", path, "--csv", CSV, "--no-chart"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      `error: ${path} is not a readable safetensors file (damaged or truncated?): the header nests JSON more than 8 levels deep (a safetensors header needs 3): refused before parsing\n`,
    );
    expect(performance.now() - t0).toBeLessThan(3000);
  });
});

describe("dates at the edge", () => {
  const lines = readFileSync(CSV, "utf8").trimEnd().split("\n");

  it("an impossible date is an error naming its line, not a reason to drop the date column", async () => {
    for (const [bad, why] of [
      ["2015-02-30", "February 2015 has 28 days"],
      ["2015-13-01", "there is no month 13"],
    ]) {
      const copy = [...lines];
      copy[58] = copy[58].replace(/^[^,]+/, bad); // file line 59
      const csv = p(`bad-date-${bad}.csv`);
      writeFileSync(csv, `${copy.join("\n")}\n`);
      const r = await run([
        "train",
        "--csv",
        csv,
        "--target",
        "CO2",
        "--epochs",
        "1",
        "--out",
        p("never.safetensors"),
      ]);
      expect(r.code).toBe(1);
      expect(r.stderr).toBe(
        `error: date column "Date" on line 59 holds "${bad}", which is not a possible date: ${why}\n`,
      );
      const f = await run(["forecast", "--model", CKPT, "--csv", csv, "--no-chart"]);
      expect(f.code).toBe(1);
      expect(f.stderr).toContain('date column "Date" on line 59');
    }
  });

  it("a horizon that runs past 9999 is refused up front with the largest that fits", async () => {
    // monthly from 2020-04-01: 2020-05 .. 9999-12 is (9999 - 2020) * 12 + 8 = 95756 months
    const want =
      "error: a forecast of 3300000 steps after 2020-04-01 would run past 9999-12-31, the last date the series' format can write (years have 4 digits). Use --horizon 95756 or less\n";
    const t0 = performance.now();
    const r = await run(["forecast", "--model", CKPT, "--csv", CSV, "--horizon", "3300000", "--no-chart"]);
    expect(r.stderr).toBe(want);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    expect(performance.now() - t0).toBeLessThan(3000);
    // with a chart: refused before any forecast or chart
    const c = await run(["forecast", "--model", CKPT, "--csv", CSV, "--horizon", "100000", "--out", p("c")]);
    expect(c.code).toBe(1);
    expect(c.stderr).toMatch(/^error: a forecast of 100000 steps .* Use --horizon 95756 or less\n$/);
    expect(existsSync(p("c.svg"))).toBe(false);
    // the largest that fits works, and ends on 9999-12-01
    const ok = await run(["forecast", "--model", CKPT, "--csv", CSV, "--horizon", "95756", "--no-chart"]);
    expect(ok.code).toBe(0);
    const out = ok.stdout.trimEnd().split("\n");
    expect(out.length).toBe(95757);
    expect(out[out.length - 1]).toMatch(/^9999-12-01,-?[\d.]+(e[-+]?\d+)?$/);
  }, 60_000);

  it("`recurrent forecast ... | head -1` ends quietly with exit code 0", async () => {
    const cmd = `"${process.execPath}" --import tsx src/node/cli/bin.ts forecast --model "${CKPT}" --csv "${CSV}" --horizon 20000 --no-chart | head -1; echo "status \${PIPESTATUS[0]}" >&2`;
    const r = await spawnCollect("bash", ["-c", cmd]);
    expect(r.stdout).toBe("date,value\n");
    expect(r.stderr).toMatch(/status 0\n$/);
    expect(r.stderr).not.toMatch(/EPIPE|\n\s+at /); // no stack trace
  }, 60_000);
});

describe("CSV values at the edge", () => {
  it("a value beyond float32 has its own message with the file line and the column name", async () => {
    const lines = readFileSync(CSV, "utf8").trimEnd().split("\n");
    lines[78] = lines[78].replace(/,[^,]+,/, ",1e39,"); // file line 79, column CO2
    const csv = p("huge-value.csv");
    writeFileSync(csv, `${lines.join("\n")}\n`);
    const r = await run([
      "train",
      "--csv",
      csv,
      "--target",
      "CO2",
      "--epochs",
      "1",
      "--out",
      p("x.safetensors"),
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      'error: value "1e39" in column "CO2" on line 79 is beyond the float32 range (±3.4028235e38) that models compute in; rescale the column (a fill method does not apply: the value is not missing)\n',
    );
    expect(readdirSync(dir).includes("x.safetensors")).toBe(false);
  });
});

describe("clean-up and small things", () => {
  it("a temp file left by a save that was killed is removed by the next save of that path", async () => {
    const out = p("clean.safetensors");
    // what a save killed between writing and renaming leaves: .<name>.<pid>.<hex>.tmp of a dead process
    const stale = p(".clean.safetensors.2147483646.0123456789ab.tmp");
    writeFileSync(stale, "partial");
    const other = p(".other.safetensors.2147483646.0123456789ab.tmp"); // another file's: left alone
    writeFileSync(other, "partial");
    const r = await run([
      "train",
      "--csv",
      CSV,
      "--target",
      "CO2",
      "--lookback",
      "6",
      "--horizon",
      "2",
      "--hidden",
      "3",
      "--epochs",
      "1",
      "--out",
      out,
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(existsSync(stale)).toBe(false);
    expect(existsSync(other)).toBe(true);
    expect(readdirSync(dir).filter((n) => n.startsWith(".clean.safetensors."))).toEqual([]);
  });

  it("--out '' is refused before training", async () => {
    const r = await run(["train", "--csv", CSV, "--target", "CO2", "--epochs", "50", "--out", ""]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('error: cannot write the checkpoint "": expected a file name\n');
    const d = await run(["train", "--csv", CSV, "--target", "CO2", "--epochs", "50", "--out", `${dir}/`]);
    expect(d.code).toBe(1);
    expect(d.stderr).toMatch(/expected a file name\n$/);
  });

  it("escape codes in column names are shown escaped, in progress lines and in errors", async () => {
    const esc = "\u001b[31mCO2\u001b[0m";
    const text = readFileSync(CSV, "utf8").replace("Date,CO2,", `Date,${esc},`);
    const csv = p("ansi.csv");
    writeFileSync(csv, text);
    const r = await run([
      "train",
      "--csv",
      csv,
      "--target",
      esc,
      "--lookback",
      "6",
      "--horizon",
      "2",
      "--hidden",
      "3",
      "--epochs",
      "1",
      "--out",
      p("ansi.safetensors"),
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain("target \\u001b[31mCO2\\u001b[0m");
    expect(r.stderr + r.stdout).not.toContain("\u001b");
    const bad = await run(["train", "--csv", csv, "--target", "nope", "--out", p("n.safetensors")]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toBe(
      'error: unknown column "nope"; the columns are: Date, \\u001b[31mCO2\\u001b[0m, adjusted CO2\n',
    );
  });

  it("RECURRENT_NUM_THREADS is capped at 4 threads per core", async () => {
    const { getNumThreads } = await import("../src/kernels/pool.js");
    await import("../src/node/threads.js");
    const { availableParallelism } = await import("node:os");
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    const before = process.env.RECURRENT_NUM_THREADS;
    try {
      process.env.RECURRENT_NUM_THREADS = "1000";
      expect(getNumThreads()).toBe(4 * availableParallelism());
      expect(warn.mock.calls[0][0]).toBe(
        `RECURRENT_NUM_THREADS=1000 is more than 4 threads per core; using ${4 * availableParallelism()} (${availableParallelism()} core(s))`,
      );
      process.env.RECURRENT_NUM_THREADS = "2";
      expect(getNumThreads()).toBe(2);
    } finally {
      if (before === undefined) delete process.env.RECURRENT_NUM_THREADS;
      else process.env.RECURRENT_NUM_THREADS = before;
      warn.mockRestore();
    }
  });

  it("--deterministic gives byte-identical checkpoints for the same seed (timings written as 0)", async () => {
    const args = (out: string, det: boolean) => [
      "train",
      "--csv",
      CSV,
      "--target",
      "CO2",
      "--lookback",
      "6",
      "--horizon",
      "2",
      "--hidden",
      "3",
      "--epochs",
      "3",
      "--seed",
      "7",
      "--out",
      out,
      "--model",
      "lstm",
      ...(det ? ["--deterministic"] : []),
    ];
    for (const [name, det] of [
      ["d1", true],
      ["d2", true],
      ["n1", false],
      ["n2", false],
    ] as const) {
      const r = await run(args(p(`${name}.safetensors`), det));
      expect(r.code, r.stderr).toBe(0);
    }
    const d1 = readFileSync(p("d1.safetensors"));
    expect(d1.equals(readFileSync(p("d2.safetensors")))).toBe(true);
    expect(readFileSync(p("n1.safetensors")).equals(readFileSync(p("n2.safetensors")))).toBe(false);
    const c = decodeCheckpoint(new Uint8Array(d1));
    expect(c.meta.training.seconds).toBe(0);
    expect(c.meta.training.history.map((h) => h.seconds)).toEqual([0, 0, 0]);
    // the weights are those of the run without the option
    const n = decodeCheckpoint(new Uint8Array(readFileSync(p("n1.safetensors"))));
    expect(Array.from(c.stateDict["head.weight"].data)).toEqual(Array.from(n.stateDict["head.weight"].data));
  });

  it("--deterministic holds for the hybrid too (its members' timings written as 0)", async () => {
    const args = (out: string) => [
      ...["train", "--csv", CSV, "--target", "CO2", "--lookback", "6", "--horizon", "2"],
      ...["--hidden", "3", "--epochs", "2", "--members", "1", "--seed", "7", "--deterministic", "--out", out],
    ];
    for (const name of ["h1", "h2"]) {
      const r = await run(args(p(`${name}.safetensors`)));
      expect(r.code, r.stderr).toBe(0);
    }
    const h1 = readFileSync(p("h1.safetensors"));
    expect(h1.equals(readFileSync(p("h2.safetensors")))).toBe(true);
    const c = decodeCheckpoint(new Uint8Array(h1));
    expect(c.meta.hybrid?.members.map((m) => m.seconds)).toEqual([0]);
  });
});
