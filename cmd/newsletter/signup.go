package main

import (
	"newsletter/internal/mailer"
	"newsletter/internal/roster"
	"newsletter/internal/token"
	"newsletter/internal/web"
	"newsletter/templates"
)

// subscriberRoutes builds serve's list service, which mails confirmations, and its routes:
// sign-up and home page, and the token-guarded admin pages and API.
func (a *app) subscriberRoutes(sg *token.Signer, page web.Page) (*roster.Service, []web.Registrar, error) {
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
		TTL:             a.cfg.Subscribe.ConfirmTTL,
	})
	if err != nil {
		return nil, nil, err
	}
	rs, err := a.roster(confirmations)
	if err != nil {
		return nil, nil, err
	}
	signup, err := web.NewSubscribe(web.SubscribeOptions{
		Roster:     rs,
		Tokens:     sg,
		Templates:  templates.Web,
		Page:       page,
		PerIP:      a.cfg.Subscribe.PerIPPerHour,
		PerAddress: a.cfg.Subscribe.PerAddressPerHour,
		Now:        a.now,
		Logger:     a.logger,
	})
	if err != nil {
		return nil, nil, err
	}
	admin, err := web.NewAdmin(web.AdminOptions{
		Roster:    rs,
		Token:     a.cfg.AdminToken,
		Tokens:    sg,
		Templates: templates.Web,
		Page:      page,
		BaseURL:   a.cfg.BaseURL,
		MaxImport: a.cfg.Subscribe.MaxImportBytes,
		Now:       a.now,
		Logger:    a.logger,
	})
	if err != nil {
		return nil, nil, err
	}
	home, err := web.NewHome(web.HomeOptions{
		Issues: a.db, Tokens: sg, Templates: templates.Web, Page: page,
		Tagline: a.cfg.Publication.Tagline, Now: a.now, Logger: a.logger,
	})
	if err != nil {
		return nil, nil, err
	}
	return rs, []web.Registrar{signup, admin, home}, nil
}
