// Package open311 serves Tanggap's items as a read-only Open311 GeoReport
// v2 endpoint (https://wiki.open311.org/GeoReport_v2), so that civic-tech
// tools that speak the standard can follow the city's complaints:
//
//   - services are the city's OPDs (service_code = OPD code, agency = OPD name);
//   - requests are the citizen complaints (service_request_id = item id,
//     requested_datetime = T0, expected_datetime = the current deadline).
//
// Only what is already public is published: the text of a public post, its
// time, the OPD handling it, its status and its deadline. The reporter's
// identity is never published (no author, account or post URL, since a post
// URL names its author on most platforms), and neither are official replies,
// posts that were not complaints when triaged, nor the text of posts the
// author has since deleted on the platform.
//
// Access: by default a request must pass Options.Allow (the web server's
// sign-in); with Options.Public the endpoint is open to everyone. Creating
// requests (POST) is not supported: the city receives complaints on its
// social-media accounts, not through Open311.
package open311

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/tanggap/tanggap"
	"github.com/tanggap/tanggap/config"
	"github.com/tanggap/tanggap/store"
)

// Items is what the endpoint needs from the store (*store.Store).
type Items interface {
	Item(ctx context.Context, id string) (*tanggap.Item, error)
	// Items lists items newest first, by platform time (T0), a page at a
	// time.
	Items(ctx context.Context, q store.ItemQuery) (*store.ItemList, error)
}

// Defaults of the GeoReport v2 spec for GET requests.
const (
	DefaultWindow      = 90 * 24 * time.Hour // the range when no dates are given, and the widest allowed
	DefaultMaxRequests = 1000                // the most requests one call returns
	DefaultPrefix      = "/open311/v2"
	maxIDs             = 100 // service_request_id values in one call
	pageSize           = 500
	maxScanned         = 200_000 // rows read by one call, whatever the filters
)

// Options configure the endpoint.
type Options struct {
	Items  Items          // required
	Config *config.Config // required: OPDs (services), city code (jurisdiction_id), time zone
	// Access decides what a request may read (for example: what the
	// signed-in person may read of citizen data): opds nil is every item,
	// otherwise only those of these OPDs (an OPD's own staff): another
	// OPD's items are not found, and a service_code of another OPD is
	// refused. An EUNAUTHORIZED or EFORBIDDEN error refuses the request
	// (401); any other is a failure to decide (503 when EUNAVAILABLE), not a
	// refusal. Nil refuses everyone unless Public.
	Access func(*http.Request) (opds []string, err error)
	// Public opens the endpoint to everyone, without sign-in. The data is
	// already public on the platforms, but publishing it in bulk is the
	// city's (PPID's) decision: the default is closed.
	Public bool
	Log    *slog.Logger
	Now    func() time.Time
	// Prefix is the path the handler is mounted at (default /open311/v2).
	Prefix string
	// Window and MaxRequests override the spec's defaults (90 days, 1000).
	Window      time.Duration
	MaxRequests int
}

// Handler serves the endpoint. It implements http.Handler.
type Handler struct {
	opt      Options
	loc      *time.Location
	services []service
	byCode   map[string]int
}

// New returns the Open311 handler. Without Allow and without Public it
// refuses every request (closed by default). It panics when Items or Config
// is nil, a wiring mistake, as http.ServeMux.Handle does with a nil handler.
func New(opt Options) *Handler {
	switch {
	case opt.Items == nil:
		panic("open311: New without Items")
	case opt.Config == nil:
		panic("open311: New without Config")
	case opt.Access == nil:
		opt.Access = func(*http.Request) ([]string, error) { return nil, tanggap.Errorf(tanggap.EUNAUTHORIZED, "not public") }
	}
	if opt.Log == nil {
		opt.Log = slog.New(slog.DiscardHandler)
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Prefix == "" {
		opt.Prefix = DefaultPrefix
	}
	opt.Prefix = strings.TrimSuffix(opt.Prefix, "/")
	if opt.Window <= 0 {
		opt.Window = DefaultWindow
	}
	if opt.MaxRequests <= 0 {
		opt.MaxRequests = DefaultMaxRequests
	}
	h := &Handler{opt: opt, loc: opt.Config.Location(), byCode: make(map[string]int, len(opt.Config.OPDs))}
	if h.loc == nil {
		h.loc = time.UTC
	}
	for i, o := range opt.Config.OPDs {
		h.services = append(h.services, service{
			ServiceCode: o.Code,
			ServiceName: o.Name,
			Description: describe(o),
			Metadata:    false,
			Type:        "realtime",
			Keywords:    strings.Join(o.Keywords, ", "),
			Group:       group(o.Name),
		})
		h.byCode[o.Code] = i
	}
	return h
}

func describe(o config.OPD) string {
	d := "Aduan warga dari media sosial resmi yang ditangani " + o.Name
	if o.Abbrev != "" {
		d += " (" + o.Abbrev + ")"
	}
	return d + "."
}

// group sorts OPDs into the families of Indonesian local government.
func group(name string) string {
	for _, g := range []struct{ prefix, group string }{
		{"Dinas ", "Dinas"}, {"Badan ", "Badan"}, {"Sekretariat ", "Sekretariat"},
		{"Kecamatan", "Kewilayahan"}, {"Kelurahan", "Kewilayahan"}, {"RSUD", "Rumah Sakit"},
		{"Perumda", "BUMD"}, {"PDAM", "BUMD"}, {"PT ", "BUMD"},
	} {
		if strings.HasPrefix(name, g.prefix) {
			return g.group
		}
	}
	return "Perangkat Daerah"
}

// Status values of GeoReport v2.
const (
	StatusOpen   = "open"
	StatusClosed = "closed"
)

// RequestStatus maps a Tanggap status to GeoReport's two: an item is open
// while the city still owes the citizen something (NEW, ASSIGNED,
// IN_PROGRESS, ON_HOLD, REOPENED) and closed otherwise (RESOLVED, CLOSED,
// archived, out of scope, duplicate); status_notes carries the Bahasa label.
func RequestStatus(s tanggap.Status) string {
	if s.Open() {
		return StatusOpen
	}
	return StatusClosed
}

// Published reports whether an item appears on the endpoint: citizen posts
// that triage took for a complaint, an information request or a
// suggestion, and posts it archived that a person later brought back into
// follow-up. Official replies, praise and noise left archived, and what a
// person archived as spam or noise (an endpoint the city may open to
// everyone must not republish it) are not service requests.
func Published(it *tanggap.Item) bool {
	if it.ReplyBy != "" || it.Kind == tanggap.KindOfficial {
		return false
	}
	if it.Status == tanggap.StatusNotComplaint && (it.ArchiveReason == "spam" || it.ArchiveReason == "noise") {
		return false
	}
	return it.Kind.Actionable() || it.Status != tanggap.StatusNotComplaint
}

// The GeoReport v2 shapes. JSON and XML share them; XML wraps lists.

type service struct {
	ServiceCode string `json:"service_code" xml:"service_code"`
	ServiceName string `json:"service_name" xml:"service_name"`
	Description string `json:"description" xml:"description"`
	Metadata    bool   `json:"metadata" xml:"metadata"`
	Type        string `json:"type" xml:"type"`
	Keywords    string `json:"keywords" xml:"keywords"`
	Group       string `json:"group" xml:"group"`
}

type xmlServices struct {
	XMLName  xml.Name  `xml:"services"`
	Services []service `xml:"service"`
}

type attribute struct{} // no service has attributes (metadata is false)

type definition struct {
	ServiceCode string      `json:"service_code"`
	Attributes  []attribute `json:"attributes"`
}

type xmlDefinition struct {
	XMLName     xml.Name `xml:"service_definition"`
	ServiceCode string   `xml:"service_code"`
	Attributes  struct {
		Attribute []attribute `xml:"attribute"`
	} `xml:"attributes"`
}

type request struct {
	ServiceRequestID  string `json:"service_request_id" xml:"service_request_id"`
	Status            string `json:"status" xml:"status"`
	StatusNotes       string `json:"status_notes,omitempty" xml:"status_notes,omitempty"`
	ServiceName       string `json:"service_name,omitempty" xml:"service_name,omitempty"`
	ServiceCode       string `json:"service_code,omitempty" xml:"service_code,omitempty"`
	Description       string `json:"description,omitempty" xml:"description,omitempty"`
	AgencyResponsible string `json:"agency_responsible,omitempty" xml:"agency_responsible,omitempty"`
	RequestedDatetime string `json:"requested_datetime" xml:"requested_datetime"`
	UpdatedDatetime   string `json:"updated_datetime,omitempty" xml:"updated_datetime,omitempty"`
	ExpectedDatetime  string `json:"expected_datetime,omitempty" xml:"expected_datetime,omitempty"`
	Address           string `json:"address,omitempty" xml:"address,omitempty"`
}

type xmlRequests struct {
	XMLName  xml.Name  `xml:"service_requests"`
	Requests []request `xml:"request"`
}

type apiError struct {
	Code        int    `json:"code" xml:"code"`
	Description string `json:"description" xml:"description"`
}

type xmlErrors struct {
	XMLName xml.Name   `xml:"errors"`
	Errors  []apiError `xml:"error"`
}

// httpError is a failure with its HTTP status and a public description.
type httpError struct {
	code int
	msg  string
}

func (e *httpError) Error() string { return e.msg }

func fail(code int, msg string) error { return &httpError{code: code, msg: msg} }

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rest, ok := strings.CutPrefix(r.URL.Path, h.opt.Prefix+"/")
	format := "xml" // the spec's required format, used for errors when none is given
	var resource string
	switch {
	case !ok:
	case strings.HasSuffix(rest, ".json"):
		format, resource = "json", strings.TrimSuffix(rest, ".json")
	case strings.HasSuffix(rest, ".xml"):
		resource = strings.TrimSuffix(rest, ".xml")
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		h.writeError(w, format, fail(http.StatusMethodNotAllowed,
			"this Open311 endpoint is read-only: complaints reach the city through its official social-media accounts, not through POST"))
		return
	}
	var sc scope // Public: every item
	if !h.opt.Public {
		opds, err := h.opt.Access(r)
		switch tanggap.ErrorCode(err) {
		case "":
		case tanggap.EUNAUTHORIZED, tanggap.EFORBIDDEN:
			h.writeError(w, format, fail(http.StatusUnauthorized, "sign in first, with a role that may read complaints: this Open311 endpoint is not public"))
			return
		default:
			h.writeError(w, format, err)
			return
		}
		sc = scope(opds)
	}
	if j := r.URL.Query().Get("jurisdiction_id"); j != "" && j != h.opt.Config.City.Code {
		h.writeError(w, format, fail(http.StatusNotFound, "jurisdiction_id not found: this endpoint serves "+h.opt.Config.City.Code))
		return
	}
	var (
		v   any
		err error
	)
	switch {
	case resource == "":
		err = fail(http.StatusNotFound, "unknown resource: use services.json, services/{service_code}.json, requests.json or requests/{service_request_id}.json (or .xml)")
	case resource == "services":
		v = h.servicesBody(format)
	case strings.HasPrefix(resource, "services/"):
		v, err = h.definition(format, strings.TrimPrefix(resource, "services/"))
	case resource == "requests":
		v, err = h.requests(r, format, sc)
	case strings.HasPrefix(resource, "requests/"):
		v, err = h.request(r.Context(), format, strings.TrimPrefix(resource, "requests/"), sc)
	default:
		err = fail(http.StatusNotFound, "unknown resource "+resource)
	}
	if err != nil {
		h.writeError(w, format, err)
		return
	}
	h.setCache(w)
	write(w, format, http.StatusOK, v)
}

func (h *Handler) setCache(w http.ResponseWriter) {
	if h.opt.Public {
		w.Header().Set("Cache-Control", "public, max-age=60")
	} else {
		w.Header().Set("Cache-Control", "private, no-store")
		w.Header().Set("Vary", "Cookie")
	}
}

func write(w http.ResponseWriter, format string, code int, v any) {
	if format == "json" {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(code)
		_ = json.NewEncoder(w).Encode(v)
		return
	}
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	w.WriteHeader(code)
	_, _ = w.Write([]byte(xml.Header))
	_ = xml.NewEncoder(w).Encode(v)
}

func (h *Handler) writeError(w http.ResponseWriter, format string, err error) {
	var he *httpError
	if !errors.As(err, &he) {
		code := http.StatusInternalServerError
		msg := "internal error"
		switch tanggap.ErrorCode(err) {
		case tanggap.ENOTFOUND:
			code, msg = http.StatusNotFound, "not found"
		case tanggap.EUNAVAILABLE:
			code, msg = http.StatusServiceUnavailable, "temporarily unavailable, try again later"
		}
		if code >= 500 {
			h.opt.Log.Error("open311_failed", "err", err)
		}
		he = &httpError{code: code, msg: msg}
	}
	e := apiError{Code: he.code, Description: he.msg}
	if format == "json" {
		write(w, format, he.code, []apiError{e})
		return
	}
	write(w, format, he.code, xmlErrors{Errors: []apiError{e}})
}

func (h *Handler) servicesBody(format string) any {
	list := append([]service{}, h.services...)
	if format == "json" {
		return list
	}
	return xmlServices{Services: list}
}

func (h *Handler) definition(format, code string) (any, error) {
	if _, ok := h.byCode[code]; !ok {
		return nil, fail(http.StatusNotFound, "service_code not found: "+code)
	}
	if format == "json" {
		return definition{ServiceCode: code, Attributes: []attribute{}}, nil
	}
	return xmlDefinition{ServiceCode: code}, nil
}

// scope is the OPDs a request may read; nil is all of them.
type scope []string

func (sc scope) sees(it *tanggap.Item) bool { return sc == nil || slices.Contains(sc, it.OPD) }

func (h *Handler) request(ctx context.Context, format, id string, sc scope) (any, error) {
	if id == "" || len(id) > tanggap.MaxIDBytes+16 || strings.Contains(id, "/") {
		return nil, fail(http.StatusNotFound, "service_request_id not found")
	}
	it, err := h.opt.Items.Item(ctx, id)
	if tanggap.ErrorCode(err) == tanggap.ENOTFOUND || (err == nil && !(Published(it) && sc.sees(it))) {
		return nil, fail(http.StatusNotFound, "service_request_id not found: "+id)
	}
	if err != nil {
		return nil, err
	}
	return h.wrap(format, []request{h.toRequest(it)}), nil
}

func (h *Handler) wrap(format string, rs []request) any {
	if rs == nil {
		rs = []request{}
	}
	if format == "json" {
		return rs
	}
	return xmlRequests{Requests: rs}
}

func (h *Handler) timeString(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(h.loc).Format(time.RFC3339)
}

func (h *Handler) toRequest(it *tanggap.Item) request {
	rq := request{
		ServiceRequestID:  it.ID,
		Status:            RequestStatus(it.Status),
		StatusNotes:       it.Status.Label("id"),
		RequestedDatetime: h.timeString(it.CreatedAt),
		UpdatedDatetime:   h.timeString(it.UpdatedAt),
		Address:           h.address(it),
	}
	if rq.UpdatedDatetime == "" {
		rq.UpdatedDatetime = rq.RequestedDatetime
	}
	if !it.Deleted {
		rq.Description = it.Text
	}
	if i, ok := h.byCode[it.OPD]; ok {
		s := h.services[i]
		rq.ServiceCode, rq.ServiceName, rq.AgencyResponsible = s.ServiceCode, s.ServiceName, s.ServiceName
	} else if it.Status == tanggap.StatusOutOfScope && it.OutTarget != "" {
		rq.AgencyResponsible = it.OutTarget
	}
	if it.Status.Open() && !it.Deadline.IsZero() {
		rq.ExpectedDatetime = h.timeString(it.Deadline)
	}
	return rq
}

func (h *Handler) address(it *tanggap.Item) string {
	var parts []string
	if it.Kelurahan != "" {
		parts = append(parts, "Kelurahan "+it.Kelurahan)
	}
	if it.Kecamatan != "" {
		parts = append(parts, "Kecamatan "+it.Kecamatan)
	}
	if len(parts) == 0 {
		return ""
	}
	if h.opt.Config.City.Name != "" {
		parts = append(parts, h.opt.Config.City.Name)
	}
	return strings.Join(parts, ", ")
}

// query is a parsed GET requests call.
type query struct {
	ids        []string
	codes      []string // "" means every service
	start, end time.Time
	open       bool // include open requests
	closed     bool // include closed requests
}

func splitList(v string) []string {
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

func parseTime(name, v string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return time.Time{}, fail(http.StatusBadRequest, name+" must be a W3C date-time such as 2026-03-01T00:00:00+07:00")
	}
	return t, nil
}

func (h *Handler) parseQuery(r *http.Request) (query, error) {
	v := r.URL.Query()
	q := query{open: true, closed: true}
	if ids := v.Get("service_request_id"); ids != "" {
		// The spec: service_request_id overrides every other argument.
		q.ids = splitList(ids)
		if len(q.ids) > maxIDs {
			return q, fail(http.StatusBadRequest, "at most 100 service_request_id values per call")
		}
		return q, nil
	}
	for _, c := range splitList(v.Get("service_code")) {
		if _, ok := h.byCode[c]; !ok {
			return q, fail(http.StatusBadRequest, "unknown service_code "+c+": see services.json")
		}
		q.codes = append(q.codes, c)
	}
	if s := v.Get("status"); s != "" {
		q.open, q.closed = false, false
		for _, st := range splitList(s) {
			switch st {
			case StatusOpen:
				q.open = true
			case StatusClosed:
				q.closed = true
			default:
				return q, fail(http.StatusBadRequest, "status must be open, closed or both (comma-delimited)")
			}
		}
	}
	var err error
	sd, ed := v.Get("start_date"), v.Get("end_date")
	if sd != "" {
		if q.start, err = parseTime("start_date", sd); err != nil {
			return q, err
		}
	}
	if ed != "" {
		if q.end, err = parseTime("end_date", ed); err != nil {
			return q, err
		}
	}
	switch {
	case sd == "" && ed == "":
		q.end = h.opt.Now()
		q.start = q.end.Add(-h.opt.Window)
	case sd == "":
		q.start = q.end.Add(-h.opt.Window)
	case ed == "":
		q.end = q.start.Add(h.opt.Window)
	}
	if q.end.Before(q.start) {
		return q, fail(http.StatusBadRequest, "end_date is before start_date")
	}
	if q.end.Sub(q.start) > h.opt.Window {
		return q, fail(http.StatusBadRequest, "start_date and end_date may not span more than "+days(h.opt.Window))
	}
	return q, nil
}

func days(d time.Duration) string {
	return strconv.Itoa(int(d/(24*time.Hour))) + " days"
}

func (h *Handler) requests(r *http.Request, format string, sc scope) (any, error) {
	q, err := h.parseQuery(r)
	if err != nil {
		return nil, err
	}
	if sc != nil && q.ids == nil {
		for _, c := range q.codes {
			if !slices.Contains(sc, c) {
				return nil, fail(http.StatusForbidden, "service_code "+c+" is another OPD's: this account reads only "+strings.Join(sc, ", "))
			}
		}
		if len(q.codes) == 0 {
			if len(sc) == 0 {
				return h.wrap(format, nil), nil
			}
			q.codes = sc
		}
	}
	ctx := r.Context()
	var items []tanggap.Item
	if q.ids != nil {
		for _, id := range q.ids {
			it, err := h.opt.Items.Item(ctx, id)
			if tanggap.ErrorCode(err) == tanggap.ENOTFOUND {
				continue
			}
			if err != nil {
				return nil, err
			}
			if Published(it) && sc.sees(it) {
				items = append(items, *it)
			}
		}
	} else {
		codes := q.codes
		if len(codes) == 0 {
			codes = []string{""}
		}
		for _, c := range codes {
			its, err := h.scan(ctx, c, q)
			if err != nil {
				return nil, err
			}
			items = append(items, its...)
		}
		if len(codes) > 1 {
			sort.SliceStable(items, func(i, j int) bool { return items[i].CreatedAt.After(items[j].CreatedAt) })
		}
		if len(items) > h.opt.MaxRequests {
			items = items[:h.opt.MaxRequests]
		}
	}
	out := make([]request, len(items))
	for i := range items {
		out[i] = h.toRequest(&items[i])
	}
	return h.wrap(format, out), nil
}

// scan lists the newest published items of one OPD (or of all, code "")
// whose platform time is in [q.start, q.end] and whose status matches.
func (h *Handler) scan(ctx context.Context, code string, q query) ([]tanggap.Item, error) {
	var out []tanggap.Item
	// The store's Before is exclusive at millisecond precision; end_date is inclusive.
	iq := store.ItemQuery{OPD: code, Before: q.end.Truncate(time.Millisecond).Add(time.Millisecond), Limit: pageSize}
	for scanned := int64(0); scanned < maxScanned; {
		res, err := h.opt.Items.Items(ctx, iq)
		if err != nil {
			return nil, err
		}
		scanned += res.Scanned
		for i := range res.Items {
			it := &res.Items[i]
			if it.CreatedAt.Before(q.start) {
				return out, nil
			}
			if !Published(it) {
				continue
			}
			if open := it.Status.Open(); (open && !q.open) || (!open && !q.closed) {
				continue
			}
			out = append(out, *it)
			if len(out) == h.opt.MaxRequests {
				return out, nil
			}
		}
		if res.Complete {
			return out, nil
		}
		iq.After = res.Next
	}
	return out, nil
}
