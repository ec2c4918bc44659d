// Regression on variable-length sequences with a packed bidirectional GRU, a DataLoader and a StepLR
// scheduler, ported line for line from examples/torch/packed_gru.py (which the fixtures run).
// Run: npx tsx examples/packed-gru.ts [--device webgpu]
// On the GPU: `await runAsync({ device: "webgpu" })` moves the model there (`model.to("webgpu")`) and each
// batch's sequences and targets (`xb.to("webgpu")`); the lengths stay on the CPU, as PyTorch's
// pack_padded_sequence wants them.
// The training is one generator for both devices: `yield t` reads t's values (examples/device.ts).
import {
  cat,
  data,
  manualSeed,
  nn,
  noGrad,
  optim,
  randint,
  randn,
  stack,
  type Tensor,
} from "../src/index.js";
import { type Device, deviceFromArgs, type Program, runOnCpu, runOnDevice } from "./device.js";

const F = nn.functional;
const [N, MAX_LEN, FEATURES, HIDDEN, BATCH] = [256, 12, 2, 32, 32];

function makeData(): [Tensor, Tensor, Tensor] {
  const lengths = randint(3, MAX_LEN + 1, [N]).to("int64");
  const xs = Array.from(lengths.data, (n) => randn(Number(n), FEATURES));
  const y = stack(xs.map((x) => x.select(1, 0).mean().add(x.select(0, -1).select(0, 1)))).unsqueeze(1);
  return [nn.padSequence(xs, { batchFirst: true }), lengths, y];
}

export class Regressor extends nn.Module {
  gru: nn.GRU;
  head: nn.Linear;

  constructor() {
    super();
    this.gru = new nn.GRU(FEATURES, HIDDEN, { batchFirst: true, bidirectional: true });
    this.head = new nn.Linear(2 * HIDDEN, 1);
  }

  forward(x: Tensor, lengths: Tensor): Tensor {
    const packed = nn.packPaddedSequence(x, lengths, { batchFirst: true, enforceSorted: false });
    const [, h] = this.gru.forward(packed); // h: (2, B, H), forward and backward final states
    return this.head.forward(cat([h.select(0, 0), h.select(0, 1)], 1));
  }
}

export interface RegressorOptions {
  epochs?: number;
  seed?: number;
}

export interface RegressorResult {
  model: string;
  losses: number[];
  epochLosses: number[];
  lrs: number[];
  /** the first 8 sequences' predictions and targets, on the CPU */
  pred: Tensor;
  target: Tensor;
}

function* train({ epochs = 12, seed = 0 }: RegressorOptions, device: Device): Program<RegressorResult> {
  manualSeed(seed);
  const [x, lengths, y] = makeData();
  const loader = new data.DataLoader(new data.TensorDataset(x, lengths, y), {
    batchSize: BATCH,
    shuffle: true,
  });
  const model = new Regressor().to(device);
  const opt = new optim.Adam(model.parameters(), { lr: 1e-2 });
  const sched = new optim.StepLR(opt, { stepSize: 4, gamma: 0.5 });
  const losses: number[] = [];
  const epochLosses: number[] = [];
  const lrs: number[] = [];
  for (let e = 0; e < epochs; e++) {
    let total = 0;
    for (const [xb, lb, yb] of loader) {
      const loss = F.mseLoss(model.forward(xb.to(device), lb), yb.to(device));
      opt.zeroGrad();
      loss.backward();
      opt.step();
      const l = (yield loss).item();
      losses.push(l);
      total += l * yb.shape[0];
    }
    epochLosses.push(total / N);
    lrs.push(opt.paramGroups[0].lr);
    sched.step();
  }
  const pred = yield noGrad(() => model.forward(x.narrow(0, 0, 8).to(device), lengths.narrow(0, 0, 8)));
  return { model: model.toString(), losses, epochLosses, lrs, pred, target: y.narrow(0, 0, 8) };
}

export function run(options: RegressorOptions = {}): RegressorResult {
  return runOnCpu(train(options, "cpu"));
}

/** `run` on `device` ("webgpu": the model, the batches and the training on the GPU). */
export function runAsync(options: RegressorOptions & { device?: Device } = {}): Promise<RegressorResult> {
  return runOnDevice(train(options, options.device ?? "cpu"));
}

if (process.argv[1]?.endsWith("packed-gru.ts")) {
  const { device } = await deviceFromArgs();
  const r = device === "cpu" ? run() : await runAsync({ device });
  console.log(r.model);
  r.epochLosses.forEach((l, i) => {
    console.log(`epoch ${i + 1}: mse ${l.toFixed(4)} (lr ${r.lrs[i]})`);
  });
  console.log("predictions:", Array.from(r.pred.data, (v) => Number(v).toFixed(3)).join(" "));
  console.log("targets:    ", Array.from(r.target.data, (v) => Number(v).toFixed(3)).join(" "));
}
