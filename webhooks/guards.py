"""Checks every webhook request passes before its body is verified or parsed, and the JSON errors they answer.

Each rejection is answered in well under a millisecond, logged once without secrets or body, and
counted in the store's `counters` table; nothing else about a rejected request is kept.
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any, NoReturn

from flask import Response, current_app, request
from werkzeug.exceptions import RequestEntityTooLarge

from webhooks.signatures import SignatureError

try:  # three times faster than json.loads; anything it refuses goes to the stdlib, whose verdict stands
    import orjson
except ImportError:  # pragma: no cover - orjson is a dependency; without it the stdlib does the same job
    orjson = None  # type: ignore[assignment]

log = logging.getLogger("webhooks")


class Rejected(Exception):
    """A request refused with a status and a message meant for the sender."""

    def __init__(self, status: int, reason: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.reason = reason  # a short stable word, used in the counter name
        self.message = message


class BadPayload(Rejected):
    def __init__(self, message: str) -> None:
        super().__init__(400, "malformed", message)


def json_response(status: int, body: dict[str, Any]) -> Response:
    return Response(json.dumps(body, separators=(",", ":")), status=status, mimetype="application/json")


def read_body(source: str, content_types: tuple[str, ...]) -> bytes:
    """The raw body, once its size and type are acceptable; else raise Rejected (413/415)."""
    limit: int = current_app.config["MAX_CONTENT_LENGTH"]
    length = request.content_length
    # Refuse by the declared length before reading a byte; Werkzeug's own limit covers chunked bodies.
    if length is not None and length > limit:
        raise Rejected(413, "too_large", f"the body is {length} bytes; at most {limit} are accepted")
    mimetype = request.mimetype
    if mimetype not in content_types:
        shown = mimetype or "none"
        raise Rejected(415, "content_type", f"Content-Type {shown!r} is not accepted here; send {content_types[0]}")
    try:
        body = request.get_data(cache=True)
    except RequestEntityTooLarge:
        raise Rejected(413, "too_large", f"the body is larger than {limit} bytes") from None
    if not body:
        raise BadPayload("the body is empty")
    return body


def reject(source: str, error: Rejected | SignatureError) -> Response:
    """Answer a refused request, log it and count it: the only traces a rejected request leaves."""
    if isinstance(error, SignatureError):
        error = Rejected(401, "signature", str(error))
    log.warning("webhook rejected: source=%s status=%s reason=%s path=%s remote=%s: %s", source, error.status,
                error.reason, request.path, request.remote_addr, error.message)
    current_app.extensions["nurture"].count({f"webhooks.{source}.rejected.{error.reason}": 1})
    return json_response(error.status, {"error": error.reason, "message": error.message})


def fail(message: str) -> NoReturn:
    raise BadPayload(message)


def _no_constants(name: str) -> NoReturn:
    # Python's json accepts NaN and Infinity, which are not JSON and which PostgreSQL's JSON type refuses.
    fail(f"the body contains {name}, which is not valid JSON")


_LONG_DIGITS = re.compile(rb"[0-9]{19}")


def load_json(body: bytes) -> Any:
    # orjson would turn an integer beyond 64 bits into a float; such bodies (any run of 19 digits) go to
    # the stdlib, as does anything orjson refuses, so what is accepted and how it reads is the stdlib's.
    if orjson is not None and not _LONG_DIGITS.search(body):
        try:
            return orjson.loads(body)
        except orjson.JSONDecodeError:
            pass
    try:
        return json.loads(body, parse_constant=_no_constants)
    except (ValueError, RecursionError) as exc:
        fail(f"the body is not valid JSON: {exc}")
