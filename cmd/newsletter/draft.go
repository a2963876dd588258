package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/user"
	"slices"
	"strings"

	"newsletter/internal/digest"
	"newsletter/internal/editorial"
	"newsletter/internal/newsletter"
	"newsletter/internal/web"
	"newsletter/internal/weekly"
)

const draftUsage = `show | set-subject TEXT | set-preheader TEXT | set-intro (TEXT | --file F) | pin ID | unpin ID |
       exclude ID | include ID | move ID POSITION | add URL --title T [--summary S] [--image URL] [--at N] |
       remove ID | group on|off | approve | unapprove | test ADDRESS...`

func cmdDraft(ctx context.Context, e env, args []string) error {
	fs := flags(e, "draft", draftUsage, "Shape the week's draft: every edit is recorded (who, when, what) and kept across rebuilds.\nStory IDs are those `draft show` and `build` print. `approve` freezes the issue for sending;\n`unapprove` reopens it as a draft until its send starts.")
	weekFlag := addWeekFlag(fs)
	as := fs.String("as", "", "editor `NAME` recorded with the edit (default cli:$USER, else the account's or the host's name)")
	file := fs.String("file", "", "read set-intro's Markdown from `FILE`")
	title := fs.String("title", "", "add: the pick's `TITLE`")
	summary := fs.String("summary", "", "add: the pick's `SUMMARY`")
	image := fs.String("image", "", "add: optional image `URL`")
	imageAlt := fs.String("image-alt", "", "add: the image's alt `TEXT`")
	section := fs.String("section", "", "add: the pick's `SECTION`")
	at := fs.Int("at", 0, "add: the pick's `POSITION`, 1 for the lead (default: after the pinned stories)")
	fs.check(func() error {
		if len(fs.pos) == 0 {
			return usagef("draft: which action? %s", draftUsage)
		}
		return nil
	})
	return fs.run(ctx, args, -1, func(a *app) error {
		week, b, err := a.weekBuilder(ctx, e.stdout, *weekFlag, false)
		if err != nil {
			return err
		}
		desk, err := a.desk(b)
		if err != nil {
			return err
		}
		editor := editorial.EditorName(*as, e.getenv, user.Current, os.Hostname)
		action, rest := fs.pos[0], fs.pos[1:]
		switch action {
		case "show":
			return showDraft(ctx, e, a, desk, week)
		case "approve":
			is, err := desk.Approve(ctx, week, editor)
			if err != nil {
				return err
			}
			o, err := b.Outlook(ctx, week, a.now())
			if err != nil {
				return err
			}
			when := "goes out at its send time"
			switch o.Standing {
			case weekly.StandingDue:
				when = "its send slot has passed: a running `newsletter serve` sends it within a minute while schedule.grace lasts; after that, send it with `newsletter send --issue " + week.String() + "`"
			case weekly.StandingMissed:
				when = "its send slot and schedule.grace have passed, so the scheduler will not send it: send it with `newsletter send --issue " + week.String() + "`"
			}
			fmt.Fprintf(e.stdout, "Approved issue %s (%d stories, subject %q): it is frozen; %s.\n", is.Week, len(is.Stories), is.Subject, when)
			return nil
		case digest.ActionUnapprove:
			before, err := a.db.IssueByWeek(ctx, week)
			if err != nil {
				return err
			}
			if _, err := desk.Unapprove(ctx, week, editor); err != nil {
				return draftErr(err)
			}
			if before.Status == newsletter.IssueDraft {
				fmt.Fprintf(e.stdout, "Issue %s is a draft already: nothing to reopen.\n", week)
				return nil
			}
			fmt.Fprintf(e.stdout, "Reopened issue %s as a draft (it was approved by %s): edit it, then approve it again for it to go out.\n", week, before.ApprovedBy)
			return showDraft(ctx, e, a, desk, week)
		case "test":
			if len(rest) == 0 {
				return usagef("draft test: to which addresses?")
			}
			if err := desk.SendTest(ctx, week, editor, rest); err != nil {
				return draftErr(err)
			}
			tr, err := a.transport()
			if err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "Sent a [TEST] of %s to %s via %s.\n", week, strings.Join(rest, ", "), tr)
			return nil
		case "add":
			if len(rest) != 1 {
				return usagef("draft add: give one URL")
			}
			if *at < 0 {
				return usagef("draft add: --at %d: want 1 (the lead) or more", *at)
			}
			st, err := desk.AddPick(ctx, week, editor, editorial.Pick{URL: rest[0], Title: *title, Summary: *summary, ImageURL: *image, ImageAlt: *imageAlt, Section: *section, Position: *at})
			if err != nil {
				return draftErr(err)
			}
			fmt.Fprintf(e.stdout, "Added #%d %s to %s.\n", st.ID, st.Title, week)
			return showDraft(ctx, e, a, desk, week)
		}
		if !slices.Contains(digest.Actions, action) {
			return usagef("draft: unknown action %q; want %s", action, draftUsage)
		}
		edit, err := editorial.ParseEdit(action, rest, *file)
		if err != nil {
			return draftErr(fmt.Errorf("draft: %w", err))
		}
		edit.Week, edit.Editor = week, editor
		if err := desk.Edit(ctx, edit); err != nil {
			return draftErr(err)
		}
		fmt.Fprintf(e.stdout, "Recorded %s by %s on %s.\n", action, editor, week)
		return showDraft(ctx, e, a, desk, week)
	})
}

// draftErr turns an editor's mistake into a usage error (exit 2).
func draftErr(err error) error {
	if errors.Is(err, editorial.ErrInvalid) || errors.Is(err, editorial.ErrFrozen) {
		return exitError{exitUsage, err}
	}
	return err
}

func showDraft(ctx context.Context, e env, a *app, desk *editorial.Desk, week newsletter.Week) error {
	v, err := desk.Draft(ctx, week)
	if err != nil {
		return err
	}
	printBuild(e.stdout, a, v.Build)
	fmt.Fprintln(e.stdout, "Checks:")
	for _, c := range v.Checks {
		mark := "ok  "
		if !c.OK {
			mark = "FAIL"
		}
		fmt.Fprintf(e.stdout, "  %s %s: %s\n", mark, c.Name, c.Detail)
	}
	if len(v.Edits) > 0 {
		fmt.Fprintln(e.stdout, "Edits:")
		for _, ed := range v.Edits {
			fmt.Fprintf(e.stdout, "  %s %s %s", ed.At.In(a.cfg.Location()).Format("2006-01-02 15:04"), ed.Editor, ed.Action)
			if ed.StoryID != 0 {
				fmt.Fprintf(e.stdout, " #%d", ed.StoryID)
			}
			if ed.Value != "" {
				fmt.Fprintf(e.stdout, " %q", ed.Value)
			}
			fmt.Fprintln(e.stdout)
		}
	}
	return nil
}

// desk wires the editors' workflow to b and to messages built by the delivery sender.
func (a *app) desk(b *weekly.Builder) (*editorial.Desk, error) {
	if t := a.cfg.Editorial.SubjectTemplate; t != "" {
		if err := weekly.CheckSubjectTemplate(t); err != nil {
			return nil, usagef("editorial.subject_template: %w", err)
		}
	}
	sender, err := a.sender()
	if err != nil {
		return nil, err
	}
	return editorial.New(a.db, b, editorial.SenderMessages{Sender: sender},
		editorial.Options{PostalAddress: a.cfg.Publication.PostalAddress, Now: a.now}), nil
}

// editorialRoutes builds the editors' preview (behind editor auth).
func (a *app) editorialRoutes(site web.Site) ([]web.Registrar, error) {
	b, err := a.builder()
	if err != nil {
		return nil, err
	}
	desk, err := a.desk(b)
	if err != nil {
		return nil, err
	}
	editors := map[string]string{}
	for _, ed := range a.cfg.Editorial.Editors {
		editors[ed.Name] = ed.PasswordBcrypt
	}
	preview, err := web.NewPreview(web.PreviewOptions{
		Site:      site,
		Desk:      desk,
		Auth:      web.EditorAuth{Editors: editors, AdminToken: a.cfg.AdminToken},
		NextIssue: b.Upcoming,
	})
	if err != nil {
		return nil, err
	}
	return []web.Registrar{preview}, nil
}
