// Writes the keyless differential cases of `kiln verify-attestation`
// (operator/tests/differential/cases/verify-attestation-keyless-*): a Fulcio-like certificate
// authority (root, intermediate), leaf certificates carrying Fulcio's identity extensions,
// DSSE envelopes signed with the leaves' keys, and Sigstore trusted-root files naming the
// authority. Run from the repository root: `go run ./scripts/keyless-fixtures` (in that
// directory: `cd scripts/keyless-fixtures && go run . ../..`). Keys are fresh each run; the
// committed files are one run's output.
package main

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"net/url"
	"os"
	"path/filepath"
	"time"
)

const (
	identity = "https://github.com/kiln/kiln/.github/workflows/build.yml@refs/heads/main"
	issuer   = "https://token.actions.githubusercontent.com"
	payloadT = "application/vnd.in-toto+json"
)

var (
	oidIssuerV1 = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 57264, 1, 1}
	oidIssuerV2 = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 57264, 1, 8}
	oidOther    = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 57264, 1, 7}
	oidSAN      = asn1.ObjectIdentifier{2, 5, 29, 17}
	serial      = int64(1)
)

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func date(y int) time.Time { return time.Date(y, 1, 1, 0, 0, 0, 0, time.UTC) }

type ca struct {
	cert *x509.Certificate
	key  crypto.Signer
}

func newCA(name string, parent *ca, from, to int, mutate func(*x509.Certificate)) *ca {
	key := must(ecdsa.GenerateKey(elliptic.P384(), rand.Reader))
	serial++
	t := &x509.Certificate{
		SerialNumber:          big.NewInt(serial),
		Subject:               pkix.Name{Organization: []string{"sigstore.dev"}, CommonName: name},
		NotBefore:             date(from),
		NotAfter:              date(to),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	if parent != nil {
		t.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning}
		t.MaxPathLen = 0
		t.MaxPathLenZero = true
	}
	if mutate != nil {
		mutate(t)
	}
	signer, issuerCert := crypto.Signer(key), t
	if parent != nil {
		signer, issuerCert = parent.key, parent.cert
	}
	der := must(x509.CreateCertificate(rand.Reader, t, issuerCert, key.Public(), signer))
	return &ca{cert: must(x509.ParseCertificate(der)), key: key}
}

func derString(s string) []byte { return must(asn1.MarshalWithParams(s, "utf8")) }

// leaf: a Fulcio-like signing certificate for key, issued by parent.
func leaf(parent *ca, key crypto.Signer, mutate func(*x509.Certificate)) []byte {
	serial++
	t := &x509.Certificate{
		SerialNumber: big.NewInt(serial),
		NotBefore:    date(2024),
		NotAfter:     date(2110),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning},
		URIs:         []*url.URL{must(url.Parse(identity))},
		ExtraExtensions: []pkix.Extension{
			{Id: oidIssuerV2, Value: derString(issuer)},
		},
	}
	if mutate != nil {
		mutate(t)
	}
	return must(x509.CreateCertificate(rand.Reader, t, parent.cert, key.Public(), parent.key))
}

func certPEM(der []byte) string {
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
}

func pae(payload []byte) []byte {
	return []byte(fmt.Sprintf("DSSEv1 %d %s %d %s", len(payloadT), payloadT, len(payload), payload))
}

// sign as sigstore's default verifier for the key checks: ECDSA over the curve's hash,
// ed25519 over the message, RSA PKCS#1 v1.5 over SHA-256.
func sign(key crypto.Signer, msg []byte) []byte {
	switch k := key.(type) {
	case *ecdsa.PrivateKey:
		var d []byte
		switch k.Curve {
		case elliptic.P384():
			h := sha512.Sum384(msg)
			d = h[:]
		case elliptic.P521():
			h := sha512.Sum512(msg)
			d = h[:]
		default:
			h := sha256.Sum256(msg)
			d = h[:]
		}
		return must(ecdsa.SignASN1(rand.Reader, k, d))
	case ed25519.PrivateKey:
		return ed25519.Sign(k, msg)
	case *rsa.PrivateKey:
		h := sha256.Sum256(msg)
		return must(rsa.SignPKCS1v15(rand.Reader, k, crypto.SHA256, h[:]))
	}
	panic("key")
}

var statement = []byte(`{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"a.txt","digest":{"sha256":"2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"}}],"predicateType":"https://slsa.dev/provenance/v1","predicate":{"buildDefinition":{"buildType":"https://packer.io/buildtypes/hcl2/v1","externalParameters":{},"internalParameters":{"packerBuildName":"a","packerBuilderType":"file"},"resolvedDependencies":[{"uri":"git+https://github.com/kiln/kiln@refs/heads/main"}]},"runDetails":{"builder":{"id":"https://github.com/kiln/kiln/.github/workflows/build.yml"},"metadata":{}}}}`)

type sig struct {
	KeyID string `json:"keyid,omitempty"`
	Sig   string `json:"sig"`
	Cert  string `json:"cert,omitempty"`
}

func envelope(sigs ...sig) []byte {
	return must(json.MarshalIndent(map[string]any{
		"payloadType": payloadT,
		"payload":     base64.StdEncoding.EncodeToString(statement),
		"signatures":  sigs,
	}, "", "  "))
}

func signed(key crypto.Signer, certDER []byte) sig {
	return sig{KeyID: "fulcio", Sig: base64.StdEncoding.EncodeToString(sign(key, pae(statement))), Cert: certPEM(certDER)}
}

func b64(der []byte) string { return base64.StdEncoding.EncodeToString(der) }

// trustedRoot: a Sigstore trusted root (protobuf JSON) naming the chains given
// (intermediates first, the root last).
func trustedRoot(mediaType string, validFor map[string]string, chains ...[]*ca) []byte {
	var cas []any
	for _, chain := range chains {
		var certs []any
		for _, c := range chain {
			certs = append(certs, map[string]string{"rawBytes": b64(c.cert.Raw)})
		}
		entry := map[string]any{
			"subject":   map[string]string{"organization": "sigstore.dev", "commonName": "sigstore"},
			"uri":       "https://fulcio.example.test",
			"certChain": map[string]any{"certificates": certs},
			"validFor":  map[string]string{"start": "2020-01-01T00:00:00Z"},
		}
		if validFor != nil {
			entry["validFor"] = validFor
		}
		cas = append(cas, entry)
	}
	return must(json.MarshalIndent(map[string]any{
		"mediaType":              mediaType,
		"tlogs":                  []any{},
		"certificateAuthorities": cas,
		"ctlogs":                 []any{},
		"timestampAuthorities":   []any{},
	}, "", "  "))
}

const media = "application/vnd.dev.sigstore.trustedroot+json;version=0.1"

func main() {
	base := "."
	if len(os.Args) > 1 {
		base = os.Args[1]
	}
	casesDir := filepath.Join(base, "operator/tests/differential/cases")
	root := newCA("sigstore", nil, 2020, 2120, nil)
	inter := newCA("sigstore-intermediate", root, 2020, 2120, nil)
	other := newCA("other", nil, 2020, 2120, nil)
	otherInter := newCA("other-intermediate", other, 2020, 2120, nil)
	notCA := newCA("not-a-ca", root, 2020, 2120, func(c *x509.Certificate) {
		c.IsCA = false
		c.BasicConstraintsValid = false
		c.KeyUsage = x509.KeyUsageDigitalSignature
		c.MaxPathLenZero = false
	})
	goodRoot := trustedRoot(media, nil, []*ca{inter, root})
	p256 := func() crypto.Signer { return must(ecdsa.GenerateKey(elliptic.P256(), rand.Reader)) }
	flags := fmt.Sprintf("-keyless-identity=%s -keyless-oidc-issuer=%s", identity, issuer)

	type tc struct {
		name, cmd string
		files     map[string][]byte
	}
	one := func(name, cmd string, att []byte, rootJSON []byte) tc {
		f := map[string][]byte{"att.json": att}
		if rootJSON != nil {
			f["root.json"] = rootJSON
		}
		return tc{name, cmd, f}
	}
	std := "verify-attestation -trusted-root-path=root.json " + flags + " att.json"
	att := func(mutate func(*x509.Certificate)) []byte {
		k := p256()
		return envelope(signed(k, leaf(inter, k, mutate)))
	}
	good := att(nil)
	var cases []tc
	cases = append(cases,
		one("verified", std, good, goodRoot),
		one("identity-mismatch", "verify-attestation -trusted-root-path=root.json -keyless-identity=https://github.com/kiln/kiln/.github/workflows/other.yml@refs/heads/main -keyless-oidc-issuer="+issuer+" att.json", good, goodRoot),
		one("issuer-mismatch", "verify-attestation -trusted-root-path=root.json -keyless-identity="+identity+" -keyless-oidc-issuer=https://accounts.google.com att.json", good, goodRoot),
		one("untrusted-authority", std, good, trustedRoot(media, nil, []*ca{otherInter, other})),
		one("intermediate-missing", std, good, trustedRoot(media, nil, []*ca{root})),
		one("several-authorities", std, good, trustedRoot(media, nil, []*ca{otherInter, other}, []*ca{inter, root})),
		one("authority-window-closed", std, good, trustedRoot(media, map[string]string{"start": "2020-01-01T00:00:00Z", "end": "2021-01-01T00:00:00Z"}, []*ca{inter, root})),
		one("authority-window-future", std, good, trustedRoot(media, map[string]string{"start": "2200-01-01T00:00:00Z"}, []*ca{inter, root})),
		one("expired-certificate", std, att(func(c *x509.Certificate) { c.NotBefore, c.NotAfter = date(2020), date(2021) }), goodRoot),
		one("not-yet-valid", std, att(func(c *x509.Certificate) { c.NotBefore = date(2200); c.NotAfter = date(2201) }), goodRoot),
		one("server-auth-only", std, att(func(c *x509.Certificate) { c.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth} }), goodRoot),
		one("no-extended-usage", std, att(func(c *x509.Certificate) { c.ExtKeyUsage = nil }), goodRoot),
		one("email-v1-issuer", "verify-attestation -trusted-root-path=root.json -keyless-identity=builder@example.com -keyless-oidc-issuer=https://accounts.google.com att.json",
			att(func(c *x509.Certificate) {
				c.URIs = nil
				c.EmailAddresses = []string{"builder@example.com"}
				c.ExtraExtensions = []pkix.Extension{{Id: oidIssuerV1, Value: []byte("https://accounts.google.com")}}
			}), goodRoot),
		one("no-san", std, att(func(c *x509.Certificate) { c.URIs = nil }), goodRoot),
		one("bad-issuer-extension", std, att(func(c *x509.Certificate) {
			c.ExtraExtensions = []pkix.Extension{{Id: oidIssuerV1, Value: []byte(issuer)}, {Id: oidIssuerV2, Value: []byte(issuer)}}
		}), goodRoot),
		one("othername", "verify-attestation -trusted-root-path=root.json -keyless-identity=kiln!example.com -keyless-oidc-issuer="+issuer+" att.json",
			att(otherNameSAN(false)), goodRoot),
		// Go's x509 counts a critical SAN holding only other names as unhandled
		one("othername-critical", "verify-attestation -trusted-root-path=root.json -keyless-identity=kiln!example.com -keyless-oidc-issuer="+issuer+" att.json",
			att(otherNameSAN(true)), goodRoot),
		one("issued-by-non-ca", std, func() []byte {
			k := p256()
			return envelope(signed(k, leaf(notCA, k, nil)))
		}(), trustedRoot(media, nil, []*ca{notCA, root})),
		one("issued-by-root", std, func() []byte {
			k := p256()
			return envelope(signed(k, leaf(root, k, nil)))
		}(), trustedRoot(media, nil, []*ca{root})),
		one("p384-leaf", std, func() []byte {
			k := must(ecdsa.GenerateKey(elliptic.P384(), rand.Reader))
			return envelope(signed(k, leaf(inter, k, nil)))
		}(), goodRoot),
		one("p521-leaf", std, func() []byte {
			k := must(ecdsa.GenerateKey(elliptic.P521(), rand.Reader))
			return envelope(signed(k, leaf(inter, k, nil)))
		}(), goodRoot),
		one("ed25519-leaf", std, func() []byte {
			_, k := must2(ed25519.GenerateKey(rand.Reader))
			return envelope(signed(k, leaf(inter, k, nil)))
		}(), goodRoot),
		one("rsa2048-leaf", std, func() []byte {
			k := must(rsa.GenerateKey(rand.Reader, 2048))
			return envelope(signed(k, leaf(inter, k, nil)))
		}(), goodRoot),
		one("rsa1024-leaf", std, func() []byte {
			k := must(rsa.GenerateKey(rand.Reader, 1024))
			return envelope(signed(k, leaf(inter, k, nil)))
		}(), goodRoot),
		one("signed-by-other-key", std, func() []byte {
			k := p256()
			s := signed(p256(), leaf(inter, k, nil))
			return envelope(s)
		}(), goodRoot),
		one("second-signature-verifies", std, func() []byte {
			k := p256()
			cert := leaf(inter, k, nil)
			bad := signed(p256(), cert)
			goodSig := signed(k, cert)
			goodSig.Cert = ""
			return envelope(bad, goodSig)
		}(), goodRoot),
		one("policy-after-certificate", "verify-attestation -trusted-root-path=root.json "+flags+" -builder-id=https://example.com/other att.json", good, goodRoot),
		one("artifact-policy", "verify-attestation -trusted-root-path=root.json "+flags+" -artifact=a.txt att.json", good, goodRoot),
		one("trusted-root-missing", "verify-attestation -trusted-root-path=nope.json "+flags+" att.json", good, nil),
		one("trusted-root-media-type", std, good, trustedRoot("application/vnd.dev.sigstore.trustedroot+json;version=0.2", nil, []*ca{inter, root})),
		one("trusted-root-empty-chain", std, good, []byte(`{"mediaType": "`+media+`", "certificateAuthorities": [{"uri": "https://fulcio.example.test", "certChain": {"certificates": []}}]}`)),
		one("trusted-root-no-chain", std, good, []byte(`{"mediaType": "`+media+`", "certificateAuthorities": [{"uri": "https://fulcio.example.test"}]}`)),
		one("trusted-root-bad-certificate", std, good, []byte(`{"mediaType": "`+media+`", "certificateAuthorities": [{"uri": "https://fulcio.example.test", "certChain": {"certificates": [{"rawBytes": "AAEC"}]}}]}`)),
		one("trusted-root-tlog-hash", std, good, []byte(`{"mediaType": "`+media+`", "tlogs": [{"baseUrl": "https://rekor.example.test", "hashAlgorithm": "SHA2_384"}]}`)),
		one("trusted-root-tlog-no-validity", std, good, tlogRoot(false)),
		one("trusted-root-tlog", std, good, tlogRoot(true)),
		one("trusted-root-snake-case", std, good, []byte(`{"media_type": "`+media+`", "certificate_authorities": [{"uri": "https://fulcio.example.test", "cert_chain": {"certificates": [{"raw_bytes": "`+b64(inter.cert.Raw)+`"}, {"raw_bytes": "`+b64(root.cert.Raw)+`"}]}}]}`)),
		one("trusted-root-url-base64", std, good, []byte(`{"mediaType": "`+media+`", "certificateAuthorities": [{"certChain": {"certificates": [{"rawBytes": "`+base64.RawURLEncoding.EncodeToString(inter.cert.Raw)+`"}, {"rawBytes": "`+base64.URLEncoding.EncodeToString(root.cert.Raw)+`"}]}}]}`)),
	)
	for _, c := range cases {
		dir := filepath.Join(casesDir, "verify-attestation-keyless-"+c.name)
		_ = os.RemoveAll(dir)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			panic(err)
		}
		files := c.files
		files["cmd"] = []byte(c.cmd + "\n")
		if c.name == "artifact-policy" {
			files["a.txt"] = []byte("hello")
		}
		for name, data := range files {
			if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
				panic(err)
			}
		}
	}
	fmt.Println(len(cases), "cases written under", casesDir)
}

func must2[A, B any](a A, b B, err error) (A, B) {
	if err != nil {
		panic(err)
	}
	return a, b
}

// tlogRoot: a trusted root with one Rekor log (ECDSA P-256), with or without its key's
// validity period.
func tlogRoot(validity bool) []byte {
	k := must(ecdsa.GenerateKey(elliptic.P256(), rand.Reader))
	der := must(x509.MarshalPKIXPublicKey(k.Public()))
	id := sha256.Sum256(der)
	pk := map[string]any{"rawBytes": b64(der), "keyDetails": "PKIX_ECDSA_P256_SHA_256"}
	if validity {
		pk["validFor"] = map[string]string{"start": "2021-01-12T11:53:27Z"}
	}
	return must(json.MarshalIndent(map[string]any{
		"mediaType": media,
		"tlogs": []any{map[string]any{
			"baseUrl":       "https://rekor.example.test",
			"hashAlgorithm": "SHA2_256",
			"publicKey":     pk,
			"logId":         map[string]string{"keyId": b64(id[:])},
		}},
	}, "", "  "))
}

// otherNameSAN: the SAN is Fulcio's OtherName (a username) alone.
func otherNameSAN(critical bool) func(*x509.Certificate) {
	return func(c *x509.Certificate) {
		c.URIs = nil
		type otherName struct {
			ID    asn1.ObjectIdentifier
			Value string `asn1:"utf8,explicit,tag:0"`
		}
		on := must(asn1.MarshalWithParams(otherName{oidOther, "kiln!example.com"}, "tag:0"))
		san := must(asn1.Marshal(asn1.RawValue{Class: 0, Tag: 16, IsCompound: true, Bytes: on}))
		c.ExtraExtensions = append(c.ExtraExtensions, pkix.Extension{Id: oidSAN, Critical: critical, Value: san})
	}
}
