package notify

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/smtp"
	"net/textproto"
	"slices"
	"strings"
	"time"

	"github.com/tanggap/tanggap/config"
)

// SMTPConfig configures the SMTP channel. Zero fields take the defaults.
type SMTPConfig struct {
	Addr     string  // host:port of the submission server, e.g. "mail.bekasikota.go.id:587"
	From     Address // the sender, e.g. {Name: "Tanggap Kota Bekasi", Email: "tanggap@bekasikota.go.id"}
	Username string  // "" sends no AUTH
	Password string  `json:"-" yaml:"-"` // never logged: see LogValue
	HeloName string  // the EHLO name: default "localhost"
	// ImplicitTLS speaks TLS from the first byte (port 465) instead of
	// upgrading with STARTTLS, which is used whenever the server offers it.
	ImplicitTLS bool
	// RequireTLS refuses to send when the server does not offer STARTTLS.
	RequireTLS bool
	// TLS is the TLS client config; nil verifies the server against the
	// system roots under the host name of Addr.
	TLS *tls.Config `json:"-" yaml:"-"`
	// Timeout bounds every step: the connection, the TLS handshake and each
	// command with its reply (default 30s).
	Timeout time.Duration
	// SendTimeout bounds a whole message (default 2m); ctx may cut it shorter.
	SendTimeout time.Duration
}

// Defaults of SMTPConfig.
const (
	DefaultSMTPTimeout     = 30 * time.Second
	DefaultSMTPSendTimeout = 2 * time.Minute
)

// Environment variables read by SMTPFromEnv.
const (
	EnvSMTPAddr     = "TANGGAP_SMTP_ADDR"
	EnvSMTPFrom     = "TANGGAP_SMTP_FROM"
	EnvSMTPFromName = "TANGGAP_SMTP_FROM_NAME"
	EnvSMTPUsername = "TANGGAP_SMTP_USERNAME"
	EnvSMTPPassword = "TANGGAP_SMTP_PASSWORD" // or TANGGAP_SMTP_PASSWORD_FILE
)

// SMTPFromEnv reads the SMTP settings from the environment; the password
// through config.Secret, so TANGGAP_SMTP_PASSWORD_FILE works too.
func SMTPFromEnv(getenv func(string) string) (SMTPConfig, error) {
	pw, err := config.Secret(getenv, EnvSMTPPassword)
	if err != nil {
		return SMTPConfig{}, err
	}
	return SMTPConfig{
		Addr:     getenv(EnvSMTPAddr),
		From:     Address{Name: getenv(EnvSMTPFromName), Email: getenv(EnvSMTPFrom)},
		Username: getenv(EnvSMTPUsername),
		Password: pw,
	}, nil
}

// LogValue implements slog.LogValuer: the password is never logged.
func (c SMTPConfig) LogValue() slog.Value {
	return slog.GroupValue(slog.String("addr", c.Addr), slog.String("from", c.From.Email),
		slog.String("username", c.Username), slog.Bool("password_set", c.Password != ""),
		slog.Bool("implicit_tls", c.ImplicitTLS), slog.Bool("require_tls", c.RequireTLS))
}

// String implements fmt.Stringer without the password.
func (c SMTPConfig) String() string {
	return fmt.Sprintf("smtp addr=%s from=%s username=%s password_set=%t", c.Addr, c.From.Email, c.Username, c.Password != "")
}

// SMTP is a Channel that submits e-mail to one SMTP server. It opens one
// connection per message and is safe for concurrent use.
type SMTP struct {
	cfg  SMTPConfig
	host string
	from Address
	now  func() time.Time
	dial func(ctx context.Context, network, addr string) (net.Conn, error)
}

// NewSMTP checks the config and returns the channel.
func NewSMTP(cfg SMTPConfig) (*SMTP, error) {
	host, port, err := net.SplitHostPort(cfg.Addr)
	if err != nil || host == "" || port == "" {
		return nil, fmt.Errorf("smtp: address %q must be host:port", cfg.Addr)
	}
	from, err := CheckAddress(cfg.From)
	if err != nil {
		return nil, fmt.Errorf("smtp from: %w", err)
	}
	if strings.ContainsAny(cfg.Username+cfg.Password, "\x00") {
		return nil, errors.New("smtp: username and password must not contain NUL")
	}
	setDefault(&cfg.Timeout, DefaultSMTPTimeout)
	setDefault(&cfg.SendTimeout, DefaultSMTPSendTimeout)
	if cfg.HeloName == "" {
		cfg.HeloName = "localhost"
	}
	if strings.ContainsAny(cfg.HeloName, " \t\r\n") {
		return nil, fmt.Errorf("smtp: HELO name %q has white space", cfg.HeloName)
	}
	d := &net.Dialer{Timeout: cfg.Timeout}
	return &SMTP{cfg: cfg, host: host, from: from, now: time.Now, dial: d.DialContext}, nil
}

// loopback reports whether host is this machine, where AUTH PLAIN without
// TLS does not cross a network.
func loopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func (s *SMTP) tlsConfig() *tls.Config {
	if s.cfg.TLS != nil {
		c := s.cfg.TLS.Clone()
		if c.ServerName == "" {
			c.ServerName = s.host
		}
		return c
	}
	return &tls.Config{ServerName: s.host, MinVersion: tls.VersionTLS12}
}

// Send implements Channel: one SMTP transaction for every recipient of m.
// Every step has its own deadline; ctx and SendTimeout bound the whole.
func (s *SMTP) Send(ctx context.Context, m Message) error {
	to := make([]Address, 0, len(m.To))
	for _, a := range m.To {
		c, err := CheckAddress(a)
		if err != nil {
			return fmt.Errorf("smtp recipient: %w", err)
		}
		to = append(to, c)
	}
	if len(to) == 0 {
		return errors.New("smtp: message has no recipients")
	}
	raw, err := s.compose(m, to)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.SendTimeout)
	defer cancel()

	conn, err := s.dial(ctx, "tcp", s.cfg.Addr)
	if err != nil {
		return fmt.Errorf("smtp dial: %w", err)
	}
	defer conn.Close()
	// Cancelling ctx closes the connection, which ends any read or write.
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()

	step := func(name string, f func() error) error {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("smtp %s: %w", name, err)
		}
		dl := time.Now().Add(s.cfg.Timeout)
		if cd, ok := ctx.Deadline(); ok && cd.Before(dl) {
			dl = cd
		}
		if err := conn.SetDeadline(dl); err != nil {
			return fmt.Errorf("smtp %s: %w", name, err)
		}
		if err := f(); err != nil {
			if cerr := ctx.Err(); cerr != nil {
				return fmt.Errorf("smtp %s: %w", name, cerr)
			}
			if cd, ok := ctx.Deadline(); ok && !time.Now().Before(cd) {
				// The step deadline was ctx's: say so, even if ctx's own
				// timer has not fired yet.
				return fmt.Errorf("smtp %s: %w", name, context.DeadlineExceeded)
			}
			return fmt.Errorf("smtp %s: %w", name, err)
		}
		return nil
	}

	nc := conn
	if s.cfg.ImplicitTLS {
		tc := tls.Client(conn, s.tlsConfig())
		if err := step("tls", func() error { return tc.HandshakeContext(ctx) }); err != nil {
			return err
		}
		nc = tc
	}
	var c *smtp.Client
	if err := step("greeting", func() (err error) { c, err = smtp.NewClient(nc, s.host); return err }); err != nil {
		return err
	}
	defer c.Close()
	if err := step("ehlo", func() error { return c.Hello(s.cfg.HeloName) }); err != nil {
		return err
	}
	_, isTLS := c.TLSConnectionState()
	if !isTLS {
		if ok, _ := c.Extension("STARTTLS"); ok {
			if err := step("starttls", func() error { return c.StartTLS(s.tlsConfig()) }); err != nil {
				return err
			}
			isTLS = true
		} else if s.cfg.RequireTLS {
			return errors.New("smtp starttls: the server does not offer STARTTLS and TLS is required")
		}
	}
	if s.cfg.Username != "" {
		if !isTLS && !loopback(s.host) {
			return fmt.Errorf("smtp auth: refusing to send the password to %s without TLS", s.host)
		}
		// Extension re-sends EHLO after STARTTLS: give it a step of its own.
		var params string
		var ok bool
		if err := step("ehlo", func() error { ok, params = c.Extension("AUTH"); return nil }); err != nil {
			return err
		}
		if !ok || !slices.Contains(strings.Fields(strings.ToUpper(params)), "PLAIN") {
			return errors.New("smtp auth: the server does not offer AUTH PLAIN")
		}
		a := plainAuth{user: s.cfg.Username, pass: s.cfg.Password, host: s.host}
		if err := step("auth", func() error { return c.Auth(a) }); err != nil {
			return err
		}
	}
	if err := step("mail", func() error { return c.Mail(s.from.Email) }); err != nil {
		return err
	}
	for _, a := range to {
		if err := step("rcpt "+a.Email, func() error { return c.Rcpt(a.Email) }); err != nil {
			_ = step("quit", c.Quit) // polite end; the refusal is the error
			return err
		}
	}
	if err := step("data", func() error {
		w, err := c.Data()
		if err != nil {
			return err
		}
		if _, err := w.Write(raw); err != nil {
			return err
		}
		return w.Close() // reads the server's verdict on the message
	}); err != nil {
		return err
	}
	// The message is accepted; a failed QUIT changes nothing about that.
	_ = step("quit", c.Quit)
	return nil
}

// plainAuth is AUTH PLAIN (RFC 4616), refusing to run over a connection
// that is neither TLS nor to this machine.
type plainAuth struct{ user, pass, host string }

func (a plainAuth) Start(si *smtp.ServerInfo) (string, []byte, error) {
	if !si.TLS && !loopback(a.host) {
		return "", nil, errors.New("refusing AUTH PLAIN without TLS")
	}
	return "PLAIN", []byte("\x00" + a.user + "\x00" + a.pass), nil
}

func (a plainAuth) Next(_ []byte, more bool) ([]byte, error) {
	if more {
		return nil, errors.New("unexpected server challenge during AUTH PLAIN")
	}
	return nil, nil
}

// header writes one header line; value must already be one safe line.
func header(b *bytes.Buffer, name, value string) {
	b.WriteString(name + ": " + value + "\r\n")
}

// formatAddress renders an address for a header, its name encoded when it
// is not plain ASCII (net/mail quotes or RFC 2047-encodes it).
func formatAddress(a Address) string {
	return (&mail.Address{Name: a.Name, Address: a.Email}).String()
}

// messageIDPart keeps the characters a Message-ID may safely carry.
func messageIDPart(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x80 && (r == '.' || r == '-' || r == '_' || 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9') {
			return r
		}
		return -1
	}, s)
	return s[:min(len(s), 100)]
}

// compose builds the RFC 5322 message: multipart/alternative with a
// quoted-printable plain-text part and, when m.HTML is set, an HTML part.
// Every header value is one line made of checked or sanitised text.
func (s *SMTP) compose(m Message, to []Address) ([]byte, error) {
	var b bytes.Buffer
	header(&b, "From", formatAddress(s.from))
	tos := make([]string, len(to))
	for i, a := range to {
		tos[i] = formatAddress(a)
	}
	header(&b, "To", strings.Join(tos, ",\r\n "))
	subject := mime.QEncoding.Encode("utf-8", OneLine(m.Subject, 250))
	if strings.HasPrefix(subject, "=?") {
		// Fold between encoded words, which carry no raw spaces of their own,
		// to keep lines short.
		subject = strings.ReplaceAll(subject, "?= =?", "?=\r\n =?")
	}
	header(&b, "Subject", subject)
	header(&b, "Date", s.now().Format(time.RFC1123Z))
	id := messageIDPart(m.ID)
	if id == "" {
		r := make([]byte, 12)
		_, _ = rand.Read(r)
		id = hex.EncodeToString(r)
	}
	domain := s.from.Email[strings.LastIndexByte(s.from.Email, '@')+1:]
	header(&b, "Message-ID", "<"+id+"@"+domain+">")
	header(&b, "MIME-Version", "1.0")
	header(&b, "Auto-Submitted", "auto-generated")
	header(&b, "X-Auto-Response-Suppress", "All")

	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	header(&b, "Content-Type", `multipart/alternative; boundary="`+mw.Boundary()+`"`)
	b.WriteString("\r\n")
	part := func(ctype, content string) error {
		h := textproto.MIMEHeader{}
		h.Set("Content-Type", ctype+"; charset=utf-8")
		h.Set("Content-Transfer-Encoding", "quoted-printable")
		w, err := mw.CreatePart(h)
		if err != nil {
			return err
		}
		qp := quotedprintable.NewWriter(w)
		if _, err := qp.Write([]byte(strings.ToValidUTF8(content, "\uFFFD"))); err != nil {
			return err
		}
		return qp.Close()
	}
	if err := part("text/plain", m.Text); err != nil {
		return nil, fmt.Errorf("compose text part: %w", err)
	}
	if m.HTML != "" {
		if err := part("text/html", m.HTML); err != nil {
			return nil, fmt.Errorf("compose html part: %w", err)
		}
	}
	if err := mw.Close(); err != nil {
		return nil, fmt.Errorf("compose: %w", err)
	}
	b.Write(body.Bytes())
	return b.Bytes(), nil
}
