"""PyTorch side of `npm run bench`: the same workloads as bench/workloads.ts, timed the same way.

Usage: /usr/bin/python3 bench/peers/torch_bench.py WORKLOAD [--threads N] [--quick]
Prints one JSON object: {"workload", "threads", "runs": [seconds...], "unit", "extra"}.

       /usr/bin/python3 bench/peers/torch_bench.py w2 --memory [--steps N] [--threads N]
Peak memory instead of time, measured as bench/memory.ts measures ours (read its header): resident set
after the imports (baseline), then the peak resident set over N training steps of w2; sizes in KiB.

       /usr/bin/python3 bench/peers/torch_bench.py w2|w5 --device cuda [--steps N] [--seq T]
On the GPU (bench/gpu/run.sh): model and data on CUDA, TF32 off (fp32 as ours), two warm-up steps left
out, torch.cuda.synchronize() before each step's time is read; adds torch's CUDA and cuDNN versions and
the GPU's name. --seq T sets the sequence length (w2: 50, w5: 100).
"""
import argparse
import json
import math
import os
import re
import sys
import time


def _threads_from_argv():
    """--threads N as given (default 1), read before torch loads its BLAS."""
    for i, a in enumerate(sys.argv):
        if a == "--threads" and i + 1 < len(sys.argv):
            return sys.argv[i + 1]
        if a.startswith("--threads="):
            return a.split("=", 1)[1]
    return "1"


# Debian's OpenBLAS (libopenblas0-pthread) starts one thread per core on its own, whatever
# torch.set_num_threads says: "PyTorch 1 thread" would then run its matrix products on two cores. Its
# thread count is read once, when the library loads, so it is set here, before torch is imported.
os.environ.setdefault("OPENBLAS_NUM_THREADS", _threads_from_argv())
os.environ.setdefault("OMP_NUM_THREADS", _threads_from_argv())


# OpenBLAS picks its kernels by the CPU's family and model number. On a CPU newer than the library
# (Debian's 0.3.21), or in a virtual machine that hides the model, it falls back to Prescott's SSE3
# kernels: on a 2-core AVX-512 Xeon here, 512^3 ran at 15-25 GFLOP/s instead of 85-117 with the
# AVX-512 kernels, below our own 128-bit code, and no PyTorch user has that (pip's wheels bring MKL,
# which dispatches on the CPU's feature flags). So where OpenBLAS falls back to a core older than AVX2
# on a CPU that has AVX2 and FMA, the peer names the core its flags match (AVX-512: SkylakeX, or
# Cooperlake where it has bf16; else Haswell), as OPENBLAS_CORETYPE lets a user do. A core OpenBLAS
# knows (an AVX2 pick on an AVX-512 CPU included) is left alone, and so is one set by the caller. The
# choice is reported by `anchor` and printed beside the benchmark's table. The library reads the
# variable when it loads, so this runs before torch is imported.
_AVX2_CORES = {"HASWELL", "ZEN", "SKYLAKEX", "COOPERLAKE", "SAPPHIRERAPIDS"}


def _cpu_flags():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("flags"):
                    return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


def _openblas_core():
    """The core OpenBLAS picks on its own (a child process: the choice is fixed at load), or None."""
    import subprocess

    code = (
        "import ctypes\n"
        "lib = ctypes.CDLL('libopenblas.so.0')\n"
        "lib.openblas_get_corename.restype = ctypes.c_char_p\n"
        "print(lib.openblas_get_corename().decode())"
    )
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_CORETYPE"}
    try:
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return (out.stdout.strip() or None) if out.returncode == 0 else None


OPENBLAS_CORE = {"detected": None, "used": os.environ.get("OPENBLAS_CORETYPE"), "set_by": "caller"}
if "OPENBLAS_CORETYPE" not in os.environ:
    _flags = _cpu_flags()
    _core = _openblas_core()
    OPENBLAS_CORE = {"detected": _core, "used": _core, "set_by": "openblas"}
    if _core is not None:
        _want = None
        if "avx2" in _flags and "fma" in _flags and _core.upper() not in _AVX2_CORES:
            if "avx512f" in _flags:
                _want = "Cooperlake" if "avx512_bf16" in _flags else "SkylakeX"
            else:
                _want = "Haswell"
        if _want is not None:
            os.environ["OPENBLAS_CORETYPE"] = _want
            OPENBLAS_CORE = {"detected": _core, "used": _want, "set_by": "torch_bench.py"}

import numpy as np  # noqa: E402
import torch  # noqa: E402
from torch import nn  # noqa: E402


# process CPU seconds of each timed step of w2 / w6 (bench/cputime.ts compares CPU time on a loaded machine)
CPU_STEPS = []


def w1(iters):
    """The notes' sine training: RNN(1,16)+Linear(16,1), batch 1, 49 steps, Adam lr 0.01, state carried."""
    torch.manual_seed(0)
    np.random.seed(0)

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.rnn = nn.RNN(input_size=1, hidden_size=16, num_layers=1, batch_first=True)
            for p in self.rnn.parameters():
                nn.init.normal_(p, mean=0.0, std=0.001)
            self.linear = nn.Linear(16, 1)

        def forward(self, x, h):
            out, h = self.rnn(x, h)
            out = out.view(-1, 16)
            out = self.linear(out)
            return out.unsqueeze(dim=0), h

    model = Net()
    criterion = nn.MSELoss()
    opt = torch.optim.Adam(model.parameters(), 0.01)
    h = torch.zeros(1, 1, 16)
    t0 = time.perf_counter()
    for _ in range(iters):
        start = np.random.randint(3, size=1)[0]
        data = np.sin(np.linspace(start, start + 10, 50)).reshape(50, 1)
        x = torch.tensor(data[:-1]).float().view(1, 49, 1)
        y = torch.tensor(data[1:]).float().view(1, 49, 1)
        out, h = model(x, h)
        h = h.detach()
        loss = criterion(out, y)
        model.zero_grad()
        loss.backward()
        opt.step()
    return time.perf_counter() - t0, {"final_loss": float(loss.item())}


def _sync(device):
    """Waits for the device to finish what was queued (a no-op on the CPU)."""
    if device == "cuda":
        torch.cuda.synchronize()


def w2(steps, device="cpu", seq=50):
    """One training step of LSTM(8->128, 2 layers), batch 32, seq 50, Linear on every step, Adam."""
    torch.manual_seed(0)
    lstm = nn.LSTM(8, 128, num_layers=2).to(device)
    head = nn.Linear(128, 1).to(device)
    opt = torch.optim.Adam(list(lstm.parameters()) + list(head.parameters()), 1e-3)
    x = torch.randn(seq, 32, 8).to(device)
    y = torch.randn(seq, 32, 1).to(device)
    _sync(device)
    times = []
    CPU_STEPS.clear()
    for _ in range(steps + 2):
        t0, c0 = time.perf_counter(), time.process_time()
        out, _ = lstm(x)
        loss = ((head(out) - y) ** 2).mean()
        opt.zero_grad(set_to_none=True)  # ours drops the gradients, as PyTorch 2's default does
        loss.backward()
        opt.step()
        _sync(device)
        times.append(time.perf_counter() - t0)
        CPU_STEPS.append(time.process_time() - c0)
    del CPU_STEPS[:2]
    return times[2:]


def w2_memory(steps):
    """Peak resident set of `steps` w2 training steps, over the resident set of the runtime with torch loaded."""
    def status():
        with open("/proc/self/status") as f:
            s = f.read()
        return {k: int(re.search(rf"^{k}:\s*(\d+) kB", s, re.M).group(1)) for k in ("VmRSS", "VmHWM")}

    baseline = status()["VmRSS"]
    try:  # reset the high-water mark to the current resident set: start-up transients are not the work's
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        hwm_reset = True
    except OSError:
        hwm_reset = False
    torch.manual_seed(0)
    lstm = nn.LSTM(8, 128, num_layers=2)
    head = nn.Linear(128, 1)
    opt = torch.optim.Adam(list(lstm.parameters()) + list(head.parameters()), 1e-3)
    x = torch.randn(50, 32, 8)
    y = torch.randn(50, 32, 1)
    first = 0
    for i in range(steps):
        out, _ = lstm(x)
        loss = ((head(out) - y) ** 2).mean()
        opt.zero_grad(set_to_none=True)  # ours drops the gradients, as PyTorch 2's default does
        loss.backward()
        opt.step()
        if i == 0:
            first = status()["VmHWM"]
    end = status()
    return {
        "baseline_kib": baseline,
        "peak_kib": end["VmHWM"],
        "peak_first_step_kib": first,
        "end_rss_kib": end["VmRSS"],
        "hwm_reset": hwm_reset,
        "final_loss": float(loss.item()),
    }


def w3(steps):
    """Streaming inference: LSTM(1->64)+Linear, one step at a time, state fed back."""
    torch.manual_seed(0)
    lstm = nn.LSTM(1, 64)
    head = nn.Linear(64, 1)
    x = torch.zeros(1, 1, 1)
    state = None
    with torch.no_grad():
        for _ in range(100):
            out, state = lstm(x, state)
            x = head(out)
        t0 = time.perf_counter()
        for _ in range(steps):
            out, state = lstm(x, state)
            x = head(out)
        return (time.perf_counter() - t0) / steps


def w4(n, reps):
    a = torch.randn(n, n)
    b = torch.randn(n, n)
    torch.mm(a, b)
    t0 = time.perf_counter()
    for _ in range(reps):
        torch.mm(a, b)
    dt = (time.perf_counter() - t0) / reps
    return 2 * n ** 3 / dt / 1e9


def w5(steps, seq=100, device="cpu"):
    """LSTM(64->512, 2 layers), batch 256, seq 100, Linear on every step, Adam: `steps` training steps.

    Times each step and measures the peak resident set over them, as bench/w5.ts does for ours (read its
    header): resident set after the imports (baseline), high-water mark reset to it, then the steps.
    """
    def status():
        with open("/proc/self/status") as f:
            s = f.read()
        return {k: int(re.search(rf"^{k}:\s*(\d+) kB", s, re.M).group(1)) for k in ("VmRSS", "VmHWM")}

    baseline = status()["VmRSS"]
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        hwm_reset = True
    except OSError:
        hwm_reset = False
    torch.manual_seed(0)
    lstm = nn.LSTM(64, 512, num_layers=2).to(device)
    head = nn.Linear(512, 1).to(device)
    opt = torch.optim.Adam(list(lstm.parameters()) + list(head.parameters()), 1e-3)
    x = torch.randn(seq, 256, 64).to(device)
    y = torch.randn(seq, 256, 1).to(device)
    _sync(device)
    warm = 2 if device == "cuda" else 0  # cuDNN's plans and the allocator's pool: left out on the GPU
    runs, peaks = [], []
    CPU_STEPS.clear()
    for i in range(warm + steps):
        t0, c0 = time.perf_counter(), time.process_time()
        out, _ = lstm(x)
        loss = ((head(out) - y) ** 2).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        _sync(device)
        if i < warm:
            continue
        runs.append((time.perf_counter() - t0) * 1000)
        CPU_STEPS.append(time.process_time() - c0)
        peaks.append(status()["VmHWM"])
    end = status()
    return {
        "unit": "ms/step",
        "runs": runs,
        "seq": seq,
        "baseline_kib": baseline,
        "peak_kib": end["VmHWM"],
        "peak_per_step_kib": peaks,
        "end_rss_kib": end["VmRSS"],
        "hwm_reset": hwm_reset,
        "final_loss": float(loss.item()),
    }


def blas_anchor():
    """Which BLAS PyTorch's matrix product runs on, and how fast: a 512^3 product on this process's threads.

    Debian's python3-torch is built against the generic BLAS interface (BLAS_INFO=generic) and runs whatever
    libblas.so.3 the system's alternatives point at: the reference BLAS (about 3 GFLOP/s) unless an
    optimized one (libopenblas0-pthread) is installed. The rate is given in wall-clock time and per second
    of this thread's CPU time; on a loaded machine the second is the one that says what the library can do.
    """
    n = 512
    a = torch.randn(n, n)
    b = torch.randn(n, n)
    torch.mm(a, b)
    reps = 8
    t0, c0, p0 = time.perf_counter(), time.thread_time(), time.process_time()
    for _ in range(reps):
        torch.mm(a, b)
    wall, thread, proc = time.perf_counter() - t0, time.thread_time() - c0, time.process_time() - p0
    flop = 2 * n ** 3 * reps
    cfg = torch.__config__.show()
    m = re.search(r"BLAS_INFO=(\w+)", cfg)
    libs = []
    with open("/proc/self/maps") as f:
        for line in f:
            path = line.split()[-1] if len(line.split()) >= 6 else ""
            name = os.path.basename(path).lower()
            if re.search(r"blas|mkl|blis|atlas|lapack", name) and path not in libs:
                libs.append(path)
    real = [os.path.realpath(p) for p in libs]
    # the matrix product comes from the library loaded as libblas.so.3 (an optimized one may be loaded as
    # well, for LAPACK, without serving sgemm): Debian's reference BLAS is .../blas/libblas.so.3
    reference = [p for p in real if re.search(r"/blas/libblas\.so", p)]
    optimized = [p for p in real if re.search(r"openblas|mkl|blis|atlas|accelerate", p, re.I)]
    cpu_rate = flop / max(thread, 1e-9) / 1e9
    if reference:
        kind = "reference"
    elif optimized:
        kind = "optimized"
    elif m and m.group(1) == "generic":
        kind = "reference"
    else:
        kind = "unknown"  # linked statically (pip wheels carry MKL inside libtorch_cpu): judged by the rate
    return {
        "blas_info": m.group(1) if m else None,
        "libraries": real,
        "kind": kind,
        "gflops_wall": flop / wall / 1e9,
        "gflops_cpu": cpu_rate,
        "process_cpu_over_thread_cpu": proc / max(thread, 1e-9),
        "openblas_num_threads": os.environ.get("OPENBLAS_NUM_THREADS"),
        "openblas_core": OPENBLAS_CORE,
        "n": n,
    }


def w6(steps):
    """One training step of the char LM: Embedding(65, 64), LSTM(64->256, 2 layers), batch 32, seq 64, Adam."""
    torch.manual_seed(0)
    embed = nn.Embedding(65, 64)
    lstm = nn.LSTM(64, 256, num_layers=2, batch_first=True)
    head = nn.Linear(256, 65)
    params = list(embed.parameters()) + list(lstm.parameters()) + list(head.parameters())
    opt = torch.optim.Adam(params, 2e-3)
    x = torch.randint(0, 65, (32, 64))
    y = torch.randint(0, 65, (32 * 64,))
    times = []
    CPU_STEPS.clear()
    for _ in range(steps + 2):
        t0, c0 = time.perf_counter(), time.process_time()
        out, _ = lstm(embed(x))
        loss = nn.functional.cross_entropy(head(out).reshape(-1, 65), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        times.append(time.perf_counter() - t0)
        CPU_STEPS.append(time.process_time() - c0)
    del CPU_STEPS[:2]
    return times[2:]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("workload")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--memory", action="store_true", help="w2 only: peak resident set, not time")
    ap.add_argument("--steps", type=int, default=20, help="training steps of --memory (w5: 2 by default)")
    ap.add_argument("--seq", type=int, default=100, help="w2 and w5: sequence length (50, 100)")
    ap.add_argument("--device", choices=["cpu", "cuda"], default="cpu", help="w2 and w5: where to train")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    out = {"workload": a.workload, "threads": a.threads, "torch": torch.__version__}
    if a.device == "cuda":
        if a.workload not in ("w2", "w5") or a.memory:
            raise SystemExit("--device cuda times w2 and w5 only")
        if not torch.cuda.is_available():
            raise SystemExit(f"--device cuda: torch {torch.__version__} sees no CUDA device")
        torch.backends.cuda.matmul.allow_tf32 = False  # fp32 products, as ours
        torch.backends.cudnn.allow_tf32 = False
        out.update(device="cuda", cuda=torch.version.cuda, cudnn=torch.backends.cudnn.version(),
                   gpu=torch.cuda.get_device_name(0))
    if a.workload == "anchor":
        out.update(blas_anchor())
    elif a.workload == "w5":
        out.update(w5(2 if "--steps" not in sys.argv else a.steps, a.seq, a.device))
        out.update(cpu_runs=[t * 1000 for t in CPU_STEPS])
    elif a.memory:
        if a.workload != "w2":
            raise SystemExit("--memory measures w2 only")
        out.update(steps=a.steps, **w2_memory(a.steps))
    elif a.workload == "w1":
        iters = 1000 if a.quick else 6000
        w1(300 if a.quick else 2000)  # warm-up, not timed (as bench/run.ts does for ours)
        runs = [w1(iters) for _ in range(a.runs)]
        out.update(unit="s", runs=[r[0] for r in runs], iters=iters, extra=runs[-1][1])
    elif a.workload == "w2":
        seq = a.seq if "--seq" in sys.argv else 50
        steps = a.steps if "--steps" in sys.argv else 3 if a.quick else 10
        out.update(unit="ms/step", seq=seq, runs=[t * 1000 for t in w2(steps, a.device, seq)])
        out.update(cpu_runs=[t * 1000 for t in CPU_STEPS])
    elif a.workload == "w3":
        out.update(unit="us/step", runs=[w3(2000 if a.quick else 20000) * 1e6 for _ in range(a.runs)])
    elif a.workload == "w6":
        out.update(unit="ms/step", runs=[t * 1000 for t in w6(a.steps if "--steps" in sys.argv else 3 if a.quick else 10)])
        out.update(cpu_runs=[t * 1000 for t in CPU_STEPS])
    elif a.workload.startswith("w4-"):
        n = int(a.workload[3:])
        out.update(unit="GFLOP/s", runs=[w4(n, 20 if n <= 256 else 3) for _ in range(a.runs)])
    else:
        raise SystemExit(f"unknown workload {a.workload}")
    print(json.dumps(out))


if __name__ == "__main__":
    main()
