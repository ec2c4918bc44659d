// The sine model's printed name from its settings. A leaf module (type imports only), so that the
// page's first script can use it without the tensor library.

import type { CellType } from "../experiments/sine.js";

/**
 * `LSTM(1, 16, num_layers=2, batch_first=True) + Linear(16, 1)`: the notes' Net as its modules print
 * (SineNet's rnn and linear), from its settings, so that a page can name it before it is built.
 */
export function sineModelName(o: { cell: CellType; hidden: number; layers?: number }): string {
  const layers = o.layers ?? 1;
  return `${o.cell.toUpperCase()}(1, ${o.hidden}${layers > 1 ? `, num_layers=${layers}` : ""}, batch_first=True) + Linear(${o.hidden}, 1)`;
}
