package web_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"newsletter/internal/roster"
)

// slowCSV is a CSV of rows addresses that arrives in parts, pause apart, as a large upload
// over a slow link does.
type slowCSV struct {
	parts []string
	pause time.Duration
}

func (s *slowCSV) Read(p []byte) (int, error) {
	if len(s.parts) == 0 {
		return 0, io.EOF
	}
	time.Sleep(s.pause)
	n := copy(p, s.parts[0])
	if s.parts[0] = s.parts[0][n:]; s.parts[0] == "" {
		s.parts = s.parts[1:]
	}
	return n, nil
}

// TestImportOutlastsTheServerTimeouts: an import streams its upload into the database, so
// the server's read and write timeouts, meant for small requests, must not cut a large one
// short part way (serve's are 15 s; a 64 MiB upload takes longer on most links).
func TestImportOutlastsTheServerTimeouts(t *testing.T) {
	f := setupSignup(t, 100, 100)
	srv := httptest.NewUnstartedServer(f.srv.Config.Handler)
	srv.Config.ReadTimeout = 100 * time.Millisecond
	srv.Config.WriteTimeout = 100 * time.Millisecond
	srv.Start()
	defer srv.Close()

	parts := []string{"email,name\n"}
	for i := range 5 {
		parts = append(parts, fmt.Sprintf("slow%d@example.com,Slow %d\n", i, i))
	}
	req, err := http.NewRequest(http.MethodPost, srv.URL+"/api/subscribers/import", &slowCSV{parts: parts, pause: 60 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+adminToken)
	req.Header.Set("Content-Type", "text/csv")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("import over a slow upload: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"added": 5`) {
		t.Fatalf("import over a slow upload: %d\n%s", resp.StatusCode, body)
	}
	if _, total, err := f.svc.List(context.Background(), roster.Filter{}); err != nil || total != 5 {
		t.Fatalf("%d subscribers after the import, %v; want 5", total, err)
	}
}
