"""The markdown table of bench/gpu/run.sh: ours on WebGPU against PyTorch on the same GPU, with issue 14's targets.

Usage: python3 bench/gpu/table.py OUTDIR [--local]
Reads OUTDIR/{ours-w2,ours-w5,ours-cpu,torch-w2,torch-w5}.json (one JSON line each, as gpu-step.ts and
torch_bench.py print; a missing or empty file is a step that failed or timed out, shown as such).
"""
import json
import os
import statistics
import sys


def load(d, name):
    try:
        with open(os.path.join(d, name + ".json")) as f:
            lines = [ln for ln in f.read().splitlines() if ln.startswith("{")]
        return json.loads(lines[-1]) if lines else None
    except (OSError, ValueError):
        return None


def ms(x):
    return "—" if x is None else f"{x:.3g} ms" if x < 100 else f"{x:.0f} ms"


def main():
    d = sys.argv[1]
    local = "--local" in sys.argv
    ours = {w: load(d, f"ours-{w}") for w in ("w2", "w5")}
    cpu = load(d, "ours-cpu")
    torch = {w: load(d, f"torch-{w}") for w in ("w2", "w5")}
    adapter = next((o["adapter"] for o in ours.values() if o), "none (our device runs failed: read run.log)")
    node = next((o["node"] for o in (*ours.values(), cpu) if o), "?")
    t = next((x for x in torch.values() if x), None)
    peer = "PyTorch CPU (1 thread)" if local else "PyTorch CUDA"
    rows = [
        f"WebGPU adapter: {adapter}; Node {node}",
        f"PyTorch: {t['torch'] if t else '?'}"
        + (f", CUDA {t.get('cuda')}, cuDNN {t.get('cudnn')}, {t.get('gpu')}, TF32 off" if t and t.get("cuda") else ""),
        "",
        f"| workload | ours, WebGPU (median) | {peer} (median) | ours / PyTorch | target |",
        "|---|---|---|---|---|",
    ]
    for w in ("w2", "w5"):
        o = ours[w][w] if ours[w] and w in ours[w] else None
        p = statistics.median(torch[w]["runs"]) if torch[w] and torch[w].get("runs") else None
        a = o["median"] if o else None
        ratio = f"{a / p:.2f}×" if a and p else "—"
        met = "" if local or not (a and p) else (" met" if a / p <= 4 else " **not met**")
        t_len = o["T"] if o else torch[w].get("seq") if torch[w] else None
        seq = f" (T {t_len})" if t_len else ""
        rows.append(f"| {w.upper()}{seq} | {ms(a)} | {ms(p)} | {ratio} | within 4×{met} |")
    c = cpu["cpu_w5"] if cpu and "cpu_w5" in cpu else None
    g = ours["w5"]["w5"]["median"] if ours["w5"] and "w5" in ours["w5"] else None
    if c:
        speed = f"{c['median'] / g:.1f}×" if g else "—"
        met = "" if local or not g else (" met" if c["median"] / g >= 30 else " **not met**")
        rows.append(
            f"| W5 (T {c['T']}), ours CPU {c['threads']} threads / ours WebGPU | {ms(g)} | CPU {ms(c['median'])} "
            f"| {speed} faster | ≥ 30×{met} |"
        )
    if local:
        rows += ["", "Local run: SwiftShader (a Vulkan driver on the CPU) at tiny sizes, PyTorch on the CPU: "
                 "this proves the pipeline, not the targets."]
    print("\n".join(rows))


if __name__ == "__main__":
    main()
