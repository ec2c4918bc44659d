// The words for a gradient-flow ratio, shared by `recurrent gradients` and the page. A leaf module (no
// imports), so that the page's first script can use it without the tensor library.

/**
 * How to read ‖∂L/∂h‖ at the step farthest from the loss over ‖∂L/∂h‖ at the last step: the ratio, and
 * in words how many orders of magnitude smaller or larger, or why there is no ratio. A float32 gradient
 * that vanishes below about 1e-45 becomes exactly 0 (underflow), and one that explodes past about 3e38
 * becomes infinite (overflow): both are said, not printed as a bare "n/a". The command and the page
 * print this text.
 */
export function flowRatio(farthest: number, last: number): { ratio: number; text: string } {
  const ratio = farthest / last;
  if (!Number.isFinite(farthest) || !Number.isFinite(last)) {
    return {
      ratio,
      text: "no ratio: the gradient overflowed float32 (it is not a finite number): it exploded",
    };
  }
  if (last === 0) return { ratio, text: "no ratio: the gradient at the last step is 0" };
  if (farthest === 0) {
    return {
      ratio,
      text: "no ratio: the gradient underflowed to 0 in float32 (below about 1e-45) on its way back: it vanished completely",
    };
  }
  const orders = -Math.log10(ratio);
  return {
    ratio,
    text:
      orders >= 0
        ? `${orders.toFixed(1)} orders of magnitude smaller`
        : `${(-orders).toFixed(1)} orders of magnitude larger`,
  };
}
