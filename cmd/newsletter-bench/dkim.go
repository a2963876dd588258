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

// writeKeys makes an RSA-2048 and an Ed25519 key for the signed shapes, as PEM files in dir.
func writeKeys(dir string) (map[string]string, error) {
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	_, edKey, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	paths := map[string]string{}
	for kind, key := range map[string]crypto.Signer{"rsa": rsaKey, "ed25519": edKey} {
		der, err := x509.MarshalPKCS8PrivateKey(key)
		if err != nil {
			return nil, err
		}
		paths[kind] = filepath.Join(dir, "dkim-"+kind+".pem")
		if err := os.WriteFile(paths[kind], pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
			return nil, err
		}
	}
	return paths, nil
}

// dkimConfig is the configuration's dkim section for kind.
func (b *bench) dkimConfig(kind string) string {
	switch kind {
	case "rsa", "ed25519":
		return fmt.Sprintf("dkim:\n  domain: example.org\n  selector: bench\n  key_file: %q\n", b.keys[kind])
	case "both":
		return fmt.Sprintf("dkim:\n  domain: example.org\n  selector: bench\n  key_file: %q\n  ed25519_selector: bench-ed\n  ed25519_key_file: %q\n",
			b.keys["rsa"], b.keys["ed25519"])
	}
	return ""
}

// signatureRate is how many messages per second this machine can sign with kind's keys
// (both: one RSA and one Ed25519 signature each) on every core, with Go's crypto, for d.
func (b *bench) signatureRate(kind string, d time.Duration) (float64, error) {
	var signers []crypto.Signer
	for _, k := range []string{"rsa", "ed25519"} {
		if kind != k && kind != "both" {
			continue
		}
		data, err := os.ReadFile(b.keys[k])
		if err != nil {
			return 0, err
		}
		block, _ := pem.Decode(data)
		key, err := x509.ParsePKCS8PrivateKey(block.Bytes)
		if err != nil {
			return 0, err
		}
		signers = append(signers, key.(crypto.Signer))
	}
	digest := sha256.Sum256([]byte("newsletter-bench"))
	var n atomic.Int64
	var wg sync.WaitGroup
	var failed atomic.Value
	start := time.Now()
	deadline := start.Add(d)
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for time.Now().Before(deadline) {
				for _, s := range signers {
					var err error
					if ed, ok := s.(ed25519.PrivateKey); ok {
						ed25519.Sign(ed, digest[:])
					} else {
						_, err = s.Sign(rand.Reader, digest[:], crypto.SHA256)
					}
					if err != nil {
						failed.Store(err)
						return
					}
				}
				n.Add(1)
			}
		})
	}
	wg.Wait()
	if err, ok := failed.Load().(error); ok {
		return 0, err
	}
	return float64(n.Load()) / time.Since(start).Seconds(), nil
}
