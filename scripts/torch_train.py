#!/usr/bin/env python3
"""Train `recurrent`'s forecaster in PyTorch with DistributedDataParallel; forecast with `recurrent`.

    # settings of a run, written by recurrent (nothing is trained there):
    recurrent train --csv DATA.csv --target CO2 --fill linear --emit-torch run/
    # two processes on this machine (gloo over 127.0.0.1):
    /usr/bin/python3 scripts/torch_train.py --config run/torch_train.json --nproc 2 --out model.safetensors
    # or on a cluster, one process per GPU (nccl), per node:
    torchrun --nnodes 4 --nproc-per-node 8 --rdzv-backend c10d --rdzv-endpoint HOST:29500 \\
        scripts/torch_train.py --config run/torch_train.json --out model.safetensors
    # then, anywhere recurrent runs (Node or the browser playground):
    recurrent forecast --model model.safetensors --csv DATA.csv
    recurrent evaluate --model model.safetensors --csv DATA.csv

The checkpoint is the one `recurrent train` writes (src/forecast/checkpoint.ts): the weights of
ForecastNet under PyTorch's names, and in the safetensors metadata the model, data, split and training
records, Adam's and ReduceLROnPlateau's state at the best epoch. So `recurrent forecast`, `evaluate`,
`train --resume`, the playground and ONNX export read it unchanged, and scripts/torch_forecast.py too.

What is trained is what `recurrent train --cell lstm` trains (src/forecast/train.ts):

- data: the CSV's target and feature columns as float32, the date column's step inferred (whole months
  when every date sits on the same day of the month, else fixed seconds), missing dates inserted and
  filled with --fill ffill or linear (drop removes rows with a missing value); a chronological split
  into train / validation / test (fractions rounded half up, or row counts); scaling (standard or
  minmax) fitted on the training rows only, in float64; windows of `lookback` rows whose first
  forecast step is each origin, the target relative to the window's last value (window norm "last");
- model: ForecastNet = LSTM (or GRU, RNN) stack + Linear head to `horizon` values, initialised from
  torch.manual_seed(seed) (recurrent draws the same initial weights from the same seed);
- optimisation: MSE on the scaled changes, Adam, gradient-norm clipping, ReduceLROnPlateau on the
  validation loss (the training loss without a validation part), early stopping after `patience`
  epochs without improvement, keeping the best epoch's weights; shuffled mini-batches, drawn with
  recurrent's Fisher-Yates shuffle from torch's default generator.

Many series (--id-column COL, or the id_column that `recurrent train --id-column COL --emit-torch DIR`
writes): a long-format CSV, one row per series and time step, read as recurrent's preparePanel reads it
(src/forecast/panel.ts): the series in order of first appearance, each with its own dates, gaps and
fill (one date step for all), its own split and its own scaler fitted on its own training rows; a series
too short for the split is skipped and reported. The training and validation windows of all series are
concatenated in series order, so the shuffled global batches, and their sharding over the ranks, mix
every series. The checkpoint's data.panel holds each series' id, scaler and split; `recurrent forecast`
and `evaluate` then work per series.

The subset of recurrent's CSV rules read here: a header line, comma-separated fields (Python's csv
quoting), blank lines skipped, missing values as empty cells or NA, N/A, NaN, nan, null, NULL, None,
numbers in decimal or exponent notation, ISO dates (2020, 2020-01, 2020-01-31, 2020-01-31T10:00,
with seconds, milliseconds and a zone). Without --config the date column is the first column whose
every cell is such a date (with a '-'), as recurrent detects it; other delimiters than ',' are not
read. recurrent's --emit-torch writes the resolved column names, so a run from its config reads the
same series.

Distributed: every rank reads the CSV and computes the same scaling (it is cheap next to training);
windows are sharded, not copied, for the work: each epoch all ranks draw the same permutation, and each
global mini-batch of `batch_size` windows is dealt out across the ranks (rank r takes every world-th
window), so each rank runs forward and backward on its shard only. The loss of each rank is scaled so
that DDP's gradient average is exactly the gradient of the MSE over the whole global batch: the
optimisation is the single-process one, whatever the number of processes (up to float rounding).
Validation is sharded the same way and summed with all_reduce. Rank 0 writes the checkpoint.

Backends: nccl when the process has a GPU (torchrun with CUDA), gloo on CPU. `--nproc N` starts N
processes itself with torch.multiprocessing.spawn and a gloo rendezvous on 127.0.0.1, because Debian's
torchrun for PyTorch 1.13 fails on Python 3.11 (the elastic launcher's `to_map`) while DDP itself works.
Without --nproc and outside torchrun it trains in one process, without a process group.
"""
import argparse
import calendar
import copy
import json
import math
import os
import socket
import struct
import sys
import time
from datetime import timedelta

import numpy
import torch
import torch.distributed as dist

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch_forecast as tf  # noqa: E402  (the same model class, date and fill rules, CSV tokens)

LIBRARY_VERSION = "0.1.0"  # the recurrent version whose checkpoint format this writes
CONFIG_FORMAT = "recurrent.torch_train"

# recurrent's DEFAULT_TRAIN_OPTIONS (src/forecast/train.ts) in snake_case: the settings of a run.
DEFAULTS = {
    "lookback": 24,
    "horizon": 12,
    "val": 0.15,
    "test": 0.15,
    "scaler": "standard",
    "window_norm": "last",
    "cell": "lstm",
    "hidden": 32,
    "layers": 1,
    "dropout": 0.0,
    "batch_first": True,
    "epochs": 200,
    "batch_size": 32,
    "lr": 0.005,
    "clip": 1.0,
    "seed": 0,
    "patience": 10,
    "lr_patience": 3,
    "lr_factor": 0.5,
    "min_lr": 1e-5,
}
# what names the data besides the settings
DATA_KEYS = ("target", "features", "date_column", "fill", "id_column")


class TrainError(ValueError):
    """Bad input: printed as `error: ...`, exit code 1."""


# ---------------------------------------------------------------- reading the series

def _parse_date_format(s):
    """(datetime in UTC, {precision, separator, utc}) or None: recurrent's parseDateFormat."""
    m = tf.DATE_RE.match(s.strip())
    if not m:
        return None
    try:
        t = tf.parse_date(s)
    except ValueError:  # impossible dates such as 2021-02-29
        return None
    precision = ("year" if m[2] is None else "month" if m[3] is None else "day" if m[4] is None
                 else "minute" if m[6] is None else "second" if m[7] is None else "millisecond")
    sep = " " if m[4] is not None and s.strip()[10] == " " else "T"
    return t, {"precision": precision, "separator": sep, "utc": m[8] is not None}


def _month_index(t):
    return t.year * 12 + t.month - 1


def _days_in(y, m1):
    return calendar.monthrange(y, m1)[1]


def _time_of_day(t):
    return t - t.replace(hour=0, minute=0, second=0, microsecond=0)


def _month_anchor(ts):
    """'end', a day number, or None when the dates are not month-aligned (recurrent's monthAnchor)."""
    tod = _time_of_day(ts[0])
    if any(_time_of_day(t) != tod for t in ts):
        return None
    if all(t.day == _days_in(t.year, t.month) for t in ts):
        return "end"
    mx = max(t.day for t in ts)
    return mx if all(t.day == min(mx, _days_in(t.year, t.month)) for t in ts) else None


def infer_step(ts, fmt_date):
    """recurrent's inferStep: {kind, months} or {kind, seconds}."""
    for i in range(1, len(ts)):
        if ts[i] <= ts[i - 1]:
            rel = "the same as" if ts[i] == ts[i - 1] else "before"
            raise TrainError(f"dates must be strictly increasing: dates[{i}] = {fmt_date(ts[i])} is {rel} "
                             f"dates[{i - 1}] = {fmt_date(ts[i - 1])}")
    if _month_anchor(ts) is not None:
        diffs = [_month_index(b) - _month_index(a) for a, b in zip(ts, ts[1:])]
        step = min(diffs)
        for i, d in enumerate(diffs):
            if d % step:
                raise TrainError(f"dates are not evenly spaced: from {fmt_date(ts[i])} to {fmt_date(ts[i + 1])} is "
                                 f"{d} month(s), not a whole multiple of the smallest interval, {step} month(s)")
        kind = {1: "monthly", 3: "quarterly", 12: "yearly"}.get(step, "months")
        return {"kind": kind, "months": step}
    diffs = [round((b - a).total_seconds() * 1000) for a, b in zip(ts, ts[1:])]
    step = min(diffs)
    for i, d in enumerate(diffs):
        if d % step:
            raise TrainError(f"dates are not evenly spaced: from {fmt_date(ts[i])} to {fmt_date(ts[i + 1])} is "
                             f"{d / 1000} second(s), not a whole multiple of the smallest interval, {step / 1000}")
    kind = {86_400_000: "daily", 7 * 86_400_000: "weekly"}.get(step, "seconds")
    return {"kind": kind, "seconds": step / 1000}


def _steps_between(a, b, step):
    if "months" in step:
        return (_month_index(b) - _month_index(a)) / step["months"]
    return (b - a).total_seconds() / step["seconds"]


def _stepper(ts, step):
    if "seconds" in step:
        return lambda t, k: t + timedelta(seconds=step["seconds"] * k)
    anchor = _month_anchor(ts)

    def at(t, k):
        mi = _month_index(t) + k * step["months"]
        y, m0 = divmod(mi, 12)
        dim = _days_in(y, m0 + 1)
        day = dim if anchor == "end" else min(anchor, dim)
        return t.replace(year=y, month=m0 + 1, day=day)
    return at


def read_csv_table(path):
    import csv
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            rows = [r for r in csv.reader(f)]
    except OSError as e:
        raise TrainError(f"cannot read the CSV file {path}: {e.strerror or e}") from None
    lines = [i + 1 for i, r in enumerate(rows)]
    keep = [i for i, r in enumerate(rows) if not (len(r) == 0 or (len(r) == 1 and r[0].strip() == ""))]
    if not keep:
        raise TrainError(f"{path}: CSV is empty: expected a header line and at least one data row")
    header = [h.strip() for h in rows[keep[0]]]
    body, body_lines = [], []
    for i in keep[1:]:
        if len(rows[i]) != len(header):
            raise TrainError(f"{path}: line {lines[i]} has {len(rows[i])} field(s) but the header has "
                             f"{len(header)}: {', '.join(header)}")
        body.append(rows[i])
        body_lines.append(lines[i])
    if not body:
        raise TrainError(f"{path}: CSV has a header ({', '.join(header)}) but no data rows")
    return header, body, body_lines


def detect_date_column(header, body):
    """The first column whose every cell is an ISO date (recurrent's rule), or None."""
    for j, name in enumerate(header):
        if all("-" in r[j] and _parse_date_format(r[j]) is not None for r in body):
            return name
    return None


def read_series(path, target, features=(), date_column=None, fill=None):
    """The selected columns as float32 (T, F) values and everything the checkpoint's data record needs.

    date_column: a name, False for none, None to detect one. The target comes first unless `features`
    lists it."""
    header, body, body_lines = read_csv_table(path)
    return series_of_rows(header, body, body_lines, target, features, date_column, fill)


def series_of_rows(header, body, body_lines, target, features=(), date_column=None, fill=None):
    """read_series on rows already read (a whole file, or one series' rows of a long-format file)."""
    features = list(features or [])
    names = list(features) if target in features else [target] + features
    for n in names:
        if n not in header:
            raise TrainError(f"unknown column {n!r}; the CSV's columns are: {', '.join(header)}")
    if date_column is None:
        date_column = detect_date_column(header, body)
    elif date_column is False:
        date_column = None
    if date_column is not None and date_column not in header:
        raise TrainError(f"date column {date_column!r} is not in the CSV; its columns are: {', '.join(header)}")
    if date_column in names:
        raise TrainError(f"column {date_column!r} is the date column and cannot be a numeric feature")
    idx = [header.index(n) for n in names]
    cols = []
    for n, j in zip(names, idx):
        col = []
        for r, line in zip(body, body_lines):
            s = r[j].strip()
            if s == "" or s in tf.MISSING:
                if fill is None:
                    raise TrainError(f"missing value in column {n!r} on line {line}; pass --fill ffill, "
                                     "linear or drop to fill or drop missing values")
                col.append(float("nan"))
            else:
                try:
                    col.append(float(s))
                except ValueError:
                    raise TrainError(f"non-numeric value {r[j]!r} in column {n!r} on line {line}") from None
        cols.append(col)
    dates, fmt, step, inserted = None, None, None, 0
    if date_column is not None:
        dj = header.index(date_column)
        dates = []
        for r, line in zip(body, body_lines):
            p = _parse_date_format(r[dj])
            if p is None:
                raise TrainError(f"date column {date_column!r} on line {line} holds {r[dj]!r}, which is not a date")
            dates.append(p[0])
            fmt = p[1]
        show = lambda t: tf.format_date(t, fmt)  # noqa: E731
        if len(dates) >= 2:
            step = infer_step(dates, show)
            gaps = [(i, round(_steps_between(dates[i - 1], dates[i], step)) - 1) for i in range(1, len(dates))
                    if _steps_between(dates[i - 1], dates[i], step) > 1]
            missing = sum(k for _, k in gaps)
            if missing and fill is None:
                i = gaps[0][0]
                raise TrainError(f"the {step['kind']} dates in column {date_column!r} skip {missing} step(s) in "
                                 f"{len(gaps)} place(s), first between {show(dates[i - 1])} and {show(dates[i])}; "
                                 "pass --fill ffill, linear or drop to insert the missing dates and fill them")
            if missing and fill != "drop":
                at = _stepper(dates, step)
                new_dates, new_cols = [], [[] for _ in cols]
                for t in range(len(dates)):
                    if t > 0:
                        for k in range(1, round(_steps_between(dates[t - 1], dates[t], step))):
                            new_dates.append(at(dates[t - 1], k))
                            for c in new_cols:
                                c.append(float("nan"))
                    new_dates.append(dates[t])
                    for c, src in zip(new_cols, cols):
                        c.append(src[t])
                dates, cols, inserted = new_dates, new_cols, missing
    if fill == "drop":
        keep = [t for t in range(len(cols[0])) if all(not math.isnan(c[t]) for c in cols)]
        if not keep:
            raise TrainError(f"every row has a missing value in {', '.join(names)}; nothing is left after drop")
        cols = [[c[t] for t in keep] for c in cols]
        if dates is not None:
            dates = [dates[t] for t in keep]
    elif fill in ("ffill", "linear"):
        for c, n in zip(cols, names):
            if all(math.isnan(v) for v in c):
                raise TrainError(f"column {n!r} has no values at all; there is nothing to fill from")
        cols = [tf._fill(c, fill) for c in cols]
    values = numpy.array(cols, dtype=numpy.float64).T.astype(numpy.float32)  # (T, F), rounded once
    return {
        "values": values,
        "columns": names,
        "target_index": names.index(target),
        "date_column": date_column,
        "dates": dates,
        "date_format": fmt,
        "date_step": step,
        "inserted_dates": inserted,
        "fill": fill,
    }


# ---------------------------------------------------------------- split, scaling, windows

def _size(v, T, what):
    if not (v >= 0) or not math.isfinite(v):
        raise TrainError(f"{what} must be a fraction in [0, 1) or a count >= 1, got {v}")
    if v < 1:
        return math.floor(v * T + 0.5)  # JavaScript's Math.round
    if v != int(v):
        raise TrainError(f"{what} = {v} is >= 1 so it is read as a count, but it is not an integer")
    return int(v)


def plan_split(T, L, H, val, test):
    """[train, val, test] as (start, end) rows, with recurrent's planSplit checks."""
    need = L + H
    if T < need:
        raise TrainError(f"series too short: {T} row(s), but one window needs lookback {L} + horizon {H} = {need} rows")
    nv, nt = _size(val, T, "val"), _size(test, T, "test")
    ntr = T - nv - nt
    if ntr < 1:
        raise TrainError(f"validation ({nv}) and test ({nt}) take all {T} time steps; training needs at least one")
    if ntr < need:
        raise TrainError(f"series too short: after the validation ({nv}) and test ({nt}) rows, {ntr} of {T} rows "
                         f"are left for training, but one training window needs lookback {L} + horizon {H} = "
                         f"{need} rows; use a longer series, a shorter lookback or horizon, or smaller val/test parts")
    for name, n in (("validation", nv), ("test", nt)):
        if 0 < n < H:
            raise TrainError(f"the {name} part has {n} row(s), fewer than the horizon {H}, so it holds no window; "
                             f"make it at least {H} rows or 0")
    return [(0, ntr), (ntr, ntr + nv), (ntr + nv, T)]


def origins_in(start, end, L, H):
    return list(range(max(start, L), end - H + 1))


def fit_scaler(kind, values, end):
    """recurrent's StandardScaler / MinMaxScaler fitted on rows [0, end), as its JSON record.

    Sums run in float64 in row order (numpy.cumsum is sequential), as recurrent's do."""
    x = values[:end].astype(numpy.float64)  # (rows, F)
    mn, mx = x.min(axis=0), x.max(axis=0)
    if kind == "standard":
        mean = numpy.cumsum(x, axis=0)[-1] / x.shape[0]
        var = numpy.cumsum((x - mean) ** 2, axis=0)[-1] / x.shape[0]
        scale = [1.0 if a == b else math.sqrt(v) for a, b, v in zip(mn, mx, var)]
        return {"type": "standard", "mean": [float(m) for m in mean], "scale": scale}
    if kind == "minmax":
        return {"type": "minmax", "featureRange": [0, 1], "dataMin": [float(v) for v in mn],
                "dataMax": [float(v) for v in mx]}
    raise TrainError(f'scaler must be "standard" or "minmax", got {kind!r}')


def make_windows(scaled, origins, L, H, ti, window_norm):
    """x (N, L, F) and y (N, H), float32, as recurrent's windowInputs / windowTargets."""
    o = numpy.asarray(origins, dtype=numpy.int64)
    F = scaled.shape[1]
    if len(o) == 0:
        return numpy.zeros((0, L, F), numpy.float32), numpy.zeros((0, H), numpy.float32)
    x = scaled[o[:, None] + numpy.arange(-L, 0)[None, :]].copy()  # (N, L, F)
    y = scaled[o[:, None] + numpy.arange(H)[None, :], ti].copy()  # (N, H)
    if window_norm == "last":
        ref = scaled[o - 1, ti]  # (N)
        x[:, :, ti] -= ref[:, None]
        y -= ref[:, None]
    return x, y


# ---------------------------------------------------------------- many series (long format)

def read_panel(path, id_column, target, features=(), date_column=None, fill=None):
    """[(id, series)] of a long-format CSV, in order of first appearance (recurrent's preparePanel).

    The date column is detected on the whole file; each series' rows are then read as read_series reads
    a file (step, gaps, fill). Every series must have the same date step."""
    header, body, body_lines = read_csv_table(path)
    if id_column not in header:
        raise TrainError(f"unknown column {id_column!r}; the CSV's columns are: {', '.join(header)}")
    features = list(features or [])
    if id_column == target or id_column in features:
        raise TrainError(f"column {id_column!r} names the series; it cannot also be a model input")
    if date_column is None:
        date_column = detect_date_column(header, body) or False
    if date_column == id_column:
        raise TrainError(f"column {id_column!r} is the date column; the series ids need a column of their own")
    j = header.index(id_column)
    groups = {}
    for r, line in zip(body, body_lines):
        sid = r[j].strip()
        if sid == "":
            raise TrainError(f"empty series id in column {id_column!r} on line {line}")
        groups.setdefault(sid, []).append((r, line))
    members = []
    for sid, rows in groups.items():
        try:
            s = series_of_rows(header, [r for r, _ in rows], [ln for _, ln in rows], target, features, date_column, fill)
        except TrainError as e:
            raise TrainError(f"series {sid!r}: {e}") from None
        members.append((sid, s))
    stepped = [(sid, s) for sid, s in members if s["date_step"] is not None]
    for sid, s in stepped:
        if s["date_step"] != stepped[0][1]["date_step"]:
            raise TrainError(f"series {stepped[0][0]!r} is {stepped[0][1]['date_step']['kind']} but series {sid!r} is "
                             f"{s['date_step']['kind']}; one model reads one frequency")
    return members


def panel_windows(members, o):
    """Each series' split, scaler and windows; the training and validation windows of all series in series
    order (recurrent's panelWindows). A series too short for the split is skipped with the reason."""
    L, H = o["lookback"], o["horizon"]
    kept, skipped = [], []
    for sid, s in members:
        values = s["values"]
        T = len(values)
        try:
            split = plan_split(T, L, H, o["val"], o["test"])
        except TrainError as e:
            skipped.append({"id": sid, "rows": T, "reason": str(e)})
            continue
        scaler = fit_scaler(o["scaler"], values, split[0][1])
        mul, add = tf.scaler_coefs(scaler)
        scaled = (values.astype(numpy.float64) * numpy.array(mul) + numpy.array(add)).astype(numpy.float32)
        orig = [origins_in(a, b, L, H) for a, b in split]
        tr = make_windows(scaled, orig[0], L, H, s["target_index"], o["window_norm"])
        va = make_windows(scaled, orig[1], L, H, s["target_index"], o["window_norm"])
        kept.append({"id": sid, "series": s, "split": split, "scaler": scaler, "origins": orig, "train": tr, "val": va})
    if not kept:
        raise TrainError("no series is long enough to train on: " +
                         "; ".join(f"series {k['id']!r}: {k['reason']}" for k in skipped))
    cat = lambda part, i: numpy.concatenate([k[part][i] for k in kept])  # noqa: E731
    return {"members": kept, "skipped": skipped, "train": (cat("train", 0), cat("train", 1)),
            "val": (cat("val", 0), cat("val", 1)), "test": sum(len(k["origins"][2]) for k in kept)}


def _date_at(s):
    dates, fmt = s["dates"], s["date_format"]
    return lambda r: None if dates is None or r >= len(dates) else tf.format_date(dates[r], fmt)  # noqa: E731


def _split_record(o, T, split, windows, date_at):
    return {"val": o["val"], "test": o["test"], "rows": T, "train_range": list(split[0]),
            "val_range": list(split[1]), "test_range": list(split[2]),
            "test_start_date": date_at(split[2][0]) if split[2][1] > split[2][0] else None, "windows": windows}


def training_data(cfg, o):
    """The windows to train on and the checkpoint's data and split records: one series, or with
    cfg["id_column"] every series of a long-format file (data.panel; the other fields describe the first)."""
    L, H = o["lookback"], o["horizon"]
    args = (cfg["target"], cfg.get("features") or [], cfg.get("date_column"), cfg.get("fill"))
    if cfg.get("id_column"):
        pw = panel_windows(read_panel(cfg["csv"], cfg["id_column"], *args), o)
        recs = []
        for k in pw["members"]:
            T = len(k["series"]["values"])
            windows = {"train": len(k["origins"][0]), "val": len(k["origins"][1]), "test": len(k["origins"][2])}
            sp = _split_record(o, T, k["split"], windows, _date_at(k["series"]))
            recs.append({"id": k["id"], "rows": T, "first_date": _date_at(k["series"])(0),
                         "last_date": _date_at(k["series"])(T - 1), "scaler": k["scaler"],
                         "train_range": sp["train_range"], "val_range": sp["val_range"], "test_range": sp["test_range"],
                         "test_start_date": sp["test_start_date"], "windows": windows, "split": sp})
        first, s, split = recs[0], pw["members"][0]["series"], pw["members"][0]["split"]
        panel = {"id_column": cfg["id_column"], "series": [{k: v for k, v in r.items() if k != "split"} for r in recs],
                 "skipped": pw["skipped"]}
        rows = sum(len(k["series"]["values"]) for k in pw["members"])
        what = (f"{len(recs)} series (ids in {cfg['id_column']!r}{', ' + str(len(pw['skipped'])) + ' skipped' if pw['skipped'] else ''}), "
                f"target {cfg['target']}, {rows} rows")
        scaler, T, split_rec = first["scaler"], first["rows"], first["split"]
        tr, va, n_test = pw["train"], pw["val"], pw["test"]
        extra = {"panel": panel}
    else:
        s = read_series(cfg["csv"], *args)
        values = s["values"]
        T = len(values)
        split = plan_split(T, L, H, o["val"], o["test"])
        scaler = fit_scaler(o["scaler"], values, split[0][1])
        mul, add = tf.scaler_coefs(scaler)
        scaled = (values.astype(numpy.float64) * numpy.array(mul) + numpy.array(add)).astype(numpy.float32)
        orig = [origins_in(a, b, L, H) for a, b in split]
        tr = make_windows(scaled, orig[0], L, H, s["target_index"], o["window_norm"])
        va = make_windows(scaled, orig[1], L, H, s["target_index"], o["window_norm"])
        n_test = len(orig[2])
        split_rec = _split_record(o, T, split, {"train": len(orig[0]), "val": len(orig[1]), "test": n_test},
                                  _date_at(s))
        ins = f"; {s['inserted_dates']} missing date(s) inserted and filled ({s['fill']})" if s["inserted_dates"] else ""
        what = f"target {cfg['target']}, {T} rows{ins}"
        extra = {}
    date_at = _date_at(s)
    data = {"target": cfg["target"], "columns": s["columns"], "target_index": s["target_index"], "lookback": L,
            "horizon": H, "fill": s["fill"], "date_column": s["date_column"], "date_format": s["date_format"],
            "date_step": s["date_step"], "window_norm": o["window_norm"], "scaler": scaler, "rows": T,
            "first_date": date_at(0), "last_date": date_at(T - 1), **extra}
    return {"F": s["values"].shape[1], "train": tr, "val": va,
            "windows": {"train": len(tr[0]), "val": len(va[0]), "test": n_test},
            "data": data, "split": split_rec, "what": what}


# ---------------------------------------------------------------- safetensors, by hand

def write_safetensors(path, tensors, metadata):
    """F32 tensors in name order and string metadata; written to a temporary file, then renamed."""
    header, blobs, off = {}, [], 0
    for name in sorted(tensors):
        b = tensors[name].detach().to("cpu", torch.float32).contiguous().numpy().astype("<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(tensors[name].shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    header["__metadata__"] = metadata
    h = json.dumps(header, separators=(",", ":")).encode("utf-8")
    h += b" " * (-len(h) % 8)
    tmp = f"{path}.tmp{os.getpid()}"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)
    os.replace(tmp, path)


def _b64_f32(t):
    import base64
    return base64.b64encode(t.detach().to("cpu", torch.float32).contiguous().numpy().astype("<f4").tobytes()).decode()


def optimizer_record(opt_state):
    """torch's Adam state_dict in recurrent's form: buffers as {"f32": base64}, recurrent's group keys."""
    state = {}
    for k, e in opt_state["state"].items():
        out = {}
        for name, v in e.items():
            if torch.is_tensor(v):
                out[name] = float(v.item()) if v.numel() == 1 and name == "step" else {"f32": _b64_f32(v)}
            else:
                out[name] = v
        if isinstance(out.get("step"), float) and out["step"].is_integer():
            out["step"] = int(out["step"])
        state[str(k)] = out
    groups = []
    for g in opt_state["param_groups"]:
        groups.append({"params": list(g["params"]), "lr": g["lr"], "betas": list(g["betas"]), "eps": g["eps"],
                       "weight_decay": g["weight_decay"], "amsgrad": g["amsgrad"],
                       "maximize": g.get("maximize", False)})
    return {"state": state, "param_groups": groups}


def scheduler_record(s):
    """ReduceLROnPlateau's state with recurrent's keys (±inf as null)."""
    fin = lambda v: v if math.isfinite(v) else None  # noqa: E731
    return {"factor": s["factor"], "min_lrs": list(s["min_lrs"]), "patience": s["patience"],
            "cooldown": s["cooldown"], "cooldown_counter": s["cooldown_counter"], "mode": s["mode"],
            "threshold": s["threshold"], "threshold_mode": s["threshold_mode"], "best": fin(s["best"]),
            "num_bad_epochs": s["num_bad_epochs"], "mode_worse": fin(s["mode_worse"]), "eps": s["eps"],
            "last_epoch": s["last_epoch"], "_last_lr": list(s.get("_last_lr", []))}


# ---------------------------------------------------------------- distributed helpers

def _world():
    return (dist.get_rank(), dist.get_world_size()) if dist.is_available() and dist.is_initialized() else (0, 1)


def _allreduce_sum(values, device):
    """Sums a list of floats over the ranks (float64)."""
    if _world()[1] == 1:
        return list(values)
    t = torch.tensor(values, dtype=torch.float64, device=device)
    dist.all_reduce(t)
    return t.tolist()


def fisher_yates(n):
    """recurrent's shuffle: from i = n-1 down to 1, swap i with randint(0, i + 1) of the default generator."""
    perm = list(range(n))
    for i in range(n - 1, 0, -1):
        j = int(torch.randint(0, i + 1, (1,)).item())
        perm[i], perm[j] = perm[j], perm[i]
    return perm


# ---------------------------------------------------------------- training

def settings(cfg):
    """The run's settings: DEFAULTS overridden by the config, checked as recurrent checks them."""
    o = {**DEFAULTS, **{k: cfg[k] for k in DEFAULTS if k in cfg}}
    for k in ("lookback", "horizon", "hidden", "layers", "epochs", "batch_size"):
        if not isinstance(o[k], int) or o[k] < 1:
            raise TrainError(f"{k} must be a positive integer, got {o[k]}")
    for k in ("patience", "lr_patience"):
        if not isinstance(o[k], int) or o[k] < 0:
            raise TrainError(f"{k} must be an integer >= 0, got {o[k]}")
    if not (o["lr"] > 0 and math.isfinite(o["lr"])):
        raise TrainError(f"lr must be a positive number, got {o['lr']}")
    if not (o["clip"] >= 0 and math.isfinite(o["clip"])):
        raise TrainError(f"clip must be >= 0 (0: no clipping), got {o['clip']}")
    if not 0 < o["lr_factor"] < 1:
        raise TrainError(f"lr_factor must be in (0, 1), got {o['lr_factor']}")
    if o["cell"] not in ("lstm", "gru", "rnn"):
        raise TrainError(f"cell must be one of rnn, lstm, gru, got {o['cell']!r}")
    if not 0 <= o["dropout"] < 1:
        raise TrainError(f"dropout must be a number in [0, 1), got {o['dropout']}")
    if o["dropout"] > 0 and o["layers"] < 2:
        raise TrainError(f"dropout {o['dropout']} acts between stacked recurrent layers, so it needs at least 2 layers")
    if o["window_norm"] not in ("last", "none"):
        raise TrainError(f'window_norm must be "last" or "none", got {o["window_norm"]!r}')
    if o["scaler"] not in ("standard", "minmax"):
        raise TrainError(f'scaler must be "standard" or "minmax", got {o["scaler"]!r}')
    return o


def train(cfg, out_path, device, log):
    """Trains on every rank of the process group (or alone); rank 0 writes `out_path`. Returns a summary."""
    t0 = time.perf_counter()
    rank, world = _world()
    o = settings(cfg)
    H = o["horizon"]
    td = training_data(cfg, o)  # one series, or every series of a long-format file
    F = td["F"]
    (tr_x, tr_y), (va_x, va_y) = td["train"], td["val"]
    windows = td["windows"]
    N, Nv = windows["train"], windows["val"]
    monitor = "val_loss" if Nv > 0 else "loss"

    torch.manual_seed(o["seed"])
    net = tf.ForecastNet(o["cell"], F, o["hidden"], o["layers"], o["dropout"], o["batch_first"], H).to(device)
    net.train()
    model = net
    if world > 1:
        kw = {"device_ids": [device.index]} if device.type == "cuda" else {}
        model = torch.nn.parallel.DistributedDataParallel(net, **kw)  # broadcasts rank 0's weights
    params = list(net.parameters())
    opt = torch.optim.Adam(params, lr=o["lr"])
    sched = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, mode="min", factor=o["lr_factor"],
                                                       patience=o["lr_patience"], min_lr=o["min_lr"])
    tr_x_t = torch.from_numpy(tr_x).to(device)
    tr_y_t = torch.from_numpy(tr_y).to(device)
    # validation: this rank's shard
    va_mine = list(range(rank, Nv, world))
    va_x_t = torch.from_numpy(va_x[va_mine]).to(device)
    va_y_t = torch.from_numpy(va_y[va_mine]).to(device)

    def batch_input(x):  # (B, L, F) windows -> the model's layout
        return x if o["batch_first"] else x.transpose(0, 1).contiguous()

    def val_loss():
        net.eval()
        sq = 0.0
        with torch.no_grad():
            for a in range(0, len(va_mine), 256):
                pred = net(batch_input(va_x_t[a:a + 256]))
                sq += float(((pred.double() - va_y_t[a:a + 256].double()) ** 2).sum())
        net.train()
        return _allreduce_sum([sq], device)[0] / (Nv * H)

    history, best, since_best, stopped, failure = [], None, 0, "max-epochs", None

    def checkpoint(b, why):
        data, split_rec = td["data"], td["split"]
        training = {"seed": o["seed"], "batch_size": o["batch_size"], "lr": o["lr"], "clip": o["clip"],
                    "patience": o["patience"], "lr_patience": o["lr_patience"], "lr_factor": o["lr_factor"],
                    "min_lr": o["min_lr"], "monitor": monitor, "best_epoch": b["epoch"], "best_loss": b["loss"],
                    "stopped": why, "seconds": time.perf_counter() - t0, "history": [dict(h) for h in history],
                    "trainer": {"script": "scripts/torch_train.py", "torch": torch.__version__,
                                "world_size": world, "backend": dist.get_backend() if world > 1 else None}}
        model_rec = {"cell": o["cell"], "input_size": F, "hidden_size": o["hidden"], "num_layers": o["layers"],
                     "dropout": float(o["dropout"]), "batch_first": bool(o["batch_first"]), "horizon": H}
        meta = {"format": "pt", "recurrent.kind": "forecast", "recurrent.format_version": "1",
                "recurrent.library_version": cfg.get("library_version", LIBRARY_VERSION),
                "recurrent.model": json.dumps(model_rec), "recurrent.data": json.dumps(data),
                "recurrent.split": json.dumps(split_rec), "recurrent.training": json.dumps(training),
                "recurrent.optimizer": json.dumps(optimizer_record(b["opt"])),
                "recurrent.scheduler": json.dumps(scheduler_record(b["sched"]))}
        write_safetensors(out_path, b["weights"], meta)

    if rank == 0:
        log(f"training on {cfg['csv']}: {td['what']}; {N} training windows over "
            f"{world} process(es) ({dist.get_backend() if world > 1 else 'no process group'}, {device.type})")
    B = min(o["batch_size"], N)
    batches = math.ceil(N / B)
    for k in range(o["epochs"]):
        epoch = k + 1
        e0 = time.perf_counter()
        lr = opt.param_groups[0]["lr"]
        perm = fisher_yates(N)
        total = 0.0
        for b in range(batches):
            idx = perm[b * B:(b + 1) * B]
            mine = idx[rank::world]
            n_all = len(idx)
            dummy = len(mine) == 0  # more ranks than windows in this batch: run one window, weight 0
            sel = torch.tensor(mine or idx[:1], dtype=torch.long, device=device)
            pred = model(batch_input(tr_x_t[sel]))
            sq = ((pred - tr_y_t[sel]) ** 2).sum()
            # DDP averages gradients over the world: scale so the average is d(MSE over the global batch)
            loss = sq * (0.0 if dummy else world / (n_all * H))
            opt.zero_grad()
            loss.backward()
            lv = _allreduce_sum([0.0 if dummy else float(sq)], device)[0] / (n_all * H)
            if not math.isfinite(lv):
                failure = {"epoch": epoch, "batch": b + 1, "what": "loss", "value": lv}
                break
            norm = float(torch.nn.utils.clip_grad_norm_(params, o["clip"])) if o["clip"] > 0 else \
                float(torch.sqrt(sum((p.grad.double() ** 2).sum() for p in params if p.grad is not None)))
            if not math.isfinite(norm):
                failure = {"epoch": epoch, "batch": b + 1, "what": "gradient norm", "value": norm}
                break
            opt.step()
            total += lv * n_all
        if failure is not None:
            break
        train_loss = total / N
        v = None
        if Nv > 0:
            v = val_loss()
            if not math.isfinite(v):
                failure = {"epoch": epoch, "batch": 0, "what": "validation loss", "value": v}
                break
        watched = train_loss if v is None else v
        sched.step(watched)
        history.append({"epoch": epoch, "loss": train_loss, "val_loss": v, "lr": lr,
                        "seconds": time.perf_counter() - e0})
        improved = best is None or watched < best["loss"]
        if improved:
            best = {"epoch": epoch, "loss": watched,
                    "weights": {kk: t.detach().clone() for kk, t in net.state_dict().items()},
                    "opt": copy.deepcopy(opt.state_dict()), "sched": copy.deepcopy(sched.state_dict())}
            since_best = 0
            if rank == 0:
                checkpoint(best, "running")
        else:
            since_best += 1
        if rank == 0:
            vs = "-" if v is None else f"{v:.3e}"
            log(f"epoch {epoch:3d}/{o['epochs']}  loss {train_loss:.3e}  val {vs}  lr {lr:.1e}  "
                f"{history[-1]['seconds']:.2f}s{'  *best' if improved else ''}")
        if o["patience"] > 0 and since_best >= o["patience"]:
            stopped = "early-stop"
            break
    if failure is not None:
        stopped = "non-finite"
    if best is not None and rank == 0:
        checkpoint(best, stopped)
    return {"checkpoint": out_path if best is not None else None, "stopped": stopped, "failure": failure,
            "epochs_run": len(history), "seconds": time.perf_counter() - t0, "world_size": world,
            "best_epoch": best["epoch"] if best else None, "best_loss": best["loss"] if best else None,
            "windows": windows}


# ---------------------------------------------------------------- configuration and launch

def load_config(args):
    """defaults < --config file < command-line options."""
    cfg = {}
    if args.config:
        try:
            with open(args.config, encoding="utf-8") as f:
                cfg = json.load(f)
        except OSError as e:
            raise TrainError(f"cannot read the config {args.config}: {e.strerror or e}") from None
        except json.JSONDecodeError as e:
            raise TrainError(f"the config {args.config} is not valid JSON: {e}") from None
        if not isinstance(cfg, dict) or cfg.get("format") != CONFIG_FORMAT:
            raise TrainError(f"{args.config} is not a torch_train config (expected \"format\": \"{CONFIG_FORMAT}\"); "
                             "write one with `recurrent train ... --emit-torch DIR`")
        if int(cfg.get("version", 0)) > 1:
            raise TrainError(f"{args.config} is config version {cfg['version']}; this script reads version 1")
        cfg = {**cfg.get("data", {}), **cfg.get("settings", {}), "out": cfg.get("out"),
               "library_version": cfg.get("library_version", LIBRARY_VERSION)}
    for k in list(DEFAULTS) + list(DATA_KEYS) + ["csv"]:
        v = getattr(args, k, None)
        if v is not None:
            cfg[k] = v
    if getattr(args, "date_column", None) == "none":
        cfg["date_column"] = False
    if "csv" not in cfg:
        raise TrainError("give the series with --csv FILE (or a --config that names it)")
    if "target" not in cfg:
        raise TrainError("give the column to forecast with --target COLUMN (or a --config that names it)")
    return cfg


def _free_port():
    with socket.socket() as sk:
        sk.bind(("127.0.0.1", 0))
        return sk.getsockname()[1]


def _device(backend, local_rank):
    if backend == "nccl":
        torch.cuda.set_device(local_rank)
        return torch.device("cuda", local_rank)
    return torch.device("cpu")


def _log(s):
    print(s, file=sys.stderr, flush=True)


def _run(rank, world, backend, cfg, out, threads, summary_path):
    """One rank of a --nproc run (rendezvous on MASTER_ADDR:MASTER_PORT set by the parent)."""
    torch.set_num_threads(threads)
    dist.init_process_group(backend, init_method="env://", rank=rank, world_size=world)
    try:
        r = train(cfg, out, _device(backend, rank), _log)
        if rank == 0 and summary_path:
            with open(summary_path, "w") as f:
                json.dump(r, f)
    except TrainError as e:
        if rank == 0:
            print(f"error: {e}", file=sys.stderr)
        sys.exit(1)
    finally:
        dist.destroy_process_group()


def pick_backend(requested, has_gpu):
    if requested != "auto":
        if requested == "nccl" and not has_gpu:
            raise TrainError("--backend nccl needs a GPU for every process; use gloo on CPU")
        return requested
    return "nccl" if has_gpu else "gloo"


def main(argv=None):
    ap = argparse.ArgumentParser(
        description="Train recurrent's forecaster with PyTorch DistributedDataParallel; writes a checkpoint "
                    "that `recurrent forecast`, `evaluate` and `train --resume` read.")
    ap.add_argument("--config", help="settings written by `recurrent train ... --emit-torch DIR` (DIR/torch_train.json)")
    ap.add_argument("--out", help="the checkpoint to write (.safetensors); default: the config's, else model.safetensors")
    ap.add_argument("--nproc", type=int, default=None,
                    help="start N processes here (torch.multiprocessing.spawn, gloo on 127.0.0.1); not under torchrun")
    ap.add_argument("--backend", choices=["auto", "gloo", "nccl"], default="auto",
                    help="auto: nccl when each process has a GPU, else gloo")
    ap.add_argument("--threads", type=int, default=1, help="torch threads per process (default 1)")
    ap.add_argument("--json", action="store_true", help="print a JSON summary on stdout")
    ap.add_argument("--csv")
    ap.add_argument("--target")
    ap.add_argument("--features", type=lambda v: [c.strip() for c in v.split(",")])
    ap.add_argument("--date-column", dest="date_column", help="a column name, or 'none'")
    ap.add_argument("--fill", choices=["ffill", "linear", "drop"])
    ap.add_argument("--id-column", dest="id_column",
                    help="many series in one long-format CSV (id,date,value rows): the column naming each row's series")
    for k, v in DEFAULTS.items():
        flag = "--" + k.replace("_", "-")
        if isinstance(v, bool):
            ap.add_argument(flag, dest=k, type=lambda s: s.lower() in ("1", "true", "yes"), default=None)
        else:
            ap.add_argument(flag, dest=k, type=type(v), default=None)
    a = ap.parse_args(argv)
    cfg = load_config(a)
    out = a.out or cfg.get("out") or "model.safetensors"
    d = os.path.dirname(os.path.abspath(out))
    if not os.path.isdir(d):
        raise TrainError(f"cannot write the checkpoint {out}: the folder {d} does not exist")
    under_torchrun = "RANK" in os.environ and "WORLD_SIZE" in os.environ
    t0 = time.perf_counter()
    if under_torchrun:
        if a.nproc is not None:
            raise TrainError("--nproc starts processes itself; under torchrun leave it out")
        local = int(os.environ.get("LOCAL_RANK", 0))
        backend = pick_backend(a.backend, torch.cuda.is_available() and torch.cuda.device_count() > local)
        torch.set_num_threads(a.threads)
        dist.init_process_group(backend, init_method="env://")
        try:
            r = train(cfg, out, _device(backend, local), _log)
        finally:
            dist.destroy_process_group()
        if dist.is_available() and int(os.environ["RANK"]) != 0:
            return
    elif a.nproc is not None and a.nproc > 1:
        n = a.nproc
        # bad data is reported here, once, before any process starts
        training_data(cfg, settings(cfg))
        backend = pick_backend(a.backend, torch.cuda.is_available() and torch.cuda.device_count() >= n)
        os.environ["MASTER_ADDR"] = "127.0.0.1"
        os.environ["MASTER_PORT"] = str(_free_port())
        import tempfile
        import torch.multiprocessing as mp
        with tempfile.TemporaryDirectory() as tmp:
            summary = os.path.join(tmp, "summary.json")
            try:
                mp.spawn(_run, args=(n, backend, cfg, out, a.threads, summary), nprocs=n, join=True)
            except mp.ProcessExitedException as e:
                raise TrainError(f"training process {e.error_index} of {n} exited with code {e.exit_code}") from None
            with open(summary) as f:
                r = json.load(f)
    else:
        if a.nproc is not None and a.nproc < 1:
            raise TrainError(f"--nproc must be a positive integer, got {a.nproc}")
        torch.set_num_threads(a.threads)
        r = train(cfg, out, torch.device("cpu"), _log)
    r["wall_seconds"] = time.perf_counter() - t0
    if a.json:
        print(json.dumps(r, indent=2))
    elif r["failure"] is not None:
        f = r["failure"]
        raise TrainError(f"training stopped: the {f['what']} became {f['value']} at epoch {f['epoch']}; try a smaller --lr")
    else:
        print(f"{r['epochs_run']} epochs in {r['wall_seconds']:.1f} s on {r['world_size']} process(es) ({r['stopped']}), "
              f"best epoch {r['best_epoch']}; saved {out}\n"
              f"next:\n  recurrent evaluate --model {out} --csv {cfg['csv']}\n"
              f"  recurrent forecast --model {out} --csv {cfg['csv']}")


if __name__ == "__main__":
    try:
        main()
    except TrainError as e:
        print(f"error: {e}", file=sys.stderr)
        sys.exit(1)
