"""Phone numbers SMS and voice calls go to: mainland China mobile numbers."""

import re

MOBILE = re.compile(r"(?:\+86|0086|86)?(1\d{10})")


def mainland_mobile(phone: str) -> str | None:
    """The 11-digit mobile number in `phone` (spaces, dashes and a +86/0086/86 prefix are
    dropped), or None if it is not one."""
    match = MOBILE.fullmatch(re.sub(r"[\s-]", "", phone))
    return match.group(1) if match else None
