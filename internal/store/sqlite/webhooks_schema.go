package sqlite

// webhooksMigration adds webhook subscriptions and their delivery attempts
// (a step of migrations). Events are JSON arrays of patterns; times are Unix
// milliseconds, UTC, as in events.
const webhooksMigration = `CREATE TABLE webhooks (
		id              TEXT    NOT NULL PRIMARY KEY CHECK (length(id) = 24),
		url             TEXT    NOT NULL,
		events          TEXT    NOT NULL CHECK (json_type(events) = 'array'),
		description     TEXT    NOT NULL,
		secret          TEXT    NOT NULL,
		enabled         INTEGER NOT NULL,
		disabled_reason TEXT    NOT NULL,
		created_at      INTEGER NOT NULL,
		failures        INTEGER NOT NULL DEFAULT 0,
		failing_since   INTEGER
	) STRICT;
	CREATE TABLE webhook_attempts (
		id            TEXT    NOT NULL PRIMARY KEY CHECK (length(id) = 24),
		webhook_id    TEXT    NOT NULL,
		delivery_id   TEXT    NOT NULL,
		event_id      TEXT    NOT NULL,
		event_name    TEXT    NOT NULL,
		attempt       INTEGER NOT NULL,
		outcome       TEXT    NOT NULL,
		status_code   INTEGER NOT NULL,
		duration_ms   INTEGER NOT NULL,
		error         TEXT    NOT NULL,
		response      TEXT    NOT NULL,
		next_retry_at INTEGER,
		created_at    INTEGER NOT NULL,
		UNIQUE (delivery_id, attempt)
	) STRICT;
	CREATE INDEX webhook_attempts_listing ON webhook_attempts (webhook_id, created_at DESC, id DESC);`
