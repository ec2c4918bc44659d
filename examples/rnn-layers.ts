// The study notes' first program (RNN Layer使用), written with this library. It prints what the
// PyTorch program prints, line for line; shapes are printed as torch.Size to match the notes.
import { nn, randn, type Tensor, zeros } from "../src/index.js";

const size = (t: Tensor) => `torch.Size([${t.shape.join(", ")}])`;

function main() {
  let rnn = new nn.RNN(100, 20, { numLayers: 1 });
  console.log(rnn.toString());
  let x = randn(10, 3, 100);
  let [out, h] = rnn.forward(x, zeros(1, 3, 20));
  console.log(size(out), size(h));

  rnn = new nn.RNN(100, 20, { numLayers: 4 });
  console.log(rnn.toString());
  x = randn(10, 3, 100);
  [out, h] = rnn.forward(x, zeros(4, 3, 20));
  console.log(size(out), size(h));

  console.log("rnn by cell");

  let cell1 = new nn.RNNCell(100, 20);
  let h1 = zeros(3, 20);
  for (const xt of x) h1 = cell1.forward(xt, h1);
  console.log(size(h1));

  cell1 = new nn.RNNCell(100, 30);
  const cell2 = new nn.RNNCell(30, 20);
  h1 = zeros(3, 30);
  let h2 = zeros(3, 20);
  for (const xt of x) {
    h1 = cell1.forward(xt, h1);
    h2 = cell2.forward(h1, h2);
  }
  console.log(size(h2));

  console.log("Lstm");
  const lstm = new nn.LSTM(100, 20, { numLayers: 4 });
  console.log(lstm.toString());
  x = randn(10, 3, 100);
  const [lout, [lh, lc]] = lstm.forward(x);
  console.log(size(lout), size(lh), size(lc));

  console.log("one layer lstm");
  const cell = new nn.LSTMCell(100, 20);
  let hh = zeros(3, 20);
  let c = zeros(3, 20);
  for (const xt of x) [hh, c] = cell.forward(xt, [hh, c]);
  console.log(size(hh), size(c));

  console.log("two layer lstm");
  const lcell1 = new nn.LSTMCell(100, 30);
  const lcell2 = new nn.LSTMCell(30, 20);
  let hA = zeros(3, 30);
  let cA = zeros(3, 30);
  let hB = zeros(3, 20);
  let cB = zeros(3, 20);
  for (const xt of x) {
    [hA, cA] = lcell1.forward(xt, [hA, cA]);
    [hB, cB] = lcell2.forward(hA, [hB, cB]);
  }
  console.log(size(hB), size(cB));
}

main();
