package subscriber

import (
	"bytes"
	"errors"
	"io"
	"runtime"
	"strings"
	"testing"
)

// readAllMax is readAll with records capped at max bytes.
func readAllMax(r io.Reader, max int) ([]Row, []RowError, error) {
	cr, err := newCSVReader(r, max)
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

func TestCSVReaderLongRecords(t *testing.T) {
	long := strings.Repeat("x", MaxRecord) // fits, the line break aside
	over := long + "x"
	tests := []struct {
		name     string
		in       string
		wantRows map[int]string // line: email
		wantErrs map[int]string // line: error
	}{
		{
			name:     "one line just under the cap, one over",
			in:       "email,name\n" + "a@example.com," + long[:MaxRecord-len("a@example.com,")] + "\n" + "b@example.com," + long + "\nc@example.com,C\n",
			wantRows: map[int]string{2: "a@example.com", 4: "c@example.com"},
			wantErrs: map[int]string{3: "longer than 65536 bytes"},
		},
		{
			name:     "a quoted field of many short lines",
			in:       "email,name\n" + "a@example.com,\"" + strings.Repeat("line\n", 2*MaxRecord/5) + "\"\n" + "b@example.com,B\n",
			wantRows: map[int]string{3 + 2*MaxRecord/5: "b@example.com"},
			wantErrs: map[int]string{2: "longer than"},
		},
		{
			name:     "two long records in a row, the second quoted",
			in:       "email,name\n" + over + "\n\"" + long + "\n\n\"\n" + "c@example.com,C\n",
			wantRows: map[int]string{6: "c@example.com"},
			wantErrs: map[int]string{2: "longer than", 3: "longer than"},
		},
		{
			name:     "a long line at the end without a line break",
			in:       "email\na@example.com\n" + long + long,
			wantRows: map[int]string{2: "a@example.com"},
			wantErrs: map[int]string{3: "longer than"},
		},
		{
			name:     "a long line after a bare quote",
			in:       "email\na\"b@example.com\n" + over + "\nb@example.com\n",
			wantRows: map[int]string{4: "b@example.com"},
			wantErrs: map[int]string{2: "bare", 3: "longer than"},
		},
		{
			name:     "a quoted field ends the long record with CRLF",
			in:       "email,name\r\n\"a@example.com\",\"" + long + "\"\r\nb@example.com,\"B\"\r\n",
			wantRows: map[int]string{3: "b@example.com"},
			wantErrs: map[int]string{2: "longer than"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rows, rowErrs, err := readAll(strings.NewReader(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			got := map[int]string{}
			for _, r := range rows {
				got[r.Line] = r.Email
			}
			if len(got) != len(tt.wantRows) {
				t.Errorf("rows %v, want %v", got, tt.wantRows)
			}
			for line, email := range tt.wantRows {
				if got[line] != email {
					t.Errorf("line %d: %q, want %q (rows %v)", line, got[line], email, got)
				}
			}
			if len(rowErrs) != len(tt.wantErrs) {
				t.Errorf("row errors %v, want lines %v", rowErrs, tt.wantErrs)
			}
			for _, re := range rowErrs {
				if want, ok := tt.wantErrs[re.Line]; !ok || !strings.Contains(re.Error(), want) {
					t.Errorf("row error %.200v, want on line %d: %q", re, re.Line, want)
				}
				if len(re.Error()) > 200 {
					t.Errorf("row error of %d bytes", len(re.Error()))
				}
			}
		})
	}
}

// TestCSVReaderLongHeaderAfterEmptyLines: the header's record is checked where it starts,
// though it holds the email column within the part passed on.
func TestCSVReaderLongHeaderAfterEmptyLines(t *testing.T) {
	in := "\n\nemail," + strings.Repeat("x", 2*MaxRecord) + "\na@example.com,A\n"
	_, _, err := readAll(strings.NewReader(in))
	if err == nil || !strings.Contains(err.Error(), "header: longer than 65536 bytes") {
		t.Fatalf("error %.300v", err)
	}
}

// TestCSVReaderLongHeader: a file that is one 10 MB field is refused with a short error,
// read without holding the field.
func TestCSVReaderLongHeader(t *testing.T) {
	in := bytes.Repeat([]byte("y"), 10<<20)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, _, err := readAll(bytes.NewReader(in))
	runtime.ReadMemStats(&after)
	if err == nil || !strings.Contains(err.Error(), "header: longer than 65536 bytes") || len(err.Error()) > 200 {
		t.Fatalf("error %.300v", err)
	}
	// encoding/csv alone grows a buffer to the field's size and more.
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 2<<20 {
		t.Errorf("reading a 10 MiB field allocated %d bytes", alloc)
	}
}

// FuzzRecordCap reads the same file with records capped and not: every record not cut
// comes out the same, on the same line, and every record cut is reported as too long.
func FuzzRecordCap(f *testing.F) {
	f.Add([]byte("email,name\na@b.co,xxxxxxxxxxxxxxxxxxxxxxxxxx\nc@d.co,C\n"), uint8(12))
	f.Add([]byte("email,name\n\"a@b.co\",\"x\nx\nx\nxxxxxxxxxxx\"\r\nc@d.co,\"C\"\n"), uint8(9))
	f.Add([]byte("email\na\"b@c.co,xxxxxxxx\n\"yyyyyyyy\"zz\ne@f.co\n"), uint8(5))
	f.Add([]byte("email\n\n\nxxxxxxxxxxxxxxxxxxxxxxxxx\r\n\"q\"\"q\"\"@a.co\"\n"), uint8(10))
	f.Fuzz(func(t *testing.T, data []byte, max uint8) {
		capped := int(max%64) + 8 // headers of up to 8 bytes ("email\r\n") always fit
		wantRows, wantErrs, wantErr := readAllMax(bytes.NewReader(data), len(data)+1)
		rows, rowErrs, err := readAllMax(bytes.NewReader(data), capped)
		if err != nil {
			if wantErr == nil && !strings.Contains(err.Error(), "longer than") {
				t.Fatalf("capped: %v, uncapped no error", err)
			}
			return
		}
		if wantErr != nil {
			t.Fatalf("uncapped: %v, capped no error", wantErr)
		}
		byLine := map[int]Row{}
		for _, r := range wantRows {
			byLine[r.Line] = r
		}
		for _, r := range rows {
			if w, ok := byLine[r.Line]; !ok || w != r {
				t.Fatalf("capped row %+v, uncapped %+v (found %v)", r, w, ok)
			}
		}
		errByLine := map[int]string{}
		for _, e := range wantErrs {
			errByLine[e.Line] = e.Err.Error()
		}
		for _, e := range rowErrs {
			_, isErr := errByLine[e.Line]
			_, isRow := byLine[e.Line]
			if !isErr && !isRow {
				t.Fatalf("capped error on line %d (%v), where uncapped had nothing", e.Line, e.Err)
			}
			if !strings.Contains(e.Err.Error(), "longer than") && errByLine[e.Line] != e.Err.Error() {
				t.Fatalf("capped error on line %d: %v, uncapped %q", e.Line, e.Err, errByLine[e.Line])
			}
		}
		if len(rows)+len(rowErrs) != len(wantRows)+len(wantErrs) {
			t.Fatalf("capped: %d rows and %d errors; uncapped %d and %d", len(rows), len(rowErrs), len(wantRows), len(wantErrs))
		}
	})
}
