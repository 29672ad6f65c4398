-- The log, its head and the subscribers' checkpoints (verkstall schema version 1).

-- Every event, by position. `line` is the stored line exactly as hashed (canonical JSON, `hash`
-- last); the other columns are indexes over it. `tx` is the writing transaction: readers take
-- only rows whose transaction ended before every transaction still running (see the crate docs).
CREATE TABLE verkstall.events (
    position    bigint      PRIMARY KEY CHECK (position >= 1),
    decision_id uuid        NOT NULL,
    version     bigint      NOT NULL CHECK (version >= 1),
    event_id    uuid        NOT NULL,
    recorded_at timestamptz NOT NULL,
    line        bytea       NOT NULL,
    tx          xid8        NOT NULL DEFAULT pg_current_xact_id(),
    -- Optimistic concurrency across nodes: one event per version of a stream.
    CONSTRAINT events_stream_version UNIQUE (decision_id, version),
    -- Idempotency: one event per id.
    CONSTRAINT events_event_id UNIQUE (event_id)
);

-- "As of": recorded_at never goes backwards along positions.
CREATE INDEX events_recorded_at ON verkstall.events (recorded_at, position);
-- The visibility horizon: the few recent rows not yet settled.
CREATE INDEX events_tx ON verkstall.events (tx);

-- The commit point: one row, updated by every append and import in the same transaction as its
-- events. Locking it serialises the writers of all nodes: one global order, one hash chain.
CREATE TABLE verkstall.head (
    only_row    boolean     PRIMARY KEY DEFAULT true CHECK (only_row),
    position    bigint      NOT NULL CHECK (position >= 0),
    hash        bytea       NOT NULL CHECK (length(hash) = 32),
    recorded_at timestamptz,
    CHECK ((position = 0) = (recorded_at IS NULL))
);
INSERT INTO verkstall.head (position, hash, recorded_at)
VALUES (0, '\x0000000000000000000000000000000000000000000000000000000000000000', NULL);

-- The last position each subscriber has handled.
CREATE TABLE verkstall.checkpoints (
    subscriber text   PRIMARY KEY CHECK (octet_length(subscriber) BETWEEN 1 AND 200),
    position   bigint NOT NULL CHECK (position >= 0)
);
