package main

import (
	"context"
	"io"

	"newsletter/internal/bounce"
	"newsletter/internal/roster"
	"newsletter/internal/store"
	"newsletter/internal/webhook"
)

// bounceRules are the rules every bounce report is applied with.
func (a *app) bounceRules() roster.BounceRules {
	return roster.BounceRules{MessageIDDomain: a.cfg.MessageIDDomain(), SignedOnly: a.cfg.Sender.VERP, BounceRules: store.BounceRules{
		HardLimit: a.cfg.Delivery.BounceLimit, SoftLimit: a.cfg.Bounces.SoftLimit, SoftWindow: a.cfg.Bounces.SoftWindow}}
}

// webhookRoutes is serve's POST /webhooks/{provider} for the providers bounces.webhooks
// configures; a complaint it records tells the editors as `bounces process` does.
func (a *app) webhookRoutes(ctx context.Context, r *roster.Service, out io.Writer) (*webhook.Handler, error) {
	w := a.cfg.Bounces.Webhooks
	opt := webhook.Options{Applier: r, Rules: a.bounceRules(), BounceAddress: a.cfg.Sender.BounceAddress,
		Now: a.now, Logger: a.logger}
	if w.SES.Enabled {
		opt.SES = &webhook.SES{TopicARN: w.SES.TopicARN}
	}
	if w.Postmark.User != "" {
		opt.Postmark = &webhook.Postmark{User: w.Postmark.User, Password: w.Postmark.Password}
	}
	if w.SendGrid.PublicKey != "" {
		opt.SendGrid = &webhook.SendGrid{PublicKey: w.SendGrid.PublicKey}
	}
	if w.Mailgun.SigningKey != "" {
		opt.Mailgun = &webhook.Mailgun{SigningKey: w.Mailgun.SigningKey}
	}
	p, err := a.bounceRun(r, out)
	if err != nil {
		return nil, err
	}
	// The alarm mail is sent on serve's context: it outlives the provider's request.
	opt.OnRecorded = func(_ context.Context, rep bounce.Report, o roster.BounceOutcome) {
		if err := p.Recorded(ctx, rep, o); err != nil {
			a.logger.Error("complaint alarm", "issue_id", o.IssueID, "err", err)
		}
	}
	return webhook.New(opt)
}
