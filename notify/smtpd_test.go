package notify

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"math/big"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

// received is one message accepted by the test server.
type received struct {
	From string
	To   []string
	Data string
	TLS  bool
	User string // the AUTH PLAIN user, "" when none
}

// smtpd is a small SMTP server for tests (RFC 5321: EHLO/HELO, STARTTLS,
// AUTH PLAIN, MAIL, RCPT, DATA, RSET, NOOP, QUIT) that records what it
// accepts. Configure it before start.
type smtpd struct {
	t          *testing.T
	tls        *tls.Config       // offer STARTTLS when set
	user, pass string            // offer AUTH PLAIN when user is set
	rejectRcpt func(string) bool // answer 550 to these recipients
	stall      string            // stop answering at this verb ("GREETING" for the banner)
	implicit   bool              // speak TLS from the first byte (port 465), with tls

	ln   net.Listener
	quit chan struct{}
	wg   sync.WaitGroup

	mu    sync.Mutex
	msgs  []received
	verbs []string
	conns map[net.Conn]bool
}

func (s *smtpd) start() string {
	s.t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		s.t.Fatal(err)
	}
	if s.implicit {
		ln = tls.NewListener(ln, s.tls)
	}
	s.ln, s.quit, s.conns = ln, make(chan struct{}), map[net.Conn]bool{}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.mu.Lock()
			s.conns[c] = true
			s.mu.Unlock()
			s.wg.Add(1)
			go s.serve(c)
		}
	}()
	s.t.Cleanup(s.close)
	return ln.Addr().String()
}

func (s *smtpd) close() {
	select {
	case <-s.quit:
		return
	default:
	}
	close(s.quit)
	s.ln.Close()
	s.mu.Lock()
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
}

func (s *smtpd) messages() []received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]received(nil), s.msgs...)
}

func (s *smtpd) sawVerb(v string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, x := range s.verbs {
		if x == v {
			return true
		}
	}
	return false
}

func angle(arg string) string {
	i, j := strings.IndexByte(arg, '<'), strings.IndexByte(arg, '>')
	if i < 0 || j < i {
		return ""
	}
	return arg[i+1 : j]
}

func (s *smtpd) serve(c net.Conn) {
	defer s.wg.Done()
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(20 * time.Second))
	if s.stall == "GREETING" {
		<-s.quit
		return
	}
	r, w := bufio.NewReader(c), bufio.NewWriter(c)
	reply := func(lines ...string) {
		for _, l := range lines {
			w.WriteString(l + "\r\n")
		}
		w.Flush()
	}
	readLine := func() (string, bool) {
		l, err := r.ReadString('\n')
		if err != nil || len(l) > 4096 {
			return "", false
		}
		return strings.TrimRight(l, "\r\n"), true
	}
	reply("220 test.local ESMTP ready")
	var (
		from  string
		to    []string
		isTLS = s.implicit
		user  string
	)
	for {
		line, ok := readLine()
		if !ok {
			return
		}
		verb, arg, _ := strings.Cut(line, " ")
		verb = strings.ToUpper(verb)
		s.mu.Lock()
		s.verbs = append(s.verbs, verb)
		s.mu.Unlock()
		if verb == s.stall {
			<-s.quit
			return
		}
		switch verb {
		case "EHLO":
			lines := []string{"250-test.local greets you"}
			if s.tls != nil && !isTLS {
				lines = append(lines, "250-STARTTLS")
			}
			if s.user != "" {
				lines = append(lines, "250-AUTH LOGIN PLAIN")
			}
			reply(append(lines, "250 8BITMIME")...)
		case "HELO", "NOOP":
			reply("250 ok")
		case "STARTTLS":
			if s.tls == nil || isTLS {
				reply("454 TLS not available")
				continue
			}
			reply("220 go ahead")
			tc := tls.Server(c, s.tls)
			if err := tc.Handshake(); err != nil {
				return
			}
			c, isTLS = tc, true
			r, w = bufio.NewReader(c), bufio.NewWriter(c)
			from, to, user = "", nil, ""
		case "AUTH":
			mech, resp, _ := strings.Cut(arg, " ")
			if s.user == "" || !strings.EqualFold(mech, "PLAIN") {
				reply("504 mechanism not supported")
				continue
			}
			if resp == "" {
				reply("334 ")
				if resp, ok = readLine(); !ok {
					return
				}
			}
			b, err := base64.StdEncoding.DecodeString(resp)
			parts := strings.Split(string(b), "\x00")
			if err != nil || len(parts) != 3 || parts[1] != s.user || parts[2] != s.pass {
				reply("535 5.7.8 authentication failed")
				continue
			}
			user = parts[1]
			reply("235 2.7.0 authenticated")
		case "MAIL":
			if s.user != "" && user == "" {
				reply("530 5.7.0 authentication required")
				continue
			}
			from, to = angle(arg), nil
			reply("250 ok")
		case "RCPT":
			a := angle(arg)
			if from == "" {
				reply("503 need MAIL first")
				continue
			}
			if s.rejectRcpt != nil && s.rejectRcpt(a) {
				reply("550 5.1.1 no such user here")
				continue
			}
			to = append(to, a)
			reply("250 ok")
		case "DATA":
			if from == "" || len(to) == 0 {
				reply("503 need MAIL and RCPT first")
				continue
			}
			reply("354 end with <CRLF>.<CRLF>")
			var data strings.Builder
			for {
				l, ok := readLine()
				if !ok {
					return
				}
				if l == "." {
					break
				}
				data.WriteString(strings.TrimPrefix(l, ".") + "\r\n")
			}
			s.mu.Lock()
			s.msgs = append(s.msgs, received{From: from, To: to, Data: data.String(), TLS: isTLS, User: user})
			s.mu.Unlock()
			from, to = "", nil
			reply("250 2.0.0 queued")
		case "RSET":
			from, to = "", nil
			reply("250 ok")
		case "QUIT":
			reply("221 bye")
			return
		default:
			reply("502 command not implemented")
		}
	}
}

// testCert returns a server TLS config for mail.example.test and 127.0.0.1,
// and a pool that trusts it.
func testCert(t *testing.T) (*tls.Config, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "mail.example.test"},
		DNSNames:              []string{"mail.example.test"},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}, MinVersion: tls.VersionTLS12}, pool
}

func newClientTLS(pool *x509.CertPool) *tls.Config {
	return &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
}
