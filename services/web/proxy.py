"""What the staff app believes about the client behind a reverse proxy (HUBNET_TRUSTED_PROXIES).

Behind a TLS-terminating proxy the app sees plain HTTP from the proxy's address. The proxy's
`X-Forwarded-Proto` and `X-Forwarded-For` say what the client used and where it came from, but
any client can send those headers too, so they count only when the connection itself comes from a
configured proxy. Uvicorn's own header handling is switched off (`hubnet serve api` passes
`proxy_headers=False`) so that this is the one place the rule lives.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from ipaddress import IPv4Network, IPv6Network, ip_address

from starlette.requests import Request

Network = IPv4Network | IPv6Network


@dataclass(frozen=True)
class ProxyTrust:
    """The trusted proxies' networks (empty: trust no forwarded header)."""

    networks: Sequence[Network] = ()

    def trusted(self, host: str | None) -> bool:
        if not host or not self.networks:
            return False
        try:
            address = ip_address(host)
        except ValueError:
            return False
        return any(address in network for network in self.networks)

    def _peer(self, request: Request) -> str | None:
        return request.client.host if request.client else None

    def client_address(self, request: Request) -> str:
        """The client's address: the peer, or, from a trusted proxy, the nearest address in
        `X-Forwarded-For` that is not itself a trusted proxy (entries further left are the
        client's own claims)."""
        peer = self._peer(request) or "unknown"
        if not self.trusted(peer):
            return peer
        hops = [h.strip() for h in request.headers.get("x-forwarded-for", "").split(",") if h.strip()]
        for hop in reversed(hops):
            if not self.trusted(hop):
                return hop
        return hops[0] if hops else peer

    def https(self, request: Request) -> bool:
        """True when the client used https: served over TLS here, or a trusted proxy says so
        (the last `X-Forwarded-Proto` value, the one the nearest proxy wrote)."""
        if request.url.scheme == "https":
            return True
        if not self.trusted(self._peer(request)):
            return False
        forwarded = request.headers.get("x-forwarded-proto", "").split(",")[-1].strip().lower()
        return forwarded == "https"
