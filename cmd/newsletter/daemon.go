package main

import (
	"time"

	"newsletter/internal/daemon"
	"newsletter/internal/delivery"
	"newsletter/internal/editorial"
	"newsletter/internal/mailer"
	"newsletter/internal/metrics"
	"newsletter/internal/schedule"
)

// scheduler wires the schedule runner to the weekly build and the delivery engine.
func (a *app) scheduler(m *metrics.Metrics) (*schedule.Runner, error) {
	jobs, err := a.daemonJobs(m)
	if err != nil {
		return nil, err
	}
	return schedule.NewRunner(a.sched, jobs, a.db, a.db, schedule.Options{
		Grace:  a.cfg.Schedule.Grace,
		Week:   func(s schedule.Slot) string { return jobs.Week(s).String() },
		Now:    a.now,
		Logger: a.logger,
	}), nil
}

// daemonJobs builds what the schedule triggers, counting each delivery in m as it is made.
func (a *app) daemonJobs(m *metrics.Metrics) (*daemon.Jobs, error) {
	b, err := a.builder()
	if err != nil {
		return nil, err
	}
	// No retry wait inside a slot: Resume picks deferred rows up as they come due.
	sender, err := a.newSender(0)
	if err != nil {
		return nil, err
	}
	sender = sender.WithProgress(m.Deliveries(metrics.RelayLabel(sender.Relays())))
	var notifier daemon.Notifier
	if n, err := a.editorNotice(); err != nil {
		return nil, err
	} else if n != nil {
		notifier = n
	}
	return daemon.New(b, sender, a.db, daemon.Options{
		Feeds:           a.cfg.Feeds,
		Location:        a.cfg.Location(),
		MinStories:      a.cfg.Schedule.MinStories,
		RequireApproval: a.cfg.Editorial.RequireApproval,
		NextSend:        func(t time.Time) time.Time { return a.sched.Next(schedule.Send, t) },
		Notifier:        notifier,
		Observe:         func(r delivery.Report) { m.ObserveSend(r.Took) },
		Compactor:       a.db,
		RefreshEvery:    time.Hour,
		KeepLedger:      time.Duration(a.cfg.Schedule.KeepLedgerWeeks) * 7 * 24 * time.Hour,
		Now:             a.now,
		Logger:          a.logger,
	}), nil
}

// editorNotice mails editorial.editors_email; nil when it is not set.
func (a *app) editorNotice() (*editorial.Notice, error) {
	if a.cfg.Editorial.EditorsEmail == "" {
		return nil, nil
	}
	tr, err := a.transport()
	if err != nil {
		return nil, err
	}
	s := a.cfg.Sender
	return &editorial.Notice{Transport: tr, From: mailer.Address{Name: s.FromName, Email: s.FromAddress},
		To: a.cfg.Editorial.EditorsEmail, MessageIDDomain: a.cfg.MessageIDDomain(), Now: a.now}, nil
}
