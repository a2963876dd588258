package editorial_test

import (
	"errors"
	"os"
	"os/user"
	"path/filepath"
	"strings"
	"testing"

	"newsletter/internal/editorial"
	"newsletter/internal/newsletter"
)

func TestEditorName(t *testing.T) {
	noUser := func() (*user.User, error) { return nil, errors.New("no such user") }
	noHost := func() (string, error) { return "", errors.New("no host name") }
	account := func() (*user.User, error) { return &user.User{Username: "ayse"}, nil }
	host := func() (string, error) { return "desk-1", nil }
	tests := []struct {
		name, as, user string
		account        func() (*user.User, error)
		host           func() (string, error)
		want           string
	}{
		{"--as wins", "Ayşe Y.", "root", account, host, "Ayşe Y."},
		{"$USER", "", "ayse", noUser, noHost, "cli:ayse"},
		{"empty $USER: the account", "", " ", account, host, "cli:ayse"},
		{"no account: the host", "", "", noUser, host, "cli:editor@desk-1"},
		{"nothing known", "", "", noUser, noHost, "cli:editor"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := editorial.EditorName(tt.as, func(k string) string {
				if k == "USER" {
					return tt.user
				}
				return ""
			}, tt.account, tt.host)
			if got != tt.want {
				t.Errorf("EditorName = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestParseEdit(t *testing.T) {
	intro := filepath.Join(t.TempDir(), "intro.md")
	if err := os.WriteFile(intro, []byte("From a *file*."), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, action string
		args         []string
		file         string
		want         newsletter.Edit
		wantErr      string // empty: no error
	}{
		{"subject joins its words", "set-subject", []string{"Hello,", "world"}, "", newsletter.Edit{Action: "set-subject", Value: "Hello, world"}, ""},
		{"intro from a file", "set-intro", []string{"ignored"}, intro, newsletter.Edit{Action: "set-intro", Value: "From a *file*."}, ""},
		{"pin with #", "pin", []string{"#12"}, "", newsletter.Edit{Action: "pin", StoryID: 12}, ""},
		{"move", "move", []string{"12", "3"}, "", newsletter.Edit{Action: "move", StoryID: 12, Value: "3"}, ""},
		{"group", "group", []string{"off"}, "", newsletter.Edit{Action: "group", Value: "off"}, ""},
		{"pin without ID", "pin", nil, "", newsletter.Edit{}, "pin: which story ID?"},
		{"ID not a number", "exclude", []string{"x7"}, "", newsletter.Edit{}, `exclude: story ID "x7" is not a number`},
		{"ID zero", "remove", []string{"0"}, "", newsletter.Edit{}, `remove: story ID "0" is not a number`},
		{"move without position", "move", []string{"12"}, "", newsletter.Edit{}, "move: give a story ID and a position"},
		{"group without value", "group", nil, "", newsletter.Edit{}, "group: on or off"},
		{"approve takes no arguments", "approve", nil, "", newsletter.Edit{Action: "approve"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := editorial.ParseEdit(tt.action, tt.args, tt.file)
			if tt.wantErr != "" {
				if !errors.Is(err, editorial.ErrInvalid) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want ErrInvalid with %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("got %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
	if _, err := editorial.ParseEdit("set-intro", nil, filepath.Join(t.TempDir(), "missing.md")); err == nil || errors.Is(err, editorial.ErrInvalid) {
		t.Errorf("missing intro file: err = %v, want a read error that is not the editor's mistake", err)
	}
}
