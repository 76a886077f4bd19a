package download

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"strings"
	"time"
)

// ErrTLS: the server's certificate could not be verified, or the server
// does not speak TLS. The error is a *TLSError with the details. It is
// never retried: the next attempt would meet the same certificate.
var ErrTLS = errors.New("TLS failure")

// TLSReason says what was wrong with a server's certificate.
type TLSReason string

// The reasons of a TLSError.
const (
	// TLSUnknownAuthority: no trusted certificate authority signed it.
	TLSUnknownAuthority TLSReason = "unknown authority"
	// TLSExpired: it expired, or is not valid yet (or the clock is wrong).
	TLSExpired TLSReason = "expired"
	// TLSWrongHost: it was issued for other names than the host asked for.
	TLSWrongHost TLSReason = "wrong host"
	// TLSInvalid: it is unusable for another reason (wrong key usage, …).
	TLSInvalid TLSReason = "invalid"
	// TLSNotTLS: the server answered something that is not TLS.
	TLSNotTLS TLSReason = "not TLS"
)

// TLSError reports a TLS failure with the URL it happened at.
type TLSError struct {
	URL    string
	Reason TLSReason
	// Detail says more for people: the expiry date, the names the
	// certificate is for, the issuer.
	Detail string
	Err    error
}

// Error implements error.
func (e *TLSError) Error() string {
	var what string
	switch e.Reason {
	case TLSUnknownAuthority:
		what = "the server's certificate is signed by an unknown authority"
	case TLSExpired:
		what = "the server's certificate has expired or is not valid yet"
	case TLSWrongHost:
		what = "the server's certificate is for another host"
	case TLSNotTLS:
		what = "the server does not speak TLS (is the URL meant to be http://?)"
	default:
		what = "the server's certificate is not valid"
	}
	if e.Detail != "" {
		what += " (" + e.Detail + ")"
	}
	return fmt.Sprintf("%s: TLS: %s", e.URL, what)
}

// Unwrap returns the TLS library's error.
func (e *TLSError) Unwrap() error { return e.Err }

// Is makes errors.Is(err, ErrTLS) hold.
func (e *TLSError) Is(target error) bool { return target == ErrTLS }

// tlsFailure returns err as a *TLSError when it is a certificate or TLS
// protocol failure, which no retry can fix.
func tlsFailure(url string, err error) (*TLSError, bool) {
	var ua x509.UnknownAuthorityError
	var he x509.HostnameError
	var ci x509.CertificateInvalidError
	var rh tls.RecordHeaderError
	var te *TLSError
	e := &TLSError{URL: url, Err: err}
	switch {
	case errors.As(err, &te):
		return te, true
	case errors.As(err, &ua):
		e.Reason = TLSUnknownAuthority
		if ua.Cert != nil {
			e.Detail = "issued by " + ua.Cert.Issuer.String()
		}
	case errors.As(err, &he):
		e.Reason = TLSWrongHost
		if he.Certificate != nil {
			names := append([]string(nil), he.Certificate.DNSNames...)
			for _, ip := range he.Certificate.IPAddresses {
				names = append(names, ip.String())
			}
			e.Detail = "it is for " + strings.Join(names, ", ") + ", not " + he.Host
		}
	case errors.As(err, &ci):
		e.Reason = TLSInvalid
		if ci.Reason == x509.Expired {
			e.Reason = TLSExpired
			if ci.Cert != nil {
				e.Detail = fmt.Sprintf("valid from %s to %s", ci.Cert.NotBefore.UTC().Format(time.DateOnly), ci.Cert.NotAfter.UTC().Format(time.DateOnly))
			}
		}
	case errors.As(err, &rh):
		e.Reason = TLSNotTLS
	default:
		return nil, false
	}
	return e, true
}
