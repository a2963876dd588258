package delivery_test

import (
	"context"
	"testing"
	"time"

	"newsletter/internal/delivery"
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
