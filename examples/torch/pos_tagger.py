"""The part-of-speech tagger of PyTorch's tutorial "Sequence Models and LSTM Networks"
(Robert Guthrie, pytorch.org/tutorials/beginner/nlp/sequence_models_tutorial.html), as a program.
examples/pos-tagger.ts is its port; test/fixtures/gen/examples12.py runs `run()` for the fixtures.

Embedding(vocab, 6) -> LSTM(6, 6) -> Linear(6, 3) -> log_softmax, NLLLoss, SGD(lr=0.1), 300 epochs over
two sentences. `run()` returns the loss of every step and the tag scores before and after training.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim

training_data = [
    ("The dog ate the apple".split(), ["DET", "NN", "V", "DET", "NN"]),
    ("Everybody read that book".split(), ["NN", "V", "DET", "NN"]),
]
tag_to_ix = {"DET": 0, "NN": 1, "V": 2}
EMBEDDING_DIM = 6
HIDDEN_DIM = 6


def prepare_sequence(seq, to_ix):
    return torch.tensor([to_ix[w] for w in seq], dtype=torch.long)


class LSTMTagger(nn.Module):
    def __init__(self, embedding_dim, hidden_dim, vocab_size, tagset_size):
        super().__init__()
        self.hidden_dim = hidden_dim
        self.word_embeddings = nn.Embedding(vocab_size, embedding_dim)
        self.lstm = nn.LSTM(embedding_dim, hidden_dim)
        self.hidden2tag = nn.Linear(hidden_dim, tagset_size)

    def forward(self, sentence):
        embeds = self.word_embeddings(sentence)
        lstm_out, _ = self.lstm(embeds.view(len(sentence), 1, -1))
        tag_space = self.hidden2tag(lstm_out.view(len(sentence), -1))
        return F.log_softmax(tag_space, dim=1)


def run(epochs=300):
    torch.manual_seed(1)
    word_to_ix = {}
    for sent, _ in training_data:
        for word in sent:
            if word not in word_to_ix:
                word_to_ix[word] = len(word_to_ix)
    model = LSTMTagger(EMBEDDING_DIM, HIDDEN_DIM, len(word_to_ix), len(tag_to_ix))
    loss_function = nn.NLLLoss()
    optimizer = optim.SGD(model.parameters(), lr=0.1)
    with torch.no_grad():
        before = model(prepare_sequence(training_data[0][0], word_to_ix))
    losses = []
    for epoch in range(epochs):
        for sentence, tags in training_data:
            model.zero_grad()
            sentence_in = prepare_sequence(sentence, word_to_ix)
            targets = prepare_sequence(tags, tag_to_ix)
            tag_scores = model(sentence_in)
            loss = loss_function(tag_scores, targets)
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
    with torch.no_grad():
        after = model(prepare_sequence(training_data[0][0], word_to_ix))
    return {"model": repr(model), "before": before, "after": after, "losses": losses,
            "predicted": after.argmax(1).tolist()}


if __name__ == "__main__":
    torch.set_num_threads(1)
    r = run()
    print(r["model"])
    print("tag scores before training:")
    print(r["before"])
    print(f"loss at step 1: {r['losses'][0]:.4f}, at step {len(r['losses'])}: {r['losses'][-1]:.4f}")
    print("tag scores after training:")
    print(r["after"])
    ix_to_tag = {v: k for k, v in tag_to_ix.items()}
    print("predicted:", " ".join(ix_to_tag[i] for i in r["predicted"]))
