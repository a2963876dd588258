package store

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"newsletter/internal/newsletter"
)

// saveStories stores stories and returns them with their IDs, oldest first.
func saveStories(t *testing.T, db *DB, stories ...newsletter.Story) []newsletter.Story {
	t.Helper()
	ctx := context.Background()
	if _, err := db.SaveStories(ctx, stories, t0); err != nil {
		t.Fatal(err)
	}
	out := make([]newsletter.Story, len(stories))
	for i, s := range stories {
		got, err := db.UnsentStories(ctx, s.Published, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, g := range got {
			if g.URL == s.URL {
				out[i] = g
			}
		}
		if out[i].ID == 0 {
			t.Fatalf("story %s not stored", s.URL)
		}
	}
	return out
}

func TestSaveIssue(t *testing.T) {
	ctx := context.Background()
	db := openTestDB(t)
	st := saveStories(t, db, story(1, t0), story(2, t0.Add(time.Hour)), story(3, t0.Add(2*time.Hour)))
	week := newsletter.Week{Year: 2026, Num: 19}

	draft := newsletter.Issue{
		Week: week, Subject: "First", Preheader: "pre", WindowStart: t0.Add(-7 * 24 * time.Hour), Cutoff: t0.Add(7 * 24 * time.Hour),
		Stories: []newsletter.Story{st[2], st[0]}, CreatedAt: t0, HTML: "<p>one</p>", Text: "one",
	}
	saved, err := db.SaveIssue(ctx, draft)
	if err != nil {
		t.Fatal(err)
	}
	if saved.ID == 0 || saved.Status != newsletter.IssueDraft {
		t.Fatalf("saved %+v", saved)
	}
	got, err := db.IssueByWeek(ctx, week)
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != saved.ID || got.Subject != "First" || got.HTML != "<p>one</p>" || got.Text != "one" ||
		!got.Cutoff.Equal(draft.Cutoff) || !got.WindowStart.Equal(draft.WindowStart) || !got.CreatedAt.Equal(t0) ||
		titles(got.Stories) != "[Story 3 Story 1]" {
		t.Fatalf("IssueByWeek = %+v", got)
	}

	// Replacing the draft keeps its ID and swaps the story list; a story
	// given by GUID/URL only is found.
	byURL := st[1]
	byURL.ID = 0
	draft.Subject = "Second"
	draft.Stories = []newsletter.Story{st[0], byURL}
	replaced, err := db.SaveIssue(ctx, draft)
	if err != nil {
		t.Fatal(err)
	}
	if replaced.ID != saved.ID || replaced.Stories[1].ID != st[1].ID || draft.Stories[1].ID != 0 {
		t.Fatalf("replaced %+v", replaced)
	}
	got, err = db.IssueByID(ctx, saved.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Subject != "Second" || titles(got.Stories) != "[Story 1 Story 2]" {
		t.Fatalf("after replace: %q %s", got.Subject, titles(got.Stories))
	}
	// A draft takes nothing: all three stay on offer, as they do for the draft itself.
	unsent, err := db.UnsentStories(ctx, t0.Add(time.Hour*3), 0)
	if err != nil {
		t.Fatal(err)
	}
	if titles(unsent) != "[Story 3 Story 2 Story 1]" {
		t.Fatalf("unsent after replace: %s", titles(unsent))
	}

	// Another week's draft may claim a story from a plain draft: the story moves.
	w20, err := db.SaveIssue(ctx, newsletter.Issue{Week: newsletter.Week{Year: 2026, Num: 20}, Stories: []newsletter.Story{st[1]}})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := db.IssueByID(ctx, saved.ID); err != nil || titles(got.Stories) != "[Story 1]" || got.HTML != "" || got.Text != "" {
		t.Fatalf("the draft that lost Story 2: %v, html %q, %v; want Story 1 and no stale email", titles(got.Stories), got.HTML, err)
	}
	// But no issue can take a story that a frozen issue carries.
	if err := db.ApproveIssue(ctx, w20.ID, "ed", t0); err != nil {
		t.Fatal(err)
	}
	_, err = db.SaveIssue(ctx, newsletter.Issue{Week: newsletter.Week{Year: 2026, Num: 21}, Stories: []newsletter.Story{st[1]}})
	if err == nil {
		t.Fatal("story saved into an approved issue and another")
	}
	_, err = db.IssueByWeek(ctx, newsletter.Week{Year: 2026, Num: 21})
	errIs(t, err, newsletter.ErrNotFound)

	// Unknown stories are refused.
	_, err = db.SaveIssue(ctx, newsletter.Issue{Week: newsletter.Week{Year: 2026, Num: 21}, Stories: []newsletter.Story{story(99, t0)}})
	errIs(t, err, newsletter.ErrNotFound)

	// Once approved, sending or sent, the issue is frozen.
	for _, status := range []newsletter.IssueStatus{newsletter.IssueApproved, newsletter.IssueSending, newsletter.IssueSent} {
		if err := db.SetIssueStatus(ctx, saved.ID, status, t0.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		draft.Subject = "Third"
		_, err = db.SaveIssue(ctx, draft)
		if !errors.Is(err, ErrIssueFrozen) {
			t.Fatalf("replace %s issue: %v, want ErrIssueFrozen", status, err)
		}
	}
	got, err = db.IssueByID(ctx, saved.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Subject != "Second" || got.Status != newsletter.IssueSent {
		t.Fatalf("frozen issue changed: %q %s", got.Subject, got.Status)
	}
	var sentAt int64
	if err := db.db.QueryRowContext(ctx, `SELECT sent_at FROM issues WHERE id = ?`, saved.ID).Scan(&sentAt); err != nil {
		t.Fatal(err)
	}
	if sentAt != t0.Add(time.Hour).Unix() {
		t.Fatalf("sent_at %d", sentAt)
	}

	errIs(t, db.SetIssueStatus(ctx, 999, newsletter.IssueSent, t0), newsletter.ErrNotFound)
	if err := db.SetIssueStatus(ctx, saved.ID, "lost", t0); err == nil {
		t.Fatal("invalid status accepted")
	}
	_, err = db.IssueByID(ctx, 999)
	errIs(t, err, newsletter.ErrNotFound)
	if _, err := db.SaveIssue(ctx, newsletter.Issue{}); err == nil {
		t.Fatal("issue without week accepted")
	}
}

func TestPreviousIssueAndList(t *testing.T) {
	ctx := context.Background()
	db := openTestDB(t)
	_, err := db.PreviousIssue(ctx, newsletter.Week{Year: 2026, Num: 20})
	errIs(t, err, newsletter.ErrNotFound)

	weeks := []newsletter.Week{{Year: 2026, Num: 17}, {Year: 2026, Num: 19}, {Year: 2026, Num: 18}}
	for _, w := range weeks {
		cutoff := w.Start(time.UTC).Add(4 * 24 * time.Hour)
		is, err := db.SaveIssue(ctx, newsletter.Issue{Week: w, Cutoff: cutoff, WindowStart: cutoff.Add(-7 * 24 * time.Hour), HTML: "x"})
		if err != nil {
			t.Fatal(err)
		}
		if w.Num != 19 { // week 19 stays a draft: only sent issues are previous issues
			if err := db.SetIssueStatus(ctx, is.ID, newsletter.IssueSent, cutoff); err != nil {
				t.Fatal(err)
			}
		}
	}
	tests := []struct {
		name   string
		before newsletter.Week
		want   string
	}{
		{"the week after a sent issue", newsletter.Week{Year: 2026, Num: 19}, "2026-W18"},
		{"strictly before", newsletter.Week{Year: 2026, Num: 18}, "2026-W17"},
		{"a draft in between is passed over", newsletter.Week{Year: 2027, Num: 1}, "2026-W18"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			is, err := db.PreviousIssue(ctx, tc.before)
			if err != nil {
				t.Fatal(err)
			}
			if is.Week.String() != tc.want {
				t.Fatalf("got %s, want %s", is.Week, tc.want)
			}
		})
	}
	_, err = db.PreviousIssue(ctx, newsletter.Week{Year: 2026, Num: 17})
	errIs(t, err, newsletter.ErrNotFound)

	list, err := db.ListIssues(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, is := range list {
		got = append(got, is.Week.String())
		if is.HTML != "" || is.Stories != nil {
			t.Fatalf("ListIssues returned content: %+v", is)
		}
	}
	if want := "[2026-W19 2026-W18 2026-W17]"; fmt.Sprint(got) != want {
		t.Fatalf("ListIssues = %v, want %s", got, want)
	}
}

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
