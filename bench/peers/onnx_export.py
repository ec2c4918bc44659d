"""Writes the ONNX model for the onnxruntime-node side of W3 (bench/peers/onnx.ts).

The same architecture as W3 in bench/workloads.ts and bench/peers/torch_bench.py: LSTM(1->64) + Linear(64, 1),
exported for ONE time step with the state as explicit inputs and outputs so the caller can stream:
    inputs  x [1, 1, 1], h0 [1, 1, 64], c0 [1, 1, 64]
    outputs y [1, 1, 1], h1 [1, 1, 64], c1 [1, 1, 64]
Generated at bench time into a temporary directory (torch is needed; nothing binary is committed).

Usage: /usr/bin/python3 bench/peers/onnx_export.py OUT.onnx
"""
import sys

import torch
from torch import nn


class Step(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(1, 64)
        self.head = nn.Linear(64, 1)

    def forward(self, x, h0, c0):
        out, (h1, c1) = self.lstm(x, (h0, c0))
        return self.head(out), h1, c1


def main():
    if len(sys.argv) != 2:
        raise SystemExit("usage: onnx_export.py OUT.onnx")
    torch.manual_seed(0)
    model = Step().eval()
    args = (torch.zeros(1, 1, 1), torch.zeros(1, 1, 64), torch.zeros(1, 1, 64))
    torch.onnx.export(
        model,
        args,
        sys.argv[1],
        input_names=["x", "h0", "c0"],
        output_names=["y", "h1", "c1"],
        opset_version=14,
    )


if __name__ == "__main__":
    main()
