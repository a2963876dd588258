package editorial

import (
	"fmt"

	"newsletter/internal/newsletter"
)

// ComplaintAlarm is the share of an issue's delivered messages whose spam complaints the
// editors are told about: Gmail and Yahoo ask senders to stay under 0.3% and aim under 0.1%.
const ComplaintAlarm = 0.001

// Complaints are an issue's spam complaints against its delivered messages (what the relays
// accepted, the hard bounces reported later included).
type Complaints struct {
	Week       newsletter.Week
	Complaints int
	Delivered  int
}

// Rate is Complaints over Delivered; 0 when nothing was delivered.
func (c Complaints) Rate() float64 {
	if c.Delivered == 0 {
		return 0
	}
	return float64(c.Complaints) / float64(c.Delivered)
}

// Over reports whether the complaints are past ComplaintAlarm.
func (c Complaints) Over() bool { return c.Delivered > 0 && c.over(c.Complaints) }

// Crossed reports whether the latest complaint took the issue past ComplaintAlarm: only
// that one tells the editors, so they get one mail per issue.
func (c Complaints) Crossed() bool { return c.Over() && !c.over(c.Complaints-1) }

func (c Complaints) over(n int) bool { return float64(n) > ComplaintAlarm*float64(c.Delivered) }

// Summary is the one line that states the alarm.
func (c Complaints) Summary() string {
	return fmt.Sprintf("Issue %s: %d complaint(s) of %d delivered messages (%.2f%%), over %.1f%%.",
		c.Week, c.Complaints, c.Delivered, 100*c.Rate(), 100*ComplaintAlarm)
}

// Notice is the subject and body of the editors' mail about it.
func (c Complaints) Notice() (subject, body string) {
	body = c.Summary() + "\n\nGmail and Yahoo count spam complaints against the sender: keep them under 0.3%, aim under 0.1%.\n" +
		"Complaining subscribers are suppressed already; look at what this issue did differently\n" +
		"(subject, content, who was added to the list) before the next one goes out.\n\n" +
		"  newsletter status --issue " + c.Week.String() + "\n"
	return "Complaints over 0.1%: issue " + c.Week.String(), body
}
