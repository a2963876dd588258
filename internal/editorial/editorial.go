// Package editorial is the editors' desk: it records edits to a week's draft and rebuilds it,
// approves (freezes) it, previews it as a subscriber will get it with its checks, and sends tests.
package editorial

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"newsletter/internal/digest"
	"newsletter/internal/newsletter"
	"newsletter/internal/render"
	"newsletter/internal/weekly"
)

// Store is the part of the database the desk needs.
type Store interface {
	IssueByWeek(ctx context.Context, week newsletter.Week) (newsletter.Issue, error)
	PreviousIssue(ctx context.Context, week newsletter.Week) (newsletter.Issue, error)
	AddEdit(ctx context.Context, e newsletter.Edit) (newsletter.Edit, error)
	Edits(ctx context.Context, week newsletter.Week) ([]newsletter.Edit, error)
	ApproveIssue(ctx context.Context, id int64, by string, now time.Time) error
	UnapproveIssue(ctx context.Context, id int64) (bool, error)
	StoriesByID(ctx context.Context, ids []int64, exceptIssueID int64) ([]newsletter.Offer, error)
	StoryByURL(ctx context.Context, url string) (newsletter.Story, error)
	SaveStories(ctx context.Context, stories []newsletter.Story, now time.Time) (int, error)
}

// Builder builds (or refreshes) a week's draft; Compose does it without saving.
type Builder interface {
	Build(ctx context.Context, week newsletter.Week) (weekly.Build, error)
	Compose(ctx context.Context, week newsletter.Week) (weekly.Build, error)
}

// Messages turns an issue into the message one subscriber gets, and sends tests.
type Messages interface {
	// Sample is the message as a sample subscriber gets it.
	Sample(ctx context.Context, issue newsletter.Issue, email render.Email) (Message, error)
	// SendTest sends the same message, "[TEST]" in its subject, to each address.
	SendTest(ctx context.Context, issue newsletter.Issue, email render.Email, to []string) error
}

// Message is one rendered message, as the preview shows it.
type Message struct {
	Subject        string
	HTML           string
	Text           string
	Headers        string // the header block, as sent
	UnsubscribeURL string // the sample subscriber's link
}

// Options configure a Desk.
type Options struct {
	PostalAddress string // every issue must show it
	Now           func() time.Time
}

// Desk is the editors' workflow on weekly drafts.
type Desk struct {
	store    Store
	builder  Builder
	messages Messages
	opt      Options
}

// New returns a Desk.
func New(store Store, builder Builder, messages Messages, opt Options) *Desk {
	if opt.Now == nil {
		opt.Now = time.Now
	}
	return &Desk{store: store, builder: builder, messages: messages, opt: opt}
}

// ErrFrozen means the issue is approved, sending or sent: edits are refused.
var ErrFrozen = errors.New("the issue is no longer a draft")

// ErrInvalid wraps an edit that does not check out (the editor's mistake, not the system's).
var ErrInvalid = errors.New("invalid edit")

// View is everything the preview shows about a week's issue.
type View struct {
	weekly.Build // the draft as built; Decisions is the inclusion report
	Edits        []newsletter.Edit
	Message      Message
	Checks       []Check
}

// Draft refreshes the week's draft from the stored stories (a frozen issue is shown as
// frozen) and returns its preview.
func (d *Desk) Draft(ctx context.Context, week newsletter.Week) (View, error) {
	return d.view(ctx, week, d.builder.Build)
}

// Preview is Draft without saving the refreshed draft: the database is only read.
func (d *Desk) Preview(ctx context.Context, week newsletter.Week) (View, error) {
	return d.view(ctx, week, d.builder.Compose)
}

func (d *Desk) view(ctx context.Context, week newsletter.Week, build func(context.Context, newsletter.Week) (weekly.Build, error)) (View, error) {
	b, err := build(ctx, week)
	if err != nil {
		return View{Build: weekly.Build{Window: b.Window}}, err
	}
	v := View{Build: b}
	if v.Edits, err = d.store.Edits(ctx, week); err != nil {
		return v, err
	}
	if v.Message, err = d.messages.Sample(ctx, b.Issue, b.Email); err != nil {
		return v, err
	}
	var prev *newsletter.Issue
	if p, err := d.store.PreviousIssue(ctx, week); err == nil {
		prev = &p
	} else if !errors.Is(err, newsletter.ErrNotFound) {
		return v, err
	}
	v.Checks = Run(CheckInput{Issue: b.Issue, Message: v.Message, PostalAddress: d.opt.PostalAddress, Previous: prev})
	return v, nil
}

// Edit records one editor action on the week's draft and rebuilds it.
func (d *Desk) Edit(ctx context.Context, e newsletter.Edit) error {
	if err := digest.CheckEdit(e); err != nil {
		return fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	switch e.Action {
	case digest.ActionApprove:
		_, err := d.Approve(ctx, e.Week, e.Editor)
		return err
	case digest.ActionUnapprove:
		_, err := d.Unapprove(ctx, e.Week, e.Editor)
		return err
	}
	if err := d.editable(ctx, e.Week); err != nil {
		return err
	}
	if e.StoryID != 0 {
		// The edit log refers to stories by key: name an unknown one rather than fail on it.
		found, err := d.store.StoriesByID(ctx, []int64{e.StoryID}, 0)
		if err != nil {
			return err
		}
		if len(found) == 0 {
			return fmt.Errorf("%w: %s: no story #%d (story numbers are those `draft show` prints)", ErrInvalid, e.Action, e.StoryID)
		}
	}
	e.At = d.opt.Now()
	if _, err := d.store.AddEdit(ctx, e); err != nil {
		return err
	}
	_, err := d.builder.Build(ctx, e.Week)
	if errors.Is(err, weekly.ErrNoStories) {
		return nil // every story excluded: the edit stands, the preview says there is nothing to send
	}
	return err
}

// editable refuses edits to an issue that is no longer a draft.
func (d *Desk) editable(ctx context.Context, week newsletter.Week) error {
	is, err := d.store.IssueByWeek(ctx, week)
	switch {
	case errors.Is(err, newsletter.ErrNotFound):
		return nil
	case err != nil:
		return err
	case is.Status != newsletter.IssueDraft:
		return fmt.Errorf("issue %s is %s: %w", week, is.Status, ErrFrozen)
	}
	return nil
}

// Pick is a story an editor adds by hand.
type Pick struct {
	URL, Title, Summary, ImageURL, ImageAlt, Section string
	// Position is where the pick goes, 1 for the lead; 0 puts it after the pinned stories
	// and the picks placed there before it.
	Position int
}

// AddPick stores a manual pick (or finds the story already stored under its URL) and adds
// it to the week's draft.
func (d *Desk) AddPick(ctx context.Context, week newsletter.Week, editor string, p Pick) (newsletter.Story, error) {
	p.URL = strings.TrimSpace(p.URL)
	if !httpURL(p.URL) {
		return newsletter.Story{}, fmt.Errorf("%w: link %q: want an absolute http(s) URL", ErrInvalid, p.URL)
	}
	if p.ImageURL = strings.TrimSpace(p.ImageURL); p.ImageURL != "" && !httpURL(p.ImageURL) {
		return newsletter.Story{}, fmt.Errorf("%w: image %q: want an absolute http(s) URL", ErrInvalid, p.ImageURL)
	}
	if p.Position < 0 {
		return newsletter.Story{}, fmt.Errorf("%w: position %d: want 1 or more", ErrInvalid, p.Position)
	}
	if err := d.editable(ctx, week); err != nil {
		return newsletter.Story{}, err
	}
	st, err := d.store.StoryByURL(ctx, p.URL)
	if errors.Is(err, newsletter.ErrNotFound) {
		title := oneLine(p.Title)
		if title == "" {
			return newsletter.Story{}, fmt.Errorf("%w: a manual pick needs a title", ErrInvalid)
		}
		st = newsletter.Story{URL: p.URL, GUID: p.URL, Title: title, Summary: oneLine(p.Summary),
			ImageURL: p.ImageURL, ImageAlt: oneLine(p.ImageAlt), Section: oneLine(p.Section),
			Published: d.opt.Now().UTC(), FeedURL: "editor:" + editor}
		if _, err = d.store.SaveStories(ctx, []newsletter.Story{st}, d.opt.Now()); err != nil {
			return newsletter.Story{}, err
		}
		st, err = d.store.StoryByURL(ctx, p.URL)
	}
	if err != nil {
		return newsletter.Story{}, err
	}
	add := newsletter.Edit{Week: week, Editor: editor, Action: digest.ActionAdd, StoryID: st.ID}
	if p.Position > 0 {
		add.Value = strconv.Itoa(p.Position)
	}
	return st, d.Edit(ctx, add)
}

// Approve refreshes the draft one last time and freezes it: from now on it is sent as it is.
// Approving an approved issue again is harmless.
func (d *Desk) Approve(ctx context.Context, week newsletter.Week, by string) (newsletter.Issue, error) {
	b, err := d.builder.Build(ctx, week)
	if err != nil {
		return newsletter.Issue{}, err
	}
	is := b.Issue
	switch is.Status {
	case newsletter.IssueApproved:
		return is, nil
	case newsletter.IssueDraft:
	default:
		return is, fmt.Errorf("issue %s is %s: %w", week, is.Status, ErrFrozen)
	}
	now := d.opt.Now()
	if err := d.store.ApproveIssue(ctx, is.ID, by, now); err != nil {
		return is, err
	}
	if _, err := d.store.AddEdit(ctx, newsletter.Edit{Week: week, Editor: by, Action: digest.ActionApprove, At: now}); err != nil {
		return is, err
	}
	is.Status, is.ApprovedBy = newsletter.IssueApproved, by
	return is, nil
}

// Unapprove reopens an approved issue as a draft, until its send starts: from then on it is
// refused with ErrFrozen. Unapproving a draft changes nothing.
func (d *Desk) Unapprove(ctx context.Context, week newsletter.Week, by string) (newsletter.Issue, error) {
	is, err := d.store.IssueByWeek(ctx, week)
	if err != nil || is.Status == newsletter.IssueDraft {
		return is, err
	}
	if is.Status == newsletter.IssueApproved {
		reopened, err := d.store.UnapproveIssue(ctx, is.ID)
		if err != nil {
			return is, err
		}
		if reopened {
			if _, err := d.store.AddEdit(ctx, newsletter.Edit{Week: week, Editor: by, Action: digest.ActionUnapprove, At: d.opt.Now()}); err != nil {
				return is, err
			}
			is.Status, is.ApprovedBy = newsletter.IssueDraft, ""
			return is, nil
		}
		// The send started (or another editor reopened it) since the issue was read.
		if is, err = d.store.IssueByWeek(ctx, week); err != nil || is.Status == newsletter.IssueDraft {
			return is, err
		}
	}
	return is, fmt.Errorf("issue %s is %s: its send has started, so it can no longer be reopened: %w", week, is.Status, ErrFrozen)
}

// ActionTestSend is logged for each test send; it does not change the draft.
const ActionTestSend = "test-send"

// maxTestRecipients bounds one test send: it is for editors, not a side channel to a list.
const maxTestRecipients = 10

// SendTest sends the week's issue, as built now, to each address with "[TEST]" in the subject.
func (d *Desk) SendTest(ctx context.Context, week newsletter.Week, by string, to []string) error {
	var addrs []string
	for _, a := range to {
		for _, f := range strings.FieldsFunc(a, func(r rune) bool { return r == ',' || r == ' ' || r == '\n' || r == '\r' || r == ';' }) {
			ad, err := mail.ParseAddress(f)
			if err != nil || ad.Address != f {
				return fmt.Errorf("%w: %q is not an address like editor@example.org", ErrInvalid, f)
			}
			addrs = append(addrs, f)
		}
	}
	if len(addrs) == 0 || len(addrs) > maxTestRecipients {
		return fmt.Errorf("%w: give 1 to %d addresses", ErrInvalid, maxTestRecipients)
	}
	b, err := d.builder.Build(ctx, week)
	if err != nil {
		return err
	}
	if err := d.messages.SendTest(ctx, b.Issue, b.Email, addrs); err != nil {
		return err
	}
	_, err = d.store.AddEdit(ctx, newsletter.Edit{Week: week, Editor: by, Action: ActionTestSend, Value: strings.Join(addrs, ", "), At: d.opt.Now()})
	return err
}

// Ready tells the scheduler whether the issue may go out now: with requireApproval only an
// approved issue (or one already sending, to resume it) is; without, any built issue is.
// The reason is for the log line and the editors' mail when it is held.
func Ready(is newsletter.Issue, requireApproval bool) (bool, string) {
	switch is.Status {
	case newsletter.IssueApproved, newsletter.IssueSending:
		return true, ""
	case newsletter.IssueSent:
		return false, fmt.Sprintf("issue %s is already sent", is.Week)
	}
	if !requireApproval {
		return true, ""
	}
	return false, fmt.Sprintf("issue %s is a draft that no editor has approved (require_approval is on): held", is.Week)
}

// ParsePosition reads a 1-based position.
func ParsePosition(s string) (int, error) {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || n < 1 {
		return 0, fmt.Errorf("%w: position %q: want 1 or more", ErrInvalid, s)
	}
	return n, nil
}

// ParseEdit reads an edit as typed on the command line: its action, then the arguments ("pin 12",
// "move #12 3", "group on", "set-intro" and its text, or introFile's text when set); other actions
// take none. A missing or malformed argument is ErrInvalid, named after the action.
func ParseEdit(action string, args []string, introFile string) (newsletter.Edit, error) {
	e := newsletter.Edit{Action: action}
	switch action {
	case digest.ActionSubject, digest.ActionPreheader, digest.ActionIntro:
		e.Value = strings.Join(args, " ")
		if action == digest.ActionIntro && introFile != "" {
			b, err := os.ReadFile(introFile)
			if err != nil {
				return e, err
			}
			e.Value = string(b)
		}
	case digest.ActionPin, digest.ActionUnpin, digest.ActionExclude, digest.ActionInclude, digest.ActionRemove, digest.ActionMove:
		if len(args) == 0 {
			return e, fmt.Errorf("%w: %s: which story ID?", ErrInvalid, action)
		}
		var err error
		if e.StoryID, err = strconv.ParseInt(strings.TrimPrefix(args[0], "#"), 10, 64); err != nil || e.StoryID <= 0 {
			return e, fmt.Errorf("%w: %s: story ID %q is not a number", ErrInvalid, action, args[0])
		}
		if action == digest.ActionMove {
			if len(args) != 2 {
				return e, fmt.Errorf("%w: move: give a story ID and a position (1 = lead)", ErrInvalid)
			}
			e.Value = args[1]
		}
	case digest.ActionGroup:
		if len(args) != 1 {
			return e, fmt.Errorf("%w: group: on or off", ErrInvalid)
		}
		e.Value = args[0]
	}
	return e, nil
}

func httpURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
