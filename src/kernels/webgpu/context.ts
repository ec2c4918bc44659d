// The WebGPU device context: one GPUDevice, its compiled pipelines, a pool of buffers, and one command
// encoder that batches every dispatch and copy until something needs the results (read, sync, flush).
// Kernels built on it (recurrent.ts and the element-wise ops) call pipeline(wgsl), get buffers from
// storage / upload / uniform, and dispatch; nothing reaches the GPU queue until a flush, and nothing is
// read back unless asked.
//
// Runtime-neutral: this file loads in a browser and in Node. The GPU object comes from the caller
// (navigator.gpu in a page, requestNodeWebGPU() from recurrent/node for Dawn), and WebGPU's usage flags are
// written as numbers below, because Node has no GPUBufferUsage global.
//
// Buffer reuse and the queue: queue.writeBuffer runs before any command buffer submitted after it, so a
// buffer the CPU writes (upload, uniform, write) must not be read by commands still waiting in the
// encoder. Released buffers therefore wait in `released` until the next submit; before then only storage()
// (written on the GPU, in encoder order) may take them.
//
// The index check (PyTorch's device-side asserts): the index kernels record the first index out of range
// in a 16-byte flag buffer (indexCheck()); every read back (readBytes, behind read, sync and so cpuAsync,
// itemAsync, the optimizers' and clip's reads) copies it after its own data and clears it in the same
// submission, and rejects with an IndexCheckError where it was set. No copy where no index kernel ran.

// WebGPU's flag values (GPUBufferUsage, GPUMapMode), which Node does not define as globals
const MAP_READ = 0x1;
const COPY_SRC = 0x4;
const COPY_DST = 0x8;
const UNIFORM = 0x40;
const STORAGE = 0x80;
const MAP_MODE_READ = 0x1;

/** A buffer bound to a binding slot: the whole buffer, or a range of it (offset and size in bytes). */
export type Binding = GPUBuffer | { buffer: GPUBuffer; offset?: number; size?: number };

/** What a context has done so far (counters since it was created). */
export interface WebGPUStats {
  /** Pipelines compiled, and pipeline() calls answered from the cache. */
  pipelines: number;
  pipelineHits: number;
  /** GPU buffers created, and buffer requests answered from the pool. */
  buffersCreated: number;
  buffersReused: number;
  /** Buffers handed out and not yet released, and their bytes (pool sizes, not requested sizes). */
  buffersLive: number;
  bytesLive: number;
  /** Buffers waiting in the pool, and their bytes. */
  buffersPooled: number;
  bytesPooled: number;
  /** Bind groups created, and dispatches that found theirs in the cache. */
  bindGroups: number;
  bindGroupHits: number;
  dispatches: number;
  copies: number;
  /** Command buffers submitted, and reads back to the CPU. */
  submits: number;
  reads: number;
}

/**
 * The limits a device asks of its adapter by default, at the adapter's values rather than WebGPU's
 * defaults: the recurrent layers' saved gates outgrow the default 128 MiB per storage binding and 256 MiB
 * per buffer well before W5's size (LSTM 64→512×2, batch 256, 100 steps: 315 MB of saved gates per layer);
 * the rest (storage bindings per stage, workgroups) cost nothing to ask for and leave room to kernels.
 */
export const ADAPTER_LIMITS = [
  "maxBufferSize",
  "maxStorageBufferBindingSize",
  "maxStorageBuffersPerShaderStage",
  "maxComputeWorkgroupsPerDimension",
  "maxComputeWorkgroupStorageSize",
  "maxComputeInvocationsPerWorkgroup",
  "maxComputeWorkgroupSizeX",
  "maxComputeWorkgroupSizeY",
] as const;

export interface WebGPUContextOptions {
  /** requestAdapter's power preference. */
  powerPreference?: GPUPowerPreference;
  /**
   * "adapter" (the default): ask for the adapter's own values of ADAPTER_LIMITS (buffer and binding sizes,
   * workgroups); "default": WebGPU's default limits, as a device requested with no limits gets.
   */
  limits?: "adapter" | "default";
  /**
   * Limits to ask of the device, e.g. maxStorageBufferBindingSize; each is capped at the adapter's, and
   * overrides what `limits` asks for.
   */
  requiredLimits?: Record<string, number>;
  /**
   * Submits on its own after this many recorded dispatches (default 512), so that the GPU starts on a long
   * chain before anything is read, and buffers released meanwhile return to the pool.
   */
  flushEvery?: number;
}

/** What adapter the device came from (GPUAdapterInfo's fields, e.g. "SwiftShader driver" in description). */
export interface WebGPUAdapterInfo {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
}

/** Bytes a pooled buffer of `bytes` requested bytes gets: 256 at least, else 2^k, 1.25, 1.5 or 1.75·2^k. */
export function poolSize(bytes: number): number {
  if (bytes <= 256) return 256;
  const top = 2 ** Math.floor(Math.log2(bytes));
  const quarter = top / 4;
  return Math.ceil(bytes / quarter) * quarter;
}

/**
 * The ops whose kernels check index values on the device (index-ops.ts), in the order of their codes
 * (code = position + 1) in the index check's flag.
 */
export const INDEX_CHECK_OPS = ["gather", "scatter", "scatter_add", "index_select"] as const;
export type IndexCheckOp = (typeof INDEX_CHECK_OPS)[number];
const INDEX_FLAG_BYTES = 16;

/**
 * An index out of range met by an index kernel on the device (PyTorch's device-side assert on CUDA),
 * thrown by the next read back after it: PyTorch's words for the index, then that it was raised
 * asynchronously. The op's results, and whatever was computed from them, are not valid.
 */
export class IndexCheckError extends Error {
  /** the op whose kernel met the index (its gradient's kernels report as the op) */
  readonly op: string;
  readonly index: number;
  readonly dim: number;
  readonly size: number;
  constructor(words: Uint32Array) {
    const op = INDEX_CHECK_OPS[words[0] - 1] ?? `op code ${words[0]}`;
    const index = words[1] | 0; // an int64 index is an i32 on the device
    const dim = words[2];
    const size = words[3];
    const what =
      op === "index_select"
        ? `index out of range in self: INDICES element is out of DATA bounds, id=${index} axis_dim=${size}`
        : `index ${index} is out of bounds for dimension ${dim} with size ${size}`;
    super(
      `${what} (raised asynchronously by a device-side index check: an earlier ${op} on the webgpu ` +
        `device, or its gradient, read index ${index} along dimension ${dim}, whose valid range is ` +
        `[0, ${size}); this is the first read back since: that op's results, and those computed from ` +
        "them, are not valid)",
    );
    this.name = "IndexCheckError";
    this.op = op;
    this.index = index;
    this.dim = dim;
    this.size = size;
  }
}

const BIND_GROUP_CACHE_LIMIT = 4096; // entries; the cache is cleared when it grows past this

/** One GPUDevice with cached pipelines, pooled buffers and a batching command encoder. */
export class WebGPUContext {
  readonly device: GPUDevice;
  readonly adapterInfo: WebGPUAdapterInfo;
  /**
   * The GPU object the device came from. Held for the context's life: Dawn's Node binding frees its
   * instance when this object is collected, and a device outliving it crashes the process at random.
   */
  readonly gpu: GPU;
  /** The adapter's values of ADAPTER_LIMITS (what the device could have asked for). */
  readonly adapterLimits: Readonly<Record<string, number>>;

  private readonly pipelines = new Map<string, GPUComputePipeline>();
  private readonly pipelineIds = new WeakMap<GPUComputePipeline, number>();
  private readonly bufferIds = new WeakMap<GPUBuffer, number>();
  private readonly sizes = new WeakMap<GPUBuffer, number>(); // bytes asked for, ≤ buffer.size
  private readonly usages = new WeakMap<GPUBuffer, number>();
  private readonly free = new Map<string, GPUBuffer[]>(); // usage:size → buffers safe for any use
  private released: GPUBuffer[] = []; // released since the last submit: GPU-side reuse only
  private readonly live = new Set<GPUBuffer>();
  private readonly bindGroups = new Map<string, GPUBindGroup>();
  private encoder: GPUCommandEncoder | null = null;
  private pass: GPUComputePassEncoder | null = null;
  private nextId = 1;
  private pending = 0; // dispatches recorded since the last submit
  private readonly flushEvery: number;
  private error: string | null = null; // the first uncaptured device error, thrown at the next sync point
  private lost: string | null = null;
  private destroyed = false;
  private indexFlag: GPUBuffer | null = null; // the device-side index check's flag (indexCheck())
  private indexFlagPending = false; // an index kernel bound the flag since the last read of it
  private readonly counters = {
    pipelines: 0,
    pipelineHits: 0,
    buffersCreated: 0,
    buffersReused: 0,
    bindGroups: 0,
    bindGroupHits: 0,
    dispatches: 0,
    copies: 0,
    submits: 0,
    reads: 0,
  };

  private constructor(
    gpu: GPU,
    device: GPUDevice,
    info: WebGPUAdapterInfo,
    flushEvery: number,
    adapterLimits: Record<string, number>,
  ) {
    this.gpu = gpu;
    this.adapterLimits = adapterLimits;
    this.flushEvery = flushEvery;
    this.device = device;
    this.adapterInfo = info;
    device.addEventListener("uncapturederror", (ev) => {
      const e = (ev as GPUUncapturedErrorEvent).error;
      this.error ??= `${e.constructor?.name ?? "GPUError"}: ${e.message}`;
    });
    void device.lost.then((info) => {
      this.lost = `${info.reason}: ${info.message}`;
    });
  }

  /**
   * Asks `gpu` (navigator.gpu, or Dawn's GPU object in Node) for an adapter and a device. Throws saying
   * why when there is no adapter.
   */
  static async create(gpu: GPU, options: WebGPUContextOptions = {}): Promise<WebGPUContext> {
    if (gpu === undefined || gpu === null || typeof gpu.requestAdapter !== "function") {
      throw new TypeError(`WebGPUContext.create: expected a GPU object (navigator.gpu), got ${String(gpu)}`);
    }
    const flushEvery = options.flushEvery ?? 512;
    if (!Number.isInteger(flushEvery) || flushEvery < 1) {
      throw new RangeError(`WebGPUContext.create: flushEvery should be an integer ≥ 1, got ${flushEvery}`);
    }
    const adapter = await gpu.requestAdapter(
      options.powerPreference === undefined ? undefined : { powerPreference: options.powerPreference },
    );
    if (adapter === null) {
      throw new Error(
        "WebGPU is unavailable: requestAdapter() found no adapter (no GPU driver this runtime can use)",
      );
    }
    const requiredLimits: Record<string, number> = {};
    const supported = adapter.limits as unknown as Record<string, number>;
    const limits = options.limits ?? "adapter";
    if (limits !== "adapter" && limits !== "default") {
      throw new Error(
        `WebGPUContext.create: limits should be "adapter" or "default", got ${JSON.stringify(limits)}`,
      );
    }
    if (limits === "adapter") {
      for (const k of ADAPTER_LIMITS) if (typeof supported[k] === "number") requiredLimits[k] = supported[k];
    }
    for (const [k, v] of Object.entries(options.requiredLimits ?? {})) {
      const cap = supported[k];
      if (cap === undefined) throw new Error(`WebGPUContext.create: unknown limit ${JSON.stringify(k)}`);
      requiredLimits[k] = k.startsWith("min") ? Math.max(v, cap) : Math.min(v, cap);
    }
    const device = await adapter.requestDevice({ requiredLimits });
    const i = adapter.info;
    const info: WebGPUAdapterInfo = {
      vendor: i?.vendor ?? "",
      architecture: i?.architecture ?? "",
      device: i?.device ?? "",
      description: i?.description ?? "",
    };
    const adapterLimits: Record<string, number> = {};
    for (const k of ADAPTER_LIMITS) if (typeof supported[k] === "number") adapterLimits[k] = supported[k];
    return new WebGPUContext(gpu, device, info, flushEvery, adapterLimits);
  }

  /**
   * Throws, naming the limit, its value on this device and the adapter's, when `bytes` exceed the device's
   * `limit` (e.g. maxStorageBufferBindingSize); `what` says what needed them.
   */
  checkLimit(limit: "maxBufferSize" | "maxStorageBufferBindingSize", bytes: number, what: string): void {
    const max = (this.device.limits as unknown as Record<string, number>)[limit];
    if (bytes <= max) return;
    throw new RangeError(
      `${what} needs ${bytes} bytes, over this device's ${limit} of ${max}${this.limitHint(limit)}`,
    );
  }

  /** How to get past `limit`: the adapter's larger value to ask for, or that there is none. */
  limitHint(limit: string): string {
    const max = (this.device.limits as unknown as Record<string, number>)[limit];
    const adapter = this.adapterLimits[limit];
    return adapter !== undefined && adapter > max
      ? `; the adapter allows ${adapter}: ask for it (requestWebGPU's limits: "adapter", the default, or requiredLimits)`
      : "; that is the most this adapter allows: use a smaller batch or a shorter sequence";
  }

  /** False once destroyed or lost. */
  get alive(): boolean {
    return !this.destroyed && this.lost === null;
  }

  /** A compute pipeline for `wgsl`'s entry point, compiled once per (source, entry) and cached. */
  pipeline(wgsl: string, entry = "main"): GPUComputePipeline {
    this.checkAlive();
    const key = `${entry}\u0000${wgsl}`;
    const hit = this.pipelines.get(key);
    if (hit !== undefined) {
      this.counters.pipelineHits++;
      return hit;
    }
    const module = this.device.createShaderModule({ code: wgsl });
    const p = this.device.createComputePipeline({ layout: "auto", compute: { module, entryPoint: entry } });
    this.pipelines.set(key, p);
    this.pipelineIds.set(p, this.nextId++);
    this.counters.pipelines++;
    return p;
  }

  /** A storage buffer of at least `bytes` bytes (contents undefined), from the pool when one fits. */
  storage(bytes: number): GPUBuffer {
    return this.acquire(bytes, STORAGE | COPY_SRC | COPY_DST, true);
  }

  /** A storage buffer holding a copy of `data` (written on the queue before the next submit). */
  upload(data: Float32Array | Uint32Array | Int32Array): GPUBuffer {
    const buf = this.acquire(data.byteLength, STORAGE | COPY_SRC | COPY_DST, false);
    if (data.byteLength > 0)
      this.device.queue.writeBuffer(buf, 0, data.buffer, data.byteOffset, data.byteLength);
    return buf;
  }

  /**
   * A uniform buffer holding `data`: bytes as given, or a list of integers written as 32-bit words (u32
   * from 0 up, i32 below 0). A float parameter goes in bytes (a Float32Array, or an ArrayBuffer written
   * with a DataView beside integer words): guessing from the value would write a float that happens to be
   * integral, −1e9 or a scale of 1, as an integer word.
   */
  uniform(data: readonly number[] | Float32Array | Uint32Array | Int32Array | ArrayBuffer): GPUBuffer {
    let bytes: ArrayBuffer | ArrayBufferView;
    if (Array.isArray(data)) {
      const words = new ArrayBuffer(data.length * 4);
      const view = new DataView(words);
      (data as readonly number[]).forEach((v, i) => {
        if (typeof v !== "number") throw new TypeError(`uniform: expected numbers, got ${typeof v} at ${i}`);
        if (Number.isInteger(v) && v >= 0 && v <= 0xffffffff) view.setUint32(i * 4, v, true);
        else if (Number.isInteger(v) && v < 0 && v >= -0x80000000) view.setInt32(i * 4, v, true);
        else
          throw new RangeError(
            `uniform: a list of numbers holds 32-bit integer words, but word ${i} is ${v}; ` +
              "pass float parameters as bytes (a Float32Array, or an ArrayBuffer written with a DataView)",
          );
      });
      bytes = words;
    } else {
      bytes = data as ArrayBuffer | ArrayBufferView;
    }
    const n = bytes.byteLength;
    // uniform bindings are read in 16-byte units: round up so a short struct still binds
    const buf = this.acquire(Math.max(16, Math.ceil(n / 16) * 16), UNIFORM | COPY_DST, false);
    if (n > 0) {
      if (ArrayBuffer.isView(bytes)) this.device.queue.writeBuffer(buf, 0, bytes.buffer, bytes.byteOffset, n);
      else this.device.queue.writeBuffer(buf, 0, bytes, 0, n);
    }
    return buf;
  }

  /**
   * Writes `data` into `buf` at `offset` bytes. Pending commands are submitted first, so they see the
   * buffer as it was when they were recorded.
   */
  write(buf: GPUBuffer, data: Float32Array | Uint32Array | Int32Array, offset = 0): void {
    this.checkAlive();
    if (offset + data.byteLength > buf.size) {
      throw new RangeError(
        `write: ${data.byteLength} bytes at offset ${offset} overrun a ${buf.size}-byte buffer`,
      );
    }
    if (this.encoder !== null) this.flush();
    this.device.queue.writeBuffer(buf, offset, data.buffer, data.byteOffset, data.byteLength);
  }

  /** The bytes asked for when `buf` was handed out (its pooled size may be larger). */
  sizeOf(buf: GPUBuffer): number {
    return this.sizes.get(buf) ?? buf.size;
  }

  /**
   * Returns `buf` to the pool. Commands already recorded may still use it; it is not written by the CPU
   * again until they are submitted. Releasing a buffer twice, or one this context did not hand out, throws.
   */
  release(buf: GPUBuffer): void {
    if (!this.live.delete(buf)) {
      throw new Error("release: this buffer is not in use from this context (released twice?)");
    }
    this.released.push(buf);
  }

  /**
   * Records a dispatch of `pipeline` over (x, y, z) workgroups with `bindings` bound to @group(0)
   * @binding(0, 1, ...) in order. Nothing runs until the next flush (read and sync flush).
   */
  dispatch(pipeline: GPUComputePipeline, bindings: readonly Binding[], x: number, y = 1, z = 1): void {
    this.checkAlive();
    const max = this.device.limits.maxComputeWorkgroupsPerDimension;
    for (const [name, n] of [
      ["x", x],
      ["y", y],
      ["z", z],
    ] as const) {
      if (!Number.isInteger(n) || n < 0 || n > max) {
        throw new RangeError(
          `dispatch: workgroup count ${name} should be an integer in [0, ${max}], got ${n}`,
        );
      }
    }
    const group = this.bindGroup(pipeline, bindings);
    if (this.pass === null) {
      this.encoder ??= this.device.createCommandEncoder();
      this.pass = this.encoder.beginComputePass();
    }
    this.pass.setPipeline(pipeline);
    this.pass.setBindGroup(0, group);
    if (x > 0 && y > 0 && z > 0) this.pass.dispatchWorkgroups(x, y, z);
    this.counters.dispatches++;
    if (++this.pending >= this.flushEvery) this.flush();
  }

  /** Records a copy of `bytes` bytes (default: src's requested size) from src to dst, after prior dispatches. */
  copy(src: GPUBuffer, dst: GPUBuffer, bytes = this.sizeOf(src), srcOffset = 0, dstOffset = 0): void {
    this.checkAlive();
    if (bytes % 4 !== 0 || srcOffset % 4 !== 0 || dstOffset % 4 !== 0) {
      throw new RangeError(
        `copy: sizes and offsets should be multiples of 4 bytes, got ${bytes} at ${srcOffset} → ${dstOffset}`,
      );
    }
    if (bytes === 0) return;
    this.endPass().copyBufferToBuffer(src, srcOffset, dst, dstOffset, bytes);
    this.counters.copies++;
  }

  /**
   * Records zeroing `bytes` bytes of `buf` (default: its requested size), after prior dispatches: on the
   * device, with no host array or upload.
   */
  clear(buf: GPUBuffer, bytes = this.sizeOf(buf)): void {
    this.checkAlive();
    if (bytes % 4 !== 0)
      throw new RangeError(`clear: the size should be a multiple of 4 bytes, got ${bytes}`);
    if (bytes === 0) return;
    this.endPass().clearBuffer(buf, 0, bytes);
  }

  /** Submits every recorded command. Buffers released before now become free for any use. */
  flush(): void {
    this.checkAlive();
    if (this.encoder !== null) {
      this.endPass();
      const cmd = this.encoder!.finish();
      this.encoder = null;
      this.device.queue.submit([cmd]);
      this.counters.submits++;
      this.pending = 0;
    }
    for (const b of this.released) this.pool(b).push(b);
    this.released = [];
  }

  /** Waits until the GPU has finished everything recorded so far; throws the first device error, if any. */
  async sync(): Promise<void> {
    if (this.indexFlagPending) {
      await this.readBytes(this.indexFlag!, 0); // maps the flag after everything recorded; throws if set
      await this.device.queue.onSubmittedWorkDone();
      this.checkError();
      return;
    }
    this.flush();
    await this.device.queue.onSubmittedWorkDone();
    this.checkError();
  }

  /**
   * Copies `buf` (its requested size, or `bytes` bytes from `offset`) back to the CPU after every
   * recorded command, as float32.
   */
  async read(buf: GPUBuffer, bytes?: number, offset = 0): Promise<Float32Array> {
    return new Float32Array(await this.readBytes(buf, bytes, offset));
  }

  /**
   * As read, as raw bytes. Where an index kernel has run since the last read, the index check's flag
   * (indexCheck()) is copied after `buf` into the same staging buffer and cleared, in the same submission:
   * 16 bytes more; a violation it recorded rejects this read (IndexCheckError).
   */
  async readBytes(buf: GPUBuffer, size?: number, offset = 0): Promise<ArrayBuffer> {
    this.checkAlive();
    const bytes = size ?? this.sizeOf(buf) - offset;
    if (offset < 0 || bytes < 0 || offset + bytes > buf.size || bytes % 4 !== 0 || offset % 4 !== 0) {
      throw new RangeError(
        `read: ${bytes} bytes at offset ${offset} should be multiples of 4 within the ${buf.size}-byte buffer`,
      );
    }
    const flag = this.indexFlagPending ? this.indexFlag : null;
    if (bytes === 0 && flag === null) return new ArrayBuffer(0);
    const total = bytes + (flag === null ? 0 : INDEX_FLAG_BYTES);
    const staging = this.acquire(total, MAP_READ | COPY_DST, false);
    const encoder = this.endPass();
    if (bytes > 0) encoder.copyBufferToBuffer(buf, offset, staging, 0, bytes);
    if (flag !== null) {
      encoder.copyBufferToBuffer(flag, 0, staging, bytes, INDEX_FLAG_BYTES);
      encoder.clearBuffer(flag, 0, INDEX_FLAG_BYTES); // before any command recorded after this read
      this.indexFlagPending = false;
    }
    this.flush();
    this.counters.reads++;
    try {
      await staging.mapAsync(MAP_MODE_READ, 0, total);
    } catch (e) {
      this.checkError();
      throw new Error(
        `read: mapping the result failed (${String(e)})${this.lost ? `; device lost: ${this.lost}` : ""}`,
      );
    }
    const mapped = staging.getMappedRange(0, total);
    const out = mapped.slice(0, bytes);
    const words = flag === null ? null : new Uint32Array(mapped.slice(bytes, total));
    staging.unmap();
    this.live.delete(staging);
    this.pool(staging).push(staging); // the copy into it has completed: free for any use
    this.checkError();
    if (words !== null && words[0] !== 0) throw new IndexCheckError(words);
    return out;
  }

  /**
   * The device-side index check's flag for an index kernel to bind (read_write, 4 atomic u32 words:
   * INDEX_CHECK_OPS code + 1 of the first violation, the index as i32, the dimension, its size; 0s while
   * none). Binding it marks it to be read, and cleared, with the next read back (readBytes, sync).
   */
  indexCheck(): GPUBuffer {
    this.checkAlive();
    this.indexFlag ??= this.device.createBuffer({
      size: INDEX_FLAG_BYTES,
      usage: STORAGE | COPY_SRC | COPY_DST, // zeroed at creation
    });
    this.indexFlagPending = true;
    return this.indexFlag;
  }

  /** Counters and pool sizes so far. */
  stats(): WebGPUStats {
    let buffersPooled = 0;
    let bytesPooled = 0;
    for (const list of this.free.values()) {
      buffersPooled += list.length;
      for (const b of list) bytesPooled += b.size;
    }
    for (const b of this.released) {
      buffersPooled++;
      bytesPooled += b.size;
    }
    let bytesLive = 0;
    for (const b of this.live) bytesLive += b.size;
    return { ...this.counters, buffersLive: this.live.size, bytesLive, buffersPooled, bytesPooled };
  }

  /** Destroys the pooled buffers (not those in use) and clears the bind-group cache. */
  trim(): void {
    this.flush();
    for (const list of this.free.values()) for (const b of list) b.destroy();
    this.free.clear();
    this.bindGroups.clear();
  }

  /** Destroys every buffer and the device; the context is unusable afterwards. */
  destroy(): void {
    if (this.destroyed) return;
    this.pass = null;
    this.encoder = null;
    for (const list of this.free.values()) for (const b of list) b.destroy();
    for (const b of this.released) b.destroy();
    for (const b of this.live) b.destroy();
    this.indexFlag?.destroy();
    this.indexFlag = null;
    this.indexFlagPending = false;
    this.free.clear();
    this.released = [];
    this.live.clear();
    this.bindGroups.clear();
    this.pipelines.clear();
    this.destroyed = true;
    this.device.destroy();
  }

  // -------------------------------------------------------------------------------------------------------

  private checkAlive(): void {
    if (this.destroyed) throw new Error("WebGPUContext: used after destroy()");
    if (this.lost !== null) throw new Error(`WebGPUContext: the device was lost (${this.lost})`);
  }

  private checkError(): void {
    if (this.error !== null) {
      const e = this.error;
      this.error = null;
      throw new Error(`WebGPU error: ${e}`);
    }
    if (this.lost !== null) throw new Error(`WebGPUContext: the device was lost (${this.lost})`);
  }

  private pool(buf: GPUBuffer): GPUBuffer[] {
    const key = `${this.usages.get(buf)}:${buf.size}`;
    let list = this.free.get(key);
    if (list === undefined) {
      list = [];
      this.free.set(key, list);
    }
    return list;
  }

  private acquire(bytes: number, usage: number, gpuWritten: boolean): GPUBuffer {
    this.checkAlive();
    if (!Number.isInteger(bytes) || bytes < 0) {
      throw new RangeError(`expected a buffer size in bytes (an integer ≥ 0), got ${bytes}`);
    }
    const size = poolSize(bytes);
    const max = this.device.limits.maxBufferSize;
    this.checkLimit("maxBufferSize", bytes, "WebGPU: a buffer");
    if (size > max) return this.create(bytes, bytes, usage); // exact size, unpooled size class
    let buf = this.free.get(`${usage}:${size}`)?.pop();
    if (buf === undefined && gpuWritten) {
      // a buffer released since the last submit: safe to reuse for GPU writes, which follow in encoder order
      const i = this.released.findIndex((b) => b.size === size && this.usages.get(b) === usage);
      if (i >= 0) buf = this.released.splice(i, 1)[0];
    }
    if (buf === undefined) return this.create(bytes, size, usage);
    this.counters.buffersReused++;
    this.sizes.set(buf, bytes);
    this.live.add(buf);
    return buf;
  }

  private create(bytes: number, size: number, usage: number): GPUBuffer {
    const buf = this.device.createBuffer({ size, usage });
    this.counters.buffersCreated++;
    this.bufferIds.set(buf, this.nextId++);
    this.usages.set(buf, usage);
    this.sizes.set(buf, bytes);
    this.live.add(buf);
    return buf;
  }

  private endPass(): GPUCommandEncoder {
    if (this.pass !== null) {
      this.pass.end();
      this.pass = null;
    }
    this.encoder ??= this.device.createCommandEncoder();
    return this.encoder;
  }

  private bindGroup(pipeline: GPUComputePipeline, bindings: readonly Binding[]): GPUBindGroup {
    let key = `${this.pipelineIds.get(pipeline) ?? this.idOfPipeline(pipeline)}`;
    const entries: GPUBindGroupEntry[] = bindings.map((b, i) => {
      const ranged = "buffer" in b; // a GPUBuffer has no `buffer` property
      const buffer = ranged ? b.buffer : b;
      const offset = ranged ? (b.offset ?? 0) : 0;
      let size = ranged ? b.size : undefined;
      if ((this.usages.get(buffer) ?? STORAGE) & STORAGE) {
        // a pooled buffer may be larger than asked for: past the binding limit, bind what was asked for
        const max = this.device.limits.maxStorageBufferBindingSize;
        if (size === undefined && buffer.size - offset > max) size = Math.ceil(this.sizeOf(buffer) / 4) * 4;
        this.checkLimit(
          "maxStorageBufferBindingSize",
          size ?? buffer.size - offset,
          `WebGPU: a kernel's storage binding ${i}`,
        );
      }
      let id = this.bufferIds.get(buffer);
      if (id === undefined) {
        id = this.nextId++;
        this.bufferIds.set(buffer, id); // a buffer made outside the pool
      }
      key += `|${id}:${offset}:${size ?? "-"}`;
      return { binding: i, resource: size === undefined ? { buffer, offset } : { buffer, offset, size } };
    });
    const hit = this.bindGroups.get(key);
    if (hit !== undefined) {
      this.counters.bindGroupHits++;
      return hit;
    }
    const group = this.device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries });
    if (this.bindGroups.size >= BIND_GROUP_CACHE_LIMIT) this.bindGroups.clear();
    this.bindGroups.set(key, group);
    this.counters.bindGroups++;
    return group;
  }

  private idOfPipeline(pipeline: GPUComputePipeline): number {
    const id = this.nextId++;
    this.pipelineIds.set(pipeline, id); // a pipeline compiled outside pipeline()
    return id;
  }
}
