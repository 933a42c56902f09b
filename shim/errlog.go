package shim

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"syscall"
	"time"
)

// report writes a message where the caller will look: on stderr and, when
// the runtime was given --log, as a line in runc's log format. containerd's
// runc shim reads the last error line of that file and puts its msg into the
// CRI error, which is what `kubectl describe pod` shows.
func report(inv Invocation, stderr io.Writer, level slog.Level, msg string) {
	msg = "sysgate: " + msg
	fmt.Fprintln(stderr, msg)
	if inv.Log == "" {
		return
	}
	f, err := os.OpenFile(inv.Log, os.O_WRONLY|os.O_APPEND|os.O_CREATE|syscall.O_NOFOLLOW, 0o600)
	if err != nil {
		fmt.Fprintf(stderr, "sysgate: cannot write to --log %s: %v\n", inv.Log, err)
		return
	}
	defer f.Close()
	runcLogger(f, inv.LogFormat).Log(context.Background(), level, msg)
}

// runcLogger logs like runc's logrus setup: JSON lines {"level","msg","time"}
// with a lower-case level for --log-format json, logfmt text otherwise.
func runcLogger(w io.Writer, format string) *slog.Logger {
	opts := &slog.HandlerOptions{ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
		switch a.Key {
		case slog.LevelKey:
			a.Value = slog.StringValue(strings.ToLower(a.Value.String()))
		case slog.TimeKey:
			a.Value = slog.StringValue(a.Value.Time().UTC().Format(time.RFC3339Nano))
		}
		return a
	}}
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
