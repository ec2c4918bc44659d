// The part-of-speech tagger of PyTorch's tutorial "Sequence Models and LSTM Networks", ported line for
// line from examples/torch/pos_tagger.py (which the fixtures run): Embedding -> LSTM -> Linear ->
// logSoftmax, NLLLoss, SGD. Run: npx tsx examples/pos-tagger.ts [--device webgpu]
// On the GPU: `await runAsync(300, "webgpu")` moves the model there (`model.to("webgpu")`); the word and
// tag ids stay on the CPU, as embedding and nll read them there.
// The training is one generator for both devices: `yield t` reads t's values (examples/device.ts).
import { manualSeed, nn, noGrad, optim, type Tensor, tensor } from "../src/index.js";
import { type Device, deviceFromArgs, type Program, runOnCpu, runOnDevice } from "./device.js";

const F = nn.functional;

export const trainingData: [string[], string[]][] = [
  ["The dog ate the apple".split(" "), ["DET", "NN", "V", "DET", "NN"]],
  ["Everybody read that book".split(" "), ["NN", "V", "DET", "NN"]],
];
export const tagToIx: Record<string, number> = { DET: 0, NN: 1, V: 2 };
const EMBEDDING_DIM = 6;
const HIDDEN_DIM = 6;

function prepareSequence(seq: string[], toIx: Record<string, number>): Tensor {
  return tensor(
    seq.map((w) => toIx[w]),
    { dtype: "int64" },
  );
}

export class LSTMTagger extends nn.Module {
  word_embeddings: nn.Embedding;
  lstm: nn.LSTM;
  hidden2tag: nn.Linear;

  constructor(
    embeddingDim: number,
    readonly hiddenDim: number,
    vocabSize: number,
    tagsetSize: number,
  ) {
    super();
    this.word_embeddings = new nn.Embedding(vocabSize, embeddingDim);
    this.lstm = new nn.LSTM(embeddingDim, hiddenDim);
    this.hidden2tag = new nn.Linear(hiddenDim, tagsetSize);
  }

  forward(sentence: Tensor): Tensor {
    const n = sentence.shape[0];
    const embeds = this.word_embeddings.forward(sentence);
    const [lstmOut] = this.lstm.forward(embeds.view(n, 1, -1));
    const tagSpace = this.hidden2tag.forward(lstmOut.view(n, -1));
    return F.logSoftmax(tagSpace, 1);
  }
}

export interface TaggerResult {
  model: string;
  /** the tag scores of the first sentence before and after training, on the CPU */
  before: Tensor;
  after: Tensor;
  losses: number[];
  predicted: number[];
}

function* train(epochs: number, device: Device): Program<TaggerResult> {
  manualSeed(1);
  const wordToIx: Record<string, number> = {};
  for (const [sent] of trainingData)
    for (const w of sent) if (!(w in wordToIx)) wordToIx[w] = Object.keys(wordToIx).length;
  const model = new LSTMTagger(
    EMBEDDING_DIM,
    HIDDEN_DIM,
    Object.keys(wordToIx).length,
    Object.keys(tagToIx).length,
  ).to(device);
  const lossFunction = new nn.NLLLoss();
  const optimizer = new optim.SGD(model.parameters(), { lr: 0.1 });
  const before = yield noGrad(() => model.forward(prepareSequence(trainingData[0][0], wordToIx)));
  const losses: number[] = [];
  for (let epoch = 0; epoch < epochs; epoch++) {
    for (const [sentence, tags] of trainingData) {
      model.zeroGrad();
      const sentenceIn = prepareSequence(sentence, wordToIx);
      const targets = prepareSequence(tags, tagToIx);
      const tagScores = model.forward(sentenceIn);
      const loss = lossFunction.forward(tagScores, targets);
      loss.backward();
      optimizer.step();
      losses.push((yield loss).item());
    }
  }
  const after = yield noGrad(() => model.forward(prepareSequence(trainingData[0][0], wordToIx)));
  const predicted = Array.from(after.argmax(1).data, Number);
  return { model: model.toString(), before, after, losses, predicted };
}

export function run(epochs = 300): TaggerResult {
  return runOnCpu(train(epochs, "cpu"));
}

/** `run` on `device` ("webgpu": the model and its training on the GPU); the scores come back on the CPU. */
export function runAsync(epochs = 300, device: Device = "cpu"): Promise<TaggerResult> {
  return runOnDevice(train(epochs, device));
}

if (process.argv[1]?.endsWith("pos-tagger.ts")) {
  const { device } = await deviceFromArgs();
  const r = device === "cpu" ? run() : await runAsync(300, device);
  console.log(r.model);
  console.log("tag scores before training:");
  console.log(r.before.toString());
  console.log(
    `loss at step 1: ${r.losses[0].toFixed(4)}, at step ${r.losses.length}: ${r.losses[r.losses.length - 1].toFixed(4)}`,
  );
  console.log("tag scores after training:");
  console.log(r.after.toString());
  const ixToTag = Object.fromEntries(Object.entries(tagToIx).map(([k, v]) => [v, k]));
  console.log("predicted:", r.predicted.map((i) => ixToTag[i]).join(" "));
}
