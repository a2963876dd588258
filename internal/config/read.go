package config

import (
	"fmt"
	"os"
	"strings"
)

// Find names the configuration file to read: path when given, else $NEWSLETTER_CONFIG,
// else config.yaml, else config.example.yaml in the working directory; "" when there is
// none, for the built-in defaults.
func Find(path string, getenv func(string) string) string {
	if path == "" {
		path = getenv(EnvConfig)
	}
	if path == "" {
		for _, candidate := range []string{"config.yaml", "config.example.yaml"} {
			if _, err := os.Stat(candidate); err == nil {
				return candidate
			}
		}
	}
	return path
}

// Read is the configuration a command runs with: the file at path (the defaults when path
// is ""), the NEWSLETTER_* overrides from getenv, then check (nil for none; a caller's
// own checks, such as parsing the relays' URLs as the sender will) and Validate. An error
// found after parsing names the file and, for a key of the file, its line.
func Read(path string, getenv func(string) string, check func(Config) error) (Config, error) {
	cfg, err := Defaults(), error(nil)
	if path != "" {
		if cfg, err = Load(path); err != nil {
			return cfg, err
		}
	}
	if err := cfg.ApplyEnv(getenv); err != nil {
		return cfg, err
	}
	if check != nil {
		err = check(cfg)
	}
	if err == nil {
		err = cfg.Validate()
	}
	if err != nil {
		return cfg, Place(path, getenv, err)
	}
	return cfg, nil
}

// Place adds the file, and the key's line in it, to an error found after parsing. When an
// environment variable set the key's value, the error names the variable instead, without
// a line; an *Error about a variable itself keeps no line either. Callers use it for the
// checks other packages own (the cron expressions, the subject rules), made after Read.
func Place(path string, getenv func(string) string, err error) error {
	if ce, ok := err.(*Error); ok && !strings.HasPrefix(ce.Key, "NEWSLETTER_") {
		base, _, _ := strings.Cut(ce.Key, " ")
		if name := overridingEnv(base, getenv); name != "" {
			ce.Key = name + " (" + ce.Key + ")"
			return ce
		}
		if data, rerr := os.ReadFile(path); path != "" && rerr == nil {
			if line := LineOf(data, base); line > 0 {
				ce.File, ce.Line = path, line
				return ce
			}
		}
	}
	if path == "" {
		return err
	}
	return fmt.Errorf("%s: %w", path, err)
}
