package web

import (
	"context"
	"net/http"
)

// Role is what a signed-in person may do.
type Role string

const (
	RoleOPDAdmin      Role = "opd_admin"      // own OPD only
	RolePPIDPelaksana Role = "ppid_pelaksana" // own OPD, receives escalations
	RolePPIDUtama     Role = "ppid_utama"     // every OPD, routing corrections, reports (Humas)
	RoleOperator      Role = "operator"       // health and metrics, no citizen data
)

// Principal is the person behind a request.
type Principal struct {
	Login string
	Name  string
	Role  Role
	OPD   string // for OPD-bound roles
	// TempPassword: an administrator set the password; until its owner
	// replaces it on the account page, nothing else opens.
	TempPassword bool
}

// CitywideAccess reports whether the principal sees every OPD's items.
func (p *Principal) CitywideAccess() bool { return p.Role == RolePPIDUtama }

// CanSeeOPD reports whether the principal may read items of an OPD slot
// ("" is the unrouted queue, which only the city-wide role sees).
func (p *Principal) CanSeeOPD(opd string) bool {
	switch p.Role {
	case RolePPIDUtama:
		return true
	case RoleOPDAdmin, RolePPIDPelaksana:
		return opd != "" && opd == p.OPD
	}
	return false
}

// SeesCitizenData reports whether the principal may read citizen posts at all.
func (p *Principal) SeesCitizenData() bool {
	return p.Role != RoleOperator && p.Role != "" && !p.TempPassword
}

// Authenticator finds the principal of a request. Without a valid session
// the error is EUNAUTHORIZED; any other error means the session could not
// be checked (the store does not answer), which must fail the request
// rather than send a signed-in person to sign in again.
type Authenticator interface {
	Principal(r *http.Request) (*Principal, error)
}

type principalKey struct{}

func withPrincipal(ctx context.Context, p *Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

func principal(r *http.Request) *Principal {
	p, _ := r.Context().Value(principalKey{}).(*Principal)
	return p
}
