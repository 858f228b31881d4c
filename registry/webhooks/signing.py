"""Signatures over what a receiver gets: HMAC-SHA256 of `<unix timestamp>.<body>` with the
webhook's secret, sent as `X-Modelog-Signature: t=<timestamp>,v1=<hex>`. The timestamp lets a
receiver refuse replays of an old delivery. Pure."""

import hashlib
import hmac

HEADER = "X-Modelog-Signature"


def signature(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def verify(secret: str, header: str, body: bytes, now: float, tolerance: float = 300) -> bool:
    """What a receiver does: recompute, compare in constant time, refuse stale timestamps."""
    parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
    if not parts.get("t", "").isdigit() or "v1" not in parts:
        return False
    timestamp = int(parts["t"])
    if abs(now - timestamp) > tolerance:
        return False
    return hmac.compare_digest(signature(secret, timestamp, body), f"t={timestamp},v1={parts['v1']}")
