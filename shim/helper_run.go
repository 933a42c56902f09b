package shim

import (
	"context"
)

// RunHelper listens on socket and serves h until ctx ends, logging the
// start and the totals; `sysgate helper` and the lean `sysgate-helper`
// both run it once their policy and services are set up.
func RunHelper(ctx context.Context, h *Helper, socket string) error {
	listener, err := ListenHelper(socket)
	if err != nil {
		return err
	}
	h.Log.Info("serving sysgate-runc", "socket", socket, "policy", h.PolicyPath, "services", h.Services)
	err = h.Serve(ctx, listener)
	served, fellBack := h.Counts()
	h.Log.Info("stopped", "served", served, "handed back", fellBack)
	return err
}
