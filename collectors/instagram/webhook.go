package instagram

import (
	"context"
	"crypto/subtle"
	"io"
	"log/slog"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tanggap/tanggap"
)

// MaxWebhookBody bounds a webhook request's body. Meta sends at most 1,000
// changes in one request, each well under 200 bytes.
const MaxWebhookBody = 1 << 20

// WebhookHandler receives Meta's webhook requests for the instagram
// object: the subscription handshake (GET) and the signed notifications
// (POST). It answers 200 to a notification only once Enqueue took its
// mentions; otherwise Meta sends it again, for up to 36 hours.
type WebhookHandler struct {
	AppSecret   []byte // the Meta app's secret: signs every notification
	VerifyToken string // the token given when subscribing the callback URL
	// Enqueue keeps the mentions durably (Tanggap: a Kafka topic) before
	// the request is answered. An error answers 503.
	Enqueue func(ctx context.Context, ms []Mention) error
	Log     *slog.Logger // nil: slog.Default()
	Metrics *WebhookMetrics
}

// WebhookMetrics count the webhook requests by result.
type WebhookMetrics struct {
	Requests *prometheus.CounterVec
	Mentions prometheus.Counter
}

// NewWebhookMetrics registers the webhook receiver's metrics on reg.
func NewWebhookMetrics(reg prometheus.Registerer) *WebhookMetrics {
	m := &WebhookMetrics{
		Requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tanggap_instagram_webhook_requests_total",
			Help: "Instagram webhook requests by result: queued, ignored (no mentions), bad_signature, malformed, too_large, unavailable (queue refused: Meta retries), verified, verify_refused, method."},
			[]string{"result"}),
		Mentions: prometheus.NewCounter(prometheus.CounterOpts{Name: "tanggap_instagram_mentions_received_total",
			Help: "Instagram @mentions received by webhook and queued."}),
	}
	reg.MustRegister(m.Requests, m.Mentions)
	return m
}

func (h *WebhookHandler) count(result string) {
	if h.Metrics != nil {
		h.Metrics.Requests.WithLabelValues(result).Inc()
	}
}

func (h *WebhookHandler) log() *slog.Logger {
	if h.Log == nil {
		return slog.Default()
	}
	return h.Log
}

// ServeHTTP implements http.Handler.
func (h *WebhookHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Content-Type-Options", "nosniff")
	switch r.Method {
	case http.MethodGet:
		h.verify(w, r)
	case http.MethodPost:
		h.receive(w, r)
	default:
		h.count("method")
		w.Header().Set("Allow", "GET, POST")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	}
}

// verify answers Meta's subscription handshake: the challenge is echoed
// when the verify token matches.
func (h *WebhookHandler) verify(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	challenge := q.Get("hub.challenge")
	if q.Get("hub.mode") != "subscribe" || h.VerifyToken == "" || !printable(challenge) ||
		subtle.ConstantTimeCompare([]byte(q.Get("hub.verify_token")), []byte(h.VerifyToken)) != 1 {
		h.count("verify_refused")
		h.log().Warn("instagram_webhook_verify_refused", "mode", clip(q.Get("hub.mode")), "remote", r.RemoteAddr)
		http.Error(w, "verification refused", http.StatusForbidden)
		return
	}
	h.count("verified")
	h.log().Info("instagram_webhook_verified", "remote", r.RemoteAddr)
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = io.WriteString(w, challenge)
}

// printable: Meta's challenge is a short string of digits; nothing else is
// echoed.
func printable(s string) bool {
	if s == "" || len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

func (h *WebhookHandler) receive(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxWebhookBody+1))
	if err != nil {
		h.count("malformed")
		http.Error(w, "reading the body failed", http.StatusBadRequest)
		return
	}
	if len(body) > MaxWebhookBody {
		h.count("too_large")
		h.log().Warn("instagram_webhook_too_large", "limit", MaxWebhookBody, "remote", r.RemoteAddr)
		http.Error(w, "body too large", http.StatusRequestEntityTooLarge)
		return
	}
	// The signature first: nothing unsigned is parsed, logged or queued.
	if !ValidSignature(body, r.Header.Get("X-Hub-Signature-256"), h.AppSecret) {
		h.count("bad_signature")
		h.log().Warn("instagram_webhook_bad_signature", "remote", r.RemoteAddr, "bytes", len(body))
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	ms, other, err := ParseNotification(body)
	if err != nil {
		// Signed by Meta yet unreadable: sending it again will not help,
		// so it is refused, and the log says why.
		h.count("malformed")
		h.log().Error("instagram_webhook_malformed", "err", err, "bytes", len(body))
		http.Error(w, "malformed notification", http.StatusBadRequest)
		return
	}
	if len(ms) == 0 {
		h.count("ignored")
		w.WriteHeader(http.StatusOK)
		return
	}
	if err := h.Enqueue(r.Context(), ms); err != nil {
		h.count("unavailable")
		h.log().Error("instagram_webhook_queue_failed", "err", err, "mentions", len(ms), "code", tanggap.ErrorCode(err))
		http.Error(w, "try again later", http.StatusServiceUnavailable)
		return
	}
	h.count("queued")
	if h.Metrics != nil {
		h.Metrics.Mentions.Add(float64(len(ms)))
	}
	h.log().Info("instagram_webhook_queued", "mentions", len(ms), "other_changes", other)
	w.WriteHeader(http.StatusOK)
}
