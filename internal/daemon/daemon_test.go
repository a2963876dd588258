package daemon_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"newsletter/internal/daemon"
	"newsletter/internal/delivery"
	"newsletter/internal/digest"
	"newsletter/internal/newsletter"
	"newsletter/internal/render"
	"newsletter/internal/schedule"
	"newsletter/internal/weekly"
)

// Fakes of the package's own small interfaces: the decisions are what is tested here;
// cmd/newsletter's TestTwoDaemonsSendOnce runs the same jobs on the real parts.

type builder struct {
	issue   newsletter.Issue
	err     error
	builds  []newsletter.Week
	gathers int
}

func (b *builder) Gather(context.Context, []string) []weekly.FeedReport {
	b.gathers++
	return []weekly.FeedReport{{Source: "a"}, {Source: "b", Err: context.DeadlineExceeded}}
}

func (b *builder) Build(_ context.Context, w newsletter.Week) (weekly.Build, error) {
	b.builds = append(b.builds, w)
	return weekly.Build{Issue: b.issue, Window: digest.Window{}}, b.err
}

type sender struct{ sent []newsletter.Issue }

func (s *sender) Send(_ context.Context, is newsletter.Issue, _ render.Email) (delivery.Report, error) {
	s.sent = append(s.sent, is)
	return delivery.Report{Sent: 3, Done: true}, nil
}

type issues struct{ list []newsletter.Issue }

func (i issues) ListIssues(context.Context) ([]newsletter.Issue, error) { return i.list, nil }
func (i issues) FreezeForSend(context.Context, int64, bool, time.Time) (bool, error) {
	return true, nil
}
func (i issues) IssueByID(_ context.Context, id int64) (newsletter.Issue, error) {
	for _, is := range i.list {
		if is.ID == id {
			return is, nil
		}
	}
	return newsletter.Issue{}, newsletter.ErrNotFound
}

func (i issues) IssueByWeek(_ context.Context, w newsletter.Week) (newsletter.Issue, error) {
	for _, is := range i.list {
		if is.Week == w {
			return is, nil
		}
	}
	return newsletter.Issue{}, newsletter.ErrNotFound
}

type notifier struct{ subjects, bodies []string }

func (n *notifier) Notify(_ context.Context, subject, body string) error {
	n.subjects = append(n.subjects, subject)
	n.bodies = append(n.bodies, body)
	return nil
}

var (
	monday = time.Date(2026, 5, 4, 5, 0, 0, 0, time.UTC) // 08:00 in Istanbul
	w19    = newsletter.Week{Year: 2026, Num: 19}
)

func stories(n int) []newsletter.Story { return make([]newsletter.Story, n) }

func TestSendDecisions(t *testing.T) {
	tests := []struct {
		name            string
		issue           newsletter.Issue
		buildErr        error
		requireApproval bool
		minStories      int
		wantStatus      string
		wantSent        int
		wantNotified    int
	}{
		{"approved issue goes out", newsletter.Issue{Week: w19, Status: newsletter.IssueApproved, Stories: stories(3)}, nil, true, 1, "done", 1, 0},
		{"unapproved draft is held and editors told", newsletter.Issue{Week: w19, Status: newsletter.IssueDraft, Stories: stories(3)}, nil, true, 1, "held", 0, 1},
		{"draft goes out without approval rule", newsletter.Issue{Week: w19, Status: newsletter.IssueDraft, Stories: stories(3)}, nil, false, 1, "done", 1, 0},
		{"thin week is skipped", newsletter.Issue{Week: w19, Status: newsletter.IssueDraft, Stories: stories(2)}, nil, false, 3, "skipped", 0, 0},
		{"an approved thin week still goes out", newsletter.Issue{Week: w19, Status: newsletter.IssueApproved, Stories: stories(2)}, nil, true, 3, "done", 1, 0},
		{"empty week is skipped", newsletter.Issue{}, weekly.ErrNoStories, true, 1, "skipped", 0, 0},
		{"already sent is not sent again", newsletter.Issue{Week: w19, Status: newsletter.IssueSent, Stories: stories(3)}, nil, true, 1, "done", 0, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := &builder{issue: tc.issue, err: tc.buildErr}
			s := &sender{}
			n := &notifier{}
			ist, _ := time.LoadLocation("Europe/Istanbul")
			j := daemon.New(b, s, issues{list: []newsletter.Issue{tc.issue}}, daemon.Options{Location: ist, MinStories: tc.minStories, RequireApproval: tc.requireApproval, Notifier: n})
			out, err := j.Send(context.Background(), schedule.Slot{Kind: schedule.Send, At: monday})
			if err != nil {
				t.Fatal(err)
			}
			if out.Status != tc.wantStatus || len(s.sent) != tc.wantSent || len(n.subjects) != tc.wantNotified {
				t.Fatalf("outcome %+v, %d sent, %d notices; want %s, %d, %d", out, len(s.sent), len(n.subjects), tc.wantStatus, tc.wantSent, tc.wantNotified)
			}
			if len(b.builds) != 1 || b.builds[0] != w19 {
				t.Fatalf("built %v, want the slot's week %v", b.builds, w19)
			}
			if tc.wantStatus != "held" && tc.wantStatus != "done" && out.Detail == "" {
				t.Fatal("a skip must say why")
			}
		})
	}
}

func TestBuildSlotPreparesTheNextSendsWeek(t *testing.T) {
	ist, _ := time.LoadLocation("Europe/Istanbul")
	sched, err := schedule.Parse("0 12 * * FRI", "0 8 * * MON", ist)
	if err != nil {
		t.Fatal(err)
	}
	b := &builder{issue: newsletter.Issue{Week: w19, Status: newsletter.IssueDraft, Stories: stories(4)}}
	j := daemon.New(b, &sender{}, issues{}, daemon.Options{Location: ist, NextSend: func(t time.Time) time.Time { return sched.Next(schedule.Send, t) }})
	friday := time.Date(2026, 5, 1, 12, 0, 0, 0, ist) // in week 18; the Monday after is week 19
	out, err := j.Build(context.Background(), schedule.Slot{Kind: schedule.Build, At: friday})
	if err != nil {
		t.Fatal(err)
	}
	if len(b.builds) != 1 || b.builds[0] != w19 {
		t.Fatalf("built %v, want %v", b.builds, w19)
	}
	if !strings.Contains(out.Detail, "4 stories") || !strings.Contains(out.Detail, "1 of 2 feeds failed") {
		t.Fatalf("detail %q", out.Detail)
	}
}

type compactor struct{ before []time.Time }

func (c *compactor) Compact(_ context.Context, t time.Time) (newsletter.CompactResult, error) {
	c.before = append(c.before, t)
	return newsletter.CompactResult{}, nil
}

func TestResumeSendsOnlyUnfinishedIssues(t *testing.T) {
	s := &sender{}
	c := &compactor{}
	list := issues{list: []newsletter.Issue{
		{ID: 3, Week: newsletter.Week{Year: 2026, Num: 20}, Status: newsletter.IssueDraft},
		{ID: 2, Week: w19, Status: newsletter.IssueSending},
		{ID: 1, Week: newsletter.Week{Year: 2026, Num: 18}, Status: newsletter.IssueSent},
	}}
	j := daemon.New(&builder{}, s, list, daemon.Options{Compactor: c, KeepLedger: 8 * 7 * 24 * time.Hour, Now: func() time.Time { return monday }})
	if err := j.Resume(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(s.sent) != 1 || s.sent[0].ID != 2 {
		t.Fatalf("resumed %v, want only the sending issue", s.sent)
	}
	if len(c.before) != 1 || !c.before[0].Equal(monday.AddDate(0, 0, -56)) {
		t.Fatalf("compaction cut-off %v", c.before)
	}
}

func TestResumeRefreshesTheComingDraftHourly(t *testing.T) {
	ist, _ := time.LoadLocation("Europe/Istanbul")
	sched, _ := schedule.Parse("0 12 * * FRI", "0 8 * * MON", ist)
	now := time.Date(2026, 5, 2, 10, 0, 0, 0, ist) // Saturday before the week-19 send
	b := &builder{issue: newsletter.Issue{Week: w19, Status: newsletter.IssueDraft}}
	list := issues{list: []newsletter.Issue{{ID: 1, Week: w19, Status: newsletter.IssueDraft}}}
	j := daemon.New(b, &sender{}, list, daemon.Options{
		Location: ist, RefreshEvery: time.Hour,
		NextSend: func(t time.Time) time.Time { return sched.Next(schedule.Send, t) },
		Now:      func() time.Time { return now },
	})
	for range 3 { // three ticks within the hour: one refresh
		if err := j.Resume(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	now = now.Add(61 * time.Minute)
	if err := j.Resume(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(b.builds) != 2 || b.builds[0] != w19 {
		t.Fatalf("builds %v, want week 19 twice", b.builds)
	}
	// An approved issue is not rebuilt.
	list.list[0].Status = newsletter.IssueApproved
	now = now.Add(2 * time.Hour)
	j.Resume(context.Background())
	if len(b.builds) != 2 {
		t.Fatalf("an approved issue was rebuilt: %v", b.builds)
	}
}

// stoppedSender is a send that SIGTERM stops halfway: the context is cancelled, the rows
// in flight are recorded, and Send returns without error and without finishing.
type stoppedSender struct{ stop func() }

func (s stoppedSender) Send(context.Context, newsletter.Issue, render.Email) (delivery.Report, error) {
	s.stop()
	return delivery.Report{Sent: 2, Done: false}, nil
}

func TestSendStoppedMidwayIsInterrupted(t *testing.T) {
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	b := &builder{issue: newsletter.Issue{Week: w19, Status: newsletter.IssueApproved, Stories: stories(3)}}
	j := daemon.New(b, stoppedSender{stop}, issues{list: []newsletter.Issue{b.issue}}, daemon.Options{RequireApproval: true})
	out, err := j.Send(ctx, schedule.Slot{Kind: schedule.Send, At: monday})
	if err != nil {
		t.Fatal(err)
	}
	if out.Status != schedule.Interrupted || !strings.Contains(out.Detail, "2 sent") {
		t.Fatalf("outcome %+v, want interrupted with what was sent", out)
	}
}

// A held send is tried again by the runner: the first try tells the editors until when it is
// retried; a retry while the draft still waits neither gathers, rebuilds nor tells them again;
// the retry after the approval sends it.
func TestHeldSendRetried(t *testing.T) {
	ist, _ := time.LoadLocation("Europe/Istanbul")
	draft := newsletter.Issue{ID: 1, Week: w19, Status: newsletter.IssueDraft, Stories: stories(3)}
	b := &builder{issue: draft}
	s := &sender{}
	n := &notifier{}
	list := &issues{list: []newsletter.Issue{draft}}
	j := daemon.New(b, s, list, daemon.Options{Location: ist, MinStories: 1, RequireApproval: true, Notifier: n})
	slot := schedule.Slot{Kind: schedule.Send, At: monday, Until: monday.Add(12 * time.Hour)}
	steps := []struct {
		name     string
		retry    bool
		approve  bool
		want     string
		builds   int
		sent     int
		notices  int
		gathered int
	}{
		{"first try: held, editors told", false, false, schedule.Held, 1, 0, 1, 1},
		{"retry, still a draft: held quietly", true, false, schedule.Held, 1, 0, 1, 1},
		{"retry after the approval: sent", true, true, "done", 2, 1, 1, 1},
	}
	for _, st := range steps {
		if st.approve {
			list.list[0].Status = newsletter.IssueApproved
			b.issue.Status = newsletter.IssueApproved
		}
		slot.Retry = st.retry
		out, err := j.Send(context.Background(), slot)
		if err != nil {
			t.Fatal(err)
		}
		if out.Status != st.want || len(b.builds) != st.builds || len(s.sent) != st.sent || len(n.subjects) != st.notices || b.gathers != st.gathered {
			t.Fatalf("%s: outcome %+v, %d builds, %d sent, %d notices, %d gathers; want %s, %d, %d, %d, %d",
				st.name, out, len(b.builds), len(s.sent), len(n.subjects), b.gathers, st.want, st.builds, st.sent, st.notices, st.gathered)
		}
	}
	body := n.bodies[0]
	for _, want := range []string{"until Mon 2026-05-04 20:00 +03", "goes out at once", "newsletter send --issue 2026-W19"} {
		if !strings.Contains(body, want) {
			t.Errorf("held notice lacks %q:\n%s", want, body)
		}
	}
	if strings.Contains(body, "does not try this slot again") {
		t.Errorf("held notice says the slot is not retried:\n%s", body)
	}
}

// heldSender is a send whose canary held the issue.
type heldSender struct{}

func (heldSender) Send(context.Context, newsletter.Issue, render.Email) (delivery.Report, error) {
	return delivery.Report{Sent: 1, Held: "canary: 1 of 1 bounced"}, nil
}

// A canary hold stops a send that has started: the slot is done (nothing for the runner to
// retry or call missed), the editors are told, and the detail says how to release it.
func TestCanaryHoldEndsTheSlot(t *testing.T) {
	b := &builder{issue: newsletter.Issue{ID: 1, Week: w19, Status: newsletter.IssueApproved, Stories: stories(3)}}
	n := &notifier{}
	j := daemon.New(b, heldSender{}, issues{list: []newsletter.Issue{b.issue}}, daemon.Options{RequireApproval: true, Notifier: n})
	// The retry of a slot held for approval, once approved, is where the canary may hold it.
	for _, retry := range []bool{false, true} {
		out, err := j.Send(context.Background(), schedule.Slot{Kind: schedule.Send, At: monday, Retry: retry})
		if err != nil {
			t.Fatal(err)
		}
		if out.Status != "done" || !strings.Contains(out.Detail, "held: canary") || !strings.Contains(out.Detail, "--release") {
			t.Fatalf("retry %v: outcome %+v", retry, out)
		}
	}
	if len(n.subjects) != 2 {
		t.Fatalf("%d notices, want one for each send the canary held", len(n.subjects))
	}
}
