"""API keys: make them, read them back from a header, and check a secret against its hash.

geogrid authenticates callers with API keys sent as ``Authorization: Bearer <key>``
(RFC 6750's header, so standard HTTP clients and the ``/docs`` page know what to do).
Keys rather than OAuth2: the callers are a handful of county systems (the command
centre, the grid workers' app backend, planners' notebooks) on a private network, with
no identity provider to run or reach; a key is issued once by an administrator with
``geogrid users add``, carries its role and jurisdiction in the database, and is revoked
with ``geogrid users revoke`` within seconds. OAuth2 would add a token server, token
expiry and refresh, for no caller that needs them. A key travels in clear inside the
request, so beyond loopback or a trusted segment put TLS in front of geogrid.

A key reads ``gg_<key_id>_<secret>``: ``key_id`` (16 hex digits) names the credential in
listings and logs; ``secret`` is 32 random bytes from :func:`secrets.token_urlsafe`. Only
the SHA-256 of the secret is stored. A slow password hash (bcrypt, scrypt, Argon2) exists to
make guessing *low-entropy* passwords expensive; a 256-bit random secret cannot be guessed
whatever the hash, so a fast hash loses nothing and keeps verification at about a
microsecond on the hot path (``/locate`` serves thousands of requests per second).
Comparison is constant-time (:func:`hmac.compare_digest`).

Examples
--------
>>> key = new_api_key()
>>> parse_api_key(str(key)) == key
True
>>> stored = hash_secret(key.secret)
>>> secret_matches(key.secret, stored), secret_matches("guess", stored)
(True, False)
>>> parse_api_key("not a key") is None
True
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

__all__ = ["ApiKey", "hash_secret", "new_api_key", "parse_api_key", "secret_matches"]

PREFIX = "gg"
_KEY = re.compile(r"gg_([0-9a-f]{16})_([A-Za-z0-9_-]{43})")


@dataclass(frozen=True)
class ApiKey:
    """A key's public id and its secret; ``str(key)`` is what the caller sends."""

    key_id: str
    secret: str

    def __str__(self) -> str:
        return f"{PREFIX}_{self.key_id}_{self.secret}"

    def __repr__(self) -> str:  # never print the secret by accident
        return f"ApiKey(key_id={self.key_id!r}, secret='…')"


def new_api_key() -> ApiKey:
    """Return a new random key (64-bit id, 256-bit secret)."""
    return ApiKey(secrets.token_hex(8), secrets.token_urlsafe(32))


def parse_api_key(text: str) -> ApiKey | None:
    """Return the key written in ``text``, or None when it is not a geogrid key."""
    match = _KEY.fullmatch(text.strip())
    return ApiKey(match.group(1), match.group(2)) if match else None


def hash_secret(secret: str) -> str:
    """Return the hex SHA-256 of a key's secret (what the database stores)."""
    return hashlib.sha256(secret.encode("ascii")).hexdigest()


def secret_matches(secret: str, stored_hash: str) -> bool:
    """Return True when ``secret`` hashes to ``stored_hash`` (constant-time comparison)."""
    try:
        candidate = hash_secret(secret)
    except UnicodeEncodeError:
        return False
    return hmac.compare_digest(candidate, stored_hash)
