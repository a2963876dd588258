package schedule

import "fmt"

// SpecError is a cron expression Parse refused, with the kind it was for, so that the
// configuration's caller can name the key (schedule.build or schedule.send).
type SpecError struct {
	Kind Kind
	Spec string
	Err  error
}

func (e *SpecError) Error() string { return fmt.Sprintf("schedule: %s %q: %v", e.Kind, e.Spec, e.Err) }
func (e *SpecError) Unwrap() error { return e.Err }

// Reason says what is wrong for the configuration's error, with an example of the kind's expression.
func (e *SpecError) Reason() string {
	example := map[Kind]string{Build: "0 12 * * FRI", Send: "0 8 * * MON"}[e.Kind]
	return fmt.Sprintf("%q is not a cron expression like %q: %v", e.Spec, example, e.Err)
}
