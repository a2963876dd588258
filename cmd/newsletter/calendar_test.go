package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"newsletter/internal/metrics"
	"newsletter/internal/newsletter"
	"newsletter/internal/schedule"
	"newsletter/internal/smtptest"
	"newsletter/internal/store"
)

// simStory is one item the simulated site publishes.
type simStory struct {
	n        int
	appears  time.Time // when it shows up in the feed
	dated    time.Time // its pubDate; zero for an undated item
	redated  time.Time // when non-zero, from then on the feed carries it with this new date
	redateAt time.Time
}

// simFeed is the site's RSS feed: the 40 latest items, rewritten whenever the clock moves.
type simFeed struct {
	path    string
	site    string // the links' host
	stories []simStory
}

func (f *simFeed) write(t *testing.T, now time.Time) {
	t.Helper()
	var visible []simStory
	for _, s := range f.stories {
		if !s.appears.After(now) {
			visible = append(visible, s)
		}
	}
	if len(visible) > 40 {
		visible = visible[len(visible)-40:]
	}
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>Technerdo</title><link>https://technerdo.com/</link>`)
	for i := len(visible) - 1; i >= 0; i-- {
		s := visible[i]
		date := s.dated
		if !s.redateAt.IsZero() && !s.redateAt.After(now) {
			date = s.redated
		}
		fmt.Fprintf(&b, "<item><title>Simulated story %d</title><link>https://%s/sim/%d/</link><guid>%s-%d</guid>", s.n, f.site, s.n, f.site, s.n)
		if !date.IsZero() {
			fmt.Fprintf(&b, "<pubDate>%s</pubDate>", date.Format(time.RFC1123Z))
		}
		fmt.Fprintf(&b, "<description>What happened in story %d.</description><category>News</category></item>\n", s.n)
	}
	b.WriteString("</channel></rss>")
	if err := os.WriteFile(f.path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
}

// calendarSite publishes a story every five hours from start to end, and a few at the edges
// of each week (around Monday 00:00, the Friday build and the Monday send); every seventh item
// is undated, every eleventh is re-published two days later with a new date, every
// thirteenth is dated three days in the future.
func calendarSite(path string, start, end time.Time, loc *time.Location) *simFeed {
	f := &simFeed{path: path, site: "technerdo.com"}
	var at []time.Time
	for t := start; t.Before(end); t = t.Add(5 * time.Hour) {
		at = append(at, t)
	}
	for w := newsletter.WeekOf(start.In(loc)); w.Start(loc).Before(end); w = w.Next() {
		mon := w.Start(loc)
		fri := mon.AddDate(0, 0, 4).Add(12 * time.Hour)
		at = append(at, mon.Add(-10*time.Minute), mon.Add(10*time.Minute), fri.Add(-5*time.Minute), fri.Add(5*time.Minute),
			mon.Add(8*time.Hour-5*time.Minute), mon.Add(8*time.Hour+5*time.Minute))
	}
	slices.SortFunc(at, func(a, b time.Time) int { return a.Compare(b) })
	for i, t := range at {
		s := simStory{n: i + 1, appears: t, dated: t}
		switch {
		case s.n%7 == 0:
			s.dated = time.Time{}
		case s.n%13 == 0:
			s.dated = t.AddDate(0, 0, 3)
		case s.n%11 == 0:
			s.redateAt = t.Add(50 * time.Hour)
			s.redated = s.redateAt
		}
		f.stories = append(f.stories, s)
	}
	return f
}

// daemonSim is `newsletter serve`'s scheduler on the real parts, driven by a test clock.
type daemonSim struct {
	t      *testing.T
	e      env
	a      *app
	runner *schedule.Runner
	log    bytes.Buffer
}

func (d *daemonSim) start() {
	d.t.Helper()
	a, err := openApp(context.Background(), d.e, "")
	if err != nil {
		d.t.Fatal(err)
	}
	r, err := a.scheduler(metrics.New(a.db, a.logger))
	if err != nil {
		d.t.Fatal(err)
	}
	d.a, d.runner = a, r
}

func (d *daemonSim) stop() {
	if d.a != nil {
		d.a.Close()
		d.a, d.runner = nil, nil
	}
}

// TestCalendarTwelveWeeks lives through twelve weeks of the default schedule (build Friday
// 12:00, send Monday 08:00, approval required) in Europe/Berlin, across the spring DST
// change, with editors who approve most weeks, shape one, forget one, approve one two hours
// after its slot (in the first week of summer time, while a second daemon shares the
// database), and an operator who sends one week early, holds the sender lease over one
// slot, restarts the daemon and loses it twice (once within the grace period, once past it).
// After every week: every story the feed offered is in exactly one sent issue or in a sent
// issue's inclusion report with its reason, and every sent issue reached each subscriber
// active at the time exactly once. The editors are told of each held send once, truthfully.
func TestCalendarTwelveWeeks(t *testing.T) {
	if testing.Short() {
		t.Skip("twelve simulated weeks")
	}
	loc, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Skip("tzdata:", err)
	}
	ctx := context.Background()
	dir := t.TempDir()
	srv := smtptest.Start(t)
	first := newsletter.Week{Year: 2026, Num: 10} // Monday 2026-03-02; clocks go forward on Sunday 2026-03-29
	const weeks = 12
	simStart := first.Start(loc).AddDate(0, 0, -4) // the Thursday before the first build
	simEnd := first.Start(loc).AddDate(0, 0, 7*weeks+1)
	site := calendarSite(filepath.Join(dir, "feed.xml"), first.Start(loc).AddDate(0, 0, -14), simEnd, loc)
	// A partner syndicates every ninth story under its own URL, an hour later: the same
	// headline from two feeds goes out once.
	partner := &simFeed{path: filepath.Join(dir, "partner.xml"), site: "partner.example"}
	for _, st := range site.stories {
		if st.n%9 == 0 {
			st.appears = st.appears.Add(time.Hour)
			partner.stories = append(partner.stories, st)
		}
	}

	cfg := `
database: ` + filepath.Join(dir, "nl.db") + `
secret_file: ` + filepath.Join(dir, "secret.key") + `
base_url: https://news.example.org
smtp_url: smtp://` + srv.Addr() + `?tls=none
feeds:
  - ` + site.path + `
  - ` + partner.path + `
issue:
  max_stories: 8
schedule:
  timezone: Europe/Berlin
editorial:
  editors_email: editors@example.org
`
	writeConfig := func(relay string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, "config.yaml"), []byte(strings.Replace(cfg, srv.Addr(), relay, 1)), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	writeConfig(srv.Addr())
	db, err := store.Open(ctx, filepath.Join(dir, "nl.db")) // the checks' own connection, as another process would
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	now := simStart
	clock := func() time.Time { return now }
	getenv := func(k string) string {
		if k == "NEWSLETTER_CONFIG" {
			return filepath.Join(dir, "config.yaml")
		}
		return ""
	}
	d := &daemonSim{t: t}
	d.e = env{stdout: &d.log, stderr: &d.log, getenv: getenv, now: clock}
	cli := func(args ...string) string {
		t.Helper()
		var out, errOut bytes.Buffer
		if code := run(ctx, args, &out, &errOut, getenv, clock); code != 0 {
			t.Fatalf("%s: newsletter %s: exit %d\n%s%s", now.In(loc).Format(time.RFC1123), strings.Join(args, " "), code, out.String(), errOut.String())
		}
		return out.String()
	}

	// Who is on the list, and when: active[address] is the span they were subscribed.
	type span struct{ from, to time.Time }
	active := map[string]span{}
	subscribe := func(addr string) {
		cli("subscribers", "add", addr)
		active[addr] = span{from: now}
	}
	for _, addr := range []string{"ada@example.com", "bob@example.com", "cem@example.com"} {
		subscribe(addr)
	}

	// The plan, by week index (0 = 2026-W10). Every other week is approved on Saturday.
	wk := func(i int) newsletter.Week {
		w := first
		for range i {
			w = w.Next()
		}
		return w
	}
	at := func(i int, day, hour, minute int) time.Time { // day 0 = the Monday of week i
		m := wk(i).Start(loc)
		return time.Date(m.Year(), m.Month(), m.Day()+day, hour, minute, 0, 0, loc)
	}
	type action struct {
		at time.Time
		do func()
	}
	var plan []action
	approve := func(i int) func() {
		return func() { cli("draft", "approve", "--week", wk(i).String(), "--as", "editor") }
	}
	for i := range weeks {
		switch i {
		case 1, 2, 4, 5, 9: // shaped below, forgotten, approved late, sent early, missed and sent late
		default:
			plan = append(plan, action{at(i, -2, 10, 0), approve(i)}) // Saturday before its Monday
		}
	}
	// Week 1: the editor shapes the Friday draft (pin, exclude, a manual pick, a move) and
	// approves it on Sunday evening.
	plan = append(plan, action{at(1, -3, 15, 0), func() {
		is, err := d.a.db.IssueByWeek(ctx, wk(1))
		if err != nil || len(is.Stories) < 3 {
			t.Fatalf("week 1's Friday draft: %v, %d stories", err, len(is.Stories))
		}
		w := wk(1).String()
		cli("draft", "pin", fmt.Sprint(is.Stories[len(is.Stories)-1].ID), "--week", w, "--as", "editor")
		cli("draft", "exclude", fmt.Sprint(is.Stories[0].ID), "--week", w, "--as", "editor")
		cli("draft", "add", "https://elsewhere.example/analysis/", "--title", "An analysis worth reading", "--week", w, "--as", "editor")
		out := cli("draft", "show", "--week", w)
		if !strings.Contains(out, "An analysis worth reading") || !strings.Contains(out, "excluded by editor") {
			t.Fatalf("draft show after the edits:\n%s", out)
		}
	}})
	plan = append(plan, action{at(1, -1, 19, 0), approve(1)})
	// Week 5: sent early, on Friday afternoon, by an operator's plain `run`.
	plan = append(plan, action{at(5, -3, 15, 0), func() {
		out := cli("run")
		if !strings.Contains(out, "Issue "+wk(5).String()+" is due") {
			t.Fatalf("run on Friday should act on next Monday's issue %s:\n%s", wk(5), out)
		}
	}})
	// Week 9: approved on Saturday, but the daemon is down from Sunday evening to Tuesday
	// morning; the operator sees the slot missed and sends it by hand.
	plan = append(plan, action{at(9, -2, 10, 0), approve(9)})
	plan = append(plan, action{at(9, 1, 10, 0), func() {
		out := cli("build", "--week", wk(9).String(), "--no-fetch")
		if !strings.Contains(out, "missed") {
			t.Fatalf("build of a missed week should say so:\n%s", out)
		}
		cli("run", "--week", wk(9).String())
	}})
	// Week 4, the first after the clocks went forward: nobody approves it before its slot,
	// so the Monday 08:00 send is held and the editors told; an editor approves it at 10:00,
	// within the grace period, and the scheduler's next check sends it then.
	plan = append(plan, action{at(4, 0, 10, 0), approve(4)})
	// Week 3: another process holds the sender lease over the Monday slot, from 07:30 to
	// 09:30; the scheduler sends once it is free.
	plan = append(plan, action{at(3, 0, 7, 30), func() {
		if ok, err := db.AcquireLease(ctx, schedule.LeaseName, "operator-run", 2*time.Hour, now); !ok || err != nil {
			t.Fatalf("could not take the sender lease: %v %v", ok, err)
		}
	}})
	plan = append(plan, action{at(3, 0, 9, 30), func() {}})
	// Week 8: the relay is down from Monday 07:00 to 09:00 (the daemon restarted onto a port
	// nobody listens on, and back): the 08:00 send starts and sends nothing; the scheduler
	// sends the issue once the relay answers.
	dead, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	deadRelay := dead.Addr().String()
	dead.Close()
	plan = append(plan, action{at(8, 0, 7, 0), func() { writeConfig(deadRelay); d.stop(); d.start() }})
	plan = append(plan, action{at(8, 0, 9, 0), func() { writeConfig(srv.Addr()); d.stop(); d.start() }})
	// The list changes mid-week.
	plan = append(plan, action{at(2, 2, 12, 0), func() { subscribe("dee@example.com") }})
	plan = append(plan, action{at(6, 2, 12, 0), func() {
		cli("subscribers", "remove", "bob@example.com")
		s := active["bob@example.com"]
		s.to = now
		active["bob@example.com"] = s
	}})
	slices.SortStableFunc(plan, func(a, b action) int { return a.at.Compare(b.at) })

	// The daemon is down in these spans and restarted when they end; it is also restarted
	// on Wednesday of week 6.
	outages := []span{
		{at(7, 0, 6, 0), at(7, 0, 11, 0)},  // the Monday send runs three hours late, within the grace period
		{at(9, -1, 20, 0), at(9, 1, 9, 0)}, // Sunday evening to Tuesday morning: the send slot is missed
	}
	restarts := []time.Time{at(6, 2, 12, 0)}
	// A second daemon shares the database around week 4's held slot.
	twin := span{at(4, 0, 7, 0), at(4, 1, 0, 0)}
	down := func(t time.Time) bool {
		return slices.ContainsFunc(outages, func(s span) bool { return !t.Before(s.from) && t.Before(s.to) })
	}

	// The clock moves in steps of four hours, and onto every slot and planned action.
	var steps []time.Time
	for t := simStart; t.Before(simEnd); t = t.Add(4 * time.Hour) {
		steps = append(steps, t)
	}
	for i := -1; i <= weeks; i++ {
		steps = append(steps, at(i, -3, 12, 0), at(i, 0, 8, 0), at(i, 1, 0, 0))
	}
	for _, p := range plan {
		steps = append(steps, p.at)
	}
	for _, o := range outages {
		steps = append(steps, o.to)
	}
	steps = append(steps, restarts...)
	steps = append(steps, twin.from, twin.to)
	slices.SortFunc(steps, func(a, b time.Time) int { return a.Compare(b) })
	steps = slices.Compact(steps)

	d.start()
	defer d.stop()
	d2 := &daemonSim{t: t}
	d2.e = env{stdout: &d2.log, stderr: &d2.log, getenv: getenv, now: clock}
	defer d2.stop()
	// Each daemon ticks in its own goroutine, as two processes would.
	tick := func(d *daemonSim) error {
		if d.runner == nil {
			return nil
		}
		if _, err := d.runner.Tick(ctx); err != nil {
			return fmt.Errorf("%s: tick: %w\n%s", now.In(loc).Format(time.RFC1123), err, d.log.String())
		}
		return nil
	}
	wasDown := false
	checked := map[newsletter.Week]bool{}
	for _, step := range steps {
		now = step
		site.write(t, now)
		partner.write(t, now)
		if down(now) {
			if !wasDown {
				d.stop()
			}
			wasDown = true
		} else {
			if wasDown || slices.ContainsFunc(restarts, now.Equal) {
				d.stop()
				d.start()
			}
			wasDown = false
		}
		for len(plan) > 0 && !plan[0].at.After(now) {
			plan[0].do()
			plan = plan[1:]
		}
		switch {
		case now.Equal(twin.from):
			d2.start()
		case now.Equal(twin.to):
			d2.stop()
		}
		errs := make(chan error, 2)
		go func() { errs <- tick(d) }()
		go func() { errs <- tick(d2) }()
		for range 2 {
			if err := <-errs; err != nil {
				t.Fatal(err)
			}
		}
		// Tuesday 00:00: the week's send is over; check the whole history so far.
		if now.In(loc).Weekday() == time.Tuesday && now.In(loc).Hour() == 0 {
			w := newsletter.WeekOf(now.In(loc))
			if !checked[w] {
				checked[w] = true
				checkEveryStoryDecided(t, ctx, db, now)
			}
		}
	}
	sent := checkEveryStoryDecided(t, ctx, db, now)

	// Which weeks went out: all but week 2, which nobody approved; its stories went in week 3.
	var got []string
	for _, is := range sent {
		got = append(got, is.Week.String())
	}
	var want []string
	for i := range weeks {
		if i != 2 {
			want = append(want, wk(i).String())
		}
	}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("sent issues %v, want %v", got, want)
	}
	if is, err := db.IssueByWeek(ctx, wk(2)); err != nil || is.Status != newsletter.IssueDraft {
		t.Fatalf("week 2 (never approved) is %v, %v; want a draft", is.Status, err)
	}
	for _, is := range sent {
		report, _ := db.IssueReport(ctx, is.ID)
		t.Logf("%s sent %s: %d stories, %d in its report, window %s – %s", is.Week, is.SentAt.In(loc).Format("Mon 01-02 15:04"),
			len(is.Stories), len(report), is.WindowStart.In(loc).Format("Mon 01-02 15:04"), is.Cutoff.In(loc).Format("Mon 01-02 15:04"))
		if len(is.Stories) == 0 {
			t.Fatalf("issue %s went out empty", is.Week)
		}
	}
	// The reports give every kind of reason the invariant names.
	var reasons []string
	for _, is := range sent {
		report, err := db.IssueReport(ctx, is.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range report {
			reasons = append(reasons, v.Reason)
		}
	}
	for _, kind := range []string{"excluded by editor", "over the cap", "too old", "same headline as"} {
		if !slices.ContainsFunc(reasons, func(r string) bool { return strings.Contains(r, kind) }) {
			t.Errorf("no sent issue's report says %q", kind)
		}
	}

	// Week 5 was sent on Friday: its window ends there, and week 6 starts where it ended.
	w5, w6 := sent[4], sent[5] // week 2 is not among them
	if w5.Week != wk(5) || !w5.Cutoff.Equal(at(5, -3, 15, 0).UTC()) || !w6.WindowStart.Equal(w5.Cutoff) {
		t.Fatalf("early send: %s cut off at %v, %s opens at %v", w5.Week, w5.Cutoff, w6.Week, w6.WindowStart)
	}
	// Week 1 carries the editor's shape: the manual pick, the pinned story first.
	w1 := sent[1]
	if w1.Week != wk(1) || !slices.ContainsFunc(w1.Stories, func(s newsletter.Story) bool { return s.Title == "An analysis worth reading" }) {
		t.Fatalf("week 1 lacks the manual pick: %v", titles(w1.Stories))
	}

	// Week 3 went out when the other process's lease ran out; week 4 at its approval.
	for _, c := range []struct {
		week newsletter.Week
		at   time.Time
	}{{wk(3), at(3, 0, 9, 30)}, {wk(4), at(4, 0, 10, 0)}, {wk(8), at(8, 0, 9, 0)}} {
		is, err := db.IssueByWeek(ctx, c.week)
		if err != nil || !is.SentAt.Equal(c.at) {
			t.Errorf("%s sent at %v (%v), want %v", c.week, is.SentAt.In(loc), err, c.at)
		}
	}
	// Week 2's held slot was tried until its grace period ended, then recorded missed.
	runs, err := db.RecentRuns(ctx, 100)
	if err != nil {
		t.Fatal(err)
	}
	var w2 []string
	for _, r := range runs {
		if r.Kind == "send" && r.Week == wk(8).String() && (!strings.Contains(r.Detail, " 0 sent") || !strings.Contains(r.Detail, "no relay could be reached")) {
			t.Errorf("week 8's send while the relay was down: %s: %s", r.Outcome, r.Detail)
		}
		if r.Kind == "send" && r.Week == wk(2).String() {
			w2 = append(w2, r.Outcome+": "+r.Detail)
		}
	}
	if len(w2) != 1 || !strings.HasPrefix(w2[0], "missed: ") || !strings.Contains(w2[0], "still held when the 12h0m0s grace period ended at Mon 2026-03-16 20:00 CET") {
		t.Errorf("week 2's send runs: %q", w2)
	}

	// Each sent issue reached every subscriber active when it went out, exactly once; the
	// editors got one notice for each held send, and no more as the scheduler retried it.
	copies := map[string]int{}
	notices := map[string]string{}
	for _, m := range srv.Messages() {
		msg, err := mail.ReadMessage(bytes.NewReader(m.Data))
		if err != nil {
			t.Fatal(err)
		}
		if slices.Equal(m.To, []string{"editors@example.org"}) {
			body, err := io.ReadAll(quotedprintable.NewReader(msg.Body))
			if err != nil {
				t.Fatal(err)
			}
			subject := msg.Header.Get("Subject")
			if _, twice := notices[subject]; twice {
				t.Errorf("the editors were told twice: %s", subject)
			}
			notices[subject] = string(body)
			continue
		}
		id := msg.Header.Get("Message-Id")
		for _, to := range m.To {
			copies[strings.SplitN(strings.Trim(id, "<>"), ".", 2)[0]+" "+to]++
		}
	}
	total := 0
	for _, is := range sent {
		for addr, s := range active {
			key := is.Week.String() + " " + addr
			want := 0
			if !s.from.After(is.SentAt) && (s.to.IsZero() || s.to.After(is.SentAt)) {
				want = 1
			}
			if copies[key] != want {
				t.Errorf("%s: %s got %d copies, want %d", is.Week, addr, copies[key], want)
			}
			total += want
		}
	}
	if len(srv.Messages()) != total+len(notices) {
		t.Errorf("%d messages on the wire, want %d and %d notices", len(srv.Messages()), total, len(notices))
	}
	var subjects []string
	for s := range notices {
		subjects = append(subjects, s)
	}
	slices.Sort(subjects)
	// Week 12 is the first after the plan: nobody approves it either.
	if want := []string{"Held: issue " + wk(2).String() + " needs approval", "Held: issue " + wk(4).String() + " needs approval",
		"Held: issue " + wk(12).String() + " needs approval"}; !slices.Equal(subjects, want) {
		t.Fatalf("notices %q, want %q", subjects, want)
	}
	body := notices["Held: issue "+wk(4).String()+" needs approval"]
	for _, want := range []string{"tries it again every minute until Mon 2026-03-30 20:00 CEST", "goes out at once"} {
		if !strings.Contains(body, want) {
			t.Errorf("week 4's held notice lacks %q:\n%s", want, body)
		}
	}
}

func titles(stories []newsletter.Story) []string {
	var out []string
	for _, s := range stories {
		out = append(out, s.Title)
	}
	return out
}

// checkEveryStoryDecided asserts the invariant at now and returns the sent issues, oldest
// first: every story that the latest sent issue could have seen (first seen by its last
// build, published by its cutoff) is in exactly one sent issue, or, in none, is in a sent
// issue's inclusion report with a reason.
func checkEveryStoryDecided(t *testing.T, ctx context.Context, db *store.DB, now time.Time) []newsletter.Issue {
	t.Helper()
	list, err := db.ListIssues(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var sent []newsletter.Issue
	carried := map[int64]newsletter.Week{}
	reasons := map[int64][]string{}
	for i := len(list) - 1; i >= 0; i-- {
		if list[i].Status != newsletter.IssueSent {
			if list[i].Status == newsletter.IssueSending {
				t.Fatalf("%s: issue %s still sending", now, list[i].Week)
			}
			continue
		}
		is, err := db.IssueByID(ctx, list[i].ID)
		if err != nil {
			t.Fatal(err)
		}
		sent = append(sent, is)
		for _, s := range is.Stories {
			if w, twice := carried[s.ID]; twice {
				t.Fatalf("story #%d %q went out in %s and %s", s.ID, s.Title, w, is.Week)
			}
			carried[s.ID] = is.Week
		}
		report, err := db.IssueReport(ctx, is.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range report {
			if !v.Included {
				if v.Reason == "" {
					t.Fatalf("issue %s reports story #%d out without a reason", is.Week, v.StoryID)
				}
				reasons[v.StoryID] = append(reasons[v.StoryID], is.Week.String()+": "+v.Reason)
			}
		}
	}
	if len(sent) == 0 {
		return nil
	}
	last := sent[len(sent)-1]
	offers, err := db.OfferedStories(ctx, time.Time{}, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range offers {
		s := o.Story
		if s.FirstSeen.After(last.CreatedAt) || s.Published.After(last.Cutoff) {
			continue // still on offer for the next issue
		}
		if _, ok := carried[s.ID]; !ok && len(reasons[s.ID]) == 0 {
			t.Fatalf("at %s: story #%d %q (published %s, first seen %s) is in no sent issue and no report",
				now, s.ID, s.Title, s.Published, s.FirstSeen)
		}
	}
	return sent
}
