"""The address a request comes from, for rate limits and the login lockout (never stored).

Directly exposed, it is REMOTE_ADDR. Behind a proxy (settings.BEHIND_PROXY, from
DJANGO_BEHIND_PROXY) REMOTE_ADDR is the proxy's own, and the client's is in X-Forwarded-For. Its
*last* entry is taken, the one our proxy wrote: the entries before it are whatever the client
sent, so a client could pick a fresh "address" per request to dodge every limit if we believed
the first. A proxy that replaces the header (nginx `proxy_set_header X-Forwarded-For
$remote_addr`) writes a single entry, and first and last are the same. A last entry that is no
IP address (10,000 digits, a NUL) cannot be our proxy's: the request reached the application
some other way, so REMOTE_ADDR, not the header, names the client (and keys its counters).
"""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def client_address(request: HttpRequest) -> str:
    remote = request.META.get("REMOTE_ADDR") or "unknown"
    if not settings.BEHIND_PROXY:
        return remote
    hops = [hop.strip() for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    hops = [hop for hop in hops if hop]
    if not hops or len(hops[-1]) > 45:  # no IPv6 address is longer
        return remote
    try:
        return str(ipaddress.ip_address(hops[-1]))
    except ValueError:
        return remote
