// The PyTorch recurrent-layer fixtures (test/fixtures/data/rnn, read by test/rnn-fixtures.ts as
// test/rnn.test.ts reads them) run on the webgpu device: each module moved with `to("webgpu")`, its input
// and initial states uploaded, forward (packed sequences packed on the device), backward of the fixture's
// weighted loss, and every output, final state, parameter gradient and input/state gradient read back.
// Prints, as one JSON line, each case's relative error (max |got − torch| / max |torch|) per tensor, or
// the error that refused it; webgpu-fixtures.test.ts asserts them. Also: dropout between layers in training
// mode, on the CPU and on the device from one seed. A child process of the tests (run.ts says why).

import { manualSeed } from "../../src/core/random.js";
import * as F from "../../src/core/ops.js";
import type { Tensor } from "../../src/core/tensor.js";
import { PackedSequence, packPaddedSequence, padPackedSequence } from "../../src/nn/packed.js";
import { LSTM, type RNNBase, type RNNCellBase, LSTMCell, GRU } from "../../src/nn/rnn.js";
import { build, loadRnnCase, RNN_CASES } from "../rnn-fixtures.js";
import { relErr } from "./fixtures-common.js";
import { arange } from "../../src/core/creation.js";
import { deviceOrExit, finish } from "./setup.js";

const ctx = await deviceOrExit();

const up = (t: Tensor, grad: boolean): Tensor => {
  const d = t.to("webgpu");
  return grad ? d.requiresGrad_() : d;
};
const sumProduct = (a: Tensor, w: Tensor) => F.sum(F.mul(a, up(w, false)));

async function runCase(name: string): Promise<Record<string, number>> {
  const fx = loadRnnCase(name);
  const m = build(fx.ctor) as RNNBase | RNNCellBase;
  m.loadStateDict(Object.fromEntries(fx.weights));
  if (fx.config.kind === "layer") m.train(fx.config.training);
  else m.eval();
  m.to("webgpu");
  const x = up(fx.input, true);
  const h0 = fx.h0 ? up(fx.h0, true) : null;
  const c0 = fx.c0 ? up(fx.c0, true) : null;
  const got: [string, Tensor, Tensor][] = []; // [what, device tensor, PyTorch's]
  let loss: Tensor;
  if (fx.config.kind === "cell") {
    let h: Tensor;
    let c: Tensor | null = null;
    if (m instanceof LSTMCell) [h, c] = m.forward(x, h0 && c0 ? [h0, c0] : null);
    else h = (m as unknown as { forward(x: Tensor, h: Tensor | null): Tensor }).forward(x, h0);
    got.push(["h'", h, fx.hN]);
    loss = sumProduct(h, fx.wH);
    if (c) {
      got.push(["c'", c, fx.cN!]);
      loss = F.add(loss, sumProduct(c, fx.wC!));
    }
  } else {
    const cfg = fx.config;
    const input = cfg.packed
      ? packPaddedSequence(x, cfg.lengths!, {
          batchFirst: cfg.batch_first,
          enforceSorted: cfg.enforce_sorted!,
        })
      : x;
    const hx = m instanceof LSTM ? (h0 && c0 ? ([h0, c0] as [Tensor, Tensor]) : null) : h0;
    // biome-ignore lint/suspicious/noExplicitAny: one call for the three layer classes
    const [out, state] = (m as any).forward(input, hx) as [
      Tensor | PackedSequence,
      Tensor | [Tensor, Tensor],
    ];
    const [hN, cN] = Array.isArray(state) ? state : [state, null];
    if (out instanceof PackedSequence) {
      got.push(["packed output", out.data, fx.packed!.data]);
      got.push(["output", padPackedSequence(out, { batchFirst: cfg.batch_first })[0], fx.output!]);
      loss = sumProduct(out.data, fx.wOutput!);
    } else {
      got.push(["output", out, fx.output!]);
      loss = sumProduct(out, fx.wOutput!);
    }
    got.push(["h_n", hN, fx.hN]);
    loss = F.add(loss, sumProduct(hN, fx.wH));
    if (cN) {
      got.push(["c_n", cN, fx.cN!]);
      loss = F.add(loss, sumProduct(cN, fx.wC!));
    }
  }
  loss.backward();
  for (const [n, p] of m.namedParameters()) got.push([`grad ${n}`, p.grad!, fx.grads.get(n)!]);
  got.push(["grad input", x.grad!, fx.gradInput]);
  if (h0) got.push(["grad h0", h0.grad!, fx.gradH0!]);
  if (c0) got.push(["grad c0", c0.grad!, fx.gradC0!]);
  const errs: Record<string, number> = {
    loss: Math.abs((await loss.itemAsync()) - fx.loss) / Math.max(Math.abs(fx.loss), 1e-30),
  };
  for (const [what, t, e] of got) {
    if (t === null || t === undefined) {
      errs[what] = Number.POSITIVE_INFINITY;
      continue;
    }
    if (t.device !== "webgpu") throw new Error(`${what} is on ${t.device}, expected webgpu`);
    errs[what] = relErr((await t.cpuAsync()).data as Float32Array, e.data as Float32Array, t.shape, e.shape);
  }
  return errs;
}

const results: Record<string, Record<string, number>> = {};
const refused: Record<string, string> = {};
for (const name of RNN_CASES) {
  try {
    results[name] = await runCase(name);
  } catch (e) {
    refused[name] = e instanceof Error ? e.message : String(e);
  }
}

// Dropout between layers in training mode: the same seed on the CPU and on the device gives the same masks,
// so the outputs and gradients agree to float32 rounding; another seed on the device does not.
async function dropoutRun(mode: "LSTM" | "GRU", device: "cpu" | "webgpu", seed: number) {
  manualSeed(11);
  const m =
    mode === "LSTM"
      ? new LSTM(3, 5, { numLayers: 3, dropout: 0.4, bidirectional: true })
      : new GRU(3, 5, { numLayers: 2, dropout: 0.5, batchFirst: true });
  const xCpu = F.reshape(F.sin(arange(0, 4 * 6 * 3)), [4, 6, 3]);
  if (device === "webgpu") m.to("webgpu");
  const x = device === "webgpu" ? up(xCpu, true) : xCpu.detach().requiresGrad_();
  manualSeed(seed);
  const [y] = (m as unknown as { forward(x: Tensor): [Tensor, unknown] }).forward(x);
  const loss = F.sum(F.mul(y, y));
  loss.backward();
  const read = async (t: Tensor) => ((await t.cpuAsync()).data as Float32Array).slice();
  return {
    y: await read(y),
    dx: await read(x.grad!),
    dW: await read(m.namedParameters()[0][1].grad!),
    loss: await loss.itemAsync(),
  };
}
const dropout: Record<string, number> = {};
for (const mode of ["LSTM", "GRU"] as const) {
  const cpu = await dropoutRun(mode, "cpu", 5);
  const gpu = await dropoutRun(mode, "webgpu", 5);
  const other = await dropoutRun(mode, "webgpu", 6);
  for (const k of ["y", "dx", "dW"] as const) {
    dropout[`${mode} ${k}`] = relErr(gpu[k], cpu[k]);
    dropout[`${mode} ${k} other seed`] = relErr(other[k], cpu[k]);
  }
  dropout[`${mode} loss`] = Math.abs(gpu.loss - cpu.loss) / Math.abs(cpu.loss);
  // the zeros the masks leave in the output's first layer... are inside; the output's exact zeros are none
}

finish(ctx, { results, refused, dropout });
