package store

import (
	"context"
	"testing"
	"time"

	"newsletter/internal/newsletter"
)

func TestUnapproveIssueUntilTheSendStarts(t *testing.T) {
	ctx := context.Background()
	db := openTestDB(t)
	st := saveStories(t, db, story(1, t0))
	is, err := db.SaveIssue(ctx, newsletter.Issue{Week: newsletter.Week{Year: 2026, Num: 19}, Subject: "s",
		WindowStart: t0.Add(-time.Hour), Cutoff: t0.Add(time.Hour), Stories: st, CreatedAt: t0, HTML: "<p>x</p>", Text: "x"})
	if err != nil {
		t.Fatal(err)
	}
	status := func() newsletter.Issue {
		t.Helper()
		got, err := db.IssueByID(ctx, is.ID)
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	steps := []struct {
		name   string
		before func() error
		want   bool
		status newsletter.IssueStatus
	}{
		{"a draft has nothing to withdraw", nil, false, newsletter.IssueDraft},
		{"approved", func() error { return db.ApproveIssue(ctx, is.ID, "ayse", t0) }, true, newsletter.IssueDraft},
		{"approved again", func() error { return db.ApproveIssue(ctx, is.ID, "ayse", t0) }, true, newsletter.IssueDraft},
		{"sending", func() error {
			if err := db.ApproveIssue(ctx, is.ID, "ayse", t0); err != nil {
				return err
			}
			return db.SetIssueStatus(ctx, is.ID, newsletter.IssueSending, t0)
		}, false, newsletter.IssueSending},
		{"sent", func() error { return db.SetIssueStatus(ctx, is.ID, newsletter.IssueSent, t0) }, false, newsletter.IssueSent},
	}
	for _, s := range steps {
		if s.before != nil {
			if err := s.before(); err != nil {
				t.Fatalf("%s: %v", s.name, err)
			}
		}
		got, err := db.UnapproveIssue(ctx, is.ID)
		if err != nil || got != s.want {
			t.Errorf("%s: UnapproveIssue = %v, %v; want %v", s.name, got, err, s.want)
		}
		if after := status(); after.Status != s.status {
			t.Errorf("%s: status %s after unapprove, want %s", s.name, after.Status, s.status)
		}
	}
	if got := status(); got.ApprovedBy != "ayse" {
		t.Errorf("the sent issue lost its approver: %q", got.ApprovedBy)
	}
}

func TestFreezeForSendAndUnapproveExcludeEachOther(t *testing.T) {
	ctx := context.Background()
	db := openTestDB(t)
	st := saveStories(t, db, story(1, t0))
	is, err := db.SaveIssue(ctx, newsletter.Issue{Week: newsletter.Week{Year: 2026, Num: 19}, Subject: "s",
		WindowStart: t0.Add(-time.Hour), Cutoff: t0.Add(time.Hour), Stories: st, CreatedAt: t0, HTML: "<p>x</p>", Text: "x"})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.ApproveIssue(ctx, is.ID, "ayse", t0); err != nil {
		t.Fatal(err)
	}
	// Reopened after the scheduler's check: the freeze refuses.
	if ok, err := db.UnapproveIssue(ctx, is.ID); err != nil || !ok {
		t.Fatalf("unapprove: %v %v", ok, err)
	}
	if ok, err := db.FreezeForSend(ctx, is.ID, true, t0); err != nil || ok {
		t.Fatalf("freeze of a reopened draft: %v %v, want refused", ok, err)
	}
	// Approved again: the freeze wins, and a later unapprove is refused.
	if err := db.ApproveIssue(ctx, is.ID, "ayse", t0); err != nil {
		t.Fatal(err)
	}
	if ok, err := db.FreezeForSend(ctx, is.ID, true, t0); err != nil || !ok {
		t.Fatalf("freeze of an approved draft: %v %v", ok, err)
	}
	if ok, err := db.UnapproveIssue(ctx, is.ID); err != nil || ok {
		t.Fatalf("unapprove once sending: %v %v, want refused", ok, err)
	}
	got, err := db.IssueByID(ctx, is.ID)
	if err != nil || got.Status != newsletter.IssueSending {
		t.Fatalf("status %v, %v", got.Status, err)
	}
	// Without approval required, a plain draft freezes.
	w20, err := db.SaveIssue(ctx, newsletter.Issue{Week: newsletter.Week{Year: 2026, Num: 20}, HTML: "x"})
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := db.FreezeForSend(ctx, w20.ID, false, t0); err != nil || !ok {
		t.Fatalf("freeze without approval needed: %v %v", ok, err)
	}
}
