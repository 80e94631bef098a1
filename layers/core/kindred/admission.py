"""The per-source connection budget at $connect: seekers' source addresses, keyed, per minute."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import time

from kindred.observability import logger, metrics
from kindred.requests import ConnectRequest
from kindred.services import Services

_STAFF_ROLES = ("volunteer", "supervisor", "trainee")


def source_of(address: str) -> str:
    """What counts as one source: an IPv4 address, or an IPv6 address's /64 (one subscriber's
    usual share, inside which a script could otherwise take a new address per connection)."""
    ip = ipaddress.ip_address(address)
    if ip.version == 6:
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


def source_key(salt: bytes, address: str) -> str:
    """The source address as the table may keep it: HMAC-SHA256 under the day's salt, which
    only the deployment's secret gives (docs/privacy.md), so the 2^32 IPv4 addresses cannot
    be tried against it without that secret. 128 bits: collisions are not a concern."""
    return hmac.new(salt, address.encode(), hashlib.sha256).hexdigest()[:32]


def admit(svc: Services, req: ConnectRequest) -> bool:
    """Whether this handshake fits its source's budget of new seeker connections this minute
    (`MaxConnectionsPerSourcePerMinute`; 0: no budget). One conditional write; a handshake
    over the budget is counted nowhere and writes nothing.

    Staff and practice seekers are not counted (the authorizer has verified their token). A
    resume counts like any connect: a resume token is checked only after the budget, so a
    script cannot use made-up tokens to go round it, and a seeker whose resume was refused
    keeps their token and their place for the grace period and can try again next minute.
    """
    limit = svc.settings.max_connections_per_source_per_minute
    if limit == 0 or req.role in _STAFF_ROLES or req.practice or not req.source_ip:
        return True
    now = svc.clock()
    day = time.strftime("%Y-%m-%d", time.gmtime(now))
    key = source_key(svc.salts.daily_salt(day), source_of(req.source_ip))
    if svc.admissions.count_connection(key, minute=int(now // 60), limit=limit):
        return True
    metrics.add_dimension(name="reason", value="source_budget")
    metrics.add_metric(name="ConnectRefused", unit="Count", value=1)
    logger.warning("connect refused", extra={"reason": "source_budget", "status": 429})
    return False
