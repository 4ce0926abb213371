-- The embedded local registry (crates/sage-registry, docs/REGISTRY.md): the
-- authoritative agent records of this node, their keys and every version of
-- each record. Unlike `dids` (a cache of what some registry answered), these
-- rows ARE the registry: nothing sweeps them, and a record is never deleted,
-- so an identifier is never reassigned. Times are INTEGER microseconds since
-- the Unix epoch (UTC), written from the application's clock.
-- The registry's request nonces live in `nonces` (scope `sage-registry:<did>`).

-- One row per agent record. `version` starts at 1 and grows by exactly one
-- per change; writers update `WHERE version = <the version they read>`.
CREATE TABLE registry_records (
    did          TEXT    NOT NULL PRIMARY KEY CHECK (length(did) <= 512),
    owner        TEXT    NOT NULL CHECK (length(owner) <= 256),
    state        INTEGER NOT NULL CHECK (state IN (0, 1, 2)),
    version      INTEGER NOT NULL CHECK (version >= 1),
    name         TEXT    NOT NULL,
    description  TEXT    NOT NULL,
    endpoint     TEXT    NOT NULL,
    capabilities TEXT    NOT NULL,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL
) STRICT;

-- records_by_owner: WHERE owner = ? AND did > ? ORDER BY did.
CREATE INDEX registry_records_owner ON registry_records (owner, did);

-- Every key a record ever had, in registry order. Append-only: key material
-- never changes, and revocation (revoked_at) is set once and never cleared.
CREATE TABLE registry_keys (
    did         TEXT    NOT NULL REFERENCES registry_records (did),
    position    INTEGER NOT NULL CHECK (position >= 0),
    key_type    INTEGER NOT NULL CHECK (key_type IN (0, 1, 2)),
    key_data    BLOB    NOT NULL,
    proof       BLOB    NOT NULL,
    endorsed_by INTEGER CHECK (endorsed_by >= 0),
    added_at    INTEGER NOT NULL,
    revoked_at  INTEGER,
    PRIMARY KEY (did, position),
    -- A key is never registered twice in one record, not even after revocation.
    UNIQUE (did, key_data)
) STRICT, WITHOUT ROWID;

-- records_by_key: WHERE key_type = ? AND key_data = ?.
CREATE INDEX registry_keys_by_key ON registry_keys (key_type, key_data);

-- One row per version of a record: the operation, the signed request that
-- caused it (canonical JSON and signature) and the record as it became.
CREATE TABLE registry_history (
    did         TEXT    NOT NULL REFERENCES registry_records (did),
    version     INTEGER NOT NULL CHECK (version >= 1),
    operation   TEXT    NOT NULL CHECK (length(operation) BETWEEN 1 AND 32),
    request     TEXT    NOT NULL,
    signature   BLOB    NOT NULL,
    snapshot    TEXT    NOT NULL,
    recorded_at INTEGER NOT NULL,
    PRIMARY KEY (did, version)
) STRICT, WITHOUT ROWID;
