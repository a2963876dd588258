package roster_test

import (
	"newsletter/internal/roster"
	"newsletter/internal/store"
)

// The store is the Service's database in production: each job's interface must keep matching.
var (
	_ roster.SubscriberLookup   = (*store.DB)(nil)
	_ roster.SubscriberListing  = (*store.DB)(nil)
	_ roster.ConsentRecords     = (*store.DB)(nil)
	_ roster.SuppressionList    = (*store.DB)(nil)
	_ roster.SubscriberImport   = (*store.DB)(nil)
	_ roster.SubscriberEraser   = (*store.DB)(nil)
	_ roster.ListCounts         = (*store.DB)(nil)
	_ roster.ConfirmationQueue  = (*store.DB)(nil)
	_ roster.ConfirmationClaims = (*store.DB)(nil)
	_ roster.BounceRecords      = (*store.DB)(nil)
	_ roster.Store              = (*store.DB)(nil)
)
