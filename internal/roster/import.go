package roster

import (
	"context"
	"fmt"
	"io"

	"newsletter/internal/newsletter"
	"newsletter/internal/store"
	"newsletter/internal/subscriber"
)

// ImportOptions control Import.
type ImportOptions struct {
	DryRun      bool   // report, write nothing
	Strict      bool   // write nothing when any row is bad
	Resubscribe bool   // let rows bring back unsubscribed, bounced and suppressed addresses
	Source      string // recorded on new subscribers; default import
}

// ImportReport is what an import did (or would do).
type ImportReport struct {
	store.ImportResult
	Suppressed int                   // rows skipped because the address is on the suppression list
	Errors     []subscriber.RowError // bad rows, with line numbers
	Written    bool                  // false for a dry run or a strict import with bad rows
}

// Import reads a CSV (header row; email, name, status, subscribed_at) and adds or
// updates the good rows in one transaction. Bad rows are reported and skipped (with
// Strict, nothing is written). A row for a suppressed address is skipped unless
// Resubscribe, which also takes it off the suppression list. A malformed file (no
// header, no email column) is ErrBadInput and writes nothing.
func (s *Service) Import(ctx context.Context, r io.Reader, opt ImportOptions) (ImportReport, error) {
	var rep ImportReport
	rows, rowErrs, err := subscriber.ReadCSV(r)
	if err != nil {
		return rep, fmt.Errorf("%w: %v", ErrBadInput, err)
	}
	rep.Errors = rowErrs
	if opt.Strict && len(rowErrs) > 0 {
		return rep, nil
	}
	suppressed, err := s.opt.Store.SuppressionSet(ctx)
	if err != nil {
		return rep, err
	}
	source := opt.Source
	if source == "" {
		source = "import"
	}
	subs := make([]newsletter.Subscriber, 0, len(rows))
	var lift [][]byte
	for _, r := range rows {
		if len(suppressed) > 0 {
			h := s.opt.Tokens.Digest(r.Email)
			if _, ok := suppressed[string(h)]; ok {
				if !opt.Resubscribe {
					rep.Suppressed++
					continue
				}
				lift = append(lift, h)
			}
		}
		subs = append(subs, newsletter.Subscriber{Email: r.Email, Name: r.Name, Status: r.Status, Source: source, CreatedAt: r.SubscribedAt})
	}
	res, err := s.opt.Store.ImportSubscribers(ctx, subs, store.ImportOptions{DryRun: opt.DryRun, Resubscribe: opt.Resubscribe}, s.opt.Now())
	if err != nil {
		return rep, err
	}
	rep.ImportResult = res
	if !opt.DryRun {
		// After the rows: a failure here leaves addresses both imported and suppressed,
		// the safe side (they are not mailed) and fixed by running the import again.
		if err := s.opt.Store.RemoveSuppressions(ctx, lift); err != nil {
			return rep, err
		}
		rep.Written = true
	}
	return rep, nil
}
