package webhook

import (
	"encoding/json"
	"testing"

	"newsletter/internal/bounce"
)

// FuzzParsers feeds hostile JSON to every provider's parser: none may panic, and each
// report they return is a bounce or complaint of their own source.
func FuzzParsers(f *testing.F) {
	for _, s := range []string{
		`{"notificationType":"Bounce","bounce":{"bounceType":"Permanent","bouncedRecipients":[{"emailAddress":"a@example.com","status":"5.1.1"}]},"mail":{"headers":[{"name":"Message-ID","value":"<x@y>"}]}}`,
		`{"notificationType":"Complaint","complaint":{"complainedRecipients":[{"emailAddress":"a@example.com"}]}}`,
		`{"RecordType":"Bounce","Type":"HardBounce","ID":1,"Email":"a@example.com","BouncedAt":"2026-05-04T06:00:00Z"}`,
		`[{"email":"a@example.com","event":"bounce","type":"blocked","smtp-id":"<x@y>"},{"event":"dropped","reason":"Invalid"}]`,
		`{"signature":{"timestamp":"1","token":"t","signature":"00"},"event-data":{"event":"failed","severity":"permanent","recipient":"a@example.com","envelope":{"sender":"bounces+tok@example.org"}}}`,
		`null`, `[]`, `{}`, `[null]`, `{"event-data":null}`,
	} {
		f.Add([]byte(s))
	}
	h := &Handler{opt: Options{BounceAddress: "bounces@example.org"}}
	f.Fuzz(func(t *testing.T, b []byte) {
		check := func(source string, reps []bounce.Report) {
			for _, r := range reps {
				if r.Format != source || (r.Kind != bounce.Hard && r.Kind != bounce.Soft && r.Kind != bounce.Complaint) {
					t.Fatalf("%s: report %+v", source, r)
				}
				if len(r.Reason) > 320 {
					t.Fatalf("%s: reason of %d bytes", source, len(r.Reason))
				}
			}
		}
		reps, _, _ := h.sesReports(b)
		check(SourceSES, reps)
		reps, _, _ = postmarkReports(b)
		check(SourcePostmark, reps)
		reps, _, _ = sendgridReports(b)
		check(SourceSendGrid, reps)
		var p mailgunPayload
		if json.Unmarshal(b, &p) == nil {
			reps, _ = h.mailgunReports(&p)
			check(SourceMailgun, reps)
		}
	})
}
