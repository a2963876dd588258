package main

import (
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// shape is one kind of message the send part measures.
type shape struct {
	stories int    // stories in the issue; 0: the sample feed's
	dkim    string // none, rsa, ed25519 or both
}

func (s shape) String() string { return fmt.Sprintf("stories=%d dkim=%s", s.stories, s.dkim) }

// parseShapes crosses the -stories and -dkim lists.
func parseShapes(stories, dkim string) ([]shape, error) {
	var out []shape
	for st := range strings.SplitSeq(stories, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(st))
		if err != nil || n < 0 {
			return nil, fmt.Errorf("-stories: %q is not a number of stories", st)
		}
		for d := range strings.SplitSeq(dkim, ",") {
			switch d = strings.TrimSpace(d); d {
			case "none", "rsa", "ed25519", "both":
				out = append(out, shape{stories: n, dkim: d})
			default:
				return nil, fmt.Errorf("-dkim: %q, want none, rsa, ed25519 or both", d)
			}
		}
	}
	return out, nil
}

// makeKeys makes an RSA-2048 and an Ed25519 key for the signed shapes and writes them as
// PEM files for the configuration.
func (b *bench) makeKeys() error {
	var err error
	if b.rsaKey, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
		return err
	}
	if _, b.edKey, err = ed25519.GenerateKey(rand.Reader); err != nil {
		return err
	}
	for kind, key := range map[string]crypto.Signer{"rsa": b.rsaKey, "ed25519": b.edKey} {
		der, err := x509.MarshalPKCS8PrivateKey(key)
		if err != nil {
			return err
		}
		if err := os.WriteFile(b.keyFile(kind), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
			return err
		}
	}
	return nil
}

func (b *bench) keyFile(kind string) string { return filepath.Join(b.dir, "dkim-"+kind+".pem") }

// dkimConfig is the configuration's dkim section for kind.
func (b *bench) dkimConfig(kind string) string {
	switch kind {
	case "rsa", "ed25519":
		return fmt.Sprintf("dkim:\n  domain: example.org\n  selector: bench\n  key_file: %q\n", b.keyFile(kind))
	case "both":
		return fmt.Sprintf("dkim:\n  domain: example.org\n  selector: bench\n  key_file: %q\n  ed25519_selector: bench-ed\n  ed25519_key_file: %q\n",
			b.keyFile("rsa"), b.keyFile("ed25519"))
	}
	return ""
}

// signatureRate is how many messages per second this machine can sign with kind's keys
// (both: one RSA and one Ed25519 signature each) on every core, with Go's crypto, for a
// second. rsa.SignPKCS1v15 fails only for a short key or a digest of the wrong length,
// neither of which the bench makes.
func (b *bench) signatureRate(kind string) float64 {
	digest := sha256.Sum256([]byte("newsletter-bench"))
	var n atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	deadline := start.Add(time.Second)
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for time.Now().Before(deadline) {
				if kind != "ed25519" {
					_, _ = rsa.SignPKCS1v15(nil, b.rsaKey, crypto.SHA256, digest[:])
				}
				if kind != "rsa" {
					ed25519.Sign(b.edKey, digest[:])
				}
				n.Add(1)
			}
		})
	}
	wg.Wait()
	return float64(n.Load()) / time.Since(start).Seconds()
}
