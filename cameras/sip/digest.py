"""SIP digest authentication on the server side (RFC 3261 22.4, RFC 2617, RFC 8760).

Nonces are stateless: a timestamp signed with the gateway's secret, so any gateway process
sharing the secret can check a nonce another one issued, and nothing is stored per challenge.
MD5 is what GB/T 28181-2016 devices use; SHA-256 (RFC 8760) and SM3 (GB/T 28181-2022 8.3)
are accepted when a device names them.
"""

import base64
import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

ALGORITHMS = {"MD5": "md5", "SHA-256": "sha256", "SM3": "sm3"}


class Verdict(StrEnum):
    """What a request's credentials are worth."""

    OK = "ok"
    MISSING = "missing"
    STALE = "stale"
    """A nonce this gateway issued, but too old: challenge again (stale=true)."""
    WRONG = "wrong"


@dataclass(frozen=True, slots=True)
class DigestRealm:
    """Issues and checks nonces for one realm (the SIP domain of GB/T 28181)."""

    realm: str
    secret: bytes
    nonce_lifetime_s: float = 300.0
    algorithm: str = "MD5"

    def nonce(self, now: float) -> str:
        """A fresh nonce: issue time and its signature."""
        stamp = str(int(now * 1000))
        return base64.urlsafe_b64encode(f"{stamp}:{self._sign(stamp)}".encode()).decode()

    def challenge(self, now: float, *, stale: bool = False) -> str:
        """The WWW-Authenticate value of a 401."""
        value = f'Digest realm="{self.realm}", nonce="{self.nonce(now)}", '
        value += f"algorithm={self.algorithm}"
        return value + (", stale=true" if stale else "")

    def check(
        self, credentials: Mapping[str, str] | None, *, method: str, password: str, now: float
    ) -> Verdict:
        """Whether `credentials` (the Authorization parameters) prove `password`."""
        if credentials is None:
            return Verdict.MISSING
        nonce = credentials.get("nonce", "")
        algorithm = credentials.get("algorithm", "MD5").upper()
        if credentials.get("realm") != self.realm or algorithm not in ALGORITHMS:
            return Verdict.WRONG
        issued = self._issued_at(nonce)
        if issued is None:
            return Verdict.WRONG
        expected = expected_response(
            algorithm,
            username=credentials.get("username", ""),
            realm=self.realm,
            password=password,
            method=method,
            uri=credentials.get("uri", ""),
            nonce=nonce,
            qop=credentials.get("qop"),
            nc=credentials.get("nc", ""),
            cnonce=credentials.get("cnonce", ""),
        )
        if not hmac.compare_digest(expected, credentials.get("response", "").lower()):
            return Verdict.WRONG
        if now * 1000 - issued > self.nonce_lifetime_s * 1000:
            return Verdict.STALE
        return Verdict.OK

    def _sign(self, stamp: str) -> str:
        return hmac.new(self.secret, f"{self.realm}:{stamp}".encode(), "sha256").hexdigest()[:24]

    def _issued_at(self, nonce: str) -> int | None:
        try:
            stamp, _, signature = base64.urlsafe_b64decode(nonce.encode()).decode().partition(":")
            issued = int(stamp)
        except ValueError:
            return None
        return issued if hmac.compare_digest(signature, self._sign(stamp)) else None


def expected_response(
    algorithm: str,
    *,
    username: str,
    realm: str,
    password: str,
    method: str,
    uri: str,
    nonce: str,
    qop: str | None = None,
    nc: str = "",
    cnonce: str = "",
) -> str:
    """The digest `response` a client that knows `password` sends (RFC 2617 3.2.2.1)."""
    name = ALGORITHMS[algorithm.upper()]

    def digest(text: str) -> str:
        return hashlib.new(name, text.encode()).hexdigest()

    ha1 = digest(f"{username}:{realm}:{password}")
    ha2 = digest(f"{method}:{uri}")
    if qop in ("auth", "auth-int"):
        return digest(f"{ha1}:{nonce}:{nc}:{cnonce}:{qop}:{ha2}")
    return digest(f"{ha1}:{nonce}:{ha2}")
