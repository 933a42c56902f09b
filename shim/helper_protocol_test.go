package shim

import (
	"slices"
	"strings"
	"testing"
)

func TestParseHelperRequest(t *testing.T) {
	tests := []struct {
		name string
		msg  string
		want helperRequest
		err  string
	}{
		{name: "create", msg: "sysgate-helper/1\x00/etc/sysgate/config.toml\x00--root\x00/run/runc\x00create\x00--bundle\x00b\x00id\x00",
			want: helperRequest{PolicyPath: "/etc/sysgate/config.toml", Args: []string{"--root", "/run/runc", "create", "--bundle", "b", "id"}}},
		{name: "an empty argument is kept", msg: "sysgate-helper/1\x00/p\x00--log\x00\x00create\x00",
			want: helperRequest{PolicyPath: "/p", Args: []string{"--log", "", "create"}}},
		{name: "not terminated", msg: "sysgate-helper/1\x00/p\x00create", err: "NUL-terminated"},
		{name: "empty", msg: "", err: "NUL-terminated"},
		{name: "no arguments", msg: "sysgate-helper/1\x00/p\x00", err: "2 fields"},
		{name: "another protocol", msg: "sysgate-helper/2\x00/p\x00create\x00", err: "protocol"},
		{name: "no policy", msg: "sysgate-helper/1\x00\x00create\x00", err: "empty policy"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseHelperRequest([]byte(tt.msg))
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("error %v, want one containing %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.PolicyPath != tt.want.PolicyPath || !slices.Equal(got.Args, tt.want.Args) {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
			if string(encodeHelperRequest(got)) != tt.msg {
				t.Errorf("encoding it again gives %q", encodeHelperRequest(got))
			}
		})
	}
}

// FuzzParseHelperRequest: any message either fails or round-trips.
func FuzzParseHelperRequest(f *testing.F) {
	f.Add([]byte("sysgate-helper/1\x00/p\x00create\x00x\x00"))
	f.Add([]byte("\x00\x00\x00"))
	f.Fuzz(func(t *testing.T, msg []byte) {
		req, err := parseHelperRequest(msg)
		if err != nil {
			return
		}
		if string(encodeHelperRequest(req)) != string(msg) {
			t.Fatalf("%q parses to %+v, which encodes to %q", msg, req, encodeHelperRequest(req))
		}
	})
}
