// The GRU encoder-decoder with attention of PyTorch's tutorial "Translation with a Sequence to Sequence
// Network and Attention", ported line for line from examples/torch/seq2seq_attention.py (which the
// fixtures run), on its shipped task: a sequence of digits -> the same digits reversed.
// One difference in form: the tutorial writes each encoder output into a zeros tensor in place
// (`encoder_outputs[ei] = ...`); here the outputs are stacked and zero-padded, the same values and
// gradients. Run: npx tsx examples/seq2seq-attention.ts [--device webgpu]
// On the GPU: `await runAsync({ device: "webgpu" })` moves the encoder and the decoder there
// (`encoder.to("webgpu")`); the token ids stay on the CPU, as embedding and nll read them there, so
// greedy decoding takes topk on the device and reads the chosen id back.
// The training is one generator for both devices: `yield t` reads t's values (examples/device.ts).
import {
  cat,
  manualSeed,
  nn,
  noGrad,
  optim,
  rand,
  randint,
  stack,
  type Tensor,
  tensor,
  zeros,
} from "../src/index.js";
import { type Device, deviceFromArgs, type Program, runOnCpu, runOnDevice } from "./device.js";

const F = nn.functional;
const [SOS_token, EOS_token] = [0, 1];
const MAX_LENGTH = 8;
const N_WORDS = 12; // SOS, EOS and the digits 0-9 (token d + 2)
const HIDDEN = 32;

function makePairs(n: number): [number[], number[]][] {
  const pairs: [number[], number[]][] = [];
  for (let i = 0; i < n; i++) {
    const length = randint(3, 7, []).item();
    const src = Array.from(randint(0, 10, [length]).data, (v) => Number(v) + 2);
    pairs.push([src, src.slice().reverse()]);
  }
  return pairs;
}

function tensorFromTokens(tokens: number[]): Tensor {
  return tensor([...tokens, EOS_token], { dtype: "int64" }).view(-1, 1);
}

export class EncoderRNN extends nn.Module {
  embedding: nn.Embedding;
  gru: nn.GRU;

  constructor(
    inputSize: number,
    readonly hiddenSize: number,
  ) {
    super();
    this.embedding = new nn.Embedding(inputSize, hiddenSize);
    this.gru = new nn.GRU(hiddenSize, hiddenSize);
  }

  forward(input: Tensor, hidden: Tensor): [Tensor, Tensor] {
    const embedded = this.embedding.forward(input).view(1, 1, -1);
    return this.gru.forward(embedded, hidden);
  }

  /** zeros on the encoder's device */
  initHidden(): Tensor {
    return zeros(1, 1, this.hiddenSize).to(this.embedding.weight.device);
  }
}

export class AttnDecoderRNN extends nn.Module {
  embedding: nn.Embedding;
  attn: nn.Linear;
  attn_combine: nn.Linear;
  dropout: nn.Dropout;
  gru: nn.GRU;
  out: nn.Linear;

  constructor(hiddenSize: number, outputSize: number, dropoutP = 0.1, maxLength = MAX_LENGTH) {
    super();
    this.embedding = new nn.Embedding(outputSize, hiddenSize);
    this.attn = new nn.Linear(hiddenSize * 2, maxLength);
    this.attn_combine = new nn.Linear(hiddenSize * 2, hiddenSize);
    this.dropout = new nn.Dropout(dropoutP);
    this.gru = new nn.GRU(hiddenSize, hiddenSize);
    this.out = new nn.Linear(hiddenSize, outputSize);
  }

  forward(input: Tensor, hidden: Tensor, encoderOutputs: Tensor): [Tensor, Tensor, Tensor] {
    let embedded = this.embedding.forward(input).view(1, 1, -1);
    embedded = this.dropout.forward(embedded);
    const attnWeights = F.softmax(this.attn.forward(cat([embedded.select(0, 0), hidden.select(0, 0)], 1)), 1);
    const attnApplied = attnWeights.unsqueeze(0).bmm(encoderOutputs.unsqueeze(0));
    let output = cat([embedded.select(0, 0), attnApplied.select(0, 0)], 1);
    output = this.attn_combine.forward(output).unsqueeze(0);
    output = F.relu(output);
    const [o, h] = this.gru.forward(output, hidden);
    return [F.logSoftmax(this.out.forward(o.select(0, 0)), 1), h, attnWeights];
  }
}

/** The encoder's outputs, stacked and zero-padded to maxLength rows (the tutorial's encoder_outputs). */
function encode(encoder: EncoderRNN, inputTensor: Tensor, maxLength = MAX_LENGTH): [Tensor, Tensor] {
  let encoderHidden = encoder.initHidden();
  const outs: Tensor[] = [];
  for (let ei = 0; ei < inputTensor.shape[0]; ei++) {
    const [encoderOutput, h] = encoder.forward(inputTensor.select(0, ei), encoderHidden);
    encoderHidden = h;
    outs.push(encoderOutput.select(0, 0).select(0, 0));
  }
  const pad = zeros(maxLength - outs.length, encoder.hiddenSize).to(encoderHidden.device);
  const encoderOutputs = cat([stack(outs), pad]);
  return [encoderOutputs, encoderHidden];
}

function* train(
  inputTensor: Tensor,
  targetTensor: Tensor,
  encoder: EncoderRNN,
  decoder: AttnDecoderRNN,
  encoderOptimizer: optim.SGD,
  decoderOptimizer: optim.SGD,
  criterion: nn.NLLLoss,
  teacherForcingRatio = 0.5,
): Program<number> {
  encoderOptimizer.zeroGrad();
  decoderOptimizer.zeroGrad();
  const targetLength = targetTensor.shape[0];
  const [encoderOutputs, encoderHidden] = encode(encoder, inputTensor);
  let loss: Tensor | null = null;
  let decoderInput = tensor([[SOS_token]], { dtype: "int64" });
  let decoderHidden = encoderHidden;
  const useTeacherForcing = rand([]).item() < teacherForcingRatio;
  for (let di = 0; di < targetLength; di++) {
    const [decoderOutput, h] = decoder.forward(decoderInput, decoderHidden, encoderOutputs);
    decoderHidden = h;
    const l = criterion.forward(decoderOutput, targetTensor.select(0, di));
    loss = loss === null ? l : loss.add(l);
    if (useTeacherForcing) {
      decoderInput = targetTensor.select(0, di); // Teacher forcing
    } else {
      const [, topi] = decoderOutput.topk(1);
      decoderInput = (yield topi).squeeze().detach(); // detach from history as input
      if (Number(decoderInput.item()) === EOS_token) break;
    }
  }
  loss!.backward();
  encoderOptimizer.step();
  decoderOptimizer.step();
  return (yield loss!).item() / targetLength;
}

function* evaluate(
  encoder: EncoderRNN,
  decoder: AttnDecoderRNN,
  tokens: number[],
): Program<[number[], Tensor]> {
  // noGrad around each forward: a generator cannot hold grad mode off across its reads
  const [encoderOutputs, encoderHidden] = noGrad(() => encode(encoder, tensorFromTokens(tokens)));
  let decoderInput = tensor([[SOS_token]], { dtype: "int64" });
  let decoderHidden = encoderHidden;
  const decoded: number[] = [];
  const attentions: Tensor[] = [];
  for (let di = 0; di < MAX_LENGTH; di++) {
    const [decoderOutput, h, decoderAttention] = noGrad(() =>
      decoder.forward(decoderInput, decoderHidden, encoderOutputs),
    );
    decoderHidden = h;
    attentions.push(decoderAttention.select(0, 0));
    const [, topi] = decoderOutput.topk(1);
    const top = Number((yield topi).item());
    if (top === EOS_token) break;
    decoded.push(top);
    decoderInput = tensor(top, { dtype: "int64" });
  }
  return [decoded, yield stack(attentions)];
}

export interface Seq2seqOptions {
  nIters?: number;
  dropoutP?: number;
  learningRate?: number;
  seed?: number;
}

export interface Seq2seqResult {
  encoder: string;
  decoder: string;
  losses: number[];
  probes: number[][];
  decoded: number[][];
  /** each probe's attention weights, one row per decoded step, on the CPU */
  attentions: Tensor[];
}

function* trainOn(
  { nIters = 3000, dropoutP = 0.1, learningRate = 0.01, seed = 0 }: Seq2seqOptions,
  device: Device,
): Program<Seq2seqResult> {
  manualSeed(seed);
  const pairs = makePairs(200);
  const encoder = new EncoderRNN(N_WORDS, HIDDEN).to(device);
  const decoder = new AttnDecoderRNN(HIDDEN, N_WORDS, dropoutP).to(device);
  const encoderOptimizer = new optim.SGD(encoder.parameters(), { lr: learningRate });
  const decoderOptimizer = new optim.SGD(decoder.parameters(), { lr: learningRate });
  const criterion = new nn.NLLLoss();
  const losses: number[] = [];
  for (let it = 0; it < nIters; it++) {
    const [src, tgt] = pairs[randint(0, pairs.length, []).item()];
    losses.push(
      yield* train(
        tensorFromTokens(src),
        tensorFromTokens(tgt),
        encoder,
        decoder,
        encoderOptimizer,
        decoderOptimizer,
        criterion,
      ),
    );
  }
  encoder.eval();
  decoder.eval();
  const probes = [
    [3, 4, 5],
    [9, 2, 7, 7],
    [11, 10, 2, 3, 8],
  ];
  const results: [number[], Tensor][] = [];
  for (const p of probes) results.push(yield* evaluate(encoder, decoder, p));
  return {
    encoder: encoder.toString(),
    decoder: decoder.toString(),
    losses,
    probes,
    decoded: results.map((r) => r[0]),
    attentions: results.map((r) => r[1]),
  };
}

export function run(options: Seq2seqOptions = {}): Seq2seqResult {
  return runOnCpu(trainOn(options, "cpu"));
}

/** `run` on `device` ("webgpu": the encoder, the decoder and their training on the GPU). */
export function runAsync(options: Seq2seqOptions & { device?: Device } = {}): Promise<Seq2seqResult> {
  return runOnDevice(trainOn(options, options.device ?? "cpu"));
}

if (process.argv[1]?.endsWith("seq2seq-attention.ts")) {
  const { device } = await deviceFromArgs();
  const r = device === "cpu" ? run() : await runAsync({ device });
  console.log(r.encoder);
  console.log(r.decoder);
  const mean = (a: number[]) => a.reduce((s, v) => s + v, 0) / a.length;
  console.log(
    `mean loss of the first 300 pairs ${mean(r.losses.slice(0, 300)).toFixed(4)}, of the last 300 ${mean(r.losses.slice(-300)).toFixed(4)}`,
  );
  r.probes.forEach((p, i) => {
    console.log(p.map((t) => t - 2).join(" "), "->", r.decoded[i].map((t) => t - 2).join(" "));
  });
}
