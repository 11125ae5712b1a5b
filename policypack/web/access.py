"""Who may do what in the editor.

- The adviser holds a token made at start-up (or given in POLICYPACK_SERVE_TOKEN) and sees every
  organisation. It is printed once, in the address to open, like Jupyter's.
- An organisation's editor holds a link: `<link id>.<expiry>.<organisation id>.<signature>`,
  signed with HMAC-SHA256 under a secret kept in the project's `.policypack/serve-secret` (made on
  first use, readable by its owner only, never in outputs; `.policypack/` is git-ignored). A link
  is good only until its expiry, only while the list of issued links (`.policypack/serve-links.json`)
  holds it unrevoked, and only for its organisation's own pages.
- The session is a cookie holding that token (HttpOnly, SameSite=Lax, Secure over HTTPS), checked
  on every request, so revoking a link ends the sessions opened with it at once.
- Every form and every script request carries a CSRF token: an HMAC of the session under the
  secret, compared in constant time.
"""
from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import os
import secrets
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from ..load import ID_RE
from ..write import write_atomic

FOLDER = ".policypack"
SECRET = "serve-secret"
LINKS = "serve-links.json"
MAX_DAYS = 366
_LOCK = threading.Lock()


@dataclass(frozen=True)
class Who:
    adviser: bool
    org: Optional[str] = None  # the organisation a link may edit
    link: Optional[str] = None  # the link's id

    def may_see(self, oid: str) -> bool:
        return self.adviser or oid == self.org


class Keys:
    """The project's secret and its list of links."""

    def __init__(self, root: Path, adviser_token: Optional[str] = None):
        self.folder = Path(root) / FOLDER
        self.adviser_token = adviser_token or os.environ.get("POLICYPACK_SERVE_TOKEN") or secrets.token_urlsafe(24)
        self.secret = self._secret()

    def _secret(self) -> bytes:
        path = self.folder / SECRET
        with _LOCK:
            if not path.exists():
                self.folder.mkdir(mode=0o700, exist_ok=True)
                ignore = self.folder / ".gitignore"
                if not ignore.exists():
                    ignore.write_text("*\n", encoding="utf-8")
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                with os.fdopen(fd, "w") as f:
                    f.write(secrets.token_hex(32) + "\n")
            return bytes.fromhex(path.read_text(encoding="utf-8").strip())

    def _sign(self, message: str) -> str:
        mac = hmac.new(self.secret, message.encode("utf-8"), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(mac).decode("ascii").rstrip("=")

    # ---- links -------------------------------------------------------------------------------

    def links(self) -> dict:
        path = self.folder / LINKS
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def issue(self, oid: str, days: int, now: Optional[float] = None) -> str:
        """A new link token for organisation `oid`, good for `days` days."""
        if not ID_RE.match(oid):
            raise ValueError(f"'{oid}' is not an organisation id")
        days = max(1, min(int(days), MAX_DAYS))
        now = time.time() if now is None else now
        expires = int(now + days * 86400)
        link = secrets.token_hex(8)
        with _LOCK:
            links = self.links()
            links[link] = {"organisation": oid, "expires": expires, "revoked": False,
                           "issued": dt.datetime.fromtimestamp(int(now), dt.timezone.utc).isoformat()}
            write_atomic(self.folder / LINKS, (json.dumps(links, indent=2, sort_keys=True) + "\n").encode("utf-8"))
        body = f"{link}.{expires}.{oid}"
        return f"{body}.{self._sign('link:' + body)}"

    def revoke(self, link: str) -> bool:
        with _LOCK:
            links = self.links()
            if link not in links:
                return False
            links[link]["revoked"] = True
            write_atomic(self.folder / LINKS, (json.dumps(links, indent=2, sort_keys=True) + "\n").encode("utf-8"))
            return True

    def check_link(self, token: str, now: Optional[float] = None) -> Optional[Who]:
        if not isinstance(token, str) or len(token) > 300:
            return None
        parts = token.split(".")
        if len(parts) != 4:
            return None
        link, expires, oid, sig = parts
        if not hmac.compare_digest(sig, self._sign(f"link:{link}.{expires}.{oid}")):
            return None
        if not expires.isdigit() or int(expires) < (time.time() if now is None else now):
            return None
        entry = self.links().get(link)
        if not isinstance(entry, dict) or entry.get("revoked") or entry.get("organisation") != oid:
            return None
        return Who(adviser=False, org=oid, link=link)

    # ---- sessions ----------------------------------------------------------------------------

    def who(self, session: Optional[str]) -> Optional[Who]:
        """Who the session cookie's value belongs to, or None."""
        if not session or len(session) > 400:
            return None
        kind, _, value = session.partition(":")
        if kind == "a" and hmac.compare_digest(value.encode(), self.adviser_token.encode()):
            return Who(adviser=True)
        if kind == "l":
            return self.check_link(value)
        return None

    def csrf(self, session: str) -> str:
        return self._sign("csrf:" + session)

    def csrf_ok(self, session: str, token: Optional[str]) -> bool:
        return bool(token) and hmac.compare_digest(str(token).encode(), self.csrf(session).encode())
