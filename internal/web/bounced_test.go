package web_test

import (
	"context"
	"net/url"
	"testing"
	"time"

	"newsletter/internal/newsletter"
	"newsletter/internal/store"
)

// TestBouncedStaysOutThroughTheLink: a bounced address's own link must not bring it back,
// not even by unsubscribing first and then pressing "resubscribe" on the page it answers.
func TestBouncedStaysOutThroughTheLink(t *testing.T) {
	for _, first := range []url.Values{
		{"List-Unsubscribe": {"One-Click"}},
		{"action": {"unsubscribe"}},
	} {
		t.Run(first.Encode(), func(t *testing.T) {
			f := setup(t)
			if _, err := f.db.ApplyTransition(context.Background(), store.Transition{ID: f.bob.ID, Status: newsletter.StatusBounced}, time.Now()); err != nil {
				t.Fatal(err)
			}
			if code, body := postForm(t, f.url(f.bob), first); code != 200 {
				t.Fatalf("unsubscribe of a bounced address: %d, want 200\n%s", code, body)
			}
			if code, _ := postForm(t, f.url(f.bob), url.Values{"action": {"resubscribe"}}); code != 409 {
				t.Errorf("resubscribe after the unsubscribe: %d, want 409", code)
			}
			if st := f.status(t, f.bob); st != newsletter.StatusBounced {
				t.Fatalf("bounced address became %s through its link", st)
			}
		})
	}
}

// TestComplainedStaysOutThroughTheLink: an address that complained about an issue is
// suppressed for good; its link's resubscribe button must not bring it back (only a
// confirmed sign-up does), while one that left by choice can come back.
func TestComplainedStaysOutThroughTheLink(t *testing.T) {
	f := setup(t)
	ctx := context.Background()
	complaint := store.Transition{ID: f.bob.ID, Status: newsletter.StatusUnsubscribed,
		Hash: f.signer.Digest(f.bob.Email), Suppress: store.SuppressComplained}
	if _, err := f.db.ApplyTransition(ctx, complaint, time.Now()); err != nil {
		t.Fatal(err)
	}
	if code, _ := postForm(t, f.url(f.bob), url.Values{"action": {"resubscribe"}}); code != 409 {
		t.Errorf("resubscribe of a complained address: %d, want 409", code)
	}
	if st := f.status(t, f.bob); st != newsletter.StatusUnsubscribed {
		t.Fatalf("complained address became %s through its link", st)
	}
	if reason, err := f.db.Suppression(ctx, f.signer.Digest(f.bob.Email)); err != nil || reason != store.SuppressComplained {
		t.Fatalf("suppression %q (%v), want it kept as complained", reason, err)
	}

	if code, _ := postForm(t, f.url(f.alice), url.Values{"action": {"unsubscribe"}}); code != 200 {
		t.Fatalf("unsubscribe: %d", code)
	}
	if code, _ := postForm(t, f.url(f.alice), url.Values{"action": {"resubscribe"}}); code != 200 {
		t.Errorf("resubscribe after leaving by choice: %d, want 200", code)
	}
	if st := f.status(t, f.alice); st != newsletter.StatusActive {
		t.Fatalf("after resubscribing: %s, want active", st)
	}
}
