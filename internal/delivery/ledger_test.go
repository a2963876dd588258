package delivery_test

import (
	"newsletter/internal/delivery"
	"newsletter/internal/store"
)

// The store is the ledger in production: each part of it, and the whole, must keep matching.
var (
	_ delivery.Queuer     = (*store.DB)(nil)
	_ delivery.Claims     = (*store.DB)(nil)
	_ delivery.InFlight   = (*store.DB)(nil)
	_ delivery.Retries    = (*store.DB)(nil)
	_ delivery.IssueState = (*store.DB)(nil)
	_ delivery.Counts     = (*store.DB)(nil)
	_ delivery.Ledger     = (*store.DB)(nil)
)
