"""Signatures over what a receiver gets. Pure.

Modelog's webhooks: HMAC-SHA256 of `<unix timestamp>.<body>` with the webhook's secret, sent as
`X-Modelog-Signature: t=<timestamp>,v1=<hex>`. The timestamp lets a receiver refuse replays of an
old delivery.

MLflow's (MLflow-flavoured webhooks, as mlflow/webhooks/delivery.py signs): HMAC-SHA256 of
`<delivery id>.<unix timestamp>.<body>`, sent as `X-MLflow-Signature: v1,<base64>` beside
`X-MLflow-Delivery-Id` and `X-MLflow-Timestamp`; unsigned when the webhook has no secret.
"""

import base64
import hashlib
import hmac

HEADER = "X-Modelog-Signature"
MLFLOW_SIGNATURE = "X-MLflow-Signature"
MLFLOW_DELIVERY_ID = "X-MLflow-Delivery-Id"
MLFLOW_TIMESTAMP = "X-MLflow-Timestamp"


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


def mlflow_headers(secret: str, delivery_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    headers = {"Content-Type": "application/json", MLFLOW_DELIVERY_ID: delivery_id,
               MLFLOW_TIMESTAMP: str(timestamp)}
    if secret:
        mac = hmac.new(secret.encode(), f"{delivery_id}.{timestamp}.".encode() + body,
                       hashlib.sha256).digest()
        headers[MLFLOW_SIGNATURE] = "v1," + base64.b64encode(mac).decode()
    return headers
