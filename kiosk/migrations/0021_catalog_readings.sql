-- The pinyin readings of the catalog's texts (kiosk/core/search.py), worked out once at import and
-- replaced with the catalog in the same transaction, so that the UI builds its search index
-- without loading pypinyin's dictionaries. A catalog imported before this table existed has no
-- rows here: the index reads those texts itself until the catalog is imported again.
CREATE TABLE catalog_readings (
    text     TEXT PRIMARY KEY,   -- normalised: letters, digits, CJK
    readings TEXT NOT NULL       -- syllables joined by " ", readings by "|": "yin hang|yin xing"
) WITHOUT ROWID;
