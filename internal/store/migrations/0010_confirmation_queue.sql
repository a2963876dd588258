-- Confirmation mails waiting to go out. A sign-up is answered at once; serve mails the link
-- from here, retrying while the relay is down. One row per subscriber: a second sign-up
-- before the first mail went out asks again, it does not queue two.
CREATE TABLE confirmation_queue (
	subscriber_id INTEGER PRIMARY KEY REFERENCES subscribers (id) ON DELETE CASCADE,
	due_at        INTEGER NOT NULL,
	attempts      INTEGER NOT NULL DEFAULT 0,
	last_error    TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX confirmation_queue_due ON confirmation_queue (due_at);
