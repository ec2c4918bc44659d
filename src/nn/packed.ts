// Variable-length batches, as torch.nn.utils.rnn: PackedSequence and the functions that make and
// undo it. Packed layout: the rows of time step t are contiguous, batchSizes[t] rows each, sequences
// sorted by decreasing length (so the rows active at step t are the first batchSizes[t]).

import { deviceGatherRows } from "../core/device.js";
import { cat, narrow, permute, stack } from "../core/ops.js";
import { result, shapeStr, Tensor } from "../core/tensor.js";

export class PackedSequence {
  constructor(
    /** (N, *) the packed rows, N = sum(batchSizes). */
    readonly data: Tensor,
    /** (T) number of sequences still running at each step, non-increasing. */
    readonly batchSizes: Int32Array,
    /** Sorted position -> original batch index (null when the input was already sorted). */
    readonly sortedIndices: Int32Array | null = null,
    /** Original batch index -> sorted position. */
    readonly unsortedIndices: Int32Array | null = null,
  ) {}

  /** The same packing with other data (e.g. a layer's output). */
  withData(data: Tensor): PackedSequence {
    return new PackedSequence(data, this.batchSizes, this.sortedIndices, this.unsortedIndices);
  }

  toString(): string {
    const idx = (a: Int32Array | null) => (a === null ? "None" : `tensor([${Array.from(a).join(", ")}])`);
    return `PackedSequence(data=${this.data.toString()}, batch_sizes=tensor([${Array.from(this.batchSizes).join(", ")}]), sorted_indices=${idx(this.sortedIndices)}, unsorted_indices=${idx(this.unsortedIndices)})`;
  }
}

function toIntArray(lengths: Tensor | readonly number[]): number[] {
  if (lengths instanceof Tensor && lengths.ndim !== 1) {
    throw new Error(
      `'lengths' argument should be a 1-D tensor (or an array), but got a ${lengths.ndim}-D tensor of shape ${shapeStr(lengths.shape)}`,
    );
  }
  if (!(lengths instanceof Tensor) && lengths.some((l) => Array.isArray(l))) {
    throw new Error("'lengths' argument should be a 1-D tensor (or an array), but got a nested array");
  }
  const arr = lengths instanceof Tensor ? Array.from(lengths.data) : lengths.slice();
  for (const l of arr) {
    if (!Number.isInteger(l)) throw new Error(`lengths must be integers, got ${l}`);
  }
  return arr;
}

/** Rows gathered along dim 0 by `index` (each row once at most on the way back), with gradient. */
export function indexSelect0(x: Tensor, index: Int32Array): Tensor {
  if (x._gpu !== null) return deviceGatherRows(x, index);
  const row = x.shape.slice(1).reduce((a, b) => a * b, 1);
  const out = new Float32Array(index.length * row);
  const xd = x.data; // once: a view's data is gathered on each read
  for (let i = 0; i < index.length; i++) out.set(xd.subarray(index[i] * row, (index[i] + 1) * row), i * row);
  return result(out, [index.length, ...x.shape.slice(1)], [x], "IndexSelectBackward0", (g) => {
    const gx = new Float32Array(x.numel);
    for (let i = 0; i < index.length; i++) {
      const o = index[i] * row;
      for (let j = 0; j < row; j++) gx[o + j] += g[i * row + j];
    }
    return [gx];
  });
}

/** Same as `indexSelect0` along dim 1 (the batch dimension of a state (L, B, H)). */
export function indexSelect1(x: Tensor, index: Int32Array): Tensor {
  if (x._gpu !== null) {
    // (L, B, H) on the device: rows l·B + index[i] of its (L·B, H) view
    const [L, B, H] = x.shape;
    const rows = Int32Array.from({ length: L * index.length }, (_, r) => {
      const l = Math.floor(r / index.length);
      return l * B + index[r % index.length];
    });
    return deviceGatherRows(x.reshape(L * B, H), rows, [L, index.length, H]);
  }
  return permute(indexSelect0(permute(x, [1, 0, 2]), index), [1, 0, 2]);
}

/**
 * Packs a padded batch (T, B, *) (or (B, T, *) with batchFirst) of sequences with the given lengths.
 * With `enforceSorted` (the default) lengths must be non-increasing; otherwise they are sorted and
 * the permutation kept so that results come back in the original order.
 */
export function packPaddedSequence(
  input: Tensor,
  lengths: Tensor | readonly number[],
  options: { batchFirst?: boolean; enforceSorted?: boolean } = {},
): PackedSequence {
  const batchFirst = options.batchFirst ?? false;
  const enforceSorted = options.enforceSorted ?? true;
  const lens = toIntArray(lengths);
  if (input.ndim < 2)
    throw new Error(
      `packPaddedSequence: expected input of at least 2 dimensions, got ${shapeStr(input.shape)}`,
    );
  // on the device the rows are gathered from the batch-first layout directly (no permute there)
  const gpu = input._gpu !== null;
  const x = batchFirst && !gpu ? permute(input, [1, 0, ...input.shape.slice(2).map((_, i) => i + 2)]) : input;
  const T = x.shape[batchFirst && gpu ? 1 : 0];
  const B = x.shape[batchFirst && gpu ? 0 : 1];
  if (lens.length !== B) {
    throw new Error(
      `Expected \`len(lengths)\` to be equal to batch_size, but got ${lens.length} (batch_size=${B})`,
    );
  }
  let sorted: number[] = lens.map((_, i) => i);
  let sortedIndices: Int32Array | null = null;
  let unsortedIndices: Int32Array | null = null;
  if (enforceSorted) {
    for (let i = 1; i < lens.length; i++) {
      if (lens[i] > lens[i - 1]) {
        throw new Error(
          "`lengths` array must be sorted in decreasing order when `enforce_sorted` is True. You can pass `enforce_sorted=False` to pack_padded_sequence and/or pack_sequence to sidestep this requirement if you do not need ONNX exportability.",
        );
      }
    }
  } else {
    sorted = sorted.sort((a, b) => lens[b] - lens[a] || a - b);
    sortedIndices = Int32Array.from(sorted);
    unsortedIndices = new Int32Array(B);
    sorted.forEach((orig, pos) => {
      unsortedIndices![orig] = pos;
    });
  }
  const sl = sorted.map((i) => lens[i]);
  if (sl.length > 0 && sl[sl.length - 1] <= 0) {
    throw new Error(
      `Length of all samples has to be greater than 0, but found an element in 'lengths' that is <= 0`,
    );
  }
  if (sl.length > 0 && sl[0] > T) {
    throw new Error(`packPaddedSequence: a length (${sl[0]}) exceeds the padded sequence length (${T})`);
  }
  const steps = sl.length > 0 ? sl[0] : 0;
  const batchSizes = new Int32Array(steps);
  for (let t = 0; t < steps; t++) {
    let n = 0;
    while (n < sl.length && sl[n] > t) n++;
    batchSizes[t] = n;
  }
  // gather rows: for t, for k < batchSizes[t]: x[t, sorted[k]]
  const rows: number[] = [];
  for (let t = 0; t < steps; t++) {
    for (let k = 0; k < batchSizes[t]; k++)
      rows.push(batchFirst && gpu ? sorted[k] * T + t : t * B + sorted[k]);
  }
  const flat = x.reshape(T * B, ...x.shape.slice(2));
  const data = indexSelect0(flat, Int32Array.from(rows));
  return new PackedSequence(data, batchSizes, sortedIndices, unsortedIndices);
}

/**
 * Undoes packing: a padded tensor (T, B, *) (or (B, T, *)) with `paddingValue` after each sequence's
 * end, and the lengths in the original batch order.
 */
export function padPackedSequence(
  sequence: PackedSequence,
  options: { batchFirst?: boolean; paddingValue?: number; totalLength?: number } = {},
): [Tensor, number[]] {
  const { data, batchSizes } = sequence;
  const T0 = batchSizes.length;
  const B = T0 > 0 ? batchSizes[0] : 0;
  const T = options.totalLength ?? T0;
  if (T < T0) {
    throw new Error(
      `Expected total_length to be at least the length of the longest sequence in input, but got total_length=${T} and max sequence length being ${T0}`,
    );
  }
  const feat = data.shape.slice(1);
  const row = feat.reduce((a, b) => a * b, 1);
  const pad = options.paddingValue ?? 0;
  const unsorted = sequence.unsortedIndices;
  const sortedIdx = sequence.sortedIndices;
  // destination row (t, original b) for each packed row
  const dest = new Int32Array(data.shape[0]);
  let r = 0;
  for (let t = 0; t < T0; t++) {
    for (let k = 0; k < batchSizes[t]; k++) dest[r++] = t * B + (sortedIdx ? sortedIdx[k] : k);
  }
  if (data._gpu !== null) {
    // on the device: a gather of the packed rows into the padded layout, zeros at the padding
    if (pad !== 0) throw new Error(`padPackedSequence on webgpu: only paddingValue 0 so far, got ${pad}`);
    const src = new Int32Array(T * B).fill(-1);
    for (let i = 0; i < dest.length; i++) {
      const t = Math.floor(dest[i] / B);
      const b = dest[i] % B;
      src[options.batchFirst ? b * T + t : dest[i]] = i;
    }
    const shape = options.batchFirst ? [B, T, ...feat] : [T, B, ...feat];
    const lens = new Array<number>(B).fill(0);
    for (let t = 0; t < T0; t++) for (let k = 0; k < batchSizes[t]; k++) lens[k]++;
    return [
      deviceGatherRows(data.reshape(data.shape[0], row), src, shape),
      unsorted ? Array.from(unsorted, (pos) => lens[pos]) : lens,
    ];
  }
  const out = new Float32Array(T * B * row).fill(pad);
  const dd = data.data; // once: a view's data is gathered on each read
  for (let i = 0; i < dest.length; i++) out.set(dd.subarray(i * row, (i + 1) * row), dest[i] * row);
  let padded = result(out, [T, B, ...feat], [data], "PackPaddedSequenceBackward0", (g) => {
    const gx = new Float32Array(data.numel);
    for (let i = 0; i < dest.length; i++) gx.set(g.subarray(dest[i] * row, (dest[i] + 1) * row), i * row);
    return [gx];
  });
  if (options.batchFirst) padded = permute(padded, [1, 0, ...feat.map((_, i) => i + 2)]);
  const lengths = new Array<number>(B).fill(0);
  for (let t = 0; t < T0; t++) for (let k = 0; k < batchSizes[t]; k++) lengths[k]++;
  const orig = unsorted ? Array.from(unsorted, (pos) => lengths[pos]) : lengths;
  return [padded, orig];
}

/** Pads a list of (L_i, *) tensors to (maxL, B, *) (or (B, maxL, *) with batchFirst). */
export function padSequence(
  sequences: readonly Tensor[],
  options: { batchFirst?: boolean; paddingValue?: number } = {},
): Tensor {
  if (sequences.length === 0) throw new Error("padSequence: received an empty list of sequences");
  const feat = sequences[0].shape.slice(1);
  for (const s of sequences) {
    if (s.ndim < 1 || shapeStr(s.shape.slice(1)) !== shapeStr(feat)) {
      throw new Error(
        `padSequence: every sequence must have trailing shape ${shapeStr(feat)}, got ${shapeStr(s.shape)}`,
      );
    }
  }
  const maxLen = Math.max(...sequences.map((s) => s.shape[0]));
  const pad = options.paddingValue ?? 0;
  const padded = sequences.map((s) => {
    const extra = maxLen - s.shape[0];
    if (extra === 0) return s;
    const filler = new Tensor(new Float32Array(extra * feat.reduce((a, b) => a * b, 1)).fill(pad), [
      extra,
      ...feat,
    ]);
    return cat([s, filler], 0);
  });
  return stack(padded, options.batchFirst ? 0 : 1);
}

/** Packs a list of (L_i, *) sequences (sorted by decreasing length unless enforceSorted is false). */
export function packSequence(
  sequences: readonly Tensor[],
  options: { enforceSorted?: boolean } = {},
): PackedSequence {
  const lengths = sequences.map((s) => s.shape[0]);
  return packPaddedSequence(padSequence(sequences), lengths, {
    enforceSorted: options.enforceSorted ?? true,
  });
}

/** Unpacks into a list of (L_i, *) tensors in the original order. */
export function unpackSequence(packed: PackedSequence): Tensor[] {
  const [padded, lengths] = padPackedSequence(packed, { batchFirst: true });
  return lengths.map((l, i) => narrow(padded.select(0, i), 0, 0, l));
}
