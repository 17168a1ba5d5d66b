package webhook

import (
	"fmt"
	"net"
	"net/netip"
	"syscall"
)

// guard is the SSRF guard: it refuses to connect to addresses a webhook
// must not reach. It runs in the dialer's Control hook, on the address the
// name resolved to, so DNS tricks (a public name that resolves to
// 127.0.0.1, or rebinding between check and use) do not get through.
type guard struct {
	allowLoopback bool
	allowPrivate  bool
	private       []netip.Prefix // allowed with allowPrivate
	reserved      []netip.Prefix // never allowed
}

func newGuard(allowLoopback, allowPrivate bool) *guard {
	p := func(ss ...string) []netip.Prefix {
		out := make([]netip.Prefix, len(ss))
		for i, s := range ss {
			out[i] = netip.MustParsePrefix(s)
		}
		return out
	}
	return &guard{
		allowLoopback: allowLoopback,
		allowPrivate:  allowPrivate,
		// RFC 1918 and ULA are IsPrivate; CGNAT shared space is not but is
		// internal all the same.
		private: p("100.64.0.0/10"),
		reserved: p(
			"0.0.0.0/8",       // "this network"
			"192.0.0.0/24",    // IETF protocol assignments
			"192.0.2.0/24",    // documentation
			"198.18.0.0/15",   // benchmarking
			"198.51.100.0/24", // documentation
			"203.0.113.0/24",  // documentation
			"240.0.0.0/4",     // reserved, and broadcast
			"::/96",           // IPv4-compatible (deprecated)
			"64:ff9b::/96",    // NAT64: would reach IPv4 addresses behind the gateway
			"64:ff9b:1::/48",  // local-use NAT64
			"2001:db8::/32",   // documentation
			"2002::/16",       // 6to4: embeds an IPv4 address
			"100::/64",        // discard
		),
	}
}

// blocked reports whether a connection to ip is refused.
func (g *guard) blocked(ip netip.Addr) bool {
	ip = ip.Unmap().WithZone("")
	switch {
	case !ip.IsValid():
		return true
	case ip.IsLoopback():
		return !g.allowLoopback
	case ip.IsPrivate():
		return !g.allowPrivate
	case ip.IsUnspecified(), ip.IsLinkLocalUnicast(), ip.IsLinkLocalMulticast(), ip.IsInterfaceLocalMulticast(), ip.IsMulticast():
		return true
	}
	for _, p := range g.private {
		if p.Contains(ip) {
			return !g.allowPrivate
		}
	}
	for _, p := range g.reserved {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// BlockedError is returned when the SSRF guard refuses an address.
type BlockedError struct{ Addr string }

func (e *BlockedError) Error() string {
	return fmt.Sprintf("address %s is loopback, private or reserved: refused (SSRF guard)", e.Addr)
}

// control is the net.Dialer Control hook.
func (g *guard) control(network, address string, _ syscall.RawConn) error {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return &BlockedError{Addr: address}
	}
	ip, err := netip.ParseAddr(host)
	if err != nil || g.blocked(ip) {
		return &BlockedError{Addr: host}
	}
	return nil
}
