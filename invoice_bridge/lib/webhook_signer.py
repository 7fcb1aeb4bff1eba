"""Standard Webhooks signing (https://www.standardwebhooks.com/): ``webhook-id``, ``webhook-timestamp`` and
``webhook-signature`` headers, computed with the reference ``standardwebhooks`` library."""
import base64
import os
from datetime import datetime, timezone

from standardwebhooks.webhooks import Webhook

SECRET_PREFIX = "whsec_"


def generate_secret(nbytes=24):
    """A new secret in the Standard Webhooks form ``whsec_<base64>``."""
    return SECRET_PREFIX + base64.b64encode(os.urandom(nbytes)).decode()


class WebhookSigner:
    """Signs a body with one or more secrets (several during a rotation's grace period)."""

    def __init__(self, secrets):
        self.secrets = tuple(s for s in secrets if s)
        if not self.secrets:
            raise ValueError("a webhook signer needs at least one secret")
        self._webhooks = [Webhook(secret) for secret in self.secrets]

    def signature(self, msg_id, timestamp, body):
        """``v1,<sig>`` per secret, space-separated. ``timestamp`` is an aware datetime; ``body`` the exact text."""
        # the library replaces the tzinfo instead of converting: hand it UTC
        timestamp = timestamp.astimezone(timezone.utc)
        return " ".join(hook.sign(msg_id, timestamp, body) for hook in self._webhooks)

    def headers(self, msg_id, body, now=None):
        now = (now or datetime.now(timezone.utc)).replace(microsecond=0)
        return {
            "webhook-id": msg_id,
            "webhook-timestamp": str(int(now.timestamp())),
            "webhook-signature": self.signature(msg_id, now, body),
        }
