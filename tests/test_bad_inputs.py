"""The bad-input corpus: each case edits a small valid project and asserts the exact message.

A case (tests/bad_inputs/cases/*.yaml) says which files to edit, which command to run (`args`;
"{root}" and "{out}" in them stand for the project's copy and an output folder beside it), the exit
status, and lines the output must contain. Every message names file and line; none is a traceback.
"""
import shutil
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from policypack.cli import main

HERE = Path(__file__).parent / "bad_inputs"
CASES = sorted((HERE / "cases").glob("*.yaml"))


def test_corpus_is_large_enough():
    assert len(CASES) >= 40


def test_base_project_is_clean(tmp_path):
    shutil.copytree(HERE / "base", tmp_path / "p")
    result = CliRunner().invoke(main, ["check", "--root", str(tmp_path / "p")])
    assert result.exit_code == 0, result.output


def apply_edits(root: Path, edits: list) -> None:
    for edit in edits:
        path = root / edit["file"]
        if "write" in edit:
            path.parent.mkdir(parents=True, exist_ok=True)
            data = edit["write"]
            path.write_bytes(data.encode("utf-8") if isinstance(data, str) else bytes(data))
        elif "delete" in edit:
            path.unlink()
        else:
            text = path.read_text(encoding="utf-8")
            assert edit["find"] in text, f"case edit does not apply: {edit['find']!r} not in {edit['file']}"
            path.write_text(text.replace(edit["find"], edit["replace"], 1), encoding="utf-8")


@pytest.mark.parametrize("case", CASES, ids=[c.stem for c in CASES])
def test_bad_input(case, tmp_path):
    spec = yaml.safe_load(case.read_text(encoding="utf-8"))
    root = tmp_path / "p"
    shutil.copytree(HERE / "base", root)
    apply_edits(root, spec.get("edit", []))
    # "{root}" in an argument is the project's copy, "{out}" a fresh folder beside it
    args = [str(a).replace("{root}", str(root)).replace("{out}", str(tmp_path / "out"))
            for a in spec.get("args", ["check"])] + ["--root", str(root)]
    result = CliRunner().invoke(main, args)
    out = result.output
    assert "Traceback" not in out
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert result.exit_code == spec.get("exit", 1), out
    for line in spec["expect"]:
        line = line.replace("{root}", str(root)).replace("{out}", str(tmp_path / "out"))
        assert line in out, f"expected {line!r} in:\n{out}"
