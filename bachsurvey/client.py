"""The address a request comes from: the one function that decides it, for the rate limits
(bachsurvey.quiz.throttles), the login lockout (django-axes' AXES_CLIENT_IP_CALLABLE) and its
log lines. It is never stored but in the lockout's own table, for as long as failures count.

It is the connection's own address (REMOTE_ADDR) unless that is a trusted proxy
(settings.TRUSTED_PROXIES, from DJANGO_TRUSTED_PROXIES; none by default). Only then is
X-Forwarded-For read, from the right: each proxy appends the address it saw, so the right-most
entry that is not itself a trusted proxy is the client as the last trusted hop saw it. Entries
further left are whatever the client wrote, and a client that reaches gunicorn directly wrote
the whole header: believing either would let it pick a fresh "address" per request and dodge
every limit. An entry that is no IP address (10,000 digits, a NUL, a port) was not written by a
proxy we trust, so the walk stops at the hop before it.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
_LONGEST = 45  # characters in the longest IPv6 address (with an IPv4 tail)


def _parse(text: str) -> IPAddress | None:
    text = text.strip()
    if not text or len(text) > _LONGEST:
        return None
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    # A dual-stack socket reports IPv4 clients as ::ffff:a.b.c.d; they are the IPv4 address.
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _trusted(address: IPAddress) -> bool:
    return any(address in network for network in settings.TRUSTED_PROXIES)


def client_address(request: HttpRequest) -> str | None:
    """The client's IP address, or None when the connection has none (a Unix socket)."""
    remote = _parse(request.META.get("REMOTE_ADDR", ""))
    if remote is None:
        return None
    client = remote
    if _trusted(remote):
        for hop in reversed(request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")):
            address = _parse(hop)
            if address is None:
                break  # not written by a trusted proxy: the hop before it is all we know
            client = address
            if not _trusted(address):
                break
    return str(client)
