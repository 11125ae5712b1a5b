"""Runs under a Python that has LibreOffice's `uno` module (Debian: /usr/bin/python3 with
python3-uno), started by policypack.render.office, never imported by policypack itself.

It starts one headless LibreOffice, connects to it over a private pipe, then converts DOCX files
to PDF on request: one JSON line in on stdin ({"src": path, "dst": path}), one JSON line out
({"ok": true} or {"error": "..."}). When stdin closes it shuts LibreOffice down and exits. Both
it and LibreOffice die with their parent (PR_SET_PDEATHSIG), so a killed build leaves neither.

    python3 office_bridge.py SOFFICE_BIN PROFILE_URL PIPE_NAME
"""
import ctypes
import json
import os
import signal
import subprocess
import sys
import time


def die_with_parent() -> None:
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def say(obj) -> None:
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def main(program: str, profile: str, pipe: str) -> int:
    die_with_parent()
    if os.getppid() == 1:
        return 1
    try:
        import uno
        from com.sun.star.beans import PropertyValue
        from com.sun.star.connection import NoConnectException
    except ImportError as exc:
        say({"error": f"this Python has no LibreOffice 'uno' module ({exc})"})
        return 1
    def start():
        return subprocess.Popen(
            [program, f"-env:UserInstallation={profile}", "--headless", "--invisible", "--nologo", "--nodefault",
             "--norestore", "--nolockcheck", f"--accept=pipe,name={pipe};urp;StarOffice.ComponentContext"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, preexec_fn=die_with_parent)

    office = start()
    local = uno.getComponentContext()
    resolver = local.ServiceManager.createInstanceWithContext("com.sun.star.bridge.UnoUrlResolver", local)
    deadline, restarts = time.monotonic() + 60, 0
    while True:
        try:
            ctx = resolver.resolve(f"uno:pipe,name={pipe};urp;StarOffice.ComponentContext")
            break
        except NoConnectException:
            # 81: LibreOffice made its new profile and asks to be started again (its launcher,
            # which we do not use, would do this)
            if office.poll() == 81 and restarts < 3:
                office, restarts = start(), restarts + 1
            elif office.poll() is not None or time.monotonic() > deadline:
                say({"error": f"LibreOffice did not start (status {office.poll()})"})
                office.kill()
                return 1
            time.sleep(0.1)
    desktop = ctx.ServiceManager.createInstanceWithContext("com.sun.star.frame.Desktop", ctx)

    def prop(name, value):
        p = PropertyValue()
        p.Name, p.Value = name, value
        return p

    say({"ready": True})
    try:
        for line in sys.stdin:
            try:
                job = json.loads(line)
                document = desktop.loadComponentFromURL(uno.systemPathToFileUrl(job["src"]), "_blank", 0,
                                                        (prop("Hidden", True), prop("ReadOnly", True)))
                if document is None:
                    raise RuntimeError("LibreOffice could not open the DOCX")
                try:
                    document.storeToURL(uno.systemPathToFileUrl(job["dst"]), (prop("FilterName", "writer_pdf_Export"),))
                finally:
                    document.close(True)
                say({"ok": True})
            except Exception as exc:  # noqa: BLE001 - reported to the build, which falls back
                say({"error": f"{type(exc).__name__}: {exc}"[:300]})
    finally:
        try:
            desktop.terminate()
        except Exception:  # noqa: BLE001 - the connection may already be gone
            pass
        try:
            office.wait(10)
        except subprocess.TimeoutExpired:
            office.kill()
            office.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:4]))
