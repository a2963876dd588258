package delivery

import (
	"cmp"

	"newsletter/internal/mailer"
)

// SMTPRelays turns parsed relay URLs into the sender's relays, each signing with signer
// (nil: no signature); a URL that names no connection count gets conns.
func SMTPRelays(cfgs []mailer.SMTPConfig, signer mailer.Signer, conns int) []Relay {
	relays := make([]Relay, 0, len(cfgs))
	for _, sc := range cfgs {
		sc.Signer = signer
		relays = append(relays, Relay{Transport: mailer.NewSMTP(sc), Connections: cmp.Or(sc.Connections, conns), Rate: sc.Rate, Weight: sc.Weight})
	}
	return relays
}
