"""The editor's web application (Starlette, served by uvicorn).

Starlette is small, well kept and server-rendered pages fit it: it brings routing, requests and
responses and a test client, and nothing we do not use (no ORM, no sessions of its own, no
templates beyond the Jinja2 we already depend on). uvicorn is the ASGI server it is usually run
with, fit to stand behind a reverse proxy. Every page is rendered here from Jinja2 templates
with autoescaping; the only script is static/editor.js (the preview, messages on fields), and the
pages work without it: a save is an ordinary form post.

Limits on every request (see docs/security.md): bodies of at most MAX_BODY bytes with a
Content-Length, at most MAX_FIELDS fields, each field bounded by store.MAX_LINE / MAX_TEXT, ids
in the path checked against the id pattern and the project, one download built at a time.
"""
from __future__ import annotations

import collections
import re
import datetime as dt
import secrets
import threading
import time
from pathlib import Path
from typing import Optional
from urllib.parse import quote

import jinja2
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from ..errors import Failed, Report, describe_exception
from ..render import format_date
from . import store
from .access import MAX_DAYS, Keys

HERE = Path(__file__).parent
MAX_BODY = 1_000_000  # bytes in one request
MAX_FIELDS = 1000
COOKIE = "policypack_session"
APP_CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
           "frame-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
# a rendered policy: what its own <meta> policy says (policypack.sanitize.CSP), and framed by us only
POLICY_CSP = ("default-src 'none'; style-src 'unsafe-inline'; img-src data:; font-src data:; base-uri 'none'; "
              "form-action 'none'; frame-ancestors 'self'")
RESERVED = {"csrf", "hash", "editor", "message"}  # posted with the fields, not fields of the layer
STATIC = {"editor.js": "text/javascript; charset=utf-8", "editor.css": "text/css; charset=utf-8"}
DOWNLOADS = {"pdf": ("policypack.render.pdf:render_pdf", "application/pdf"),
             "docx": ("policypack.render.docx:render_docx",
                      "application/vnd.openxmlformats-officedocument.wordprocessingml.document")}


class _Previews:
    """Rendered previews, kept briefly for the frame to fetch: key -> (session, bytes), at most 64."""

    def __init__(self, size: int = 64):
        self.items, self.size, self.lock = collections.OrderedDict(), size, threading.Lock()

    def put(self, session: str, html: bytes) -> str:
        key = secrets.token_urlsafe(16)
        with self.lock:
            self.items[key] = (session, html)
            while len(self.items) > self.size:
                self.items.popitem(last=False)
        return key

    def get(self, session: str, key: str) -> Optional[bytes]:
        with self.lock:
            item = self.items.get(key)
        return item[1] if item and secrets.compare_digest(item[0], session) else None


class Problem(Exception):
    def __init__(self, status: int, title: str, text: str):
        super().__init__(text)
        self.status, self.title, self.text = status, title, text


def create_app(root: Path, keys: Optional[Keys] = None, as_of: Optional[dt.date] = None) -> Starlette:
    root = Path(root).resolve()
    keys = keys or Keys(root)
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(HERE / "templates"), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["day"] = lambda ts: dt.datetime.fromtimestamp(int(ts), dt.timezone.utc).date().isoformat()
    previews = _Previews()
    memo: dict = {}  # schedule rows, kept while the project (reloaded when a file changes) is the same

    def remember(proj, key: tuple, make):
        if memo.get("project") is not proj:
            memo.clear()
            memo["project"] = proj
        if key not in memo:
            memo[key] = make()
        return memo[key]
    building = threading.Semaphore(1)

    def today() -> dt.date:
        return as_of or dt.date.today()

    # ---- helpers -------------------------------------------------------------------------------

    def session_of(request: Request) -> tuple:
        session = request.cookies.get(COOKIE, "")
        return session, keys.who(session)

    def need(request: Request, oid: Optional[str] = None, adviser: bool = False) -> tuple:
        session, who = session_of(request)
        if who is None:
            raise Problem(401, "Sign in", "Open the link your HR adviser gave you (or, for the adviser, the "
                          "address printed when the editor started).")
        if adviser and not who.adviser:
            raise Problem(403, "Not yours to see", "Only the HR adviser can see this page.")
        if oid is not None and not who.may_see(oid):
            raise Problem(403, "Not yours to see", "Your link opens your own organisation's pages only.")
        return session, who

    def project(request: Request):
        try:
            return store.load(root)
        except Failed as exc:  # the messages name every organisation's files: for the adviser only
            who = session_of(request)[1]
            lines = "\n".join(p.format() for p in exc.report.errors[:20]) if who and who.adviser else \
                "Ask your HR adviser: their page of the editor shows what to fix."
            raise Problem(500, "The project does not load", "The project's files have problems, so nothing can be "
                          f"edited until they are fixed (`policypack check` lists them):\n{lines}")

    def org_and_policy(proj, oid: str, pid: Optional[str] = None):
        if not store.valid_id(oid) or oid not in proj.organisations:
            raise Problem(404, "No such organisation", "There is no organisation with that id.")
        if pid is not None and (not store.valid_id(pid) or pid not in proj.published(oid)):
            raise Problem(404, "No such policy", "This organisation does not publish a policy with that id.")
        return proj.organisations[oid]

    def page(name: str, request: Request, status: int = 200, **values) -> HTMLResponse:
        session, who = session_of(request)
        html = env.get_template(name).render(who=who, csrf=keys.csrf(session) if who else "", **values)
        return HTMLResponse(html, status_code=status)

    async def form_of(request: Request) -> dict:
        try:
            form = await request.form(max_files=0, max_fields=MAX_FIELDS, max_part_size=MAX_BODY)
        except Exception as exc:  # noqa: BLE001 - a malformed body is the sender's mistake
            raise Problem(400, "Bad request", f"The form could not be read: {describe_exception(exc)}")
        out = {}
        for name, value in form.multi_items():
            if not isinstance(value, str):
                raise Problem(400, "Bad request", "This form takes no files.")
            out[name] = value  # a checkbox after its hidden "off": the last value wins
        return out

    def check_csrf(session: str, request: Request, form: dict) -> None:
        token = request.headers.get("x-csrf-token") or form.get("csrf")
        if not keys.csrf_ok(session, token):
            raise Problem(403, "The form has expired", "Reload the page and try again (the form's security "
                          "token did not match your session).")

    def ctx():
        from ..build import template_dir
        from ..render import RenderContext
        return RenderContext(as_of=today(), project_root=root, template_dir=template_dir(root))

    def policy_html(doc) -> bytes:
        from ..render.html import render_html
        return render_html(doc, ctx())

    def fields_of(form: dict) -> dict:
        return {k: v for k, v in form.items() if k not in RESERVED}

    # ---- pages ---------------------------------------------------------------------------------
    # Endpoints that load, resolve or render are plain functions (Starlette runs them in its thread
    # pool) or hand that work to the pool, so one school's preview does not hold up another's page.

    def home(request: Request):
        token = request.query_params.get("token")
        if token is not None:
            if secrets.compare_digest(token.encode(), keys.adviser_token.encode()):
                return _with_session(RedirectResponse("/", 303), request, "a:" + keys.adviser_token)
            raise Problem(403, "Wrong token", "That is not the adviser's token: copy the address printed when the "
                          "editor started.")
        session, who = session_of(request)
        if who is None:
            raise Problem(401, "Sign in", "Open the link your HR adviser gave you (or, for the adviser, the address "
                          "printed when the editor started).")
        if not who.adviser:
            return RedirectResponse(f"/o/{who.org}", 303)
        return adviser_page(request, project(request))

    def adviser_page(request: Request, proj, new_link: Optional[str] = None) -> HTMLResponse:
        """The organisations, the links and the schedule; a new link is shown once, in the answer
        to the form that made it (never in an address, where history and logs would keep it)."""
        from ..review import review_rows
        rows = remember(proj, ("schedule", today()), lambda: review_rows(proj, today()))
        links = sorted(keys.links().items(), key=lambda kv: kv[1].get("issued", ""), reverse=True)
        return page("adviser.html.j2", request, tree=_tree(proj, None, 0), rows=rows, links=links,
                    now=time.time(), new_link=new_link, orgs=sorted(proj.organisations),
                    base=str(request.base_url).rstrip("/"), max_days=MAX_DAYS)

    def open_link(request: Request):
        token = request.path_params["token"]
        who = keys.check_link(token)
        if who is None:
            raise Problem(403, "This link does not work", "It may have expired or been withdrawn. Ask your HR "
                          "adviser for a new one.")
        return _with_session(RedirectResponse(f"/o/{who.org}", 303), request, "l:" + token)

    async def sign_out(request: Request):
        session, who = need(request)
        check_csrf(session, request, await form_of(request))
        response = RedirectResponse("/signed-out", 303)
        response.delete_cookie(COOKIE, path="/")
        return response

    def signed_out(request: Request):
        return page("message.html.j2", request, title="Signed out", text="You have signed out. Open your link again "
                    "to carry on.")

    def dashboard(request: Request):
        oid = request.path_params["oid"]
        need(request, oid)
        proj = project(request)
        org = org_and_policy(proj, oid)
        from ..resolve import resolve
        rows, todo = [], []
        behind = remember(proj, ("behind", oid, today()), lambda: _behind(proj, oid, today()))
        for pid in proj.published(oid):
            report = Report()
            try:
                doc = resolve(proj, oid, pid, report)
            except Exception as exc:  # noqa: BLE001 - shown on the page
                todo.append(("error", pid, f"{pid} does not resolve: {describe_exception(exc)}", ""))
                continue
            status = doc.review_status(today())
            empty = [n for n in doc.walk() if n.slot and n.provenance.action not in ("fill", "replace")]
            rows.append({"pid": pid, "title": doc.title, "status": status,
                         "next_review": format_date(doc.next_review),
                         "empty": len(empty), "errors": len(report.errors),
                         "behind": behind.get(pid, ("unknown",))[0]})
            for n in empty:
                todo.append(("slot", pid, f"Write your own wording for {n.label} {n.title or n.id} "
                             f"(the model's suggested wording is used until you do)", f"fill:{n.id}"))
            count, words, against = behind.get(pid, ("unknown", "", ""))
            if isinstance(count, int) and count:
                todo.append(("behind", pid, f"{doc.title}: {words} above yours since you last reviewed it "
                             f"({against}); read them and record a review", ""))
            if status in ("overdue", "due-soon"):
                todo.append((status, pid, f"{doc.title}: review {'overdue' if status == 'overdue' else 'due soon'} "
                             f"(next review {format_date(doc.next_review)})", ""))
        return page("dashboard.html.j2", request, org=org, rows=rows, todo=todo)

    def editor(request: Request):
        oid, pid = request.path_params["oid"], request.path_params["pid"]
        need(request, oid)
        proj = project(request)
        org = org_and_policy(proj, oid, pid)
        done, note = request.query_params.get("saved", ""), request.query_params.get("note", "")[:200]
        done = done if done == "nothing" or re.fullmatch(r"[0-9a-f]{1,12}", done) else ""
        note = note if note.startswith("saved, but not committed: ") else ""  # only what save() says
        saved = None
        if done == "nothing":
            saved = "Nothing had changed, so nothing was saved."
        elif done:
            saved = "Saved." + (f" Committed as {done[:12]}." if done != "1" else "") + (f" ({note})" if note else "")
        return _editor_page(request, proj, org, pid, saved=saved)

    def _editor_page(request, proj, org, pid, status=200, checked=None, form=None, note=None, conflict=None,
                     saved=None):
        try:
            pg = store.page_for(proj, org.id, pid)
        except Exception as exc:  # noqa: BLE001 - e.g. the layer no longer resolves
            raise Problem(500, "This policy cannot be edited now", describe_exception(exc))
        values = dict(form or {})
        for f in pg.fields().values():
            if f.name in values:
                f.value = values[f.name]
        return page("editor.html.j2", request, status=status, org=org, pg=pg, checked=checked, note=note,
                    conflict=conflict, saved=saved, editor_name=values.get("editor", ""),
                    message=values.get("message", ""), seen_hash=values.get("hash", pg.hash),
                    new_replace_id=values.get("new-replace-id", ""),
                    new_replace_text=values.get("new-replace-text", ""),
                    new={k: values.get(k, "") for k in store.NEW_FIELDS})

    async def posted(request: Request, work) -> Response:
        """A post to a policy page: access, then the form, then its CSRF token, checked in that
        order; then `work(session, form, project, organisation, page)` in the thread pool, so the
        server answers other requests meanwhile."""
        oid, pid = request.path_params["oid"], request.path_params["pid"]
        session, who = need(request, oid)
        form = await form_of(request)
        check_csrf(session, request, form)

        def run():
            proj = project(request)
            org = org_and_policy(proj, oid, pid)
            return work(request, session, form, proj, org, store.page_for(proj, oid, pid))
        return await run_in_threadpool(run)

    async def preview(request: Request):
        return await posted(request, _preview)

    def _preview(request, session, form, proj, org, pg):
        try:
            text, changed = store.edited(proj, pg, fields_of(form))
        except (store.FormError, store.LayoutError) as exc:
            return JSONResponse({"preview": None, "general": [["error", str(exc)]], "messages": {},
                                 "consultation": []}, status_code=422)
        checked = store.check(root, pg, text, base=proj)
        url = None
        if checked.doc is not None:
            try:
                url = "/preview/" + previews.put(session, policy_html(checked.doc))
            except Exception as exc:  # noqa: BLE001 - e.g. a template override that fails: said on the page
                checked.general.append(("error", f"the preview could not be rendered: {describe_exception(exc)}"))
        fields = pg.fields()
        # a change not saved yet has no field of its own: its note goes beside the form that makes it
        new = {("replace", form.get("new-replace-id")): "new-replace", ("remove", form.get("new-remove-id")): "new-remove",
               ("retitle", form.get("new-retitle-id")): "new-retitle"}
        return JSONResponse({
            "preview": url, "changed": changed,
            "messages": {fields[k].html_id: v for k, v in checked.messages.items()},
            "general": checked.general,
            "consultation": [[action, cid, fields[name].html_id if name else
                              new.get((action, cid), "new-insert" if action == "insert" else None)]
                             for action, cid, name in checked.consultation]})

    def show_preview(request: Request):
        session, who = need(request)
        html = previews.get(session, request.path_params["key"])
        if html is None:
            raise Problem(404, "Preview gone", "This preview is no longer kept: type in the form to make a new one.")
        return Response(html, media_type="text/html; charset=utf-8", headers={"content-security-policy": POLICY_CSP})

    def view(request: Request):
        oid, pid = request.path_params["oid"], request.path_params["pid"]
        need(request, oid)
        proj = project(request)
        org_and_policy(proj, oid, pid)
        from ..resolve import resolve
        try:
            html = policy_html(resolve(proj, oid, pid, Report()))
        except Exception as exc:  # noqa: BLE001
            raise Problem(500, "The policy could not be shown", describe_exception(exc))
        return Response(html, media_type="text/html; charset=utf-8", headers={"content-security-policy": POLICY_CSP})

    async def save(request: Request):
        return await posted(request, _save)

    def _save(request, session, form, proj, org, pg):
        oid, pid = org.id, pg.pid
        try:
            saved, checked = store.save(root, pg, fields_of(form), form.get("hash", ""), form.get("editor", ""),
                                        form.get("message", ""))
        except store.Conflict as exc:
            return _editor_page(request, proj, org, pid, 409, form=form, conflict=str(exc))
        except (store.FormError, store.LayoutError) as exc:
            return _editor_page(request, proj, org, pid, 422, form=form, note=str(exc))
        if checked is not None:
            return _editor_page(request, proj, org, pid, 422, checked=checked, form=form,
                                note="Nothing was saved: fix the problems shown beside the fields.")
        query = "?saved=" + ("nothing" if not saved.changed else (saved.committed[:12] or "1"))
        if saved.note:
            query += "&note=" + quote(saved.note[:200])
        return RedirectResponse(f"/o/{oid}/p/{pid}{query}", 303)

    async def download(request: Request):
        oid, pid, fmt = request.path_params["oid"], request.path_params["pid"], request.path_params["fmt"]
        need(request, oid)
        if fmt not in DOWNLOADS:
            raise Problem(404, "No such download", "Downloads are PDF and DOCX.")
        proj = project(request)
        org_and_policy(proj, oid, pid)
        if not building.acquire(blocking=False):
            raise Problem(503, "Busy", "Another document is being built. Try again in a minute.")
        try:
            data = await run_in_threadpool(_build_one, proj, oid, pid, fmt)
        finally:
            building.release()
        spec, media = DOWNLOADS[fmt]
        return Response(data, media_type=media,
                        headers={"content-disposition": f'attachment; filename="{oid}-{pid}.{fmt}"'})

    def _build_one(proj, oid, pid, fmt) -> bytes:
        from ..render import writer
        from ..resolve import resolve
        try:
            return writer(DOWNLOADS[fmt][0])(resolve(proj, oid, pid, Report()), ctx())
        except Exception as exc:  # noqa: BLE001
            raise Problem(500, "The document could not be built", describe_exception(exc))

    def departures(request: Request):
        oid, pid = request.path_params["oid"], request.path_params["pid"]
        need(request, oid)
        proj = project(request)
        org = org_and_policy(proj, oid, pid)
        from ..diff import diff_policies
        from ..redline import Redline, render_html
        from ..resolve import resolve
        from ..versions import inherited
        try:
            new = resolve(proj, oid, pid, Report())
            d = diff_policies(inherited(proj, org, pid), new)
            consultation = {cid: action for layer, action, cid, _ in new.consultation if layer == oid}
            r = Redline(diff=d, school=oid, policy=pid, from_label=f"{org.extends} and the model" if org.extends
                        else "the model", to_label="this organisation", proposed=d.proposed_change(today(), None),
                        consultation=consultation)
            html = render_html(r)
        except Exception as exc:  # noqa: BLE001
            raise Problem(500, "The departures could not be shown", describe_exception(exc))
        return Response(html, media_type="text/html; charset=utf-8", headers={"content-security-policy": POLICY_CSP})

    async def new_link(request: Request):
        session, who = need(request, adviser=True)
        form = await form_of(request)
        check_csrf(session, request, form)
        proj = project(request)
        oid = form.get("organisation", "")
        org_and_policy(proj, oid)
        try:
            days = int(form.get("days", "30"))
        except ValueError:
            raise Problem(400, "Bad number of days", f"Give a whole number of days, 1 to {MAX_DAYS}.")
        if not 1 <= days <= MAX_DAYS:
            raise Problem(400, "Bad number of days", f"Give a whole number of days, 1 to {MAX_DAYS}.")
        return await run_in_threadpool(adviser_page, request, proj, keys.issue(oid, days))

    async def revoke(request: Request):
        session, who = need(request, adviser=True)
        check_csrf(session, request, await form_of(request))
        keys.revoke(request.path_params["link"])
        return RedirectResponse("/#links", 303)

    def static(request: Request):
        name = request.path_params["name"]
        if name not in STATIC:
            raise Problem(404, "Not found", "There is no such file.")
        return Response((HERE / "static" / name).read_bytes(), media_type=STATIC[name],
                        headers={"cache-control": "no-cache"})

    routes = [
        Route("/", home), Route("/link/{token}", open_link), Route("/sign-out", sign_out, methods=["POST"]),
        Route("/signed-out", signed_out), Route("/links", new_link, methods=["POST"]),
        Route("/links/{link}/revoke", revoke, methods=["POST"]),
        Route("/static/{name}", static), Route("/preview/{key}", show_preview),
        Route("/o/{oid}", dashboard), Route("/o/{oid}/p/{pid}", editor),
        Route("/o/{oid}/p/{pid}", save, methods=["POST"]),
        Route("/o/{oid}/p/{pid}/preview", preview, methods=["POST"]),
        Route("/o/{oid}/p/{pid}/view", view), Route("/o/{oid}/p/{pid}/departures", departures),
        Route("/o/{oid}/p/{pid}/download.{fmt}", download),
    ]

    def problem_page(request: Request, exc: Problem):
        return page("message.html.j2", request, status=exc.status, title=exc.title, text=exc.text)

    async def on_problem(request: Request, exc: Problem):
        return problem_page(request, exc)

    async def on_error(request: Request, exc: Exception):
        return problem_page(request, Problem(500, "Something went wrong", "This is a fault in policypack, not in "
                                             f"your input: {describe_exception(exc)}"))

    async def on_http(request: Request, exc):
        status = getattr(exc, "status_code", 500)
        return problem_page(request, Problem(status, "Not found" if status == 404 else "Not allowed",
                                             "There is no such page." if status == 404 else str(exc.detail)))

    from starlette.exceptions import HTTPException
    app = Starlette(routes=routes, middleware=[Middleware(_Guard)],
                    exception_handlers={Problem: on_problem, HTTPException: on_http, Exception: on_error})
    app.state.keys, app.state.building = keys, building
    return app


def _with_session(response: Response, request: Request, value: str) -> Response:
    response.set_cookie(COOKIE, value, httponly=True, samesite="lax", path="/",
                        secure=request.url.scheme == "https")
    return response


def _behind(project, oid: str, as_of: dt.date) -> dict:
    """{policy id: (clauses changed above since the organisation's recorded review, in words, what
    it reviewed against)}: the review schedule's rows for this organisation only (its chain is
    all they read)."""
    import dataclasses

    from ..review import review_rows
    chain = dataclasses.replace(project, organisations={o.id: o for o in project.chain(oid)})
    try:
        rows = review_rows(chain, as_of)
    except Exception:  # noqa: BLE001 - the dashboard says "unknown"; `review` says why
        return {}
    return {r["policy"]: (r["behind"], r["readable"].get("behind", ""), r["readable"].get("reviewed_against", ""))
            for r in rows if r["organisation"] == oid}


def _tree(project, parent, depth: int) -> list:
    out = []
    for org in project.children(parent):
        out.append((depth, org, project.published(org.id)))
        out.extend(_tree(project, org.id, depth + 1))
    return out


class _Guard:
    """Pure ASGI middleware: refuses large or unsized bodies and requests from other sites, and sets
    the security headers on every response."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        if scope["method"] not in ("GET", "HEAD", "POST"):
            return await _plain(send, 405, "method not allowed")
        if scope["method"] == "POST":
            length = headers.get("content-length", "")
            if not length.isdigit():
                return await _plain(send, 411, "a request body needs a Content-Length")
            if int(length) > MAX_BODY:
                return await _plain(send, 413, f"the request is larger than {MAX_BODY:,} bytes")
            origin = headers.get("origin")
            if origin and origin != "null" and origin.split("://", 1)[-1] != headers.get("host", ""):
                return await _plain(send, 403, "requests from other sites are refused")
        received = 0

        async def bounded():
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > MAX_BODY:
                    raise _TooLarge()
            return message

        async def with_headers(message):
            if message["type"] == "http.response.start":
                h = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"content-security-policy"]
                csp = next((v for k, v in message.get("headers", []) if k.lower() == b"content-security-policy"),
                           APP_CSP.encode())
                h += [(b"content-security-policy", csp), (b"x-content-type-options", b"nosniff"),
                      (b"referrer-policy", b"no-referrer"), (b"cache-control", b"no-store"),
                      (b"x-frame-options", b"SAMEORIGIN")]
                message = {**message, "headers": h}
            await send(message)

        try:
            await self.app(scope, bounded, with_headers)
        except _TooLarge:
            await _plain(send, 413, f"the request is larger than {MAX_BODY:,} bytes")


class _TooLarge(Exception):
    pass


async def _plain(send, status: int, text: str) -> None:
    body = (text + "\n").encode("utf-8")
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"text/plain; charset=utf-8"),
                            (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


def serve(root: Path, host: str, port: int, echo) -> None:
    """Run the editor until interrupted, printing the adviser's address first."""
    import uvicorn

    keys = Keys(root)
    app = create_app(root, keys)
    shown = "localhost" if host in ("127.0.0.1", "::1") else host
    echo(f"policypack editor for {Path(root).resolve()}")
    echo(f"Adviser's address (keep it private; anyone with it can edit every organisation):\n"
         f"    http://{shown}:{port}/?token={keys.adviser_token}")
    echo("Give each organisation its own link from the adviser's page, or with `policypack serve --link ID`.")
    uvicorn.run(app, host=host, port=port, log_level="warning", proxy_headers=True, server_header=False)


def link_command(root: Path, oid: str, days: int, base: str) -> str:
    return f"{base.rstrip('/')}/link/{Keys(root).issue(oid, days)}"


__all__ = ["create_app", "serve", "link_command"]
