package newsletter

import (
	"errors"
	"strings"
	"unicode"
	"unicode/utf8"
)

// The subject rules, shared by the configuration's fixed subject, the editors' set-subject
// (and set-preheader) and the editors' checks.
const (
	// SubjectMax is the longest subject, in characters, that may be set.
	SubjectMax = 200
	// SubjectShown is about how many characters most inboxes show of a subject; the editors'
	// checks flag a longer one, which is allowed.
	SubjectShown = 60
)

// CheckSubject reports what makes s unusable as a subject line: a control character (a CR
// or LF would start a new header) or more than SubjectMax characters.
func CheckSubject(s string) error {
	if strings.ContainsFunc(s, unicode.IsControl) {
		return errors.New("must not contain control characters")
	}
	if utf8.RuneCountInString(s) > SubjectMax {
		return errors.New("at most 200 characters")
	}
	return nil
}
