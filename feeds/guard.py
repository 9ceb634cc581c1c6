"""Pure: which addresses a fetch may connect to, and credentials kept out of URLs shown.

A feed URL comes from a config, an OPML file, a redirect or an HTML page's
``<link rel=alternate>``, so it may name the machine itself, its network or a cloud
metadata service (issue 20, SSRF). `fetch` asks `refusal` about every address a host
name resolves to, in its network backend, and connects only to an address that passed;
`fetch.allow_private` (parsed by `networks`) lets named networks through. The checks
are explicit tables rather than `ipaddress`'s ``is_global`` alone, whose answers
changed between Python patch releases (3.11.7 calls multicast, 6to4 of loopback and
site-local addresses global).

A source URL may carry ``user:password@``: `split_userinfo` takes it off for the request
and `redact` masks it wherever a URL is shown. A source's ``auth:`` names environment
variables instead, read by `credentials` when it is fetched.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Iterable, Mapping, Sequence
from urllib.parse import unquote, urlsplit, urlunsplit

from feeds.types import SourceAuth

__all__ = [
    "Address",
    "Network",
    "credentials",
    "network",
    "networks",
    "redact",
    "refusal",
    "split_userinfo",
    "strip_userinfo",
    "url_refusal",
]

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def _table(*rows: tuple[str, str]) -> tuple[tuple[Network, str], ...]:
    return tuple((ipaddress.ip_network(cidr), why) for cidr, why in rows)


# IANA special-purpose registries (RFC 6890 and updates): what no public feed uses.
_V4 = _table(
    ("0.0.0.0/8", "an unspecified"),
    ("10.0.0.0/8", "a private"),
    ("100.64.0.0/10", "a shared (carrier-grade NAT)"),
    ("127.0.0.0/8", "a loopback"),
    ("169.254.0.0/16", "a link-local"),
    ("172.16.0.0/12", "a private"),
    ("192.0.0.0/24", "an IETF protocol"),
    ("192.0.2.0/24", "a documentation"),
    ("192.88.99.0/24", "a 6to4 relay"),
    ("192.168.0.0/16", "a private"),
    ("198.18.0.0/15", "a benchmarking"),
    ("198.51.100.0/24", "a documentation"),
    ("203.0.113.0/24", "a documentation"),
    ("224.0.0.0/4", "a multicast"),
    ("240.0.0.0/4", "a reserved"),  # and 255.255.255.255, broadcast
)
_V6 = _table(
    ("::/128", "an unspecified"),
    ("::1/128", "a loopback"),
    ("::/96", "an IPv4-compatible (deprecated)"),
    ("64:ff9b:1::/48", "a local-use NAT64"),
    ("100::/64", "a discard-only"),
    ("2001::/23", "an IETF protocol"),  # Teredo, benchmarking, ORCHID
    ("2001:db8::/32", "a documentation"),
    ("3fff::/20", "a documentation"),
    ("fc00::/7", "a unique local (private)"),
    ("fe80::/10", "a link-local"),
    ("fec0::/10", "a site-local"),
    ("ff00::/8", "a multicast"),
)
_GLOBAL_UNICAST = ipaddress.ip_network("2000::/3")  # every public IPv6 address is in it
_MAPPED = ipaddress.ip_network("::ffff:0:0/96")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")  # RFC 6052: the IPv4 address is the low 32 bits
_6TO4 = ipaddress.ip_network("2002::/16")  # RFC 3056: the IPv4 address is bits 16 to 48
#: Names that only ever mean this machine or its network (RFC 6761, 6762, 8375; ICANN's
#: ".internal", where cloud metadata lives: metadata.google.internal).
_LOCAL_NAMES = ("localhost", "local", "internal", "home.arpa", "localdomain")
#: What the C library's inet_aton reads as an IPv4 address: 2130706433, 127.1, 0x7f.1.
_NUMERIC_HOST = re.compile(r"(?:0x[0-9a-f]*|[0-9]+)(?:\.(?:0x[0-9a-f]*|[0-9]+)){0,3}", re.I)


def network(text: str) -> Network:
    """A network in CIDR form (a bare address is a /32 or /128); ValueError if not one."""
    return ipaddress.ip_network(text.strip(), strict=True)


def networks(texts: Iterable[str]) -> tuple[Network, ...]:
    return tuple(network(t) for t in texts)


def refusal(address: str | Address, allowed: Sequence[Network] = ()) -> str | None:
    """Why a fetch must not connect to `address` ("a loopback address"), or None.

    An address inside a network of `allowed` is never refused. IPv6 forms that carry an
    IPv4 address (mapped, NAT64, 6to4) are judged, and allowed, by that address too.
    """
    ip = ipaddress.ip_address(address) if isinstance(address, str) else address
    if _inside(ip, allowed):
        return None
    if isinstance(ip, ipaddress.IPv4Address):
        why = _why_v4(ip)
        return f"{why} address" if why else None
    inner = _embedded_v4(ip)
    if inner is not None:
        if _inside(inner, allowed):
            return None
        why = _why_v4(inner)
        return f"{why} address ({inner}) in an IPv6 form" if why else None
    why = _why_v6(ip)
    return f"{why} address" if why else None


def url_refusal(url: str, allowed: Sequence[Network] = ()) -> str | None:
    """Why `url`'s host would be refused, judged from the URL alone (no DNS lookup).

    For the `opml import` warning: an IP literal in any spelling the C library accepts,
    or a name that only exists on local networks (`localhost`, ``*.internal``...).
    A name outside those is judged when it is fetched, by the addresses it resolves to.
    """
    try:
        host = (urlsplit(url.strip()).hostname or "").rstrip(".")
    except ValueError:
        return None
    ip = _literal(host)
    if ip is not None:
        why = refusal(ip, allowed)
        return f"{host} is {why}" if why else None
    if host == "localhost" or host.endswith(".localhost"):
        why = refusal("127.0.0.1", allowed)
        return f"{host} is a loopback name" if why else None
    # Always named, even with networks allowed: which one it resolves into is not known.
    if any(host.endswith("." + n) or host == n for n in _LOCAL_NAMES):
        return f"{host} is a local network name"
    return None


def _literal(host: str) -> Address | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    if _NUMERIC_HOST.fullmatch(host):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:  # a number too large, say
            return None
    return None


def _inside(ip: Address, allowed: Sequence[Network]) -> bool:
    return any(ip.version == net.version and ip in net for net in allowed)


def _why_v4(ip: ipaddress.IPv4Address) -> str | None:
    why = next((why for net, why in _V4 if ip in net), None)
    return why or (None if ip.is_global else "a non-public")


def _why_v6(ip: ipaddress.IPv6Address) -> str | None:
    why = next((why for net, why in _V6 if ip in net), None)
    if why is None and ip not in _GLOBAL_UNICAST:
        why = "a reserved"
    return why or (None if ip.is_global else "a non-public")


def _embedded_v4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if ip in _MAPPED or ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    if ip in _6TO4:
        return ipaddress.IPv4Address((int(ip) >> 80) & 0xFFFFFFFF)
    return None


# --------------------------------------------------------------------------- credentials


def split_userinfo(url: str) -> tuple[str, tuple[str, str] | None]:
    """(the URL without ``user:password@``, the (user, password) it had, or None).

    The rest of the URL is kept as written, character for character.
    """
    parts = _userinfo(url)
    if parts is None:
        return url, None
    bare, userinfo = parts
    user, _, password = userinfo.partition(":")
    return bare, (unquote(user), unquote(password))


def credentials(auth: SourceAuth | None, environ: Mapping[str, str]) -> tuple[str, str] | None:
    """(user, password) from the environment variables a source's `auth:` names."""
    if auth is None:
        return None
    return environ.get(auth.username_env, ""), environ.get(auth.password_env, "")


def strip_userinfo(url: str) -> str:
    return split_userinfo(url)[0]


def redact(url: str) -> str:
    """`url` as it may be shown: ``http://user:***@host/...``; unchanged without userinfo.

    A user name alone may be a token (``https://TOKEN@host/``), so it is masked too.
    """
    parts = _userinfo(url)
    if parts is None:
        return url
    bare, userinfo = parts
    user, colon, _ = userinfo.partition(":")
    start = bare.index("//") + 2
    return bare[:start] + (f"{user}:***@" if colon else "***@") + bare[start:]


def _userinfo(url: str) -> tuple[str, str] | None:
    """(`url` without its userinfo, the userinfo as written), or None when it has none."""
    try:
        netloc = urlsplit(url).netloc
    except ValueError:
        return None
    if "@" not in netloc:
        return None
    userinfo, _, hostport = netloc.rpartition("@")
    start = url.find("//" + netloc) + 2
    if start < 2:  # urlsplit dropped characters (tabs, newlines): rebuild it from parts
        return urlunsplit(urlsplit(url)._replace(netloc=hostport)), userinfo
    return url[:start] + hostport + url[start + len(netloc) :], userinfo
