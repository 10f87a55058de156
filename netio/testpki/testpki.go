// Package testpki makes throwaway certificate authorities and
// certificates for TLS tests, written as PEM files in a test's directory.
package testpki

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// CA is a self-signed authority.
type CA struct {
	Cert     *x509.Certificate
	Key      *ecdsa.PrivateKey
	CertFile string
	dir      string
	chain    []*x509.Certificate // the intermediates from this CA up, for Pair.Chain
}

// Pair is an issued certificate's files.
type Pair struct {
	CertFile, KeyFile string
	Cert              *x509.Certificate
	Key               *ecdsa.PrivateKey
	// Chain is the intermediates between Cert and the root, leaf side
	// first: what a peer sends after its certificate.
	Chain []*x509.Certificate
}

// NewCA makes a CA named name in dir.
func NewCA(t testing.TB, dir, name string) *CA {
	t.Helper()
	return newCA(t, dir, name, nil)
}

// Intermediate issues an intermediate CA named name under ca; what it
// issues chains through it (Pair.Chain holds its certificate).
func (ca *CA) Intermediate(t testing.TB, name string) *CA {
	t.Helper()
	return newCA(t, ca.dir, name, ca)
}

// newCA makes a CA certificate signed by parent, or self-signed when
// parent is nil, and writes it to dir.
func newCA(t testing.TB, dir, name string, parent *CA) *CA {
	t.Helper()
	key := newKey(t)
	tmpl := &x509.Certificate{
		SerialNumber:          serial(t),
		Subject:               pkix.Name{CommonName: name, Organization: []string{"Warren tests"}},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	signer, signKey := tmpl, key
	if parent != nil {
		signer, signKey = parent.Cert, parent.Key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, signer, &key.PublicKey, signKey)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	ca := &CA{Cert: cert, Key: key, CertFile: filepath.Join(dir, name+"-ca.pem"), dir: dir}
	if parent != nil {
		ca.chain = append([]*x509.Certificate{cert}, parent.chain...)
	}
	writePEM(t, ca.CertFile, "CERTIFICATE", der)
	return ca
}

// Server issues a server certificate for localhost / 127.0.0.1.
func (ca *CA) Server(t testing.TB, name string) Pair {
	return ca.issue(t, name, pkix.Name{CommonName: name}, x509.ExtKeyUsageServerAuth, func(c *x509.Certificate) {
		c.DNSNames = []string{"localhost"}
		c.IPAddresses = []net.IP{net.IPv4(127, 0, 0, 1)}
	})
}

// Client issues a client certificate with CN cn and DNS SANs sans.
func (ca *CA) Client(t testing.TB, cn string, sans ...string) Pair {
	return ca.issue(t, cn, pkix.Name{CommonName: cn, Organization: []string{"Warren tests"}}, x509.ExtKeyUsageClientAuth, func(c *x509.Certificate) {
		c.DNSNames = sans
	})
}

// ClientSubject issues a client certificate with subject written as
// given, attribute by attribute in that order (pkix.Name would reorder
// them): for tests of how a subject is printed.
func (ca *CA) ClientSubject(t testing.TB, file string, rdns ...pkix.AttributeTypeAndValue) Pair {
	return ca.issue(t, file, pkix.Name{ExtraNames: rdns}, x509.ExtKeyUsageClientAuth, func(*x509.Certificate) {})
}

func (ca *CA) issue(t testing.TB, file string, subject pkix.Name, usage x509.ExtKeyUsage, edit func(*x509.Certificate)) Pair {
	t.Helper()
	key := newKey(t)
	tmpl := &x509.Certificate{
		SerialNumber: serial(t),
		Subject:      subject,
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{usage},
	}
	edit(tmpl)
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, &key.PublicKey, ca.Key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	p := Pair{CertFile: filepath.Join(ca.dir, file+".pem"), KeyFile: filepath.Join(ca.dir, file+"-key.pem"), Cert: cert, Key: key, Chain: ca.chain}
	writePEM(t, p.CertFile, "CERTIFICATE", der)
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	writePEM(t, p.KeyFile, "PRIVATE KEY", keyDER)
	return p
}

// WriteEncryptedKey writes p's key as an encrypted PKCS#8 file (PBES2,
// PBKDF2-HMAC-SHA256, AES-256-CBC: openssl's default) and returns its path.
func (p Pair) WriteEncryptedKey(t testing.TB, path, password string) string {
	t.Helper()
	plain, err := x509.MarshalPKCS8PrivateKey(p.Key)
	if err != nil {
		t.Fatal(err)
	}
	salt, iv := make([]byte, 16), make([]byte, aes.BlockSize)
	_, _ = rand.Read(salt)
	_, _ = rand.Read(iv)
	const iter = 2048
	key, err := pbkdf2.Key(sha256.New, password, salt, iter, 32)
	if err != nil {
		t.Fatal(err)
	}
	pad := aes.BlockSize - len(plain)%aes.BlockSize
	for range pad {
		plain = append(plain, byte(pad))
	}
	block, _ := aes.NewCipher(key)
	enc := make([]byte, len(plain))
	cipher.NewCBCEncrypter(block, iv).CryptBlocks(enc, plain)
	type algo struct {
		OID    asn1.ObjectIdentifier
		Params asn1.RawValue `asn1:"optional"`
	}
	raw := func(v any) asn1.RawValue {
		b, err := asn1.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return asn1.RawValue{FullBytes: b}
	}
	kdf := algo{OID: asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 12}, Params: raw(struct {
		Salt []byte
		Iter int
		PRF  algo
	}{salt, iter, algo{OID: asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 9}, Params: asn1.NullRawValue}})}
	scheme := algo{OID: asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 42}, Params: raw(iv)}
	der, err := asn1.Marshal(struct {
		Algo algo
		Data []byte
	}{algo{OID: asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 13}, Params: raw(struct{ KDF, Scheme algo }{kdf, scheme})}, enc})
	if err != nil {
		t.Fatal(err)
	}
	writePEM(t, path, "ENCRYPTED PRIVATE KEY", der)
	return path
}

func newKey(t testing.TB) *ecdsa.PrivateKey {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return key
}

func serial(t testing.TB) *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func writePEM(t testing.TB, path, typ string, der []byte) {
	t.Helper()
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
}
