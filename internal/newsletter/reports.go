package newsletter

// IssueReports counts the bounce and complaint reports about one issue's messages.
type IssueReports struct {
	Hard, Soft, Complaints int
	// HardInLedger is how many of Hard turned a sent delivery row to bounced: messages the
	// relay accepted, which the ledger now counts as bounced.
	HardInLedger int
}

// CompactResult says what folding old per-recipient delivery rows into per-issue totals did.
type CompactResult struct {
	Issues int // issues whose ledger was folded into totals
	Rows   int // per-recipient rows removed
}
