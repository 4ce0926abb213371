-- sage-store schema, PostgreSQL. Times are TIMESTAMPTZ written from the
-- application's clock (no DEFAULT now(): docs/DATABASE.md, "clock rule").
-- Append-only once merged: change the schema with a new numbered migration.

-- Sessions. The seed lives only inside sealed_snapshot (XChaCha20-Poly1305
-- under the caller's key-encryption key, AAD = sid); every other column is
-- non-secret so that it can be queried and updated atomically.
CREATE TABLE sessions (
    sid             TEXT        NOT NULL PRIMARY KEY CHECK (length(sid) = 22),
    kid             TEXT        NOT NULL UNIQUE CHECK (length(kid) BETWEEN 1 AND 255),
    peer_did        TEXT        NOT NULL CHECK (length(peer_did) <= 512),
    role            SMALLINT    NOT NULL CHECK (role IN (0, 1)),
    created_at      TIMESTAMPTZ NOT NULL,
    last_activity   TIMESTAMPTZ NOT NULL,
    expires_at      TIMESTAMPTZ,
    idle_timeout_us BIGINT      NOT NULL CHECK (idle_timeout_us >= 0),
    idle_expires_at TIMESTAMPTZ,
    message_count   BIGINT      NOT NULL,
    send_seq        BIGINT,
    replay_window   BYTEA       NOT NULL CHECK (length(replay_window) = 138),
    sealed_snapshot BYTEA       NOT NULL,
    version         BIGINT      NOT NULL CHECK (version >= 1)
);

-- list_by_peer: WHERE peer_did = $1 ORDER BY created_at DESC, sid DESC.
CREATE INDEX sessions_peer_created ON sessions (peer_did, created_at DESC, sid DESC);
-- delete_expired: WHERE expires_at < $1 OR idle_expires_at < $1 (BitmapOr).
CREATE INDEX sessions_expires_at ON sessions (expires_at) WHERE expires_at IS NOT NULL;
CREATE INDEX sessions_idle_expires_at ON sessions (idle_expires_at) WHERE idle_expires_at IS NOT NULL;

-- Replay nonces, per scope (RFC 9421 keyid, handshake context id, ...).
-- Independent of sessions: a nonce may exist without one.
CREATE TABLE nonces (
    scope      TEXT        NOT NULL CHECK (length(scope) <= 512),
    nonce      TEXT        NOT NULL CHECK (length(nonce) <= 512),
    first_seen TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (scope, nonce)
);

-- delete_expired / count: WHERE expires_at <= $1.
CREATE INDEX nonces_expires_at ON nonces (expires_at);

-- The cache of resolved DID records (AgentMetadataV4 JSON plus indexed columns).
CREATE TABLE dids (
    did         TEXT        NOT NULL PRIMARY KEY CHECK (length(did) <= 512),
    owner       TEXT        NOT NULL,
    is_active   BOOLEAN     NOT NULL,
    revoked     BOOLEAN     NOT NULL DEFAULT FALSE,
    revoked_at  TIMESTAMPTZ,
    kem_key     BYTEA,
    record_json TEXT        NOT NULL,
    fetched_at  TIMESTAMPTZ NOT NULL,
    stale_at    TIMESTAMPTZ NOT NULL
);

-- list_by_owner: WHERE owner = $1 AND did > $2 ORDER BY did.
CREATE INDEX dids_owner ON dids (owner, did);
-- delete_stale: WHERE NOT revoked AND stale_at <= $1.
CREATE INDEX dids_stale_at ON dids (stale_at) WHERE NOT revoked;

-- The registered public keys of each cached record, by type.
CREATE TABLE did_keys (
    did      TEXT     NOT NULL REFERENCES dids (did) ON DELETE CASCADE,
    position INTEGER  NOT NULL CHECK (position >= 0),
    key_type SMALLINT NOT NULL CHECK (key_type IN (0, 1, 2)),
    key_data BYTEA    NOT NULL,
    verified BOOLEAN  NOT NULL,
    PRIMARY KEY (did, position)
);

-- find_by_key: WHERE key_type = $1 AND key_data = $2.
CREATE INDEX did_keys_by_key ON did_keys (key_type, key_data);
