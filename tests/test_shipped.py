"""The shipped model and example organisations: clean, complete, original, and well reported when broken."""
import datetime as dt
import functools
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from policypack.cli import main

ROOT = Path(__file__).resolve().parent.parent
SEED_OVERLAP = ROOT.parent / "shared" / "tools" / "seed-overlap"
SHIPPED = sorted(p.relative_to(ROOT).as_posix() for d in ("policy_src", "schools") for p in (ROOT / d).rglob("*.yaml"))


def run(*args, root=ROOT):
    return CliRunner().invoke(main, [*args, "--root", str(root)])


def test_check_is_clean():
    result = run("check")
    assert result.exit_code == 0, result.output
    assert "error" not in result.output


def test_list_shows_five_families():
    data = json.loads(run("list", "--json").output)
    orgs = {o["id"]: o for o in data["organisations"]}
    assert len(orgs) >= 10
    roots = [o for o in orgs.values() if o["extends"] is None]
    assert len(roots) == 5
    kinds = {o["kind"] for o in orgs.values()}
    assert {"local-authority", "trust", "federation", "school", "academy", "nursery"} <= kinds
    assert {p["id"] for p in data["policies"]} == {"social-media", "acceptable-use"}
    for o in orgs.values():
        assert o["policies"], f"{o['id']} publishes nothing"
        assert o["extends"] is None or o["extends"] in orgs
    tree = run("list").output
    for o in roots:
        assert o["id"] in tree


@pytest.mark.skipif(not SEED_OVERLAP.exists(), reason="../shared/tools/seed-overlap is not beside this checkout")
def test_no_sentences_shared_with_the_seeds():
    result = subprocess.run([sys.executable, str(SEED_OVERLAP), "policy_src", "schools", "templates"],
                            cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout


@pytest.mark.parametrize("rel", SHIPPED)
def test_broken_line_is_reported_with_file_and_line(rel, tmp_path):
    copy = tmp_path / "p"
    for d in ("policy_src", "schools"):
        shutil.copytree(ROOT / d, copy / d)
    path = copy / rel
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    target = next(i for i, l in enumerate(lines) if i > 2 and l.strip().startswith(("title:", "name:", "id:")))
    lines[target] = lines[target].rstrip("\n") + ": [unclosed\n"
    path.write_text("".join(lines), encoding="utf-8")
    result = run("check", root=copy)
    assert result.exit_code == 1
    assert f"{rel}:{target + 1}: error: YAML syntax error" in result.output, result.output
    assert "Traceback" not in result.output


def test_review_statuses_of_the_examples_flip_at_their_due_dates():
    @functools.cache
    def statuses(day):
        rows = json.loads(run("review", "--as-of", day, "--format", "json").output)["rows"]
        return {(r["organisation"], r["policy"]): (r["status"], r["next_review"]) for r in rows}

    today = statuses("2026-11-21")
    assert {s for s, _ in today.values()} == {"overdue", "due-soon", "current"}
    for key, (_, due) in today.items():
        day = dt.date.fromisoformat(due)
        on, after = statuses(day.isoformat())[key][0], statuses((day + dt.timedelta(days=1)).isoformat())[key][0]
        assert (on, after) == ("due-soon", "overdue"), key
        assert statuses((day - dt.timedelta(days=91)).isoformat())[key][0] == "current", key


def test_explain_shows_provenance_options_and_guidance():
    aup = json.loads(run("explain", "little-acorns-nursery-school", "acceptable-use", "--json").output)
    phones = {r["id"]: r for r in aup["outline"]}["personal-phones"]
    assert phones["variant"] == "not-on-site" and phones["layer"] == "little-acorns-nursery-school"
    assert phones["variants"] == ["allowed-at-breaks", "not-on-site", "with-permission"] and phones["guidance"]
    data = json.loads(run("explain", "little-acorns-nursery-school", "social-media", "--json").output)
    rows = {r["id"]: r for r in data["outline"]}
    assert rows["porthaven-terms"]["layer"] == "porthaven-city-council" and rows["porthaven-terms"]["outside_slots"]
    assert rows["local-support-contacts"]["slot"] and not rows["local-support-contacts"]["outside_slots"]
    assert [c["id"] for c in data["consultation"]] == ["porthaven-terms"]
    text = run("explain", "little-acorns-nursery-school", "acceptable-use", "--guidance").output
    assert "| variants: allowed-at-breaks, not-on-site, with-permission." in text
