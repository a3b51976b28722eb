"""The one way a bearer secret is kept: SHA-256, compared in constant time.

The secrets are random (256 bits), not human passwords, so a slow password hash per
request would cost milliseconds for nothing."""

import hashlib
import hmac


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def matches(stored: str, secret: str) -> bool:
    return hmac.compare_digest(stored, digest(secret))
