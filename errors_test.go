package tanggap

import "testing"

func TestErrorIn(t *testing.T) {
	id := map[string]string{"an item in status %s cannot move to %s": "aduan berstatus %s tidak dapat diubah menjadi %s"}
	tr := func(f string) string { return id[f] }
	e := Errorf(EINVALID, "an item in status %s cannot move to %s", StatusAssigned, StatusClosed)
	if e.Message != "an item in status Assigned cannot move to Closed" {
		t.Errorf("English message: %q", e.Message)
	}
	if got := e.In("id", tr); got != "aduan berstatus Terdisposisi tidak dapat diubah menjadi Ditutup" {
		t.Errorf("Indonesian: %q", got)
	}
	if got := e.In("en", nil); got != e.Message {
		t.Errorf("without translations: %q", got)
	}
	// A format without a translation stays in English; so does an error
	// built by hand; a wrapped error keeps its message out of In.
	w := WrapCode(EINVALID, Errorf(EINTERNAL, "disk"), "item %s not found", "x:1")
	if got := w.In("id", tr); got != "item x:1 not found" || w.Error() != "item x:1 not found: disk" {
		t.Errorf("untranslated: %q / %q", got, w.Error())
	}
	if got := (&Error{Code: EINVALID, Message: "by hand"}).In("id", tr); got != "by hand" {
		t.Errorf("by hand: %q", got)
	}
	// Other arguments are written as fmt writes them.
	if e := Errorf(EINVALID, "%q has %d", Status("NEW"), 3); e.Message != `"New" has 3` {
		t.Errorf("labels quoted: %q", e.Message)
	}
}
