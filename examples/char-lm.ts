// A character language model on first names, ported line for line from examples/torch/char_lm.py
// (which the fixtures run): Embedding -> 2-layer LSTM -> Linear, cross entropy, Adam, clipGradNorm_,
// temperature sampling with multinomial, and a safetensors checkpoint that the PyTorch program loads
// (`python3 examples/torch/char_lm.py char-lm.safetensors`). Run: npx tsx examples/char-lm.ts
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  defaultGenerator,
  io,
  manualSeed,
  nn,
  noGrad,
  optim,
  randint,
  stack,
  type Tensor,
  tensor,
} from "../src/index.js";

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

/**
 * One draw of `torch.multinomial(probs, 1)` as PyTorch 1.13's CPU kernel makes it: the argmax of
 * probs / q, q ~ Exp(1) drawn as −log(1 − u) from one 53-bit uniform u per category (float32).
 */
function multinomial1(probs: Tensor): number {
  let best = 0;
  let bestV = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < probs.numel; i++) {
    const q = Math.fround(-Math.log1p(-defaultGenerator.nextDouble()));
    const v = Math.fround(Number(probs.data[i]) / q);
    if (v > bestV) {
      bestV = v;
      best = i;
    }
  }
  return best;
}

export function sample(
  model: CharLM,
  stoi: Map<string, number>,
  itos: string[],
  nNames = 5,
  temperature = 0.8,
  maxLen = 20,
): string[] {
  model.eval();
  const out: string[] = [];
  noGrad(() => {
    for (let k = 0; k < nNames; k++) {
      let x = tensor([[stoi.get("\n")!]]);
      let state: [Tensor, Tensor] | null = null;
      let name = "";
      for (let j = 0; j < maxLen; j++) {
        const [logits, s] = model.forward(x, state);
        state = s;
        const probs = F.softmax(logits.select(0, 0).select(0, -1).div(temperature), -1);
        const ix = multinomial1(probs);
        if (itos[ix] === "\n") break;
        name += itos[ix];
        x = tensor([[ix]]);
      }
      out.push(name);
    }
  });
  model.train();
  return out;
}

export function run({ steps = 300, dropout = 0.1, lr = 1e-2, seed = 0, sampleSeed = 1 } = {}) {
  manualSeed(seed);
  const text = loadText();
  const chars = [...new Set(text)].sort();
  const stoi = new Map(chars.map((c, i) => [c, i]));
  const data = tensor([...text].map((c) => stoi.get(c)!));
  const model = new CharLM(chars.length, dropout);
  const opt = new optim.Adam(model.parameters(), { lr });
  const losses: number[] = [];
  for (let step = 0; step < steps; step++) {
    const [x, y] = getBatch(data);
    const [logits] = model.forward(x);
    const loss = F.crossEntropy(logits.reshape(-1, chars.length), y.reshape(-1));
    opt.zeroGrad();
    loss.backward();
    nn.clipGradNorm_(model.parameters(), 1.0);
    opt.step();
    losses.push(loss.item());
  }
  model.eval();
  const probeLogits = noGrad(() =>
    model
      .forward(tensor([[..."\nMar"].map((c) => stoi.get(c)!)]))[0]
      .select(0, 0)
      .select(0, -1),
  );
  model.train();
  manualSeed(sampleSeed);
  const names = sample(model, stoi, chars);
  return { model, vocab: chars.length, losses, probeLogits, names };
}

if (process.argv[1]?.endsWith("char-lm.ts")) {
  const r = run();
  console.log(r.model.toString());
  console.log(
    `vocabulary ${r.vocab}, loss at step 1: ${r.losses[0].toFixed(4)}, at step ${r.losses.length}: ${r.losses[r.losses.length - 1].toFixed(4)}`,
  );
  console.log("sampled names:", r.names.join(" "));
  const path = process.argv[2] ?? "char-lm.safetensors";
  writeFileSync(path, io.encodeSafetensors(r.model.stateDict()));
  console.log(`checkpoint written to ${path}`);
}
