package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestSubscribersSuppressionEraseShow(t *testing.T) {
	c := newCLI(t)
	out := c.mustRun("subscribers", "add", "Ada@Example.com", "--name", "Ada")
	if !strings.Contains(out, "Added Ada@example.com (active)") {
		t.Fatalf("add: %s", out)
	}
	c.mustRun("subscribers", "add", "bob@example.com")
	c.mustRun("subscribers", "add", "cy@example.com")
	c.mustRun("subscribers", "remove", "bob@example.com")
	c.mustRun("subscribers", "suppress", "cy@example.com", "--reason", "complained")

	show := c.mustRun("subscribers", "show", "Ada@example.com")
	if !regexp.MustCompile(`(?m)^Status:\s+active$`).MatchString(show) || !regexp.MustCompile(`joined\s+cli`).MatchString(show) {
		t.Fatalf("show:\n%s", show)
	}
	show = c.mustRun("subscribers", "show", "bob@example.com")
	if !regexp.MustCompile(`left\s+cli`).MatchString(show) || !strings.Contains(show, "Suppressed:  unsubscribed") {
		t.Fatalf("show bob:\n%s", show)
	}
	list := c.mustRun("subscribers", "list", "--status", "suppressed")
	if !strings.Contains(list, "bob@example.com") || !strings.Contains(list, "cy@example.com") || strings.Contains(list, "Ada@") {
		t.Fatalf("suppressed list:\n%s", list)
	}
	if list := c.mustRun("subscribers", "list", "--search", "ADA"); !strings.Contains(list, "Ada@example.com") || strings.Contains(list, "bob@") {
		t.Fatalf("search:\n%s", list)
	}

	// GDPR erase: the row goes, the hash stays, and neither import nor add brings it back.
	out = c.mustRun("subscribers", "remove", "--erase", "Ada@example.com")
	if !strings.Contains(out, "Erased") {
		t.Fatalf("erase: %s", out)
	}
	if list := c.mustRun("subscribers", "list"); strings.Contains(list, "Ada@") {
		t.Fatalf("erased address still listed:\n%s", list)
	}
	if show := c.mustRun("subscribers", "show", "ada@example.com"); !strings.Contains(show, "suppression list (erased)") {
		t.Fatalf("show erased: %s", show)
	}
	csvPath := filepath.Join(c.dir, "back.csv")
	os.WriteFile(csvPath, []byte("email,name\nada@example.com,Ada\nnew@example.com,New\n"), 0o600)
	out = c.mustRun("subscribers", "import", csvPath)
	if !strings.Contains(out, "1 added") || !strings.Contains(out, "1 row(s) skipped") {
		t.Fatalf("import after erase:\n%s", out)
	}
	if code, _, errOut := c.run("subscribers", "add", "ada@example.com"); code != exitFailure || !strings.Contains(errOut, "suppression list") {
		t.Fatalf("add after erase: exit %d %s", code, errOut)
	}
	c.mustRun("subscribers", "add", "ada@example.com", "--force")

	stats := c.mustRun("subscribers", "stats", "--weeks", "2")
	for _, want := range []string{`active\s+2\n`, `unsubscribed\s+2\n`, `suppressed\s+2\n`, `erased\s+0\n`, `WEEK OF`} {
		if !regexp.MustCompile(want).MatchString(stats) {
			t.Fatalf("stats lacks %s:\n%s", want, stats)
		}
	}
	c.mustRun("subscribers", "erase", "new@example.com")

	for _, tt := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"subscribers", "list", "--status", "gone"}, exitUsage, "--status"},
		{[]string{"subscribers", "show"}, exitUsage, "exactly one EMAIL"},
		{[]string{"subscribers", "show", "nobody@example.com"}, exitFailure, "not on the list"},
		{[]string{"subscribers", "erase", "not-an-address"}, exitUsage, "not-an-address"},
		{[]string{"subscribers", "suppress", "x@example.com", "--reason", "mood"}, exitUsage, "--reason"},
		{[]string{"subscribers", "stats", "--weeks", "-1"}, exitUsage, "--weeks"},
	} {
		code, _, errOut := c.run(tt.args...)
		if code != tt.code || !strings.Contains(errOut, tt.want) {
			t.Errorf("%v: exit %d, stderr %q", tt.args, code, errOut)
		}
	}
}

// TestServeSignUp signs up through `newsletter serve` like a visitor: the form, the
// confirmation mail in the outbox, the scanner's GET, the button; then the admin API.
func TestServeSignUp(t *testing.T) {
	c := newCLI(t)
	c.env["NEWSLETTER_HTTP_ADDR"] = "127.0.0.1:0"
	c.env["NEWSLETTER_ADMIN_TOKEN"] = "admin-token-0123456789"
	ctx, cancel := context.WithCancel(context.Background())
	var out syncBuffer
	done := make(chan int)
	go func() {
		done <- run(ctx, []string{"serve"}, &out, &out, func(k string) string { return c.env[k] }, time.Now)
	}()
	defer func() {
		cancel()
		if code := <-done; code != 0 {
			t.Errorf("serve exit %d:\n%s", code, out.String())
		}
	}()
	var base string
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if m := regexp.MustCompile(`Listening on (http://\S+)`).FindStringSubmatch(out.String()); m != nil {
			base = m[1]
			break
		}
	}
	if base == "" {
		t.Fatalf("serve did not start:\n%s", out.String())
	}
	body := get(t, base+"/subscribe")
	m := regexp.MustCompile(`name="form_token" value="([^"]+)"`).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("form:\n%s", body)
	}
	resp, err := http.PostForm(base+"/subscribe", url.Values{"email": {"reader@example.com"}, "name": {"Reader"}, "form_token": {m[1]}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("sign-up: %d", resp.StatusCode)
	}
	files := awaitMail(t, filepath.Join(c.dir, "outbox"), 1)
	raw, _ := os.ReadFile(files[0])
	lm := regexp.MustCompile(`https://news\.example\.org(/confirm/[A-Za-z0-9_\-]+)`).FindStringSubmatch(strings.ReplaceAll(string(raw), "=\r\n", ""))
	if lm == nil {
		t.Fatalf("no link:\n%s", raw)
	}
	get(t, base+lm[1]) // a scanner
	if list := c.mustRun("subscribers", "list", "--status", "pending"); !strings.Contains(list, "reader@example.com") {
		t.Fatalf("not pending after GET:\n%s", list)
	}
	resp, err = http.PostForm(base+lm[1], url.Values{})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("confirm: %d", resp.StatusCode)
	}
	show := c.mustRun("subscribers", "show", "reader@example.com")
	if !regexp.MustCompile(`joined\s+web\s+127\.0\.0\.1`).MatchString(show) || !regexp.MustCompile(`confirmed\s+web\s+127\.0\.0\.1`).MatchString(show) {
		t.Fatalf("consent log:\n%s", show)
	}
	// The admin API is behind the token.
	resp, err = http.Get(base + "/api/subscribers")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("API without token: %d", resp.StatusCode)
	}
	req, _ := http.NewRequest(http.MethodGet, base+"/api/stats", nil)
	req.Header.Set("Authorization", "Bearer admin-token-0123456789")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(b), `"active": 1`) {
		t.Fatalf("stats: %d %s", resp.StatusCode, b)
	}
}

func get(t *testing.T, u string) string {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d\n%s", u, resp.StatusCode, b)
	}
	return string(b)
}

// TestImportMillionRows measures a 1,000,000-row import through the CLI. It is slow,
// so it runs only with NEWSLETTER_BIG_IMPORT=1; the README quotes its result.
func TestImportMillionRows(t *testing.T) {
	if os.Getenv("NEWSLETTER_BIG_IMPORT") == "" {
		t.Skip("set NEWSLETTER_BIG_IMPORT=1 to import a million rows")
	}
	c := newCLI(t)
	path := filepath.Join(c.dir, "big.csv")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintln(f, "email,name,status,subscribed_at")
	for i := range 1_000_000 {
		fmt.Fprintf(f, "reader%d@example%d.com,Reader %d,active,2026-01-02\n", i, i%1000, i)
	}
	f.Close()
	c.mustRun("subscribers", "erase", "reader5@example5.com")
	start := time.Now()
	out := c.mustRun("subscribers", "import", path)
	took := time.Since(start)
	t.Logf("imported 1,000,000 rows in %s: %s", took.Round(time.Millisecond), strings.TrimSpace(out))
	if !strings.Contains(out, "999999 added") {
		t.Fatalf("import:\n%s", out)
	}
}

// TestSubscribersExportNeutralisesFormulas: `subscribers export` writes a formula-looking
// name with the leading apostrophe, and `subscribers import` of that file into a fresh
// database gives the name back as it was.
func TestSubscribersExportNeutralisesFormulas(t *testing.T) {
	c := newCLI(t)
	name := "@SUM(1+1)*cmd|' /C calc'!A0"
	c.mustRun("subscribers", "add", "=1+2@example.com", "--name", name)
	out := filepath.Join(c.dir, "export.csv")
	c.mustRun("subscribers", "export", "--output", out)
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if want := "'=1+2@example.com,'" + name + ","; !strings.Contains(string(data), want) {
		t.Fatalf("export lacks %q:\n%s", want, data)
	}
	d := newCLI(t)
	d.mustRun("subscribers", "import", out)
	if show := d.mustRun("subscribers", "show", "=1+2@example.com"); !strings.Contains(show, name) {
		t.Fatalf("after the round trip:\n%s", show)
	}
}

// TestSubscribersEraseLeavesNoTrace: after `subscribers erase`, neither the address nor the
// name is anywhere in the database's files.
func TestSubscribersEraseLeavesNoTrace(t *testing.T) {
	c := newCLI(t)
	c.importSample()
	const email, name = "erase-me.7f3a@example.com", "Eraseme Quixotic"
	c.mustRun("subscribers", "add", email, "--name", name)
	c.mustRun("subscribers", "remove", email)
	c.mustRun("run", "--week", "2026-W19")
	c.mustRun("subscribers", "erase", email)
	files, err := filepath.Glob(filepath.Join(c.dir, "nl.db*"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no database files: %v", err)
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range []string{email, name} {
			if strings.Contains(string(data), s) {
				t.Errorf("%s holds %q after the erase", filepath.Base(f), s)
			}
		}
	}
}

// awaitMail waits until the outbox holds n messages, as serve's confirmation queue writes
// them just after the sign-up is answered, and returns them.
func awaitMail(t *testing.T, dir string, n int) []string {
	t.Helper()
	var files []string
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		files, _ = filepath.Glob(filepath.Join(dir, "*.eml"))
		if len(files) >= n {
			break
		}
	}
	if len(files) != n {
		t.Fatalf("%d mails in the outbox, want %d", len(files), n)
	}
	return emlFiles(t, dir)
}

// TestSubscribersImportFileOrStdin: a FILE that cannot be opened is reported before the
// database is touched; "-" reads standard input and names it "stdin".
func TestSubscribersImportFileOrStdin(t *testing.T) {
	c := newCLI(t)
	missing := filepath.Join(c.dir, "missing.csv")
	if code, _, errOut := c.run("subscribers", "import", missing); code != exitFailure || !strings.Contains(errOut, missing) {
		t.Fatalf("missing file: exit %d, stderr %q", code, errOut)
	}
	if _, err := os.Stat(filepath.Join(c.dir, "nl.db")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the database was touched for a file that cannot be opened: %v", err)
	}
	var out, errb bytes.Buffer
	e := env{stdin: strings.NewReader("email,name\nada@example.com,Ada\n"), stdout: &out, stderr: &errb,
		getenv: func(k string) string { return c.env[k] }, now: func() time.Time { return c.now }}
	if code := exitCode(&errb, subscribersImport(context.Background(), e, []string{"-"})); code != exitOK {
		t.Fatalf("import -: exit %d, stderr %q", code, errb.String())
	}
	if !strings.Contains(out.String(), "Imported stdin: 1 added") {
		t.Fatalf("import -: %q", out.String())
	}
	if list := c.mustRun("subscribers", "list"); !strings.Contains(list, "ada@example.com") {
		t.Fatalf("list after import -:\n%s", list)
	}
}

// TestBadValuesTouchNoDatabase: a bad --reason or --issue is a usage error found before the
// database (or the secret beside it) is created.
func TestBadValuesTouchNoDatabase(t *testing.T) {
	for _, args := range [][]string{
		{"subscribers", "suppress", "ada@example.com", "--reason", "nope"},
		{"status", "--issue", "nope"},
		{"send", "--issue", "2026-W99x"},
	} {
		c := newCLI(t)
		code, _, errOut := c.run(args...)
		if code != exitUsage || !strings.Contains(errOut, "nope") && !strings.Contains(errOut, "2026-W99x") {
			t.Errorf("%q: exit %d, stderr %q; want exit 2 naming the value", args, code, errOut)
		}
		if _, err := os.Stat(filepath.Join(c.dir, "nl.db")); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%q: the database was created for a bad value: %v", args, err)
		}
	}
}
