// `recurrent gradients`: vanishing and exploding gradients made visible, as the study notes teach them.
// For a model (built here, or read from a safetensors checkpoint) and one input sequence, prints
// ‖∂L/∂h_t‖ and ‖∂h_T/∂h_t‖ per time step and charts them on a log scale; `--compare` puts RNN, LSTM
// and GRU of the same size on the same input; `--clip` also trains the model twice from the same
// weights, with and without gradient-norm clipping, and charts the gradient norms and losses.

import { type Command, Option } from "commander";
import { flowInput, flowModels } from "../../app/gradflow.js";
import type { Tensor } from "../../core/tensor.js";
import {
  type CellName,
  type ClipExperimentResult,
  clipExperiment,
  flowRatio,
  type GradientFlowResult,
  gradientFlow,
  type LayerFlow,
  scaleRecurrent_,
  setForgetBias_,
} from "../../nn/gradflow.js";
import { GRU, LSTM, RNN, type RNNBase } from "../../nn/rnn.js";
import { type ChartSpec, gradientFlowChart, gradNormChart, lossChart, MAX_SERIES } from "../../viz/index.js";
import { checkDeclaredArch, recurrentArchOf } from "../../forecast/validate.js";
import { loadSafetensors } from "../checkpoint.js";
import { CliError, num, UsageError } from "./errors.js";
import { makeProgress } from "./progress.js";

type Cell = "rnn" | "lstm" | "gru";

const CELL_LABEL: Record<CellName, string> = { rnn: "RNN", "rnn-relu": "RNN-relu", lstm: "LSTM", gru: "GRU" };

export interface GradientsCliOptions {
  cell: Cell;
  nonlinearity: "tanh" | "relu";
  hidden: number;
  inputSize: number;
  layers: number;
  bidirectional: boolean;
  seqLen: number;
  initScale: number;
  forgetBias?: number;
  seed: number;
  input: "randn" | "sine";
  model?: string;
  compare: boolean;
  clip?: number;
  trainSteps: number;
  lr: number;
  jacobian: boolean;
  /** Set here when the sequence length came from a checkpoint. */
  seqLenNote?: string;
  out: string;
  chart: boolean;
  json: boolean;
}

/** One analysed model: how it was made and what gradientFlow found. */
interface Analysed {
  cell: Cell;
  label: string;
  module: RNNBase;
  source: string;
  flow: GradientFlowResult;
}

export function registerGradientsCommand(program: Command): void {
  const cmd = program
    .command("gradients")
    .description("vanishing and exploding gradients: ‖∂L/∂h_t‖ and ‖∂h_T/∂h_t‖ per time step, charted")
    .addOption(new Option("--cell <type>", "recurrent cell").choices(["rnn", "lstm", "gru"]).default("rnn"))
    .addOption(
      new Option("--nonlinearity <f>", "the RNN's nonlinearity (--cell rnn)")
        .choices(["tanh", "relu"])
        .default("tanh"),
    )
    .option("--hidden <n>", "hidden size", num("--hidden", "posint"), 16)
    .option("--input-size <n>", "input features per step", num("--input-size", "posint"), 4)
    .option("--layers <n>", "stacked layers", num("--layers", "posint"), 1)
    .option("--bidirectional", "run both directions", false)
    .option("--seq-len <T>", "time steps in the input sequence", num("--seq-len", "posint"), 30)
    .option(
      "--init-scale <s>",
      "multiply the recurrent weights W_hh (the notes' W_R) by s",
      num("--init-scale", "posfloat"),
      1,
    )
    .option(
      "--forget-bias <b>",
      "LSTM: set the forget gate's bias to b (default: as initialised)",
      num("--forget-bias", "float"),
    )
    .option(
      "--seed <n>",
      "weights after manual_seed(n); the input from a generator seeded n + 1",
      num("--seed", "int"),
      0,
    )
    .addOption(new Option("--input <kind>", "the input sequence").choices(["randn", "sine"]).default("randn"))
    .option("--model <file>", "read the weights (and their configuration) from a safetensors checkpoint")
    .option("--compare", "RNN, LSTM and GRU of the same size on the same input, in one chart", false)
    .option(
      "--clip <x>",
      "also train twice, with and without clipping the gradient norm to x",
      num("--clip", "posfloat"),
    )
    .option("--train-steps <n>", "training steps per run with --clip", num("--train-steps", "posint"), 300)
    .option("--lr <x>", "plain SGD learning rate with --clip", num("--lr", "posfloat"), 0.3)
    .option("--no-jacobian", "skip the Jacobian products (O(T·S³) for state size S)")
    .option(
      "--out <stem>",
      "chart file stem: <stem>.svg/.png, <stem>-jacobian.*, with --clip <stem>-clip.*, <stem>-loss.*",
      "gradients",
    )
    .option("--no-chart", "do not write charts")
    .option("--json", "print one JSON object with every figure", false)
    .addHelpText(
      "after",
      [
        "",
        "Examples:",
        "  recurrent gradients --cell rnn --init-scale 0.5            # vanishing: tanh RNN, small W_R",
        "  recurrent gradients --compare --init-scale 0.5 --forget-bias 3",
        "  recurrent gradients --cell rnn --init-scale 3 --clip 1     # exploding, with and without clipping",
        "  recurrent gradients --model run/best.safetensors --json",
      ].join("\n"),
    )
    .action(async (opts: GradientsCliOptions) => {
      await gradientsCommand(opts, (name) => cmd.getOptionValueSource(name) === "cli");
    });
}

function checkOptions(o: GradientsCliOptions, given: (name: string) => boolean): void {
  if (o.model !== undefined) {
    if (o.compare) throw new UsageError("--compare builds its own models; it cannot be used with --model");
    if (o.clip !== undefined)
      throw new UsageError("--clip trains models built here; it cannot be used with --model");
  }
  if (o.model === undefined && !o.compare) {
    if (given("nonlinearity") && o.cell !== "rnn") {
      throw new UsageError(`--nonlinearity applies to --cell rnn only, got --cell ${o.cell}`);
    }
    if (o.forgetBias !== undefined && o.cell !== "lstm") {
      throw new UsageError(`--forget-bias applies to the LSTM only, got --cell ${o.cell}`);
    }
  }
  if (!given("clip") && (given("trainSteps") || given("lr"))) {
    throw new UsageError("--train-steps and --lr set the training run of --clip; give --clip too");
  }
}

export async function gradientsCommand(
  o: GradientsCliOptions,
  given: (name: string) => boolean,
): Promise<void> {
  checkOptions(o, given);
  const models: { cell: Cell; label: string; module: RNNBase; source: string }[] = [];
  if (o.model !== undefined) {
    const m = await readModel(o, given);
    models.push({ cell: m.cell, module: m.module, source: m.source, label: m.cell });
    // a forecasting checkpoint reads `lookback` steps: analyse that many unless told otherwise
    if (m.lookback !== null && !given("seqLen")) {
      o.seqLen = m.lookback;
      o.seqLenNote = " (the checkpoint's lookback)";
    }
  } else {
    const cells: Cell[] = o.compare ? ["rnn", "lstm", "gru"] : [o.cell];
    const names = cells.map((c): CellName => (c === "rnn" && o.nonlinearity === "relu" ? "rnn-relu" : c));
    flowModels(names, { ...o, forgetBias: o.forgetBias ?? null }).forEach((module, k) => {
      models.push({ cell: cells[k], label: cells[k], module, source: `initialised (seed ${o.seed})` });
    });
  }
  const T = o.seqLen;
  const I = models[0].module.inputSize;
  const x = flowInput(o.input, T, I, o.seed);
  const analysed: Analysed[] = models.map((m) => {
    try {
      return { ...m, flow: gradientFlow(m.module, x, { jacobians: o.jacobian }) };
    } catch (e) {
      throw new CliError((e as Error).message);
    }
  });

  let clip: ClipExperimentResult | null = null;
  if (o.clip !== undefined) {
    const stream = o.json ? process.stderr : process.stdout;
    const progress = makeProgress(2 * o.trainSteps, "{run} step {step} | loss {loss}", stream);
    try {
      clip = clipExperiment({
        cell: o.cell === "rnn" && o.nonlinearity === "relu" ? "rnn-relu" : o.cell,
        hidden: o.hidden,
        initScale: o.initScale,
        clip: o.clip,
        steps: o.trainSteps,
        seqLen: T,
        lr: o.lr,
        seed: o.seed,
        forgetBias: o.cell === "lstm" ? (o.forgetBias ?? null) : null,
        onStep: (run, step, loss) => {
          const done = (run === "clipped" ? o.trainSteps : 0) + step + 1;
          const line = !o.json && step % 100 === 0 ? `${run} step ${step + 1}: loss ${fmt(loss)}` : undefined;
          progress.update(done, { run, step: step + 1, loss: fmt(loss) }, line);
        },
      });
    } catch (e) {
      throw new CliError((e as Error).message);
    } finally {
      progress.stop();
    }
  }

  const charts = o.chart ? await writeCharts(o, analysed, clip) : null;
  if (o.json) {
    process.stdout.write(`${JSON.stringify(toJson(o, analysed, clip, charts), null, 2)}\n`);
    return;
  }
  process.stdout.write(report(o, analysed, clip, charts));
}

// ---------------------------------------------------------------- input and checkpoints

/**
 * A recurrent layer from a safetensors file: a bare state dict (`weight_ih_l0`, ...) or any module's
 * state dict holding one (`rnn.weight_ih_l0`, ... as `recurrent train` writes, with the model's
 * configuration in the `recurrent.model` metadata). The configuration is read from the tensor shapes
 * (G·H rows: 1 RNN, 3 GRU, 4 LSTM) and checked against that metadata and any option given.
 */
async function readModel(
  o: GradientsCliOptions,
  given: (name: string) => boolean,
): Promise<{ cell: Cell; module: RNNBase; source: string; lookback: number | null }> {
  const path = o.model!;
  const { tensors, metadata } = await loadSafetensors(path);
  const bad: (msg: string) => never = (msg) => {
    throw new CliError(`${path}: ${msg}`);
  };
  const keys = Object.keys(tensors);
  const anchors = keys.filter((k) => k === "weight_ih_l0" || k.endsWith(".weight_ih_l0"));
  if (anchors.length === 0) {
    bad(
      `no recurrent layer found (expected a tensor named weight_ih_l0 or <prefix>.weight_ih_l0); it holds ${keys.length === 0 ? "no tensors" : keys.slice(0, 8).join(", ") + (keys.length > 8 ? ", ..." : "")}`,
    );
  }
  if (anchors.length > 1)
    bad(`more than one recurrent layer (${anchors.join(", ")}); which one is ambiguous`);
  const prefix = anchors[0].slice(0, -"weight_ih_l0".length);
  const sd: Record<string, Tensor> = {};
  for (const k of keys)
    if (k.startsWith(prefix) && /^(weight|bias)_(ih|hh|hr)_l\d+(_reverse)?$/.test(k.slice(prefix.length)))
      sd[k.slice(prefix.length)] = tensors[k];
  // the configuration the weights show, checked tensor by tensor, then against what the metadata
  // declares (recurrent train's forecast checkpoints): the same checks as every checkpoint reader
  const arch = recurrentArchOf(tensors, prefix, bad);
  const { cell, inputSize: I, hiddenSize: H, numLayers: layers, bidirectional, bias } = arch;
  const wHr = arch.projSize > 0 ? sd.weight_hr_l0 : undefined;
  const R = arch.projSize > 0 ? arch.projSize : H;
  const declared = metadata["recurrent.model"];
  if (declared !== undefined) {
    let j: unknown;
    try {
      j = JSON.parse(declared);
    } catch {
      bad("its recurrent.model metadata is not JSON");
    }
    if (j === null || typeof j !== "object" || Array.isArray(j))
      bad(`its recurrent.model metadata is ${JSON.stringify(j)}, not an object`);
    checkDeclaredArch(j as Record<string, unknown>, arch, bad);
  }
  for (const [opt, flag, v] of [
    ["cell", "--cell", cell],
    ["hidden", "--hidden", H],
    ["inputSize", "--input-size", I],
    ["layers", "--layers", layers],
    ["bidirectional", "--bidirectional", bidirectional],
  ] as const) {
    const mine = (o as unknown as Record<string, unknown>)[opt];
    if (given(opt) && mine !== v) bad(`${flag} ${String(mine)} does not match the checkpoint (${String(v)})`);
  }
  if (given("nonlinearity") && cell !== "rnn")
    bad(`--nonlinearity applies to an RNN, but the checkpoint holds a ${cell.toUpperCase()}`);
  if (o.forgetBias !== undefined && cell !== "lstm")
    bad(`--forget-bias applies to an LSTM, but the checkpoint holds a ${cell.toUpperCase()}`);
  const opts = { numLayers: layers, bidirectional, bias };
  let module: RNNBase;
  try {
    module =
      cell === "lstm"
        ? new LSTM(I, H, { ...opts, projSize: wHr !== undefined ? R : 0 })
        : cell === "gru"
          ? new GRU(I, H, opts)
          : new RNN(I, H, { ...opts, nonlinearity: o.nonlinearity });
    module.loadStateDict(sd);
  } catch (e) {
    bad(`cannot load its ${prefix ? `${prefix}* ` : ""}weights: ${(e as Error).message}`);
  }
  if (o.initScale !== 1) scaleRecurrent_(module!, o.initScale);
  if (o.forgetBias !== undefined) setForgetBias_(module!, o.forgetBias);
  const unused = keys.filter((k) => !(k.startsWith(prefix) && sd[k.slice(prefix.length)] !== undefined));
  const note = unused.length > 0 ? `; not used: ${unused.join(", ")}` : "";
  let lookback: number | null = null;
  try {
    const lb = JSON.parse(metadata["recurrent.data"] ?? "{}").lookback;
    if (Number.isInteger(lb) && lb > 0) lookback = lb;
  } catch {
    // no usable data section: the default sequence length stands
  }
  return { cell, module: module!, source: `${path}${prefix ? ` (${prefix}*)` : ""}${note}`, lookback };
}

// ---------------------------------------------------------------- output

function fmt(v: number): string {
  if (v === 0) return "0";
  if (Number.isNaN(v)) return "nan";
  if (!Number.isFinite(v)) return v > 0 ? "inf" : "-inf";
  return v.toExponential(2);
}

const dirName = (l: LayerFlow) => `layer ${l.layer}${l.direction === "reverse" ? " reverse" : ""}`;

/** Distinct (layer, direction) blocks, in the modules' order. */
function blocks(a: Analysed[]): { layer: number; direction: "forward" | "reverse" }[] {
  return a[0].flow.layers.map((l) => ({ layer: l.layer, direction: l.direction }));
}

function flowOf(a: Analysed, b: { layer: number; direction: string }): LayerFlow {
  return a.flow.layers.find((l) => l.layer === b.layer && l.direction === b.direction)!;
}

function modelLine(a: Analysed, o: GradientsCliOptions): string {
  const extra: string[] = [];
  if (o.initScale !== 1) extra.push(`W_hh × ${o.initScale}`);
  if (a.cell === "lstm" && o.forgetBias !== undefined) extra.push(`forget bias ${o.forgetBias}`);
  const w = a.flow.layers.map((l) => l.weightHhSpectral.toFixed(3)).join(", ");
  return `${a.module.toString()}${extra.length ? ` (${extra.join(", ")})` : ""}; ‖W_hh‖₂ = ${w}; ${a.source}`;
}

function report(
  o: GradientsCliOptions,
  analysed: Analysed[],
  clip: ClipExperimentResult | null,
  charts: Record<string, { svg: string; png: string }> | null,
): string {
  const T = o.seqLen;
  const I = analysed[0].module.inputSize;
  const lines: string[] = [];
  for (const a of analysed) lines.push(`model ${a.label.padEnd(5)} ${modelLine(a, o)}`);
  lines.push(
    `input       ${T} steps${o.seqLenNote ?? ""} × ${I} features, ${o.input === "randn" ? `N(0, 1) (generator seeded ${o.seed + 1})` : "sin(linspace(0, 10, T))"}`,
    `loss        L = sum of the last step's output = ${analysed.map((a) => `${a.flow.loss.toPrecision(6)} (${a.label})`).join(", ")}`,
    "",
    "‖∂L/∂h_t‖: how much the end of the sequence hears of step t (autograd, retain_grad on every h_t).",
    "‖∂h_T/∂h_t‖₂: the product of the step Jacobians diag(f')·W_R (LSTM, GRU: their full step Jacobians),",
    "within one layer, as its largest singular value. For the LSTM, ‖∂c_T/∂c_t‖₂ is the cell path.",
  );
  for (const b of blocks(analysed)) {
    const end = b.direction === "reverse" ? "1" : "T";
    const cols: { head: string; values: number[] }[] = [];
    for (const a of analysed) {
      const f = flowOf(a, b);
      const p = analysed.length > 1 ? `${a.label} ` : "";
      cols.push({ head: `${p}‖∂L/∂h_t‖`, values: f.gradH });
      if (f.jacobianH) cols.push({ head: `${p}‖∂h_${end}/∂h_t‖₂`, values: f.jacobianH.spectral });
      if (f.jacobianC) cols.push({ head: `${p}‖∂c_${end}/∂c_t‖₂`, values: f.jacobianC.spectral });
    }
    lines.push("", `${dirName(b as LayerFlow)}:`);
    const w = cols.map((c) => Math.max(c.head.length, 9) + 2);
    lines.push(`${"t".padStart(4)}${cols.map((c, i) => c.head.padStart(w[i])).join("")}`);
    for (let t = 0; t < T; t++) {
      lines.push(
        `${String(t + 1).padStart(4)}${cols.map((c, i) => fmt(c.values[t]).padStart(w[i])).join("")}`,
      );
    }
  }
  lines.push("");
  for (const a of analysed) {
    for (const f of a.flow.layers) {
      const first = f.direction === "reverse" ? T - 1 : 0;
      const last = f.direction === "reverse" ? 0 : T - 1;
      const { ratio: r, text: what } = flowRatio(f.gradH[first], f.gradH[last]);
      const farthest = f.direction === "reverse" ? `t = ${T}` : "t = 1";
      lines.push(`${a.label} ${dirName(f)}: ‖∂L/∂h‖ at ${farthest} / at its last step = ${fmt(r)} (${what})`);
    }
  }
  if (clip !== null) {
    const { unclipped: u, clipped: c, options: co } = clip;
    const maxFinite = (v: number[]) => Math.max(...v.filter(Number.isFinite));
    lines.push(
      "",
      `training (${co.cell}, H = ${co.hidden}, W_hh × ${co.initScale}, plain SGD lr ${co.lr}, ${co.steps} steps, sine one step ahead over ${co.seqLen} points):`,
      `  without clipping: largest gradient norm ${fmt(maxFinite(u.gradNorm))}; ${u.divergedAt === null ? `final loss ${fmt(u.loss[u.loss.length - 1])}` : `diverged at step ${u.divergedAt + 1} (loss ${fmt(u.loss[u.divergedAt])})`}`,
      `  clip ${co.clip}:          largest gradient norm ${fmt(maxFinite(c.gradNorm))} before clipping, ${fmt(maxFinite(c.appliedNorm))} applied; ${c.divergedAt === null ? `final loss ${fmt(c.loss[c.loss.length - 1])}` : `diverged at step ${c.divergedAt + 1}`}`,
    );
  }
  if (charts) {
    lines.push("", "charts:");
    for (const c of Object.values(charts)) lines.push(`  ${c.svg}`, `  ${c.png}`);
  }
  return `${lines.join("\n")}\n`;
}

function seriesJson(s: { frobenius: number[]; spectral: number[] } | null) {
  return s === null ? null : { frobenius: s.frobenius, spectral: s.spectral };
}

function toJson(
  o: GradientsCliOptions,
  analysed: Analysed[],
  clip: ClipExperimentResult | null,
  charts: Record<string, { svg: string; png: string }> | null,
) {
  const runJson = (r: ClipExperimentResult["clipped"]) => ({
    clip: r.clip,
    grad_norm: r.gradNorm,
    applied_norm: r.appliedNorm,
    loss: r.loss,
    diverged_at_step: r.divergedAt === null ? null : r.divergedAt + 1,
  });
  return {
    seq_len: o.seqLen,
    seed: o.seed,
    input: o.input,
    init_scale: o.initScale,
    forget_bias: o.forgetBias ?? null,
    t: Array.from({ length: o.seqLen }, (_, i) => i + 1),
    models: analysed.map((a) => ({
      cell: a.cell,
      mode: a.flow.mode,
      module: a.module.toString(),
      source: a.source,
      input_size: a.module.inputSize,
      hidden_size: a.flow.hiddenSize,
      num_layers: a.flow.numLayers,
      bidirectional: a.flow.bidirectional,
      loss: a.flow.loss,
      layers: a.flow.layers.map((l) => ({
        layer: l.layer,
        direction: l.direction,
        end_step: l.endStep,
        weight_hh_spectral: l.weightHhSpectral,
        grad_h: l.gradH,
        grad_c: l.gradC,
        jacobian_h: seriesJson(l.jacobianH),
        jacobian_c: seriesJson(l.jacobianC),
        forget_path: seriesJson(l.forgetPath),
      })),
    })),
    clip_experiment:
      clip === null
        ? null
        : {
            cell: clip.options.cell,
            hidden: clip.options.hidden,
            init_scale: clip.options.initScale,
            clip: clip.options.clip,
            steps: clip.options.steps,
            seq_len: clip.options.seqLen,
            lr: clip.options.lr,
            seed: clip.options.seed,
            unclipped: runJson(clip.unclipped),
            clipped: runJson(clip.clipped),
          },
    charts,
  };
}

// ---------------------------------------------------------------- charts

async function writeCharts(
  o: GradientsCliOptions,
  analysed: Analysed[],
  clip: ClipExperimentResult | null,
): Promise<Record<string, { svg: string; png: string }>> {
  const out: Record<string, { svg: string; png: string }> = {};
  // loaded only when charts are wanted: the renderer (vega, resvg) takes a while to load
  const { writeChart } = await import("../render.js");
  const write = async (key: string, spec: ChartSpec, stem: string) => {
    try {
      const r = await writeChart(spec, stem);
      out[key] = { svg: r.svgPath, png: r.pngPath };
    } catch (e) {
      throw new CliError(`cannot write the chart ${stem}.svg/.png: ${(e as Error).message}`);
    }
  };
  const multi = analysed.length > 1;
  const chosen = blocks(analysed);
  const perBlock = (withCell: boolean) =>
    analysed.reduce((n, a) => n + (withCell && a.cell === "lstm" ? 2 : 1), 0);
  // at most MAX_SERIES lines per chart: drop lower layers, then reverse directions, if needed
  const chooseBlocks = (withCell: boolean) => {
    let b = chosen;
    const note: string[] = [];
    if (b.length * perBlock(withCell) > MAX_SERIES) {
      const top = Math.max(...b.map((x) => x.layer));
      b = b.filter((x) => x.layer === top);
      note.push(`top layer only`);
    }
    if (b.length * perBlock(withCell) > MAX_SERIES) {
      b = b.filter((x) => x.direction === "forward");
      note.push("forward direction only");
    }
    return { b, note };
  };
  const name = (a: Analysed, b: { layer: number; direction: string }, what: string) => {
    const parts = [a.label, chosen.length > 1 ? dirName(b as LayerFlow) : "", what].filter((s) => s);
    return parts.join(" ") || a.label;
  };
  const desc = multi
    ? `${analysed.map((a) => a.module.toString()).join(", ")}`
    : analysed[0].module.toString();
  const tweaks = [
    o.initScale !== 1 ? `W_hh × ${o.initScale}` : "",
    o.forgetBias !== undefined && analysed.some((a) => a.cell === "lstm")
      ? `LSTM forget bias ${o.forgetBias}`
      : "",
  ]
    .filter((s) => s)
    .join(", ");
  const subtitle = `${desc}${tweaks ? `; ${tweaks}` : ""}; ${o.seqLen} steps of ${o.input === "randn" ? "N(0, 1)" : "a sine"} input, seed ${o.seed}`;

  {
    const { b, note } = chooseBlocks(false);
    const series = b.flatMap((blk) =>
      analysed.map((a) => ({ name: name(a, blk, ""), values: flowOf(a, blk).gradH })),
    );
    await write(
      "flow",
      gradientFlowChart({
        title: "How much the end of the sequence hears of step t: ‖∂L/∂h_t‖",
        subtitle: `${subtitle}${note.length ? `; ${note.join(", ")}` : ""}`,
        series,
        yLabel: "‖∂L/∂h_t‖ (log scale)",
        xLabel: "time step t",
      }),
      o.out,
    );
  }
  if (analysed[0].flow.layers[0].jacobianH !== null) {
    const { b, note } = chooseBlocks(true);
    const series = b.flatMap((blk) =>
      analysed.flatMap((a) => {
        const f = flowOf(a, blk);
        const end = f.direction === "reverse" ? "1" : "T";
        const s = [{ name: name(a, blk, `‖∂h_${end}/∂h_t‖₂`), values: f.jacobianH!.spectral }];
        if (f.jacobianC)
          s.push({ name: name(a, blk, `‖∂c_${end}/∂c_t‖₂ (cell path)`), values: f.jacobianC.spectral });
        return s;
      }),
    );
    await write(
      "jacobian",
      gradientFlowChart({
        title: "The product of step Jacobians: ‖∂h_T/∂h_t‖₂ = ‖∏ diag(f′)·W_R‖₂",
        width: 900,
        subtitle: `${subtitle}${note.length ? `; ${note.join(", ")}` : ""}`,
        series,
        yLabel: "‖∂h_T/∂h_t‖₂ (log scale)",
        xLabel: "time step t",
      }),
      `${o.out}-jacobian`,
    );
  }
  if (clip !== null) {
    const { unclipped: u, clipped: c, options: co } = clip;
    const sub = `${CELL_LABEL[co.cell]}(1, ${co.hidden}), W_hh × ${co.initScale}, plain SGD lr ${co.lr}, sine one step ahead, seed ${co.seed}${u.divergedAt !== null ? `; unclipped: diverged at step ${u.divergedAt + 1}` : ""}`;
    await write(
      "clip",
      gradNormChart({
        title: "Exploding gradients: gradient norm per training step",
        width: 900,
        subtitle: sub,
        series: [
          { name: "without clipping", values: u.gradNorm },
          { name: `clip ${co.clip}: norm before clipping`, values: c.gradNorm },
          { name: `clip ${co.clip}: norm applied`, values: c.appliedNorm },
        ],
        clip: co.clip,
        logScale: true,
      }),
      `${o.out}-clip`,
    );
    await write(
      "loss",
      lossChart({
        title: "Training loss (MSE) with and without clipping",
        subtitle: sub,
        series: [
          { name: "without clipping", values: u.loss },
          { name: `clip ${co.clip}`, values: c.loss },
        ],
        xLabel: "training step",
        logScale: true,
      }),
      `${o.out}-loss`,
    );
  }
  return out;
}
