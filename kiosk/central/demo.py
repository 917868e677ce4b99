"""Demo data of `kiosk central seed`: synthetic card holders, the documents released to them, and the approval
system's cases with their steps so far (case progress; dates relative to the day of seeding).

The ID numbers below are made up: valid GB 11643 check digits and birth
dates (so a kiosk's checks accept them), with the unusual sequence codes
097-099 so that they are unlikely to be anyone's. They never name a real
person, and the platform itself only ever stores their keyed hashes.

The PDFs are generated at seed time with reportlab, deterministically (the
same bytes every run, so seeding twice changes nothing). Chinese text is set
in an installed TrueType CJK font, embedded as a subset so the file prints
anywhere; without one, reportlab's built-in CID font STSong-Light is used,
which a PDF viewer must supply itself.
"""
from __future__ import annotations

import io
import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

from kiosk.hardware.masking import mask_id_number
from kiosk.wire.hashing import holder_hash

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DemoHolder:
    id_number: str
    label: str  # how the demo refers to this holder (no name: the platform never stores one)


@dataclass(frozen=True)
class DemoDocument:
    doc_id: str
    title: str
    pages: int
    holders: tuple[int, ...]  # indexes into DEMO_HOLDERS
    issuer: str
    body: tuple[str, ...]


DEMO_HOLDERS = (
    DemoHolder("110101199003070994", "demo holder 1: two documents"),
    DemoHolder("310104196205180991", "demo holder 2: two documents, one shared with holder 3"),
    DemoHolder("330106200109090983", "demo holder 3: one document"),
    DemoHolder("440304198512310994", "demo holder 4: nothing released"),
    # the kiosk simulator's default card (kiosk/sim/idcard.py demo_resident()), so that reading
    # the demo card at a kiosk on simulators finds documents end to end
    DemoHolder("110105199003071239", "the kiosk simulator's demo card: two documents"),
)

DEMO_DOCUMENTS = (
    DemoDocument("DEMO-2026-0001", "个人社会保险参保缴费证明", 1, (0,), "示例市社会保险事业管理中心", (
        "兹证明该参保人在本市参加企业职工基本养老保险、失业保险、工伤保险和职工基本医疗保险。",
        "参保起始年月：2014年07月；截至本证明出具之日累计缴费月数：148个月；当前参保状态：正常参保。",
        "本证明仅证明参保缴费情况，可通过“示例政务服务网”扫码核验真伪。",
    )),
    DemoDocument("DEMO-2026-0002", "不动产登记结果告知书", 2, (0,), "示例市不动产登记中心", (
        "申请人于2026年11月10日申请的不动产转移登记已办理完毕，登记结果如下。",
        "不动产单元号：110101 001001 GB00001 F00010001；坐落：示例市示例区示例路1号1幢1单元101室。",
        "权利类型：国有建设用地使用权/房屋所有权；登记原因：买卖；不动产权证书已制作完成，可至自助柜领取。",
    )),
    DemoDocument("DEMO-2026-0003", "户籍证明", 1, (1,), "示例市公安局示例派出所", (
        "经查询人口信息管理系统，该居民户籍登记于本辖区，户籍地址：示例市示例区示例街道示例社区。",
        "本证明用于办理相关事务，自出具之日起三个月内有效。",
    )),
    DemoDocument("DEMO-2026-0004", "个人所得税纳税记录", 1, (1, 2), "国家税务总局示例市税务局", (
        "纳税人在2025年1月至2025年12月期间的个人所得税纳税记录如下（金额单位：元）。",
        "工资薪金所得：申报收入 96,000.00；已缴税额 1,380.00。",
        "本记录可通过个人所得税APP或自然人电子税务局扫码查验。",
    )),
    DemoDocument("DEMO-2026-0005", "公积金缴存证明", 1, (2,), "示例市住房公积金管理中心", (
        "该职工在本中心开立个人住房公积金账户，账户状态：正常缴存。",
        "月缴存额：1,200.00元；最近一次缴存月份：2026年10月。",
    )),
    DemoDocument("DEMO-2026-0006", "个人社会保险参保缴费证明", 1, (4,), "示例市社会保险事业管理中心", (
        "兹证明该参保人在本市参加企业职工基本养老保险和职工基本医疗保险。",
        "参保起始年月：2012年03月；截至本证明出具之日累计缴费月数：176个月；当前参保状态：正常参保。",
        "本证明仅证明参保缴费情况，可通过“示例政务服务网”扫码核验真伪。",
    )),
    DemoDocument("DEMO-2026-0007", "不动产登记信息查询结果", 2, (4,), "示例市不动产登记中心", (
        "经查询不动产登记簿，权利人名下登记的不动产信息如下。",
        "不动产单元号：110105 002003 GB00002 F00020003；坐落：示例市示例区示例大街8号2幢3单元302室。",
        "权利类型：国有建设用地使用权/房屋所有权；权利性质：出让/商品房；用途：住宅。",
    )),
)


def releases(key: str | bytes) -> list[tuple[str, str]]:
    """(doc_id, holder keyed hash) of every demo release, under the deployment's hash key."""
    return [(d.doc_id, holder_hash(key, DEMO_HOLDERS[i].id_number)) for d in DEMO_DOCUMENTS for i in d.holders]


@dataclass(frozen=True)
class DemoStep:
    """A step of a demo case as the approval system reports it (POST /api/v1/cases/{case}/events), some days
    before the day the demo is seeded."""
    step: str
    status: str               # done | current
    days_ago: float
    final: bool = False
    note: str | None = None


@dataclass(frozen=True)
class DemoCase:
    """A case as the approval system would post it (POST /api/v1/cases), with its steps so far: for staff to
    deposit at a demo kiosk by its number or barcode, and for its holder to follow at the kiosk (case progress).
    The mobile numbers are in the range set aside for fiction."""
    case_number: str
    item_name: str
    holder: int               # index into DEMO_HOLDERS
    mobile: str
    needs_id_card: bool
    hold_days: int
    staff_mobile: str | None = None
    department: str | None = None
    promised_in_days: int | None = None    # the promised date, days after the day of seeding (negative: passed)
    steps: tuple[DemoStep, ...] = ()


DEMO_CASES = (
    # finished: its certificate waits to be put into a locker (the tour's deposit scans it)
    DemoCase("2026051800099", "营业执照（副本）", 4, "13800138000", True, 7, staff_mobile="13800138001",
             department="市场监督管理局", promised_in_days=1, steps=(
                 DemoStep("受理", "done", 6.2), DemoStep("审查", "done", 4.1), DemoStep("决定", "done", 2.3),
                 DemoStep("制证", "done", 1.1, final=True))),
    DemoCase("2026051800098", "不动产权证书", 0, "13800138002", False, 14, department="不动产登记中心",
             promised_in_days=5, steps=(
                 DemoStep("受理", "done", 10.3), DemoStep("审核", "done", 6.2), DemoStep("登簿", "done", 3.4),
                 DemoStep("缮证", "done", 2.1, final=True))),
    # in progress, in time
    DemoCase("2026051800097", "食品经营许可证", 4, "13800138004", True, 7, department="市场监督管理局",
             promised_in_days=4, steps=(DemoStep("受理", "done", 3.2), DemoStep("审查", "current", 2.1))),
    # in progress, past its promised date
    DemoCase("2026051800096", "建设工程规划许可证", 4, "13800138006", True, 7, department="自然资源和规划局",
             promised_in_days=-3, steps=(
                 DemoStep("受理", "done", 20.2), DemoStep("材料审查", "done", 15.1),
                 DemoStep("现场勘验", "current", 10.3, note="需现场勘验，工作人员将电话联系您"))),
)
HALL_ZONE = timezone(timedelta(hours=8))   # the demo hall's clock


def _day(now: float, days: float) -> datetime:
    return (datetime.fromtimestamp(now, HALL_ZONE) + timedelta(days=days)).replace(second=0, microsecond=0)


def case_uploads(now: float | None = None) -> list[dict]:
    """The demo cases as POST /api/v1/cases bodies; with `now` (unix seconds, the platform's clock) also
    their acceptance and promised date, relative to that day."""
    out = []
    for c in DEMO_CASES:
        body = {"case_number": c.case_number, "item_name": c.item_name,
                "applicant_id_number": DEMO_HOLDERS[c.holder].id_number, "applicant_mobile": c.mobile,
                "needs_id_card": c.needs_id_card, "hold_days": c.hold_days,
                **({"staff_mobile": c.staff_mobile} if c.staff_mobile else {}),
                **({"department": c.department} if c.department else {})}
        if now is not None and c.steps:
            body["accepted_at"] = _day(now, -c.steps[0].days_ago).isoformat()
        if now is not None and c.promised_in_days is not None:
            body["promised_by"] = _day(now, c.promised_in_days).date().isoformat()
        out.append(body)
    return out


def case_events(now: float) -> list[tuple[str, dict]]:
    """(case number, POST /api/v1/cases/{case}/events body) of every demo step, dated before `now`. The event
    ids are the case's and the step's: seeding again on another day posts nothing new."""
    return [(c.case_number, {"event_id": f"demo-{c.case_number}-{n}", "step": s.step, "status": s.status,
                             "at": _day(now, -s.days_ago).isoformat(), "final": s.final,
                             **({"note": s.note} if s.note else {})})
            for c in DEMO_CASES for n, s in enumerate(c.steps)]


def builtin_cjk_font() -> str:
    """reportlab's built-in Simplified-Chinese CID font (needs no file; a viewer supplies the glyphs)."""
    from kiosk.fonts import builtin_pdf_font

    return builtin_pdf_font()


def cjk_font() -> tuple[str, str]:
    """(reportlab font name, where it came from): an installed TrueType CJK font, embedded as a
    subset, when there is one; else the built-in STSong-Light."""
    from kiosk.fonts import pdf_font

    return pdf_font()


def render_pdf(doc: DemoDocument, holder_id_numbers: list[str], issued: date = date(2026, 11, 20),
               font: str | None = None) -> bytes:
    """The PDF of one demo document: A4, Chinese text, marked as a demo on every page."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm
    from reportlab.pdfgen.canvas import Canvas

    font = font or cjk_font()[0]
    buf = io.BytesIO()
    c = Canvas(buf, pagesize=A4, invariant=1)  # invariant: no timestamps, so the same bytes every run
    c.setTitle(doc.title)
    c.setAuthor(doc.issuer)
    width, height = A4
    left, text_width = 25 * mm, width - 50 * mm
    masked = "、".join(mask_id_number(n) for n in holder_id_numbers)
    for page in range(1, doc.pages + 1):
        c.setFont(font, 22)
        c.drawCentredString(width / 2, height - 35 * mm, doc.title)
        c.setFont(font, 11)
        c.drawString(left, height - 50 * mm, f"文书编号：{doc.doc_id}")
        c.drawString(left, height - 57 * mm, f"证件号码：{masked}")
        y = height - 75 * mm
        lines = doc.body if page == 1 else ("（续页）以下空白。",)
        for paragraph in lines:
            for line in wrap(paragraph, font, 13, text_width):
                c.setFont(font, 13)
                c.drawString(left, y, line)
                y -= 8 * mm
            y -= 3 * mm
        c.setFont(font, 12)
        c.drawRightString(width - left, 60 * mm, doc.issuer)
        c.drawRightString(width - left, 52 * mm, f"{issued.year}年{issued.month}月{issued.day}日")
        c.setFont(font, 10)
        c.setFillGray(0.4)
        c.drawCentredString(width / 2, 20 * mm,
                            f"示例文件 仅供演示 不具法律效力  DEMO ONLY    第 {page} 页 / 共 {doc.pages} 页")
        c.setFillGray(0)
        c.showPage()
    c.save()
    return buf.getvalue()


def wrap(text: str, font: str, size: float, width: float) -> list[str]:
    """Lines of at most `width` points; Chinese breaks between any two characters."""
    from reportlab.pdfbase.pdfmetrics import stringWidth

    lines, line = [], ""
    for ch in text:
        if line and stringWidth(line + ch, font, size) > width:
            lines.append(line)
            line = ""
        line += ch
    return lines + [line] if line or not lines else lines
