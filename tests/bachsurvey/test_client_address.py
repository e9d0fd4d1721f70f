"""One function decides the client's address (bachsurvey.client): the connection's own, unless
that is a trusted proxy (DJANGO_TRUSTED_PROXIES), then the right-most X-Forwarded-For entry that
is not a trusted proxy. DJANGO_BEHIND_PROXY=1 alone trusts the proxies on this machine."""

from __future__ import annotations

import ipaddress
from typing import Any

import pytest
from django.test import RequestFactory

from bachsurvey.client import client_address
from tests.bachsurvey.conftest import settings_in_a_fresh_process

NGINX = "127.0.0.1"
BALANCER = "10.1.0.0/16"


def address(settings: Any, trusted: str, remote: str, forwarded: str | None = None) -> str | None:
    settings.TRUSTED_PROXIES = tuple(ipaddress.ip_network(net) for net in trusted.split(",") if net)
    headers = {} if forwarded is None else {"HTTP_X_FORWARDED_FOR": forwarded}
    return client_address(RequestFactory().get("/", REMOTE_ADDR=remote, **headers))


@pytest.mark.parametrize(
    "trusted, remote, forwarded, expected",
    [
        # Nobody trusted (the default): the header is the client's own word.
        ("", "192.0.2.1", None, "192.0.2.1"),
        ("", "192.0.2.1", "203.0.113.5", "192.0.2.1"),
        # A forged header from an address that is no trusted proxy changes nothing.
        (NGINX, "192.0.2.1", "203.0.113.5", "192.0.2.1"),
        # From the trusted proxy: the entry it appended.
        (NGINX, NGINX, "203.0.113.5", "203.0.113.5"),
        (NGINX, NGINX, "198.51.100.1, 203.0.113.5", "203.0.113.5"),
        (NGINX, NGINX, None, NGINX),
        (NGINX, NGINX, " , ", NGINX),
        # Two trusted hops (a balancer, then nginx): past both, the first untrusted entry.
        (f"{NGINX},{BALANCER}", NGINX, "6.6.6.6, 203.0.113.5, 10.1.2.3", "203.0.113.5"),
        # Only nginx trusted: the balancer's address is the client.
        (NGINX, NGINX, "203.0.113.5, 10.1.2.3", "10.1.2.3"),
        # Every hop trusted: the left-most is as far as anyone vouches.
        (f"{NGINX},{BALANCER}", NGINX, "10.1.2.3", "10.1.2.3"),
        # An entry that is no address stops the walk at the hop before it.
        (NGINX, NGINX, "203.0.113.5, junk", NGINX),
        (NGINX, NGINX, "203.0.113.5:4711", NGINX),
        # IPv6, and IPv4 clients as a dual-stack socket reports them.
        ("::1", "::1", "2001:db8::7", "2001:db8::7"),
        (NGINX, "::ffff:127.0.0.1", "203.0.113.5", "203.0.113.5"),
        ("", "::ffff:192.0.2.9", None, "192.0.2.9"),
    ],
)
def test_the_client_address(
    settings: Any, trusted: str, remote: str, forwarded: str | None, expected: str
) -> None:
    assert address(settings, trusted, remote, forwarded) == expected


def test_a_connection_without_an_address_has_none(settings: Any) -> None:
    assert address(settings, NGINX, "", "203.0.113.5") is None


def trusted_in_a_fresh_process(**env: str) -> str:
    return " ".join(settings_in_a_fresh_process(["TRUSTED_PROXIES"], **env))


def test_trusted_proxies_come_from_the_environment() -> None:
    assert trusted_in_a_fresh_process() == "()"  # nobody
    # The old flag alone: the nginx of deploy/, on this machine.
    local = (ipaddress.ip_network("127.0.0.1"), ipaddress.ip_network("::1"))
    assert trusted_in_a_fresh_process(DJANGO_BEHIND_PROXY="1") == repr(local)
    named = (ipaddress.ip_network("10.0.0.0/8"), ipaddress.ip_network("192.0.2.7"))
    env = {"DJANGO_BEHIND_PROXY": "1", "DJANGO_TRUSTED_PROXIES": "10.0.0.0/8, 192.0.2.7"}
    assert trusted_in_a_fresh_process(**env) == repr(named)


@pytest.mark.parametrize("value", ["10.0.0.1/8", "nginx", "10.0.0.0/33"])
def test_a_bad_trusted_proxy_stops_start_up_naming_the_variable(value: str) -> None:
    with pytest.raises(AssertionError, match="DJANGO_TRUSTED_PROXIES must list IP addresses"):
        settings_in_a_fresh_process(["TRUSTED_PROXIES"], DJANGO_TRUSTED_PROXIES=value)
