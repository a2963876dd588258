package roster

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
)

// ExportFile writes Export's CSV to path whole: into a temporary file beside it, renamed
// into place once complete, so that a failed export leaves an earlier file as it was.
func (s *Service) ExportFile(ctx context.Context, path string, f Filter) (int, error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".export-*.csv")
	if err != nil {
		return 0, fmt.Errorf("roster: export: %w", err)
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	n, err := s.Export(ctx, tmp, f)
	if err != nil {
		return 0, err
	}
	if err := tmp.Close(); err != nil {
		return 0, fmt.Errorf("roster: export: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return 0, fmt.Errorf("roster: export: %w", err)
	}
	return n, nil
}
