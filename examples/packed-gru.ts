// Regression on variable-length sequences with a packed bidirectional GRU, a DataLoader and a StepLR
// scheduler, ported line for line from examples/torch/packed_gru.py (which the fixtures run).
// Run: npx tsx examples/packed-gru.ts
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

export function run({ epochs = 12, seed = 0 } = {}) {
  manualSeed(seed);
  const [x, lengths, y] = makeData();
  const loader = new data.DataLoader(new data.TensorDataset(x, lengths, y), {
    batchSize: BATCH,
    shuffle: true,
  });
  const model = new Regressor();
  const opt = new optim.Adam(model.parameters(), { lr: 1e-2 });
  const sched = new optim.StepLR(opt, { stepSize: 4, gamma: 0.5 });
  const losses: number[] = [];
  const epochLosses: number[] = [];
  const lrs: number[] = [];
  for (let e = 0; e < epochs; e++) {
    let total = 0;
    for (const [xb, lb, yb] of loader) {
      const loss = F.mseLoss(model.forward(xb, lb), yb);
      opt.zeroGrad();
      loss.backward();
      opt.step();
      losses.push(loss.item());
      total += loss.item() * yb.shape[0];
    }
    epochLosses.push(total / N);
    lrs.push(opt.paramGroups[0].lr);
    sched.step();
  }
  const pred = noGrad(() => model.forward(x.narrow(0, 0, 8), lengths.narrow(0, 0, 8)));
  return { model: model.toString(), losses, epochLosses, lrs, pred, target: y.narrow(0, 0, 8) };
}

if (process.argv[1]?.endsWith("packed-gru.ts")) {
  const r = run();
  console.log(r.model);
  r.epochLosses.forEach((l, i) => {
    console.log(`epoch ${i + 1}: mse ${l.toFixed(4)} (lr ${r.lrs[i]})`);
  });
  console.log("predictions:", Array.from(r.pred.data, (v) => Number(v).toFixed(3)).join(" "));
  console.log("targets:    ", Array.from(r.target.data, (v) => Number(v).toFixed(3)).join(" "));
}
