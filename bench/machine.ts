// The machine beside the benchmark's table: CPU model, its SIMD flags, the clock one core runs at and the
// 128-bit fused multiply-add peak of one core, measured from WebAssembly, the instruction set the kernels
// are written in. Node only (reads /proc/cpuinfo where it exists).
//
// Both loops are hand-assembled WebAssembly (bytes below), so no compiler can fold them:
// - clock: a chain of 32 dependent i32.add per iteration. An integer add has one cycle of latency on
//   every x86 and Arm core in use, so cycles = adds and GHz = adds / ns.
// - FMA peak: 12 independent chains of f32x4.relaxed_madd (each 4 lanes × 2 flops), twice per iteration;
//   12 chains cover a fused multiply-add's latency (4 cycles) on two pipes. Where the runtime has no
//   relaxed SIMD the same loop runs f32x4.mul then f32x4.add, and the figure says so.
// Each loop runs a few rounds of about 100 ms; the best round counts, timed in wall-clock time and in this
// process's CPU time (the second is the one to read on a loaded machine).

import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { setFlagsFromString } from "node:v8";

export interface MachineInfo {
  cpu: string;
  cores: number;
  /** the SIMD flags of /proc/cpuinfo (sse4_2, avx2, fma, avx512f, asimd...) */
  simd: string[];
  /** GHz from the dependent integer-add chain (best round, CPU time) */
  clockGHz: number;
  /** "f32x4.relaxed_madd" or "f32x4.mul + f32x4.add" */
  peakOp: string;
  /** GFLOP/s of one core, best round: wall-clock and per second of CPU time */
  peakWall: number;
  peakCpu: number;
  /** peakCpu / (clockGHz × 8): how many 128-bit FMAs the core retires per cycle */
  fmaPerCycle: number;
}

// --- a tiny WebAssembly assembler: just what the two loops need -----------------------------------------

const uleb = (n: number): number[] => {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
};
const section = (id: number, body: number[]) => [id, ...uleb(body.length), ...body];
const vec = (items: number[][]) => [...uleb(items.length), ...items.flat()];
const name = (s: string) => [...uleb(s.length), ...[...s].map((c) => c.charCodeAt(0))];
const f32 = (x: number) => [0x43, ...new Uint8Array(new Float32Array([x]).buffer)];
const I32 = 0x7f;
const F32 = 0x7d;
const V128 = 0x7b;
const SIMD = 0xfd;
const getL = (i: number) => [0x20, ...uleb(i)];
const setL = (i: number) => [0x21, ...uleb(i)];
/** n -= 1; loop again while n != 0 (n is local 0) */
const countDown = [0x20, 0x00, 0x41, 0x01, 0x6b, 0x22, 0x00, 0x0d, 0x00];

const ADDS = 32;
const CHAINS = 12;
const GROUPS = 2;

function peakModule(relaxed: boolean): Uint8Array<ArrayBuffer> {
  // clock(n, y): x = y; n times { x = x + y, 32 times in a chain }; return x
  const clock = [
    ...vec([[1, I32]]),
    ...getL(1),
    ...setL(2),
    0x03,
    0x40,
    ...getL(2),
    ...Array.from({ length: ADDS }, () => [...getL(1), 0x6a]).flat(),
    ...setL(2),
    ...countDown,
    0x0b,
    ...getL(2),
    0x0b,
  ];
  // fma(n): 12 accumulators a = a·m + c, twice per iteration; returns the sum of their first lanes
  const acc = (k: number) => 1 + k; // locals 1..12; m = 13, c = 14
  const step = (k: number) =>
    relaxed
      ? [...getL(acc(k)), ...getL(13), ...getL(14), SIMD, 0x85, 0x02, ...setL(acc(k))]
      : [...getL(acc(k)), ...getL(13), SIMD, 0xe6, 0x01, ...getL(14), SIMD, 0xe4, 0x01, ...setL(acc(k))];
  const fma = [
    ...vec([[CHAINS + 2, V128]]),
    ...Array.from({ length: CHAINS }, (_, k) => [...f32(1 + k / 64), SIMD, 0x13, ...setL(acc(k))]).flat(),
    ...f32(0.9999),
    SIMD,
    0x13,
    ...setL(13),
    ...f32(0.0001),
    SIMD,
    0x13,
    ...setL(14),
    0x03,
    0x40,
    ...Array.from({ length: GROUPS }, () => Array.from({ length: CHAINS }, (_, k) => step(k)).flat()).flat(),
    ...countDown,
    0x0b,
    ...f32(0),
    ...Array.from({ length: CHAINS }, (_, k) => [...getL(acc(k)), SIMD, 0x1f, 0x00, 0x92]).flat(),
    0x0b,
  ];
  const bytes = [
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
    ...section(
      1,
      vec([
        [0x60, 0x02, I32, I32, 0x01, I32],
        [0x60, 0x01, I32, 0x01, F32],
      ]),
    ),
    ...section(3, vec([[0x00], [0x01]])),
    ...section(
      7,
      vec([
        [...name("clock"), 0x00, 0x00],
        [...name("fma"), 0x00, 0x01],
      ]),
    ),
    ...section(10, vec([clock, fma].map((body) => [...uleb(body.length), ...body]))),
  ];
  return new Uint8Array(bytes);
}

interface PeakExports {
  clock(n: number, y: number): number;
  fma(n: number): number;
}

function instantiate(): { ex: PeakExports; relaxed: boolean } {
  let relaxed = WebAssembly.validate(peakModule(true));
  if (!relaxed) {
    // Node 20: relaxed SIMD is behind a V8 flag; the flag changes only modules compiled after it
    try {
      setFlagsFromString("--experimental-wasm-relaxed-simd");
      relaxed = WebAssembly.validate(peakModule(true));
    } catch {
      relaxed = false;
    }
  }
  const mod = new WebAssembly.Module(peakModule(relaxed));
  return { ex: new WebAssembly.Instance(mod).exports as unknown as PeakExports, relaxed };
}

const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

/** Best (highest) work per millisecond of `run(n)`, wall-clock and CPU time, over a few rounds. */
function bestRate(run: (n: number) => void, workPerN: number, rounds: number): { wall: number; cpu: number } {
  let n = 1000;
  for (;;) {
    const t0 = performance.now();
    run(n);
    if (performance.now() - t0 > 20) break;
    n *= 4;
  }
  n = Math.ceil(n * 5); // ~100 ms a round on an idle core
  let wall = 0;
  let cpu = 0;
  for (let r = 0; r < rounds; r++) {
    const t0 = performance.now();
    const c0 = cpuMs();
    run(n);
    const dt = performance.now() - t0;
    const dc = Math.max(cpuMs() - c0, 1e-3);
    wall = Math.max(wall, (n * workPerN) / dt);
    cpu = Math.max(cpu, (n * workPerN) / dc);
  }
  return { wall, cpu };
}

/** The CPU's model and SIMD flags (from /proc/cpuinfo where there is one, else os.cpus()). */
export function cpuIdentity(): { cpu: string; cores: number; simd: string[] } {
  let text = "";
  try {
    text = readFileSync("/proc/cpuinfo", "utf8");
  } catch {}
  const field = (k: string) => new RegExp(`^${k}\\s*:\\s*(.*)$`, "m").exec(text)?.[1]?.trim();
  const flags = (field("flags") ?? field("Features") ?? "").split(/\s+/);
  const simd = flags.filter((f) => /^(sse4_[12]|ssse3|avx.*|fma|f16c|amx.*|asimd.*|sve.*|neon)$/.test(f));
  return { cpu: field("model name") ?? cpus()[0]?.model ?? "?", cores: cpus().length, simd };
}

/** Measures one core's clock and 128-bit FMA peak (about 1–2 s). */
export function machineInfo(rounds = 5): MachineInfo {
  const { ex, relaxed } = instantiate();
  // clock: ADDS adds (cycles) per iteration; work unit = cycles, per ms → /1e6 = GHz
  const clk = bestRate((n) => ex.clock(n, 3), ADDS, rounds);
  const fl = bestRate((n) => ex.fma(n), CHAINS * GROUPS * 8, rounds);
  const clockGHz = clk.cpu / 1e6;
  const peakCpu = fl.cpu / 1e6;
  return {
    ...cpuIdentity(),
    clockGHz,
    peakOp: relaxed ? "f32x4.relaxed_madd" : "f32x4.mul + f32x4.add",
    peakWall: fl.wall / 1e6,
    peakCpu,
    fmaPerCycle: peakCpu / (clockGHz * 8),
  };
}

/** One line for the table's header. */
export function machineLine(m: MachineInfo): string {
  return (
    `CPU: ${m.cpu}, ${m.cores} cores; SIMD flags: ${m.simd.join(" ") || "none found"}\n` +
    `one core, measured from WebAssembly: clock ${m.clockGHz.toFixed(2)} GHz (dependent i32.add chain), ` +
    `128-bit peak ${m.peakCpu.toFixed(1)} GFLOP/s with ${m.peakOp} (12 chains; per CPU-second, ` +
    `${m.peakWall.toFixed(1)} wall-clock) = ${m.fmaPerCycle.toFixed(2)} × (clock × 8 flops), ` +
    `i.e. ${m.fmaPerCycle.toFixed(1)} 128-bit FMA per cycle; all ${m.cores} cores: ` +
    `${m.cores} × ${m.clockGHz.toFixed(2)} GHz × 8 flops × ${Math.round(m.fmaPerCycle)} = ` +
    `${(m.cores * m.clockGHz * 8 * Math.round(m.fmaPerCycle)).toFixed(0)} GFLOP/s`
  );
}

/** One core's native FMA peak at each vector width the CPU has (GFLOP/s per CPU-second), from C. */
export interface NativePeak {
  fma128?: number;
  fma256?: number;
  fma512?: number;
}

/**
 * Compiles bench/native/fma_peak.c with the system's C compiler and runs it at the widths the CPU's flags
 * list (x86-64 only: 128-bit with fma, 256-bit with avx2, 512-bit with avx512f). About 1–2 s. Null, with
 * the reason on stderr, where there is no compiler or the CPU is not x86-64: the figure is then left out.
 */
export function nativePeak(): NativePeak | null {
  const { simd } = cpuIdentity();
  if (process.arch !== "x64" || !simd.includes("fma")) {
    console.error(`native FMA peak: not measured (${process.arch}, no x86 fma flag)`);
    return null;
  }
  const widths = [
    "128",
    ...(simd.includes("avx2") ? ["256"] : []),
    ...(simd.includes("avx512f") ? ["512"] : []),
  ];
  const dir = mkdtempSync(join(tmpdir(), "fma-peak-"));
  try {
    const exe = join(dir, "fma_peak");
    const src = join(import.meta.dirname, "native", "fma_peak.c");
    const cc = spawnSync(process.env.CC ?? "cc", ["-O2", "-o", exe, src], { encoding: "utf8" });
    if (cc.status !== 0) {
      console.error(`native FMA peak: not measured (cc failed: ${cc.error?.message ?? cc.stderr.trim()})`);
      return null;
    }
    const run = spawnSync(exe, widths, { encoding: "utf8" });
    if (run.status !== 0) {
      console.error(`native FMA peak: not measured (fma_peak exited ${run.status}: ${run.stderr.trim()})`);
      return null;
    }
    return JSON.parse(run.stdout) as NativePeak;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** One line: the native peaks and how many times the widest is our 128-bit WebAssembly peak. */
export function nativePeakLine(n: NativePeak | null, m: MachineInfo): string {
  if (n === null) return "native FMA peak: not measured";
  const parts = (["128", "256", "512"] as const)
    .filter((w) => n[`fma${w}`] !== undefined)
    .map((w) => `${w}-bit ${n[`fma${w}`]?.toFixed(1)}`);
  const widest = n.fma512 ?? n.fma256 ?? n.fma128 ?? 0;
  const name = n.fma512 !== undefined ? "AVX-512" : n.fma256 !== undefined ? "AVX2" : "SSE";
  return (
    `one core, native (C, bench/native/fma_peak.c, same 12 chains): FMA peak ${parts.join(", ")} GFLOP/s per CPU-second; ` +
    `a BLAS using ${name} (as PyTorch's OpenBLAS or MKL does) has ${(widest / (n.fma128 ?? widest)).toFixed(2)}× the ` +
    `native 128-bit peak (the width of the lanes alone) and ${(widest / m.peakCpu).toFixed(2)}× our WebAssembly's ` +
    `measured 128-bit peak (${m.peakCpu.toFixed(1)})`
  );
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const m = machineInfo();
  console.log(`${machineLine(m)}\n${nativePeakLine(nativePeak(), m)}`);
}
