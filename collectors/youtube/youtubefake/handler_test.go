package youtubefake

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestThreadsByID: commentThreads.list?id=a,b returns those threads only
// (a deleted one is left out), with their reply counts.
func TestThreadsByID(t *testing.T) {
	s := New(WithQuota(0))
	cid := s.AddChannel("@pemkotbekasi", "", "")
	at := time.Date(2026, 3, 17, 10, 0, 0, 0, time.UTC)
	var threads []string
	for i := range 4 {
		threads = append(threads, s.AddComment(Comment{ChannelID: cid, Text: "aduan", AuthorName: "@w", Published: at.Add(time.Duration(i) * time.Minute)}))
	}
	s.AddComment(Comment{ParentID: threads[1], Text: "sudah", AuthorChannelID: cid})
	s.DeleteComment(threads[3])
	srv := httptest.NewServer(s)
	defer srv.Close()
	req, _ := http.NewRequest("GET", srv.URL+"/youtube/v3/commentThreads?"+url.Values{
		"part": {"snippet"}, "id": {threads[1] + "," + threads[2] + "," + threads[3]}}.Encode(), nil)
	req.Header.Set("X-Goog-Api-Key", "k")
	res, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var out struct {
		Items []struct {
			ID      string `json:"id"`
			Snippet struct {
				TotalReplyCount int `json:"totalReplyCount"`
			} `json:"snippet"`
		} `json:"items"`
	}
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil || res.StatusCode != 200 {
		t.Fatalf("HTTP %d: %v", res.StatusCode, err)
	}
	got := map[string]int{}
	for _, it := range out.Items {
		got[it.ID] = it.Snippet.TotalReplyCount
	}
	if diff := cmp.Diff(map[string]int{threads[1]: 1, threads[2]: 0}, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}
