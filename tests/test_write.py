"""Atomic writes: a file is either the old bytes or the new ones, never a mix, and no temp is left."""
import os

import pytest

from policypack import write


def test_interrupted_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path, monkeypatch):
    target = tmp_path / "policy.pdf"
    write.write_atomic(target, b"old")

    def interrupted(src, dst):
        raise KeyboardInterrupt
    monkeypatch.setattr(os, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        write.write_atomic(target, b"new" * 100_000)
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["policy.pdf"]


def test_write_creates_folders_and_replaces(tmp_path):
    target = tmp_path / "a" / "b" / "index.html"
    write.write_atomic(target, b"one")
    write.write_atomic(target, b"two")
    assert target.read_bytes() == b"two"
    assert oct(target.stat().st_mode & 0o777) == "0o644"
