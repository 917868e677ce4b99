"""The platform's tables as SQLAlchemy Core metadata: one schema for SQLite and PostgreSQL.

Alembic's revisions (kiosk/central/alembic/versions/) make and change the
tables; this module is what the code queries them through and what
`alembic revision --autogenerate` compares a database against. Times are unix
seconds as double precision; JSON is kept as text (the bytes the platform
serves are the bytes it stored); bodies and PDFs as binary. Columns named
`rowid` are the insertion order where the platform needs one (SQLite's own
rowid, PostgreSQL's identity).
"""
from __future__ import annotations

from sqlalchemy import (BigInteger, CheckConstraint, Column, Double, ForeignKey, Identity, Index, Integer,
                        LargeBinary, MetaData, PrimaryKeyConstraint, Table, Text, UniqueConstraint, text)

metadata = MetaData()

# SQLite makes `INTEGER PRIMARY KEY` its rowid (an alias, growing); PostgreSQL a 64-bit identity
RowId = BigInteger().with_variant(Integer(), "sqlite")
Time = Double()          # unix seconds
Int = BigInteger()       # counts, sequence numbers, amounts in fen


def _rowid() -> Column:
    return Column("rowid", RowId, Identity(), primary_key=True)


kiosks = Table(
    "kiosks", metadata,
    Column("kiosk_id", Text, primary_key=True),
    Column("secret", Text, nullable=False),          # sealed (kiosk/central/sealing.py)
    Column("groups", Text, nullable=False, server_default=text("'[]'")),  # JSON list, config bundle targets
    Column("created_at", Time, nullable=False),
)

operators = Table(
    "operators", metadata,
    Column("name", Text, primary_key=True),
    Column("secret", Text, nullable=False),
    Column("created_at", Time, nullable=False),
)

# one-time enrolment tokens (kiosk/wire/enrolment.py): a kiosk fetches its secret with one; the token's
# SHA-256 only, dropped when used, expired or tried wrongly MAX_FAILURES times
enrolments = Table(
    "enrolments", metadata,
    Column("kiosk_id", Text, primary_key=True),
    Column("token_sha256", Text, nullable=False),
    Column("issued_at", Time, nullable=False),
    Column("expires_at", Time, nullable=False),
    Column("failures", BigInteger, nullable=False, server_default=text("0")),
)

# nonces of authenticated requests, kept until their timestamp leaves the window: a replay is refused
# across a restart and across workers
nonces = Table(
    "nonces", metadata,
    Column("principal", Text, nullable=False),       # "kiosk:ID" or "operator:NAME"
    Column("nonce", Text, nullable=False),
    Column("expires_at", Time, nullable=False),
    PrimaryKeyConstraint("principal", "nonce"),
    Index("nonces_by_expiry", "expires_at"),
    sqlite_with_rowid=False,
)

transactions = Table(
    "transactions", metadata,
    Column("id", Text, primary_key=True),            # the kiosk's idempotency key
    Column("kiosk_id", Text, ForeignKey("kiosks.kiosk_id"), nullable=False),
    Column("seq", Int, nullable=False),
    Column("kind", Text, nullable=False),
    Column("occurred_at", Text, nullable=False),
    Column("boot_id", Text),
    Column("uptime_s", Time),
    Column("data", Text, nullable=False),            # JSON object
    Column("body_sha256", Text, nullable=False),     # of the canonical item: a retry or a conflict
    Column("received_at", Time, nullable=False),
    Index("transactions_by_kiosk_seq", "kiosk_id", "seq"),
)

transaction_conflicts = Table(
    "transaction_conflicts", metadata,
    _rowid(),
    Column("id", Text, nullable=False),
    Column("kiosk_id", Text, nullable=False),
    Column("body", Text, nullable=False),
    Column("body_sha256", Text, nullable=False),
    Column("reason", Text, nullable=False),
    Column("received_at", Time, nullable=False),
)

catalogs = Table(
    "catalogs", metadata,
    _rowid(),
    Column("version", Text, nullable=False),
    Column("sha256", Text, nullable=False),
    Column("items", Int, nullable=False),
    Column("body", LargeBinary, nullable=False),
    Column("uploaded_at", Time, nullable=False),
    Column("uploaded_by", Text, nullable=False),
)

config_bundles = Table(
    "config_bundles", metadata,
    Column("version", Int, primary_key=True, autoincrement=False),
    Column("targets", Text, nullable=False),         # JSON list of kiosk ids and group names
    Column("sha256", Text, nullable=False),
    Column("body", LargeBinary, nullable=False),
    Column("uploaded_at", Time, nullable=False),
    Column("uploaded_by", Text, nullable=False),
)

heartbeats = Table(
    "heartbeats", metadata,
    _rowid(),
    Column("kiosk_id", Text, ForeignKey("kiosks.kiosk_id"), nullable=False),
    Column("received_at", Time, nullable=False),
    Column("body", Text, nullable=False),
    Index("heartbeats_by_kiosk", "kiosk_id", "received_at"),
    Index("heartbeats_by_age", "received_at"),
)

kiosk_status = Table(
    "kiosk_status", metadata,
    Column("kiosk_id", Text, ForeignKey("kiosks.kiosk_id"), primary_key=True),
    Column("received_at", Time, nullable=False),
    Column("body", Text, nullable=False),            # the latest heartbeat
)

documents = Table(
    "documents", metadata,
    Column("doc_id", Text, primary_key=True),
    Column("title", Text, nullable=False),
    Column("pages", Int, nullable=False),
    Column("sha256", Text, nullable=False),
    Column("pdf", LargeBinary, nullable=False),
    Column("created_at", Time, nullable=False),
)

document_releases = Table(
    "document_releases", metadata,
    Column("doc_id", Text, ForeignKey("documents.doc_id"), nullable=False),
    Column("holder", Text, nullable=False),          # holder_hash(deployment key, ID number)
    Column("released_at", Time, nullable=False),
    PrimaryKeyConstraint("doc_id", "holder"),
    Index("document_releases_by_holder", "holder"),
)

document_downloads = Table(
    "document_downloads", metadata,
    _rowid(),
    Column("doc_id", Text, ForeignKey("documents.doc_id"), nullable=False),
    Column("kiosk_id", Text, nullable=False),
    Column("holder", Text),
    Column("at", Time, nullable=False),
)

demo_code_payments = Table(
    "demo_code_payments", metadata,
    Column("kiosk_id", Text, nullable=False),
    Column("reference", Text, nullable=False),
    Column("amount_fen", Int, nullable=False),
    Column("channel", Text, nullable=False),
    Column("service", Text, nullable=False),
    Column("code_sha256", Text, nullable=False),
    Column("scenario", Text, nullable=False),        # the demo behaviour chosen by the code's last digit
    Column("status", Text, nullable=False),          # approved | declined | pending | reversed | refunded
    Column("queries", Int, nullable=False, server_default=text("0")),
    Column("refund_reference", Text),
    Column("created_at", Time, nullable=False),
    Column("updated_at", Time, nullable=False),
    PrimaryKeyConstraint("kiosk_id", "reference"),
)

quarantine = Table(
    "quarantine", metadata,
    _rowid(),
    Column("source_table", Text, nullable=False),
    Column("source_key", Text, nullable=False),      # the row's id (transactions) or rowid
    Column("row_json", Text, nullable=False),
    Column("reason", Text, nullable=False),
    Column("quarantined_at", Time, nullable=False),
)

cases = Table(
    "cases", metadata,
    Column("case_number", Text, primary_key=True),   # upper case (kiosk.wire.cases.normalise_case_number)
    Column("item_name", Text, nullable=False),
    Column("holder_hash", Text, nullable=False),
    Column("phone", Text),                           # sealed; NULL once deleted
    Column("phone_masked", Text),
    Column("needs_id_card", Int, nullable=False),
    Column("hold_days", Int, nullable=False),
    Column("staff_mobile", Text),                    # sealed
    Column("department", Text),
    Column("body_hash", Text),
    Column("posted_by", Text, nullable=False),
    Column("created_at", Time, nullable=False),
    Column("updated_at", Time, nullable=False),
    Column("phone_deleted_at", Time),
    Column("promised_by", Text),                     # YYYY-MM-DD; NULL: none promised
    Column("accepted_at", Time),
    Column("utc_offset_s", Int),                     # NULL: not known yet (UTC+8 is assumed)
    Index("cases_by_holder", "holder_hash", "created_at"),
)

notices = Table(
    "notices", metadata,
    Column("deposit_id", Text, primary_key=True),    # the deposit transaction's id
    Column("kiosk_id", Text, nullable=False),
    Column("case_number", Text, nullable=False),
    Column("door", Int, nullable=False),
    Column("hall", Text),
    Column("place", Text, nullable=False, server_default=text("''")),
    Column("item_name", Text),
    Column("deposited_at", Time, nullable=False),
    Column("due_at", Time),
    Column("utc_offset_s", Int, nullable=False),
    Column("state", Text, nullable=False),           # held | collected | recalled
    Column("ended_at", Time),
    Column("ended_by", Text),
    Column("token_sha256", Text, unique=True),
    Index("notices_by_case", "case_number", "deposited_at"),
    Index("notices_by_door", "kiosk_id", "case_number", "door", "state"),
    Index("notices_by_due", "state", "due_at"),
)

handins = Table(
    "handins", metadata,
    Column("handin_id", Text, primary_key=True),
    Column("kiosk_id", Text, nullable=False),
    Column("case_number", Text, nullable=False),
    Column("door", Int, nullable=False),
    Column("handed_in_at", Text, nullable=False),    # RFC 3339, as the kiosk wrote it
    Column("receipt_no", Text, nullable=False),
    Column("hall", Text),
    Column("state", Text, nullable=False),           # in_locker | collected
    Column("collected_at", Time),
    Column("collected_by", Text),
    Index("handins_by_case", "case_number"),
    Index("handins_by_door", "kiosk_id", "case_number", "door", "state"),
)

sms_queue = Table(
    "sms_queue", metadata,
    Column("id", Text, primary_key=True),
    Column("transaction_id", Text, nullable=False),
    Column("template", Text, nullable=False),
    Column("kiosk_id", Text, nullable=False),
    Column("case_number", Text),
    Column("state", Text, nullable=False),           # waiting | pending | sending | sent | dead | skipped
    Column("attempts", Int, nullable=False, server_default=text("0")),
    Column("next_at", Time, nullable=False),
    Column("lease_until", Time),
    Column("lease_owner", Text),
    Column("last_error", Text),
    Column("gateway", Text),
    Column("gateway_ref", Text),
    Column("phone_masked", Text),
    Column("created_at", Time, nullable=False),
    Column("updated_at", Time, nullable=False),
    Column("sent_at", Time),
    UniqueConstraint("transaction_id", "template"),
    Index("sms_queue_due", "state", "next_at"),
    Index("sms_queue_leases", "state", "lease_until"),
    Index("sms_queue_by_case", "case_number", "state"),
)

case_events = Table(
    "case_events", metadata,
    Column("case_number", Text, nullable=False),
    Column("event_id", Text, nullable=False),
    Column("step", Text, nullable=False),
    Column("status", Text, nullable=False),          # done | current
    Column("at", Time, nullable=False),
    Column("utc_offset_s", Int, nullable=False),
    Column("department", Text),
    Column("note", Text),
    Column("final", Int, nullable=False, server_default=text("0")),
    Column("body_hash", Text, nullable=False),
    Column("posted_by", Text, nullable=False),
    Column("received_at", Time, nullable=False),
    PrimaryKeyConstraint("case_number", "event_id"),
    Index("case_events_by_case", "case_number", "at"),
)

demo_fee_notices = Table(
    "demo_fee_notices", metadata,
    Column("number", Text, primary_key=True),        # 20 digits, the last a check digit (Luhn)
    Column("department", Text, nullable=False),
    Column("hall", Text, nullable=False),
    Column("hall_name", Text, nullable=False),
    Column("payer", Text, nullable=False),           # sealed
    Column("payer_masked", Text, nullable=False),
    Column("items", Text, nullable=False),           # JSON [{"name", "amount_fen"}]
    Column("total_fen", Int, CheckConstraint("total_fen > 0"), nullable=False),
    Column("due_date", Text, nullable=False),
    Column("paid_by", Text),
    Column("paid_at", Time),
    Column("created_at", Time, nullable=False),
)

fee_payments = Table(
    "fee_payments", metadata,
    Column("transaction_id", Text, primary_key=True),
    Column("kiosk_id", Text, nullable=False),
    Column("reference", Text, nullable=False),
    Column("fee_notice", Text, nullable=False),
    Column("amount_fen", Int, nullable=False),
    Column("channel", Text, nullable=False),
    Column("paid_at", Text, nullable=False),         # RFC 3339 with offset, as the kiosk wrote it
    Column("token_sha256", Text, unique=True),
    Column("state", Text, CheckConstraint("state IN ('received', 'paid', 'refund_due', 'refunded')"),
           nullable=False),
    Column("reason", Text),
    Column("notice", Text),                          # JSON: the notice as paid (payer masked)
    Column("refund_id", Text),
    Column("attempts", Int, nullable=False, server_default=text("0")),
    Column("last_error", Text),
    Column("received_at", Time, nullable=False),
    Column("updated_at", Time, nullable=False),
    UniqueConstraint("kiosk_id", "reference"),
    Index("fee_payments_by_state", "state"),
    Index("fee_payments_by_notice", "fee_notice"),
)

halls = Table(
    "halls", metadata,
    Column("hall", Text, primary_key=True),
    Column("name", Text, nullable=False),
    Column("utc_offset", Text, nullable=False),      # +08:00
    Column("checkin_early_min", Int, nullable=False),
    Column("checkin_late_min", Int, nullable=False),
    Column("offline_prefixes", Text, nullable=False),  # JSON list
    Column("updated_at", Time, nullable=False),
)

hall_kiosks = Table(
    "hall_kiosks", metadata,
    Column("kiosk_id", Text, primary_key=True),
    Column("hall", Text, ForeignKey("halls.hall", ondelete="CASCADE"), nullable=False),
)

businesses = Table(
    "businesses", metadata,
    Column("hall", Text, ForeignKey("halls.hall", ondelete="CASCADE"), nullable=False),
    Column("code", Text, nullable=False),
    Column("name", Text, nullable=False),
    Column("prefix", Text, nullable=False),
    Column("windows", Int, nullable=False),
    Column("minutes_per_ticket", Double, nullable=False),
    Column("hours", Text, nullable=False),           # JSON {"mon": ["08:30-12:00", ...], ...}
    Column("closed_dates", Text, nullable=False),    # JSON ["2026-10-01", ...]
    Column("position", Int, nullable=False),
    PrimaryKeyConstraint("hall", "code"),
    UniqueConstraint("hall", "prefix"),
)

queue_days = Table(
    "queue_days", metadata,
    Column("hall", Text, nullable=False),
    Column("business", Text, nullable=False),
    Column("day", Text, nullable=False),             # YYYY-MM-DD in the hall's clock
    Column("next_number", Int, nullable=False),
    Column("next_free_at", Time),
    PrimaryKeyConstraint("hall", "business", "day"),
)

tickets = Table(
    "tickets", metadata,
    Column("hall", Text, nullable=False),
    Column("day", Text, nullable=False),
    Column("number", Text, nullable=False),
    Column("business", Text, nullable=False),
    Column("kiosk_id", Text, nullable=False),
    Column("request_id", Text, nullable=False),
    Column("priority", Int, nullable=False),
    Column("offline", Int, nullable=False),
    Column("holder_hash", Text),
    Column("appointment", Text),
    Column("waiting_before", Int, nullable=False),
    Column("estimated_wait_min", Int, nullable=False),
    Column("issued_at", Time, nullable=False),
    Column("state", Text, CheckConstraint("state IN ('waiting', 'called', 'lapsed', 'superseded')"),
           nullable=False),
    Column("called_at", Time),
    Column("transaction_id", Text),
    PrimaryKeyConstraint("hall", "day", "number"),
    Index("tickets_by_request", "kiosk_id", "request_id", unique=True,
          sqlite_where=text("state != 'superseded'"), postgresql_where=text("state != 'superseded'")),
    Index("tickets_waiting", "hall", "business", "day", "state", "issued_at"),
)

ticket_clashes = Table(
    "ticket_clashes", metadata,
    Column("transaction_id", Text, primary_key=True),
    Column("kiosk_id", Text, nullable=False),
    Column("hall", Text, nullable=False),
    Column("day", Text, nullable=False),
    Column("number", Text, nullable=False),
    Column("received_at", Time, nullable=False),
)

appointments = Table(
    "appointments", metadata,
    Column("code", Text, primary_key=True),
    Column("hall", Text, ForeignKey("halls.hall", ondelete="CASCADE"), nullable=False),
    Column("business", Text, nullable=False),
    Column("holder_hash", Text),
    Column("day", Text, nullable=False),
    Column("slot_start", Text, nullable=False),
    Column("slot_end", Text, nullable=False),
    Column("ticket", Text),
    Column("checked_in_at", Time),
    Index("appointments_by_holder", "hall", "holder_hash", "day"),
)

queue_clock = Table(
    "queue_clock", metadata,
    Column("id", Integer, CheckConstraint("id = 1"), primary_key=True, autoincrement=False),
    Column("offset_s", Double, nullable=False),
)

# --- the console (kiosk/central/console/) ------------------------------------------------------------------

# people who sign in to the console; the kiosks and operators above sign requests instead
console_users = Table(
    "console_users", metadata,
    Column("name", Text, primary_key=True),
    Column("password_hash", Text, nullable=False),   # Argon2id (argon2-cffi), salt and parameters included
    Column("role", Text, CheckConstraint("role IN ('operator', 'staff', 'auditor')"), nullable=False),
    Column("hall", Text),                            # staff: the one hall they see; NULL for the others
    Column("created_at", Time, nullable=False),
    Column("disabled_at", Time),
)

console_sessions = Table(
    "console_sessions", metadata,
    Column("token_sha256", Text, primary_key=True),  # the cookie's token is never stored, only its hash
    Column("user_name", Text, ForeignKey("console_users.name", ondelete="CASCADE"), nullable=False),
    Column("csrf", Text, nullable=False),            # the token every form of this session carries
    Column("created_at", Time, nullable=False),
    Column("seen_at", Time, nullable=False),
    Column("expires_at", Time, nullable=False),
    Index("console_sessions_by_expiry", "expires_at"),
)

# failed sign-ins per account name and per address, for throttling: `failures` within the window that
# began at `since`
console_login_failures = Table(
    "console_login_failures", metadata,
    Column("key", Text, primary_key=True),           # "user:NAME" | "addr:IP"
    Column("failures", Int, nullable=False),
    Column("since", Time, nullable=False),
)

console_audit = Table(
    "console_audit", metadata,
    _rowid(),
    Column("at", Time, nullable=False),
    Column("user_name", Text, nullable=False),
    Column("action", Text, nullable=False),          # "alarm.acknowledge", "user.add", "login", ...
    Column("target", Text, nullable=False, server_default=text("''")),
    Column("detail", Text, nullable=False, server_default=text("'{}'")),   # JSON object
    Index("console_audit_by_time", "at"),
)

# one row per fault a kiosk raised (its `alarm` transaction with state "raised"), cleared by the
# transaction that clears it, acknowledged by a person in the console
alarms = Table(
    "alarms", metadata,
    Column("raised_id", Text, primary_key=True),     # the raising transaction's id
    Column("kiosk_id", Text, nullable=False),
    Column("device", Text, nullable=False),
    Column("code", Text, nullable=False),
    Column("severity", Text, nullable=False),        # warning | fault
    Column("detail", Text),
    Column("raised_at", Time, nullable=False),       # from the kiosk's occurred_at
    Column("cleared_at", Time),
    Column("cleared_id", Text),
    Column("acked_by", Text),
    Column("acked_at", Time),
    Column("ack_note", Text),
    Index("alarms_open", "cleared_at", "raised_at"),
    Index("alarms_by_kiosk", "kiosk_id", "raised_at"),
)

# every rating (好差评) a citizen gave at a kiosk (its `rating` transaction), with the follow-up the national
# rules ask for a poor one: 回访 (call back), 整改 (rectify), 复核 (review), then closed
ratings = Table(
    "ratings", metadata,
    Column("transaction_id", Text, primary_key=True),
    Column("kiosk_id", Text, nullable=False),
    Column("hall", Text),                            # the kiosk's hall when the rating arrived
    Column("service", Text, nullable=False),
    Column("level", Int, nullable=False),            # 1 (very poor) .. 5 (very good)
    Column("level_key", Text),
    Column("reasons", Text, nullable=False, server_default=text("'[]'")),   # JSON list of reason keys
    Column("rated_at", Time, nullable=False),        # from the kiosk's occurred_at
    Column("followup_state", Text, nullable=False),  # none | open | callback | rectify | review | closed
    Column("followup_at", Time),
    Column("followup_by", Text),
    Index("ratings_by_time", "rated_at"),
    Index("ratings_by_hall", "hall", "rated_at"),
    Index("ratings_followup", "followup_state", "rated_at"),
)

# who moved a poor rating's follow-up to which step, when, with what note
rating_followups = Table(
    "rating_followups", metadata,
    _rowid(),
    Column("transaction_id", Text, ForeignKey("ratings.transaction_id", ondelete="CASCADE"), nullable=False),
    Column("at", Time, nullable=False),
    Column("user_name", Text, nullable=False),
    Column("state", Text, nullable=False),
    Column("note", Text, nullable=False, server_default=text("''")),
    Index("rating_followups_by_rating", "transaction_id", "at"),
)

# ratings counted per day (on the hall's clock), hall ('' for a kiosk in no hall), service and level, as they
# arrive: the ratings page's counts read these, never a quarter's ratings one by one
rating_counts = Table(
    "rating_counts", metadata,
    Column("day", Text, nullable=False),             # YYYY-MM-DD
    Column("hall", Text, nullable=False),
    Column("service", Text, nullable=False),
    Column("level", Int, nullable=False),
    Column("n", Int, nullable=False),
    PrimaryKeyConstraint("day", "hall", "service", "level"),
)

# transactions per day (on the hall's clock) per kiosk, kind and service, counted as batches are stored:
# the activity pages read these, never a year of transactions
activity_daily = Table(
    "activity_daily", metadata,
    Column("day", Text, nullable=False),             # YYYY-MM-DD
    Column("kiosk_id", Text, nullable=False),
    Column("kind", Text, nullable=False),
    Column("service", Text, nullable=False, server_default=text("''")),
    Column("n", Int, nullable=False),
    PrimaryKeyConstraint("day", "kiosk_id", "kind", "service"),
)

# the same per hall (the kiosk's hall as the batch arrived; '' for none) rather than per kiosk: the activity
# page's figures for every hall or one, a few hundred rows a day where the per-kiosk table holds thousands
activity_halls = Table(
    "activity_halls", metadata,
    Column("day", Text, nullable=False),
    Column("hall", Text, nullable=False),
    Column("kind", Text, nullable=False),
    Column("service", Text, nullable=False, server_default=text("''")),
    Column("n", Int, nullable=False),
    PrimaryKeyConstraint("day", "hall", "kind", "service"),
)

# the people each kiosk served per day (every kind but the kiosk's own alarms and probes): its busiest kiosks
activity_kiosks = Table(
    "activity_kiosks", metadata,
    Column("day", Text, nullable=False),
    Column("kiosk_id", Text, nullable=False),
    Column("n", Int, nullable=False),
    PrimaryKeyConstraint("day", "kiosk_id"),
)

# transactions per hour of the day per hall ('' for a kiosk in no hall): the busiest hours
activity_hourly = Table(
    "activity_hourly", metadata,
    Column("day", Text, nullable=False),
    Column("hour", Int, nullable=False),             # 0-23
    Column("hall", Text, nullable=False),
    Column("n", Int, nullable=False),
    PrimaryKeyConstraint("day", "hour", "hall"),
)

# a citizen's "Call staff" at a kiosk (its `help` transaction): open until a person in the console marks it
# handled. `hall` is the kiosk's hall on the platform when the request arrived (hall_kiosks), `hall_name` the
# hall as the kiosk's own config names it
help_requests = Table(
    "help_requests", metadata,
    Column("transaction_id", Text, primary_key=True),
    Column("kiosk_id", Text, nullable=False),
    Column("hall", Text),
    Column("hall_name", Text),
    Column("screen", Text, nullable=False),
    Column("requested_at", Time, nullable=False),    # from the kiosk's occurred_at
    Column("received_at", Time, nullable=False),
    Column("handled_at", Time),
    Column("handled_by", Text),
    Column("note", Text),
    Index("help_requests_open", "handled_at", "requested_at"),
    Index("help_requests_by_hall", "hall", "requested_at"),
)
