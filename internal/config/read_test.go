package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestFind(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	env := func(v string) func(string) string {
		return func(k string) string {
			if k == EnvConfig {
				return v
			}
			return ""
		}
	}
	if got := Find("", env("")); got != "" {
		t.Errorf("no file: Find = %q, want \"\" (defaults)", got)
	}
	if err := os.WriteFile(filepath.Join(dir, "config.example.yaml"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if got := Find("", env("")); got != "config.example.yaml" {
		t.Errorf("example only: Find = %q", got)
	}
	if err := os.WriteFile(filepath.Join(dir, "config.yaml"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, flag, env, want string }{
		{"config.yaml before the example", "", "", "config.yaml"},
		{"the environment before the files", "", "/etc/news.yaml", "/etc/news.yaml"},
		{"the flag before all", "mine.yaml", "/etc/news.yaml", "mine.yaml"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Find(tc.flag, env(tc.env)); got != tc.want {
				t.Fatalf("Find = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestRead(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "c.yaml")
	if err := os.WriteFile(file, []byte("publication:\n  name: Weekly\ndelivery:\n  workers: 0\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	good := filepath.Join(dir, "good.yaml")
	if err := os.WriteFile(good, []byte("smtp_url: \"\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	noEnv := func(string) string { return "" }
	badSecret := func(k string) string {
		if k == EnvSecret {
			return "short"
		}
		return ""
	}
	relayCheck := func(Config) error { return &Error{Key: "smtp_url (relay 1 of 2)", Reason: "bad port"} }
	for _, tc := range []struct {
		name  string
		path  string
		env   func(string) string
		check func(Config) error
		want  string // "" for no error
	}{
		{"defaults", "", noEnv, nil, ""},
		{"a good file", good, noEnv, nil, ""},
		{"a bad value is placed at its line", file, noEnv, nil, file + ":4: delivery.workers: must be between 1 and 256, got 0"},
		{"an environment variable keeps no line", good, badSecret, nil, good + ": config: NEWSLETTER_SECRET: must be at least 32 characters"},
		{"the caller's check runs first and is placed", good, noEnv, relayCheck, good + ":1: smtp_url (relay 1 of 2): bad port"},
		{"a missing file", filepath.Join(dir, "missing.yaml"), noEnv, nil, "no such file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Read(tc.path, tc.env, tc.check)
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("Read: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("Read: %v, want %q", err, tc.want)
			}
			var ce *Error
			if tc.want != "" && strings.Contains(tc.want, ".yaml:") && !errors.As(err, &ce) {
				t.Errorf("placed error %v is not a *config.Error", err)
			}
		})
	}
}

// TestReadNamesTheOverridingVariable: a bad value set by a NEWSLETTER_* variable is reported
// under the variable's name, not at the line of the file whose value it replaced.
func TestReadNamesTheOverridingVariable(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.yaml")
	if err := os.WriteFile(path, []byte("http_addr: \"127.0.0.1:8080\"\nschedule:\n  timezone: UTC\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, env, value, want string }{
		{"from the file", "", "", ""},
		{"address", "NEWSLETTER_HTTP_ADDR", "bad:99999", `config: NEWSLETTER_HTTP_ADDR (http_addr): "bad:99999" is not host:port`},
		{"time zone", "NEWSLETTER_SCHEDULE_TIMEZONE", "Mars/Base", `config: NEWSLETTER_SCHEDULE_TIMEZONE (schedule.timezone): "Mars/Base" is not an IANA time zone`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			getenv := func(k string) string {
				if k == tc.env {
					return tc.value
				}
				return ""
			}
			_, err := Read(path, getenv, nil)
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("Read: %v", err)
			case tc.want != "" && (err == nil || !strings.HasPrefix(err.Error(), tc.want)):
				t.Fatalf("Read: %v\nwant it to start %q", err, tc.want)
			}
		})
	}
	// The same bad value in the file is placed at its line.
	if err := os.WriteFile(path, []byte("http_addr: \"bad:99999\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Read(path, func(string) string { return "" }, nil); err == nil || !strings.HasPrefix(err.Error(), path+":1: http_addr:") {
		t.Fatalf("Read: %v, want it placed at %s:1", err, path)
	}
}
