"""schemas/ in a real editor's language server (issue 11).

The YAML language server (npm, tests/editor; VS Code's YAML extension and many other editors run
it) is started over stdio and set up as docs/source-format.md says, its `yaml.schemas` block read
from that page. It must find nothing wrong in the shipped files, mark a misspelt key and a wrong
value where the loader does, offer the keys that may come next with their descriptions, and show
a key's description on hover; a file that names its schema in a modeline is checked the same way.
"""
import json
import os
import queue
import re
import shutil
import subprocess
import threading
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SERVER = ROOT / "tests" / "editor" / "node_modules" / "yaml-language-server" / "bin" / "yaml-language-server"
if not SERVER.is_file() or not shutil.which("node"):
    pytest.skip("the YAML language server is not installed (make test-deps installs it)", allow_module_level=True)


def documented_settings() -> dict:
    """The `yaml.schemas` block docs/source-format.md tells VS Code users to write, with its paths
    made absolute (VS Code reads them relative to the project folder)."""
    page = (ROOT / "docs" / "source-format.md").read_text(encoding="utf-8")
    block = re.search(r"```json\n(\{\s*\"yaml\.schemas\".*?)\n```", page, re.S)
    assert block, "docs/source-format.md no longer shows the yaml.schemas settings"
    schemas = json.loads(block.group(1))["yaml.schemas"]
    return {"yaml": {"validate": True, "completion": True, "hover": True,
                     "schemas": {(ROOT / path).resolve().as_uri(): globs for path, globs in schemas.items()}}}


class LanguageServer:
    """A minimal Language Server Protocol client: JSON-RPC with Content-Length headers over stdio."""

    def __init__(self, settings: dict):
        self.settings = settings
        self.proc = subprocess.Popen(["node", str(SERVER), "--stdio"], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        self.inbox: queue.Queue = queue.Queue()
        self.notes: list = []
        self.next_id = 0
        threading.Thread(target=self._read, daemon=True).start()
        self.request("initialize", {"processId": os.getpid(), "rootUri": ROOT.as_uri(),
                                    "workspaceFolders": [{"uri": ROOT.as_uri(), "name": "policypack"}],
                                    "capabilities": {"workspace": {"configuration": True}}})
        self.notify("initialized", {})
        self.notify("workspace/didChangeConfiguration", {"settings": settings})

    def _read(self):
        out = self.proc.stdout
        while True:
            length = None
            while True:
                line = out.readline()
                if not line:
                    return
                if not line.strip():
                    break
                name, _, value = line.decode("ascii").partition(":")
                if name.lower() == "content-length":
                    length = int(value)
            self.inbox.put(json.loads(out.read(length)))

    def _send(self, message: dict):
        data = json.dumps({"jsonrpc": "2.0", **message}).encode("utf-8")
        self.proc.stdin.write(b"Content-Length: %d\r\n\r\n" % len(data) + data)
        self.proc.stdin.flush()

    def notify(self, method: str, params: dict):
        self._send({"method": method, "params": params})

    def _next(self, deadline: float) -> dict:
        message = self.inbox.get(timeout=max(deadline - time.monotonic(), 0.01))
        if "method" in message and "id" in message:  # the server asks: settings, or registrations
            result = None
            if message["method"] == "workspace/configuration":
                result = [self.settings.get(item.get("section"), self.settings["yaml"]) if item.get("section")
                          else self.settings for item in message["params"]["items"]]
            self._send({"id": message["id"], "result": result})
        elif "method" in message:
            self.notes.append(message)
        return message

    def request(self, method: str, params: dict, timeout: float = 60):
        self.next_id += 1
        mine = self.next_id
        self._send({"id": mine, "method": method, "params": params})
        deadline = time.monotonic() + timeout
        while True:
            message = self._next(deadline)
            if message.get("id") == mine and "method" not in message:
                return message.get("result")

    def diagnostics(self, uri: str, text: str, timeout: float = 60) -> list:
        """Open the document and return what the server marks in it ([(line, message)])."""
        self.notes = [n for n in self.notes if n.get("params", {}).get("uri") != uri]
        self.notify("textDocument/didOpen", {"textDocument": {"uri": uri, "languageId": "yaml", "version": 1,
                                                              "text": text}})
        deadline = time.monotonic() + timeout
        while True:
            for note in self.notes:
                if note["method"] == "textDocument/publishDiagnostics" and note["params"]["uri"] == uri:
                    return [(d["range"]["start"]["line"] + 1, d["message"]) for d in note["params"]["diagnostics"]]
            self._next(deadline)

    def close(self):
        self.proc.kill()
        self.proc.wait()


@pytest.fixture(scope="module")
def server():
    ls = LanguageServer(documented_settings())
    yield ls
    ls.close()


def uri(rel: str) -> str:
    return (ROOT / rel).as_uri()


def test_the_shipped_files_have_no_marks(server):
    files = [p.relative_to(ROOT).as_posix() for pattern in ("schools/*.yaml", "schools/*/*.yaml", "policy_src/*.yaml",
                                                             "policy_src/library/*.yaml") for p in ROOT.glob(pattern)]
    assert len(files) >= 15
    for rel in sorted(files):
        assert server.diagnostics(uri(rel), (ROOT / rel).read_text(encoding="utf-8")) == [], rel


def test_mistakes_are_marked_on_their_lines(server):
    text = ("organisation:\n  id: zz-broken\n  name: Broken School\n  kind: schol\n  numbring: decimal\n"
            "  review:\n    last_reviewed: 16/05/2025\n")
    marks = server.diagnostics(uri("schools/zz-broken.yaml"), text)
    lines = {line for line, _ in marks}
    assert {4, 5, 7} <= lines, marks
    assert any("numbring" in message for line, message in marks if line == 5), marks
    policy = (ROOT / "policy_src/social-media.yaml").read_text(encoding="utf-8").replace("  title:", "  titel:", 1)
    marks = server.diagnostics(uri("policy_src/zz-broken-policy.yaml"), policy)
    assert any("titel" in message for _, message in marks), marks


def test_keys_are_offered_with_their_descriptions(server):
    text = "organisation:\n  id: zz-typing\n  name: Typing School\n  kind: school\n  \n"
    server.diagnostics(uri("schools/zz-typing.yaml"), text)
    result = server.request("textDocument/completion", {"textDocument": {"uri": uri("schools/zz-typing.yaml")},
                                                        "position": {"line": 4, "character": 2}})
    items = {i["label"]: i for i in (result["items"] if isinstance(result, dict) else result)}
    assert {"extends", "policies", "fill", "variants", "numbering_schemes", "adoption"} <= set(items)
    assert "kind" not in items  # already written
    hover = server.request("textDocument/hover", {"textDocument": {"uri": uri("schools/zz-typing.yaml")},
                                                  "position": {"line": 3, "character": 3}})
    assert "What kind of organisation it is" in json.dumps(hover)


def test_a_modeline_names_the_schema():
    """A file outside the globs, naming its schema relative to itself, is checked against it."""
    ls = LanguageServer({"yaml": {"validate": True, "schemas": {}}})
    try:
        text = "# yaml-language-server: $schema=../schemas/library.schema.json\nlibrary:\n  clauzes: []\n"
        marks = ls.diagnostics(uri("notes/zz-library.yaml"), text)
        assert any("clauzes" in message for _, message in marks), marks
        assert ls.diagnostics(uri("notes/zz-library-ok.yaml"), text.replace("clauzes", "clauses")) == []
    finally:
        ls.close()
