package shim

import (
	"bytes"
	"errors"
	"fmt"
)

// Where sysgate-runc finds the helper. The environment variable overrides
// the socket; set to the empty string it turns the helper off.
const (
	DefaultHelperSocket = "/run/sysgate/helper.sock"
	HelperSocketEnv     = "SYSGATE_HELPER_SOCKET"
)

// The helper's wire format, one SOCK_SEQPACKET message each way (fastpath.c
// is the client). A request is NUL-terminated strings: the protocol name,
// the policy path the client would read, then the runtime arguments without
// argv[0]; it carries two descriptors, the client's working directory and
// root. A reply is "ok", NUL, the runtime to exec, NUL; or "fallback", NUL,
// a reason, NUL, after which the client does the work itself.
const (
	HelperProtocol      = "sysgate-helper/1" // exported for test clients (integration/helperproc)
	helperRequestMax    = 64 << 10           // fastpath.c's REQUEST_MAX
	helperReplyOK       = "ok"
	helperReplyFallback = "fallback"
)

// helperRequest is a decoded request.
type helperRequest struct {
	PolicyPath string
	Args       []string
}

// parseHelperRequest decodes a request; anything unexpected is an error,
// and the client then falls back to doing the work itself.
func parseHelperRequest(msg []byte) (helperRequest, error) {
	if len(msg) == 0 || msg[len(msg)-1] != 0 {
		return helperRequest{}, errors.New("request is not NUL-terminated")
	}
	fields := bytes.Split(msg[:len(msg)-1], []byte{0})
	if len(fields) < 3 {
		return helperRequest{}, fmt.Errorf("request has %d fields, want the protocol, a policy path and arguments", len(fields))
	}
	if string(fields[0]) != HelperProtocol {
		return helperRequest{}, fmt.Errorf("protocol %q, want %q", fields[0], HelperProtocol)
	}
	if len(fields[1]) == 0 {
		return helperRequest{}, errors.New("empty policy path")
	}
	req := helperRequest{PolicyPath: string(fields[1])}
	for _, f := range fields[2:] {
		req.Args = append(req.Args, string(f))
	}
	return req, nil
}

// encodeHelperRequest is the client's side, for tests.
func encodeHelperRequest(req helperRequest) []byte {
	var b bytes.Buffer
	for _, f := range append([]string{HelperProtocol, req.PolicyPath}, req.Args...) {
		b.WriteString(f)
		b.WriteByte(0)
	}
	return b.Bytes()
}

// helperReply encodes a reply.
func helperReply(kind, detail string) []byte {
	return []byte(kind + "\x00" + detail + "\x00")
}
