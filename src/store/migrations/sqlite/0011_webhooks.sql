-- 0011_webhooks.sql - webhook deliveries remembered for idempotency
-- (docs/WEBHOOKS.md). A delivery id seen again within the retention is a
-- duplicate and queues nothing. Rows older than webhooks.delivery_retention
-- are pruned a few at a time by later deliveries.

CREATE TABLE webhook_deliveries (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    provider     TEXT    NOT NULL CHECK (provider <> ''),
    delivery_id  TEXT    NOT NULL CHECK (delivery_id <> ''),
    source_id    INTEGER,
    event        TEXT,
    jobs         INTEGER NOT NULL DEFAULT 0,
    received_ms  INTEGER NOT NULL,
    UNIQUE (provider, delivery_id)
);

CREATE INDEX webhook_deliveries_received ON webhook_deliveries (received_ms);
