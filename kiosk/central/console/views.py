"""The console's pages, `/console/...`: server-rendered HTML (Jinja2), one form per change, no script needed.

Every page but the sign-in page needs a session (a cookie, kiosk/central/console/accounts.py); without one
the browser is sent to `/console/login?next=…`. Every POST carries the session's CSRF token in a hidden
field (the sign-in form a token of its own, in a cookie and the form, as the session does not exist yet);
one that does not match is refused with 403 and changes nothing. The session cookie is HttpOnly,
SameSite=Strict and Secure; over plain HTTP the console only signs in on loopback (a development
platform, the tests), and elsewhere says to put it behind the TLS proxy of docs/deploy.md.

The database work runs on the threadpool (the routes are plain functions): the console is for a few
people, and its pages never hold up a kiosk's request on the event loop.
"""
from __future__ import annotations

import gettext
import hmac
import ipaddress
import secrets
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape

from kiosk import i18n
from kiosk.central.console import accounts, queries
from kiosk.central.console.accounts import Session, SignInRefused
from kiosk.central.db import CentralDB

HERE = Path(__file__).resolve().parent
COOKIE = "kiosk_console"
LOGIN_COOKIE = "kiosk_console_login"
LANG_COOKIE = "kiosk_console_lang"
DEFAULT_LANGUAGE = "zh_CN"
# the console writes times on the clock of China's halls; a kiosk's own times are shown as it wrote them
DISPLAY_TZ = timezone(timedelta(hours=8))
HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; "
                               "form-action 'self'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}

router = APIRouter(prefix="/console", include_in_schema=False)
# the last routes of the console: an address none of its pages has is "not found" to a signed-in person,
# and the sign-in page to anyone else
fallback = APIRouter(prefix="/console", include_in_schema=False)


class LoginRequired(Exception):
    def __init__(self, next_path: str):
        self.next_path = next_path


class Refused(Exception):
    """403: the session may not do this, or its form's CSRF token is wrong. `message` is a msgid of the
    console's catalog (marked with `msg`), shown in the reader's language."""

    def __init__(self, message: str):
        self.message = message


def msg(message: str) -> str:
    """Marks a msgid for the console's catalog (tests/console/test_console_i18n.py extracts `msg(...)`)."""
    return message


# --- language and rendering ---------------------------------------------------------------------------------

# The kiosk's services and screens by the names the citizen saw on the kiosk's home screen (transactions,
# ratings and help requests carry the key): a key not listed here is shown as it came.
SERVICE_NAMES = {
    "home": msg("Home screen"),
    "pickup": msg("Collect a certificate"),
    "handin": msg("Hand in materials"),
    "guides": msg("Service guides"),
    "documents": msg("Print documents"),
    "forms": msg("Fill in a form"),
    "tickets": msg("Take a number"),
    "progress": msg("Case progress"),
    "fees": msg("Pay a fee notice"),
    "payment": msg("Paying"),
    "rating": msg("Rating the service"),
}


def _service(tr: gettext.NullTranslations):
    def service(key: str | None) -> str:
        return tr.gettext(SERVICE_NAMES[key]) if key in SERVICE_NAMES else (key or "—")
    return service

_catalogs: dict[str, gettext.NullTranslations] = {}


def translations(lang: str) -> gettext.NullTranslations:
    if lang not in _catalogs:
        with i18n.checked_mo(lang, domain="console").open("rb") as f:
            _catalogs[lang] = gettext.GNUTranslations(f)
    return _catalogs[lang]


def language(request: Request) -> str:
    lang = request.cookies.get(LANG_COOKIE)
    return lang if lang in i18n.LANGUAGES else DEFAULT_LANGUAGE


_envs: dict[str, Environment] = {}


def environment(lang: str) -> Environment:
    """The templates with one language's translations installed: one environment per language, each with
    its own compiled templates, so that no request changes what another is rendering."""
    if lang not in _envs:
        env = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(default=True),
                          extensions=["jinja2.ext.i18n"], trim_blocks=True, lstrip_blocks=True)
        env.install_gettext_translations(translations(lang), newstyle=True)
        _envs[lang] = env
    return _envs[lang]


def _when(ts: float | None, form: str = "%Y-%m-%d %H:%M") -> str:
    if ts is None:
        return "—"
    return datetime.fromtimestamp(ts, DISPLAY_TZ).strftime(form)


def _ago(tr: gettext.NullTranslations, now: float):
    def ago(ts: float | None) -> str:
        if ts is None:
            return tr.gettext("never")
        s = max(0, now - ts)
        if s < 120:
            return tr.gettext("%(n)d s ago") % {"n": s}
        if s < 7200:
            return tr.gettext("%(n)d min ago") % {"n": s // 60}
        if s < 172800:
            return tr.gettext("%(n)d h ago") % {"n": s // 3600}
        return tr.gettext("%(n)d days ago") % {"n": s // 86400}
    return ago


def render(request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
    lang = language(request)
    tr = translations(lang)
    now = request.app.state.db.clock()
    html = environment(lang).get_template(template).render(
        lang=lang, other_lang="en" if lang == "zh_CN" else "zh_CN", when=_when, ago=_ago(tr, now), now=now,
        service=_service(tr),
        here=request.url.path + (f"?{request.url.query}" if request.url.query else ""), **context)
    return HTMLResponse(html, status_code=status, headers=HEADERS)


# --- sessions -------------------------------------------------------------------------------------------------

def _db(request: Request) -> CentralDB:
    return request.app.state.db


def _loopback(request: Request) -> bool:
    host = request.client.host if request.client else ""
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host in ("localhost", "testclient")


def _secure(request: Request) -> bool:
    return request.url.scheme == "https"


def current(request: Request) -> Session:
    token = request.cookies.get(COOKIE, "")
    db = _db(request)
    with db.begin() as conn:
        found = accounts.session(conn, db.clock(), token)
    if found is None:
        raise LoginRequired(request.url.path + (f"?{request.url.query}" if request.url.query else ""))
    return found


Signed = Annotated[Session, Depends(current)]


def check_csrf(session: Session, token: str) -> None:
    if not hmac.compare_digest(session.csrf.encode(), (token or "").encode()):
        raise Refused(msg("The form's security token does not match this session: reload the page and try again."))


def _safe_next(value: str | None) -> str:
    if value and value.startswith("/console/") and not value.startswith("//") and "\\" not in value:
        return value
    return "/console/fleet"


def install(app) -> None:
    """Mount the console on the platform's app: its static files, its pages (this module's and those of
    `PAGES`, each module an APIRouter `router` with prefix /console), and the fallback last."""
    import importlib

    from fastapi.staticfiles import StaticFiles

    app.mount("/console/static", StaticFiles(directory=HERE / "static"), name="console-static")

    @app.exception_handler(LoginRequired)
    async def to_login(request: Request, exc: LoginRequired):
        return RedirectResponse(f"/console/login?next={quote(exc.next_path, safe='')}", status_code=303,
                                headers={"Cache-Control": "no-store"})

    @app.exception_handler(Refused)
    async def refused(request: Request, exc: Refused):
        return render(request, "refused.html", status=403, message=translations(language(request)).gettext(
            exc.message), person=None)

    app.include_router(router)
    for name in PAGES:
        app.include_router(importlib.import_module(f"kiosk.central.console.{name}").router)
    app.include_router(fallback)


# the console's other pages, one module each (kiosk/central/console/NAME.py with its `router`)
PAGES: tuple[str, ...] = ("config_page", "ratings", "locker", "activity", "help_requests")


# --- sign-in and sign-out --------------------------------------------------------------------------------------

@router.get("")
def home(session: Signed):
    return RedirectResponse("/console/fleet", status_code=303)


def _login_form(request: Request, next_path: str | None, *, status: int = 200, error: str | None = None,
                name: str = "") -> HTMLResponse:
    """The sign-in page with a fresh token for its form, also set in a cookie that only /console/login sees."""
    token = secrets.token_urlsafe(24)
    resp = render(request, "login.html", status=status, next=_safe_next(next_path), login_csrf=token, error=error,
                  insecure=not _secure(request) and not _loopback(request), person=None, name=name)
    resp.set_cookie(LOGIN_COOKIE, token, httponly=True, samesite="strict", secure=_secure(request),
                    path="/console/login", max_age=3600)
    return resp


@router.get("/login")
def login_page(request: Request, next: str | None = None):
    return _login_form(request, next)


@router.post("/login")
def login(request: Request, name: Annotated[str, Form(max_length=64)] = "",
          password: Annotated[str, Form(max_length=1024)] = "", csrf: Annotated[str, Form(max_length=100)] = "",
          next: Annotated[str, Form(max_length=2000)] = ""):
    expected = request.cookies.get(LOGIN_COOKIE, "")
    if not expected or not hmac.compare_digest(expected.encode(), csrf.encode()):
        raise Refused(msg("The sign-in form's security token does not match: open the sign-in page again."))
    if not _secure(request) and not _loopback(request):
        raise Refused(msg("The console signs in over HTTPS only: open it through the platform's TLS address."))
    db = _db(request)
    addr = request.client.host if request.client else "-"
    error = None
    with db.begin() as conn:
        try:
            session = accounts.sign_in(conn, db.clock(), name.strip(), password, addr)
        except SignInRefused as exc:
            error = exc
    if error is not None:
        tr = translations(language(request))
        message = (tr.gettext("Too many failed sign-ins: try again in %(min)d minutes.")
                   % {"min": max(1, round(error.retry_after_s / 60))} if error.reason == "throttled" else
                   tr.gettext("Wrong account name or password."))
        return _login_form(request, next, status=401 if error.reason == "wrong" else 429, error=message, name=name)
    resp = RedirectResponse(_safe_next(next), status_code=303, headers={"Cache-Control": "no-store"})
    resp.set_cookie(COOKIE, session.token, httponly=True, samesite="strict", secure=_secure(request),
                    path="/console", max_age=accounts.LIFETIME_S)
    resp.delete_cookie(LOGIN_COOKIE, path="/console/login")
    return resp


@router.post("/logout")
def logout(request: Request, session: Signed, csrf: Annotated[str, Form(max_length=100)] = ""):
    check_csrf(session, csrf)
    db = _db(request)
    with db.begin() as conn:
        accounts.sign_out(conn, db.clock(), request.cookies.get(COOKIE, ""), session.person.name)
    resp = RedirectResponse("/console/login", status_code=303)
    resp.delete_cookie(COOKIE, path="/console")
    return resp


@router.get("/lang")
def switch_language(to: str = DEFAULT_LANGUAGE, next: str | None = None):
    resp = RedirectResponse(_safe_next(next) if next != "/console/login" else "/console/login", status_code=303)
    if to in i18n.LANGUAGES:
        resp.set_cookie(LANG_COOKIE, to, samesite="lax", path="/console", max_age=365 * 86400)
    return resp


# --- pages ------------------------------------------------------------------------------------------------------

def page(request: Request, session: Session, template: str, **context: Any) -> HTMLResponse:
    """A page for a signed-in person: the template with the person and the session's CSRF token."""
    return render(request, template, person=session.person, csrf=session.csrf, **context)


@router.get("/fleet")
def fleet_page(request: Request, session: Signed, hall: str | None = None, problem: str | None = None):
    db = _db(request)
    with db.reading() as conn:
        now = db.clock()
        everyone = queries.fleet(conn, session.person, now)
        wanted = queries.problem_filter(problem)
        # the filters from the rows read once for the counts (one pass over a thousand kiosks, not two)
        shown = [r for r in everyone if (not hall or r.hall == hall) and (not wanted or wanted in r.problems)]
        halls = queries.halls(conn, session.person)
    counts = {p: sum(p in r.problems for r in everyone) for p in queries.PROBLEMS}
    return page(request, session, "fleet.html", rows=shown, total=len(everyone),
                 online=sum(r.online for r in everyone), counts=counts, halls=halls, hall=hall or "",
                 problem=queries.problem_filter(problem) or "", problems=queries.PROBLEMS)


@router.get("/kiosks/{kiosk_id}")
def kiosk_page(request: Request, session: Signed, kiosk_id: str):
    db = _db(request)
    with db.reading() as conn:
        now = db.clock()
        row = queries.kiosk(conn, session.person, now, kiosk_id)
        if row is None:
            return render(request, "not_found.html", status=404, person=session.person, csrf=session.csrf,
                          what=kiosk_id)
        days = queries.availability(conn, kiosk_id, now, utc_offset_s=int(DISPLAY_TZ.utcoffset(None).total_seconds()))
        open_alarms = queries.alarms(conn, session.person, now, kiosk_id=kiosk_id)
        cleared = queries.alarms(conn, session.person, now, state="cleared", kiosk_id=kiosk_id, limit=50)
        recent = queries.recent_transactions(conn, kiosk_id)
    return page(request, session, "kiosk.html", k=row, days=days, open_alarms=open_alarms, cleared=cleared,
                 recent=recent)


@router.get("/alarms")
def alarms_page(request: Request, session: Signed, state: str = "open"):
    state = state if state in ("open", "cleared") else "open"
    db = _db(request)
    with db.reading() as conn:
        rows = queries.alarms(conn, session.person, db.clock(), state=state)
    return page(request, session, "alarms.html", rows=rows, state=state)


def noted_change(request: Request, session: Session, csrf: str, what: str, change, back: str) -> Response:
    """A POST that marks one row (an alarm acknowledged, a help request handled) with a note: the form's
    CSRF token checked, an auditor refused, `change(conn, person, now)` in one transaction; a row the person
    does not see is "not found"; then back to `back` (the form's `next`, kept to the console)."""
    check_csrf(session, csrf)
    if not session.person.may("acknowledge"):
        raise Refused(msg("An auditor's account reads the console and changes nothing."))
    db = _db(request)
    try:
        with db.begin() as conn:
            change(conn, session.person, db.clock())
    except queries.NotFound:
        return render(request, "not_found.html", status=404, person=session.person, csrf=session.csrf, what=what)
    return RedirectResponse(_safe_next(back), status_code=303)


@router.post("/alarms/{raised_id}/acknowledge")
def acknowledge(request: Request, session: Signed, raised_id: str,
                note: Annotated[str, Form(max_length=500)] = "", csrf: Annotated[str, Form(max_length=100)] = "",
                next: Annotated[str, Form(max_length=2000)] = ""):
    return noted_change(request, session, csrf, raised_id,
                        lambda conn, person, now: queries.acknowledge(conn, person, now, raised_id, note.strip()),
                        next or "/console/alarms")


@router.get("/audit")
def audit_page(request: Request, session: Signed, before: int | None = None):
    db = _db(request)
    with db.reading() as conn:
        rows = queries.audit_log(conn, session.person, before=before)
    return page(request, session, "audit.html", rows=rows)


@fallback.get("/{rest:path}")
def unknown(request: Request, rest: str, session: Signed):
    return render(request, "not_found.html", status=404, person=session.person, csrf=session.csrf, what=rest)
