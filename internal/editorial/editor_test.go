package editorial_test

import (
	"errors"
	"os/user"
	"testing"

	"newsletter/internal/editorial"
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
