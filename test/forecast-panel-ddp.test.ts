// Many series under PyTorch DistributedDataParallel: scripts/torch_train.py trains one global model over
// the four series of datasets/monthly-panel.csv in two processes on CPU (gloo), from the settings
// `recurrent train --id-column id --emit-torch` writes; each global batch of windows, drawn from every
// series, is dealt out across the processes. `recurrent evaluate` scores each series and all of them
// together; the first epochs must follow `recurrent train --id-column`'s losses. Runs when
// /usr/bin/python3 has torch; skipped with a message otherwise, and a failure when
// RECURRENT_REQUIRE_TORCH is set (as CI does).

import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { decodeCheckpoint } from "../src/forecast/checkpoint.js";
import { runCli as run, spawnCollect } from "./cli-run.js";
import { expectClose } from "./helpers.js";

const ROOT = join(import.meta.dirname, "..");
const PANEL = join(ROOT, "datasets", "monthly-panel.csv");
const PYTHON = "/usr/bin/python3";
const HAVE_TORCH = spawnSync(PYTHON, ["-c", "import torch"], { stdio: "ignore" }).status === 0;
const WHY = `${PYTHON} has no torch (Debian: apt-get install -y python3-torch libopenblas0-pthread)`;
// recurrent's default run on this file keeps epoch 28 and stops early after 38
const MAX_EPOCHS = 30;

const python = (args: string[]) => spawnCollect(PYTHON, args);

if (!HAVE_TORCH && process.env.RECURRENT_REQUIRE_TORCH) {
  describe("PyTorch DDP training on many series", () => {
    it("has PyTorch", () => {
      expect.fail(`${WHY}, but RECURRENT_REQUIRE_TORCH is set`);
    });
  });
} else if (!HAVE_TORCH) {
  console.warn(`PyTorch DDP many-series test skipped: ${WHY}`);
  describe("PyTorch DDP training on many series", () => {
    it.skip(`skipped: ${WHY}`, () => {});
  });
}

describe.skipIf(!HAVE_TORCH)("PyTorch DDP training on many series", () => {
  it("torch_train.py --nproc 2 on the four series of monthly-panel.csv: evaluated per series and overall, and following recurrent train", async () => {
    const dir = mkdtempSync(join(tmpdir(), "recurrent-panel-ddp-"));
    const emitted = await run([
      ...["train", "--csv", PANEL, "--id-column", "id", "--target", "value"],
      ...["--emit-torch", dir, "--out", join(dir, "panel.safetensors")],
    ]);
    expect(emitted.code, emitted.stderr).toBe(0);

    const t0 = performance.now();
    const py = await python([
      ...[join(ROOT, "scripts", "torch_train.py"), "--config", join(dir, "torch_train.json")],
      ...["--nproc", "2", "--epochs", String(MAX_EPOCHS), "--json"],
    ]);
    const wall = (performance.now() - t0) / 1000;
    expect(py.code, py.stderr).toBe(0);
    expect(py.stderr).toContain(
      "4 series (ids in 'id'), target value, 1036 rows; 586 training windows over 2 process(es) (gloo, cpu)",
    );
    const summary = JSON.parse(py.stdout) as { checkpoint: string; world_size: number; epochs_run: number };
    expect(summary.world_size).toBe(2);

    const ev = await run(["evaluate", "--model", summary.checkpoint, "--csv", PANEL, "--json"]);
    expect(ev.code, ev.stderr).toBe(0);
    type S = { mase: number };
    const j = JSON.parse(ev.stdout) as {
      series: { id: string; scores: { model: S } }[];
      overall: { points: number; scores: { model: S; naive: S; seasonal_naive: S } };
    };
    expect(j.series.map((s) => s.id)).toEqual(["air-passengers", "wine", "temperature", "gas"]);
    expect(j.overall.points).toBe(111 * 12);
    expect(j.overall.scores.model.mase).toBeLessThan(j.overall.scores.naive.mase);

    // the same run's first epochs in recurrent: the same losses up to float rounding
    const ours = await run([
      ...["train", "--csv", PANEL, "--id-column", "id", "--target", "value", "--epochs", "3"],
      ...["--out", join(dir, "ours.safetensors"), "--json"],
    ]);
    expect(ours.code, ours.stderr).toBe(0);
    const hd = decodeCheckpoint(new Uint8Array(readFileSync(summary.checkpoint))).meta.training.history;
    const ho = decodeCheckpoint(new Uint8Array(readFileSync(join(dir, "ours.safetensors")))).meta.training
      .history;
    expectClose(
      hd.slice(0, 3).flatMap((h) => [h.loss, h.val_loss ?? Number.NaN]),
      ho.flatMap((h) => [h.loss, h.val_loss ?? Number.NaN]),
      { atol: 0, rtol: 1e-4, what: "loss of the first epochs, DDP vs recurrent, many series" },
    );
    process.stderr.write(
      `monthly-panel DDP run (2 processes, gloo): ${summary.epochs_run} epochs, ${wall.toFixed(1)} s with process start; overall MASE model ${j.overall.scores.model.mase.toFixed(3)}, seasonal naive ${j.overall.scores.seasonal_naive.mase.toFixed(3)}, naive ${j.overall.scores.naive.mase.toFixed(3)}; per series ${j.series.map((s) => `${s.id} ${s.scores.model.mase.toFixed(3)}`).join(", ")}\n`,
    );
  }, 240_000);
});
