"""One POST of a delivery and what came back: Modelog's headers and signature, or MLflow's to
MLflow-flavoured webhooks (only to hosts MLflow's URL rules allow, addresses.py). Which failures
MLflow would retry is said here too (`final`); when and how often is the dispatcher's."""

import time
import uuid
from dataclasses import dataclass

import aiohttp

from registry.domain.errors import InvalidArgument
from registry.domain.mlflow_webhooks import MLFLOW_DEFAULTS, UrlPolicy
from registry.webhooks import addresses, signing

MAX_ERROR = 500  # characters of an error kept in the delivery log
MAX_BODY = 64 * 1024  # bytes of a receiver's answer a test reports
MLFLOW_RETRIED = frozenset({429, 500, 502, 503, 504})  # what MLflow retries; and no answer at all
USER_AGENT = "Modelog-Webhooks/1"


@dataclass(frozen=True)
class Sent:
    status_code: int | None
    error: str | None
    duration_ms: float
    retry_after: float | None = None  # seconds, as the receiver asked
    body: str | None = None  # the receiver's answer, when asked for
    refused: bool = False  # not sent: the URL is not allowed (any more)

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def final(flavor: str, sent: Sent) -> bool:
    """Whether a failed attempt ends the delivery whatever attempts are left: for MLflow's
    webhooks, an answer MLflow's server would not retry, or a URL no longer allowed."""
    if flavor != "mlflow":
        return False
    return sent.refused or (sent.status_code is not None and sent.status_code not in MLFLOW_RETRIED)


def _retry_after(value: str | None) -> float | None:
    return float(value) if value is not None and value.strip().isdigit() else None


class Sender:
    def __init__(self, timeout: float, mlflow_urls: UrlPolicy = MLFLOW_DEFAULTS) -> None:
        self.timeout, self.mlflow_urls = timeout, mlflow_urls
        self._http: aiohttp.ClientSession | None = None
        self._mlflow_http: aiohttp.ClientSession | None = None  # public hosts only, unless allowed

    async def start(self) -> None:
        timeout = aiohttp.ClientTimeout(total=self.timeout)
        self._http = aiohttp.ClientSession(timeout=timeout, headers={"User-Agent": USER_AGENT})
        self._mlflow_http = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(**addresses.connector_options(self.mlflow_urls)),
            timeout=timeout, headers={"User-Agent": USER_AGENT})

    async def close(self) -> None:
        for session in (self._http, self._mlflow_http):
            if session is not None:
                await session.close()
        self._http = self._mlflow_http = None

    async def modelog(self, url: str, secret: str, delivery_id: uuid.UUID, event: str,
                      attempt: int, body: bytes) -> Sent:
        headers = {"Content-Type": "application/json", "X-Modelog-Delivery": str(delivery_id),
                   "X-Modelog-Event": event, "X-Modelog-Attempt": str(attempt),
                   signing.HEADER: signing.signature(secret, int(time.time()), body)}
        return await self._post(self._http, url, headers, body)

    async def mlflow(self, url: str, secret: str, delivery_id: uuid.UUID, body: bytes,
                     read: bool = False) -> Sent:
        """As MLflow's server sends: the URL checked again first (its rules may have changed
        since), then only to public addresses unless private ones are allowed."""
        try:
            await addresses.check_reachable(url, self.mlflow_urls)
        except InvalidArgument as exc:
            return Sent(None, exc.message[:MAX_ERROR], 0.0, refused=True)
        headers = signing.mlflow_headers(secret, str(delivery_id), int(time.time()), body)
        return await self._post(self._mlflow_http, url, headers, body, read)

    async def _post(self, http: aiohttp.ClientSession | None, url: str, headers: dict[str, str],
                    body: bytes, read: bool = False) -> Sent:
        assert http is not None, "the sender is not started"
        started = time.perf_counter()
        answer, retry_after = None, None
        try:
            async with http.post(url, data=body, headers=headers, allow_redirects=False) as r:
                code, error = r.status, None if r.status < 300 else f"HTTP {r.status} {r.reason}"
                retry_after = _retry_after(r.headers.get("Retry-After"))
                if read:
                    answer = (await r.content.read(MAX_BODY)).decode(errors="replace")
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            code, error = None, (repr(exc) or type(exc).__name__)[:MAX_ERROR]
        return Sent(code, error, (time.perf_counter() - started) * 1000, retry_after, answer)
