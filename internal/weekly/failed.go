package weekly

import (
	"fmt"
	"strings"
)

// AllFailed returns an error naming the sources when every feed of reports failed, nil when
// at least one was read (or there were none): a build from stored stories is still worth it
// then, but a gather that reached nothing is the operator's to fix.
func AllFailed(reports []FeedReport) error {
	var failed []string
	for _, r := range reports {
		if r.Err == nil {
			return nil
		}
		failed = append(failed, r.Source)
	}
	if len(failed) == 0 {
		return nil
	}
	return fmt.Errorf("every feed failed: %s", strings.Join(failed, ", "))
}
