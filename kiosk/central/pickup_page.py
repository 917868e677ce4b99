"""The applicant's pickup page, `GET /p/{token}`: the link in the notice.

No login: the 128-bit token (kiosk/central/notice_key.py) is the key to the page, and the platform holds only
its SHA-256. The page shows the item, the hall, where the locker stands, the deadline and, while the item is
held, the pickup code as text and as a QR code holding `KIOSK-PICKUP:<code>`, which the kiosk's scanner
reads at the pickup screen. A collected item's page says so with the date; a recalled one sends the applicant
to the hall's window. One self-contained page in Chinese for a phone's browser: inline style, the QR code as
inline SVG, nothing loaded from elsewhere; never cached, never sent on as a referrer.
"""
from __future__ import annotations

import html
import json
import logging
import re
from dataclasses import dataclass

import qrcode
import qrcode.image.svg
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from sqlalchemy import Connection, text

from kiosk.central import messages, notice_key
from kiosk.wire import sealed
from kiosk.wire.cases import PICKUP_QR_PREFIX

log = logging.getLogger(__name__)

HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Robots-Tag": "noindex, nofollow",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; "
                               "form-action 'none'; frame-ancestors 'none'",
}
STYLE = """
body{margin:0;font-family:system-ui,-apple-system,"PingFang SC","Microsoft YaHei","Noto Sans CJK SC",sans-serif;
background:#f3f5f8;color:#1d2733;line-height:1.6}
main{max-width:30rem;margin:0 auto;padding:1.2rem}
h1{font-size:1.35rem;margin:.4rem 0 1rem}
.card{background:#fff;border-radius:12px;padding:1rem 1.2rem;margin-bottom:1rem;box-shadow:0 1px 3px #0002}
dl{margin:0}dt{color:#5b6878;font-size:.9rem}dd{margin:0 0 .6rem;font-size:1.05rem}
.code{font-size:2.4rem;letter-spacing:.3rem;font-weight:700;text-align:center;margin:.2rem 0}
.qr{background:#fff;padding:.6rem;margin:0 auto;max-width:17rem}.qr svg{display:block;width:100%;height:auto}
.note{color:#5b6878;font-size:.95rem}.warn{color:#a33b00}.done{font-size:1.6rem;font-weight:700;color:#1a7f37}
.done.back{color:#a33b00}
"""
# the scanner reads what a locker's pickup code is: digits only
_CODE = re.compile(r"^[0-9]{4,12}$")


@dataclass(frozen=True)
class PickupView:
    state: str            # held | collected | recalled
    item: str
    hall: str
    place: str
    due_at: float | None
    ended_at: float | None
    offset_s: int
    needs_id_card: bool
    code: str | None      # only while held


def find(conn: Connection, key: X25519PrivateKey | None, token: str, now: float) -> PickupView | None:
    """What the page of `token` shows; None when no notice has that token."""
    if not notice_key.TOKEN.match(token):
        return None
    row = conn.execute(text(
        "SELECT n.state, n.hall, n.place, n.due_at, n.ended_at, n.utc_offset_s, n.kiosk_id,"
        " coalesce(c.item_name, n.item_name, '') AS item, coalesce(c.needs_id_card, 0) AS needs_id_card, t.data"
        " FROM notices n LEFT JOIN cases c ON c.case_number = n.case_number JOIN transactions t ON t.id = n.deposit_id"
        " WHERE n.token_sha256 = :digest"), {"digest": notice_key.token_digest(token)}).mappings().first()
    if row is None:
        return None
    code = None
    if row["state"] == "held" and key is not None:
        data = json.loads(row["data"])
        try:
            code = sealed.open_sealed(key, data.get("sealed_code"),
                                      sealed.binding(row["kiosk_id"], data["case_number"], data["code_hash"]))
        except (sealed.SealError, KeyError) as exc:
            log.error("pickup page: the code of a held item does not open (%s)", exc)
        if code is not None and not _CODE.match(code):
            code = None
    return PickupView(row["state"], row["item"], row["hall"] or "", row["place"] or "", row["due_at"], row["ended_at"],
                      row["utc_offset_s"], bool(row["needs_id_card"]), code)


def qr_svg(code: str) -> str:
    """The pickup QR code as inline SVG: `KIOSK-PICKUP:<code>`, as the kiosk's scanner reads it."""
    qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=4,
                       image_factory=qrcode.image.svg.SvgPathImage)
    qr.add_data(PICKUP_QR_PREFIX + code)
    qr.make(fit=True)
    return qr.make_image().to_string(encoding="unicode")


def _page(title: str, body: str) -> str:
    return ("<!DOCTYPE html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">"
            "<meta name=\"referrer\" content=\"no-referrer\">"
            f"<title>{html.escape(title)}</title><style>{STYLE}</style></head><body><main>{body}</main></body></html>")


def render(view: PickupView, now: float) -> str:
    e = html.escape
    facts = [("物品", view.item), ("存放地点", view.hall + (f"（{view.place}）" if view.place else ""))]
    if view.state == "collected":
        when = messages.long_date(view.ended_at, view.offset_s) if view.ended_at else ""
        head = f"<p class=\"done\">已领取</p><p>您的物品已于{e(when)}从自助取件柜领取。</p>"
        return _page("已领取", f"<h1>取件通知</h1><div class=\"card\">{head}</div>{_facts(facts)}")
    if view.state == "recalled":
        head = (f"<p class=\"done back\">已退回服务窗口</p><p>您的物品已由工作人员从自助取件柜取回，"
                f"请联系{e(view.hall or '大厅')}服务窗口领取。</p>")
        return _page("已退回窗口", f"<h1>取件通知</h1><div class=\"card\">{head}</div>{_facts(facts)}")
    if view.due_at is not None:
        facts.append(("保管期限", messages.long_date(view.due_at, view.offset_s) + "前"))
    notes = []
    if view.due_at is not None and now >= view.due_at:
        notes.append("<p class=\"warn\">已超过保管期限，取件码仍可使用，请尽快领取；工作人员取回后请到服务窗口领取。</p>")
    if view.needs_id_card:
        notes.append("<p class=\"note\">领取时请携带本人身份证。</p>")
    if view.code is None:
        code_card = "<div class=\"card\"><p class=\"warn\">暂时无法显示取件码，请使用短信中的取件码。</p></div>"
    else:
        code_card = (f"<div class=\"card\"><p class=\"note\">取件码</p><p class=\"code\">{e(view.code)}</p>"
                     f"<div class=\"qr\">{qr_svg(view.code)}</div>"
                     "<p class=\"note\">在自助取件柜选择「取件」，扫描此二维码或输入取件码。</p></div>")
    return _page("取件码", f"<h1>取件通知</h1>{''.join(notes)}{code_card}{_facts(facts)}")


def _facts(facts: list[tuple[str, str]]) -> str:
    items = "".join(f"<dt>{html.escape(k)}</dt><dd>{html.escape(v)}</dd>" for k, v in facts if v)
    return f"<div class=\"card\"><dl>{items}</dl></div>"


def not_found() -> str:
    return _page("链接无效", "<h1>链接无效</h1><div class=\"card\"><p>没有找到这条取件通知。请核对短信中的链接，"
                          "或联系办理业务的服务窗口。</p></div>")


class HideTokens(logging.Filter):
    """On the web server's access log: a page's path is logged without its token, which opens the page
    (the pickup page `/p/`, the e-receipt of a fee paid `/r/`)."""

    _PATH = re.compile(r"/([pr])/[^\s?\"]+")

    def _hide(self, text: str) -> str:
        return self._PATH.sub(r"/\1/…", text)

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(self._hide(a) if isinstance(a, str) else a for a in record.args)
        elif isinstance(record.msg, str):
            record.msg = self._hide(record.msg)
        return True


def hide_tokens_in_access_log() -> None:
    access = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, HideTokens) for f in access.filters):
        access.addFilter(HideTokens())
