package main

import (
	"context"
	"fmt"

	"newsletter/internal/editorial"
)

func cmdPreview(ctx context.Context, e env, args []string) error {
	fs := flags(e, "preview", "", "Print the week's issue as one subscriber will get it. Builds (or refreshes) the draft first;\na frozen issue is shown as it was sent.")
	weekFlag := addWeekFlag(fs)
	format := fs.String("format", "html", "what to print: html, text or eml (the whole message)")
	noFetch := fs.Bool("no-fetch", false, "build from the stories already stored, without fetching the feeds")
	fs.check(func() error {
		if *format != "html" && *format != "text" && *format != "eml" {
			return usagef("--format: want html, text or eml, got %q", *format)
		}
		return nil
	})
	return fs.run(ctx, args, 0, func(a *app) error {
		week, b, err := a.weekBuilder(ctx, e.stderr, *weekFlag, false)
		if err != nil {
			return err
		}
		if !*noFetch {
			if err := a.gather(ctx, e.stderr, b); err != nil {
				return err
			}
		}
		built, err := b.Build(ctx, week)
		if err != nil {
			return err
		}
		sender, err := a.sender()
		if err != nil {
			return err
		}
		msg := sender.Message(built.Issue, built.Email, editorial.PreviewReader())
		switch *format {
		case "html":
			_, err = fmt.Fprint(e.stdout, msg.HTML)
		case "text":
			_, err = fmt.Fprint(e.stdout, msg.Text)
		case "eml":
			_, err = msg.WriteTo(e.stdout)
		}
		return err
	})
}
