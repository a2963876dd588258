package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"newsletter/internal/newsletter"
)

func TestAddSubscriber(t *testing.T) {
	ctx := context.Background()
	db := openTestDB(t)

	s, created, err := db.AddSubscriber(ctx, newsletter.Subscriber{Email: "Ada@example.com", Name: "Ada", Source: "cli"}, t0)
	if err != nil {
		t.Fatal(err)
	}
	if !created || s.ID == 0 || s.Email != "Ada@example.com" || s.Status != newsletter.StatusActive ||
		s.Source != "cli" || !s.CreatedAt.Equal(t0) || !s.UpdatedAt.Equal(t0) || s.CreatedAt.Location() != time.UTC {
		t.Fatalf("added %+v, created %v", s, created)
	}

	tests := []struct {
		name, email string
	}{
		{"same address", "Ada@example.com"},
		{"different case", "ada@EXAMPLE.COM"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, created, err := db.AddSubscriber(ctx, newsletter.Subscriber{Email: tc.email, Name: "Other", Status: newsletter.StatusPending}, t0.Add(time.Hour))
			if err != nil {
				t.Fatal(err)
			}
			if created || got != s {
				t.Fatalf("got %+v created %v, want the existing %+v", got, created, s)
			}
		})
	}

	byEmail, err := db.SubscriberByEmail(ctx, "ADA@example.com")
	if err != nil || byEmail != s {
		t.Fatalf("SubscriberByEmail = %+v, %v", byEmail, err)
	}
	byID, err := db.SubscriberByID(ctx, s.ID)
	if err != nil || byID != s {
		t.Fatalf("SubscriberByID = %+v, %v", byID, err)
	}
	_, err = db.SubscriberByEmail(ctx, "nobody@example.com")
	errIs(t, err, newsletter.ErrNotFound)
	_, err = db.SubscriberByID(ctx, 12345)
	errIs(t, err, newsletter.ErrNotFound)

	if _, _, err := db.AddSubscriber(ctx, newsletter.Subscriber{Email: "x@example.com", Status: "gone"}, t0); err == nil {
		t.Fatal("invalid status accepted")
	}
	if _, _, err := db.AddSubscriber(ctx, newsletter.Subscriber{}, t0); err == nil {
		t.Fatal("empty email accepted")
	}
}

func TestApplyTransitionStatus(t *testing.T) {
	ctx := context.Background()
	db := openTestDB(t)
	s, _, err := db.AddSubscriber(ctx, newsletter.Subscriber{Email: "a@example.com"}, t0)
	if err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		st      newsletter.SubscriberStatus
		changed bool
	}{
		{newsletter.StatusUnsubscribed, true},
		{newsletter.StatusUnsubscribed, false},
		{newsletter.StatusActive, true},
		{newsletter.StatusBounced, true},
	}
	for i, step := range steps {
		now := t0.Add(time.Duration(i+1) * time.Hour)
		changed, err := db.ApplyTransition(ctx, Transition{ID: s.ID, Status: step.st}, now)
		if err != nil {
			t.Fatal(err)
		}
		if changed != step.changed {
			t.Fatalf("step %d (%s): changed %v, want %v", i, step.st, changed, step.changed)
		}
		got, err := db.SubscriberByID(ctx, s.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Status != step.st {
			t.Fatalf("step %d: status %s, want %s", i, got.Status, step.st)
		}
		if step.changed && !got.UpdatedAt.Equal(now) {
			t.Fatalf("step %d: updated_at %v, want %v", i, got.UpdatedAt, now)
		}
		if step.st == newsletter.StatusUnsubscribed {
			var at int64
			if err := db.db.QueryRowContext(ctx, `SELECT unsubscribed_at FROM subscribers WHERE id = ?`, s.ID).Scan(&at); err != nil {
				t.Fatal(err)
			}
			if at != t0.Add(time.Hour).Unix() {
				t.Fatalf("unsubscribed_at %d, want the first unsubscribe", at)
			}
		}
	}
	_, err = db.ApplyTransition(ctx, Transition{ID: 999, Status: newsletter.StatusActive}, t0)
	errIs(t, err, newsletter.ErrNotFound)
	if _, err := db.ApplyTransition(ctx, Transition{ID: s.ID, Status: "Active "}, t0); err == nil {
		t.Fatal("invalid status accepted")
	}
}

// streamOf streams rows to ImportSubscribers.
func streamOf(rows ...newsletter.Subscriber) SubscriberStream {
	return func(yield func(newsletter.Subscriber) error) error {
		for _, r := range rows {
			if err := yield(r); err != nil {
				return err
			}
		}
		return nil
	}
}

func TestImportSubscribers(t *testing.T) {
	ctx := context.Background()
	db := openTestDB(t)
	seed := []newsletter.Subscriber{
		{Email: "active@example.com", Name: "Active"},
		{Email: "gone@example.com", Name: "Gone", Status: newsletter.StatusUnsubscribed},
		{Email: "bounced@example.com", Name: "Bounced", Status: newsletter.StatusBounced},
		{Email: "same@example.com", Name: "Same"},
	}
	for _, s := range seed {
		if _, _, err := db.AddSubscriber(ctx, s, t0); err != nil {
			t.Fatal(err)
		}
	}
	subscribedAt := time.Date(2024, time.January, 2, 3, 4, 5, 0, time.UTC)
	rows := []newsletter.Subscriber{
		{Email: "new@example.com", Name: "New", Status: newsletter.StatusActive, CreatedAt: subscribedAt},
		{Email: "new2@example.com"}, // added, active, created now
		{Email: "ACTIVE@example.com", Name: "Active Renamed", Status: newsletter.StatusActive}, // updated
		{Email: "gone@example.com", Name: "Gone Renamed", Status: newsletter.StatusActive},     // kept
		{Email: "bounced@example.com", Status: newsletter.StatusPending},                       // kept
		{Email: "same@example.com", Name: "Same", Status: newsletter.StatusActive},             // unchanged
		{Email: "same@example.com", Status: newsletter.StatusActive},                           // unchanged: empty name keeps the stored one
		{Email: "new@example.com", Status: newsletter.StatusUnsubscribed},                      // updated: sees the row above
	}
	now := t0.Add(24 * time.Hour)

	before, err := db.ListSubscribers(ctx, SubscriberFilter{})
	if err != nil {
		t.Fatal(err)
	}
	want := ImportResult{Added: 2, Updated: 2, Unchanged: 2, Kept: 2}
	dry, err := db.ImportSubscribers(ctx, streamOf(rows...), ImportOptions{DryRun: true}, now)
	if err != nil {
		t.Fatal(err)
	}
	if dry != want {
		t.Fatalf("dry run = %+v, want %+v", dry, want)
	}
	after, err := db.ListSubscribers(ctx, SubscriberFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(after) != fmt.Sprint(before) {
		t.Fatalf("dry run changed the list:\n%v\n%v", before, after)
	}

	got, err := db.ImportSubscribers(ctx, streamOf(rows...), ImportOptions{}, now)
	if err != nil {
		t.Fatal(err)
	}
	if got != want {
		t.Fatalf("import = %+v, want %+v", got, want)
	}
	check := func(email, name string, st newsletter.SubscriberStatus) newsletter.Subscriber {
		t.Helper()
		s, err := db.SubscriberByEmail(ctx, email)
		if err != nil {
			t.Fatal(err)
		}
		if s.Name != name || s.Status != st {
			t.Fatalf("%s = %q %s, want %q %s", email, s.Name, s.Status, name, st)
		}
		return s
	}
	n := check("new@example.com", "New", newsletter.StatusUnsubscribed)
	if n.Source != "import" || !n.CreatedAt.Equal(subscribedAt) {
		t.Errorf("new: source %q created %v", n.Source, n.CreatedAt)
	}
	if n2 := check("new2@example.com", "", newsletter.StatusActive); !n2.CreatedAt.Equal(now) {
		t.Errorf("new2 created %v, want now", n2.CreatedAt)
	}
	check("active@example.com", "Active Renamed", newsletter.StatusActive)
	check("gone@example.com", "Gone", newsletter.StatusUnsubscribed)
	check("bounced@example.com", "Bounced", newsletter.StatusBounced)
	if s := check("same@example.com", "Same", newsletter.StatusActive); !s.UpdatedAt.Equal(t0) {
		t.Errorf("unchanged row touched: updated_at %v", s.UpdatedAt)
	}

	// Again, allowing re-subscription.
	got, err = db.ImportSubscribers(ctx, streamOf(rows[3:5]...), ImportOptions{Resubscribe: true}, now)
	if err != nil {
		t.Fatal(err)
	}
	if want := (ImportResult{Updated: 2}); got != want {
		t.Fatalf("resubscribe import = %+v, want %+v", got, want)
	}
	check("gone@example.com", "Gone Renamed", newsletter.StatusActive)
	check("bounced@example.com", "Bounced", newsletter.StatusPending)

	// A bad row fails the whole import and keeps nothing.
	_, err = db.ImportSubscribers(ctx, streamOf(newsletter.Subscriber{Email: "fine@example.com"}, newsletter.Subscriber{Email: ""}), ImportOptions{}, now)
	if err == nil {
		t.Fatal("empty email accepted")
	}
	_, err = db.SubscriberByEmail(ctx, "fine@example.com")
	errIs(t, err, newsletter.ErrNotFound)
}

func TestImportSubscribersAcrossChunks(t *testing.T) {
	ctx := context.Background()
	db := openTestDB(t)
	n := ImportChunk*2 + 7
	rows := make([]newsletter.Subscriber, 0, n+2)
	for i := range n {
		rows = append(rows, newsletter.Subscriber{Email: fmt.Sprintf("user%d@example.com", i), Name: "U"})
	}
	// Later rows for addresses first seen in an earlier chunk, in another case.
	rows = append(rows,
		newsletter.Subscriber{Email: "USER3@example.com", Status: newsletter.StatusUnsubscribed},
		newsletter.Subscriber{Email: "User3@Example.com", Status: newsletter.StatusActive}, // kept: no Resubscribe
	)
	res, err := db.ImportSubscribers(ctx, streamOf(rows...), ImportOptions{}, t0)
	if err != nil {
		t.Fatal(err)
	}
	if want := (ImportResult{Added: n, Updated: 1, Kept: 1}); res != want {
		t.Fatalf("import = %+v, want %+v", res, want)
	}
	s, err := db.SubscriberByEmail(ctx, "user3@example.com")
	if err != nil || s.Status != newsletter.StatusUnsubscribed || s.Email != "user3@example.com" {
		t.Fatalf("user3 = %+v, %v", s, err)
	}
	counts, err := db.CountSubscribers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if counts[newsletter.StatusActive] != n-1 || counts[newsletter.StatusUnsubscribed] != 1 {
		t.Fatalf("counts %v", counts)
	}
	if _, err := db.ImportSubscribers(ctx, streamOf(newsletter.Subscriber{Email: "x@example.com", Status: "Active"}), ImportOptions{}, t0); err == nil {
		t.Fatal("status in the wrong case accepted")
	}
}

// TestImportKeepsTheWALToAChunk: an import checkpoints after each chunk, so that however many
// chunks it writes, the WAL stays far under the auto-checkpoint threshold, which another
// writer's commit (a one-click unsubscribe beside the import) would otherwise cross and then
// copy the import's pages before its answer.
func TestImportKeepsTheWALToAChunk(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "wal.db")
	db := openAt(t, path)
	var pageSize, autoPages int
	if err := db.db.QueryRowContext(ctx, `PRAGMA page_size`).Scan(&pageSize); err != nil {
		t.Fatal(err)
	}
	if err := db.db.QueryRowContext(ctx, `PRAGMA wal_autocheckpoint`).Scan(&autoPages); err != nil {
		t.Fatal(err)
	}
	// Enough chunks to write more pages than the threshold, had they stayed in the WAL.
	n := ImportChunk * 40
	rows := make([]newsletter.Subscriber, n)
	for i := range rows {
		rows[i] = newsletter.Subscriber{Email: fmt.Sprintf("reader%d@example.com", i), Name: "A Reader"}
	}
	res, err := db.ImportSubscribers(ctx, streamOf(rows...), ImportOptions{}, t0)
	if err != nil || res.Added != n {
		t.Fatalf("import = %+v, %v", res, err)
	}
	st, err := os.Stat(path + "-wal")
	if err != nil {
		t.Fatal(err)
	}
	if limit := int64(autoPages * pageSize / 4); st.Size() > limit {
		t.Fatalf("WAL of %d bytes after a %d-row import, want at most %d (a quarter of the auto-checkpoint threshold)", st.Size(), n, limit)
	}
}

// TestImportSubscribersDuplicatesInOneChunk streams several rows for one address
// inside one chunk, which the lookup at the start of the chunk cannot see: each
// later row must update what the earlier one wrote, by the rules for an existing
// address, and never insert the address twice.
func TestImportSubscribersDuplicatesInOneChunk(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name       string
		rows       []newsletter.Subscriber
		opt        ImportOptions
		want       ImportResult
		wantName   string
		wantStatus newsletter.SubscriberStatus
	}{
		{
			name: "later row updates, other case in the local part",
			rows: []newsletter.Subscriber{
				{Email: "ada@example.com", Name: "Ada", Status: newsletter.StatusActive},
				{Email: "ADA@example.com", Name: "Ada L.", Status: newsletter.StatusUnsubscribed},
			},
			want:     ImportResult{Added: 1, Updated: 1},
			wantName: "Ada L.", wantStatus: newsletter.StatusUnsubscribed,
		},
		{
			name: "the same row twice is unchanged the second time",
			rows: []newsletter.Subscriber{
				{Email: "ada@example.com", Name: "Ada"},
				{Email: "ada@example.com", Name: "Ada"},
			},
			want:     ImportResult{Added: 1, Unchanged: 1},
			wantName: "Ada", wantStatus: newsletter.StatusActive,
		},
		{
			name: "an empty name keeps the earlier row's",
			rows: []newsletter.Subscriber{
				{Email: "ada@example.com", Name: "Ada"},
				{Email: "ada@example.com", Status: newsletter.StatusPending},
			},
			want:     ImportResult{Added: 1, Updated: 1},
			wantName: "Ada", wantStatus: newsletter.StatusPending,
		},
		{
			name: "an unsubscribed row is not re-activated by a later one",
			rows: []newsletter.Subscriber{
				{Email: "ada@example.com", Name: "Ada", Status: newsletter.StatusUnsubscribed},
				{Email: "ada@example.com", Name: "Ada Again", Status: newsletter.StatusActive},
			},
			want:     ImportResult{Added: 1, Kept: 1},
			wantName: "Ada", wantStatus: newsletter.StatusUnsubscribed,
		},
		{
			name: "with Resubscribe it is",
			rows: []newsletter.Subscriber{
				{Email: "ada@example.com", Name: "Ada", Status: newsletter.StatusUnsubscribed},
				{Email: "ada@example.com", Name: "Ada Again", Status: newsletter.StatusActive},
			},
			opt:      ImportOptions{Resubscribe: true},
			want:     ImportResult{Added: 1, Updated: 1},
			wantName: "Ada Again", wantStatus: newsletter.StatusActive,
		},
		{
			name: "three rows, each sees the one before, new addresses around them",
			rows: []newsletter.Subscriber{
				{Email: "ada@example.com", Name: "A"},
				{Email: "bob@example.com"},
				{Email: "Ada@example.com", Name: "B"},
				{Email: "cy@example.com"},
				{Email: "ada@example.com", Name: "C", Status: newsletter.StatusBounced},
				{Email: "dee@example.com"},
			},
			want:     ImportResult{Added: 4, Updated: 2},
			wantName: "C", wantStatus: newsletter.StatusBounced,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			db := openTestDB(t)
			got, err := db.ImportSubscribers(ctx, streamOf(tc.rows...), tc.opt, t0)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Fatalf("import = %+v, want %+v", got, tc.want)
			}
			s, err := db.SubscriberByEmail(ctx, "ada@example.com")
			if err != nil {
				t.Fatal(err)
			}
			if s.Email != tc.rows[0].Email || s.Name != tc.wantName || s.Status != tc.wantStatus {
				t.Fatalf("stored %q %q %s, want %q %q %s", s.Email, s.Name, s.Status, tc.rows[0].Email, tc.wantName, tc.wantStatus)
			}
			events, err := db.ConsentLog(ctx, s.ID)
			if err != nil {
				t.Fatal(err)
			}
			if len(events) != 1 || events[0].Event != "joined" {
				t.Fatalf("consent log %+v, want one joined", events)
			}
		})
	}
}

// TestImportSubscribersStopsAtAChunk checks that an import that stops part way keeps the
// whole chunks before it and says how many rows they were, and that running the whole
// import again adds the rest and changes nothing of what was written.
func TestImportSubscribersStopsAtAChunk(t *testing.T) {
	readFailed := errors.New("read failed")
	rows := func(n int, last error) SubscriberStream {
		return func(yield func(newsletter.Subscriber) error) error {
			for i := range n {
				if err := yield(newsletter.Subscriber{Email: fmt.Sprintf("user%d@example.com", i)}); err != nil {
					return err
				}
			}
			return last
		}
	}
	tests := []struct {
		name    string
		rows    SubscriberStream
		cancel  bool
		wantErr error
	}{
		{name: "the stream fails", rows: rows(ImportChunk*2+3, readFailed), wantErr: readFailed},
		{name: "context cancelled", rows: rows(ImportChunk*3, nil), cancel: true, wantErr: context.Canceled},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			db := openTestDB(t)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			stream := tc.rows
			if tc.cancel {
				stream = func(yield func(newsletter.Subscriber) error) error {
					n := 0
					return tc.rows(func(s newsletter.Subscriber) error {
						if n++; n == ImportChunk*2+1 {
							cancel()
						}
						return yield(s)
					})
				}
			}
			res, err := db.ImportSubscribers(ctx, stream, ImportOptions{}, t0)
			errIs(t, err, tc.wantErr)
			counts, err := db.CountSubscribers(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if kept := counts[newsletter.StatusActive]; kept != ImportChunk*2 || res.Rows() != kept {
				t.Fatalf("the stopped import kept %d rows and reports %d, want the two whole chunks before the failure", kept, res.Rows())
			}
			again, err := db.ImportSubscribers(context.Background(), rows(ImportChunk*3, nil), ImportOptions{}, t0)
			if err != nil || again.Added != ImportChunk || again.Unchanged != ImportChunk*2 || again.Updated != 0 {
				t.Fatalf("running it again: %+v, %v; want the last chunk added and the rest unchanged", again, err)
			}
			var joined int
			if err := db.db.QueryRowContext(context.Background(), `SELECT COUNT(*) FROM consent_events WHERE event = 'joined'`).Scan(&joined); err != nil {
				t.Fatal(err)
			}
			if joined != ImportChunk*3 {
				t.Fatalf("%d joined events for %d subscribers", joined, ImportChunk*3)
			}
		})
	}
}

func TestListSubscribers(t *testing.T) {
	ctx := context.Background()
	db := openTestDB(t)
	add := []newsletter.Subscriber{
		{Email: "ada@example.com", Name: "Ada Lovelace"},
		{Email: "bob_smith@example.com", Name: "Bob"},
		{Email: "bobxsmith@example.com", Name: "Bob X"},
		{Email: "carol@example.org", Name: "Carol 100% Real", Status: newsletter.StatusUnsubscribed},
		{Email: "dave@example.org", Name: "Dave 100 Real"},
		{Email: "erin@example.net", Name: `Erin \ Backslash`, Status: newsletter.StatusBounced},
	}
	for _, s := range add {
		if _, _, err := db.AddSubscriber(ctx, s, t0); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name string
		f    SubscriberFilter
		want []string
	}{
		{"all", SubscriberFilter{}, []string{"ada@example.com", "bob_smith@example.com", "bobxsmith@example.com", "carol@example.org", "dave@example.org", "erin@example.net"}},
		{"status", SubscriberFilter{Status: newsletter.StatusActive}, []string{"ada@example.com", "bob_smith@example.com", "bobxsmith@example.com", "dave@example.org"}},
		{"search name, case-insensitive", SubscriberFilter{Search: "LOVELACE"}, []string{"ada@example.com"}},
		{"search email", SubscriberFilter{Search: "example.org"}, []string{"carol@example.org", "dave@example.org"}},
		{"underscore is literal", SubscriberFilter{Search: "bob_"}, []string{"bob_smith@example.com"}},
		{"percent is literal", SubscriberFilter{Search: "100%"}, []string{"carol@example.org"}},
		{"backslash is literal", SubscriberFilter{Search: `\`}, []string{"erin@example.net"}},
		{"search and status", SubscriberFilter{Search: "bob", Status: newsletter.StatusActive}, []string{"bob_smith@example.com", "bobxsmith@example.com"}},
		{"limit", SubscriberFilter{Limit: 2}, []string{"ada@example.com", "bob_smith@example.com"}},
		{"limit and offset", SubscriberFilter{Limit: 2, Offset: 3}, []string{"carol@example.org", "dave@example.org"}},
		{"offset only", SubscriberFilter{Offset: 5}, []string{"erin@example.net"}},
		{"nothing", SubscriberFilter{Search: "zzz"}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := db.ListSubscribers(ctx, tc.f)
			if err != nil {
				t.Fatal(err)
			}
			var emails []string
			for _, s := range got {
				emails = append(emails, s.Email)
			}
			if fmt.Sprint(emails) != fmt.Sprint(tc.want) {
				t.Fatalf("got %v, want %v", emails, tc.want)
			}
		})
	}

	counts, err := db.CountSubscribers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	wantCounts := map[newsletter.SubscriberStatus]int{
		newsletter.StatusActive: 4, newsletter.StatusPending: 0, newsletter.StatusUnsubscribed: 1, newsletter.StatusBounced: 1,
	}
	if fmt.Sprint(counts) != fmt.Sprint(wantCounts) {
		t.Fatalf("counts %v, want %v", counts, wantCounts)
	}
}

func TestEachSubscriber(t *testing.T) {
	ctx := context.Background()
	db := openTestDB(t)
	const n = 5000
	rows := make([]newsletter.Subscriber, n)
	for i := range rows {
		rows[i] = newsletter.Subscriber{Email: fmt.Sprintf("user%05d@example.com", i)}
	}
	if _, err := db.ImportSubscribers(ctx, streamOf(rows...), ImportOptions{}, t0); err != nil {
		t.Fatal(err)
	}
	seen := 0
	var lastID int64
	err := db.EachSubscriber(ctx, SubscriberFilter{}, func(s newsletter.Subscriber) error {
		if s.ID <= lastID {
			return fmt.Errorf("id %d after %d", s.ID, lastID)
		}
		if want := fmt.Sprintf("user%05d@example.com", seen); s.Email != want {
			return fmt.Errorf("row %d is %s, want %s", seen, s.Email, want)
		}
		lastID = s.ID
		seen++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if seen != n {
		t.Fatalf("saw %d, want %d", seen, n)
	}

	stop := errors.New("stop")
	calls := 0
	err = db.EachSubscriber(ctx, SubscriberFilter{}, func(newsletter.Subscriber) error {
		calls++
		if calls == 10 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || calls != 10 {
		t.Fatalf("EachSubscriber = %v after %d calls, want stop after 10", err, calls)
	}
}

func BenchmarkImportSubscribers(b *testing.B) {
	const n = 100_000
	rows := make([]newsletter.Subscriber, n)
	for i := range rows {
		rows[i] = newsletter.Subscriber{Email: fmt.Sprintf("user%d@example%d.com", i, i%100), Name: fmt.Sprintf("User %d", i)}
	}
	ctx := context.Background()
	for b.Loop() {
		b.StopTimer()
		db := openTestDB(b)
		b.StartTimer()
		res, err := db.ImportSubscribers(ctx, streamOf(rows...), ImportOptions{}, t0)
		if err != nil || res.Added != n {
			b.Fatal(res, err)
		}
	}
}

// TestEraseLeavesNoTrace erases a subscriber while the database is open, as serve holds
// it, and reads every byte of the database file, its -wal and its -shm: neither the
// address nor the name is there any more, though the other subscribers' are.
func TestEraseLeavesNoTrace(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "nl.db")
	db, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	now := time.Date(2026, 5, 4, 8, 0, 0, 0, time.UTC)
	const email, name = "erase-me.7f3a@example.com", "Eraseme Quixotic"
	var target newsletter.Subscriber
	for i := range 300 {
		s := newsletter.Subscriber{Email: fmt.Sprintf("reader%03d@example.com", i), Name: fmt.Sprintf("Reader %d", i), Status: newsletter.StatusActive}
		if i == 150 {
			s.Email, s.Name = email, name
		}
		got, _, err := db.AddSubscriber(ctx, s, now)
		if err != nil {
			t.Fatal(err)
		}
		if i == 150 {
			target = got
		}
	}
	// Changes to the row put more copies of it in the WAL and the file.
	for _, st := range []newsletter.SubscriberStatus{newsletter.StatusUnsubscribed, newsletter.StatusActive} {
		if _, err := db.ApplyTransition(ctx, Transition{ID: target.ID, Status: st}, now); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.db.ExecContext(ctx, `PRAGMA wal_checkpoint(PASSIVE)`); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ApplyTransition(ctx, Transition{ID: target.ID, Status: newsletter.StatusUnsubscribed}, now); err != nil {
		t.Fatal(err)
	}
	if !filesHold(t, path, email) {
		t.Fatal("the address is not in the files before the erase: the test proves nothing")
	}
	if err := db.EraseSubscriber(ctx, target.ID, bytes.Repeat([]byte{7}, 32), now); err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{email, name} {
		if filesHold(t, path, secret) {
			t.Errorf("%q is still in the database's files after the erase", secret)
		}
	}
	if !filesHold(t, path, "reader151@example.com") {
		t.Error("another subscriber's address is gone from the files")
	}
}

// filesHold reports whether the database file, its -wal or its -shm holds s.
func filesHold(t *testing.T, path, s string) bool {
	t.Helper()
	found := false
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		data, err := os.ReadFile(p)
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		if bytes.Contains(data, []byte(s)) {
			t.Logf("%s holds %q", filepath.Base(p), s)
			found = true
		}
	}
	return found
}

// TestImportLogsStatusChanges: an import row that changes a known address's status leaves
// a consent event from "import", as every other change of status does; a row that changes
// nothing logs nothing.
func TestImportLogsStatusChanges(t *testing.T) {
	ctx := context.Background()
	db := openTestDB(t)
	row := func(st newsletter.SubscriberStatus) newsletter.Subscriber {
		return newsletter.Subscriber{Email: "ada@example.com", Name: "Ada", Status: st}
	}
	steps := []struct {
		status newsletter.SubscriberStatus
		opt    ImportOptions
	}{
		{newsletter.StatusActive, ImportOptions{}},
		{newsletter.StatusUnsubscribed, ImportOptions{}},
		{newsletter.StatusUnsubscribed, ImportOptions{}}, // no change
		{newsletter.StatusActive, ImportOptions{}},       // kept out without Resubscribe
		{newsletter.StatusActive, ImportOptions{Resubscribe: true}},
		{newsletter.StatusBounced, ImportOptions{}},
	}
	for i, st := range steps {
		if _, err := db.ImportSubscribers(ctx, streamOf(row(st.status)), st.opt, t0.Add(time.Duration(i)*time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	s, err := db.SubscriberByEmail(ctx, "ada@example.com")
	if err != nil {
		t.Fatal(err)
	}
	events, err := db.ConsentLog(ctx, s.ID)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range events {
		got = append(got, e.Event+"/"+e.Source)
	}
	want := []string{"joined/import", "left/import", "resubscribed/import", "bounced/import"}
	if !slices.Equal(got, want) {
		t.Fatalf("consent log %v, want %v", got, want)
	}
}

// TestWeeklyTrend: joins and departures land in their UTC week (weeks start on Monday),
// oldest first, every week present, nothing from before the first week.
func TestWeeklyTrend(t *testing.T) {
	ctx := context.Background()
	db := openTestDB(t)
	monday := t0.Truncate(24 * time.Hour) // t0 is a Monday
	week := 7 * 24 * time.Hour
	ids := map[string]int64{}
	for name, created := range map[string]time.Time{
		"old":       monday.Add(-10 * week),
		"two-ago":   monday.Add(-2*week + time.Hour),
		"last-sun":  monday.Add(-time.Second),
		"this-week": monday.Add(2 * time.Hour),
	} {
		s, _, err := db.AddSubscriber(ctx, newsletter.Subscriber{Email: name + "@example.com", CreatedAt: created}, created)
		if err != nil {
			t.Fatal(err)
		}
		ids[name] = s.ID
	}
	for name, at := range map[string]time.Time{"old": monday.Add(-week), "two-ago": monday.Add(3 * time.Hour)} {
		if _, err := db.ApplyTransition(ctx, Transition{ID: ids[name], Status: newsletter.StatusUnsubscribed}, at); err != nil {
			t.Fatal(err)
		}
	}
	got, err := db.WeeklyTrend(ctx, 3, monday.Add(5*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	want := []WeekCount{
		{Start: monday.Add(-2 * week), Joined: 1},
		{Start: monday.Add(-week), Joined: 1, Left: 1},
		{Start: monday, Joined: 1, Left: 1},
	}
	if !slices.Equal(got, want) {
		t.Fatalf("WeeklyTrend = %+v, want %+v", got, want)
	}
	if got, err := db.WeeklyTrend(ctx, 0, t0); got != nil || err != nil {
		t.Fatalf("WeeklyTrend of 0 weeks = %v, %v", got, err)
	}
}
