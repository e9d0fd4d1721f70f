"""A password hasher that counts its checks and takes a while over each, as a real hash does
(Django's PBKDF2 takes a few hundred milliseconds): a race between parallel logins is then as
wide as in production, and the count says how many passwords were checked."""

from __future__ import annotations

import threading
import time

from django.contrib.auth.hashers import MD5PasswordHasher

SECONDS_PER_CHECK = 0.2


class CountingHasher(MD5PasswordHasher):
    algorithm = "counting_md5"

    def __init__(self) -> None:
        self.checks = 0
        self._lock = threading.Lock()

    def verify(self, password: str, encoded: str) -> bool:
        with self._lock:
            self.checks += 1
        time.sleep(SECONDS_PER_CHECK)
        return super().verify(password, encoded)
