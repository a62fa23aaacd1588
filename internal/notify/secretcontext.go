package notify

import "strconv"

// WebhookSecretContext is the associated data a webhook's signing secret is
// sealed with (secrets.Box), binding it to its account.
func WebhookSecretContext(accountID int64) string {
	return "webhook:" + strconv.FormatInt(accountID, 10)
}
