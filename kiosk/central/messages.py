"""The texts of the messages, one per template, and the parameters they are made of.

The `file` and `webhook` gateways send the whole text made here; a commercial SMS platform sends only a
template registered with it beforehand, filled with some of the parameters (docs/sms.md: which ones, in
which order). Every message carries all of its template's parameters below, each a string; `id_note` and
`place_note` may be empty. The texts are fixed Chinese, not translated: what the applicant gets from the
hall, in the hall's language.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

TEXTS = {
    "pickup_ready": "您办理的{item}已存入{hall}{place_note}的自助取件柜，取件码{code}，请于{deadline}前领取"
                    "{id_note}。取件二维码：{link}",
    "pickup_reminder": "温馨提醒：您存放在{hall}自助取件柜的{item}将于{deadline}到期，取件码{code}，请及时领取"
                       "{id_note}。取件二维码：{link}",
    "pickup_overdue": "您存放在{hall}自助取件柜的{item}已于{deadline}到期，取件码{code}仍可使用，请尽快领取；"
                      "工作人员取回后请到服务窗口领取。取件二维码：{link}",
    "handin_received": "案件{case}的补交材料已于{time}投入{hall}自助柜（{kiosk}）{door}号柜门，回执号{receipt_no}，"
                       "请及时取回办理。",
}
PARAMS = {template: sorted({p.split("}")[0] for p in text.split("{")[1:]}) for template, text in TEXTS.items()}


def local(t: float, offset_s: int) -> datetime:
    return datetime.fromtimestamp(t, timezone(timedelta(seconds=offset_s)))


def short_date(t: float, offset_s: int) -> str:
    d = local(t, offset_s)
    return f"{d.month}月{d.day}日"


def long_date(t: float, offset_s: int) -> str:
    d = local(t, offset_s)
    return f"{d.year}年{d.month}月{d.day}日"


def pickup_params(*, case: str, item: str, hall: str, place: str, due_at: float, offset_s: int, code: str, link: str,
                  needs_id_card: bool) -> dict[str, str]:
    return {"case": case, "item": item, "hall": hall, "place_note": f"（{place}）" if place else "", "place": place,
            "deadline": short_date(due_at, offset_s), "code": code, "link": link,
            "id_note": "，领取时请携带本人身份证" if needs_id_card else ""}


def handin_params(*, case: str, hall: str, kiosk: str, door: int, handed_in_at: datetime,
                  receipt_no: str) -> dict[str, str]:
    return {"case": case, "hall": hall, "kiosk": kiosk, "door": str(door), "receipt_no": receipt_no,
            "time": f"{handed_in_at.month}月{handed_in_at.day}日{handed_in_at:%H:%M}"}


def render(template: str, params: dict[str, str]) -> str:
    return TEXTS[template].format(**params)
