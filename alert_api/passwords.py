"""Password hashing with argon2id, and the rules a new password must meet."""

from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

MIN_LENGTH = 8
MAX_LENGTH = 200

_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    """The argon2id hash (PHC string) of `password`."""
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """Whether `password` matches `password_hash`."""
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """Whether the hash was made with weaker parameters than the current ones."""
    return _hasher.check_needs_rehash(password_hash)


@cache
def _dummy_hash() -> str:
    return _hasher.hash("not a password anyone has")


def burn_time(password: str) -> None:
    """Spend as long as a real verification, so unknown logins answer no faster."""
    verify_password(_dummy_hash(), password)


def password_problem(password: str) -> str | None:
    """What is wrong with a new password, or None if it will do."""
    if len(password) < MIN_LENGTH:
        return f"the password needs at least {MIN_LENGTH} characters"
    if len(password) > MAX_LENGTH:
        return f"the password may have at most {MAX_LENGTH} characters"
    if not password.strip():
        return "the password cannot be only spaces"
    return None
