// Datasets and batches, as torch.utils.data: TensorDataset, DataLoader (batchSize, shuffle, dropLast,
// collateFn). Shuffling draws what PyTorch 1.13's single-process loader draws from the default
// generator, so a seeded loop sees PyTorch's batches in PyTorch's order and leaves the generator as
// PyTorch's does.

import { stack } from "../core/ops.js";
import { defaultGenerator, Generator } from "../core/random.js";
import { Tensor } from "../core/tensor.js";

/** A map-style dataset: `length` items, each read by `get(i)` (Python's `__len__` and `__getitem__`). */
export interface Dataset<T> {
  readonly length: number;
  get(index: number): T;
}

/** Items are the i-th rows of each tensor, as `torch.utils.data.TensorDataset`. */
export class TensorDataset implements Dataset<Tensor[]> {
  readonly tensors: Tensor[];

  constructor(...tensors: Tensor[]) {
    if (tensors.length === 0) throw new Error("TensorDataset: expected at least one tensor");
    const n = tensors[0].shape[0];
    if (tensors.some((t) => t.ndim === 0 || t.shape[0] !== n))
      throw new Error("Size mismatch between tensors");
    this.tensors = tensors;
  }

  get length(): number {
    return this.tensors[0].shape[0];
  }

  get(index: number): Tensor[] {
    const n = this.length;
    if (!Number.isInteger(index) || index < -n || index >= n) {
      throw new Error(`index ${index} is out of bounds for dimension 0 with size ${n}`);
    }
    return this.tensors.map((t) => t.select(0, index < 0 ? index + n : index));
  }
}

/**
 * A permutation of 0..n-1 drawn as PyTorch 1.13's CPU `randperm(n, generator=g)`: a Fisher–Yates
 * shuffle from the front, swapping i with i + (one 32-bit draw mod (n − i)).
 */
export function randpermArray(n: number, gen: Generator): number[] {
  const r = Array.from({ length: n }, (_, i) => i);
  for (let i = 0; i < n - 1; i++) {
    const z = gen.nextUint32() % (n - i);
    const s = r[i];
    r[i] = r[z + i];
    r[z + i] = s;
  }
  return r;
}

/**
 * The seed PyTorch draws with `torch.empty((), dtype=torch.int64).random_(generator=g)`: one 64-bit draw
 * (two 32-bit ones); a Generator seeded with it uses its low 32 bits, which are the second draw.
 */
function drawSeed(gen: Generator): number {
  gen.nextUint32();
  return gen.nextUint32();
}

/** Stacks items into a batch as PyTorch's default_collate: tensors stacked, numbers made a tensor, arrays position by position. */
export function defaultCollate(items: readonly unknown[]): unknown {
  const first = items[0];
  if (first instanceof Tensor) return stack(items as Tensor[], 0);
  if (typeof first === "number") return new Tensor(Float32Array.from(items as number[]), [items.length]);
  if (Array.isArray(first)) {
    const n = first.length;
    if (items.some((it) => !Array.isArray(it) || it.length !== n))
      throw new Error("each element in list of batch should be of equal size");
    return first.map((_, k) => defaultCollate(items.map((it) => (it as unknown[])[k])));
  }
  if (typeof first === "object" && first !== null) {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(first))
      out[k] = defaultCollate(items.map((it) => (it as Record<string, unknown>)[k]));
    return out;
  }
  return items.slice();
}

export interface DataLoaderOptions<T, B> {
  /** Items per batch (default 1); null yields the items one by one, uncollated. */
  batchSize?: number | null;
  /** Draw a new order every epoch (default false). */
  shuffle?: boolean;
  /** Drop the last batch when it is smaller than batchSize (default false). */
  dropLast?: boolean;
  /** Makes a batch of items (default: defaultCollate). */
  collateFn?: (items: T[]) => B;
  /** The generator that shuffling draws from (default: the default generator, as PyTorch). */
  generator?: Generator;
}

/** Iterates over a dataset in batches, as `torch.utils.data.DataLoader` with num_workers=0. */
export class DataLoader<T = Tensor[], B = Tensor[]> implements Iterable<B> {
  readonly dataset: Dataset<T>;
  readonly batchSize: number | null;
  readonly shuffle: boolean;
  readonly dropLast: boolean;
  readonly collateFn: (items: T[]) => B;
  readonly generator: Generator | null;

  constructor(dataset: Dataset<T>, options: DataLoaderOptions<T, B> = {}) {
    this.dataset = dataset;
    const bs = options.batchSize === undefined ? 1 : options.batchSize;
    if (bs !== null && (!Number.isInteger(bs) || bs <= 0)) {
      throw new Error(`batch_size should be a positive integer value, but got batch_size=${bs}`);
    }
    this.batchSize = bs;
    this.shuffle = options.shuffle ?? false;
    this.dropLast = options.dropLast ?? false;
    this.collateFn = options.collateFn ?? (defaultCollate as (items: T[]) => B);
    this.generator = options.generator ?? null;
  }

  /** The number of batches in an epoch. */
  get length(): number {
    const n = this.dataset.length;
    if (this.batchSize === null) return n;
    return this.dropLast ? Math.floor(n / this.batchSize) : Math.ceil(n / this.batchSize);
  }

  *[Symbol.iterator](): Iterator<B> {
    const gen = this.generator ?? defaultGenerator;
    const n = this.dataset.length;
    // the iterator's base seed (drawn by PyTorch for worker seeding, even with no workers)
    drawSeed(gen);
    let order: number[];
    if (this.shuffle) {
      // RandomSampler without a generator seeds a fresh one from the loader's generator
      const local = this.generator ?? new Generator(drawSeed(gen));
      order = randpermArray(n, local);
    } else order = Array.from({ length: n }, (_, i) => i);
    if (this.batchSize === null) {
      for (const i of order) yield this.dataset.get(i) as unknown as B;
      return;
    }
    const bs = this.batchSize;
    for (let s = 0; s < n; s += bs) {
      if (s + bs > n && this.dropLast) break;
      const items = order.slice(s, s + bs).map((i) => this.dataset.get(i));
      yield this.collateFn(items);
    }
  }
}
