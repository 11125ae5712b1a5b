import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


import pytest  # noqa: E402


@pytest.fixture(scope="session")
def shipped(tmp_path_factory):
    """Every shipped organisation built once in all three formats, shared by the tests that read
    the real outputs (formats agree, PDF/UA, DOCX schema)."""
    from click.testing import CliRunner

    from policypack.cli import main

    out = tmp_path_factory.mktemp("shipped")
    result = CliRunner().invoke(main, ["build", "--root", str(ROOT), "--out", str(out)])
    assert result.exit_code == 0, result.output
    return out
