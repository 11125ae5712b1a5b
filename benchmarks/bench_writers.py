#!/usr/bin/env python3
"""Each writer against the bare work it wraps, one school's policy, side by side in one run.

    python benchmarks/bench_writers.py [ORG] [POLICY] [RUNS]

Prints medians of RUNS (default 5), alternating the two sides of each pair:
- the PDF writer (render_pdf: our HTML, WeasyPrint, the PDF/UA structure pass) against bare
  WeasyPrint writing PDF/UA-1 from the same HTML;
- the DOCX writer with page numbers in its contents (laid out by the build's running office)
  against the same writer without them;
- `build --school ORG --policy POLICY --force` in all three formats as a whole process against the
  in-process sum of bare WeasyPrint's PDF/UA, the DOCX without page numbers and the HTML.
Targets (issue 9): DOCX with page numbers at most 2x without; the three-format build within 1.3x
of that sum. Not a test.
"""
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from policypack import build as build_module  # noqa: E402
from policypack.errors import Report  # noqa: E402
from policypack.load import load_project  # noqa: E402
from policypack.render import RenderContext  # noqa: E402
from policypack.render.docx import render_docx  # noqa: E402
from policypack.render.html import render_html  # noqa: E402
from policypack.render.pdf import render_pdf  # noqa: E402
from policypack.resolve import resolve  # noqa: E402


def timed(fn) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def pair(name: str, a, b, runs: int, a_name: str, b_name: str) -> float:
    ta, tb = [], []
    for _ in range(runs):
        ta.append(timed(a))
        tb.append(timed(b))
    ma, mb = statistics.median(ta), statistics.median(tb)
    print(f"{name}: {a_name} {ma:.3f} s, {b_name} {mb:.3f} s: {ma / mb:.2f}x")
    return mb


def main(org: str, policy: str, runs: int) -> None:
    import datetime as dt
    from weasyprint import HTML

    project = load_project(ROOT, Report())
    doc = resolve(project, org, policy, Report())
    ctx = RenderContext(as_of=dt.date(2026, 11, 21), project_root=ROOT,
                        template_dir=build_module.template_dir(ROOT))
    html = render_html(doc, ctx).decode("utf-8")
    pdf_html = render_html(doc, ctx.__class__(**{**ctx.__dict__, "link_format": "pdf"})).decode("utf-8")

    def bare_pdf():
        HTML(string=pdf_html, base_url=ROOT.as_uri() + "/").write_pdf(pdf_variant="pdf/ua-1")

    render_docx(doc, ctx, page_numbers=True)  # start the office: a build starts it once per worker
    bare = pair("PDF writer vs bare WeasyPrint (PDF/UA-1, same HTML)", lambda: render_pdf(doc, ctx), bare_pdf, runs,
                "render_pdf", "WeasyPrint")
    plain = pair("DOCX with page numbers vs without", lambda: render_docx(doc, ctx, page_numbers=True),
                 lambda: render_docx(doc, ctx, page_numbers=False), runs, "with", "without")
    html_time = statistics.median(timed(lambda: render_html(doc, ctx)) for _ in range(runs))
    floor = bare + plain + html_time
    with tempfile.TemporaryDirectory() as out:
        command = [sys.executable, str(ROOT / "build.py"), "build", "--school", org, "--policy", policy, "--force",
                   "--out", out, "--as-of", "2026-11-21"]
        whole = []
        for _ in range(runs):
            t = time.perf_counter()
            subprocess.run(command, check=True, capture_output=True)
            whole.append(time.perf_counter() - t)
    w = statistics.median(whole)
    print(f"three formats, whole process {w:.2f} s vs in-process floor {floor:.2f} s "
          f"(bare WeasyPrint {bare:.2f} + DOCX {plain:.2f} + HTML {html_time:.3f}): {w / floor:.2f}x")


if __name__ == "__main__":
    a = sys.argv[1:]
    main(a[0] if a else "brookfield-primary-school", a[1] if len(a) > 1 else "acceptable-use",
         int(a[2]) if len(a) > 2 else 5)
