-- The reference central platform's own database (not a kiosk's).

-- Provisioned principals. Secrets are HMAC keys, so they are kept as given
-- (a hash could not verify a signature); they are never logged or served.
CREATE TABLE kiosks (
    kiosk_id    TEXT PRIMARY KEY,
    secret      TEXT NOT NULL,
    groups      TEXT NOT NULL DEFAULT '[]',      -- JSON list: fleet groups, for config bundle targets
    created_at  REAL NOT NULL
);

CREATE TABLE operators (
    name        TEXT PRIMARY KEY,
    secret      TEXT NOT NULL,
    created_at  REAL NOT NULL
);

-- Nonces of authenticated requests, kept until their timestamp leaves the
-- window, so a replay is refused even across a restart.
CREATE TABLE nonces (
    principal   TEXT NOT NULL,                   -- "kiosk:ID" or "operator:NAME"
    nonce       TEXT NOT NULL,
    expires_at  REAL NOT NULL,
    PRIMARY KEY (principal, nonce)
) WITHOUT ROWID;
CREATE INDEX nonces_by_expiry ON nonces (expires_at);

-- Completed transactions, stored once per id (the kiosk's idempotency key).
CREATE TABLE transactions (
    id           TEXT PRIMARY KEY,
    kiosk_id     TEXT NOT NULL REFERENCES kiosks (kiosk_id),
    seq          INTEGER NOT NULL,
    kind         TEXT NOT NULL,
    occurred_at  TEXT NOT NULL,
    boot_id      TEXT,
    uptime_s     REAL,
    data         TEXT NOT NULL,                  -- JSON object
    body_sha256  TEXT NOT NULL,                  -- of the canonical item: tells a retry from a conflict
    received_at  REAL NOT NULL
);
CREATE INDEX transactions_by_kiosk_seq ON transactions (kiosk_id, seq);

-- An id sent again with a different body: refused, and kept here for an operator to look into.
CREATE TABLE transaction_conflicts (
    rowid        INTEGER PRIMARY KEY,
    id           TEXT NOT NULL,
    kiosk_id     TEXT NOT NULL,
    body         TEXT NOT NULL,
    body_sha256  TEXT NOT NULL,
    reason       TEXT NOT NULL,
    received_at  REAL NOT NULL
);

-- Guide catalogs (DESIGN.md section 6) as uploaded; the newest is served.
CREATE TABLE catalogs (
    rowid        INTEGER PRIMARY KEY,
    version      TEXT NOT NULL,
    sha256       TEXT NOT NULL,
    items        INTEGER NOT NULL,
    body         BLOB NOT NULL,
    uploaded_at  REAL NOT NULL,
    uploaded_by  TEXT NOT NULL
);

-- Signed config bundles: opaque envelopes, indexed by the version and targets they declare.
CREATE TABLE config_bundles (
    version      INTEGER PRIMARY KEY,
    targets      TEXT NOT NULL,                  -- JSON list of kiosk ids and group names
    sha256       TEXT NOT NULL,
    body         BLOB NOT NULL,
    uploaded_at  REAL NOT NULL,
    uploaded_by  TEXT NOT NULL
);

CREATE TABLE heartbeats (
    rowid        INTEGER PRIMARY KEY,
    kiosk_id     TEXT NOT NULL REFERENCES kiosks (kiosk_id),
    received_at  REAL NOT NULL,
    body         TEXT NOT NULL
);
CREATE INDEX heartbeats_by_kiosk ON heartbeats (kiosk_id, received_at);
CREATE INDEX heartbeats_by_age ON heartbeats (received_at);

CREATE TABLE kiosk_status (
    kiosk_id     TEXT PRIMARY KEY REFERENCES kiosks (kiosk_id),
    received_at  REAL NOT NULL,
    body         TEXT NOT NULL                   -- the latest heartbeat
);

-- Documents released for printing at a kiosk to one card holder, who is
-- known only by the keyed hash of the ID number (DESIGN.md section 7).
CREATE TABLE documents (
    doc_id       TEXT PRIMARY KEY,
    title        TEXT NOT NULL,
    pages        INTEGER NOT NULL,
    sha256       TEXT NOT NULL,
    pdf          BLOB NOT NULL,
    created_at   REAL NOT NULL
);

CREATE TABLE document_releases (
    doc_id       TEXT NOT NULL REFERENCES documents (doc_id),
    holder       TEXT NOT NULL,                  -- holder_hash(deployment key, ID number)
    released_at  REAL NOT NULL,
    PRIMARY KEY (doc_id, holder)
);
CREATE INDEX document_releases_by_holder ON document_releases (holder);

CREATE TABLE document_downloads (
    rowid        INTEGER PRIMARY KEY,
    doc_id       TEXT NOT NULL REFERENCES documents (doc_id),
    kiosk_id     TEXT NOT NULL,
    holder       TEXT,
    at           REAL NOT NULL
);
