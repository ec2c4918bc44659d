"""A character language model on first names (datasets/first-names-*.txt): Embedding -> 2-layer LSTM ->
Linear, cross entropy, Adam, clip_grad_norm_, and temperature sampling with torch.multinomial; the
trained weights are saved as a checkpoint. examples/char-lm.ts is its port, and writes a safetensors
checkpoint that `load_checkpoint` below loads into this model.
test/fixtures/gen/examples12.py runs `run()` for the fixtures.
"""
import json
import os
import struct
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EMBED, HIDDEN, LAYERS = 16, 64, 2
BATCH, SEQ = 16, 32


def load_text():
    names = []
    for f in ("first-names-female.txt", "first-names-male.txt"):
        with open(os.path.join(ROOT, "datasets", f)) as fh:
            names += [line.strip() for line in fh if line.strip()]
    return "\n".join(names) + "\n"


class CharLM(nn.Module):
    def __init__(self, vocab, dropout=0.0):
        super().__init__()
        self.embed = nn.Embedding(vocab, EMBED)
        self.lstm = nn.LSTM(EMBED, HIDDEN, num_layers=LAYERS, dropout=dropout, batch_first=True)
        self.head = nn.Linear(HIDDEN, vocab)

    def forward(self, x, state=None):
        out, state = self.lstm(self.embed(x), state)
        return self.head(out), state


def get_batch(data):
    ix = torch.randint(len(data) - SEQ - 1, (BATCH,))
    x = torch.stack([data[i:i + SEQ] for i in ix.tolist()])
    y = torch.stack([data[i + 1:i + SEQ + 1] for i in ix.tolist()])
    return x, y


def sample(model, stoi, itos, n_names=5, temperature=0.8, max_len=20):
    """n_names names, each drawn one character at a time from softmax(logits / temperature)."""
    model.eval()
    out = []
    with torch.no_grad():
        for _ in range(n_names):
            x = torch.tensor([[stoi["\n"]]])
            state = None
            name = ""
            for _ in range(max_len):
                logits, state = model(x, state)
                probs = F.softmax(logits[0, -1] / temperature, dim=-1)
                ix = torch.multinomial(probs, 1).item()
                if itos[ix] == "\n":
                    break
                name += itos[ix]
                x = torch.tensor([[ix]])
            out.append(name)
    model.train()
    return out


def run(steps=300, dropout=0.1, lr=1e-2, seed=0, sample_seed=1):
    torch.manual_seed(seed)
    text = load_text()
    chars = sorted(set(text))
    stoi = {c: i for i, c in enumerate(chars)}
    itos = {i: c for c, i in stoi.items()}
    data = torch.tensor([stoi[c] for c in text], dtype=torch.long)
    model = CharLM(len(chars), dropout)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    losses = []
    for _ in range(steps):
        x, y = get_batch(data)
        logits, _ = model(x)
        loss = F.cross_entropy(logits.reshape(-1, len(chars)), y.reshape(-1))
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        losses.append(loss.item())
    model.eval()
    with torch.no_grad():
        probe = torch.tensor([[stoi[c] for c in "\nMar"]])
        probe_logits = model(probe)[0][0, -1]
    model.train()
    torch.manual_seed(sample_seed)
    names = sample(model, stoi, itos)
    return {"model": repr(model), "vocab": len(chars), "losses": losses, "probeLogits": probe_logits,
            "names": names, "stateDict": model.state_dict()}


def load_checkpoint(model, path):
    """Loads a safetensors file (as written by examples/char-lm.ts) into `model`."""
    with open(path, "rb") as f:
        buf = f.read()
    (n,) = struct.unpack("<Q", buf[:8])
    header = json.loads(buf[8:8 + n])
    header.pop("__metadata__", None)
    state = {}
    for name, info in header.items():
        s, e = info["data_offsets"]
        assert info["dtype"] == "F32", info["dtype"]
        state[name] = torch.frombuffer(bytearray(buf[8 + n + s:8 + n + e]), dtype=torch.float32).reshape(info["shape"])
    model.load_state_dict(state)
    return model


if __name__ == "__main__":
    torch.set_num_threads(1)
    if len(sys.argv) > 1:  # python3 char_lm.py CHECKPOINT: load what char-lm.ts saved and sample
        text = load_text()
        chars = sorted(set(text))
        model = load_checkpoint(CharLM(len(chars)), sys.argv[1])
        torch.manual_seed(1)
        print("sampled by PyTorch from the checkpoint:", " ".join(sample(model, {c: i for i, c in enumerate(chars)}, dict(enumerate(chars)))))
        sys.exit(0)
    r = run()
    print(r["model"])
    print(f"vocabulary {r['vocab']}, loss at step 1: {r['losses'][0]:.4f}, at step {len(r['losses'])}: {r['losses'][-1]:.4f}")
    print("sampled names:", " ".join(r["names"]))
