package api

import (
	"context"
	"log/slog"
)

// audit logs a management action taken through the API (pause, resume,
// cancel, retry, retry-failed, remove, promote, delete-event, and a webhook
// subscription's create, update, delete and rotate-secret, never its URL or
// secret) with who took
// it, as far as the server knows: the kind of token that let the request in
// ("none" when the API is open) and the peer's address. An action refused
// (an unknown job, a job in the wrong state) is logged with the status it
// was answered with; one that failed unexpectedly too, beside the error log
// of problemOf. It returns err, so that a handler can return through it.
func (a *API) audit(ctx context.Context, action string, err error, attrs ...any) error {
	info := infoOf(ctx)
	outcome := "done"
	if err != nil {
		outcome = "failed"
		if status := statusFor(err); status != 0 && status < 500 {
			outcome = "refused"
			attrs = append(attrs, "status", status)
		}
		attrs = append(attrs, "err", err.Error())
	}
	credential := info.credential
	if credential == "" {
		credential = "none"
	}
	attrs = append([]any{"action", action, "outcome", outcome, "credential", credential, "remote_addr", info.remoteAddr}, attrs...)
	a.log.Log(ctx, slog.LevelInfo, "management action", attrs...)
	return err
}
