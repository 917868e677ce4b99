"""The demo fee-notice issuer: a stand-in for a finance bureau's non-tax revenue system, for demos and tests.

The reference platform's default `[fees] issuer` (kiosk/central/fee_notices.py, the port it implements).
Its notices live in the platform's database (`demo_fee_notices`); `kiosk central seed` puts the demo
ones there (`DEMO_NOTICES`, their dates counted from the day of seeding: one to pay, one of a company to
pay, one paid already, one expired, one of another hall, and one more to pay). The payer's name is stored sealed with the
platform's key, and only its masked form ever leaves this module.

Its numbers have the form of a 缴款码 as this demo defines it: 20 digits, the issuing region's
administrative code (6), the year (2), the department (4), a serial (7) and a Luhn check digit, which
catches one mistyped digit and most swapped neighbours. A real issuer says what its own form is
(`well_formed`).
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import text
from stdnum import luhn

from kiosk.central.fee_notices import HALL_TZ, IssuedNotice, PaidWith
from kiosk.wire.fees import NOTICE_NUMBER, mask_payer

log = logging.getLogger(__name__)

DEMO_HALL = "demo-hall"                  # the demo kiosks' fleet group (kiosk central add-kiosk --group)
DEMO_HALL_NAME = "示例市政务服务中心"
OTHER_HALL = "demo-hall-county"
OTHER_HALL_NAME = "示例县政务服务中心"


@dataclass(frozen=True)
class DemoNotice:
    number: str
    department: str
    payer: str
    payer_kind: str                      # person | company
    items: tuple[tuple[str, int], ...]
    due_in_days: int                     # from the day of seeding; negative: already past
    paid_days_ago: int | None = None     # paid before the demo starts
    hall: str = DEMO_HALL
    hall_name: str = DEMO_HALL_NAME


# the payers are made up; what a kiosk shows of them is masked (张**, 示例*****有限公司)
DEMO_NOTICES = (
    DemoNotice("11010526003100000012", "示例市不动产登记中心", "张三丰", "person",
               (("不动产登记费（住宅）", 8000), ("不动产权证书工本费", 1000)), 30),
    DemoNotice("11010526004200000027", "示例市市场监督管理局", "示例市星河科技有限公司", "company",
               (("计量器具检定费", 36000),), 20),
    DemoNotice("11010526005800000036", "示例市公安局出入境管理支队", "李四", "person",
               (("普通护照工本费", 12000),), 25, paid_days_ago=3),
    DemoNotice("11010526006300000047", "示例市交通运输局", "王小明", "person",
               (("道路运输证工本费", 1000),), -15),
    DemoNotice("11010526007100000054", "示例县自然资源局", "赵六", "person",
               (("土地复垦费", 50000),), 30, hall=OTHER_HALL, hall_name=OTHER_HALL_NAME),
    DemoNotice("11010526004500000065", "示例市住房和城乡建设局", "欧阳明远", "person",
               (("房屋交易登记工本费", 1500), ("房屋面积测绘费", 500)), 10),
)
UNPAID, COMPANY, PAID, EXPIRED, OTHER, SECOND = (n.number for n in DEMO_NOTICES)


class DemoFeeIssuer:
    """The demo issuer over the platform's database (kiosk/central/db.py `CentralDB`); each call is one
    transaction of its own, and a notice is paid once however many workers ask at the same moment."""

    def __init__(self, db):
        self.db = db

    def well_formed(self, number: str) -> bool:
        return bool(NOTICE_NUMBER.match(number)) and luhn.is_valid(number)

    def look_up(self, number: str) -> IssuedNotice | None:
        with self.db.reading() as conn:
            row = conn.execute(text("SELECT * FROM demo_fee_notices WHERE number = :number"),
                               {"number": number}).mappings().fetchone()
        if row is None:
            return None
        return IssuedNotice(row["number"], row["department"], row["hall"], row["hall_name"], row["payer_masked"],
                            tuple((i["name"], i["amount_fen"]) for i in json.loads(row["items"])),
                            row["total_fen"], date.fromisoformat(row["due_date"]), row["paid_by"] is not None,
                            row["paid_at"])

    def mark_paid(self, number: str, payment: PaidWith) -> bool:
        with self.db.begin() as conn:
            # one conditional statement: of two payments at once, the one whose update finds paid_by NULL wins
            won = conn.execute(text("UPDATE demo_fee_notices SET paid_by = :payment_id, paid_at = :paid_at"
                                    " WHERE number = :number AND paid_by IS NULL"),
                               {"payment_id": payment.payment_id, "paid_at": payment.paid_at.timestamp(),
                                "number": number}).rowcount == 1
            if won:
                return True
            paid_by = conn.execute(text("SELECT paid_by FROM demo_fee_notices WHERE number = :number"),
                                   {"number": number}).scalar_one_or_none()
        return paid_by == payment.payment_id   # the same payment again: still True

    def mark_unpaid(self, number: str, payment_id: str) -> None:
        with self.db.begin() as conn:
            conn.execute(text("UPDATE demo_fee_notices SET paid_by = NULL, paid_at = NULL WHERE number = :number"
                              " AND paid_by = :payment_id"), {"number": number, "payment_id": payment_id})

    # -- the demo's own notices ------------------------------------------------------------------------
    def put(self, notice: DemoNotice, today: date) -> bool:
        """Store a notice unless its number is there already (seeding twice changes nothing); True when new."""
        if not self.well_formed(notice.number):
            raise ValueError(f"demo notice {notice.number}: not 20 digits with a Luhn check digit")
        now = self.db.clock()
        paid_at = None
        if notice.paid_days_ago is not None:
            paid_at = datetime.combine(today - timedelta(days=notice.paid_days_ago), datetime.min.time(),
                                       HALL_TZ).replace(hour=10).timestamp()
        items = [{"name": n, "amount_fen": a} for n, a in notice.items]
        with self.db.begin() as conn:
            return conn.execute(text(
                "INSERT INTO demo_fee_notices (number, department, hall, hall_name, payer, payer_masked, items,"
                " total_fen, due_date, paid_by, paid_at, created_at) VALUES (:number, :department, :hall, :hall_name,"
                " :payer, :payer_masked, :items, :total_fen, :due_date, :paid_by, :paid_at, :now)"
                " ON CONFLICT (number) DO NOTHING"),
                {"number": notice.number, "department": notice.department, "hall": notice.hall,
                 "hall_name": notice.hall_name, "payer": self.db.seal.seal(notice.payer, f"fee_notice:{notice.number}"),
                 "payer_masked": mask_payer(notice.payer, notice.payer_kind),
                 "items": json.dumps(items, ensure_ascii=False), "total_fen": sum(a for _n, a in notice.items),
                 "due_date": (today + timedelta(days=notice.due_in_days)).isoformat(),
                 "paid_by": "demo/paid-before" if paid_at is not None else None, "paid_at": paid_at,
                 "now": now}).rowcount == 1

    def seed(self, today: date | None = None) -> list[dict]:
        """The demo notices, dated from `today` (the hall's date now by default)."""
        today = today or datetime.fromtimestamp(self.db.clock(), HALL_TZ).date()
        out = []
        for notice in DEMO_NOTICES:
            new = self.put(notice, today)
            out.append({"number": notice.number, "department": notice.department,
                        "payer": mask_payer(notice.payer, notice.payer_kind), "hall": notice.hall,
                        "total_fen": sum(a for _n, a in notice.items), "new": new})
        return out


def demo(settings: dict, db) -> DemoFeeIssuer:
    """The plug-in `[fees] issuer` names by default: the demo issuer over the platform's own database."""
    return DemoFeeIssuer(db)
