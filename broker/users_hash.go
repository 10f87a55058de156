package broker

import (
	"crypto/md5"
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"hash"
)

// hashAlgo is one of RabbitMQ's password hashing modules. All share one
// layout: 4 random salt bytes, then digest(salt ++ password); the
// definitions file holds that, base64 encoded, so a hash exported by
// RabbitMQ logs in here and back.
type hashAlgo uint8

const (
	hashSHA256 hashAlgo = iota // rabbit_password_hashing_sha256, RabbitMQ's default
	hashSHA512                 // rabbit_password_hashing_sha512
	hashMD5                    // rabbit_password_hashing_md5, RabbitMQ before 3.6
)

const saltLen = 4

var hashAlgoNames = [...]string{
	hashSHA256: "rabbit_password_hashing_sha256",
	hashSHA512: "rabbit_password_hashing_sha512",
	hashMD5:    "rabbit_password_hashing_md5",
}

func (a hashAlgo) name() string { return hashAlgoNames[a] }

// parseHashAlgo reads a definitions' hashing_algorithm; "" is SHA-256, as
// RabbitMQ assumes for an entry without one.
func parseHashAlgo(s string) (hashAlgo, bool) {
	if s == "" {
		return hashSHA256, true
	}
	for i, n := range hashAlgoNames {
		if n == s {
			return hashAlgo(i), true
		}
	}
	return 0, false
}

func (a hashAlgo) new() hash.Hash {
	switch a {
	case hashSHA512:
		return sha512.New()
	case hashMD5:
		return md5.New()
	}
	return sha256.New()
}

func newSalt() [saltLen]byte {
	var s [saltLen]byte
	_, _ = rand.Read(s[:])
	return s
}

// hash returns salt ++ digest(salt ++ password).
func (a hashAlgo) hash(salt [saltLen]byte, password string) []byte {
	h := a.new()
	h.Write(salt[:])
	h.Write([]byte(password))
	return h.Sum(salt[:])
}

func (a hashAlgo) matches(stored []byte, password string) bool {
	if len(stored) != saltLen+a.new().Size() {
		return false
	}
	return subtle.ConstantTimeCompare(a.hash([saltLen]byte(stored), password), stored) == 1
}

// decodePasswordHash reads a definitions' password_hash: "" is a user
// without password; otherwise base64 of exactly salt and one digest.
func decodePasswordHash(a hashAlgo, s string) ([]byte, error) {
	if s == "" {
		return nil, nil
	}
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, errors.New("password_hash is not base64")
	}
	if len(b) != saltLen+a.new().Size() {
		return nil, errors.New("password_hash has the wrong length for " + a.name())
	}
	return b, nil
}

func encodePasswordHash(b []byte) string {
	if b == nil {
		return ""
	}
	return base64.StdEncoding.EncodeToString(b)
}
