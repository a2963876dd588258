package delivery_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"io"
	"testing"
	"time"

	"newsletter/internal/delivery"
	"newsletter/internal/dkim"
	"newsletter/internal/mailer"
	"newsletter/internal/smtptest"
)

// BenchmarkSendSMTP sends an issue to 500 subscribers over 4 connections to the in-process
// server, with the real ledger: the cost per message of claim, render, SMTP and record.
func BenchmarkSendSMTP(b *testing.B) {
	const n = 500
	srv := smtptest.Start(b)
	var total time.Duration
	for b.Loop() {
		b.StopTimer()
		f := setup(b, n)
		s := f.senderWith(delivery.Single(smtpTransport(b, srv), 4), func(*delivery.Options) {})
		b.StartTimer()
		start := time.Now()
		rep, err := s.Send(context.Background(), f.issue, f.email)
		total += time.Since(start)
		if err != nil || rep.Sent != n {
			b.Fatalf("%+v %v", rep, err)
		}
	}
	b.ReportMetric(float64(n*b.N)/total.Seconds(), "msgs/s")
}

// BenchmarkMessage is the per-recipient CPU of a send: token, headers, fill-ins and the
// whole message written out, with the body prepared once (as Send does) and without.
func BenchmarkMessage(b *testing.B) {
	f := setup(b, 1)
	s := f.sender(smtpTransport(b, smtptest.Start(b)), 1)
	sub := f.subs[0]
	for _, tc := range []struct {
		name string
		body *mailer.Body
	}{{"prepared", delivery.PrepareBodyForTest(f.email)}, {"full", nil}} {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				m := s.MessageWithBody(f.issue, f.email, tc.body, sub)
				if _, err := m.WriteTo(io.Discard); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkMessageSigned is BenchmarkMessage's prepared case, DKIM-signed: the per-recipient
// CPU of a signed send, the signature itself included (Ed25519 is cheap enough to show what
// surrounds it).
func BenchmarkMessageSigned(b *testing.B) {
	f := setup(b, 1)
	s := f.sender(smtpTransport(b, smtptest.Start(b)), 1)
	sub := f.subs[0]
	body := delivery.PrepareBodyForTest(f.email)
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		b.Fatal(err)
	}
	_, edKey, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		b.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		keys []dkim.Key
	}{
		{"ed25519", []dkim.Key{{Selector: "ed", Signer: edKey}}},
		{"rsa", []dkim.Key{{Selector: "rsa", Signer: rsaKey}}},
		{"both", []dkim.Key{{Selector: "rsa", Signer: rsaKey}, {Selector: "ed", Signer: edKey}}},
	} {
		signer, err := dkim.New(dkim.Options{Domain: "technerdo.com", Keys: tc.keys})
		if err != nil {
			b.Fatal(err)
		}
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				m := s.MessageWithBody(f.issue, f.email, body, sub)
				if _, err := m.Render(signer); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestPreparedMessageMatchesFull checks the fast path against Message.
func TestPreparedMessageMatchesFull(t *testing.T) {
	f := setup(t, 3)
	s := f.sender(smtpTransport(t, smtptest.Start(t)), 1)
	body := delivery.PrepareBodyForTest(f.email)
	for _, sub := range f.subs {
		full, prep := s.Message(f.issue, f.email, sub), s.MessageWithBody(f.issue, f.email, body, sub)
		full.Boundary, prep.Boundary = "fixed-boundary", "fixed-boundary" // otherwise random
		want, err := full.Render(nil)
		if err != nil {
			t.Fatal(err)
		}
		got, err := prep.Render(nil)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("subscriber %d: prepared message differs", sub.ID)
		}
	}
}
