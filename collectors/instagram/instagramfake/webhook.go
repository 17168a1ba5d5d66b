package instagramfake

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Backoff of a failed webhook delivery: doubling from the first, capped.
const (
	firstBackoff = 100 * time.Millisecond
	maxBackoff   = 5 * time.Second
)

// WithWebhook makes the fake deliver Instagram "mentions" webhooks the way
// Meta does: when an added comment or media @mentions a registered account
// on media that account does not own, it POSTs the change to callbackURL,
// signed with appSecret in X-Hub-Signature-256. Deliveries go one at a
// time, in the order the mentions were added, and failures are retried
// with backoff until delivered or Close. Call Close when done.
func WithWebhook(callbackURL string, appSecret []byte) Option {
	return func(s *Server) {
		ctx, cancel := context.WithCancel(context.Background())
		s.hook = &webhook{
			url: callbackURL, secret: appSecret, client: &http.Client{Timeout: 20 * time.Second},
			wake: make(chan struct{}, 1), ctx: ctx, cancel: cancel, done: make(chan struct{}),
		}
	}
}

// webhook is the deliverer. queue and delivered are guarded by Server.mu.
type webhook struct {
	url    string
	secret []byte
	client *http.Client

	queue     [][]byte // bodies not delivered yet, oldest first
	delivered int

	wake   chan struct{} // something was queued
	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{} // the deliverer returned
}

// The body Meta posts; field order as Meta sends it.
type (
	hookBody struct {
		Object string      `json:"object"`
		Entry  []hookEntry `json:"entry"`
	}
	hookEntry struct {
		ID      string       `json:"id"`
		Time    int64        `json:"time"`
		Changes []hookChange `json:"changes"`
	}
	hookChange struct {
		Field string       `json:"field"`
		Value mentionValue `json:"value"`
	}
	mentionValue struct {
		MediaID   string `json:"media_id"`
		CommentID string `json:"comment_id,omitempty"` // none for a caption mention
	}
)

// enqueue queues a mention of account aid. The caller holds Server.mu.
func (h *webhook) enqueue(aid string, at time.Time, mediaID, commentID string) {
	body, _ := json.Marshal(hookBody{Object: "instagram", Entry: []hookEntry{{
		ID: aid, Time: at.Unix(),
		Changes: []hookChange{{Field: "mentions", Value: mentionValue{MediaID: mediaID, CommentID: commentID}}},
	}}})
	h.queue = append(h.queue, body)
	select {
	case h.wake <- struct{}{}:
	default:
	}
}

// deliver posts the queue in order until Close; the lock is held only to
// look at the queue, never during a POST.
func (s *Server) deliver() {
	h := s.hook
	defer close(h.done)
	backoff := firstBackoff
	for {
		s.mu.Lock()
		var body []byte
		if len(h.queue) > 0 {
			body = h.queue[0]
		}
		s.mu.Unlock()
		if body == nil {
			select {
			case <-h.wake:
				continue
			case <-h.ctx.Done():
				return
			}
		}
		if err := h.post(body); err != nil {
			select {
			case <-time.After(backoff):
			case <-h.ctx.Done():
				return
			}
			backoff = min(2*backoff, maxBackoff)
			continue
		}
		backoff = firstBackoff
		s.mu.Lock()
		h.queue = h.queue[1:]
		h.delivered++
		s.mu.Unlock()
	}
}

func (h *webhook) post(body []byte) error {
	req, err := http.NewRequestWithContext(h.ctx, http.MethodPost, h.url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	mac := hmac.New(sha256.New, h.secret)
	mac.Write(body)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Hub-Signature-256", "sha256="+hex.EncodeToString(mac.Sum(nil)))
	resp, err := h.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16)) // lets the connection be reused
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("instagramfake: webhook: %s", resp.Status)
	}
	return nil
}

// Close stops webhook delivery, abandoning what is still queued, and waits
// for the deliverer to return. It is safe to call more than once, and
// without a webhook.
func (s *Server) Close() {
	if s.hook == nil {
		return
	}
	s.hook.cancel()
	<-s.hook.done
	s.hook.client.CloseIdleConnections()
}

// Delivered returns how many webhooks the callback accepted.
func (s *Server) Delivered() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.hook == nil {
		return 0
	}
	return s.hook.delivered
}

// PendingDeliveries returns how many webhooks are queued, the one being
// posted included.
func (s *Server) PendingDeliveries() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.hook == nil {
		return 0
	}
	return len(s.hook.queue)
}

// WaitDeliveries waits until every queued webhook was delivered, or for
// at most timeout, and reports whether none is left.
func (s *Server) WaitDeliveries(timeout time.Duration) bool {
	for deadline := time.Now().Add(timeout); s.PendingDeliveries() > 0; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			return false
		}
	}
	return true
}

// VerifyWebhook does Meta's subscription handshake with a callback: a GET
// with hub.mode=subscribe, a random hub.challenge and verifyToken as
// hub.verify_token, which the callback must answer with 200 and exactly
// the challenge.
func (s *Server) VerifyWebhook(ctx context.Context, callbackURL, verifyToken string) error {
	challenge := strconv.FormatUint(1e9+rand.Uint64N(9e9), 10)
	sep := "?"
	if strings.Contains(callbackURL, "?") {
		sep = "&"
	}
	u := callbackURL + sep + "hub.mode=subscribe&hub.challenge=" + challenge + "&hub.verify_token=" + url.QueryEscape(verifyToken)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return fmt.Errorf("instagramfake: verify webhook: %w", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("instagramfake: verify webhook: %w", err)
	}
	defer resp.Body.Close()
	got, err := io.ReadAll(io.LimitReader(resp.Body, 1<<10))
	switch {
	case err != nil:
		return fmt.Errorf("instagramfake: verify webhook: %w", err)
	case resp.StatusCode != http.StatusOK:
		return fmt.Errorf("instagramfake: verify webhook: callback answered %s", resp.Status)
	case string(got) != challenge:
		return fmt.Errorf("instagramfake: verify webhook: callback answered %q, want the challenge %q", got, challenge)
	}
	return nil
}
