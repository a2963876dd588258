-- How far the transition journal (PATH-transitions, see upgrade.go) is in the database: the
-- records of the journal file whose header carries epoch, up to byte offset applied. It
-- is written in the transaction that applies them, so a crash before the file is cut
-- back never applies a record twice.
CREATE TABLE journal_state (
	id      INTEGER PRIMARY KEY CHECK (id = 1),
	epoch   TEXT    NOT NULL,
	applied INTEGER NOT NULL
);
