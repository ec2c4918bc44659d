#!/usr/bin/env python3
"""The forecasting benchmark's oracle: ETS and ARIMA forecasts from the reference implementations.

    /usr/bin/python3 bench/peers/forecast_oracle.py SPEC.json > OUT.json

SPEC: {"series": [{"key", "values": [...], "period", "horizon", "test_start"}]}. For each series it
returns the forecasts of two protocols: "holdout" (fitted on all but the last `horizon` values, one
forecast of them) and "rolling" (fitted once on values[:test_start], then at every origin o =
test_start ... N - horizon the same model, parameters and initial states kept, is run over values[:o]
and forecasts the next `horizon`), with the seconds each took.

The oracle is R's forecast package (forecast::ets and forecast::auto.arima, the reference
implementations) when `Rscript` can load it; otherwise statsmodels: ETSModel over forecast::ets's
fifteen models selected by AICc, and SARIMAX with a small search over orders by AICc.
"""
import json
import os
import subprocess
import sys
import tempfile
import time

R_SCRIPT = r"""
suppressMessages(library(forecast))
library(jsonlite)
spec <- fromJSON(commandArgs(TRUE)[1], simplifyVector = FALSE)
out <- list()
for (s in spec$series) {
  y <- as.numeric(unlist(s$values)); m <- s$period; h <- s$horizon; n <- length(y); t0s <- s$test_start
  res <- list()
  # holdout
  train <- ts(y[1:(n - h)], frequency = m)
  t <- proc.time()[[3]]; fe <- ets(train); fce <- as.numeric(forecast(fe, h = h, PI = FALSE)$mean)
  te <- proc.time()[[3]] - t
  t <- proc.time()[[3]]; fa <- auto.arima(train); fca <- as.numeric(forecast(fa, h = h)$mean)
  ta <- proc.time()[[3]] - t
  res$holdout <- list(ets = list(label = fe$method, forecast = fce, seconds = te),
                      arima = list(label = as.character(fa), forecast = fca, seconds = ta))
  # rolling origin: fitted once, then run over each history
  train <- ts(y[1:t0s], frequency = m)
  origins <- seq(t0s, n - h)
  t <- proc.time()[[3]]; fe <- ets(train)
  fe_roll <- lapply(origins, function(o) as.numeric(forecast(ets(ts(y[1:o], frequency = m), model = fe,
    use.initial.values = TRUE), h = h, PI = FALSE)$mean))
  te <- proc.time()[[3]] - t
  t <- proc.time()[[3]]; fa <- auto.arima(train)
  fa_roll <- lapply(origins, function(o) as.numeric(forecast(Arima(ts(y[1:o], frequency = m), model = fa), h = h)$mean))
  ta <- proc.time()[[3]] - t
  res$rolling <- list(ets = list(label = fe$method, forecasts = fe_roll, seconds = te),
                      arima = list(label = as.character(fa), forecasts = fa_roll, seconds = ta))
  out[[s$key]] <- res
}
cat(toJSON(list(oracle = paste0("R forecast ", packageVersion("forecast")), series = out), digits = NA, auto_unbox = TRUE))
"""


def run_r(spec_path):
    with tempfile.NamedTemporaryFile("w", suffix=".R", delete=False) as f:
        f.write(R_SCRIPT)
        script = f.name
    try:
        r = subprocess.run(["Rscript", script, spec_path], capture_output=True, text=True, timeout=1800)
    except FileNotFoundError:
        return None
    finally:
        os.unlink(script)
    if r.returncode != 0:
        sys.stderr.write("forecast_oracle: R's forecast failed, falling back to statsmodels:\n" + r.stderr[-1500:] + "\n")
        return None
    return json.loads(r.stdout)


# ---- statsmodels fallback ----

MODELS = ["ANN", "AAN", "AAdN", "ANA", "AAA", "AAdA", "MNN", "MAN", "MAdN", "MNA", "MAA", "MAdA", "MNM", "MAM", "MAdM"]


def sm_ets(y, m):
    import numpy as np
    from statsmodels.tsa.exponential_smoothing.ets import ETSModel

    y = np.asarray(y, dtype=float)
    best = None
    for spec in MODELS:
        e, rest = spec[0], spec[1:]
        t = rest[:2] if rest.startswith("Ad") else rest[0]
        s = rest[len(t):]
        if (e == "M" or s == "M") and y.min() <= 0:
            continue
        if s != "N" and (m < 2 or m > 24 or len(y) <= 2 * m):
            continue
        try:
            model = ETSModel(y, error="add" if e == "A" else "mul", trend=None if t == "N" else "add",
                             damped_trend=t == "Ad", seasonal=None if s == "N" else ("add" if s == "A" else "mul"),
                             seasonal_periods=m if s != "N" else None)
            res = model.fit(disp=False)
        except Exception:  # noqa: BLE001 - a model that cannot be fitted is skipped
            continue
        if np.isfinite(res.aicc) and (best is None or res.aicc < best[1].aicc):
            best = (spec, res, model)
    return best


def sm_ets_apply(best, y):
    import numpy as np
    from statsmodels.tsa.exponential_smoothing.ets import ETSModel

    spec, res, model = best
    m2 = ETSModel(np.asarray(y, dtype=float), error=model.error, trend=model.trend, damped_trend=model.damped_trend,
                  seasonal=model.seasonal, seasonal_periods=model.seasonal_periods)
    return m2.smooth(res.params)


def sm_arima(y, m):
    import itertools
    import warnings

    import numpy as np
    from statsmodels.tsa.statespace.sarimax import SARIMAX

    y = np.asarray(y, dtype=float)
    best = None
    seasonal = m > 1 and len(y) > 3 * m and m <= 24
    for p, d, q in itertools.product([0, 1, 2], [0, 1], [0, 1, 2]):
        for P, D, Q in ([(0, 1, 1), (1, 1, 0), (0, 0, 0)] if seasonal else [(0, 0, 0)]):
            trend = "c" if d + D == 0 else ("t" if d + D == 1 else "n")
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    res = SARIMAX(y, order=(p, d, q), seasonal_order=(P, D, Q, m if P + D + Q else 0),
                                  trend=trend).fit(disp=False)
            except Exception:  # noqa: BLE001
                continue
            if np.isfinite(res.aicc) and (best is None or res.aicc < best[1].aicc):
                best = (f"ARIMA({p},{d},{q})({P},{D},{Q})[{m}]", res)
    return best


def run_statsmodels(spec):
    out = {}
    for s in spec["series"]:
        y, m, h, t0s = s["values"], s["period"], s["horizon"], s["test_start"]
        res = {}
        t = time.perf_counter(); be = sm_ets(y[: len(y) - h], m)
        fce = list(map(float, be[1].forecast(h))); te = time.perf_counter() - t
        t = time.perf_counter(); ba = sm_arima(y[: len(y) - h], m)
        fca = list(map(float, ba[1].forecast(h))); ta = time.perf_counter() - t
        res["holdout"] = {"ets": {"label": be[0], "forecast": fce, "seconds": te},
                          "arima": {"label": ba[0], "forecast": fca, "seconds": ta}}
        origins = range(t0s, len(y) - h + 1)
        t = time.perf_counter(); be = sm_ets(y[:t0s], m)
        fe = [list(map(float, sm_ets_apply(be, y[:o]).forecast(h))) for o in origins]; te = time.perf_counter() - t
        t = time.perf_counter(); ba = sm_arima(y[:t0s], m)
        fa = [list(map(float, ba[1].apply(y[:o]).forecast(h))) for o in origins]; ta = time.perf_counter() - t
        res["rolling"] = {"ets": {"label": be[0], "forecasts": fe, "seconds": te},
                          "arima": {"label": ba[0], "forecasts": fa, "seconds": ta}}
        out[s["key"]] = res
    import statsmodels
    return {"oracle": f"statsmodels {statsmodels.__version__}", "series": out}


def main(argv):
    spec_path = argv[0]
    with open(spec_path) as f:
        spec = json.load(f)
    result = None if os.environ.get("ORACLE") == "statsmodels" else run_r(spec_path)
    if result is None:
        result = run_statsmodels(spec)
    json.dump(result, sys.stdout)


if __name__ == "__main__":
    main(sys.argv[1:])
