"""The e-receipt of a fee paid at a kiosk, `GET /r/{token}`: the page behind the QR code on the paper receipt.

No login: the token (128 random bits the kiosk made, kiosk/wire/fees.py) is the key to the page, and the
platform holds only its SHA-256. The page shows the notice, its department, the payer masked (`张*`), the
items, the amount, when and how it was paid and the kiosk's reference; nothing else of the payer. A payment
the platform could not apply to its notice says so (it is owed back, or was given back). One self-contained
page in Chinese, like the pickup page (kiosk/central/pickup_page.py, whose frame and headers it shares):
never cached, never sent on as a referrer, the token never in the access log.
"""
from __future__ import annotations

import html
from datetime import datetime

from kiosk.central.fee_notices import HALL_TZ, ReceiptView
from kiosk.central.pickup_page import HEADERS, _facts, _page

__all__ = ["HEADERS", "not_found", "render"]

CHANNELS = {"card": "银行卡", "wechat_pay": "微信支付", "alipay": "支付宝"}
NOT_APPLIED = {
    "notice_paid": "该缴款码在本次缴费前已经缴清",
    "notice_expired": "该缴款码在缴费时已超过缴款期限",
    "amount_differs": "缴费金额与缴款通知不符",
    "notice_unknown": "未找到该缴款码",
    "notice_other_hall": "该缴款码不属于本服务中心",
}


def yuan(fen: int) -> str:
    return f"¥{fen // 100}.{fen % 100:02d}"


def _when(paid_at: str) -> str:
    try:
        return datetime.fromisoformat(paid_at).astimezone(HALL_TZ).strftime("%Y-%m-%d %H:%M")
    except ValueError:
        return paid_at


def render(view: ReceiptView) -> str:
    e = html.escape
    notice = view.notice or {}
    reference = view.reference if len(view.reference) != 10 else f"{view.reference[:5]}-{view.reference[5:]}"
    facts = [("缴款码", view.fee_notice), ("执收单位", notice.get("department", "")),
             ("缴款人", notice.get("payer_masked", "")), ("缴费金额", yuan(view.amount_fen)),
             ("缴费时间", _when(view.paid_at)), ("支付方式", CHANNELS.get(view.channel, view.channel)),
             ("交易参考号", reference), ("缴费地点", f"{notice.get('hall_name', '')} 自助终端 {view.kiosk_id}".strip())]
    items = "".join(f"<dt>{e(i['name'])}</dt><dd>{e(yuan(i['amount_fen']))}</dd>" for i in notice.get("items", []))
    items_card = f"<div class=\"card\"><p class=\"note\">缴费项目</p><dl>{items}</dl></div>" if items else ""
    if view.state == "paid":
        head = "<p class=\"done\">缴费成功</p><p>该缴款通知已缴清。本页为缴费电子回执，请妥善保存。</p>"
        title = "缴费电子回执"
    elif view.state == "received":
        head = ("<p class=\"done back\">正在登记</p><p>您的缴费已收到，执收单位正在登记入账，"
                "请稍后刷新本页查看结果。</p>")
        title = "缴费登记中"
    elif view.state == "refunded":
        head = "<p class=\"done back\">款项已退回</p><p>该笔缴费未能入账，款项已按原支付方式退回。</p>"
        title = "款项已退回"
    else:
        why = NOT_APPLIED.get(view.reason or "", "该笔缴费未能入账")
        head = (f"<p class=\"done back\">缴费未入账</p><p>{e(why)}。该笔款项将退还给您，请凭交易参考号"
                "到服务大厅服务台办理或拨打服务热线咨询。</p>")
        title = "缴费未入账"
    return _page(title, f"<h1>{e(title)}</h1><div class=\"card\">{head}</div>{items_card}{_facts(facts)}")


def not_found() -> str:
    return _page("回执不存在", "<h1>回执不存在</h1><div class=\"card\"><p>没有找到这张缴费回执。"
                           "刚刚缴费的，请稍后再扫码查看；仍有疑问请凭纸质回执联系服务台。</p></div>")
