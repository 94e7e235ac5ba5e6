"""Random tokens (sessions, invites) stored only as hashes, and signatures for URLs."""

import hashlib
import hmac
import secrets


def new_token() -> str:
    """A fresh unguessable token (256 bits, URL-safe)."""
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    """What the database keeps of a token (SHA-256, hex)."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


class UrlSigner:
    """HMAC-SHA256 signatures over a few strings, so a URL naming them cannot be guessed."""

    def __init__(self, key: bytes) -> None:
        self._key = key

    def sign(self, *parts: str) -> str:
        """The signature of `parts` (32 hex characters)."""
        message = "\x1f".join(parts).encode("utf-8", "surrogatepass")
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()[:32]

    def verify(self, signature: str, *parts: str) -> bool:
        """Whether `signature` is the signature of `parts`."""
        return hmac.compare_digest(self.sign(*parts), signature)
