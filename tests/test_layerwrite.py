"""The round-trip writer changes what it is asked to and keeps every other line of a layer."""
import datetime as dt
import difflib
from pathlib import Path

import pytest

from policypack import layerwrite

ROOT = Path(__file__).resolve().parent.parent
LAYERS = sorted((ROOT / "schools").rglob("*.yaml")) + sorted((ROOT / "policy_src").rglob("*.yaml"))


@pytest.mark.parametrize("path", LAYERS, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_shipped_file_comes_back_byte_for_byte(path):
    text = path.read_text(encoding="utf-8")
    assert layerwrite.Layer(text, path.name).text() == text


def test_an_edit_adds_its_lines_and_changes_no_other(tmp_path):
    path = ROOT / "schools" / "brookfield-primary-school.yaml"
    text = path.read_text(encoding="utf-8")
    layer = layerwrite.Layer(text, path.name)
    layer.prepend(("organisation", "policies", "acceptable-use", "changes"),
                  layerwrite.entry({"date": dt.date(2026, 11, 24), "summary": "Reviewed: no changes.",
                                    "clauses": ["personal-phones"]}))
    layer.mapping("organisation", "policies", "social-media", "variants")["example"] = "one"
    diff = [d for d in difflib.ndiff(text.splitlines(), layer.text().splitlines()) if d[:1] in "+-"]
    assert [d for d in diff if d.startswith("-")] == []
    assert "+         - date: 2026-11-24" in diff and '+           summary: "Reviewed: no changes."' in diff
    assert "+           clauses: [personal-phones]" in diff
    assert "#" in text and all(line in layer.text() for line in text.splitlines() if "#" in line)


def test_a_layout_that_cannot_be_kept_is_refused():
    odd = "organisation:\n     id: x\n     name: 'X'\n     policies:\n       - a\n       -   b\n"
    with pytest.raises(layerwrite.LayoutError, match="x.yaml: its layout .* left as it was"):
        layerwrite.Layer(odd, "x.yaml")


def test_a_change_that_does_not_validate_leaves_the_file_as_it_was(tmp_path):
    path = tmp_path / "x.yaml"
    path.write_text("organisation:\n  id: x  # the id\n", encoding="utf-8")
    with pytest.raises(layerwrite.LayoutError, match="no good"):
        layerwrite.save(path, lambda layer: layer.mapping("organisation").__setitem__("name", "X"), lambda: "no good")
    assert path.read_text(encoding="utf-8") == "organisation:\n  id: x  # the id\n"
