package delivery_test

import (
	"testing"

	"newsletter/internal/delivery"
	"newsletter/internal/mailer"
)

func TestSMTPRelays(t *testing.T) {
	cfgs := []mailer.SMTPConfig{
		{Host: "a.example.org", Port: 587, Connections: 2, Rate: 5, Weight: 3},
		{Host: "b.example.org", Port: 25, Weight: 1},
	}
	got := delivery.SMTPRelays(cfgs, nil, 4)
	want := []struct {
		name  string
		conns int
		rate  float64
		wt    int
	}{
		{"smtp://a.example.org:587?tls=starttls", 2, 5, 3},
		{"smtp://b.example.org:25?tls=starttls", 4, 0, 1}, // no connection count in its URL: the default
	}
	if len(got) != len(want) {
		t.Fatalf("%d relays, want %d", len(got), len(want))
	}
	for i, w := range want {
		r := got[i]
		if r.Transport.String() != w.name || r.Connections != w.conns || r.Rate != w.rate || r.Weight != w.wt {
			t.Errorf("relay %d: %s, %d connection(s), rate %g, weight %d; want %+v", i, r.Transport, r.Connections, r.Rate, r.Weight, w)
		}
	}
}
