package web

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"mime"
	"net/http"
	"net/url"
	"os"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/goccy/go-yaml"
	"github.com/tanggap/tanggap"
	"github.com/tanggap/tanggap/store"
)

// The OpenAPI document is checked against the real handlers: every answer's
// status must be documented for its operation, its content type listed, and
// its body must match the schema, with no undocumented field (objects are
// closed unless a schema says additionalProperties: true). XML answers are
// read through the schema's xml names and checked against the same schema.

// oas is a loaded OpenAPI document with a validator for the JSON Schema
// subset it uses: $ref, type (a name or a list, "null" for nullable),
// required, properties, additionalProperties, items, enum, format date-time,
// minimum, maximum, maxItems; xml names for XML bodies.
type oas struct {
	doc  map[string]any
	seen map[string]bool // "Schema.property" met in a validated answer
}

func loadOpenAPI(t *testing.T, b []byte) *oas {
	t.Helper()
	j, err := yaml.YAMLToJSON(b)
	if err != nil {
		t.Fatalf("openapi.yaml: %v", err)
	}
	var doc map[string]any
	if err := json.Unmarshal(j, &doc); err != nil {
		t.Fatalf("openapi.yaml as JSON: %v", err)
	}
	if doc["openapi"] != "3.1.0" {
		t.Fatalf("openapi version %v, want 3.1.0", doc["openapi"])
	}
	return &oas{doc: doc, seen: map[string]bool{}}
}

// pointer resolves a local JSON pointer such as #/components/schemas/Item.
func (o *oas) pointer(ref string) (any, error) {
	p, ok := strings.CutPrefix(ref, "#/")
	if !ok {
		return nil, fmt.Errorf("only local $refs are supported: %q", ref)
	}
	var cur any = o.doc
	for _, tok := range strings.Split(p, "/") {
		tok = strings.NewReplacer("~1", "/", "~0", "~").Replace(tok)
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("$ref %s: %q is not an object", ref, tok)
		}
		if cur, ok = m[tok]; !ok {
			return nil, fmt.Errorf("$ref %s: no %q", ref, tok)
		}
	}
	return cur, nil
}

// deref follows $refs (a $ref may only sit next to a description).
func (o *oas) deref(v any) (map[string]any, error) {
	for range 32 {
		m, ok := v.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("not an object: %v", v)
		}
		ref, ok := m["$ref"].(string)
		if !ok {
			return m, nil
		}
		for k := range m {
			if k != "$ref" && k != "description" && k != "summary" {
				return nil, fmt.Errorf("$ref %s has sibling %q, which this validator does not support", ref, k)
			}
		}
		var err error
		if v, err = o.pointer(ref); err != nil {
			return nil, err
		}
	}
	return nil, errors.New("$ref loop")
}

func knownKeyword(k string) bool {
	switch k {
	case "type", "required", "properties", "additionalProperties", "items", "enum", "format",
		"minimum", "maximum", "maxItems", "description", "xml", "title", "examples":
		return true
	}
	return false
}

func schemaTypes(s map[string]any) []string {
	switch t := s["type"].(type) {
	case string:
		return []string{t}
	case []any:
		var out []string
		for _, x := range t {
			out = append(out, fmt.Sprint(x))
		}
		return out
	}
	return nil
}

func hasType(v any, t string) bool {
	switch t {
	case "null":
		return v == nil
	case "string":
		_, ok := v.(string)
		return ok
	case "boolean":
		_, ok := v.(bool)
		return ok
	case "number":
		_, ok := v.(float64)
		return ok
	case "integer":
		f, ok := v.(float64)
		return ok && f == math.Trunc(f)
	case "array":
		_, ok := v.([]any)
		return ok
	case "object":
		_, ok := v.(map[string]any)
		return ok
	}
	return false
}

// validate checks v against schema and appends what is wrong to errs.
func (o *oas) validate(at string, schema any, v any, errs *[]string) {
	o.validateIn("", at, schema, v, errs)
}

// validateIn is validate inside the named component schema (for coverage).
func (o *oas) validateIn(name, at string, schema any, v any, errs *[]string) {
	if m, ok := schema.(map[string]any); ok {
		if ref, ok := m["$ref"].(string); ok {
			if n, ok := strings.CutPrefix(ref, "#/components/schemas/"); ok {
				name = n
			}
		}
	}
	s, err := o.deref(schema)
	if err != nil {
		*errs = append(*errs, at+": schema: "+err.Error())
		return
	}
	for k := range s {
		if !knownKeyword(k) {
			*errs = append(*errs, fmt.Sprintf("%s: schema keyword %q is not supported by the test validator", at, k))
		}
	}
	if ts := schemaTypes(s); len(ts) > 0 && !slices.ContainsFunc(ts, func(t string) bool { return hasType(v, t) }) {
		*errs = append(*errs, fmt.Sprintf("%s: %T %v is not of type %v", at, v, short(v), ts))
		return
	}
	if v == nil {
		return
	}
	if enum, ok := s["enum"].([]any); ok && !slices.ContainsFunc(enum, func(e any) bool { return reflect.DeepEqual(e, v) }) {
		*errs = append(*errs, fmt.Sprintf("%s: %v is not one of %v", at, short(v), enum))
	}
	switch x := v.(type) {
	case string:
		if s["format"] == "date-time" {
			if _, err := time.Parse(time.RFC3339, x); err != nil {
				*errs = append(*errs, fmt.Sprintf("%s: %q is not an RFC 3339 date-time", at, x))
			}
		}
	case float64:
		if m, ok := s["minimum"].(float64); ok && x < m {
			*errs = append(*errs, fmt.Sprintf("%s: %v < minimum %v", at, x, m))
		}
		if m, ok := s["maximum"].(float64); ok && x > m {
			*errs = append(*errs, fmt.Sprintf("%s: %v > maximum %v", at, x, m))
		}
	case []any:
		if m, ok := s["maxItems"].(float64); ok && float64(len(x)) > m {
			*errs = append(*errs, fmt.Sprintf("%s: %d items > maxItems %v", at, len(x), m))
		}
		if items, ok := s["items"]; ok {
			for i, e := range x {
				o.validateIn(name, fmt.Sprintf("%s[%d]", at, i), items, e, errs)
			}
		}
	case map[string]any:
		props, _ := s["properties"].(map[string]any)
		if req, ok := s["required"].([]any); ok {
			for _, r := range req {
				if _, ok := x[r.(string)]; !ok {
					*errs = append(*errs, fmt.Sprintf("%s: required %q missing", at, r))
				}
			}
		}
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if ps, ok := props[k]; ok {
				if name != "" {
					o.seen[name+"."+k] = true
				}
				o.validateIn(name, at+"."+k, ps, x[k], errs)
			} else if s["additionalProperties"] != true {
				*errs = append(*errs, fmt.Sprintf("%s: undocumented field %q", at, k))
			}
		}
	}
}

func short(v any) string {
	s := fmt.Sprint(v)
	if len(s) > 80 {
		s = s[:80] + "..."
	}
	return s
}

// xnode is an XML element.
type xnode struct {
	name  string
	attrs []xml.Attr
	kids  []*xnode
	text  strings.Builder
}

func parseXML(b []byte) (*xnode, error) {
	d := xml.NewDecoder(bytes.NewReader(b))
	var stack []*xnode
	var root *xnode
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			n := &xnode{name: t.Name.Local, attrs: t.Attr}
			if len(stack) > 0 {
				p := stack[len(stack)-1]
				p.kids = append(p.kids, n)
			} else if root != nil {
				return nil, errors.New("more than one root element")
			} else {
				root = n
			}
			stack = append(stack, n)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(stack) > 0 {
				stack[len(stack)-1].text.Write(t)
			}
		}
	}
	if root == nil {
		return nil, errors.New("no root element")
	}
	return root, nil
}

func xmlName(s map[string]any) string {
	x, _ := s["xml"].(map[string]any)
	n, _ := x["name"].(string)
	return n
}

// fromXML reads an element as the JSON value the schema describes, so the
// JSON validator can check it: wrapped arrays become lists, objects maps
// (unknown elements kept, so they are reported), scalars typed.
func (o *oas) fromXML(at string, schema any, n *xnode, errs *[]string) any {
	s, err := o.deref(schema)
	if err != nil {
		*errs = append(*errs, at+": schema: "+err.Error())
		return nil
	}
	if len(n.attrs) > 0 {
		*errs = append(*errs, fmt.Sprintf("%s: undocumented XML attributes %v", at, n.attrs))
	}
	var t string
	for _, x := range schemaTypes(s) {
		if x != "null" {
			t = x
		}
	}
	switch t {
	case "array":
		x, _ := s["xml"].(map[string]any)
		if x["wrapped"] != true {
			*errs = append(*errs, at+": only wrapped XML arrays are supported")
		}
		items, err := o.deref(s["items"])
		if err != nil {
			*errs = append(*errs, at+": items: "+err.Error())
			return nil
		}
		out := []any{}
		for i, k := range n.kids {
			if want := xmlName(items); want != "" && k.name != want {
				*errs = append(*errs, fmt.Sprintf("%s: element <%s> where <%s> belongs", at, k.name, want))
			}
			out = append(out, o.fromXML(fmt.Sprintf("%s[%d]", at, i), items, k, errs))
		}
		return out
	case "object":
		props, _ := s["properties"].(map[string]any)
		m := map[string]any{}
		for _, k := range n.kids {
			if _, dup := m[k.name]; dup {
				*errs = append(*errs, fmt.Sprintf("%s: element <%s> repeated", at, k.name))
			}
			if ps, ok := props[k.name]; ok {
				m[k.name] = o.fromXML(at+"."+k.name, ps, k, errs)
			} else {
				m[k.name] = k.text.String()
			}
		}
		return m
	}
	if len(n.kids) > 0 {
		*errs = append(*errs, fmt.Sprintf("%s: scalar element has child elements", at))
	}
	text := n.text.String()
	switch t {
	case "boolean":
		if b, err := strconv.ParseBool(text); err == nil && (text == "true" || text == "false") {
			return b
		}
	case "integer", "number":
		if f, err := strconv.ParseFloat(text, 64); err == nil {
			return f
		}
	}
	return text
}

// operation is one documented method on one path.
type operation struct {
	method, path string
	op           map[string]any
	re           *regexp.Regexp
}

func (o *oas) operations(t *testing.T) []operation {
	t.Helper()
	paths, _ := o.doc["paths"].(map[string]any)
	var ops []operation
	for p, item := range paths {
		for m, op := range item.(map[string]any) {
			om, ok := op.(map[string]any)
			if !ok || !slices.Contains([]string{"get", "put", "post", "delete", "patch", "head", "options"}, m) {
				t.Fatalf("path %s: unsupported key %q", p, m)
			}
			var re strings.Builder
			re.WriteString("^")
			rest := p
			for {
				i := strings.Index(rest, "{")
				if i < 0 {
					re.WriteString(regexp.QuoteMeta(rest))
					break
				}
				j := strings.Index(rest, "}")
				re.WriteString(regexp.QuoteMeta(rest[:i]))
				re.WriteString("(?P<" + strings.ReplaceAll(rest[i+1:j], "-", "_") + ">[^/]+?)")
				rest = rest[j+1:]
			}
			re.WriteString("$")
			ops = append(ops, operation{method: strings.ToUpper(m), path: p, op: om, re: regexp.MustCompile(re.String())})
		}
	}
	sort.Slice(ops, func(i, j int) bool { return ops[i].path+ops[i].method < ops[j].path+ops[j].method })
	return ops
}

func (o *oas) find(ops []operation, method, path string) (*operation, error) {
	var found []*operation
	for i := range ops {
		if ops[i].method == method && ops[i].re.MatchString(path) {
			found = append(found, &ops[i])
		}
	}
	// A literal path wins over a templated one (OpenAPI's matching rule).
	sort.Slice(found, func(i, j int) bool { return strings.Count(found[i].path, "{") < strings.Count(found[j].path, "{") })
	if len(found) == 0 {
		return nil, fmt.Errorf("%s %s is not documented", method, path)
	}
	return found[0], nil
}

// checkParams reports query parameters the operation does not document and,
// for successful calls, values that break their schema.
func (o *oas) checkParams(op *operation, u *url.URL, success bool, errs *[]string) {
	params := map[string]map[string]any{}
	plist, _ := op.op["parameters"].([]any)
	for _, p := range plist {
		pm, err := o.deref(p)
		if err != nil {
			*errs = append(*errs, "parameter: "+err.Error())
			continue
		}
		params[pm["in"].(string)+":"+pm["name"].(string)] = pm
	}
	for name, vals := range u.Query() {
		pm, ok := params["query:"+name]
		if !ok {
			*errs = append(*errs, fmt.Sprintf("query parameter %q is not documented for %s %s", name, op.method, op.path))
			continue
		}
		if success {
			for _, v := range vals {
				o.validate("query."+name, pm["schema"], paramValue(o, pm["schema"], v), errs)
			}
		}
	}
	m := op.re.FindStringSubmatch(u.Path)
	for i, name := range op.re.SubexpNames() {
		if name == "" {
			continue
		}
		pm, ok := params["path:"+name]
		if !ok || pm["required"] != true {
			*errs = append(*errs, fmt.Sprintf("path parameter %q of %s is not documented as required", name, op.path))
			continue
		}
		if success {
			o.validate("path."+name, pm["schema"], m[i], errs)
		}
	}
}

func paramValue(o *oas, schema any, v string) any {
	s, err := o.deref(schema)
	if err != nil {
		return v
	}
	if slices.Contains(schemaTypes(s), "integer") || slices.Contains(schemaTypes(s), "number") {
		if f, err := strconv.ParseFloat(v, 64); err == nil {
			return f
		}
	}
	return v
}

// checkResponse validates one answer against the operation's documentation.
func (o *oas) checkResponse(op *operation, code int, contentType string, body []byte, errs *[]string) {
	responses, _ := op.op["responses"].(map[string]any)
	r, ok := responses[strconv.Itoa(code)]
	if !ok {
		*errs = append(*errs, fmt.Sprintf("status %d is not documented for %s %s", code, op.method, op.path))
		return
	}
	rm, err := o.deref(r)
	if err != nil {
		*errs = append(*errs, "response: "+err.Error())
		return
	}
	content, _ := rm["content"].(map[string]any)
	if len(content) == 0 {
		if len(body) > 0 {
			*errs = append(*errs, fmt.Sprintf("status %d is documented without a body, got %d bytes", code, len(body)))
		}
		return
	}
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		*errs = append(*errs, fmt.Sprintf("bad Content-Type %q", contentType))
		return
	}
	media, ok := content[mt].(map[string]any)
	if !ok {
		*errs = append(*errs, fmt.Sprintf("Content-Type %s is not documented for status %d of %s %s", mt, code, op.method, op.path))
		return
	}
	schema := media["schema"]
	switch {
	case mt == "application/json":
		var v any
		if err := json.Unmarshal(body, &v); err != nil {
			*errs = append(*errs, "body is not JSON: "+err.Error())
			return
		}
		o.validate("body", schema, v, errs)
	case strings.HasSuffix(mt, "/xml"):
		if !bytes.HasPrefix(body, []byte(`<?xml version="1.0" encoding="UTF-8"?>`)) {
			*errs = append(*errs, "XML body lacks the UTF-8 XML declaration")
		}
		root, err := parseXML(body)
		if err != nil {
			*errs = append(*errs, "body is not XML: "+err.Error())
			return
		}
		s, err := o.deref(schema)
		if err != nil {
			*errs = append(*errs, "schema: "+err.Error())
			return
		}
		if want := xmlName(s); root.name != want {
			*errs = append(*errs, fmt.Sprintf("XML root <%s>, want <%s>", root.name, want))
		}
		o.validate("body", schema, o.fromXML("body", schema, root, errs), errs)
	default:
		o.validate("body", schema, string(body), errs)
	}
}

// checkHeaders reports a Link header that the answer's documentation does
// not name (the API's paging rides on it).
func (o *oas) checkHeaders(op *operation, code int, h http.Header, errs *[]string) {
	if h.Get("Link") == "" {
		return
	}
	responses, _ := op.op["responses"].(map[string]any)
	rm, err := o.deref(responses[strconv.Itoa(code)])
	if err != nil {
		return // checkResponse reports it
	}
	if hs, _ := rm["headers"].(map[string]any); hs["Link"] == nil {
		*errs = append(*errs, fmt.Sprintf("header Link is not documented for status %d of %s %s", code, op.method, op.path))
	}
}

// checkSchemas walks every component schema once, so that a keyword the
// validator does not know fails even where no answer exercises it.
func (o *oas) checkSchemas(t *testing.T) {
	t.Helper()
	comps, _ := o.doc["components"].(map[string]any)
	schemas, _ := comps["schemas"].(map[string]any)
	var walk func(at string, s any)
	walk = func(at string, s any) {
		m, ok := s.(map[string]any)
		if !ok {
			t.Errorf("%s: schema is not an object", at)
			return
		}
		if ref, ok := m["$ref"].(string); ok {
			if _, err := o.pointer(ref); err != nil {
				t.Errorf("%s: %v", at, err)
			}
			return
		}
		for k, v := range m {
			if !knownKeyword(k) {
				t.Errorf("%s: schema keyword %q is not supported by the test validator", at, k)
			}
			switch k {
			case "properties":
				for p, ps := range v.(map[string]any) {
					walk(at+"."+p, ps)
				}
			case "items":
				walk(at+"[]", v)
			}
		}
	}
	for name, s := range schemas {
		walk(name, s)
	}
}

// apiFixture is the web fixture with the items the OpenAPI and Open311
// tests need besides the base fixture's.
func apiFixture(t *testing.T) *fixture {
	t.Helper()
	f := newFixture(t)
	// An item with a place, closed, urgent: fields the base fixture lacks.
	created := f.now.Add(-50 * time.Hour)
	if _, err := f.st.Ingest(context.Background(), store.Ingest{
		Post: tanggap.Post{Platform: tanggap.PlatformInstagram, ID: "301", Text: "pohon tumbang di jalan", Author: "warga2", Account: "humasbekasikota",
			CreatedAt: created, CapturedAt: created.Add(time.Minute), ThreadID: "301", URL: "https://www.instagram.com/p/abc/"},
		Kind: tanggap.KindComplaint, OPD: "lingkungan_hidup", Status: tanggap.StatusResolved, Confidence: 0.7, Urgent: true,
		Kecamatan: "Bekasi Timur", Kelurahan: "Margahayu",
	}); err != nil {
		t.Fatal(err)
	}
	// A report that joined it: a cluster, with its reporters on the first.
	if _, err := f.st.Ingest(context.Background(), store.Ingest{
		Post: tanggap.Post{Platform: tanggap.PlatformInstagram, ID: "302", Text: "pohon tumbang di jalan margahayu", Author: "warga3", Account: "humasbekasikota",
			CreatedAt: created.Add(time.Hour), CapturedAt: created.Add(time.Hour), ThreadID: "302", URL: "https://www.instagram.com/p/abd/"},
		Kind: tanggap.KindComplaint, OPD: "lingkungan_hidup", Status: tanggap.StatusAssigned, Confidence: 0.7, Queued: true,
		Kecamatan: "Bekasi Timur", Kelurahan: "Margahayu", ClusterID: "instagram:301",
	}); err != nil {
		t.Fatal(err)
	}
	return f
}

func TestOpenAPI(t *testing.T) {
	b, err := os.ReadFile("openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	o := loadOpenAPI(t, b)
	o.checkSchemas(t)
	ops := o.operations(t)
	f := apiFixture(t)

	// An answered item, so that first_response_at is not null somewhere.
	dlh := f.client(t, "dlh")
	req, _ := http.NewRequest("POST", f.srv.URL+"/item/x:102/answer", strings.NewReader(url.Values{"url": {"https://x.com/dlh/status/9"}, "version": {"1"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if res, err := dlh.Do(req); err != nil || res.StatusCode != http.StatusSeeOther {
		t.Fatalf("answer: %v %v", err, res)
	}
	// And a duplicate, so that duplicate_of is set somewhere.
	if code, body := post(t, dlh, f.srv.URL+"/item/x:101/duplicate", url.Values{"of": {"x:102"}, "version": {"1"}}); code != http.StatusSeeOther {
		t.Fatalf("duplicate: %d %.300s", code, body)
	}

	clients := map[string]*http.Client{}
	for _, login := range []string{"", "dlh", "dbm", "humas", "ops"} {
		clients[login] = f.client(t, login)
	}
	week := url.QueryEscape(f.now.Add(-7 * 24 * time.Hour).Format(time.RFC3339))
	cursor := store.ItemCursor{At: f.now.Add(-time.Hour).UnixMilli(), ID: "x:102"}.String()
	calls := []struct {
		method, path, login string
		want                int
	}{
		{"GET", "/api/v1/openapi.yaml", "", 200},
		{"GET", "/api/v1/items", "humas", 200},
		{"GET", "/api/v1/items", "dlh", 200},
		{"GET", "/api/v1/items?opd=lingkungan_hidup&status=IN_PROGRESS&limit=2&before=2026-03-17T10:00:00Z", "humas", 200},
		{"GET", "/api/v1/items?limit=1", "humas", 200},
		{"GET", "/api/v1/items?limit=1&cursor=" + cursor, "humas", 200},
		{"GET", "/api/v1/items?cursor=" + cursor + "&before=2026-03-17T10:00:00Z", "humas", 400},
		{"GET", "/api/v1/items?cursor=kemarin", "humas", 400},
		{"GET", "/api/v1/items?limit=0", "humas", 400},
		{"GET", "/api/v1/items?status=SELESAI", "humas", 400},
		{"GET", "/api/v1/items?before=kemarin", "humas", 400},
		{"GET", "/api/v1/items?opd=nope", "humas", 400},
		{"GET", "/api/v1/items", "", 401},
		{"GET", "/api/v1/items", "ops", 403},
		{"GET", "/api/v1/items?opd=bina_marga_sda", "dlh", 403},
		{"GET", "/api/v1/items/x:102", "dlh", 200},
		{"GET", "/api/v1/items/x:201", "humas", 200},
		{"GET", "/api/v1/items/x:201", "dlh", 404},
		{"GET", "/api/v1/items/x:999", "humas", 404},
		{"GET", "/api/v1/items/x:101", "", 401},
		{"GET", "/api/v1/items/x:101", "ops", 403},

		{"GET", "/open311/v2/services.json", "humas", 200},
		{"GET", "/open311/v2/services.xml", "dlh", 200},
		{"GET", "/open311/v2/services.json", "", 401},
		{"GET", "/open311/v2/services.xml", "ops", 401},
		{"GET", "/open311/v2/services.json?jurisdiction_id=jakarta", "humas", 404},
		{"GET", "/open311/v2/services/lingkungan_hidup.json", "humas", 200},
		{"GET", "/open311/v2/services/lingkungan_hidup.xml?jurisdiction_id=bekasi", "humas", 200},
		{"GET", "/open311/v2/services/nope.json", "humas", 404},
		{"GET", "/open311/v2/services/nope.xml", "humas", 404},
		{"GET", "/open311/v2/services/nope.xml", "", 401},
		{"GET", "/open311/v2/requests.json", "humas", 200},
		{"GET", "/open311/v2/requests.json?status=open&service_code=lingkungan_hidup,bina_marga_sda&start_date=" + week, "humas", 200},
		{"GET", "/open311/v2/requests.json?service_request_id=x:101,x:999", "humas", 200},
		{"GET", "/open311/v2/requests.xml", "dbm", 200},
		{"GET", "/open311/v2/requests.xml?status=closed&end_date=2026-03-17T10:00:00%2B07:00", "humas", 200},
		{"GET", "/open311/v2/requests.json?status=later", "humas", 400},
		{"GET", "/open311/v2/requests.xml?start_date=2025-01-01T00:00:00Z&end_date=2026-01-01T00:00:00Z", "humas", 400},
		{"GET", "/open311/v2/requests.json", "", 401},
		{"GET", "/open311/v2/requests.xml", "", 401},
		{"GET", "/open311/v2/requests.xml?jurisdiction_id=x", "humas", 404},
		{"POST", "/open311/v2/requests.json", "humas", 405},
		{"POST", "/open311/v2/requests.xml", "", 405},
		{"GET", "/open311/v2/requests/x:102.json", "humas", 200},
		{"GET", "/open311/v2/requests/x:102.json", "dlh", 200},
		{"GET", "/open311/v2/requests/x:201.json", "dlh", 404}, // another OPD's, as /api/v1/items/x:201
		{"GET", "/open311/v2/requests.json?service_code=bina_marga_sda", "dlh", 403},
		{"GET", "/open311/v2/requests/x:102.xml", "humas", 200},
		{"GET", "/open311/v2/requests/x:999.json", "humas", 404},
		{"GET", "/open311/v2/requests/x:999.xml", "humas", 404},
		{"GET", "/open311/v2/requests/x:102.json", "", 401},
		{"GET", "/open311/v2/requests/x:102.xml", "ops", 401},
	}
	hit := map[string]bool{}
	for _, c := range calls {
		u, _ := url.Parse(f.srv.URL + c.path)
		op, err := o.find(ops, c.method, u.Path)
		if err != nil {
			t.Errorf("%s %s: %v", c.method, c.path, err)
			continue
		}
		hit[op.method+" "+op.path] = true
		req, _ := http.NewRequest(c.method, u.String(), nil)
		res, err := clients[c.login].Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		var errs []string
		if res.StatusCode != c.want {
			errs = append(errs, fmt.Sprintf("status %d, want %d", res.StatusCode, c.want))
		}
		o.checkParams(op, u, res.StatusCode < 300, &errs)
		o.checkResponse(op, res.StatusCode, res.Header.Get("Content-Type"), body, &errs)
		o.checkHeaders(op, res.StatusCode, res.Header, &errs)
		if c.path == "/api/v1/openapi.yaml" && !bytes.Equal(body, b) {
			errs = append(errs, "served document differs from openapi.yaml")
		}
		if len(errs) > 0 {
			t.Errorf("%s %s as %q:\n  %s\n  body: %.300s", c.method, c.path, c.login, strings.Join(errs, "\n  "), body)
		}
	}
	for _, op := range ops {
		if !hit[op.method+" "+op.path] {
			t.Errorf("%s %s is documented but no test calls it", op.method, op.path)
		}
	}
	// Every documented field appeared in some answer: the document does not
	// promise what the code never sends.
	comps := o.doc["components"].(map[string]any)["schemas"].(map[string]any)
	for name, sc := range comps {
		props, _ := sc.(map[string]any)["properties"].(map[string]any)
		for p := range props {
			if !o.seen[name+"."+p] {
				t.Errorf("%s.%s is documented but no answer had it", name, p)
			}
		}
	}
}

// TestOpenAPIValidatorCatches proves the validator fails on what it must:
// an undocumented field, a missing required one, a wrong type, a bad enum,
// a bad date-time, an undocumented status and content type, bad XML.
func TestOpenAPIValidatorCatches(t *testing.T) {
	b, err := fs.ReadFile(os.DirFS("."), "openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	o := loadOpenAPI(t, b)
	ops := o.operations(t)
	items, _ := o.find(ops, "GET", "/api/v1/items/x:1")
	reqs, _ := o.find(ops, "GET", "/open311/v2/requests.xml")
	good := `{"id":"x:1","platform":"x","url":"","author":"a","text":"t","kind":"PENGADUAN","opd":"","confidence":0.5,"status":"NEW","urgent":false,` +
		`"created_at":"2026-03-17T10:00:00Z","captured_at":"2026-03-17T10:00:00Z","first_response_at":null,"deadline":null,"deadline_state":"on_track","version":1}`
	var errs []string
	o.checkResponse(items, 200, "application/json", []byte(good), &errs)
	if len(errs) > 0 {
		t.Fatalf("good item rejected: %v", errs)
	}
	for _, tc := range []struct {
		name, op, ct string
		code         int
		body, want   string
	}{
		{"extra field", "item", "application/json", 200, strings.Replace(good, `"id"`, `"secret":1,"id"`, 1), `undocumented field "secret"`},
		{"missing field", "item", "application/json", 200, strings.Replace(good, `"version":1`, `"clock":"routing"`, 1), `required "version" missing`},
		{"wrong type", "item", "application/json", 200, strings.Replace(good, `"urgent":false`, `"urgent":"no"`, 1), "is not of type [boolean]"},
		{"bad enum", "item", "application/json", 200, strings.Replace(good, `"NEW"`, `"BARU"`, 1), "is not one of"},
		{"bad time", "item", "application/json", 200, strings.Replace(good, `"deadline":null`, `"deadline":"besok"`, 1), "not an RFC 3339 date-time"},
		{"integer", "item", "application/json", 200, strings.Replace(good, `"version":1`, `"version":1.5`, 1), "is not of type [integer]"},
		{"status", "item", "application/json", 418, good, "status 418 is not documented"},
		{"content type", "item", "text/html", 200, good, "Content-Type text/html is not documented"},
		{"xml extra", "reqs", "text/xml", 200, xml.Header + `<service_requests><request><service_request_id>x:1</service_request_id><status>open</status><requested_datetime>2026-03-17T10:00:00Z</requested_datetime><lat>1</lat></request></service_requests>`, `undocumented field "lat"`},
		{"xml root", "reqs", "text/xml", 200, xml.Header + `<requests></requests>`, "XML root <requests>"},
		{"xml item", "reqs", "text/xml", 200, xml.Header + `<service_requests><req><service_request_id>x:1</service_request_id><status>open</status><requested_datetime>2026-03-17T10:00:00Z</requested_datetime></req></service_requests>`, "element <req> where <request> belongs"},
		{"xml enum", "reqs", "text/xml", 200, xml.Header + `<service_requests><request><service_request_id>x:1</service_request_id><status>pending</status><requested_datetime>2026-03-17T10:00:00Z</requested_datetime></request></service_requests>`, "is not one of"},
	} {
		op := items
		if tc.op == "reqs" {
			op = reqs
		}
		var errs []string
		o.checkResponse(op, tc.code, tc.ct, []byte(tc.body), &errs)
		if !slices.ContainsFunc(errs, func(e string) bool { return strings.Contains(e, tc.want) }) {
			t.Errorf("%s: want an error containing %q, got %v", tc.name, tc.want, errs)
		}
	}
}

// TestOpenAPIItemInSync holds the Item schema to apiItem in pages.go: the
// same fields, required exactly when not omitempty, nullable exactly when a
// pointer, and the enums equal to the domain's lists.
func TestOpenAPIItemInSync(t *testing.T) {
	b, err := os.ReadFile("openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	o := loadOpenAPI(t, b)
	item, err := o.pointer("#/components/schemas/Item")
	if err != nil {
		t.Fatal(err)
	}
	s := item.(map[string]any)
	props := s["properties"].(map[string]any)
	required := map[string]bool{}
	for _, r := range s["required"].([]any) {
		required[r.(string)] = true
	}
	rt := reflect.TypeOf(apiItem{})
	fields := map[string]bool{}
	for i := range rt.NumField() {
		sf := rt.Field(i)
		name, opts, _ := strings.Cut(sf.Tag.Get("json"), ",")
		if name == "-" || !sf.IsExported() {
			continue
		}
		fields[name] = true
		ps, ok := props[name]
		if !ok {
			t.Errorf("apiItem.%s (%q) is not in the Item schema", sf.Name, name)
			continue
		}
		pm, err := o.deref(ps)
		if err != nil {
			t.Fatal(err)
		}
		omit := strings.Contains(opts, "omitempty")
		if required[name] == omit {
			t.Errorf("%q: required=%v but omitempty=%v", name, required[name], omit)
		}
		ft := sf.Type
		var want []string
		if ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
			want = append(want, "null")
		}
		switch {
		case ft == reflect.TypeOf(time.Time{}):
			want = append(want, "string")
			if pm["format"] != "date-time" {
				t.Errorf("%q: a time without format date-time", name)
			}
		case ft.Kind() == reflect.String:
			want = append(want, "string")
		case ft.Kind() == reflect.Bool:
			want = append(want, "boolean")
		case ft.Kind() == reflect.Float64 || ft.Kind() == reflect.Float32:
			want = append(want, "number")
		case ft.Kind() >= reflect.Int && ft.Kind() <= reflect.Uint64:
			want = append(want, "integer")
		default:
			t.Errorf("%q: Go type %s has no mapping in this test", name, ft)
		}
		got := schemaTypes(pm)
		sort.Strings(got)
		sort.Strings(want)
		if !slices.Equal(got, want) {
			t.Errorf("%q: schema type %v, Go type %s wants %v", name, got, sf.Type, want)
		}
	}
	for name := range props {
		if !fields[name] {
			t.Errorf("Item schema has %q, which apiItem lacks", name)
		}
	}
	for name := range required {
		if !fields[name] {
			t.Errorf("Item schema requires %q, which apiItem lacks", name)
		}
	}

	enum := func(prop string) []string {
		pm, err := o.deref(props[prop])
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, e := range pm["enum"].([]any) {
			out = append(out, e.(string))
		}
		sort.Strings(out)
		return out
	}
	strs := func(vs ...string) []string { sort.Strings(vs); return vs }
	var statuses, platforms, kinds []string
	for _, s := range tanggap.Statuses {
		statuses = append(statuses, string(s))
	}
	for _, p := range tanggap.Platforms {
		platforms = append(platforms, string(p))
	}
	for _, k := range append(slices.Clone(tanggap.Kinds), tanggap.KindOfficial) {
		kinds = append(kinds, string(k))
	}
	for _, tc := range []struct {
		prop string
		want []string
	}{
		{"status", strs(statuses...)},
		{"platform", strs(platforms...)},
		{"kind", strs(kinds...)},
		{"deadline_state", strs(string(tanggap.OnTrack), string(tanggap.DueSoon), string(tanggap.Overdue))},
		{"clock", strs(string(tanggap.ClockFirstResponse), string(tanggap.ClockRouting), string(tanggap.ClockFollowup), string(tanggap.ClockResolution), string(tanggap.ClockAutoclose))},
	} {
		if got := enum(tc.prop); !slices.Equal(got, tc.want) {
			t.Errorf("enum of %q: %v, domain has %v", tc.prop, got, tc.want)
		}
	}
	errSchema, _ := o.pointer("#/components/schemas/Error")
	var codes []string
	for _, e := range errSchema.(map[string]any)["properties"].(map[string]any)["error"].(map[string]any)["enum"].([]any) {
		codes = append(codes, e.(string))
	}
	sort.Strings(codes)
	if want := strs(tanggap.EINVALID, tanggap.ENOTFOUND, tanggap.ECONFLICT, tanggap.EUNAUTHORIZED, tanggap.EFORBIDDEN,
		tanggap.EUNAVAILABLE, tanggap.ERATELIMIT, tanggap.EAUTH, tanggap.EINTERNAL); !slices.Equal(codes, want) {
		t.Errorf("error codes %v, domain has %v", codes, want)
	}
	labels := map[string]bool{}
	for _, s := range tanggap.Statuses {
		labels[s.Label("id")] = true
	}
	rq, _ := o.pointer("#/components/schemas/Open311Request")
	var notes []string
	for _, e := range rq.(map[string]any)["properties"].(map[string]any)["status_notes"].(map[string]any)["enum"].([]any) {
		notes = append(notes, e.(string))
		if !labels[e.(string)] {
			t.Errorf("status_notes %q is not a status label", e)
		}
	}
	if len(notes) != len(labels) {
		t.Errorf("status_notes lists %d labels, there are %d", len(notes), len(labels))
	}
}
