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

	"github.com/digitorus/timestamp"
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
	cases = append(cases, bundleCases(inter, root, p256, flags)...)
	for _, c := range cases {
		dir := filepath.Join(casesDir, "verify-attestation-keyless-"+c.name)
		_ = os.RemoveAll(dir)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			panic(err)
		}
		files := c.files
		files["cmd"] = []byte(c.cmd + "\n")
		if why, ok := deviations[c.name]; ok {
			files["deviation"] = []byte(why + "\n")
		}
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

// deviations: the cases where Kiln differs on purpose (docs/templates.md says why).
var deviations = map[string]string{}

type tc struct {
	name, cmd string
	files     map[string][]byte
}

func (c tc) withRoot(root []byte) tc { c.files["root.json"] = root; return c }
func (c tc) withAtt(att []byte) tc   { c.files["att.json"] = att; return c }
func (c tc) withCmd(cmd string) tc   { c.cmd = cmd; return c }
func withArtifact(c tc, content string) tc {
	c.files["a.txt"] = []byte(content)
	return c
}

// sshFingerprint: Go's ssh.FingerprintSHA256 of a P-256 key (the DSSE key id sigstore's
// envelope verifier gives a verifier without one).
func sshFingerprint(pub crypto.PublicKey) string {
	k := pub.(*ecdsa.PublicKey)
	put := func(out, b []byte) []byte {
		out = append(out, byte(len(b)>>24), byte(len(b)>>16), byte(len(b)>>8), byte(len(b)))
		return append(out, b...)
	}
	point := must(k.ECDH()).Bytes()
	w := put(nil, []byte("ecdsa-sha2-nistp256"))
	w = put(w, []byte("nistp256"))
	w = put(w, point)
	h := sha256.Sum256(w)
	return "SHA256:" + base64.RawStdEncoding.EncodeToString(h[:])
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

// bundleCases: Sigstore bundles (v0.3 unless a case says otherwise) beside keyless
// attestations whose short-lived certificate was valid when a Rekor-like log (its key in
// the trusted root) integrated the DSSE entry.
func bundleCases(inter, root *ca, p256 func() crypto.Signer, flags string) []tc {
	signedAt := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	rekorKey := must(ecdsa.GenerateKey(elliptic.P256(), rand.Reader))
	rekorDER := must(x509.MarshalPKIXPublicKey(rekorKey.Public()))
	logID := sha256.Sum256(rekorDER)
	rootJSON := func(cas ...[]*ca) []byte {
		var m map[string]any
		must0(json.Unmarshal(trustedRoot(media, nil, cas...), &m))
		m["tlogs"] = []any{map[string]any{
			"baseUrl":       "https://rekor.example.test",
			"hashAlgorithm": "SHA2_256",
			"publicKey": map[string]any{
				"rawBytes": b64(rekorDER), "keyDetails": "PKIX_ECDSA_P256_SHA_256",
				"validFor": map[string]string{"start": "2021-01-12T11:53:27Z"},
			},
			"logId": map[string]string{"keyId": b64(logID[:])},
		}}
		return must(json.MarshalIndent(m, "", "  "))
	}
	trusted := rootJSON([]*ca{inter, root})

	k := p256()
	shortLived := leaf(inter, k, func(c *x509.Certificate) {
		c.NotBefore, c.NotAfter = signedAt.Add(-time.Minute), signedAt.Add(10*time.Minute)
	})
	longLived := leaf(inter, k, nil)
	sigBytes := sign(k, pae(statement))

	type opts struct {
		media        string
		noPromise    bool
		noProof      bool
		noCheckpoint bool
		noLogID      bool
		kind         string
		payload      []byte
		sig          []byte
		chain        bool
		noMaterial   bool
		message      bool
		// the log entry
		setKey       *ecdsa.PrivateKey // signs the SET instead of the log's key
		noSET        bool
		logTime      time.Time // integrated time (default: signedAt)
		tree3        bool      // the entry is leaf 2 of a tree of 3
		badRoot      bool      // the proof's root hash is another
		extraHash    bool      // one hash too many in the proof
		beyond       bool      // the proof's index is the tree size
		cpKey        *ecdsa.PrivateKey
		cpMalformed  bool
		cpOtherRoot  bool
		entrySig     []byte
		entryCert    []byte
		entryPayload []byte
		keyid        string
		timestamp    bool
		tsr          [][]byte // RFC 3161 timestamp responses
		duplicate    bool
		intoto       bool // an intoto v0.0.2 entry instead of dsse v0.0.1
	}
	bundle := func(certDER []byte, o opts) []byte {
		payload := statement
		if o.payload != nil {
			payload = o.payload
		}
		sig := sigBytes
		if o.sig != nil {
			sig = o.sig
		}
		envJSON := must(json.Marshal(map[string]any{
			"payloadType": payloadT,
			"payload":     base64.StdEncoding.EncodeToString(payload),
			"signatures":  []any{map[string]string{"sig": base64.StdEncoding.EncodeToString(sig), "keyid": ""}},
		}))
		hexsum := func(b []byte) string { h := sha256.Sum256(b); return fmt.Sprintf("%x", h[:]) }
		entrySig, entryCert, entryPayload := sig, certDER, payload
		if o.entrySig != nil {
			entrySig = o.entrySig
		}
		if o.entryCert != nil {
			entryCert = o.entryCert
		}
		if o.entryPayload != nil {
			entryPayload = o.entryPayload
		}
		body := must(json.Marshal(map[string]any{
			"apiVersion": "0.0.1",
			"kind":       "dsse",
			"spec": map[string]any{
				"envelopeHash": map[string]string{"algorithm": "sha256", "value": hexsum(envJSON)},
				"payloadHash":  map[string]string{"algorithm": "sha256", "value": hexsum(entryPayload)},
				"signatures": []any{map[string]string{
					"signature": base64.StdEncoding.EncodeToString(entrySig),
					"verifier":  base64.StdEncoding.EncodeToString([]byte(certPEM(entryCert))),
				}},
			},
		}))
		if o.intoto {
			// intoto v0.0.2: the signature base64-encoded twice, the key as PEM
			body = must(json.Marshal(map[string]any{
				"apiVersion": "0.0.2",
				"kind":       "intoto",
				"spec": map[string]any{"content": map[string]any{
					"envelope": map[string]any{
						"payloadType": payloadT,
						"signatures": []any{map[string]string{
							"sig":       b64([]byte(b64(entrySig))),
							"publicKey": b64([]byte(certPEM(entryCert))),
						}},
					},
					"hash":        map[string]string{"algorithm": "sha256", "value": hexsum(envJSON)},
					"payloadHash": map[string]string{"algorithm": "sha256", "value": hexsum(entryPayload)},
				}},
			}))
		}
		const logIndex = 7
		at := signedAt
		if !o.logTime.IsZero() {
			at = o.logTime
		}
		// the SET: the log's signature over the canonical JSON of the entry's fields
		set := must(json.Marshal(map[string]any{
			"body": base64.StdEncoding.EncodeToString(body), "integratedTime": at.Unix(),
			"logID": fmt.Sprintf("%x", logID[:]), "logIndex": logIndex,
		}))
		setHash := sha256.Sum256(set)
		setKey := rekorKey
		if o.setKey != nil {
			setKey = o.setKey
		}
		setSig := must(ecdsa.SignASN1(rand.Reader, setKey, setHash[:]))
		// RFC 6962: the entry alone (a tree of one), or leaf 2 of a tree of three
		leafHash := sha256.Sum256(append([]byte{0}, body...))
		node := func(l, r []byte) []byte { h := sha256.Sum256(append(append([]byte{1}, l...), r...)); return h[:] }
		rootHash, index, size, hashes := leafHash[:], 0, 1, []string{}
		if o.tree3 {
			l0 := sha256.Sum256([]byte{0, 'a'})
			l1 := sha256.Sum256([]byte{0, 'b'})
			left := node(l0[:], l1[:])
			rootHash, index, size, hashes = node(left, leafHash[:]), 2, 3, []string{b64(left)}
		}
		proofRoot := rootHash
		if o.badRoot {
			proofRoot = make([]byte, 32)
		}
		if o.extraHash {
			hashes = append(hashes, b64(make([]byte, 32)))
		}
		if o.beyond {
			index = size
		}
		cpRoot := proofRoot
		if o.cpOtherRoot {
			cpRoot = make([]byte, 32)
			cpRoot[0] = 1
		}
		note := fmt.Sprintf("rekor.example.test - 1193050959916656506\n%d\n%s\n", size, base64.StdEncoding.EncodeToString(cpRoot))
		noteHash := sha256.Sum256([]byte(note))
		cpKey := rekorKey
		if o.cpKey != nil {
			cpKey = o.cpKey
		}
		noteSig := must(ecdsa.SignASN1(rand.Reader, cpKey, noteHash[:]))
		hint := sha256.Sum256(rekorDER)
		checkpoint := note + "\n\u2014 rekor.example.test " + base64.StdEncoding.EncodeToString(append(hint[:4], noteSig...)) + "\n"
		if o.cpMalformed {
			checkpoint = note + "\u2014 rekor.example.test AAAA\n"
		}
		kind, kindVersion := "dsse", "0.0.1"
		if o.intoto {
			kind, kindVersion = "intoto", "0.0.2"
		}
		if o.kind != "" {
			kind = o.kind
		}
		entry := map[string]any{
			"logIndex":          fmt.Sprint(logIndex),
			"logId":             map[string]string{"keyId": b64(logID[:])},
			"kindVersion":       map[string]string{"kind": kind, "version": kindVersion},
			"integratedTime":    fmt.Sprint(at.Unix()),
			"inclusionPromise":  map[string]string{"signedEntryTimestamp": b64(setSig)},
			"canonicalizedBody": b64(body),
		}
		if o.noSET {
			delete(entry, "inclusionPromise")
		}
		proof := map[string]any{
			"logIndex": fmt.Sprint(index), "rootHash": b64(proofRoot), "treeSize": fmt.Sprint(size), "hashes": hashes,
			"checkpoint": map[string]string{"envelope": checkpoint},
		}
		if o.noCheckpoint {
			delete(proof, "checkpoint")
		}
		if !o.noProof {
			entry["inclusionProof"] = proof
		}
		if o.noPromise {
			delete(entry, "inclusionPromise")
		}
		if o.noLogID {
			delete(entry, "logId")
		}
		entries := []any{entry}
		if o.duplicate {
			entries = append(entries, entry)
		}
		material := map[string]any{"tlogEntries": entries}
		if o.timestamp {
			material["timestampVerificationData"] = map[string]any{"rfc3161Timestamps": []any{map[string]string{"signedTimestamp": b64([]byte("not a timestamp"))}}}
		}
		if o.tsr != nil {
			var ts []any
			for _, r := range o.tsr {
				ts = append(ts, map[string]string{"signedTimestamp": b64(r)})
			}
			material["timestampVerificationData"] = map[string]any{"rfc3161Timestamps": ts}
		}
		switch {
		case o.noMaterial:
		case o.chain:
			material["x509CertificateChain"] = map[string]any{"certificates": []any{map[string]string{"rawBytes": b64(certDER)}}}
		default:
			material["certificate"] = map[string]string{"rawBytes": b64(certDER)}
		}
		mediaType := "application/vnd.dev.sigstore.bundle.v0.3+json"
		if o.media != "" {
			mediaType = o.media
		}
		b := map[string]any{"mediaType": mediaType, "verificationMaterial": material}
		if o.message {
			b["messageSignature"] = map[string]any{
				"messageDigest": map[string]string{"algorithm": "SHA2_256", "digest": b64(leafHash[:])},
				"signature":     b64(sig),
			}
		} else {
			b["dsseEnvelope"] = map[string]any{
				"payload":     b64(payload),
				"payloadType": payloadT,
				"signatures":  []any{map[string]string{"sig": b64(sig), "keyid": o.keyid}},
			}
		}
		return must(json.MarshalIndent(b, "", "  "))
	}
	att := func(certDER []byte) []byte {
		return envelope(sig{KeyID: "fulcio", Sig: b64(sigBytes), Cert: certPEM(certDER)})
	}
	withBundle := func(name, extra string, certDER []byte, b []byte) tc {
		return tc{name, "verify-attestation -trusted-root-path=root.json " + flags + " " + extra + "att.json",
			map[string][]byte{"att.json": att(certDER), "b.json": b, "root.json": trusted}}
	}
	sidecar := func(name, extra string, certDER []byte, b []byte) tc {
		return tc{name, "verify-attestation -trusted-root-path=root.json " + extra + "att.json",
			map[string][]byte{"att.json": att(certDER), "att.sigstore.json": b, "root.json": trusted}}
	}
	good := bundle(shortLived, opts{})
	rt := "-bundle=b.json -require-timestamp "
	both := "-bundle=b.json -require-rekor -require-timestamp "
	// a certificate whose envelope and bundle carry a signature of another key
	otherSigned := leaf(inter, p256(), func(c *x509.Certificate) {
		c.NotBefore, c.NotAfter = signedAt.Add(-time.Minute), signedAt.Add(10*time.Minute)
	})
	otherSig := sign(p256(), pae(statement))
	// a P-384 leaf whose signature is over SHA-256 (sigstore-go's compatibility verifier) or
	// wrong
	compat := func(curve elliptic.Curve, ok bool) tc {
		k := must(ecdsa.GenerateKey(curve, rand.Reader))
		c := leaf(inter, k, func(c *x509.Certificate) {
			c.NotBefore, c.NotAfter = signedAt.Add(-time.Minute), signedAt.Add(10*time.Minute)
		})
		msg := pae(statement)
		if !ok {
			msg = []byte("something else")
		}
		h := sha256.Sum256(msg)
		s := must(ecdsa.SignASN1(rand.Reader, k, h[:]))
		name := "bundle-rekor-p384-sha256"
		if !ok {
			name = "bundle-rekor-p384-wrong-signature"
		}
		return withBundle(name, "-bundle=b.json -require-rekor -require-timestamp ", c, bundle(c, opts{sig: s})).
			withAtt(envelope(sig{KeyID: "fulcio", Sig: b64(s), Cert: certPEM(c)}))
	}
	otherRootCA := newCA("other", nil, 2020, 2120, nil)
	// a timestamp authority: its root, and a leaf for time stamping only (critical EKU)
	tsaRoot := newCA("tsa-root", nil, 2020, 2120, nil)
	// tsaUsage: a time-stamping leaf (no CA, digital signature, critical EKU)
	tsaUsage := func(c *x509.Certificate) {
		c.IsCA, c.MaxPathLenZero = false, false
		c.KeyUsage = x509.KeyUsageDigitalSignature
		c.ExtKeyUsage = nil
		c.ExtraExtensions = []pkix.Extension{timeStampingEKU(true)}
	}
	tsaLeaf := func(mutate func(*x509.Certificate)) *ca {
		return newCA("tsa-leaf", tsaRoot, 2020, 2120, func(c *x509.Certificate) {
			tsaUsage(c)
			if mutate != nil {
				mutate(c)
			}
		})
	}
	// a time-stamping leaf of an authority the trusted root does not name
	untrustedTSA := func() *ca {
		return newCA("tsa-other-leaf", newCA("tsa-other", nil, 2020, 2120, nil), 2020, 2120, tsaUsage)
	}
	tsaGood := tsaLeaf(nil)
	// tsr: a timestamp response over the SHA-256 of sig, at t, signed by leaf
	tsr := func(leaf *ca, sig []byte, t time.Time, hashAlg crypto.Hash, embed bool) []byte {
		h := hashAlg.New()
		h.Write(sig)
		ts := timestamp.Timestamp{
			HashAlgorithm: hashAlg, HashedMessage: h.Sum(nil), Time: t,
			Policy: asn1.ObjectIdentifier{1, 2, 3, 4}, SerialNumber: big.NewInt(42),
			AddTSACertificate: embed,
		}
		return must(ts.CreateResponseWithOpts(leaf.cert, leaf.key, crypto.SHA256))
	}
	// the trusted root with the timestamp authority (its chain as sigstore-go reads it:
	// the leaf first, the root last)
	tsaRootJSON := func(chain []*ca, validFor map[string]string) []byte {
		var m map[string]any
		must0(json.Unmarshal(trusted, &m))
		var certs []any
		for _, c := range chain {
			certs = append(certs, map[string]string{"rawBytes": b64(c.cert.Raw)})
		}
		entry := map[string]any{"uri": "https://tsa.example.test", "certChain": map[string]any{"certificates": certs}}
		if validFor != nil {
			entry["validFor"] = validFor
		}
		m["timestampAuthorities"] = []any{entry}
		return must(json.MarshalIndent(m, "", "  "))
	}
	tsaTrusted := tsaRootJSON([]*ca{tsaGood, tsaRoot}, nil)
	withTSA := func(name, extra string, o opts) tc {
		return withBundle(name, extra, shortLived, bundle(shortLived, o)).withRoot(tsaTrusted)
	}
	stamp := func(t time.Time) [][]byte { return [][]byte{tsr(tsaGood, sigBytes, t, crypto.SHA256, true)} }
	otherInterCA := func() *ca { return newCA("other-intermediate", otherRootCA, 2020, 2120, nil) }
	return []tc{
		withBundle("bundle-rekor-and-timestamp", "-bundle=b.json -require-rekor -require-timestamp ", shortLived, good),
		withBundle("bundle-require-timestamp", rt, shortLived, good),
		withBundle("bundle-require-rekor", "-bundle=b.json -require-rekor ", shortLived, good),
		sidecar("bundle-sidecar", flags+" ", shortLived, good),
		sidecar("bundle-sidecar-no-identity", "", shortLived, good),
		sidecar("bundle-sidecar-without-evidence", flags+" ", longLived, []byte(`{"mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json", "verificationMaterial": {"certificate": {"rawBytes": "`+b64(longLived)+`"}}, "dsseEnvelope": {"payload": "", "payloadType": "x"}}`)),
		sidecar("bundle-sidecar-unreadable", flags+" ", longLived, []byte("not a bundle")),
		sidecar("bundle-sidecar-short-lived-unreadable", flags+" ", shortLived, []byte("{}")),
		withBundle("bundle-payload-mismatch", rt, shortLived, bundle(shortLived, opts{payload: []byte(`{"_type":"other"}`)})),
		withBundle("bundle-empty-payload", rt, shortLived, bundle(shortLived, opts{payload: []byte{}})),
		withBundle("bundle-signature-mismatch", rt, shortLived, bundle(shortLived, opts{sig: sign(p256(), pae(statement))})),
		withBundle("bundle-v01-no-promise", rt, shortLived, bundle(shortLived, opts{media: "application/vnd.dev.sigstore.bundle+json;version=0.1", noPromise: true})),
		withBundle("bundle-v01", rt, shortLived, bundle(shortLived, opts{media: "application/vnd.dev.sigstore.bundle+json;version=0.1", noProof: true})),
		withBundle("bundle-v02-no-proof", rt, shortLived, bundle(shortLived, opts{media: "application/vnd.dev.sigstore.bundle+json;version=0.2", noProof: true})),
		withBundle("bundle-v03-chain", rt, shortLived, bundle(shortLived, opts{chain: true})),
		withBundle("bundle-v02-chain", rt, shortLived, bundle(shortLived, opts{media: "application/vnd.dev.sigstore.bundle+json;version=0.2", chain: true})),
		withBundle("bundle-v04", rt, shortLived, bundle(shortLived, opts{media: "application/vnd.dev.sigstore.bundle.v0.4+json"})),
		withBundle("bundle-v00", rt, shortLived, bundle(shortLived, opts{media: "application/vnd.dev.sigstore.bundle.v0.0.9+json"})),
		withBundle("bundle-version-invalid", rt, shortLived, bundle(shortLived, opts{media: "application/vnd.dev.sigstore.bundle.v01+json"})),
		withBundle("bundle-media-type-unknown", rt, shortLived, bundle(shortLived, opts{media: "application/json"})),
		withBundle("bundle-message-signature", rt, shortLived, bundle(shortLived, opts{message: true})),
		withBundle("bundle-no-material", rt, shortLived, bundle(shortLived, opts{noMaterial: true})),
		withBundle("bundle-kind-mismatch", rt, shortLived, bundle(shortLived, opts{kind: "intoto"})),
		withBundle("bundle-entry-no-log-id", rt, shortLived, bundle(shortLived, opts{noLogID: true})),
		withBundle("bundle-checkpoint-missing", rt, shortLived, bundle(shortLived, opts{noCheckpoint: true})),
		withBundle("bundle-missing", "-bundle=nope.json -require-timestamp ", shortLived, good),
		withBundle("bundle-artifact-missing", rt+"-artifact=nope.txt ", shortLived, good),
		withArtifact(withBundle("bundle-rekor-artifact", both+"-artifact=a.txt ", shortLived, good), "hello"),
		withArtifact(withBundle("bundle-rekor-artifact-mismatch", both+"-artifact=a.txt ", shortLived, good), "other"),
		withBundle("bundle-rekor-builder-policy", both+"-builder-id=https://example.com/x ", shortLived, good),
		withBundle("bundle-rekor-tree", both, shortLived, bundle(shortLived, opts{tree3: true})),
		withBundle("bundle-rekor-intoto", both, shortLived, bundle(shortLived, opts{intoto: true})),
		withBundle("bundle-rekor-intoto-payload", both, shortLived, bundle(shortLived, opts{intoto: true, entryPayload: []byte("other")})),
		withBundle("bundle-rekor-v01-promise-only", both, shortLived, bundle(shortLived, opts{media: "application/vnd.dev.sigstore.bundle+json;version=0.1", noProof: true})),
		withBundle("bundle-rekor-proof-only", both, shortLived, bundle(shortLived, opts{noSET: true})),
		withBundle("bundle-rekor-set-other-key", both, shortLived, bundle(shortLived, opts{setKey: must(ecdsa.GenerateKey(elliptic.P256(), rand.Reader))})),
		withBundle("bundle-rekor-log-unknown", both, shortLived, bundle(shortLived, opts{})).withRoot(trustedRoot(media, nil, []*ca{inter, root})),
		withBundle("bundle-rekor-log-window", both, shortLived, bundle(shortLived, opts{logTime: time.Date(2020, 6, 1, 0, 0, 0, 0, time.UTC)})),
		withBundle("bundle-rekor-outside-certificate", both, shortLived, bundle(shortLived, opts{logTime: signedAt.Add(time.Hour)})),
		withBundle("bundle-rekor-root-mismatch", both, shortLived, bundle(shortLived, opts{badRoot: true})),
		withBundle("bundle-rekor-proof-size", both, shortLived, bundle(shortLived, opts{extraHash: true})),
		withBundle("bundle-rekor-index-beyond", both, shortLived, bundle(shortLived, opts{beyond: true})),
		withBundle("bundle-rekor-checkpoint-key", both, shortLived, bundle(shortLived, opts{cpKey: must(ecdsa.GenerateKey(elliptic.P256(), rand.Reader))})),
		withBundle("bundle-rekor-checkpoint-malformed", both, shortLived, bundle(shortLived, opts{cpMalformed: true})),
		withBundle("bundle-rekor-checkpoint-root", both, shortLived, bundle(shortLived, opts{cpOtherRoot: true})),
		withBundle("bundle-rekor-entry-signature", both, shortLived, bundle(shortLived, opts{entrySig: []byte("other")})),
		withBundle("bundle-rekor-entry-certificate", both, shortLived, bundle(shortLived, opts{entryCert: longLived})),
		withBundle("bundle-rekor-entry-payload", both, shortLived, bundle(shortLived, opts{entryPayload: []byte("other")})),
		withBundle("bundle-rekor-duplicate", both, shortLived, bundle(shortLived, opts{duplicate: true})),
		withBundle("bundle-rekor-keyid-other", both, shortLived, bundle(shortLived, opts{keyid: "SHA256:other"})),
		withBundle("bundle-rekor-keyid", both, shortLived, bundle(shortLived, opts{keyid: sshFingerprint(k.Public())})),
		withBundle("bundle-rekor-identity", both, shortLived, good).withCmd("verify-attestation -trusted-root-path=root.json -bundle=b.json -require-rekor -require-timestamp -keyless-identity=someone@example.com -keyless-oidc-issuer=" + issuer + " att.json"),
		withBundle("bundle-rekor-issuer", both, shortLived, good).withCmd("verify-attestation -trusted-root-path=root.json -bundle=b.json -require-rekor -require-timestamp -keyless-identity=" + identity + " -keyless-oidc-issuer=https://accounts.google.com att.json"),
		withBundle("bundle-rekor-untrusted-authority", both, shortLived, bundle(shortLived, opts{})).withRoot(rootJSON([]*ca{otherInterCA(), otherRootCA})),
		withBundle("bundle-rekor-timestamp-data", both, shortLived, bundle(shortLived, opts{timestamp: true})),
		compat(elliptic.P384(), true), compat(elliptic.P384(), false),
		withTSA("bundle-tsa-verified", rt, opts{tsr: stamp(signedAt)}),
		withTSA("bundle-tsa-sidecar", rt, opts{tsr: stamp(signedAt)}).withCmd("verify-attestation -trusted-root-path=root.json " + flags + " -bundle=b.json att.json"),
		withTSA("bundle-tsa-and-rekor", both, opts{tsr: stamp(signedAt)}),
		withTSA("bundle-tsa-sha384", rt, opts{tsr: [][]byte{tsr(tsaGood, sigBytes, signedAt, crypto.SHA384, true)}}),
		withTSA("bundle-tsa-not-embedded", rt, opts{tsr: [][]byte{tsr(tsaGood, sigBytes, signedAt, crypto.SHA256, false)}}),
		withTSA("bundle-tsa-not-embedded-no-leaf", rt, opts{tsr: [][]byte{tsr(tsaGood, sigBytes, signedAt, crypto.SHA256, false)}}).withRoot(tsaRootJSON([]*ca{tsaRoot}, nil)),
		withTSA("bundle-tsa-other-signature", rt, opts{tsr: [][]byte{tsr(tsaGood, []byte("other"), signedAt, crypto.SHA256, true)}}),
		withTSA("bundle-tsa-after-certificate", rt, opts{tsr: stamp(signedAt.Add(time.Hour))}),
		withTSA("bundle-tsa-untrusted", rt, opts{tsr: [][]byte{tsr(untrustedTSA(), sigBytes, signedAt, crypto.SHA256, true)}}),
		withTSA("bundle-tsa-eku-not-critical", rt, opts{tsr: [][]byte{tsr(tsaLeaf(func(c *x509.Certificate) {
			c.ExtraExtensions = []pkix.Extension{timeStampingEKU(false)}
		}), sigBytes, signedAt, crypto.SHA256, true)}}),
		withTSA("bundle-tsa-eku-not-critical-no-leaf", rt, opts{tsr: [][]byte{tsr(tsaLeaf(func(c *x509.Certificate) {
			c.ExtraExtensions = []pkix.Extension{timeStampingEKU(false)}
		}), sigBytes, signedAt, crypto.SHA256, true)}}).withRoot(tsaRootJSON([]*ca{tsaRoot}, nil)),
		withTSA("bundle-tsa-untrusted-no-leaf", rt, opts{tsr: [][]byte{tsr(untrustedTSA(), sigBytes, signedAt, crypto.SHA256, true)}}).withRoot(tsaRootJSON([]*ca{tsaRoot}, nil)),
		withTSA("bundle-tsa-root-only", rt, opts{tsr: stamp(signedAt)}).withRoot(tsaRootJSON([]*ca{tsaRoot}, nil)),
		withTSA("bundle-tsa-rejected", rt, opts{tsr: [][]byte{must(timestamp.CreateErrorResponse(timestamp.Rejection, timestamp.BadRequest))}}),
		withTSA("bundle-tsa-expired", rt, opts{tsr: [][]byte{tsr(newCA("tsa-old", tsaRoot, 2020, 2021, tsaUsage), sigBytes, signedAt, crypto.SHA256, true)}}).withRoot(tsaRootJSON([]*ca{tsaRoot}, nil)),
		func() tc {
			inter := newCA("tsa-intermediate", tsaRoot, 2020, 2120, func(c *x509.Certificate) {
				c.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageTimeStamping}
			})
			leaf := newCA("tsa-leaf-2", inter, 2020, 2120, tsaUsage)
			return withTSA("bundle-tsa-intermediate", rt, opts{tsr: [][]byte{tsr(leaf, sigBytes, signedAt, crypto.SHA256, true)}}).
				withRoot(tsaRootJSON([]*ca{leaf, inter, tsaRoot}, nil))
		}(),
		withTSA("bundle-tsa-window", rt, opts{tsr: stamp(signedAt)}).withRoot(tsaRootJSON([]*ca{tsaGood, tsaRoot}, map[string]string{"start": "2026-01-01T00:00:00Z"})),
		withTSA("bundle-tsa-two", rt, opts{tsr: append(stamp(signedAt), stamp(signedAt.Add(time.Minute))...)}),
		withTSA("bundle-tsa-no-authority", rt, opts{tsr: stamp(signedAt)}).withRoot(trusted),
		withTSA("bundle-tsa-garbage", rt, opts{tsr: [][]byte{[]byte("not a timestamp")}}),
		withBundle("bundle-rekor-bad-signature", both, otherSigned, bundle(otherSigned, opts{sig: otherSig})).withAtt(envelope(sig{KeyID: "fulcio", Sig: b64(otherSig), Cert: certPEM(otherSigned)})),
	}
}

// timeStampingEKU: the extended key usage extension naming time stamping alone (Go's
// CreateCertificate marks its own EKU extension non-critical; a TSA's must be critical).
func timeStampingEKU(critical bool) pkix.Extension {
	return pkix.Extension{
		Id: asn1.ObjectIdentifier{2, 5, 29, 37}, Critical: critical,
		Value: must(asn1.Marshal([]asn1.ObjectIdentifier{{1, 3, 6, 1, 5, 5, 7, 3, 8}})),
	}
}

func must0(err error) {
	if err != nil {
		panic(err)
	}
}
