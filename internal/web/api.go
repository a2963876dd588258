package web

import (
	"cmp"
	"encoding/json"
	"errors"
	"io"
	"mime/multipart"
	"net/http"
	"strconv"
	"time"

	"newsletter/internal/newsletter"
	"newsletter/internal/roster"
)

// maxJSONBody caps the API's JSON requests.
const maxJSONBody = 64 << 10

// maxPageSize caps ?limit on GET /api/subscribers.
const maxPageSize = 1000

type apiSubscriber struct {
	ID        int64     `json:"id"`
	Email     string    `json:"email"`
	Name      string    `json:"name"`
	Status    string    `json:"status"`
	Source    string    `json:"source"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

func toAPI(s newsletter.Subscriber) apiSubscriber {
	return apiSubscriber{ID: s.ID, Email: s.Email, Name: s.Name, Status: string(s.Status), Source: s.Source, CreatedAt: s.CreatedAt, UpdatedAt: s.UpdatedAt}
}

func (a *Admin) writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		a.opt.Logger.Warn("web: api: write", "err", err)
	}
}

func (a *Admin) apiError(w http.ResponseWriter, err error) {
	code, msg := a.errorStatus(w, err, "web: api")
	a.writeJSON(w, code, map[string]string{"error": msg})
}

func (a *Admin) apiBad(w http.ResponseWriter, msg string) {
	a.writeJSON(w, http.StatusBadRequest, map[string]string{"error": msg})
}

// filterFrom reads status, search, limit and offset from the query string.
func filterFrom(r *http.Request, defLimit int) (roster.Filter, error) {
	q := r.URL.Query()
	f := roster.Filter{Status: q.Get("status"), Search: q.Get("search"), Limit: defLimit}
	for _, p := range []struct {
		name string
		dst  *int
		max  int
	}{{"limit", &f.Limit, maxPageSize}, {"offset", &f.Offset, 1 << 40}} {
		v := q.Get(p.name)
		if v == "" {
			continue
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > p.max {
			return f, errors.New(p.name + " must be a number from 0 to " + strconv.Itoa(p.max))
		}
		*p.dst = n
	}
	if _, err := roster.ParseStatus(f.Status); err != nil {
		return f, err
	}
	return f, nil
}

func (a *Admin) apiList(w http.ResponseWriter, r *http.Request) {
	f, err := filterFrom(r, 100)
	if err != nil {
		a.apiBad(w, err.Error())
		return
	}
	f.Limit = cmp.Or(f.Limit, 100)
	subs, total, err := a.opt.Roster.List(r.Context(), f)
	if err != nil {
		a.apiError(w, err)
		return
	}
	out := make([]apiSubscriber, len(subs))
	for i, s := range subs {
		out[i] = toAPI(s)
	}
	a.writeJSON(w, http.StatusOK, map[string]any{"subscribers": out, "total": total, "limit": f.Limit, "offset": f.Offset})
}

func (a *Admin) apiAdd(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxJSONBody)
	var req struct {
		Email  string `json:"email"`
		Name   string `json:"name"`
		Status string `json:"status"`
		Force  bool   `json:"force"`
	}
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		a.apiBad(w, "body: want JSON {\"email\": ..., \"name\": ..., \"status\": ...}: "+clip(err.Error(), 120, "..."))
		return
	}
	if dec.More() {
		a.apiBad(w, "body: one JSON object only")
		return
	}
	sub, created, err := a.opt.Roster.Add(r.Context(), roster.AddRequest{Email: req.Email, Name: req.Name, Status: req.Status, Source: "api", Force: req.Force})
	if err != nil {
		a.apiError(w, err)
		return
	}
	code := http.StatusOK
	if created {
		code = http.StatusCreated
	}
	a.writeJSON(w, code, map[string]any{"subscriber": toAPI(sub), "created": created})
}

type apiEvent struct {
	Event  string    `json:"event"`
	Source string    `json:"source"`
	IP     string    `json:"ip,omitempty"`
	At     time.Time `json:"at"`
	Detail string    `json:"detail,omitempty"`
}

func (a *Admin) apiShow(w http.ResponseWriter, r *http.Request) {
	rec, err := a.opt.Roster.Show(r.Context(), r.PathValue("email"))
	if err != nil {
		if errors.Is(err, roster.ErrSuppressed) && rec.Suppressed != "" {
			a.writeJSON(w, http.StatusNotFound, map[string]string{"error": "no such subscriber", "suppressed": rec.Suppressed})
			return
		}
		a.apiError(w, err)
		return
	}
	events := make([]apiEvent, len(rec.Events))
	for i, e := range rec.Events {
		events[i] = apiEvent(e)
	}
	a.writeJSON(w, http.StatusOK, map[string]any{"subscriber": toAPI(rec.Subscriber), "suppressed": rec.Suppressed, "history": events})
}

// apiRemove unsubscribes (and suppresses) an address; ?erase=true deletes its personal
// data instead, keeping only the suppression hash.
func (a *Admin) apiRemove(w http.ResponseWriter, r *http.Request) {
	email := r.PathValue("email")
	switch r.URL.Query().Get("erase") {
	case "", "false", "0":
	case "true", "1":
		existed, err := a.opt.Roster.Erase(r.Context(), email)
		if err != nil {
			a.apiError(w, err)
			return
		}
		a.writeJSON(w, http.StatusOK, map[string]any{"erased": true, "existed": existed})
		return
	default:
		a.apiBad(w, "erase must be true or false")
		return
	}
	sub, changed, err := a.opt.Roster.Remove(r.Context(), email, "api")
	if err != nil {
		a.apiError(w, err)
		return
	}
	a.writeJSON(w, http.StatusOK, map[string]any{"subscriber": toAPI(sub), "changed": changed})
}

type apiRowError struct {
	Line  int    `json:"line"`
	Error string `json:"error"`
}

// upload reads r's multipart body up to its part named "file" and returns that part and the
// short fields sent before it.
func upload(r *http.Request) (*multipart.Part, map[string]string, error) {
	mr, err := r.MultipartReader()
	if err != nil {
		return nil, nil, errors.New("want a multipart/form-data upload with a file field")
	}
	fields := map[string]string{}
	for {
		part, err := mr.NextPart()
		if err != nil {
			return nil, nil, errors.New("the upload ended without a file field (fields go before the file)")
		}
		if part.FormName() == "file" {
			return part, fields, nil
		}
		value, err := io.ReadAll(io.LimitReader(part, 4096))
		if err != nil {
			return nil, nil, errors.New("could not read the form")
		}
		fields[part.FormName()] = string(value)
	}
}

// apiImport takes a CSV body (header row; email, name, status, subscribed_at), as text/csv
// or as the file field of a multipart/form-data upload, with
// ?dry_run, ?strict and ?resubscribe, and answers with the row report.
func (a *Admin) apiImport(w http.ResponseWriter, r *http.Request) {
	allowLongUpload(w)
	r.Body = http.MaxBytesReader(w, r.Body, a.opt.MaxImport)
	q := r.URL.Query()
	opt := roster.ImportOptions{Source: "api"}
	for _, p := range []struct {
		name string
		dst  *bool
	}{{"dry_run", &opt.DryRun}, {"strict", &opt.Strict}, {"resubscribe", &opt.Resubscribe}} {
		if v := q.Get(p.name); v != "" {
			b, err := strconv.ParseBool(v)
			if err != nil {
				a.apiBad(w, p.name+" must be true or false")
				return
			}
			*p.dst = b
		}
	}
	body := io.Reader(r.Body)
	if bodyTypeIn(r, []string{typeMultipart}) {
		part, _, err := upload(r)
		if err != nil {
			a.apiBad(w, "body: "+err.Error())
			return
		}
		body = part
	}
	rep, err := a.opt.Roster.Import(r.Context(), body, opt)
	if err != nil {
		a.apiError(w, err)
		return
	}
	rowErrs := make([]apiRowError, len(rep.Errors))
	for i, e := range rep.Errors {
		rowErrs[i] = apiRowError{Line: e.Line, Error: e.Err.Error()}
	}
	code := http.StatusOK
	if opt.Strict && rep.BadRows > 0 {
		code = http.StatusUnprocessableEntity
	}
	a.writeJSON(w, code, map[string]any{
		"written": rep.Written, "dry_run": opt.DryRun,
		"added": rep.Added, "updated": rep.Updated, "unchanged": rep.Unchanged,
		"kept": rep.Kept, "suppressed": rep.Suppressed,
		// bad_rows lists the first roster.MaxReportedErrors; bad_row_count counts them all.
		"bad_rows": rowErrs, "bad_row_count": rep.BadRows, "bad_rows_truncated": rep.ErrorsCut(),
	})
}

// apiExport streams the CSV of any filter (also the admin page's export link).
func (a *Admin) apiExport(w http.ResponseWriter, r *http.Request) {
	f, err := filterFrom(r, 0)
	if err != nil {
		a.apiBad(w, err.Error())
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="subscribers.csv"`)
	// Errors after the first row cannot change the status any more; the log has them.
	if _, err := a.opt.Roster.Export(r.Context(), w, f); err != nil {
		a.opt.Logger.Error("web: export", "err", err)
	}
}

func (a *Admin) apiStats(w http.ResponseWriter, r *http.Request) {
	st, err := a.opt.Roster.Stats(r.Context(), trendWeeks)
	if err != nil {
		a.apiError(w, err)
		return
	}
	type week struct {
		Start  string `json:"week_start"`
		Joined int    `json:"joined"`
		Left   int    `json:"left"`
	}
	weeks := make([]week, len(st.Weeks))
	for i, wk := range st.Weeks {
		weeks[i] = week{Start: wk.Start.Format("2006-01-02"), Joined: wk.Joined, Left: wk.Left}
	}
	a.writeJSON(w, http.StatusOK, map[string]any{"by_status": st.ByStatus, "total": st.Total, "suppression": st.Suppression, "weeks": weeks})
}

// importTimeout bounds an import's request: its upload is written to the database as it
// arrives, which takes far longer than the server's timeouts for small requests allow.
const importTimeout = 30 * time.Minute

// allowLongUpload lifts the server's read and write deadlines to importTimeout for this
// request (behind the admin token already). A writer that cannot is left as it is.
func allowLongUpload(w http.ResponseWriter) {
	rc := http.NewResponseController(w)
	deadline := time.Now().Add(importTimeout)
	_ = rc.SetReadDeadline(deadline)
	_ = rc.SetWriteDeadline(deadline)
}
