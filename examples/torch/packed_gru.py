"""Regression on variable-length sequences with a packed bidirectional GRU, a DataLoader and a learning-rate
scheduler. Each sequence x (L, 2), L in 3..12, has the target mean(x[:, 0]) + x[L-1, 1]; the model reads the
packed batch with GRU(2, 32, bidirectional=True, batch_first=True) and maps both directions' final states
to one number. Adam(lr=1e-2), StepLR(step_size=4, gamma=0.5) stepped once per epoch, MSE loss.
examples/packed-gru.ts is its port; test/fixtures/gen/examples12.py runs `run()` for the fixtures.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.utils.rnn import pack_padded_sequence, pad_sequence
from torch.utils.data import DataLoader, TensorDataset

N, MAX_LEN, FEATURES, HIDDEN, BATCH = 256, 12, 2, 32, 32


def make_data():
    lengths = torch.randint(3, MAX_LEN + 1, (N,))
    xs = [torch.randn(int(n), FEATURES) for n in lengths]
    y = torch.stack([x[:, 0].mean() + x[-1, 1] for x in xs]).unsqueeze(1)
    return pad_sequence(xs, batch_first=True), lengths, y


class Regressor(nn.Module):
    def __init__(self):
        super().__init__()
        self.gru = nn.GRU(FEATURES, HIDDEN, batch_first=True, bidirectional=True)
        self.head = nn.Linear(2 * HIDDEN, 1)

    def forward(self, x, lengths):
        packed = pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
        _, h = self.gru(packed)  # h: (2, B, H), forward and backward final states
        return self.head(torch.cat([h[0], h[1]], dim=1))


def run(epochs=12, seed=0):
    torch.manual_seed(seed)
    x, lengths, y = make_data()
    loader = DataLoader(TensorDataset(x, lengths, y), batch_size=BATCH, shuffle=True)
    model = Regressor()
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=4, gamma=0.5)
    losses, epoch_losses, lrs = [], [], []
    for _ in range(epochs):
        total = 0.0
        for xb, lb, yb in loader:
            loss = F.mse_loss(model(xb, lb), yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(loss.item())
            total += loss.item() * len(yb)
        epoch_losses.append(total / N)
        lrs.append(opt.param_groups[0]["lr"])
        sched.step()
    with torch.no_grad():
        pred = model(x[:8], lengths[:8])
    return {"model": repr(model), "losses": losses, "epochLosses": epoch_losses, "lrs": lrs,
            "pred": pred, "target": y[:8]}


if __name__ == "__main__":
    torch.set_num_threads(1)
    r = run()
    print(r["model"])
    for i, (l, lr) in enumerate(zip(r["epochLosses"], r["lrs"])):
        print(f"epoch {i + 1}: mse {l:.4f} (lr {lr:g})")
    print("predictions:", " ".join(f"{v:.3f}" for v in r["pred"].view(-1).tolist()))
    print("targets:    ", " ".join(f"{v:.3f}" for v in r["target"].view(-1).tolist()))
