// Checkpoint files in the safetensors format. Saving writes a temporary file beside the target, flushes
// it to disk and renames it over the target, so that an interrupted or failed save leaves either the old
// file or the new one, never a partial one.

import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as fsp from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import type { Tensor } from "../core/tensor.js";
import {
  MAX_HEADER_SIZE,
  SafetensorsError,
  decodeSafetensors,
  encodeSafetensors,
  readSafetensorsHeader,
  type SafetensorsHeader,
} from "../io/safetensors.js";

export interface LoadedSafetensors {
  tensors: Record<string, Tensor>;
  metadata: Record<string, string>;
}

/** A temporary name in the target's directory (same filesystem, so the rename is atomic). */
function tempPathFor(path: string): string {
  removeStaleTemps(path);
  return join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(6).toString("hex")}.tmp`);
}

/** Whether a process with this id is running (a signal 0 probes without sending anything). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM"; // running, but not ours
  }
}

/**
 * Removes the temporary files that earlier saves of `path` left behind when they were killed mid-save
 * (`.name.<pid>.<hex>.tmp` whose process is gone). A save in progress elsewhere keeps its file.
 */
export function removeStaleTemps(path: string): string[] {
  const dir = dirname(path);
  const prefix = `.${basename(path)}.`;
  const removed: string[] = [];
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return removed; // the save itself will report the folder
  }
  for (const name of names) {
    if (!name.startsWith(prefix)) continue;
    const m = /^(\d+)\.[0-9a-f]{12}\.tmp$/.exec(name.slice(prefix.length));
    if (m === null) continue;
    const pid = Number(m[1]);
    if (pid !== process.pid && alive(pid)) continue;
    if (pid === process.pid) continue; // one of ours may be in flight (async saves)
    try {
      fs.rmSync(join(dir, name), { force: true });
      removed.push(name);
    } catch {
      // not ours to insist on
    }
  }
  return removed;
}

function encodeFor(
  path: string,
  dict: Record<string, Tensor>,
  metadata?: Record<string, string>,
): Uint8Array {
  try {
    return encodeSafetensors(dict, metadata);
  } catch (e) {
    if (e instanceof SafetensorsError)
      throw new SafetensorsError(`cannot save ${path}: ${e.message}`, { cause: e });
    throw e;
  }
}

function ioError(action: string, path: string, e: unknown): Error {
  return new Error(`cannot ${action} ${path}: ${(e as Error).message ?? e}`, { cause: e });
}

function formatError(path: string, e: unknown): unknown {
  return e instanceof SafetensorsError ? new SafetensorsError(`${path}: ${e.message}`, { cause: e }) : e;
}

/** Writes `dict` (and string metadata) to `path` as safetensors, atomically. */
export async function saveSafetensors(
  path: string,
  dict: Record<string, Tensor>,
  metadata?: Record<string, string>,
): Promise<void> {
  const bytes = encodeFor(path, dict, metadata);
  const tmp = tempPathFor(path);
  let handle: fsp.FileHandle | null = null;
  let created = false;
  try {
    handle = await fsp.open(tmp, "wx"); // never reuses an existing file
    created = true;
    await handle.writeFile(bytes);
    await handle.sync();
    await handle.close();
    handle = null;
    await fsp.rename(tmp, path);
  } catch (e) {
    if (handle !== null) await handle.close().catch(() => {});
    if (created) await fsp.rm(tmp, { force: true }).catch(() => {});
    throw ioError("save", path, e);
  }
}

/** Synchronous `saveSafetensors`. */
export function saveSafetensorsSync(
  path: string,
  dict: Record<string, Tensor>,
  metadata?: Record<string, string>,
): void {
  const bytes = encodeFor(path, dict, metadata);
  const tmp = tempPathFor(path);
  let fd: number | null = null;
  let created = false;
  try {
    fd = fs.openSync(tmp, "wx");
    created = true;
    fs.writeFileSync(fd, bytes);
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    fd = null;
    fs.renameSync(tmp, path);
  } catch (e) {
    try {
      if (fd !== null) fs.closeSync(fd);
    } catch {
      // the original error matters more
    }
    try {
      if (created) fs.rmSync(tmp, { force: true });
    } catch {
      // idem
    }
    throw ioError("save", path, e);
  }
}

/** Reads a safetensors file into float32 tensors and its string metadata. */
export async function loadSafetensors(path: string): Promise<LoadedSafetensors> {
  let bytes: Uint8Array;
  try {
    bytes = await fsp.readFile(path);
  } catch (e) {
    throw ioError("read", path, e);
  }
  try {
    return decodeSafetensors(bytes);
  } catch (e) {
    throw formatError(path, e);
  }
}

/** Synchronous `loadSafetensors`. */
export function loadSafetensorsSync(path: string): LoadedSafetensors {
  let bytes: Uint8Array;
  try {
    bytes = fs.readFileSync(path);
  } catch (e) {
    throw ioError("read", path, e);
  }
  try {
    return decodeSafetensors(bytes);
  } catch (e) {
    throw formatError(path, e);
  }
}

/** Reads exactly `length` bytes at file position `position` into `buf` at `offset` (or throws). */
async function readFully(
  handle: fsp.FileHandle,
  buf: Uint8Array,
  offset: number,
  length: number,
  position: number,
) {
  let done = 0;
  while (done < length) {
    const { bytesRead } = await handle.read(buf, offset + done, length - done, position + done);
    if (bytesRead === 0) throw new Error(`unexpected end of file after ${position + done} bytes`);
    done += bytesRead;
  }
}

/**
 * Reads only the header of a safetensors file (names, dtypes, shapes, offsets, metadata), validated
 * against the file's size, without reading the tensor data.
 */
export async function loadSafetensorsHeader(path: string): Promise<SafetensorsHeader> {
  let handle: fsp.FileHandle | null = null;
  let prefix: Uint8Array;
  let size: number;
  try {
    handle = await fsp.open(path, "r");
    size = (await handle.stat()).size;
    const head = new Uint8Array(Math.min(8, size));
    await readFully(handle, head, 0, head.length, 0);
    // Read the header only if its size is sane; readSafetensorsHeader reports it otherwise.
    const view = new DataView(head.buffer);
    const n = head.length === 8 && view.getUint32(4, true) === 0 ? view.getUint32(0, true) : -1;
    const sane = n >= 0 && n <= MAX_HEADER_SIZE && 8 + n <= size;
    prefix = new Uint8Array(sane ? 8 + n : head.length);
    prefix.set(head);
    if (sane) await readFully(handle, prefix, 8, n, 8);
  } catch (e) {
    throw ioError("read", path, e);
  } finally {
    await handle?.close().catch(() => {});
  }
  try {
    return readSafetensorsHeader(prefix, size);
  } catch (e) {
    throw formatError(path, e);
  }
}
