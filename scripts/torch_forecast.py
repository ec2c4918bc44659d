#!/usr/bin/env python3
"""Forecast with a `recurrent` checkpoint in PyTorch, to show that what recurrent trains is PyTorch's.

    /usr/bin/python3 scripts/torch_forecast.py MODEL.safetensors DATA.csv [--horizon N] [--json]

prints the same forecast as

    recurrent forecast --model MODEL.safetensors --csv DATA.csv [--horizon N] [--json]

(to float32 rounding: the test suite holds the two to 1e-5). Needs only PyTorch: the safetensors file is
read by hand here, the CSV with the standard library.

How it works, which is also the contract of the checkpoint format (src/forecast/checkpoint.ts):

1. The file's tensors are exactly the state dict of

       class ForecastNet(torch.nn.Module):
           rnn  = torch.nn.LSTM | GRU | RNN(input_size, hidden_size, num_layers, dropout=..., batch_first=...)
           head = torch.nn.Linear(hidden_size, horizon)
           forward(x) = head(rnn(x)[0][:, -1])      # [-1] when not batch_first

   with the sizes in the metadata "recurrent.model"; `load_state_dict(strict=True)` takes them as they are.
2. "recurrent.data" says which CSV columns the model reads (target first unless listed otherwise), the
   lookback L, the horizon H, the fill method for missing values, the scaler fitted on the training rows,
   and the window normalisation.
3. A forecast takes the last L rows, scales each column (standard: x / scale - mean / scale; minmax:
   x * k + (lo - min * k)), subtracts the last scaled target value from the target column when
   window_norm is "last", runs the network in float32, adds that value back and undoes the target's
   scaling. Scaling and unscaling run in float64 on float32 inputs and round to float32, as recurrent does.
4. More steps than H (univariate models only): the H forecasts are appended to the history and the
   model is run again on the last L rows, until enough steps are forecast.

Limits: missing values are filled as the checkpoint says ("ffill", "linear" by row position, "drop"),
but rows for missing dates are not inserted, so give this script a CSV whose dates have no gaps (recurrent
inserts them itself when trained with --fill ffill or linear).
"""
import argparse
import calendar
import csv
import json
import math
import re
import struct
import sys
from datetime import datetime, timedelta, timezone

import numpy
import torch

MISSING = {"", "NA", "N/A", "NaN", "nan", "null", "NULL", "None"}


# ---------------------------------------------------------------- safetensors, by hand

_DTYPES = {"F32": (torch.float32, 4), "F64": (torch.float64, 8), "F16": (torch.float16, 2),
           "BF16": (torch.bfloat16, 2), "I64": (torch.int64, 8), "I32": (torch.int32, 4)}


def read_safetensors(path):
    """({name: float32 tensor}, {metadata str: str}) from a safetensors file."""
    with open(path, "rb") as f:
        buf = f.read()
    if len(buf) < 8:
        raise ValueError(f"{path}: not a safetensors file ({len(buf)} bytes)")
    (n,) = struct.unpack("<Q", buf[:8])
    if 8 + n > len(buf):
        raise ValueError(f"{path}: truncated safetensors header")
    header = json.loads(buf[8:8 + n].decode("utf-8"))
    meta = header.pop("__metadata__", None) or {}
    base = 8 + n
    tensors = {}
    for name, info in header.items():
        dt, _ = _DTYPES[info["dtype"]]
        s, e = info["data_offsets"]
        raw = bytearray(buf[base + s:base + e])
        if dt == torch.bfloat16:
            t = torch.frombuffer(raw, dtype=torch.int16).view(torch.bfloat16) if raw else torch.empty(0, dtype=dt)
        else:
            t = torch.frombuffer(raw, dtype=dt) if raw else torch.empty(0, dtype=dt)
        tensors[name] = t.reshape(info["shape"]).float().clone()
    return tensors, meta


# ---------------------------------------------------------------- the model

class ForecastNet(torch.nn.Module):
    """A recurrent layer, its last step's top-layer output, and a Linear head to `horizon` values."""

    def __init__(self, cell, input_size, hidden_size, num_layers, dropout, batch_first, horizon):
        super().__init__()
        kind = {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[cell]
        self.batch_first = batch_first
        self.rnn = kind(input_size, hidden_size, num_layers=num_layers, dropout=dropout, batch_first=batch_first)
        self.head = torch.nn.Linear(hidden_size, horizon)

    def forward(self, x):
        out, _ = self.rnn(x)
        last = out[:, -1] if self.batch_first else out[-1]
        return self.head(last)


def load_checkpoint(path):
    """(ForecastNet in eval mode holding the checkpoint's weights, metadata dict with JSON parsed)."""
    tensors, raw = read_safetensors(path)
    if raw.get("recurrent.kind") != "forecast":
        raise ValueError(f"{path} is not a recurrent forecast checkpoint (no recurrent.kind = forecast)")
    if int(raw["recurrent.format_version"]) > 1:
        raise ValueError(f"{path}: checkpoint format {raw['recurrent.format_version']} is newer than this script (1)")
    meta = {k[len("recurrent."):]: json.loads(v) for k, v in raw.items()
            if k in ("recurrent.model", "recurrent.data", "recurrent.split", "recurrent.training")}
    m = meta["model"]
    model = ForecastNet(m["cell"], m["input_size"], m["hidden_size"], m["num_layers"], m["dropout"],
                        m["batch_first"], m["horizon"])
    model.load_state_dict(tensors, strict=True)
    model.eval()
    return model, meta


# ---------------------------------------------------------------- the series

def f32(x):
    """Rounds a Python float to float32, as a Float32Array store does."""
    return struct.unpack("<f", struct.pack("<f", x))[0]


def read_series(csv_path, data):
    """The checkpoint's columns from a CSV: (rows of float32 values as Python floats, date strings or None)."""
    with open(csv_path, newline="", encoding="utf-8-sig") as f:
        rows = [r for r in csv.reader(f) if any(c.strip() for c in r)]
    header = [h.strip() for h in rows[0]]
    body = rows[1:]
    idx = []
    for c in data["columns"]:
        if c not in header:
            raise ValueError(f"{csv_path} has no column {c!r}; its columns are {', '.join(header)}")
        idx.append(header.index(c))
    date_col = data.get("date_column")
    dates = [r[header.index(date_col)].strip() for r in body] if date_col else None
    cols = []
    for j in idx:
        col = []
        for r in body:
            s = r[j].strip()
            col.append(float("nan") if s in MISSING else float(s))
        cols.append(col)
    fill = data.get("fill")
    if fill == "drop":
        keep = [t for t in range(len(body)) if all(not math.isnan(c[t]) for c in cols)]
        cols = [[c[t] for t in keep] for c in cols]
        if dates is not None:
            dates = [dates[t] for t in keep]
    elif fill in ("ffill", "linear"):
        cols = [_fill(c, fill) for c in cols]
    for c, name in zip(cols, data["columns"]):
        if any(math.isnan(v) for v in c):
            raise ValueError(f"column {name!r} has missing values and the checkpoint has no fill method")
    T = len(cols[0])
    values = [[f32(cols[c][t]) for c in range(len(cols))] for t in range(T)]
    return values, dates


def _fill(col, how):
    col = list(col)
    known = [t for t, v in enumerate(col) if not math.isnan(v)]
    if not known:
        raise ValueError("a column has no values at all")
    if how == "ffill":
        for t in range(known[0]):
            col[t] = col[known[0]]
        for t in range(known[0] + 1, len(col)):
            if math.isnan(col[t]):
                col[t] = col[t - 1]
        return col
    for t in range(known[0]):
        col[t] = col[known[0]]
    for a, b in zip(known, known[1:]):
        for u in range(a + 1, b):
            col[u] = col[a] + (col[b] - col[a]) * (u - a) / (b - a)
    for t in range(known[-1] + 1, len(col)):
        col[t] = col[known[-1]]
    return col


# ---------------------------------------------------------------- scaling, as recurrent's scalers

def scaler_coefs(s):
    """(mul, add) per column: scaled = x * mul + add, computed in float64."""
    if s["type"] == "standard":
        mul = [1 / sc for sc in s["scale"]]
        add = [-m / sc for m, sc in zip(s["mean"], s["scale"])]
        return mul, add
    lo, hi = s["featureRange"]
    mul, add = [], []
    for mn, mx in zip(s["dataMin"], s["dataMax"]):
        rng = mx - mn
        k = (hi - lo) / (1 if rng == 0 else rng)
        mul.append(k)
        add.append(lo - mn * k)
    return mul, add


def forecast_values(model, meta, values, steps=None):
    """Forecast `steps` values (default: the horizon) after the float32 rows `values` (T, F)."""
    data = meta["data"]
    L, H, ti = data["lookback"], data["horizon"], data["target_index"]
    F = len(data["columns"])
    n = H if steps is None else steps
    if len(values) < L:
        raise ValueError(f"the model reads the last {L} rows but the series has {len(values)}")
    if n > H and F > 1:
        raise ValueError(f"a model reading {F} columns cannot forecast beyond its horizon {H}")
    mul, add = scaler_coefs(data["scaler"])
    hist = [list(r) for r in values[-L:]]
    out = []
    while len(out) < n:
        x = [[f32(v * mul[c] + add[c]) for c, v in enumerate(r)] for r in hist[-L:]]
        ref = x[-1][ti] if data["window_norm"] == "last" else 0.0
        for r in x:
            r[ti] = f32(r[ti] - ref)
        xt = torch.tensor(x, dtype=torch.float32)
        xt = xt.unsqueeze(0) if model.batch_first else xt.unsqueeze(1)  # (1, L, F) or (L, 1, F)
        with torch.no_grad():
            y = model(xt)[0].tolist()  # float32 values
        y = [f32((v + ref - add[ti]) / mul[ti]) for v in y]
        out.extend(y[:n - len(out)])
        if len(out) < n:
            hist = hist + [[v] for v in y]
    return out


# ---------------------------------------------------------------- dates, as recurrent continues them

DATE_RE = re.compile(r"^(\d{4})(?:-(\d{1,2})(?:-(\d{1,2})(?:[T ](\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?)?)?)?$", re.I)


def parse_date(s):
    m = DATE_RE.match(s.strip())
    if not m:
        raise ValueError(f"not an ISO date: {s!r}")
    y, mo, d = int(m[1]), int(m[2] or 1), int(m[3] or 1)
    hh, mi, ss = int(m[4] or 0), int(m[5] or 0), int(m[6] or 0)
    ms = int(float("0." + m[7]) * 1000 + 1e-6) if m[7] else 0
    t = datetime(y, mo, d, hh, mi, ss, ms * 1000, tzinfo=timezone.utc)
    z = m[8]
    if z and z.upper() != "Z":
        sign = -1 if z[0] == "-" else 1
        digits = z[1:].replace(":", "")
        t -= sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:4] or 0))
    return t


def format_date(t, fmt):
    if fmt is None:
        return t.strftime("%Y-%m-%d") if (t.hour, t.minute, t.second, t.microsecond) == (0, 0, 0, 0) else \
            t.strftime("%Y-%m-%dT%H:%M:%S")
    p, sep, z = fmt["precision"], fmt["separator"], "Z" if fmt["utc"] else ""
    if p == "year":
        return f"{t.year:04d}"
    if p == "month":
        return f"{t.year:04d}-{t.month:02d}"
    if p == "day":
        return f"{t.year:04d}-{t.month:02d}-{t.day:02d}"
    hm = f"{t.year:04d}-{t.month:02d}-{t.day:02d}{sep}{t.hour:02d}:{t.minute:02d}"
    if p == "minute":
        return hm + z
    if p == "second":
        return f"{hm}:{t.second:02d}{z}"
    return f"{hm}:{t.second:02d}.{t.microsecond // 1000:03d}{z}"


def continue_dates(dates, step, fmt, n):
    """The n dates after the last one: whole months on the series' anchor day, or fixed seconds."""
    ts = [parse_date(d) for d in dates]
    last = ts[-1]
    if "seconds" in step:
        return [format_date(last + timedelta(seconds=step["seconds"] * k), fmt) for k in range(1, n + 1)]
    month_end = all(t.day == calendar.monthrange(t.year, t.month)[1] for t in ts)
    anchor = max(t.day for t in ts)
    out = []
    for k in range(1, n + 1):
        mi = last.year * 12 + last.month - 1 + k * step["months"]
        y, m0 = divmod(mi, 12)
        dim = calendar.monthrange(y, m0 + 1)[1]
        day = dim if month_end else min(anchor, dim)
        out.append(format_date(last.replace(year=y, month=m0 + 1, day=day), fmt))
    return out


# ---------------------------------------------------------------- entry points

def forecast_from_files(checkpoint_path, csv_path, steps=None):
    """{"dates": [...] or None, "values": [...], "first_step": T}: the forecast after the CSV's T rows."""
    model, meta = load_checkpoint(checkpoint_path)
    panel = meta["data"].get("panel")
    if panel is not None:  # one scaler per series: reading the file as one series would be wrong
        raise ValueError(f"{checkpoint_path} holds one model of {len(panel['series'])} series (ids in "
                         f"{panel['id_column']!r}); this script forecasts one-series checkpoints: use "
                         "`recurrent forecast` (per series), or forecast_values with a series' scaler")
    values, dates = read_series(csv_path, meta["data"])
    out = forecast_values(model, meta, values, steps)
    data = meta["data"]
    fut = None
    if dates is not None and data.get("date_step") is not None:
        fut = continue_dates(dates, data["date_step"], data.get("date_format"), len(out))
    return {"dates": fut, "values": out, "first_step": len(values)}


def main(argv=None):
    ap = argparse.ArgumentParser(description="Forecast with a recurrent checkpoint in PyTorch.")
    ap.add_argument("checkpoint")
    ap.add_argument("csv")
    ap.add_argument("--horizon", type=int, default=None, help="steps to forecast (default: the trained horizon)")
    ap.add_argument("--json", action="store_true", help="print JSON instead of CSV")
    a = ap.parse_args(argv)
    torch.set_num_threads(1)
    r = forecast_from_files(a.checkpoint, a.csv, a.horizon)
    if a.json:
        print(json.dumps(r, indent=2))
        return
    key = "date" if r["dates"] is not None else "step"
    print(f"{key},value")
    for i, v in enumerate(r["values"]):
        stamp = r["dates"][i] if r["dates"] is not None else str(r["first_step"] + i)
        print(f"{stamp},{str(numpy.float32(v))}")  # the shortest decimal that reads back as the same float32


if __name__ == "__main__":
    try:
        main()
    except (ValueError, OSError) as e:
        print(f"error: {e}", file=sys.stderr)
        sys.exit(1)
