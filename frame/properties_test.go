package frame

import (
	"encoding/binary"
	"encoding/hex"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
)

func fullProperties() Properties {
	return Properties{
		ContentType: "text/plain", ContentEncoding: "gzip",
		Headers:      Table{"x-trace": "abc", "n": int32(3)},
		DeliveryMode: 2, Priority: 9, CorrelationID: "corr", ReplyTo: "amq.rabbitmq.reply-to",
		Expiration: "60000", MessageID: "mid", Timestamp: 1700000000, Type: "t",
		UserID: "guest", AppID: "app", ClusterID: "c",
	}
}

// randProperties sets each property with probability 1/2.
func randProperties(r *rand.Rand) Properties {
	full := fullProperties()
	var p Properties
	src, dst := reflect.ValueOf(full), reflect.ValueOf(&p).Elem()
	for i := range dst.NumField() {
		if r.IntN(2) == 0 {
			dst.Field(i).Set(src.Field(i))
		}
	}
	return p
}

func TestPropertiesRoundTrip(t *testing.T) {
	r := newRand(t)
	for range 500 {
		want := randProperties(r)
		raw := AppendProperties(nil, &want)
		if err := ValidateProperties(raw); err != nil {
			t.Fatalf("ValidateProperties(%x): %v", raw, err)
		}
		got, err := DecodeProperties(raw)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Fatalf("DecodeProperties = %+v, %v\nwant %+v", got, err, want)
		}
		if dm := PropsDeliveryMode(raw); dm != want.DeliveryMode {
			t.Fatalf("PropsDeliveryMode = %d, want %d", dm, want.DeliveryMode)
		}
		h, err := PropsHeaders(raw)
		if err != nil || !reflect.DeepEqual(h, want.Headers) {
			t.Fatalf("PropsHeaders = %v, %v", h, err)
		}
		uid, ok := PropsShortstr(raw, PropUserID)
		if ok != (want.UserID != "") || string(uid) != want.UserID {
			t.Fatalf("PropsShortstr(user-id) = %q, %v", uid, ok)
		}
		exp, ok := PropsShortstr(raw, PropExpiration)
		if ok != (want.Expiration != "") || string(exp) != want.Expiration {
			t.Fatalf("PropsShortstr(expiration) = %q, %v", exp, ok)
		}
	}
}

func TestPropertiesFlagBits(t *testing.T) {
	// One property at a time: each sets exactly the spec's bit.
	for i, bit := range []uint16{15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2} {
		full := fullProperties()
		var p Properties
		reflect.ValueOf(&p).Elem().Field(i).Set(reflect.ValueOf(full).Field(i))
		raw := AppendProperties(nil, &p)
		if flags := binary.BigEndian.Uint16(raw); flags != 1<<bit {
			t.Errorf("field %s: flags %016b, want bit %d", reflect.TypeFor[Properties]().Field(i).Name, flags, bit)
		}
	}
	raw := AppendProperties(nil, &Properties{ContentType: "a", DeliveryMode: 2})
	if got := hex.EncodeToString(raw); got != "9000"+"0161"+"02" {
		t.Errorf("raw %s", got)
	}
}

func TestPropertiesMalformed(t *testing.T) {
	good := fullProperties()
	raw := AppendProperties(nil, &good)
	for i := range len(raw) {
		wantCode(t, second(DecodeProperties(raw[:i])), FrameError)
		wantCode(t, ValidateProperties(raw[:i]), FrameError)
		PropsDeliveryMode(raw[:i])
		PropsShortstr(raw[:i], PropClusterID)
		PropsHeaders(raw[:i])
	}
	wantCode(t, second(DecodeProperties(append(raw, 0))), FrameError)
	wantCode(t, ValidateProperties(append(raw, 0)), FrameError)

	for name, h := range map[string]string{
		"unused bit 1":          "0002",
		"continuation missing":  "0001",
		"continuation flags":    "0001 8000",
		"bad headers table":     "2000 00000002 0161",
		"headers size past end": "2000 00000010",
	} {
		b, _ := hex.DecodeString(strings.ReplaceAll(h, " ", ""))
		if _, err := DecodeProperties(b); err == nil {
			t.Errorf("%s: DecodeProperties accepted %x", name, b)
		}
		if ValidateProperties(b) == nil {
			t.Errorf("%s: ValidateProperties accepted %x", name, b)
		}
	}
	// The headers table is checked deeply by ValidateProperties but only
	// skipped by the single-property readers.
	b, _ := hex.DecodeString("3000" + "00000003" + "01613f" + "02")
	wantCode(t, ValidateProperties(b), FrameError)
	if PropsDeliveryMode(b) != 2 {
		t.Error("PropsDeliveryMode did not skip the headers table")
	}
	wantCode(t, second(PropsHeaders(b)), FrameError)

	// An empty continuation word is allowed and skipped.
	b, _ = hex.DecodeString("1001" + "0000" + "02")
	if p, err := DecodeProperties(b); err != nil || p.DeliveryMode != 2 {
		t.Errorf("continued flags: %+v, %v", p, err)
	}
	if PropsDeliveryMode(b) != 2 || ValidateProperties(b) != nil {
		t.Error("continued flags not skipped")
	}
}

func TestPropertiesValidate(t *testing.T) {
	p := fullProperties()
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	p.AppID = strings.Repeat("a", 256)
	wantCode(t, p.Validate(), FrameError)
	p = fullProperties()
	p.Headers = Table{"k": complex(1, 2)}
	wantCode(t, p.Validate(), FrameError)
	// Still encodes to valid properties, headers sent empty.
	if err := ValidateProperties(AppendProperties(nil, &p)); err != nil {
		t.Fatal(err)
	}
	if _, ok := PropsShortstr(AppendProperties(nil, &p), PropHeaders); ok {
		t.Error("PropsShortstr read a table as a shortstr")
	}
}
