"""The GRU encoder-decoder with attention of PyTorch's tutorial "NLP From Scratch: Translation with a
Sequence to Sequence Network and Attention" (Sean Robertson; its EncoderRNN and AttnDecoderRNN, trained one
pair at a time with teacher forcing, NLLLoss and two SGD optimizers), on a small task shipped in code:
"translate" a sequence of 3 to 6 digits into the same digits reversed. Changed from the tutorial: the
pairs, the choice of training pair and the teacher-forcing coin are drawn with torch (torch.randint,
torch.rand) instead of Python's random, so that the TypeScript port draws the same ones.
examples/seq2seq-attention.ts is its port; test/fixtures/gen/examples12.py runs `run()` for the fixtures.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch import optim

SOS_token, EOS_token = 0, 1
MAX_LENGTH = 8
N_WORDS = 12  # SOS, EOS and the digits 0-9 (token d + 2)
HIDDEN = 32


def make_pairs(n):
    pairs = []
    for _ in range(n):
        length = torch.randint(3, 7, ()).item()
        src = [int(v) + 2 for v in torch.randint(0, 10, (length,)).tolist()]
        pairs.append((src, src[::-1]))
    return pairs


def tensor_from_tokens(tokens):
    return torch.tensor(tokens + [EOS_token], dtype=torch.long).view(-1, 1)


class EncoderRNN(nn.Module):
    def __init__(self, input_size, hidden_size):
        super().__init__()
        self.hidden_size = hidden_size
        self.embedding = nn.Embedding(input_size, hidden_size)
        self.gru = nn.GRU(hidden_size, hidden_size)

    def forward(self, input, hidden):
        embedded = self.embedding(input).view(1, 1, -1)
        output = embedded
        output, hidden = self.gru(output, hidden)
        return output, hidden

    def initHidden(self):
        return torch.zeros(1, 1, self.hidden_size)


class AttnDecoderRNN(nn.Module):
    def __init__(self, hidden_size, output_size, dropout_p=0.1, max_length=MAX_LENGTH):
        super().__init__()
        self.hidden_size = hidden_size
        self.output_size = output_size
        self.dropout_p = dropout_p
        self.max_length = max_length
        self.embedding = nn.Embedding(self.output_size, self.hidden_size)
        self.attn = nn.Linear(self.hidden_size * 2, self.max_length)
        self.attn_combine = nn.Linear(self.hidden_size * 2, self.hidden_size)
        self.dropout = nn.Dropout(self.dropout_p)
        self.gru = nn.GRU(self.hidden_size, self.hidden_size)
        self.out = nn.Linear(self.hidden_size, self.output_size)

    def forward(self, input, hidden, encoder_outputs):
        embedded = self.embedding(input).view(1, 1, -1)
        embedded = self.dropout(embedded)
        attn_weights = F.softmax(self.attn(torch.cat((embedded[0], hidden[0]), 1)), dim=1)
        attn_applied = torch.bmm(attn_weights.unsqueeze(0), encoder_outputs.unsqueeze(0))
        output = torch.cat((embedded[0], attn_applied[0]), 1)
        output = self.attn_combine(output).unsqueeze(0)
        output = F.relu(output)
        output, hidden = self.gru(output, hidden)
        output = F.log_softmax(self.out(output[0]), dim=1)
        return output, hidden, attn_weights


def train(input_tensor, target_tensor, encoder, decoder, encoder_optimizer, decoder_optimizer, criterion,
          teacher_forcing_ratio=0.5, max_length=MAX_LENGTH):
    encoder_hidden = encoder.initHidden()
    encoder_optimizer.zero_grad()
    decoder_optimizer.zero_grad()
    input_length = input_tensor.size(0)
    target_length = target_tensor.size(0)
    encoder_outputs = torch.zeros(max_length, encoder.hidden_size)
    loss = 0
    for ei in range(input_length):
        encoder_output, encoder_hidden = encoder(input_tensor[ei], encoder_hidden)
        encoder_outputs[ei] = encoder_output[0, 0]
    decoder_input = torch.tensor([[SOS_token]])
    decoder_hidden = encoder_hidden
    use_teacher_forcing = torch.rand(()).item() < teacher_forcing_ratio
    if use_teacher_forcing:
        for di in range(target_length):
            decoder_output, decoder_hidden, decoder_attention = decoder(decoder_input, decoder_hidden, encoder_outputs)
            loss += criterion(decoder_output, target_tensor[di])
            decoder_input = target_tensor[di]  # Teacher forcing
    else:
        for di in range(target_length):
            decoder_output, decoder_hidden, decoder_attention = decoder(decoder_input, decoder_hidden, encoder_outputs)
            topv, topi = decoder_output.topk(1)
            decoder_input = topi.squeeze().detach()  # detach from history as input
            loss += criterion(decoder_output, target_tensor[di])
            if decoder_input.item() == EOS_token:
                break
    loss.backward()
    encoder_optimizer.step()
    decoder_optimizer.step()
    return loss.item() / target_length


def evaluate(encoder, decoder, tokens, max_length=MAX_LENGTH):
    with torch.no_grad():
        input_tensor = tensor_from_tokens(tokens)
        encoder_hidden = encoder.initHidden()
        encoder_outputs = torch.zeros(max_length, encoder.hidden_size)
        for ei in range(input_tensor.size(0)):
            encoder_output, encoder_hidden = encoder(input_tensor[ei], encoder_hidden)
            encoder_outputs[ei] += encoder_output[0, 0]
        decoder_input = torch.tensor([[SOS_token]])
        decoder_hidden = encoder_hidden
        decoded = []
        attentions = torch.zeros(max_length, max_length)
        for di in range(max_length):
            decoder_output, decoder_hidden, decoder_attention = decoder(decoder_input, decoder_hidden, encoder_outputs)
            attentions[di] = decoder_attention.data
            topv, topi = decoder_output.data.topk(1)
            if topi.item() == EOS_token:
                break
            decoded.append(topi.item())
            decoder_input = topi.squeeze().detach()
        return decoded, attentions[:di + 1]


def run(n_iters=3000, dropout_p=0.1, learning_rate=0.01, seed=0):
    torch.manual_seed(seed)
    pairs = make_pairs(200)
    encoder = EncoderRNN(N_WORDS, HIDDEN)
    decoder = AttnDecoderRNN(HIDDEN, N_WORDS, dropout_p=dropout_p)
    encoder_optimizer = optim.SGD(encoder.parameters(), lr=learning_rate)
    decoder_optimizer = optim.SGD(decoder.parameters(), lr=learning_rate)
    criterion = nn.NLLLoss()
    losses = []
    for _ in range(n_iters):
        src, tgt = pairs[torch.randint(len(pairs), ()).item()]
        losses.append(train(tensor_from_tokens(src), tensor_from_tokens(tgt), encoder, decoder,
                            encoder_optimizer, decoder_optimizer, criterion))
    encoder.eval()
    decoder.eval()
    probes = [[3, 4, 5], [9, 2, 7, 7], [11, 10, 2, 3, 8]]
    results = [evaluate(encoder, decoder, p) for p in probes]
    return {"encoder": repr(encoder), "decoder": repr(decoder), "losses": losses, "probes": probes,
            "decoded": [r[0] for r in results], "attentions": [r[1] for r in results]}


if __name__ == "__main__":
    torch.set_num_threads(1)
    r = run()
    print(r["encoder"])
    print(r["decoder"])
    n = len(r["losses"])
    print(f"mean loss of the first 300 pairs {sum(r['losses'][:300]) / 300:.4f}, of the last 300 {sum(r['losses'][-300:]) / 300:.4f}")
    for p, d in zip(r["probes"], r["decoded"]):
        print(" ".join(str(t - 2) for t in p), "->", " ".join(str(t - 2) for t in d))
