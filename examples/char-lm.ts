// A character language model on first names, ported line for line from examples/torch/char_lm.py
// (which the fixtures run): Embedding -> 2-layer LSTM -> Linear, cross entropy, Adam, clipGradNorm_,
// temperature sampling with multinomial, and a safetensors checkpoint that the PyTorch program loads
// (`python3 examples/torch/char_lm.py char-lm.safetensors`). Run: npx tsx examples/char-lm.ts
// [--device webgpu] [checkpoint path]
// On the GPU: `await runAsync({ device: "webgpu" })` moves the model there (`model.to("webgpu")`); the
// character ids stay on the CPU, as embedding and cross entropy read them there, and each sampling step
// reads its probabilities back to draw from them on the CPU (the same generator as the CPU path).
// The training is one generator for both devices: `yield t` reads t's values (examples/device.ts).
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { io, manualSeed, nn, noGrad, optim, randint, stack, type Tensor, tensor } from "../src/index.js";
import { type Device, deviceFromArgs, type Program, runOnCpu, runOnDevice } from "./device.js";

const F = nn.functional;
const ROOT = join(import.meta.dirname, "..");
const [EMBED, HIDDEN, LAYERS] = [16, 64, 2];
const [BATCH, SEQ] = [16, 32];

export function loadText(): string {
  const names: string[] = [];
  for (const f of ["first-names-female.txt", "first-names-male.txt"]) {
    for (const line of readFileSync(join(ROOT, "datasets", f), "utf8").split("\n"))
      if (line.trim()) names.push(line.trim());
  }
  return `${names.join("\n")}\n`;
}

export class CharLM extends nn.Module {
  embed: nn.Embedding;
  lstm: nn.LSTM;
  head: nn.Linear;

  constructor(vocab: number, dropout = 0) {
    super();
    this.embed = new nn.Embedding(vocab, EMBED);
    this.lstm = new nn.LSTM(EMBED, HIDDEN, { numLayers: LAYERS, dropout, batchFirst: true });
    this.head = new nn.Linear(HIDDEN, vocab);
  }

  forward(x: Tensor, state: [Tensor, Tensor] | null = null): [Tensor, [Tensor, Tensor]] {
    const [out, s] = this.lstm.forward(this.embed.forward(x), state);
    return [this.head.forward(out), s];
  }
}

function getBatch(data: Tensor): [Tensor, Tensor] {
  const ix = Array.from(randint(0, data.shape[0] - SEQ - 1, [BATCH]).data, Number);
  const x = stack(ix.map((i) => data.narrow(0, i, SEQ)));
  const y = stack(ix.map((i) => data.narrow(0, i + 1, SEQ)));
  return [x, y];
}

function* sampleOn(
  model: CharLM,
  stoi: Map<string, number>,
  itos: string[],
  nNames: number,
  temperature: number,
  maxLen: number,
): Program<string[]> {
  model.eval();
  const out: string[] = [];
  for (let k = 0; k < nNames; k++) {
    let x = tensor([[stoi.get("\n")!]], { dtype: "int64" });
    let state: [Tensor, Tensor] | null = null;
    let name = "";
    for (let j = 0; j < maxLen; j++) {
      const probs = noGrad(() => {
        const [logits, s] = model.forward(x, state);
        state = s;
        return F.softmax(logits.select(0, 0).select(0, -1).div(temperature), -1);
      });
      const ix = Number((yield probs).multinomial(1).item());
      if (itos[ix] === "\n") break;
      name += itos[ix];
      x = tensor([[ix]], { dtype: "int64" });
    }
    out.push(name);
  }
  model.train();
  return out;
}

/** `nNames` names drawn from a CPU model, each character from its softmax at `temperature`. */
export function sample(
  model: CharLM,
  stoi: Map<string, number>,
  itos: string[],
  nNames = 5,
  temperature = 0.8,
  maxLen = 20,
): string[] {
  return runOnCpu(sampleOn(model, stoi, itos, nNames, temperature, maxLen));
}

export interface CharLMOptions {
  steps?: number;
  dropout?: number;
  lr?: number;
  seed?: number;
  sampleSeed?: number;
}

export interface CharLMResult {
  /** on the device it was trained on */
  model: CharLM;
  vocab: number;
  losses: number[];
  /** the logits after "\nMar", on the CPU */
  probeLogits: Tensor;
  names: string[];
}

function* train(
  { steps = 300, dropout = 0.1, lr = 1e-2, seed = 0, sampleSeed = 1 }: CharLMOptions,
  device: Device,
): Program<CharLMResult> {
  manualSeed(seed);
  const text = loadText();
  const chars = [...new Set(text)].sort();
  const stoi = new Map(chars.map((c, i) => [c, i]));
  const data = tensor(
    [...text].map((c) => stoi.get(c)!),
    { dtype: "int64" },
  );
  const model = new CharLM(chars.length, dropout).to(device);
  const opt = new optim.Adam(model.parameters(), { lr });
  const losses: number[] = [];
  for (let step = 0; step < steps; step++) {
    const [x, y] = getBatch(data);
    const [logits] = model.forward(x);
    const loss = F.crossEntropy(logits.reshape(-1, chars.length), y.reshape(-1));
    opt.zeroGrad();
    loss.backward();
    // on the device the norm is computed and applied there, and opt.step() sees the clipped gradients
    // without waiting for the norm to be read back (it is not used)
    if (device === "cpu") nn.clipGradNorm_(model.parameters(), 1.0);
    else void nn.clipGradNormAsync_(model.parameters(), 1.0);
    opt.step();
    losses.push((yield loss).item());
  }
  model.eval();
  const probeLogits = yield noGrad(() =>
    model
      .forward(tensor([[..."\nMar"].map((c) => stoi.get(c)!)], { dtype: "int64" }))[0]
      .select(0, 0)
      .select(0, -1),
  );
  model.train();
  manualSeed(sampleSeed);
  const names = yield* sampleOn(model, stoi, chars, 5, 0.8, 20);
  return { model, vocab: chars.length, losses, probeLogits, names };
}

export function run(options: CharLMOptions = {}): CharLMResult {
  return runOnCpu(train(options, "cpu"));
}

/** `run` on `device` ("webgpu": the model, its training and its sampling on the GPU). */
export function runAsync(options: CharLMOptions & { device?: Device } = {}): Promise<CharLMResult> {
  return runOnDevice(train(options, options.device ?? "cpu"));
}

if (process.argv[1]?.endsWith("char-lm.ts")) {
  const { device, args } = await deviceFromArgs();
  const r = device === "cpu" ? run() : await runAsync({ device });
  console.log(r.model.toString());
  console.log(
    `vocabulary ${r.vocab}, loss at step 1: ${r.losses[0].toFixed(4)}, at step ${r.losses.length}: ${r.losses[r.losses.length - 1].toFixed(4)}`,
  );
  console.log("sampled names:", r.names.join(" "));
  const path = args[0] ?? "char-lm.safetensors";
  await r.model.toAsync("cpu"); // the checkpoint holds CPU tensors
  writeFileSync(path, io.encodeSafetensors(r.model.stateDict()));
  console.log(`checkpoint written to ${path}`);
}
