package editorial

import (
	"os/user"
	"strings"
)

// EditorName names the editor of a command-line edit in the log: as (--as), else "cli:" and
// $USER, else the account's name, else "cli:editor@" and the host's name (cron jobs and
// containers often have no $USER), else "cli:editor".
func EditorName(as string, getenv func(string) string, account func() (*user.User, error), hostname func() (string, error)) string {
	if as = strings.TrimSpace(as); as != "" {
		return as
	}
	if name := strings.TrimSpace(getenv("USER")); name != "" {
		return "cli:" + name
	}
	if u, err := account(); err == nil && strings.TrimSpace(u.Username) != "" {
		return "cli:" + strings.TrimSpace(u.Username)
	}
	if h, err := hostname(); err == nil && strings.TrimSpace(h) != "" {
		return "cli:editor@" + strings.TrimSpace(h)
	}
	return "cli:editor"
}
