package postgres

// webhooksMigration adds webhook subscriptions and their delivery attempts
// (a step of migrations).
const webhooksMigration = `CREATE TABLE webhooks (
		id              text COLLATE "C" NOT NULL PRIMARY KEY CHECK (id ~ '^[0-9a-f]{24}$'),
		url             text        NOT NULL,
		events          text[]      NOT NULL,
		description     text        NOT NULL,
		secret          text        NOT NULL,
		enabled         boolean     NOT NULL,
		disabled_reason text        NOT NULL,
		created_at      timestamptz NOT NULL,
		failures        integer     NOT NULL DEFAULT 0,
		failing_since   timestamptz
	);
	CREATE TABLE webhook_attempts (
		id            text COLLATE "C" NOT NULL PRIMARY KEY CHECK (id ~ '^[0-9a-f]{24}$'),
		webhook_id    text COLLATE "C" NOT NULL,
		delivery_id   text        NOT NULL,
		event_id      text        NOT NULL,
		event_name    text        NOT NULL,
		attempt       integer     NOT NULL,
		outcome       text        NOT NULL,
		status_code   integer     NOT NULL,
		duration_ms   bigint      NOT NULL,
		error         text        NOT NULL,
		response      text        NOT NULL,
		next_retry_at timestamptz,
		created_at    timestamptz NOT NULL,
		UNIQUE (delivery_id, attempt)
	);
	CREATE INDEX webhook_attempts_listing ON webhook_attempts (webhook_id, created_at DESC, id DESC);`
