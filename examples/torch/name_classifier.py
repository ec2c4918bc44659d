"""The character-level name classifier of PyTorch's tutorial "NLP From Scratch: Classifying Names with a
Character-Level RNN" (Sean Robertson), as a program, on the first-name lists shipped in datasets/
(categories: the list a name comes from, female or male). Unchanged from the tutorial: one-hot letters,
the hand-made RNN cell (i2h and i2o on the concatenated input and hidden state, LogSoftmax), NLLLoss, and
plain SGD written as `p.data.add_(p.grad.data, alpha=-learning_rate)`. Changed: examples are drawn with
torch.randint instead of Python's random.choice, so that the TypeScript port draws the same ones.
examples/name-classifier.ts is its port; test/fixtures/gen/examples12.py runs `run()` for the fixtures.
"""
import os
import string

import torch
import torch.nn as nn

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
all_letters = string.ascii_letters + " .,;'-"
n_letters = len(all_letters)
all_categories = ["female", "male"]


def load_lines():
    out = {}
    for c in all_categories:
        with open(os.path.join(ROOT, "datasets", f"first-names-{c}.txt")) as f:
            out[c] = [line.strip() for line in f if line.strip()]
    return out


def line_to_tensor(line):
    tensor = torch.zeros(len(line), 1, n_letters)
    for li, letter in enumerate(line):
        tensor[li][0][all_letters.find(letter)] = 1
    return tensor


class RNN(nn.Module):
    def __init__(self, input_size, hidden_size, output_size):
        super().__init__()
        self.hidden_size = hidden_size
        self.i2h = nn.Linear(input_size + hidden_size, hidden_size)
        self.i2o = nn.Linear(input_size + hidden_size, output_size)
        self.softmax = nn.LogSoftmax(dim=1)

    def forward(self, input, hidden):
        combined = torch.cat((input, hidden), 1)
        hidden = self.i2h(combined)
        output = self.i2o(combined)
        output = self.softmax(output)
        return output, hidden

    def initHidden(self):
        return torch.zeros(1, self.hidden_size)


def evaluate(rnn, line_tensor):
    hidden = rnn.initHidden()
    for i in range(line_tensor.size()[0]):
        output, hidden = rnn(line_tensor[i], hidden)
    return output


def run(n_iters=5000, n_hidden=128, learning_rate=0.005, seed=0):
    torch.manual_seed(seed)
    category_lines = load_lines()
    rnn = RNN(n_letters, n_hidden, len(all_categories))
    criterion = nn.NLLLoss()

    def random_training_example():
        category = all_categories[torch.randint(len(all_categories), ()).item()]
        lines = category_lines[category]
        line = lines[torch.randint(len(lines), ()).item()]
        category_tensor = torch.tensor([all_categories.index(category)], dtype=torch.long)
        return category, line, category_tensor, line_to_tensor(line)

    def train(category_tensor, line_tensor):
        hidden = rnn.initHidden()
        rnn.zero_grad()
        for i in range(line_tensor.size()[0]):
            output, hidden = rnn(line_tensor[i], hidden)
        loss = criterion(output, category_tensor)
        loss.backward()
        for p in rnn.parameters():
            p.data.add_(p.grad.data, alpha=-learning_rate)
        return output, loss.item()

    losses = []
    for _ in range(n_iters):
        category, line, category_tensor, line_tensor = random_training_example()
        output, loss = train(category_tensor, line_tensor)
        losses.append(loss)
    probes = ["Emma", "Oliver", "Sophia", "Jack", "Isabella", "Noah"]
    with torch.no_grad():
        outputs = torch.cat([evaluate(rnn, line_to_tensor(n)) for n in probes])
    return {"model": repr(rnn), "losses": losses, "probes": probes, "outputs": outputs}


if __name__ == "__main__":
    torch.set_num_threads(1)
    r = run()
    print(r["model"])
    n = len(r["losses"])
    print(f"mean loss of the first 500 steps {sum(r['losses'][:500]) / 500:.4f}, of the last 500 {sum(r['losses'][-500:]) / 500:.4f}")
    for name, out in zip(r["probes"], r["outputs"]):
        print(f"{name}: {all_categories[int(out.argmax())]} ({out.max().exp().item():.2f})")
