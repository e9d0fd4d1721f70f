"""Tiny helpers that read settings from the environment and fail loudly on bad values.

A typo in a deployment variable should stop the process at start-up with a message naming the
variable, not surface later as a confusing error. An empty variable counts as unset, so that
`FOO=` in a compose file or CI config falls back to the default instead of failing.
"""

import ipaddress
import os
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def _get(name: str) -> str | None:
    value = os.environ.get(name, "").strip()
    return value or None


def env_str(name: str, default: str | None = None) -> str | None:
    value = _get(name)
    return default if value is None else value


def env_bool(name: str, default: bool) -> bool:
    value = _get(name)
    if value is None:
        return default
    if value.lower() in _TRUE:
        return True
    if value.lower() in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be 0/1/true/false, got {value!r}")


def env_int(name: str, default: int, minimum: int | None = None) -> int:
    value = _get(name)
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an integer, got {value!r}") from None
    if minimum is not None and number < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, got {number}")
    return number


def env_list(name: str, default: str) -> list[str]:
    """Comma-separated values, whitespace stripped; an empty list is an error, not a no-op."""
    items = [item.strip() for item in (_get(name) or default).split(",") if item.strip()]
    if not items:
        raise ImproperlyConfigured(f"{name} must list at least one value")
    return items


Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def env_networks(name: str, default: str = "") -> tuple[Network, ...]:
    """Comma-separated IP addresses or CIDR networks (``10.0.0.0/8``); empty: none."""
    networks = []
    for item in (_get(name) or default).split(","):
        if not item.strip():
            continue
        try:
            networks.append(ipaddress.ip_network(item.strip()))
        except ValueError:
            raise ImproperlyConfigured(
                f"{name} must list IP addresses or networks such as 10.0.0.0/8 (the host bits "
                f"zero), got {item.strip()!r}"
            ) from None
    return tuple(networks)


def database_from_url(url: str | None, base_dir: Path, conn_max_age: int = 60) -> dict[str, Any]:
    """Turn DATABASE_URL into Django's DATABASES["default"].

    Unset (None) means SQLite at base_dir/var/db.sqlite3, so a fresh checkout runs at once.
    `sqlite:///relative/path` is relative to base_dir (the repository), `sqlite:////abs/path`
    is absolute (the dj-database-url convention). `postgres://user:pass@host:port/name` and
    `postgresql://...` accept query parameters (e.g. `?sslmode=require`) as driver options.
    """
    if url is None:
        return {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(base_dir / "var" / "db.sqlite3"),
        }
    try:
        parts = urlsplit(url)
        port = parts.port  # parsed lazily; raises ValueError on a non-numeric port
    except ValueError as error:
        raise ImproperlyConfigured(f"DATABASE_URL is not a valid URL: {error}") from None

    if parts.scheme == "sqlite":
        path = unquote(parts.path[1:])  # drop the "/" that separates host from path
        if not path or parts.netloc:
            raise ImproperlyConfigured("DATABASE_URL for SQLite must look like sqlite:///PATH")
        name = path if path == ":memory:" else str(base_dir / path)  # absolute path wins
        return {"ENGINE": "django.db.backends.sqlite3", "NAME": name}

    if parts.scheme in ("postgres", "postgresql"):
        name = unquote(parts.path.lstrip("/"))
        if not name or "/" in name:
            raise ImproperlyConfigured("DATABASE_URL for PostgreSQL must end in /DATABASE_NAME")
        return {
            "ENGINE": "bachsurvey.postgresql",  # Django's, with a cheaper health check
            "NAME": name,
            "USER": unquote(parts.username or ""),
            "PASSWORD": unquote(parts.password or ""),
            "HOST": parts.hostname or "",
            "PORT": str(port or ""),
            # A database that does not answer (a host gone, a network partition) fails a new
            # connection after 5 s, so the request gets its 503 instead of hanging until
            # gunicorn kills the worker; a connect_timeout in the URL wins.
            "OPTIONS": {"connect_timeout": "5", **dict(parse_qsl(parts.query))},
            # Reuse connections across requests, but check them first so a restarted
            # PostgreSQL does not hand out dead ones.
            "CONN_MAX_AGE": conn_max_age,
            "CONN_HEALTH_CHECKS": True,
        }

    raise ImproperlyConfigured(
        f"DATABASE_URL scheme must be sqlite or postgres(ql), got {parts.scheme!r}"
    )


def cache_from_url(url: str | None) -> dict[str, Any]:
    """Turn CACHE_URL into Django's CACHES["default"].

    The cache holds the rate limits' and the login lockout's counters, so every web process must
    share it: `redis://host:port/db` (also `rediss://`, `unix://`) uses Django's RedisCache
    (bachsurvey.redis_cache: one client object per pool).
    Unset means local memory, per process: right for one process (runserver, the tests), too
    lenient behind several gunicorn workers, each of which then counts on its own.
    """
    if url is None or url == "locmem://":
        return {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    scheme = urlsplit(url).scheme
    if scheme in ("redis", "rediss", "unix"):
        return {
            "BACKEND": "bachsurvey.redis_cache.ReusingRedisCache",
            "LOCATION": url,
            # A Redis that stops answering must cost a request a second, not hang it (the
            # throttles then let the request through: see bachsurvey.quiz.throttles).
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    raise ImproperlyConfigured(
        f"CACHE_URL must be redis://, rediss://, unix:// or locmem://, got {url!r}"
    )
