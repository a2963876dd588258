package roster

import (
	"fmt"

	"newsletter/internal/bounce"
	"newsletter/internal/store"
)

// Describe says in one line what ApplyReport made of rep, as `bounces process` prints it;
// week names the outcome's issue ("" when unknown) and rules are those it was applied with.
func (o BounceOutcome) Describe(rep bounce.Report, week string, rules BounceRules) string {
	if rep.Kind == bounce.Irrelevant {
		return "irrelevant: " + o.Skipped
	}
	what := map[bounce.Kind]string{bounce.Hard: "hard bounce", bounce.Soft: "soft bounce", bounce.Complaint: "complaint",
		bounce.Unsubscribe: "mailto unsubscribe"}[rep.Kind]
	if rep.Status != "" {
		what += " " + rep.Status
	}
	if o.Subscriber.ID == 0 {
		return what + ": " + o.Skipped
	}
	who := o.Subscriber.Email + " (by " + o.By
	if week != "" {
		who += ", issue " + week
	}
	who += ")"
	if !o.Recorded {
		return fmt.Sprintf("%s for %s: %s; nothing changed", what, who, o.Skipped)
	}
	res := o.Result
	var effect string
	switch {
	case res.Suppressed == store.SuppressComplained:
		effect = "suppressed (complained), status " + string(res.Status)
	case res.Suppressed == store.SuppressUnsubscribed:
		effect = "unsubscribed"
	case res.Suppressed != "":
		effect = "suppressed (bounced), status " + string(res.Status)
	case rep.Kind == bounce.Hard:
		effect = fmt.Sprintf("%d of %d hard bounces (delivery.bounce_limit)", res.Hard, res.Limit)
	default:
		effect = fmt.Sprintf("%d of %d soft bounces within %s (bounces.soft_limit)", res.Soft, res.Limit, rules.SoftWindow)
	}
	return fmt.Sprintf("%s for %s: %s", what, who, effect)
}
