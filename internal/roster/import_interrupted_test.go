package roster_test

import (
	"context"
	"strings"
	"testing"

	"newsletter/internal/roster"
)

// TestInterruptedImportSaysSo: an import stopped by its context (Ctrl-C on the CLI) says it
// was interrupted and how far it got, rather than only where in the store the cancel hit.
func TestInterruptedImportSaysSo(t *testing.T) {
	f := setup(t)
	good := bigCSV(2_500, "")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	_, err := f.svc.Import(ctx, &cancelAfter{r: strings.NewReader(good), n: len(good) / 2, cancel: cancel}, roster.ImportOptions{})
	if err == nil || !strings.HasPrefix(err.Error(), "import interrupted") {
		t.Fatalf("error %v, want one saying the import was interrupted", err)
	}
}
