-- The pickup loop (issue 17, docs/pickup.md): cases from the approval system, the items in the lockers,
-- materials handed in, and the durable queue of text messages to applicants and staff.

-- A case the approval system posted (POST /api/v1/cases). The applicant is known by the keyed hash of the
-- ID number; the mobile numbers are kept only here, sealed with the platform's key (kiosk/central/sealing.py),
-- and the applicant's is deleted phone_retention_days after the case's item is collected or recalled.
CREATE TABLE cases (
    case_number       TEXT PRIMARY KEY,          -- upper case (kiosk.wire.cases.normalise_case_number)
    item_name         TEXT NOT NULL,
    holder_hash       TEXT NOT NULL,
    phone             TEXT,                      -- sealed; NULL once deleted
    phone_masked      TEXT,                      -- 138****1234; NULL once deleted
    needs_id_card     INTEGER NOT NULL,
    hold_days         INTEGER NOT NULL,
    staff_mobile      TEXT,                      -- sealed; told when materials are handed in
    department        TEXT,
    body_hash         TEXT,                      -- keyed hash of the posted case: a retry or a change; NULL with the phone
    posted_by         TEXT NOT NULL,
    created_at        REAL NOT NULL,
    updated_at        REAL NOT NULL,
    phone_deleted_at  REAL
);

-- One row per stored deposit: the item in its door, as the platform follows it, and its notice's page.
CREATE TABLE notices (
    deposit_id     TEXT PRIMARY KEY,             -- the deposit transaction's id
    kiosk_id       TEXT NOT NULL,
    case_number    TEXT NOT NULL,                -- upper case
    door           INTEGER NOT NULL,
    hall           TEXT,
    place          TEXT NOT NULL DEFAULT '',
    item_name      TEXT,                         -- as the kiosk named it; the case's name wins
    deposited_at   REAL NOT NULL,                -- unix seconds
    due_at         REAL,
    utc_offset_s   INTEGER NOT NULL,             -- the hall's clock, for dates on the page
    state          TEXT NOT NULL,                -- held | collected | recalled
    ended_at       REAL,
    ended_by       TEXT,                         -- the pickup or recall transaction's id
    token_sha256   TEXT UNIQUE                   -- SHA-256 of the page link's token, once the first message is made
);
CREATE INDEX notices_by_case ON notices (case_number, deposited_at);
CREATE INDEX notices_by_door ON notices (kiosk_id, case_number, door, state);
CREATE INDEX notices_by_due ON notices (state, due_at);

-- Materials a citizen handed in through a locker door for a case, until staff collect them.
CREATE TABLE handins (
    handin_id      TEXT PRIMARY KEY,             -- the handin transaction's id
    kiosk_id       TEXT NOT NULL,
    case_number    TEXT NOT NULL,
    door           INTEGER NOT NULL,
    handed_in_at   TEXT NOT NULL,                -- RFC 3339, as the kiosk wrote it
    receipt_no     TEXT NOT NULL,
    hall           TEXT,
    state          TEXT NOT NULL,                -- in_locker | collected
    collected_at   REAL,
    collected_by   TEXT                          -- the recall transaction's id
);
CREATE INDEX handins_by_case ON handins (case_number);
CREATE INDEX handins_by_door ON handins (kiosk_id, case_number, door, state);

-- Text messages to send, one per (transaction, template) whatever the retries of a batch. Rows hold no
-- phone number and no code: the text is made when the message is sent. `id` is the message id the gateway
-- gets, the same on every attempt, so a gateway that drops a message id it has seen sends once.
CREATE TABLE sms_queue (
    id              TEXT PRIMARY KEY,
    transaction_id  TEXT NOT NULL,               -- the deposit (pickup templates) or the handin
    template        TEXT NOT NULL,               -- pickup_ready | pickup_reminder | pickup_overdue | handin_received
    kiosk_id        TEXT NOT NULL,
    case_number     TEXT,
    state           TEXT NOT NULL,               -- waiting (for the case) | pending | sending | sent | dead | skipped
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_at         REAL NOT NULL,               -- not before
    lease_until     REAL,                        -- while sending: another notifier may take it over after this
    lease_owner     TEXT,
    last_error      TEXT,                        -- the reason of the last failure, or why it was skipped
    gateway         TEXT,
    gateway_ref     TEXT,                        -- the gateway's own id for the message
    phone_masked    TEXT,
    created_at      REAL NOT NULL,
    updated_at      REAL NOT NULL,
    sent_at         REAL,
    UNIQUE (transaction_id, template)
);
CREATE INDEX sms_queue_due ON sms_queue (state, next_at);
CREATE INDEX sms_queue_leases ON sms_queue (state, lease_until);
CREATE INDEX sms_queue_by_case ON sms_queue (case_number, state);
