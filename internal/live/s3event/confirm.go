package s3event

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
)

// ConfirmSubscription confirms the SNS subscription a KindSubscription
// message asks for, by a GET of its SubscribeURL. The URL must be https on
// an SNS host and ask for ConfirmSubscription (ErrSignature otherwise), so
// that a message cannot make Shelf call anything else.
func (v *Verifier) ConfirmSubscription(ctx context.Context, m Message) error {
	if m.Kind != KindSubscription {
		return fmt.Errorf("confirming an SNS subscription: the message is of kind %q, not %q", m.Kind, KindSubscription)
	}
	u, err := v.trustedURL(m.SubscribeURL)
	if err != nil {
		return fmt.Errorf("%w: SubscribeURL: %w", ErrSignature, err)
	}
	if u.Query().Get("Action") != "ConfirmSubscription" {
		return fmt.Errorf("%w: SubscribeURL on %s does not ask for ConfirmSubscription", ErrSignature, u.Host)
	}
	ctx, cancel := context.WithTimeout(ctx, fetchTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return fmt.Errorf("confirming the SNS subscription to %s: %w", m.TopicArn, err)
	}
	// The URL holds the confirmation token: errors name the host only.
	resp, err := v.client.Do(req)
	if err != nil {
		return fmt.Errorf("confirming the SNS subscription to %s on %s: %w", m.TopicArn, u.Host, redactURLError(err))
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("confirming the SNS subscription to %s: SNS answered %s; confirm it in the AWS console, or have SNS send the confirmation again",
			m.TopicArn, resp.Status)
	}
	return nil
}

// redactURLError drops the URL, and so the token, from a client error.
func redactURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}
