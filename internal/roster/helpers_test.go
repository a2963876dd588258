package roster_test

import "newsletter/internal/mailer"

func outbox(dir string) mailer.Transport { return &mailer.Outbox{Dir: dir} }

func mailerAddress(name, email string) mailer.Address {
	return mailer.Address{Name: name, Email: email}
}
