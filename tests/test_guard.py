"""feeds.guard: which addresses are refused, and credentials kept out of URLs shown."""

from __future__ import annotations

import pytest

from feeds import guard
from feeds.types import SourceAuth

REFUSED = [
    # IPv4
    ("0.0.0.0", "unspecified"),
    ("0.1.2.3", "unspecified"),
    ("127.0.0.1", "loopback"),
    ("127.255.255.254", "loopback"),
    ("10.0.0.1", "private"),
    ("172.16.0.1", "private"),
    ("172.31.255.255", "private"),
    ("192.168.1.1", "private"),
    ("100.64.0.1", "carrier-grade NAT"),
    ("169.254.169.254", "link-local"),  # cloud metadata
    ("192.0.0.8", "IETF protocol"),
    ("192.0.2.1", "documentation"),
    ("198.18.0.1", "benchmarking"),
    ("198.51.100.1", "documentation"),
    ("203.0.113.1", "documentation"),
    ("192.88.99.1", "6to4 relay"),
    ("224.0.0.251", "multicast"),  # 3.11.7's is_global says True
    ("239.255.255.250", "multicast"),
    ("240.0.0.1", "reserved"),
    ("255.255.255.255", "reserved"),
    # IPv6
    ("::", "unspecified"),
    ("::1", "loopback"),
    ("::127.0.0.1", "IPv4-compatible"),
    ("::ffff:127.0.0.1", "loopback address (127.0.0.1) in an IPv6 form"),
    ("::ffff:169.254.169.254", "link-local address (169.254.169.254)"),
    ("::ffff:10.0.0.1", "private"),
    ("64:ff9b::7f00:1", "loopback address (127.0.0.1)"),  # NAT64
    ("64:ff9b:1::1", "local-use NAT64"),
    ("2002:7f00:1::", "loopback address (127.0.0.1)"),  # 6to4; is_global says True
    ("2002:a9fe:a9fe::1", "link-local address (169.254.169.254)"),
    ("2001::1", "IETF protocol"),  # Teredo
    ("2001:db8::1", "documentation"),
    ("3fff::1", "documentation"),
    ("100::1", "discard-only"),
    ("fc00::1", "unique local"),
    ("fd12:3456::1", "unique local"),
    ("fe80::1", "link-local"),
    ("fe80::1%eth0", "link-local"),
    ("fec0::1", "site-local"),  # is_global says True
    ("ff02::1", "multicast"),  # is_global says True
    ("5f00::1", "reserved"),  # outside 2000::/3
]
PUBLIC = [
    "8.8.8.8", "1.1.1.1", "93.184.215.14", "185.199.108.153",
    "2606:4700::1111", "2a00:1450:4001::200e",
    "::ffff:8.8.8.8", "64:ff9b::808:808", "2002:808:808::1",
]  # fmt: skip


@pytest.mark.parametrize(("address", "why"), REFUSED, ids=[a for a, _ in REFUSED])
def test_refused(address: str, why: str) -> None:
    reason = guard.refusal(address)
    assert reason is not None and why in reason
    assert reason.startswith(("a ", "an "))


@pytest.mark.parametrize("address", PUBLIC)
def test_public_addresses_pass(address: str) -> None:
    assert guard.refusal(address) is None


@pytest.mark.parametrize(
    ("address", "allowed", "passes"),
    [
        ("127.0.0.1", ["127.0.0.0/8"], True),
        ("127.0.0.1", ["127.0.0.1"], True),  # a bare address is a /32
        ("127.0.0.2", ["127.0.0.1/32"], False),
        ("10.20.30.40", ["10.0.0.0/8"], True),
        ("10.20.30.40", ["10.1.0.0/16"], False),
        ("::ffff:127.0.0.1", ["127.0.0.0/8"], True),  # judged by its IPv4 address too
        ("::1", ["127.0.0.0/8"], False),
        ("::1", ["::1/128"], True),
        ("fd00::5", ["fd00::/8"], True),
        ("169.254.169.254", ["10.0.0.0/8", "fd00::/8"], False),
    ],
)
def test_allow_private(address: str, allowed: list[str], passes: bool) -> None:
    assert (guard.refusal(address, guard.networks(allowed)) is None) is passes


@pytest.mark.parametrize("text", ["127.0.0.1/8", "10.0.0.0/33", "intranet", "", "::1/129"])
def test_networks_must_be_cidr(text: str) -> None:
    with pytest.raises(ValueError):
        guard.network(text)


# --------------------------------------------------------------------------- URLs, no DNS


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("http://127.0.0.1/feed", "127.0.0.1 is a loopback address"),
        ("http://2130706433/feed", "2130706433 is a loopback address"),
        ("http://127.1/feed", "127.1 is a loopback address"),
        ("http://0x7f.1/feed", "0x7f.1 is a loopback address"),
        ("http://0177.0.0.1/", "loopback"),
        ("http://0/", "unspecified"),
        ("http://[::ffff:127.0.0.1]:8080/", "loopback address (127.0.0.1)"),
        ("http://[::1]/", "loopback"),
        ("http://169.254.169.254/latest/meta-data/", "link-local"),
        ("http://192.168.1.10/rss", "private"),
        ("http://localhost:8080/feed", "localhost is a loopback name"),
        ("http://LocalHost./feed", "localhost is a loopback name"),
        ("http://app.localhost/feed", "loopback name"),
        ("http://metadata.google.internal/", "metadata.google.internal is a local network name"),
        ("http://printer.local/", "local network name"),
        ("http://nas.home.arpa/feed", "local network name"),
    ],
)
def test_url_refusal(url: str, why: str) -> None:
    reason = guard.url_refusal(url)
    assert reason is not None and why in reason


@pytest.mark.parametrize(
    "url",
    [
        "https://example.com/feed",
        "https://aitnews.com/feed/",
        "http://1.2.3.4.5/",  # not an address: a name, judged when it resolves
        "http://cafe/",  # hex-looking name
        "http://8.8.8.8/",
        "http://[2606:4700::1111]/",
        "not a url",
        "http://[::1/",  # unbalanced bracket
    ],
)
def test_url_refusal_passes(url: str) -> None:
    assert guard.url_refusal(url) is None


def test_url_refusal_honours_allow_private() -> None:
    allowed = guard.networks(["127.0.0.0/8", "10.0.0.0/8"])
    assert guard.url_refusal("http://127.0.0.1:8080/", allowed) is None
    assert guard.url_refusal("http://localhost/", allowed) is None
    assert guard.url_refusal("http://intranet.internal/", allowed) is not None  # unknown
    assert guard.url_refusal("http://169.254.169.254/", allowed) is not None


# --------------------------------------------------------------------------- credentials


@pytest.mark.parametrize(
    ("url", "bare", "credentials", "shown"),
    [
        ("http://user:pass@host/feed.xml", "http://host/feed.xml", ("user", "pass"),
         "http://user:***@host/feed.xml"),
        ("https://u:p%40ss@h.example:8443/a?b=c#d", "https://h.example:8443/a?b=c#d",
         ("u", "p@ss"), "https://u:***@h.example:8443/a?b=c#d"),
        ("https://TOKEN@h/feed", "https://h/feed", ("TOKEN", ""), "https://***@h/feed"),
        ("https://user:@h/feed", "https://h/feed", ("user", ""), "https://user:***@h/feed"),
        ("https://a:b@c@h/", "https://h/", ("a", "b@c"), "https://a:***@h/"),
        ("http://host/feed?u=a@b", "http://host/feed?u=a@b", None, "http://host/feed?u=a@b"),
        ("http://host/@user", "http://host/@user", None, "http://host/@user"),
        ("HTTP://U:P@H/X", "HTTP://H/X", ("U", "P"), "HTTP://U:***@H/X"),
        ("http://[::1/", "http://[::1/", None, "http://[::1/"),
    ],
)  # fmt: skip
def test_userinfo(url: str, bare: str, credentials: tuple[str, str] | None, shown: str) -> None:
    assert guard.split_userinfo(url) == (bare, credentials)
    assert guard.strip_userinfo(url) == bare
    assert guard.redact(url) == shown
    assert "pass" not in guard.redact(url) and "p%40ss" not in guard.redact(url)


def test_credentials_come_from_the_named_variables() -> None:
    auth = SourceAuth(username_env="FEEDS_U", password_env="FEEDS_P")
    assert guard.credentials(auth, {"FEEDS_U": "reader", "FEEDS_P": "s3cret"}) == (
        "reader",
        "s3cret",
    )
    assert guard.credentials(None, {"FEEDS_U": "reader"}) is None


def test_public_api_is_sorted() -> None:
    assert guard.__all__ == sorted(guard.__all__)
    assert all(hasattr(guard, name) for name in guard.__all__)
