"""Signed POSTs to Heleket (SPEC §1): body built once, retries, circuit breaker, envelope.

The body is `php_json_encode(params)` without None values (b"" when nothing is left),
signed over exactly those bytes and sent as is (`content=`, never `json=`). Transport errors,
timeouts and 5xx are retried with exponential backoff (tenacity); 4xx never are. Each HTTP
attempt passes through the circuit breaker. Messages and logs carry no key and no sign.
"""

import logging
from collections.abc import Mapping
from typing import Any

import httpx
from tenacity import (
    AsyncRetrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential,
    wait_random,
)

from shopbot.adapters.heleket.breaker import CircuitBreaker, CircuitOpen
from shopbot.adapters.heleket.schemas import HeleketBadResponse, decode_json, parse_errors
from shopbot.adapters.heleket.signature import php_json_encode, sign
from shopbot.domain.payments.gateway import (
    GatewayError,
    GatewayRejected,
    GatewayUnauthorized,
    GatewayUnavailable,
)

logger = logging.getLogger(__name__)


def build_body(params: Mapping[str, Any] | None) -> bytes:
    """The exact request body: PHP-style JSON of `params` without None values; b"" if empty."""
    present = {key: value for key, value in (params or {}).items() if value is not None}
    return php_json_encode(present).encode() if present else b""


def signed_headers(merchant_id: str, body: bytes, key: str) -> dict[str, str]:
    return {"merchant": merchant_id, "sign": sign(body, key), "Content-Type": "application/json"}


class _Transient(Exception):
    """One attempt failed in a retryable way; `reason` is safe to show."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class _NotSent(_Transient):
    """The connection could not be made: the request surely never reached Heleket."""


class SignedTransport:
    def __init__(
        self,
        *,
        http: httpx.AsyncClient,
        base_url: str,
        merchant_id: str,
        secrets: tuple[str, ...],
        timeout: float,
        attempts: int,
        backoff_base: float,
        backoff_max: float,
        breaker: CircuitBreaker,
    ) -> None:
        if attempts < 1:
            raise ValueError("retry_attempts must be >= 1")
        self.http, self.breaker = http, breaker
        self._base_url = base_url.rstrip("/")
        self._merchant_id = merchant_id
        self._secrets = tuple(secret for secret in secrets if secret)
        self._timeout = timeout
        self._attempts = attempts
        self._wait = wait_exponential(multiplier=backoff_base, max=backoff_max) + wait_random(
            0, backoff_base
        )

    async def post(
        self,
        path: str,
        params: Mapping[str, Any] | None,
        *,
        key: str,
        query: Mapping[str, str] | None = None,
        idempotent: bool = True,
    ) -> Any:
        """Send one signed request (with retries); return the envelope's `result`.

        `idempotent=False` retries only failed connections (the request never left)."""
        body = build_body(params)
        headers = signed_headers(self._merchant_id, body, key)
        secrets = (*self._secrets, headers["sign"])
        retrying = AsyncRetrying(
            stop=stop_after_attempt(self._attempts),
            wait=self._wait,
            retry=retry_if_exception_type(_Transient if idempotent else _NotSent),
            reraise=True,
        )
        attempts = 0
        try:
            async for attempt in retrying:
                with attempt:
                    attempts += 1
                    response = await self._attempt(path, body, headers, query, attempts)
        except _Transient as exc:
            raise GatewayUnavailable(
                f"Heleket {path}: {exc.reason} (after {attempts} attempt(s))"
            ) from exc
        except CircuitOpen as exc:
            raise GatewayUnavailable(f"Heleket {path}: {exc}") from None
        return _result(path, response, secrets)

    async def _attempt(
        self,
        path: str,
        body: bytes,
        headers: Mapping[str, str],
        query: Mapping[str, str] | None,
        number: int,
    ) -> httpx.Response:
        trial = self.breaker.before_call()
        try:
            response = await self.http.post(
                self._base_url + path,
                content=body,
                headers=headers,
                params=query,
                timeout=self._timeout,
            )
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            self._failed(path, number, type(exc).__name__)
            raise _NotSent(f"cannot connect ({type(exc).__name__})") from exc
        except httpx.TransportError as exc:
            self._failed(path, number, type(exc).__name__)
            raise _Transient(type(exc).__name__) from exc
        except BaseException:  # cancelled, or a local error: no verdict on Heleket's health
            self.breaker.on_abandon(trial)
            raise
        logger.debug("heleket POST %s attempt %d: HTTP %d", path, number, response.status_code)
        if response.status_code >= 500:
            self.breaker.on_failure()
            raise _Transient(f"HTTP {response.status_code}")
        self.breaker.on_success()
        return response

    def _failed(self, path: str, number: int, reason: str) -> None:
        self.breaker.on_failure()
        logger.debug("heleket POST %s attempt %d failed: %s", path, number, reason)


def _redact(text: str, secrets: tuple[str, ...]) -> str:
    for secret in secrets:
        text = text.replace(secret, "***")
    return text[:300]


def _result(path: str, response: httpx.Response, secrets: tuple[str, ...]) -> Any:
    """The `result` of a `{"state": 0, "result": ...}` envelope, or the matching error."""
    status = response.status_code
    try:
        envelope = decode_json(response.content)
    except HeleketBadResponse as exc:
        if 200 <= status < 300:
            raise HeleketBadResponse(f"Heleket {path}: {exc}") from None
        envelope = {}
    if not isinstance(envelope, Mapping):
        raise HeleketBadResponse(f"Heleket {path}: the response is not a JSON object")
    message = envelope.get("message")
    text = _redact(message, secrets) if isinstance(message, str) else ""
    errors = {
        _redact(name, secrets): [_redact(rule, secrets) for rule in rules]
        for name, rules in parse_errors(envelope.get("errors")).items()
    }
    if errors:
        details = "; ".join(f"{name}: {', '.join(rules)}" for name, rules in errors.items())
        text = _redact(f"{text or 'validation failed'} ({details})", secrets)
    if status == 401:
        raise GatewayUnauthorized(f"Heleket {path}: {text or 'HTTP 401 unauthorized'}")
    if status == 429:
        raise GatewayUnavailable(f"Heleket {path}: rate limited (HTTP 429)")
    if 400 <= status < 500:
        raise GatewayRejected(f"Heleket {path}: {text or f'HTTP {status}'}", errors)
    if not 200 <= status < 300:
        raise GatewayError(f"Heleket {path}: unexpected HTTP {status}")
    if "state" not in envelope:
        raise HeleketBadResponse(f"Heleket {path}: the response has no 'state'")
    if envelope["state"] != 0:
        raise GatewayRejected(f"Heleket {path}: {text or 'request refused'}", errors)
    return envelope.get("result")
