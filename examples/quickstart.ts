// The README's first example: a tensor, a module, a loss and an optimizer.
import { manualSeed, nn, optim, randn, tensor } from "../src/index.js";

manualSeed(0);
const x = randn(64, 3); // 64 samples, 3 features
const y = x.matmul(tensor([[1], [-2], [0.5]])).add(0.1); // a linear target
const model = new nn.Linear(3, 1);
const opt = new optim.Adam(model.parameters(), { lr: 0.05 });
let loss = nn.mseLoss(model.forward(x), y);
for (let step = 0; step < 300; step++) {
  loss = nn.mseLoss(model.forward(x), y);
  opt.zeroGrad();
  loss.backward();
  opt.step();
}
console.log(model.toString());
console.log(`loss ${loss.item().toExponential(3)}`);
console.log("weight", model.weight.toString());
console.log("bias", model.bias!.toString());
