package config

import (
	"os"
	"path/filepath"
	"testing"
)

func TestParseNamesKeyPathAndLine(t *testing.T) {
	tests := []struct {
		name, yaml, want string
	}{
		{"unknown key", "publication:\n  nam: x\n", "config: line 2: publication.nam: unknown key"},
		{"unknown top-level key", "# settings\n\ndatabse: x.db\n", "config: line 3: databse: unknown key"},
		{"unknown key in a list item", "editorial:\n  editors:\n    - name: a\n      pasword_bcrypt: b\n", "config: line 4: editorial.editors[0].pasword_bcrypt: unknown key"},
		{"not a number", "database: x.db\ndelivery:\n  workers: many\n", `config: line 3: delivery.workers: not a number: "many"`},
		{"not a duration", "feed:\n  timeout: soon\n", `config: line 2: feed.timeout: not a duration like 30s or 12h: "soon"`},
		{"not a bool", "editorial:\n  require_approval: perhaps\n", `config: line 2: editorial.require_approval: not true or false: "perhaps"`},
		{"a list for a value", "delivery: {workers: 4, rate: [1]}\n", "config: line 1: delivery.rate: want a single value, got a list"},
		{"a mapping in a list", "delivery:\n  canary:\n    seeds: [a@b.c, {x: 1}]\n", "config: line 3: delivery.canary.seeds[1]: want a single value, got a mapping"},
		{"a value for a section", "publication: hello\n", `config: line 1: publication: want keys under it, got "hello"`},
		{"a long bad value is clipped", "issue:\n  max_stories: " + "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n",
			`config: line 2: issue.max_stories: not a number: "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx..."`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.yaml))
			if err == nil || err.Error() != tt.want {
				t.Fatalf("error\n%v\nwant\n%s", err, tt.want)
			}
		})
	}
}

func TestLoadNamesFileAndLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(path, []byte("publication:\n  name: x\n  nam: y\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Load(path)
	if want := path + ":3: publication.nam: unknown key"; err == nil || err.Error() != want {
		t.Fatalf("error %v, want %s", err, want)
	}
}

func TestLineOf(t *testing.T) {
	data := []byte("# x\npublication:\n  name: A\ndelivery:\n  workers: 0\nsmtp_url: smtp://h\n")
	for key, want := range map[string]int{"publication.name": 3, "delivery.workers": 5, "smtp_url": 6, "delivery.rate": 0, "publication.name.x": 0} {
		if got := LineOf(data, key); got != want {
			t.Errorf("LineOf(%s) = %d, want %d", key, got, want)
		}
	}
}
