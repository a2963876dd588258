package weekly

import (
	"fmt"
	"slices"
	"strings"
)

// AllFailed returns an error naming the sources when every feed of reports failed, nil when
// at least one was read (or there were none): a build from stored stories is still worth it
// then, but a gather that reached nothing is the operator's to fix.
func AllFailed(reports []FeedReport) error {
	if len(reports) == 0 || slices.ContainsFunc(reports, func(r FeedReport) bool { return r.Err == nil }) {
		return nil
	}
	failed := make([]string, len(reports))
	for i, r := range reports {
		failed[i] = r.Source
	}
	return fmt.Errorf("every feed failed: %s", strings.Join(failed, ", "))
}
