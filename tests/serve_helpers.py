"""Shared by the editor's tests: a copy of the shipped project that is its own git repository."""
from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCHOOL, POLICY = "brookfield-primary-school", "acceptable-use"
OTHER = "northshire-county-council"


def git(root: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True, text=True).stdout


def project_copy(dest: Path, repo: bool = True) -> Path:
    for folder in ("policy_src", "schools", "templates"):
        shutil.copytree(ROOT / folder, dest / folder)
    if repo:
        git(dest, "init", "-q")
        git(dest, "add", "-A")
        git(dest, "-c", "user.name=Test", "-c", "user.email=test@example.invalid", "commit", "-q", "-m", "start")
    return dest


def form_values(html: str) -> dict:
    """The hidden values a page's form carries."""
    return {name: re.search(rf'name="{name}" value="([^"]*)"', html)[1] for name in ("csrf", "hash")}
