package main

import (
	"bytes"
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"

	msgauth "github.com/emersion/go-msgauth/dkim"

	"newsletter/internal/dkim"
)

// TestSendSignsWithBothKeys: with key_file (RSA) and ed25519_key_file configured, every
// message sent carries two signatures, both verified by go-msgauth; a key of the wrong kind
// is a configuration error that names its key and sends nothing.
func TestSendSignsWithBothKeys(t *testing.T) {
	c := newCLI(t)
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	_, edKey, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	write := func(name string, key crypto.Signer) string {
		der, err := x509.MarshalPKCS8PrivateKey(key)
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(c.dir, name)
		if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	rsaPath, edPath := write("rsa.pem", rsaKey), write("ed.pem", edKey)
	base, err := os.ReadFile(filepath.Join(c.dir, "config.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	dkimSection := func(edFile string) string {
		return "dkim:\n  domain: technerdo.com\n  selector: rsa2026\n  key_file: " + rsaPath +
			"\n  ed25519_selector: ed2026\n  ed25519_key_file: " + edFile + "\n"
	}
	c.importSample()

	// The RSA key where the Ed25519 one belongs.
	if err := os.WriteFile(filepath.Join(c.dir, "config.yaml"), append(bytes.Clone(base), dkimSection(rsaPath)...), 0o600); err != nil {
		t.Fatal(err)
	}
	code, _, errOut := c.run("run", "--week", "2026-W19")
	if code != exitUsage || !strings.Contains(errOut, "dkim.ed25519_key_file") {
		t.Fatalf("exit %d (want %d), stderr %q", code, exitUsage, errOut)
	}
	if files := emlFiles(t, filepath.Join(c.dir, "outbox")); len(files) != 0 {
		t.Fatalf("%d messages written with a bad key", len(files))
	}

	if err := os.WriteFile(filepath.Join(c.dir, "config.yaml"), append(bytes.Clone(base), dkimSection(edPath)...), 0o600); err != nil {
		t.Fatal(err)
	}
	c.mustRun("run", "--week", "2026-W19")
	txt := map[string]string{}
	for sel, key := range map[string]crypto.Signer{"rsa2026": rsaKey, "ed2026": edKey} {
		if txt[sel+"._domainkey.technerdo.com"], err = dkim.TXTRecord(key); err != nil {
			t.Fatal(err)
		}
	}
	files := emlFiles(t, filepath.Join(c.dir, "outbox"))
	if len(files) != 5 {
		t.Fatalf("%d messages, want 5", len(files))
	}
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		v, err := msgauth.VerifyWithOptions(bytes.NewReader(raw), &msgauth.VerifyOptions{LookupTXT: func(domain string) ([]string, error) {
			return []string{txt[domain]}, nil
		}})
		if err != nil {
			t.Fatal(err)
		}
		if len(v) != 2 || v[0].Err != nil || v[1].Err != nil {
			t.Fatalf("%s: verifications %+v", filepath.Base(f), v)
		}
	}
}
