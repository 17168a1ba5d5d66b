package notify

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"mime/multipart"
	"net"
	"net/mail"
	"net/textproto"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// parsedMail is a received message taken apart.
type parsedMail struct {
	Header  mail.Header
	Subject string
	Text    string
	HTML    string
}

func parseMail(t *testing.T, data string) parsedMail {
	t.Helper()
	m, err := mail.ReadMessage(strings.NewReader(data))
	if err != nil {
		t.Fatalf("read message: %v\n%s", err, data)
	}
	var p parsedMail
	p.Header = m.Header
	if p.Subject, err = new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject")); err != nil {
		t.Fatalf("subject: %v", err)
	}
	mt, params, err := mime.ParseMediaType(m.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/alternative" {
		t.Fatalf("content type %q: %v", m.Header.Get("Content-Type"), err)
	}
	mr := multipart.NewReader(m.Body, params["boundary"])
	for {
		part, err := mr.NextPart() // decodes quoted-printable
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("part: %v", err)
		}
		b, err := io.ReadAll(part)
		if err != nil {
			t.Fatalf("read part: %v", err)
		}
		switch ct := part.Header.Get("Content-Type"); ct {
		case "text/plain; charset=utf-8":
			p.Text = strings.ReplaceAll(string(b), "\r\n", "\n")
		case "text/html; charset=utf-8":
			p.HTML = strings.ReplaceAll(string(b), "\r\n", "\n")
		default:
			t.Fatalf("unexpected part %q", ct)
		}
	}
	return p
}

// newTestSMTP builds the channel for addr; a host other than 127.0.0.1 is
// dialled at the test server all the same.
func newTestSMTP(t *testing.T, cfg SMTPConfig, serverAddr string) *SMTP {
	t.Helper()
	if cfg.From.Email == "" {
		cfg.From = Address{Name: "Tanggap Kota Bekasi", Email: "tanggap@bekasikota.go.id"}
	}
	if cfg.Addr == "" {
		cfg.Addr = serverAddr
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = 5 * time.Second
	}
	s, err := NewSMTP(cfg)
	if err != nil {
		t.Fatal(err)
	}
	d := &net.Dialer{Timeout: cfg.Timeout}
	s.dial = func(ctx context.Context, network, _ string) (net.Conn, error) {
		return d.DialContext(ctx, network, serverAddr)
	}
	s.now = func() time.Time { return time.Date(2026, 7, 8, 7, 0, 0, 0, time.UTC) }
	return s
}

func testMessage() Message {
	return Message{
		ID:      "digest-dlh-2026-07-08",
		To:      []Address{{Name: "Admin DLH", Email: "admin.dlh@bekasikota.go.id"}, {Name: "PPID Pelaksana DLH", Email: "ppid.dlh@bekasikota.go.id"}},
		Subject: "[Tanggap] DLH: 2 aduan lewat tenggat — Rabu, 8 Juli 2026",
		Text:    "Baris pertama\n.baris yang diawali titik\n\nBaris terakhir dengan = dan é\n",
		HTML:    "<p>Halo &amp; selamat pagi</p>",
	}
}

func TestSMTPDelivers(t *testing.T) {
	srv := &smtpd{t: t}
	addr := srv.start()
	s := newTestSMTP(t, SMTPConfig{}, addr)
	if err := s.Send(context.Background(), testMessage()); err != nil {
		t.Fatal(err)
	}
	msgs := srv.messages()
	if len(msgs) != 1 {
		t.Fatalf("got %d messages, want 1", len(msgs))
	}
	got := msgs[0]
	if got.From != "tanggap@bekasikota.go.id" || got.TLS || got.User != "" {
		t.Errorf("envelope from %q, tls %v, user %q", got.From, got.TLS, got.User)
	}
	if diff := cmp.Diff([]string{"admin.dlh@bekasikota.go.id", "ppid.dlh@bekasikota.go.id"}, got.To); diff != "" {
		t.Errorf("envelope recipients (-want +got):\n%s", diff)
	}
	p := parseMail(t, got.Data)
	if want := "[Tanggap] DLH: 2 aduan lewat tenggat — Rabu, 8 Juli 2026"; p.Subject != want {
		t.Errorf("subject %q, want %q", p.Subject, want)
	}
	if want := "Baris pertama\n.baris yang diawali titik\n\nBaris terakhir dengan = dan é\n"; p.Text != want {
		t.Errorf("text %q, want %q", p.Text, want)
	}
	if want := "<p>Halo &amp; selamat pagi</p>"; p.HTML != want {
		t.Errorf("html %q, want %q", p.HTML, want)
	}
	for k, want := range map[string]string{
		"From":           `"Tanggap Kota Bekasi" <tanggap@bekasikota.go.id>`,
		"Message-Id":     "<digest-dlh-2026-07-08@bekasikota.go.id>",
		"Auto-Submitted": "auto-generated",
		"Date":           "Wed, 08 Jul 2026 07:00:00 +0000",
		"Mime-Version":   "1.0",
	} {
		if got := p.Header.Get(k); got != want {
			t.Errorf("header %s = %q, want %q", k, got, want)
		}
	}
	to, err := p.Header.AddressList("To")
	if err != nil || len(to) != 2 || to[1].Name != "PPID Pelaksana DLH" {
		t.Errorf("To header %v: %v", to, err)
	}
}

func TestSMTPStartTLSAndAuth(t *testing.T) {
	serverTLS, pool := testCert(t)
	srv := &smtpd{t: t, tls: serverTLS, user: "tanggap", pass: "rahasia-sekali"}
	addr := srv.start()
	_, port, _ := net.SplitHostPort(addr)
	s := newTestSMTP(t, SMTPConfig{
		Addr:     "mail.example.test:" + port, // not this machine: AUTH needs TLS
		Username: "tanggap", Password: "rahasia-sekali",
		TLS: newClientTLS(pool), RequireTLS: true,
	}, addr)
	if err := s.Send(context.Background(), testMessage()); err != nil {
		t.Fatal(err)
	}
	msgs := srv.messages()
	if len(msgs) != 1 || !msgs[0].TLS || msgs[0].User != "tanggap" {
		t.Fatalf("messages %+v, want one over TLS by tanggap", msgs)
	}
}

func TestSMTPImplicitTLS(t *testing.T) {
	serverTLS, pool := testCert(t)
	srv := &smtpd{t: t, tls: serverTLS, implicit: true, user: "tanggap", pass: "rahasia-sekali"}
	addr := srv.start()
	_, port, _ := net.SplitHostPort(addr)
	s := newTestSMTP(t, SMTPConfig{Addr: "mail.example.test:" + port, ImplicitTLS: true,
		Username: "tanggap", Password: "rahasia-sekali", TLS: newClientTLS(pool)}, addr)
	if err := s.Send(context.Background(), testMessage()); err != nil {
		t.Fatal(err)
	}
	if msgs := srv.messages(); len(msgs) != 1 || !msgs[0].TLS || msgs[0].User != "tanggap" {
		t.Fatalf("messages %+v, want one over TLS by tanggap", msgs)
	}
	// A server whose certificate is not trusted is refused before AUTH.
	srv2 := &smtpd{t: t, tls: serverTLS, user: "tanggap", pass: "rahasia-sekali"}
	addr2 := srv2.start()
	_, port2, _ := net.SplitHostPort(addr2)
	s2 := newTestSMTP(t, SMTPConfig{Addr: "mail.example.test:" + port2, Username: "tanggap", Password: "rahasia-sekali"}, addr2)
	if err := s2.Send(context.Background(), testMessage()); err == nil || !strings.Contains(err.Error(), "smtp starttls") {
		t.Fatalf("Send to an untrusted server: %v", err)
	}
	if srv2.sawVerb("AUTH") {
		t.Error("the password went to an untrusted server")
	}
}

func TestSMTPAuthRules(t *testing.T) {
	for _, tc := range []struct {
		name    string
		host    string // "" dials the server's own 127.0.0.1 address
		pass    string
		wantErr string // "" for success
		auth    bool   // whether AUTH may reach the server
	}{
		{name: "plain to loopback is allowed", pass: "rahasia-sekali", auth: true},
		{name: "plain over the network is refused", host: "mail.example.test", pass: "rahasia-sekali", wantErr: "without TLS"},
		{name: "wrong password", pass: "salah-salah-salah", wantErr: "535", auth: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := &smtpd{t: t, user: "tanggap", pass: "rahasia-sekali"}
			addr := srv.start()
			cfg := SMTPConfig{Username: "tanggap", Password: tc.pass}
			if tc.host != "" {
				_, port, _ := net.SplitHostPort(addr)
				cfg.Addr = net.JoinHostPort(tc.host, port)
			}
			err := newTestSMTP(t, cfg, addr).Send(context.Background(), testMessage())
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("Send: %v", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Fatalf("Send error %v, want one containing %q", err, tc.wantErr)
			}
			if got := srv.sawVerb("AUTH"); got != tc.auth {
				t.Errorf("server saw AUTH: %v, want %v", got, tc.auth)
			}
			if err != nil && strings.Contains(err.Error(), tc.pass) {
				t.Errorf("error reveals the password: %v", err)
			}
			if n := len(srv.messages()); (n == 1) != (tc.wantErr == "") {
				t.Errorf("server got %d messages", n)
			}
		})
	}
}

func TestSMTPRequireTLS(t *testing.T) {
	srv := &smtpd{t: t}
	addr := srv.start()
	err := newTestSMTP(t, SMTPConfig{RequireTLS: true}, addr).Send(context.Background(), testMessage())
	if err == nil || !strings.Contains(err.Error(), "STARTTLS") {
		t.Fatalf("Send error %v, want a STARTTLS refusal", err)
	}
	if srv.sawVerb("MAIL") {
		t.Error("the message was submitted without TLS")
	}
}

func TestSMTPStallTimesOut(t *testing.T) {
	for _, stall := range []string{"GREETING", "EHLO", "MAIL", "RCPT", "DATA"} {
		t.Run(stall, func(t *testing.T) {
			srv := &smtpd{t: t, stall: stall}
			addr := srv.start()
			s := newTestSMTP(t, SMTPConfig{Timeout: 200 * time.Millisecond}, addr)
			start := time.Now()
			err := s.Send(context.Background(), testMessage())
			if !errors.Is(err, os.ErrDeadlineExceeded) {
				t.Fatalf("Send error %v, want a deadline error", err)
			}
			if d := time.Since(start); d > 3*time.Second {
				t.Errorf("Send took %s with a 200ms step timeout", d)
			}
		})
	}
}

func TestSMTPContext(t *testing.T) {
	t.Run("cancel", func(t *testing.T) {
		srv := &smtpd{t: t, stall: "DATA"}
		addr := srv.start()
		s := newTestSMTP(t, SMTPConfig{Timeout: time.Minute}, addr)
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(100*time.Millisecond, cancel)
		start := time.Now()
		err := s.Send(ctx, testMessage())
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("Send error %v, want context.Canceled", err)
		}
		if d := time.Since(start); d > 3*time.Second {
			t.Errorf("Send took %s after cancel", d)
		}
	})
	t.Run("send timeout", func(t *testing.T) {
		srv := &smtpd{t: t, stall: "RCPT"}
		addr := srv.start()
		s := newTestSMTP(t, SMTPConfig{Timeout: time.Minute, SendTimeout: 150 * time.Millisecond}, addr)
		err := s.Send(context.Background(), testMessage())
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Send error %v, want context.DeadlineExceeded", err)
		}
	})
}

func TestSMTPRcptRefused(t *testing.T) {
	srv := &smtpd{t: t, rejectRcpt: func(a string) bool { return strings.HasPrefix(a, "ppid.") }}
	addr := srv.start()
	s := newTestSMTP(t, SMTPConfig{Timeout: 5 * time.Second}, addr)
	start := time.Now()
	err := s.Send(context.Background(), testMessage())
	var te *textproto.Error
	if !errors.As(err, &te) || te.Code != 550 {
		t.Fatalf("Send error %v, want the server's 550", err)
	}
	if !strings.Contains(err.Error(), "ppid.dlh@bekasikota.go.id") {
		t.Errorf("error %q does not name the refused recipient", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Send took %s: it should fail at once", d)
	}
	if n := len(srv.messages()); n != 0 {
		t.Errorf("server accepted %d messages", n)
	}
}

func TestSMTPHeaderInjection(t *testing.T) {
	srv := &smtpd{t: t}
	addr := srv.start()
	s := newTestSMTP(t, SMTPConfig{}, addr)
	m := testMessage()
	m.Subject = "Aduan\r\nBcc: evil@x.test\r\n\r\nbadan palsu"
	m.To = []Address{{Name: "Budi\r\nBcc: evil@x.test", Email: "admin.dlh@bekasikota.go.id"}}
	m.ID = "x>\r\nBcc: evil@x.test"
	if err := s.Send(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	got := srv.messages()[0]
	if diff := cmp.Diff([]string{"admin.dlh@bekasikota.go.id"}, got.To); diff != "" {
		t.Errorf("envelope (-want +got):\n%s", diff)
	}
	p := parseMail(t, got.Data)
	if len(p.Header["Bcc"]) != 0 {
		t.Errorf("a Bcc header got through: %q", p.Header["Bcc"])
	}
	if want := "Aduan Bcc: evil@x.test badan palsu"; p.Subject != want {
		t.Errorf("subject %q, want %q", p.Subject, want)
	}
	to, err := p.Header.AddressList("To")
	if err != nil || len(to) != 1 || to[0].Name != "Budi Bcc: evil@x.test" || to[0].Address != "admin.dlh@bekasikota.go.id" {
		t.Errorf("To %v (%v)", to, err)
	}
	if id := p.Header.Get("Message-Id"); id != "<xBccevilx.test@bekasikota.go.id>" {
		t.Errorf("Message-ID %q", id)
	}

	// An address itself cannot carry a header or an SMTP command.
	for _, bad := range []string{"a@b.test\r\nRCPT TO:<evil@x.test>", "Budi <a@b.test>", "a@b.test,evil@x.test", "\"a b\"@b.test", "nobody"} {
		m.To = []Address{{Email: bad}}
		if err := s.Send(context.Background(), m); err == nil {
			t.Errorf("Send to %q succeeded", bad)
		}
	}
	if n := len(srv.messages()); n != 1 {
		t.Errorf("server got %d messages, want 1", n)
	}
}

func TestSMTPSecretsNotLogged(t *testing.T) {
	dir := t.TempDir()
	pwFile := filepath.Join(dir, "pw")
	if err := os.WriteFile(pwFile, []byte("sangat-rahasia-123\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{
		EnvSMTPAddr: "mail.bekasikota.go.id:587", EnvSMTPFrom: "tanggap@bekasikota.go.id",
		EnvSMTPUsername: "tanggap", EnvSMTPPassword + "_FILE": pwFile,
	}
	cfg, err := SMTPFromEnv(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Password != "sangat-rahasia-123" || cfg.Addr != "mail.bekasikota.go.id:587" {
		t.Fatalf("config %+v", cfg)
	}
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("smtp configured", "smtp", cfg)
	fmt.Fprintf(&buf, "%v %+v %s", cfg, cfg, cfg)
	if strings.Contains(buf.String(), "sangat-rahasia") {
		t.Errorf("password in log output: %s", buf.String())
	}
	if !strings.Contains(buf.String(), `"password_set":true`) {
		t.Errorf("log does not say a password is set: %s", buf.String())
	}
}

func TestNewSMTPRejects(t *testing.T) {
	for _, cfg := range []SMTPConfig{
		{Addr: "mail.example.test", From: Address{Email: "a@b.test"}},
		{Addr: "mail.example.test:25", From: Address{Email: "a@b.test\r\nBcc: x@y"}},
		{Addr: "mail.example.test:25", From: Address{Email: "a@b.test"}, HeloName: "a\r\nMAIL FROM:<x>"},
	} {
		if _, err := NewSMTP(cfg); err == nil {
			t.Errorf("NewSMTP(%+v) succeeded", cfg)
		}
	}
}
