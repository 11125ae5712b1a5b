#!/usr/bin/env python3
"""The PDF writer with Python's default garbage collection against the build workers' tuning
(gc.freeze and a gen-0 threshold of 50,000), alternating in one process, medians of 4 each.

    python benchmarks/bench_gc.py
"""
import datetime as dt
import gc
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from policypack.build import template_dir  # noqa: E402
from policypack.errors import Report  # noqa: E402
from policypack.load import load_project  # noqa: E402
from policypack.render import RenderContext  # noqa: E402
from policypack.render.pdf import render_pdf  # noqa: E402
from policypack.resolve import resolve  # noqa: E402

p = load_project(ROOT, Report())
doc = resolve(p, "kestrel-park-academy", "social-media", Report())
ctx = RenderContext(dt.date(2026, 11, 21), ROOT, template_dir(ROOT))
render_pdf(doc, ctx)
res = {"default": [], "tuned": []}
for i in range(4):
    for mode in ("default", "tuned"):
        gc.unfreeze(); gc.set_threshold(700, 10, 10); gc.collect()
        if mode == "tuned":
            gc.freeze(); gc.set_threshold(50_000, 20, 20)
        t = time.perf_counter(); render_pdf(doc, ctx); res[mode].append(time.perf_counter() - t)
m = {k: statistics.median(v) for k, v in res.items()}
print({k: round(v, 2) for k, v in m.items()}, "ratio", round(m["tuned"] / m["default"], 3))
