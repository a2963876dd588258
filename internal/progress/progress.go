// Package progress shows a send's progress: a bar on a terminal, a line every tenth otherwise.
package progress

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"

	"newsletter/internal/newsletter"
)

// Printer implements delivery.Progress and delivery.RelayWatcher on a writer.
type Printer struct {
	mu    sync.Mutex
	out   io.Writer
	name  string
	bar   *progressbar.ProgressBar
	tty   bool
	total int
	done  int
	next  int
	loc   *time.Location
	now   func() time.Time
}

// New returns a Printer for the send of name (the week) on out; times are shown in
// loc, and now tells whether a relay is still being retried.
func New(out io.Writer, name string, loc *time.Location, now func() time.Time) *Printer {
	p := &Printer{out: out, name: name, loc: loc, now: now}
	if f, ok := out.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			p.tty = true
		}
	}
	return p
}

// Start implements delivery.Progress.
func (p *Printer) Start(ready int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.total, p.done, p.next = ready, 0, max(ready/10, 1)
	if ready == 0 {
		return
	}
	if p.tty {
		if p.bar != nil {
			p.bar.Finish()
		}
		p.bar = progressbar.NewOptions(ready,
			progressbar.OptionSetWriter(p.out),
			progressbar.OptionSetDescription("sending "+p.name),
			progressbar.OptionShowCount(),
			progressbar.OptionShowIts(),
			progressbar.OptionSetItsString("msg"),
			progressbar.OptionSetPredictTime(true),
			progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionClearOnFinish())
		return
	}
	fmt.Fprintf(p.out, "  sending %d message(s)…\n", ready)
}

// Outcome implements delivery.Progress.
func (p *Printer) Outcome(newsletter.DeliveryStatus) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.done++
	if p.bar != nil {
		_ = p.bar.Add(1)
		return
	}
	if !p.tty && p.total > 0 && (p.done >= p.next || p.done == p.total) {
		fmt.Fprintf(p.out, "  %d/%d done\n", p.done, p.total)
		p.next = p.done + max(p.total/10, 1)
	}
}

// RelayDown implements delivery.RelayWatcher: one line as soon as a relay stops answering,
// on the bar itself on a terminal.
func (p *Printer) RelayDown(relay string, err error, until time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if u := errors.Unwrap(err); u != nil {
		err = u // the mailer's prefix names the relay again
	}
	when := "not retrying in this run (delivery.retry_wait)"
	if p.now != nil && until.After(p.now()) {
		when = "retrying until " + until.In(p.loc).Format("Mon 15:04:05 MST") + " (delivery.retry_wait)"
	}
	if p.bar != nil {
		p.bar.Describe(fmt.Sprintf("sending %s: relay %s does not answer, %s", p.name, relay, when))
		return
	}
	fmt.Fprintf(p.out, "  relay %s does not answer (%v); %s; nothing is lost\n", relay, err, when)
}

// Finish ends the bar.
func (p *Printer) Finish() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.bar != nil {
		_ = p.bar.Finish()
		p.bar = nil
	}
}
