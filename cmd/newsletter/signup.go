package main

import (
	"newsletter/internal/mailer"
	"newsletter/internal/render"
	"newsletter/internal/roster"
	"newsletter/internal/web"
	"newsletter/templates"
)

// subscriberRoutes builds the list service for `serve`, with the confirmation mailer, and
// the route groups on top of it: the public sign-up, home page and archive of sent issues,
// and the token-guarded admin pages and API.
func (a *app) subscriberRoutes(site web.Site) (*roster.Service, []web.Registrar, error) {
	tr, err := a.transport()
	if err != nil {
		return nil, nil, err
	}
	s := a.cfg.Sender
	confirmations, err := roster.NewMailConfirmations(roster.MailOptions{
		Transport:       tr,
		From:            mailer.Address{Name: s.FromName, Email: s.FromAddress},
		ReplyTo:         s.ReplyTo,
		EnvelopeFrom:    s.BounceAddress,
		MessageIDDomain: a.cfg.MessageIDDomain(),
		Publication:     a.publication(),
		Location:        a.cfg.Location(),
		Templates:       templates.Confirm,
		Now:             a.now,
	})
	if err != nil {
		return nil, nil, err
	}
	rs, err := a.roster(confirmations)
	if err != nil {
		return nil, nil, err
	}
	signup, err := web.NewSubscribe(web.SubscribeOptions{
		Site:       site,
		Roster:     rs,
		PerIP:      a.cfg.Subscribe.PerIPPerHour,
		PerAddress: a.cfg.Subscribe.PerAddressPerHour,
	})
	if err != nil {
		return nil, nil, err
	}
	admin, err := web.NewAdmin(web.AdminOptions{
		Site:      site,
		Roster:    rs,
		Token:     a.cfg.AdminToken,
		BaseURL:   a.cfg.BaseURL,
		MaxImport: a.cfg.Subscribe.MaxImportBytes,
	})
	if err != nil {
		return nil, nil, err
	}
	archive, err := web.NewArchive(web.ArchiveOptions{
		Site:    site,
		Issues:  a.db,
		BaseURL: a.cfg.BaseURL,
		Fill:    render.PublicHTML,
		Tagline: a.cfg.Publication.Tagline,
	})
	if err != nil {
		return nil, nil, err
	}
	return rs, []web.Registrar{signup, admin, archive}, nil
}
