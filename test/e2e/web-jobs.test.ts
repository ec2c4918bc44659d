// The playground's gradients job (web/src/jobs.ts, what its worker runs) checked in Node against the
// `recurrent` command it stands for: gradientsJob must give the numbers `recurrent gradients --compare
// --json` prints. No browser needed: playground.test.ts drives the page itself. The sine job is the
// library's app.trainSine, tested in test/app/sine.test.ts.

import { spawnSync } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { setBackend } from "../../src/kernels/backend.js";
import { GRAD_DEFAULTS, gradientsJob } from "../../web/src/jobs.js";

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
