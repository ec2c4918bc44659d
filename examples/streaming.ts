// Serving a trained model one step at a time: train the notes' sine RNN briefly, then predict the next
// 50 values with nn.Streamer (weights resident where the kernels run) and with the module calls it
// stands for, and compare.
import { noGrad, nn, SineTrainer, sineWindow, Tensor } from "../src/index.js";

const trainer = new SineTrainer({ iters: 600, seed: 0 });
while (!trainer.done) trainer.step();
const { rnn, linear } = trainer.model;

// warm up on a window of the true curve, then run on our own predictions
const { values } = sineWindow(0, 50);
const history = new Tensor(values.slice(0, 30), [1, 30, 1]); // batch_first: (B, T, I)
const [, warm] = noGrad(() => (rnn as nn.RNN).forward(history));

const stream = new nn.Streamer(rnn, linear);
stream.state = warm;
const t0 = performance.now();
const streamed = stream.rollOut([values[30]], 50);
const ms = performance.now() - t0;

// the same through the module calls
let x = new Tensor(Float32Array.of(values[30]), [1, 1, 1]);
let state = warm;
let maxDiff = 0;
noGrad(() => {
  for (let i = 0; i < 50; i++) {
    const [out, next] = (rnn as nn.RNN).forward(x, state);
    state = next;
    const y = linear.forward(out).data[0];
    maxDiff = Math.max(maxDiff, Math.abs(y - streamed[i]));
    x = new Tensor(Float32Array.of(y), [1, 1, 1]);
  }
});
stream.dispose();

console.log(`streamer: ${rnn.toString()} + ${linear.toString()}`);
console.log(`first predictions: ${Array.from(streamed.slice(0, 5), (v) => v.toFixed(4)).join(" ")}`);
console.log(
  `50 steps in ${ms.toFixed(2)} ms; largest difference from the module calls: ${maxDiff.toExponential(1)}`,
);
