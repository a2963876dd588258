-- An issue whose canary failed is held: no worker sends it until an operator releases it.
CREATE TABLE issue_holds (
	issue_id INTEGER PRIMARY KEY REFERENCES issues (id) ON DELETE CASCADE,
	reason   TEXT    NOT NULL,
	held_at  INTEGER NOT NULL
);
