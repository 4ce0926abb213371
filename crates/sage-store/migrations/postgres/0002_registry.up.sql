-- The embedded local registry (crates/sage-registry, docs/REGISTRY.md): the
-- authoritative agent records of this node, their keys and every version of
-- each record. Unlike `dids` (a cache of what some registry answered), these
-- rows ARE the registry: nothing sweeps them, and a record is never deleted,
-- so an identifier is never reassigned. Times are TIMESTAMPTZ written from the
-- application's clock (no DEFAULT now()).
-- The registry's request nonces live in `nonces` (scope `sage-registry:<did>`).

-- One row per agent record. `version` starts at 1 and grows by exactly one
-- per change; writers update `WHERE version = <the version they read>`, which
-- PostgreSQL re-checks after waiting for a concurrent writer of the row.
CREATE TABLE registry_records (
    did          TEXT        NOT NULL PRIMARY KEY CHECK (length(did) <= 512),
    owner        TEXT        NOT NULL CHECK (length(owner) <= 256),
    state        SMALLINT    NOT NULL CHECK (state IN (0, 1, 2)),
    version      BIGINT      NOT NULL CHECK (version >= 1),
    name         TEXT        NOT NULL,
    description  TEXT        NOT NULL,
    endpoint     TEXT        NOT NULL,
    capabilities TEXT        NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL,
    updated_at   TIMESTAMPTZ NOT NULL
);

-- records_by_owner: WHERE owner = $1 AND did > $2 ORDER BY did.
CREATE INDEX registry_records_owner ON registry_records (owner, did);

-- Every key a record ever had, in registry order. Append-only: key material
-- never changes, and revocation (revoked_at) is set once and never cleared.
CREATE TABLE registry_keys (
    did         TEXT        NOT NULL REFERENCES registry_records (did),
    position    INTEGER     NOT NULL CHECK (position >= 0),
    key_type    SMALLINT    NOT NULL CHECK (key_type IN (0, 1, 2)),
    key_data    BYTEA       NOT NULL,
    proof       BYTEA       NOT NULL,
    endorsed_by INTEGER     CHECK (endorsed_by >= 0),
    added_at    TIMESTAMPTZ NOT NULL,
    revoked_at  TIMESTAMPTZ,
    PRIMARY KEY (did, position),
    -- A key is never registered twice in one record, not even after revocation.
    UNIQUE (did, key_data)
);

-- records_by_key: WHERE key_type = $1 AND key_data = $2.
CREATE INDEX registry_keys_by_key ON registry_keys (key_type, key_data);

-- One row per version of a record: the operation, the signed request that
-- caused it (canonical JSON and signature) and the record as it became.
CREATE TABLE registry_history (
    did         TEXT        NOT NULL REFERENCES registry_records (did),
    version     BIGINT      NOT NULL CHECK (version >= 1),
    operation   TEXT        NOT NULL CHECK (length(operation) BETWEEN 1 AND 32),
    request     TEXT        NOT NULL,
    signature   BYTEA       NOT NULL,
    snapshot    TEXT        NOT NULL,
    recorded_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (did, version)
);
