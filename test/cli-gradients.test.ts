// `recurrent gradients` through the real command: the printed table, the --json figures checked against
// PyTorch (test/fixtures/gen/gradflow.py computes what the command must report for the same seed, and
// for two checkpoints PyTorch wrote), the chart files, --compare, --clip, and bad input with its exit
// codes (2 for a wrong command line, 1 for an unusable model file).

import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it, vi } from "vitest";
import { randn } from "../src/core/creation.js";
import { Generator, manualSeed } from "../src/core/random.js";
import { Tensor } from "../src/core/tensor.js";
import { gradientFlow } from "../src/nn/gradflow.js";
import { RNN } from "../src/nn/rnn.js";
import { saveSafetensorsSync } from "../src/node/checkpoint.js";
import { main } from "../src/node/cli/main.js";
import { expectClose, FIXTURES, loadFixture } from "./helpers.js";

const ROOT = join(import.meta.dirname, "..");
function recurrent(args: string[]) {
  const r = spawnSync(
    process.execPath,
    ["--import", "tsx", join(ROOT, "src/node/cli/bin.ts"), "gradients", ...args],
    {
      cwd: ROOT,
      encoding: "utf8",
      timeout: 120_000,
    },
  );
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

// biome-ignore lint/suspicious/noExplicitAny: JSON from the command
type Json = any;

/** The command's snake_case layer entry against PyTorch's numbers (gradflow.py), 1e-4 relative. */
function expectLayerMatches(l: Json, want: Json, what: string): void {
  expect(l.layer).toBe(want.layer);
  expect(l.direction).toBe(want.direction);
  const o = (s: string) => ({ rtol: 1e-4, atol: 1e-30, what: `${what} ${s}` });
  expectClose(l.grad_h, want.gradH, o("‖∂L/∂h_t‖"));
  expectClose(l.jacobian_h.frobenius, want.jacobianH.frobenius, o("‖∂h_T/∂h_t‖_F"));
  expectClose(l.jacobian_h.spectral, want.jacobianH.spectral, o("‖∂h_T/∂h_t‖₂"));
  expectClose([l.weight_hh_spectral], [want.weightHhSpectral], o("‖W_hh‖₂"));
  if (want.gradC === null) {
    expect(l.grad_c).toBeNull();
    expect(l.jacobian_c).toBeNull();
    return;
  }
  expectClose(l.grad_c, want.gradC, o("‖∂L/∂c_t‖"));
  expectClose(l.jacobian_c.spectral, want.jacobianC.spectral, o("‖∂c_T/∂c_t‖₂"));
  expectClose(l.forget_path.frobenius, want.forgetPath.frobenius, o("‖∏ diag(f)‖_F"));
}

/**
 * Runs the command's `main` in this process (the same code bin.ts runs, minus the process start-up),
 * capturing what it writes. The error cases use it; two of them also run as real processes, to see
 * the exit codes arrive.
 */
async function inProcess(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stderr = "";
  const spy = vi.spyOn(process.stderr, "write").mockImplementation((chunk: string | Uint8Array) => {
    stderr += typeof chunk === "string" ? chunk : Buffer.from(chunk).toString();
    return true;
  });
  let stdout = "";
  const out = vi.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => {
    stdout += typeof chunk === "string" ? chunk : Buffer.from(chunk).toString();
    return true;
  });
  try {
    return { code: await main(["gradients", ...args]), stdout, stderr };
  } finally {
    spy.mockRestore();
    out.mockRestore();
  }
}

const dir = mkdtempSync(join(tmpdir(), "recurrent-gradients-"));
const GF = join(FIXTURES, "gradflow");

describe("recurrent gradients: the figures match PyTorch", () => {
  const { cases } = loadFixture<{ cases: Json[] }>("gradflow", "cli");
  for (const c of cases) {
    it(`${c.name}: recurrent gradients ${c.args.join(" ").replaceAll("MODEL_DIR", "<fixtures>")} --json`, () => {
      const args = c.args.map((a: string) => a.replace("MODEL_DIR", GF));
      const r = recurrent([...args, "--json", "--no-chart"]);
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
      const j = JSON.parse(r.stdout);
      expect(j.seq_len).toBe(c.T);
      expect(j.t).toEqual(Array.from({ length: c.T }, (_, i) => i + 1));
      expect(j.models.length).toBe(1);
      const m = j.models[0];
      expect(m.mode).toBe(c.mode);
      expect(m.hidden_size).toBe(c.hidden_size);
      expect(m.num_layers).toBe(c.num_layers);
      expect(m.input_size).toBe(c.input_size);
      expect(m.loss).toBeCloseTo(c.loss, 5);
      expect(m.layers.length).toBe(c.layers.length);
      m.layers.forEach((l: Json, i: number) => {
        expectLayerMatches(l, c.layers[i], `${c.name} layer ${i}`);
      });
      expect(j.charts).toBeNull();
      expect(j.clip_experiment).toBeNull();
    });
  }

  it("the forecast-layout checkpoint says which tensors it did not use", () => {
    const r = recurrent(["--model", join(GF, "model_forecast.safetensors"), "--seq-len", "4", "--no-chart"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      /model lstm +LSTM\(3, 6\); ‖W_hh‖₂ = [0-9.]+; .*model_forecast\.safetensors \(rnn\.\*\); not used: head\.bias, head\.weight/,
    );
  });

  it("a checkpoint with recurrent.data metadata: the sequence length defaults to its lookback", async () => {
    manualSeed(4);
    const m = new RNN(2, 3);
    const file = join(dir, "lookback.safetensors");
    const meta = { "recurrent.data": JSON.stringify({ lookback: 7 }) };
    saveSafetensorsSync(
      file,
      Object.fromEntries(Object.entries(m.stateDict()).map(([k, v]) => [`rnn.${k}`, v])),
      meta,
    );
    const r = await inProcess(["--model", file, "--no-chart"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("input       7 steps (the checkpoint's lookback) × 2 features");
    const j = JSON.parse((await inProcess(["--model", file, "--no-chart", "--json"])).stdout);
    expect(j.seq_len).toBe(7);
    // an explicit --seq-len wins
    expect(
      JSON.parse((await inProcess(["--model", file, "--no-chart", "--json", "--seq-len", "4"])).stdout)
        .seq_len,
    ).toBe(4);
  });

  it("a state dict saved by this library (relu RNN, two layers, bidirectional), with --nonlinearity relu", () => {
    manualSeed(21);
    const m = new RNN(3, 5, { nonlinearity: "relu", numLayers: 2, bidirectional: true });
    const file = join(dir, "relu.safetensors");
    saveSafetensorsSync(file, m.stateDict());
    const r = recurrent([
      "--model",
      file,
      "--nonlinearity",
      "relu",
      "--seq-len",
      "7",
      "--seed",
      "2",
      "--json",
      "--no-chart",
    ]);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.models[0].module).toBe("RNN(3, 5, num_layers=2, bidirectional=True)");
    expect(j.models[0].mode).toBe("RNN_RELU");
    // in process, on the input the command documents: randn(T, I) from a generator seeded seed + 1
    const x = randn([7, 3], { generator: new Generator(3) });
    const want = gradientFlow(m, x);
    expect(j.models[0].layers.map((l: Json) => l.direction)).toEqual([
      "forward",
      "reverse",
      "forward",
      "reverse",
    ]);
    // the command runs in another process, whose kernels may sum in another order: 1e-6 relative
    j.models[0].layers.forEach((l: Json, i: number) => {
      expectClose(l.grad_h, want.layers[i].gradH, { atol: 0, rtol: 1e-6, what: `layer ${i} grad_h` });
      expectClose(l.jacobian_h.spectral, want.layers[i].jacobianH!.spectral, {
        atol: 0,
        rtol: 1e-6,
        what: `layer ${i} jacobian_h`,
      });
      expect(l.end_step).toBe(l.direction === "reverse" ? 1 : 7);
    });
  });
});

describe("recurrent gradients: table, charts, --compare, --clip", () => {
  it("prints the table (t, ‖∂L/∂h_t‖, ‖∂h_T/∂h_t‖₂) and writes two charts", () => {
    const stem = join(dir, "flow");
    const r = recurrent(["--cell", "rnn", "--init-scale", "0.5", "--seq-len", "12", "--out", stem]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const lines = r.stdout.split("\n");
    const head = lines.findIndex((l) => /^\s+t\s+‖∂L\/∂h_t‖\s+‖∂h_T\/∂h_t‖₂$/.test(l));
    expect(head).toBeGreaterThan(0);
    const rows = lines.slice(head + 1, head + 13).map((l) => l.trim().split(/\s+/).map(Number));
    expect(rows.map((r) => r[0])).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
    // the vanishing case: each earlier step hears less; the Jacobian at t = T is the identity (norm 1)
    for (let t = 0; t < 11; t++) expect(rows[t][1]).toBeLessThan(rows[t + 1][1]);
    expect(rows[11][2]).toBe(1);
    expect(r.stdout).toMatch(
      /rnn layer 0: ‖∂L\/∂h‖ at t = 1 \/ at its last step = [0-9.e+-]+ \([0-9.]+ orders of magnitude smaller\)/,
    );
    for (const f of ["flow.svg", "flow.png", "flow-jacobian.svg", "flow-jacobian.png"])
      expect(existsSync(join(dir, f))).toBe(true);
    expect(readFileSync(join(dir, "flow.png")).subarray(1, 4).toString()).toBe("PNG");
    const svg = readFileSync(join(dir, "flow-jacobian.svg"), "utf8");
    expect(svg.startsWith("<svg")).toBe(true);
    expect(svg).toContain("rnn ‖∂h_T/∂h_t‖₂");
    expect(existsSync(join(dir, "flow-clip.svg"))).toBe(false);
  });

  it("--compare: RNN, LSTM and GRU of the same size on the same input, one chart", () => {
    const stem = join(dir, "cmp");
    const r = recurrent([
      "--compare",
      "--hidden",
      "8",
      "--seq-len",
      "10",
      "--init-scale",
      "0.5",
      "--forget-bias",
      "3",
      "--json",
      "--out",
      stem,
    ]);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.models.map((m: Json) => m.cell)).toEqual(["rnn", "lstm", "gru"]);
    expect(j.models.map((m: Json) => m.module)).toEqual(["RNN(4, 8)", "LSTM(4, 8)", "GRU(4, 8)"]);
    expect(j.forget_bias).toBe(3);
    // the RNN of --compare is the RNN of --cell rnn: same seed, same weights, same input
    const single = JSON.parse(
      recurrent(["--hidden", "8", "--seq-len", "10", "--init-scale", "0.5", "--json", "--no-chart"]).stdout,
    );
    expect(j.models[0].layers[0].grad_h).toEqual(single.models[0].layers[0].grad_h);
    // the LSTM's cell path is reported, the others have none
    expect(j.models[1].layers[0].jacobian_c.spectral.length).toBe(10);
    expect(j.models[0].layers[0].jacobian_c).toBeNull();
    expect(j.charts.flow.svg).toBe(`${stem}.svg`);
    expect(j.charts.jacobian.png).toBe(`${stem}-jacobian.png`);
    const svg = readFileSync(`${stem}.svg`, "utf8");
    for (const name of ["rnn", "lstm", "gru"]) expect(svg).toContain(`>${name}<`);
    expect(readFileSync(`${stem}-jacobian.svg`, "utf8")).toContain("lstm ‖∂c_T/∂c_t‖₂ (cell path)");
  });

  it("--clip: trains with and without clipping; charts of gradient norms and losses", () => {
    const stem = join(dir, "clip");
    const r = recurrent([
      "--cell",
      "rnn",
      "--init-scale",
      "3",
      "--clip",
      "1",
      "--train-steps",
      "120",
      "--seq-len",
      "50",
      "--json",
      "--out",
      stem,
    ]);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    const e = j.clip_experiment;
    expect(e).toMatchObject({
      cell: "rnn",
      hidden: 16,
      init_scale: 3,
      clip: 1,
      steps: 120,
      seq_len: 50,
      lr: 0.3,
      seed: 0,
    });
    // same weights: the same first gradient, above the bound
    expect(e.clipped.grad_norm[0]).toBe(e.unclipped.grad_norm[0]);
    expect(e.unclipped.grad_norm[0]).toBeGreaterThan(1);
    // clipped: never above the bound (up to float32 rounding); unclipped: explodes and diverges
    expect(e.clipped.applied_norm.length).toBe(120);
    for (const n of e.clipped.applied_norm) expect(n).toBeLessThanOrEqual(1 + 2.4e-7);
    expect(e.clipped.diverged_at_step).toBeNull();
    expect(e.unclipped.diverged_at_step).toBeGreaterThan(1);
    expect(Math.max(...e.unclipped.grad_norm.filter((v: number | null) => v !== null))).toBeGreaterThan(1e6);
    for (const k of ["flow", "jacobian", "clip", "loss"]) {
      expect(existsSync(j.charts[k].svg)).toBe(true);
      expect(readFileSync(j.charts[k].png).subarray(1, 4).toString()).toBe("PNG");
    }
    expect(j.charts.clip.svg).toBe(`${stem}-clip.svg`);
    expect(readFileSync(`${stem}-clip.svg`, "utf8")).toContain("clip bound (max_norm = 1)");
  });

  it("--clip without --json reports both runs in words", () => {
    // 80 steps: the unclipped run overflows at step 34 on the ts kernels, 58 on wasm-simd and 61 on
    // wasm-relaxed-simd (fused multiply-add rounds differently); at 60 the relaxed build ended at 2.8e38
    const r = recurrent([
      "--init-scale",
      "3",
      "--clip",
      "1",
      "--train-steps",
      "80",
      "--seq-len",
      "50",
      "--no-chart",
    ]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      /without clipping: largest gradient norm [0-9.e+]+; diverged at step \d+ \(loss (inf|[0-9.e+]+)\)/,
    );
    expect(r.stdout).toMatch(
      /clip 1: +largest gradient norm [0-9.e+]+ before clipping, 1\.00e\+0 applied; final loss/,
    );
  });
});

describe("recurrent gradients: bad input", () => {
  const expectFails = async (code: number, args: string[], pattern: RegExp) => {
    const r = await inProcess(args);
    expect(r.code, `${args.join(" ")}: ${r.stderr}`).toBe(code);
    expect(r.stderr).toMatch(pattern);
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
  };

  it("as a process: exit code 2 for a wrong command line, 1 for an unreadable model", () => {
    const bad = recurrent(["--cell", "transformer"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/Allowed choices are rnn, lstm, gru/);
    const missing = recurrent(["--model", join(dir, "missing.safetensors")]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^error: cannot read .*missing\.safetensors/);
    expect(missing.stderr).not.toMatch(/\n\s+at /);
  });

  it("a wrong command line exits with 2 and says what was expected", async () => {
    await expectFails(2, ["--cell", "transformer"], /Allowed choices are rnn, lstm, gru/);
    await expectFails(2, ["--hidden", "abc"], /--hidden expects a positive integer, got 'abc'/);
    await expectFails(2, ["--seq-len", "0"], /--seq-len expects a positive integer, got '0'/);
    await expectFails(2, ["--seq-len", "2.5"], /--seq-len expects a positive integer, got '2.5'/);
    await expectFails(2, ["--init-scale", "-1"], /--init-scale expects a positive number, got '-1'/);
    await expectFails(2, ["--forget-bias", "high"], /--forget-bias expects a number, got 'high'/);
    await expectFails(2, ["--clip", "0"], /--clip expects a positive number, got '0'/);
    await expectFails(2, ["--seed", "1e400"], /--seed expects an integer, got '1e400'/);
    await expectFails(2, ["--input", "noise"], /Allowed choices are randn, sine/);
    await expectFails(
      2,
      ["--forget-bias", "1", "--cell", "gru"],
      /--forget-bias applies to the LSTM only, got --cell gru/,
    );
    await expectFails(
      2,
      ["--nonlinearity", "relu", "--cell", "lstm"],
      /--nonlinearity applies to --cell rnn only, got --cell lstm/,
    );
    await expectFails(
      2,
      ["--compare", "--model", "x.safetensors"],
      /--compare builds its own models; it cannot be used with --model/,
    );
    await expectFails(
      2,
      ["--clip", "1", "--model", "x.safetensors"],
      /--clip trains models built here; it cannot be used with --model/,
    );
    await expectFails(
      2,
      ["--train-steps", "10"],
      /--train-steps and --lr set the training run of --clip; give --clip too/,
    );
    await expectFails(2, ["--bogus"], /unknown option '--bogus'/);
  });

  it("an unusable model file exits with 1 and names the file and the problem", async () => {
    await expectFails(1, ["--model", join(dir, "missing.safetensors")], /cannot read .*missing\.safetensors/);
    const junk = join(dir, "junk.safetensors");
    writeFileSync(junk, "not a safetensors file at all");
    await expectFails(1, ["--model", junk], /junk\.safetensors/);
    const other = join(dir, "linear.safetensors");
    saveSafetensorsSync(other, { "head.weight": new Tensor(new Float32Array(6), [2, 3]) });
    await expectFails(
      1,
      ["--model", other],
      /no recurrent layer found \(expected a tensor named weight_ih_l0 or <prefix>\.weight_ih_l0\); it holds head\.weight/,
    );
    const odd = join(dir, "odd.safetensors");
    saveSafetensorsSync(odd, {
      weight_ih_l0: new Tensor(new Float32Array(10), [5, 2]),
      weight_hh_l0: new Tensor(new Float32Array(10), [5, 2]),
    });
    await expectFails(
      1,
      ["--model", odd],
      /weight_hh_l0 has shape \[5, 2\]: its 5 rows should be 1 \(RNN\), 3 \(GRU\) or 4 \(LSTM\) times the hidden size 2/,
    );
    const twice = join(dir, "two.safetensors");
    manualSeed(0);
    const a = new RNN(2, 3);
    const both: Record<string, Tensor> = {};
    for (const [k, v] of Object.entries(a.stateDict())) {
      both[`enc.${k}`] = v;
      both[`dec.${k}`] = v;
    }
    saveSafetensorsSync(twice, both);
    await expectFails(
      1,
      ["--model", twice],
      /more than one recurrent layer \(.*weight_ih_l0, .*weight_ih_l0\); which one is ambiguous/,
    );
    const plain = join(GF, "model_plain.safetensors");
    await expectFails(
      1,
      ["--model", plain, "--hidden", "8"],
      /--hidden 8 does not match the checkpoint \(7\)/,
    );
    await expectFails(
      1,
      ["--model", plain, "--cell", "lstm"],
      /--cell lstm does not match the checkpoint \(gru\)/,
    );
    await expectFails(
      1,
      ["--model", plain, "--forget-bias", "1"],
      /--forget-bias applies to an LSTM, but the checkpoint holds a GRU/,
    );
    // a checkpoint whose metadata contradicts its weights
    const liar = join(dir, "liar.safetensors");
    saveSafetensorsSync(liar, a.stateDict(), {
      "recurrent.model": JSON.stringify({ cell: "lstm", hidden_size: 3 }),
    });
    await expectFails(
      1,
      ["--model", liar],
      /liar\.safetensors: metadata says cell = "lstm", but the weights hold an RNN/,
    );
  });
});
