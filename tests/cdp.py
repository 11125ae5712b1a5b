"""A small client for the Chrome DevTools Protocol over Chromium's --remote-debugging-pipe (file
descriptors 3 and 4, NUL-separated JSON): enough to open a page at a given viewport width and
evaluate an expression in it, with nothing beyond the standard library. DevTools evaluation is not
subject to the page's Content-Security-Policy, so the pages keep their no-script policy."""
from __future__ import annotations

import json
import os
import subprocess
import tempfile


class Browser:
    def __init__(self, chromium: str):
        self.profile = tempfile.TemporaryDirectory()
        to_child, self._w = os.pipe()
        self._r, from_child = os.pipe()

        def fds():  # the child reads commands on 3 and writes replies on 4
            os.dup2(to_child, 3)
            os.dup2(from_child, 4)

        self.proc = subprocess.Popen(
            [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--remote-debugging-pipe",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             f"--user-data-dir={self.profile.name}", "about:blank"],
            pass_fds=(to_child, from_child, 3, 4), preexec_fn=fds, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(to_child)
        os.close(from_child)
        self._buf = b""
        self._id = 0

    def send(self, method: str, session: str = "", **params) -> dict:
        self._id += 1
        msg = {"id": self._id, "method": method, "params": params}
        if session:
            msg["sessionId"] = session
        os.write(self._w, json.dumps(msg).encode() + b"\0")
        while True:
            reply = self._next()
            if reply.get("id") == self._id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})

    def wait_for(self, event: str) -> dict:
        while True:
            msg = self._next()
            if msg.get("method") == event:
                return msg

    def _next(self) -> dict:
        while b"\0" not in self._buf:
            chunk = os.read(self._r, 1 << 16)
            if not chunk:
                raise RuntimeError("Chromium closed the DevTools pipe")
            self._buf += chunk
        raw, _, self._buf = self._buf.partition(b"\0")
        return json.loads(raw)

    def open(self, url: str, width: int, height: int = 900) -> "Tab":
        target = self.send("Target.createTarget", url="about:blank")["targetId"]
        session = self.send("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        tab = Tab(self, session)
        # a desktop viewport of `width` CSS pixels: with mobile emulation Chromium widens the layout
        # viewport to the content, which would hide the very overflow we look for
        tab.send("Emulation.setDeviceMetricsOverride", width=width, height=height, deviceScaleFactor=1, mobile=False)
        tab.send("Page.enable")
        tab.send("Page.navigate", url=url)
        self.wait_for("Page.loadEventFired")
        return tab

    def close(self) -> None:
        try:
            self.send("Browser.close")
        except (RuntimeError, OSError):
            pass
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        os.close(self._w)
        os.close(self._r)
        self.profile.cleanup()


class Tab:
    def __init__(self, browser: Browser, session: str):
        self.browser, self.session = browser, session

    def send(self, method: str, **params) -> dict:
        return self.browser.send(method, self.session, **params)

    def evaluate(self, expression: str, wait: bool = False):
        """The expression's value; with wait, the value its promise resolves to."""
        result = self.send("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=wait)
        if "exceptionDetails" in result:
            raise RuntimeError(result["exceptionDetails"])
        return result["result"].get("value")
