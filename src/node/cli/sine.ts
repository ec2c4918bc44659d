// `recurrent sine`: the study notes' sine-wave experiment, end to end, with a chart.

import { sineModelName } from "../../app/sine.js";
import { type CellType, runSineExperiment } from "../../experiments/sine.js";
import { sineChart } from "../../viz/index.js";
import { CliError, UsageError } from "./errors.js";
import { makeProgress } from "./progress.js";

export interface SineCliOptions {
  cell: CellType;
  hidden: number;
  layers: number;
  iters: number;
  lr: number;
  clip?: number;
  seed: number;
  context: number;
  out: string;
  json: boolean;
  chart: boolean;
}

export async function sineCommand(o: SineCliOptions): Promise<void> {
  if (o.context > 48)
    throw new UsageError(
      `option --context must be an integer in [1, 48] (the window has 49 inputs), got ${o.context}`,
    );
  const out = o.json ? process.stderr : process.stdout;
  const progress = makeProgress(o.iters, "iteration {iter} | loss {loss}", out);
  const r = (() => {
    try {
      return runSineExperiment({
        cell: o.cell,
        hidden: o.hidden,
        layers: o.layers,
        iters: o.iters,
        lr: o.lr,
        clip: o.clip,
        seed: o.seed,
        context: o.context,
        onProgress: ({ iter, loss }) =>
          progress.update(
            iter + 1,
            { iter, loss: loss.toPrecision(6) },
            iter % 100 === 0 ? `Iteration: ${iter} loss ${loss}` : undefined,
          ),
      });
    } catch (e) {
      throw new CliError((e as Error).message);
    } finally {
      progress.stop();
    }
  })();
  const K = o.context;
  let charts: { svg: string; png: string } | null = null;
  if (o.chart) {
    const spec = sineChart({
      t: r.t,
      truth: r.truth,
      notesPred: [Number.NaN, ...r.notesPred],
      contextPred: [...new Array<number>(K).fill(Number.NaN), ...r.contextPred],
      contextLen: K,
      title: `Sine experiment: ${sineModelName(o)}, ${o.iters} iterations`,
    });
    const { writeChart } = await import("../render.js"); // loaded only when a chart is wanted
    const written = await writeChart(spec, o.out);
    charts = { svg: written.svgPath, png: written.pngPath };
  }
  if (o.json) {
    const result = {
      cell: o.cell,
      hidden: o.hidden,
      layers: o.layers,
      iters: o.iters,
      lr: o.lr,
      clip: o.clip ?? null,
      seed: o.seed,
      context: K,
      train_seconds: r.trainSeconds,
      final_loss: r.finalLoss,
      mean_loss_last100: r.meanLossLast100,
      notes_predict_mse: r.notesMse,
      notes_predict_mse_same_span: r.notesMseSameSpan,
      context_predict_mse: r.contextMse,
      chart_svg: charts?.svg ?? null,
      chart_png: charts?.png ?? null,
    };
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    return;
  }
  const lines = [
    "",
    `model:            ${r.model.toString().split("\n").join("\n                  ")}`,
    `trained:          ${o.iters} iterations in ${r.trainSeconds.toFixed(3)} s (final loss ${r.finalLoss.toExponential(3)}, mean of last 100 ${r.meanLossLast100.toExponential(3)})`,
    `notes' predict:   MSE ${r.notesMse.toExponential(3)} over ${r.notesPred.length} steps (state carried over from training)`,
    `context predict:  MSE ${r.contextMse.toExponential(3)} over ${r.contextPred.length} steps (fresh state, reads the first ${K} points); the notes' on the same steps: ${r.notesMseSameSpan.toExponential(3)}`,
    "",
    "Beyond the notes: their prediction starts from the hidden state that training left behind, which",
    "belongs to another window (another phase of the sine), so the roll-out often drifts. A forecaster",
    `starts from a fresh state and lets the network read the first ${K} observed points before it rolls out.`,
  ];
  if (charts) lines.push("", `chart:            ${charts.svg}`, `                  ${charts.png}`);
  process.stdout.write(`${lines.join("\n")}\n`);
}
