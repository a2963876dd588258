package roster_test

import (
	"newsletter/internal/roster"
	"newsletter/internal/store"
)

// The store is the Service's database in production: the interface must keep matching.
var _ roster.Store = (*store.DB)(nil)
