package mailer

import (
	"context"
	"errors"
	"strconv"
)

// Sender is one open channel to deliver messages: one SMTP connection reused for many
// messages, or the outbox. Calls are serialised; use one Sender per worker.
type Sender interface {
	// Send delivers one message. A failed delivery is a *SendError; an invalid message is
	// an error wrapping ErrInvalidMessage.
	Send(ctx context.Context, m Message) (Receipt, error)
	Close() error
}

// Receipt is the answer for an accepted message.
type Receipt struct {
	Reply string // "250 2.0.0 OK: queued as ABC" for SMTP, the file path for the outbox
}

// Transport opens Senders. Implementations: *Outbox, *SMTP.
type Transport interface {
	Open(ctx context.Context) (Sender, error)
	String() string // for logs; never holds a password
}

// SendError classifies a failed delivery.
type SendError struct {
	Permanent bool // true only for a real 5xx reply (RCPT or DATA); a dropped connection, timeout or 4xx is temporary
	Code      int  // SMTP reply code, 0 when none (network error, cancelled context)
	// InDoubt says the whole message went out but its reply never came (a timeout or a
	// lost connection after the end of DATA): the relay may have accepted it.
	InDoubt bool
	Reply   string // server text, e.g. "550 5.1.1 No such user"; empty when Code is 0
	Err     error  // underlying
}

// Error implements error.
func (e *SendError) Error() string {
	kind := "temporary"
	if e.Permanent {
		kind = "permanent"
	}
	switch {
	case e.Err != nil:
		return "mailer: " + kind + " failure: " + e.Err.Error()
	case e.Reply != "":
		return "mailer: " + kind + " failure: " + e.Reply
	default:
		return "mailer: " + kind + " failure (code " + strconv.Itoa(e.Code) + ")"
	}
}

// Unwrap returns the underlying error.
func (e *SendError) Unwrap() error { return e.Err }

// IsInDoubt reports whether err is a *SendError with InDoubt set: sending again may
// deliver a second copy.
func IsInDoubt(err error) bool {
	var se *SendError
	return errors.As(err, &se) && se.InDoubt
}

// IsPermanent reports whether err is a *SendError with Permanent set: the server refused
// this message for good and sending it again is pointless.
func IsPermanent(err error) bool {
	var se *SendError
	return errors.As(err, &se) && se.Permanent
}
