"""Withdrawal codes: eight characters a participant can copy down and type on any device.

The alphabet leaves out characters that are easily confused (0 and O, 1, I and L), so a code
read off a phone and typed elsewhere comes out right; typed codes ignore case, spaces and
dashes. 31 characters, 8 of them: about 8.5 × 10^11 codes; under the withdrawal page's rate
limit, guessing one participant's code is hopeless and hitting anyone's is slow (docs/consent.md).

Only a keyed hash is stored (HMAC-SHA256 under SECRET_KEY, unique, so a code is found with one
index lookup): a copy of the participants table (a backup, a dump) withdraws no one, and
without the key its hashes cannot be searched for codes. The plain code lives only in its
browser's session, which shows it on the results page; whoever can read sessions can act as
those browsers anyway. Hashes made under a retired key are still found while it is listed in
SECRET_KEY_FALLBACKS.
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.utils.crypto import salted_hmac

ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
LENGTH = 8
_SALT = "bachsurvey.consent.withdrawal-code"
_IGNORED = str.maketrans("", "", " -\t")


def new_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))


def display(code: str) -> str:
    """'ABCD-2345': two halves are easier to copy."""
    return f"{code[:4]}-{code[4:]}"


def normalize(typed: str) -> str | None:
    """The code as stored from what a person typed, or None if it cannot be a code."""
    code = typed.translate(_IGNORED).upper()
    if len(code) != LENGTH or any(c not in ALPHABET for c in code):
        return None
    return code


def digest(code: str, secret: str | None = None) -> str:
    """The stored form of ``code``: 64 hex digits."""
    return salted_hmac(_SALT, code, secret=secret, algorithm="sha256").hexdigest()


def digests(code: str) -> list[str]:
    """``code``'s digest under the current key and each fallback key."""
    keys = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]
    return [digest(code, key) for key in keys]
