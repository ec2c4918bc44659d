// The character-level name classifier of PyTorch's tutorial "Classifying Names with a Character-Level
// RNN", ported line for line from examples/torch/name_classifier.py (which the fixtures run), on the
// first-name lists in datasets/: one-hot letters, the tutorial's hand-made RNN cell, NLLLoss, plain SGD.
// Run: npx tsx examples/name-classifier.ts [--device webgpu]
// On the GPU: `await runAsync({ device: "webgpu" })` moves the network there (`rnn.to("webgpu")`) and each
// name's one-hot letters (`lineToTensor(line).to("webgpu")`); the category ids stay on the CPU, as nll
// reads them there.
// The training is one generator for both devices: `yield t` reads t's values (examples/device.ts).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { cat, manualSeed, nn, noGrad, optim, randint, type Tensor, tensor, zeros } from "../src/index.js";
import { type Device, deviceFromArgs, type Program, runOnCpu, runOnDevice } from "./device.js";

const ROOT = join(import.meta.dirname, "..");
const allLetters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ .,;'-";
const nLetters = allLetters.length;
export const allCategories = ["female", "male"];

function loadLines(): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const c of allCategories) {
    out[c] = readFileSync(join(ROOT, "datasets", `first-names-${c}.txt`), "utf8")
      .split("\n")
      .map((l) => l.trim())
      .filter((l) => l);
  }
  return out;
}

function lineToTensor(line: string): Tensor {
  const t = zeros(line.length, 1, nLetters);
  for (let li = 0; li < line.length; li++) t.data[li * nLetters + allLetters.indexOf(line[li])] = 1;
  return t;
}

export class RNN extends nn.Module {
  i2h: nn.Linear;
  i2o: nn.Linear;
  softmax: nn.LogSoftmax;

  constructor(
    inputSize: number,
    readonly hiddenSize: number,
    outputSize: number,
  ) {
    super();
    this.i2h = new nn.Linear(inputSize + hiddenSize, hiddenSize);
    this.i2o = new nn.Linear(inputSize + hiddenSize, outputSize);
    this.softmax = new nn.LogSoftmax(1);
  }

  forward(input: Tensor, hidden: Tensor): [Tensor, Tensor] {
    const combined = cat([input, hidden], 1);
    const h = this.i2h.forward(combined);
    const output = this.softmax.forward(this.i2o.forward(combined));
    return [output, h];
  }

  /** zeros on the network's device */
  initHidden(): Tensor {
    return zeros(1, this.hiddenSize).to(this.i2h.weight.device);
  }
}

function evaluate(rnn: RNN, lineTensor: Tensor): Tensor {
  let hidden = rnn.initHidden();
  let output!: Tensor;
  for (let i = 0; i < lineTensor.shape[0]; i++)
    [output, hidden] = rnn.forward(lineTensor.select(0, i), hidden);
  return output;
}

export interface ClassifierOptions {
  nIters?: number;
  nHidden?: number;
  learningRate?: number;
  seed?: number;
}

export interface ClassifierResult {
  model: string;
  losses: number[];
  probes: string[];
  /** the probes' log-probabilities, one row each, on the CPU */
  outputs: Tensor;
}

function* trainOn(
  { nIters = 5000, nHidden = 128, learningRate = 0.005, seed = 0 }: ClassifierOptions,
  device: Device,
): Program<ClassifierResult> {
  manualSeed(seed);
  const categoryLines = loadLines();
  const rnn = new RNN(nLetters, nHidden, allCategories.length).to(device);
  const criterion = new nn.NLLLoss();

  const randomTrainingExample = () => {
    const category = allCategories[randint(0, allCategories.length, []).item()];
    const lines = categoryLines[category];
    const line = lines[randint(0, lines.length, []).item()];
    const categoryTensor = tensor([allCategories.indexOf(category)], { dtype: "int64" });
    return { category, line, categoryTensor, lineTensor: lineToTensor(line).to(device) };
  };

  // p.data.add_(p.grad.data, alpha=-learning_rate) for every parameter: on the CPU the loop below; a
  // device tensor takes no such write, and plain SGD's step is that update (p + f32(-lr)·g, as PyTorch's
  // add_ casts alpha to float32)
  const sgd = device === "cpu" ? null : new optim.SGD(rnn.parameters(), { lr: learningRate });
  const train = (categoryTensor: Tensor, lineTensor: Tensor): [Tensor, Tensor] => {
    let hidden = rnn.initHidden();
    rnn.zeroGrad();
    let output!: Tensor;
    for (let i = 0; i < lineTensor.shape[0]; i++)
      [output, hidden] = rnn.forward(lineTensor.select(0, i), hidden);
    const loss = criterion.forward(output, categoryTensor);
    loss.backward();
    if (sgd !== null) sgd.step();
    else {
      for (const p of rnn.parameters()) {
        const g = p.grad!.data;
        for (let k = 0; k < p.numel; k++) p.data[k] += -learningRate * g[k];
      }
    }
    return [output, loss];
  };

  const losses: number[] = [];
  for (let it = 0; it < nIters; it++) {
    const { categoryTensor, lineTensor } = randomTrainingExample();
    const [, loss] = train(categoryTensor, lineTensor);
    losses.push((yield loss).item());
  }
  const probes = ["Emma", "Oliver", "Sophia", "Jack", "Isabella", "Noah"];
  const outputs = yield noGrad(() => cat(probes.map((n) => evaluate(rnn, lineToTensor(n).to(device)))));
  return { model: rnn.toString(), losses, probes, outputs };
}

export function run(options: ClassifierOptions = {}): ClassifierResult {
  return runOnCpu(trainOn(options, "cpu"));
}

/** `run` on `device` ("webgpu": the network, its inputs and its training on the GPU). */
export function runAsync(options: ClassifierOptions & { device?: Device } = {}): Promise<ClassifierResult> {
  return runOnDevice(trainOn(options, options.device ?? "cpu"));
}

if (process.argv[1]?.endsWith("name-classifier.ts")) {
  const { device } = await deviceFromArgs();
  const r = device === "cpu" ? run() : await runAsync({ device });
  console.log(r.model);
  const mean = (a: number[]) => a.reduce((s, v) => s + v, 0) / a.length;
  console.log(
    `mean loss of the first 500 steps ${mean(r.losses.slice(0, 500)).toFixed(4)}, of the last 500 ${mean(r.losses.slice(-500)).toFixed(4)}`,
  );
  r.probes.forEach((name, i) => {
    const row = r.outputs.select(0, i);
    console.log(
      `${name}: ${allCategories[Number(row.argmax().item())]} (${Math.exp(row.max().item()).toFixed(2)})`,
    );
  });
}
