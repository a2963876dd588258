package dkim_test

import (
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"newsletter/internal/dkim"
)

func writeKey(t *testing.T, dir, name string, key crypto.Signer) string {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	k := keys(t)
	rsaPath, edPath := writeKey(t, dir, "rsa.pem", k["rsa"]), writeKey(t, dir, "ed.pem", k["ed25519"])
	garbage := filepath.Join(dir, "garbage.pem")
	if err := os.WriteFile(garbage, []byte("not a key"), 0o600); err != nil {
		t.Fatal(err)
	}
	base := dkim.Files{Domain: "technerdo.com", Selector: "rsa2026", KeyFile: rsaPath}
	tests := []struct {
		name    string
		edit    func(*dkim.Files)
		want    string // the signer's String, or
		wantErr string // the configuration key the error names
	}{
		{"rsa", func(*dkim.Files) {}, "DKIM rsa d=technerdo.com s=rsa2026", ""},
		{"ed25519 alone", func(f *dkim.Files) { f.KeyFile = edPath }, "DKIM ed25519 d=technerdo.com s=rsa2026", ""},
		{"rsa and ed25519", func(f *dkim.Files) { f.Ed25519KeyFile, f.Ed25519Selector = edPath, "ed2026" },
			"DKIM rsa d=technerdo.com s=rsa2026 and ed25519 d=technerdo.com s=ed2026", ""},
		{"missing key file", func(f *dkim.Files) { f.KeyFile = filepath.Join(dir, "nope.pem") }, "", "dkim.key_file"},
		{"garbage key file", func(f *dkim.Files) { f.KeyFile = garbage }, "", "dkim.key_file"},
		{"garbage ed25519 file", func(f *dkim.Files) { f.Ed25519KeyFile, f.Ed25519Selector = garbage, "ed2026" }, "", "dkim.ed25519_key_file"},
		{"rsa in the ed25519 file", func(f *dkim.Files) { f.Ed25519KeyFile, f.Ed25519Selector = rsaPath, "ed2026" }, "", "dkim.ed25519_key_file"},
		{"two ed25519 keys", func(f *dkim.Files) { f.KeyFile, f.Ed25519KeyFile, f.Ed25519Selector = edPath, edPath, "ed2026" }, "", "dkim.ed25519_key_file"},
		{"ed25519 without rsa", func(f *dkim.Files) { f.KeyFile, f.Ed25519KeyFile, f.Ed25519Selector = "", edPath, "ed2026" }, "", "dkim.ed25519_key_file"},
		{"ed25519 without selector", func(f *dkim.Files) { f.Ed25519KeyFile = edPath }, "", "dkim.ed25519_selector"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := base
			tc.edit(&f)
			s, err := dkim.Load(f)
			if tc.wantErr != "" {
				if err == nil || !strings.HasPrefix(err.Error(), tc.wantErr+":") {
					t.Fatalf("err = %v, want one naming %s", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if s.String() != tc.want {
				t.Errorf("String() = %q, want %q", s.String(), tc.want)
			}
		})
	}
}
