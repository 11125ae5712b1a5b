#!/usr/bin/env python3
"""Time `diff` on a 300-clause policy: two versions with about 10% of the clauses edited.

    python benchmarks/bench_diff.py

Generates a project (30 sections x 10 clauses of ~60 words) in a temporary folder, resolves the
old and new versions once, then times `diff_policies` alone and each redline writer. Not a test:
it prints the figures (the target for the diff is well under a second).
"""
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from policypack.diff import diff_policies  # noqa: E402
from policypack.errors import Report  # noqa: E402
from policypack.load import load_project  # noqa: E402
from policypack.redline import Redline, render_html, render_json, render_text  # noqa: E402
from policypack.redline_docx import render_redline_docx  # noqa: E402
from policypack.resolve import resolve  # noqa: E402

SECTIONS, PER_SECTION, WORDS = 30, 10, 60
VOCAB = ("staff pupils parents school policy online safe report concern head board data phone email "
         "message account privacy image consent record share device network password training review").split()


def sentence(rng, n=WORDS) -> str:
    return " ".join(rng.choice(VOCAB) for _ in range(n)).capitalize() + "."


def policy_yaml(clauses: dict) -> str:
    """clauses: section index -> [(id, text)]"""
    out = ["policy:", "  id: bench", "  title: Benchmark policy", "  reference: B-1", "  kind: policy",
           '  version: "1.0"', "  review_cycle_months: 12", "  owner: HR", "  sections:"]
    for s in sorted(clauses):
        out += [f"    - id: s{s}", f"      title: Section {s}", "      clauses:"]
        for cid, text in clauses[s]:
            out += [f"        - id: {cid}", f"          text: {text}"]
    return "\n".join(out) + "\n"


def versions(rng):
    old = {s: [(f"c{s}-{k}", sentence(rng)) for k in range(PER_SECTION)] for s in range(SECTIONS)}
    new = {s: list(v) for s, v in old.items()}
    flat = [(s, k) for s in new for k in range(PER_SECTION)]
    for s, k in rng.sample(flat, 12):  # reword a few words of 12 clauses
        cid, text = new[s][k]
        words = text.split()
        for _ in range(5):
            words[rng.randrange(len(words))] = rng.choice(VOCAB)
        new[s][k] = (cid, " ".join(words))
    for n in range(8):  # insert 8 clauses
        s = rng.randrange(SECTIONS)
        new[s].insert(rng.randrange(len(new[s]) + 1), (f"new-{n}", sentence(rng)))
    for n in range(5):  # remove 5
        s = rng.randrange(SECTIONS)
        new[s].pop(rng.randrange(len(new[s])))
    for n in range(5):  # move 5 to another section
        a, b = rng.sample(range(SECTIONS), 2)
        new[b].insert(rng.randrange(len(new[b]) + 1), new[a].pop(rng.randrange(len(new[a]))))
    return old, new


def project(folder: Path, clauses: dict):
    (folder / "policy_src").mkdir(parents=True)
    (folder / "schools").mkdir()
    (folder / "policy_src" / "bench.yaml").write_text(policy_yaml(clauses))
    (folder / "schools" / "bench-school.yaml").write_text(
        "organisation:\n  id: bench-school\n  name: Bench School\n  kind: school\n"
        "  adoption: {date: 2025-09-01}\n  policies:\n    bench: {}\n")
    report = Report()
    doc = resolve(load_project(folder, report), "bench-school", "bench", report)
    assert not report.errors, report.errors
    return doc


def timed(fn, runs=7):
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def main():
    rng = random.Random(2025)
    old_clauses, new_clauses = versions(rng)
    with tempfile.TemporaryDirectory() as tmp:
        old = project(Path(tmp) / "old", old_clauses)
        new = project(Path(tmp) / "new", new_clauses)
    n = sum(1 for _ in new.walk())
    secs, d = timed(lambda: diff_policies(old, new))
    print(f"policy: {n} nodes ({sum(1 for x in new.walk() if x.kind == 'clause')} clauses), "
          f"differences: {d.counts()}")
    print(f"diff_policies: {secs * 1000:.1f} ms (median of 7)")
    r = Redline(d, "bench-school", "bench", "old", "new", d.proposed_change(new.last_reviewed))
    for name, fn in (("text", lambda: render_text(r)), ("json", lambda: render_json(r)),
                     ("html", lambda: render_html(r)), ("docx", lambda: render_redline_docx(d))):
        secs, _ = timed(fn, 3)
        print(f"{name} redline: {secs * 1000:.1f} ms")


if __name__ == "__main__":
    main()
