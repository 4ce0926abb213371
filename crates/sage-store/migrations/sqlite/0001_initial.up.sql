-- sage-store schema, SQLite. Times are INTEGER microseconds since the Unix
-- epoch (UTC), written from the application's clock (docs/DATABASE.md).
-- Append-only once merged: change the schema with a new numbered migration.

-- Sessions. The seed lives only inside sealed_snapshot (XChaCha20-Poly1305
-- under the caller's key-encryption key, AAD = sid); every other column is
-- non-secret so that it can be queried and updated atomically.
CREATE TABLE sessions (
    sid             TEXT    NOT NULL PRIMARY KEY CHECK (length(sid) = 22),
    kid             TEXT    NOT NULL UNIQUE CHECK (length(kid) BETWEEN 1 AND 255),
    peer_did        TEXT    NOT NULL CHECK (length(peer_did) <= 512),
    role            INTEGER NOT NULL CHECK (role IN (0, 1)),
    created_at      INTEGER NOT NULL,
    last_activity   INTEGER NOT NULL,
    expires_at      INTEGER,
    idle_timeout_us INTEGER NOT NULL CHECK (idle_timeout_us >= 0),
    idle_expires_at INTEGER,
    message_count   INTEGER NOT NULL,
    send_seq        INTEGER,
    replay_window   BLOB    NOT NULL CHECK (length(replay_window) = 138),
    sealed_snapshot BLOB    NOT NULL,
    version         INTEGER NOT NULL CHECK (version >= 1)
) STRICT;

-- list_by_peer: WHERE peer_did = ? ORDER BY created_at DESC, sid DESC.
CREATE INDEX sessions_peer_created ON sessions (peer_did, created_at DESC, sid DESC);
-- delete_expired: WHERE expires_at < ? OR idle_expires_at < ?.
CREATE INDEX sessions_expires_at ON sessions (expires_at) WHERE expires_at IS NOT NULL;
CREATE INDEX sessions_idle_expires_at ON sessions (idle_expires_at) WHERE idle_expires_at IS NOT NULL;

-- Replay nonces, per scope (RFC 9421 keyid, handshake context id, ...).
-- Independent of sessions: a nonce may exist without one.
CREATE TABLE nonces (
    scope      TEXT    NOT NULL CHECK (length(scope) <= 512),
    nonce      TEXT    NOT NULL CHECK (length(nonce) <= 512),
    first_seen INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    PRIMARY KEY (scope, nonce)
) STRICT, WITHOUT ROWID;

-- delete_expired / count: WHERE expires_at <= ?.
CREATE INDEX nonces_expires_at ON nonces (expires_at);

-- The cache of resolved DID records (AgentMetadataV4 JSON plus indexed columns).
CREATE TABLE dids (
    did         TEXT    NOT NULL PRIMARY KEY CHECK (length(did) <= 512),
    owner       TEXT    NOT NULL,
    is_active   INTEGER NOT NULL CHECK (is_active IN (0, 1)),
    revoked     INTEGER NOT NULL DEFAULT 0 CHECK (revoked IN (0, 1)),
    revoked_at  INTEGER,
    kem_key     BLOB,
    record_json TEXT    NOT NULL,
    fetched_at  INTEGER NOT NULL,
    stale_at    INTEGER NOT NULL
) STRICT;

-- list_by_owner: WHERE owner = ? AND did > ? ORDER BY did.
CREATE INDEX dids_owner ON dids (owner, did);
-- delete_stale: WHERE revoked = 0 AND stale_at <= ?.
CREATE INDEX dids_stale_at ON dids (stale_at) WHERE revoked = 0;

-- The registered public keys of each cached record, by type.
CREATE TABLE did_keys (
    did      TEXT    NOT NULL REFERENCES dids (did) ON DELETE CASCADE,
    position INTEGER NOT NULL CHECK (position >= 0),
    key_type INTEGER NOT NULL CHECK (key_type IN (0, 1, 2)),
    key_data BLOB    NOT NULL,
    verified INTEGER NOT NULL CHECK (verified IN (0, 1)),
    PRIMARY KEY (did, position)
) STRICT, WITHOUT ROWID;

-- find_by_key: WHERE key_type = ? AND key_data = ?.
CREATE INDEX did_keys_by_key ON did_keys (key_type, key_data);
