"""The API's edge: what every request goes through before any route sees it.

In this order: authentication (before a byte of the body is read, so that an
anonymous client costs a header parse); the body size limit (``Content-Length``
refused up front, a chunked body counted while it is read); then one strict parse
of a JSON body: valid UTF-8 and valid Unicode (no lone surrogates, which JSON's
``\\ud800`` escapes decode to), finite numbers only, a bounded depth (checked before
parsing, so no recursion runs deep), bounded strings and objects. A refusal is a
ProblemDetails naming the JSON path; the route never runs, so nothing is stored.

Package uploads (``PUT .../package_content``) are streamed to disk by their route,
which counts them against their own, larger limit; here only their declared length
is checked.

Also the innermost catch of unexpected exceptions: the app's ``Exception`` handler
answers (a 500 ProblemDetails) and the exception stops here, instead of
Starlette's ServerErrorMiddleware re-raising it to uvicorn, which logs "Exception in
ASGI application" and drops the keep-alive connection.
"""

from __future__ import annotations

import email.message
import inspect
import json
import logging
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import anyio.to_thread
from starlette.datastructures import Headers
from starlette.requests import ClientDisconnect, Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from vnfm_runner.api.auth import Authenticator
from vnfm_runner.api.config import ApiSettings
from vnfm_runner.api.problems import ApiProblem, field_name, problem_response

log = logging.getLogger("vnfm.api")

# The caller's identity, put in the ASGI scope by the edge (routes need not check again).
USER_KEY = "vnfm.user"
UPLOAD = re.compile(r"/vnfpkgm/v1/vnf_packages/[^/]+/package_content")
BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
# A JSON string (escapes included) and the bytes that are not brackets: what is left of
# a body without its strings is the bracket structure whose depth is measured.
_JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_PATH_KEY_SHOWN = 64  # characters of a key shown in a JSON path
_INLINE_CHECK = 64 * 1024  # bytes of JSON checked on the event loop itself


@dataclass(frozen=True)
class JsonLimits:
    depth: int
    string: int
    keys: int

    @classmethod
    def of(cls, settings: ApiSettings) -> JsonLimits:
        return cls(
            depth=settings.api_max_json_depth,
            string=settings.api_max_json_string,
            keys=settings.api_max_json_keys,
        )


class JsonRejected(ValueError):
    """A JSON body the API does not take: where (a path like ``metadata.x[0]``) and why."""

    def __init__(self, where: str, why: str) -> None:
        super().__init__(f"{where}: {why}")
        self.where = where
        self.why = why


class _NonFinite:
    """What NaN, Infinity and overflowing numbers parse to: found by the walk, with a path."""


_NON_FINITE = _NonFinite()


def _parse_float(text: str) -> float | _NonFinite:
    value = float(text)
    return value if math.isfinite(value) else _NON_FINITE


def check_json(body: bytes, limits: JsonLimits) -> Any:
    """The parsed body, or JsonRejected naming the first problem found."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise JsonRejected("body", f"not UTF-8 (byte {exc.start})") from None
    if _depth_over(body, limits.depth):
        raise JsonRejected("body", f"nested deeper than {limits.depth} levels")
    try:
        value = json.loads(text, parse_constant=lambda _name: _NON_FINITE, parse_float=_parse_float)
    except json.JSONDecodeError as exc:
        raise JsonRejected("body", f"not valid JSON ({exc.msg} at {exc.pos})") from None
    except (ValueError, RecursionError):  # an integer of thousands of digits, say
        raise JsonRejected("body", "not valid JSON (a value out of range)") from None
    _walk([value], [], limits)
    return value


def _depth_over(body: bytes, limit: int) -> bool:
    """Whether the body's arrays and objects nest deeper than ``limit``, counted on its
    brackets outside strings (no parsing, no recursion: a million ``[`` cost a scan)."""
    brackets = _JSON_STRING.sub(b"", body).translate(None, _NOT_BRACKETS)
    depth = 0
    for byte in brackets:
        if byte in (91, 123):  # [ {
            depth += 1
            if depth > limit:
                return True
        else:
            depth -= 1
    return False


def _where(path: list[str | int]) -> str:
    """``[0, "metadata", "x"]`` -> ``metadata.x`` (the 0: the body in _walk's root list)."""
    return field_name(["body", *path[1:]])


def _shown(key: str) -> str:
    """A key as it may appear in a response: valid Unicode, short."""
    key = key.encode("utf-8", "backslashreplace").decode("utf-8")
    return key if len(key) <= _PATH_KEY_SHOWN else key[:_PATH_KEY_SHOWN] + "…"


def _bad_string(text: str, limit: int) -> str | None:
    if len(text) > limit:
        return f"a string longer than {limit} characters"
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            return "not valid Unicode (a lone surrogate)"
    return None


def _walk(node: Any, path: list[str | int], limits: JsonLimits) -> None:
    """Every string, name and number under ``node`` (a list or a dict). Recursive: the
    depth was checked before parsing. ``path`` is where ``node`` is, kept as a stack
    (nothing allocated per value: a body of 300 000 values takes well under 0.1 s)."""
    members: Iterable[tuple[str | int, Any]]
    if type(node) is dict:
        if len(node) > limits.keys:
            raise JsonRejected(_where(path), f"an object with more than {limits.keys} members")
        members = node.items()
    else:
        members = enumerate(node)
    for key, member in members:
        if type(key) is str and (len(key) > limits.string or not key.isascii()):
            why = _bad_string(key, limits.string)
            if why:
                raise JsonRejected(_where([*path, _shown(key)]), f"member name {why}")
        kind = type(member)
        if kind is str:
            if len(member) > limits.string or not member.isascii():
                why = _bad_string(member, limits.string)
                if why:
                    raise JsonRejected(_where([*path, key]), why)
        elif kind is dict or kind is list:
            if member:
                path.append(key)
                _walk(member, path, limits)
                path.pop()
        elif member is _NON_FINITE:
            raise JsonRejected(
                _where([*path, key]), "not a finite number (NaN, Infinity or too large)"
            )


def _is_json(headers: Headers) -> bool:
    """Whether FastAPI would parse this body as JSON (the same test it makes)."""
    ctype = headers.get("content-type")
    if not ctype:
        return True
    message = email.message.Message()
    message["content-type"] = ctype
    subtype = message.get_content_subtype()
    return message.get_content_maintype() == "application" and (
        subtype == "json" or subtype.endswith("+json")
    )


class EdgeMiddleware:
    """Plain ASGI; see the module's docstring."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        authenticator: Authenticator,
        settings: ApiSettings,
        public: Iterable[str],
    ) -> None:
        self.app = app
        self.auth = authenticator
        self.settings = settings
        self.public = frozenset(public)  # paths anyone may call (token, docs, metrics)
        self.limits = JsonLimits.of(settings)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracked(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self._handle(scope, receive, tracked)
        except ClientDisconnect:
            log.debug("client went away during %s %s", scope["method"], scope["path"])
        except Exception as exc:
            if started:  # too late for an answer: the connection has to go
                raise
            log.debug("unexpected exception on %s %s", scope["method"], scope["path"], exc_info=exc)
            await self._unexpected(scope, receive, send, exc)

    async def _unexpected(self, scope: Scope, receive: Receive, send: Send, exc: Exception) -> None:
        """Answer with the app's own ``Exception`` handler (problems.install: 500, 507)."""
        handler = getattr(scope.get("app"), "exception_handlers", {}).get(Exception)
        if handler is None:
            log.error(
                "internal error on %s %s: %s", scope["method"], scope["path"], type(exc).__name__
            )
            response = problem_response(500, f"internal error ({type(exc).__name__})")
        else:
            response = handler(Request(scope, receive), exc)
            if inspect.isawaitable(response):
                response = await response
        await response(scope, receive, send)

    async def _handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        method, path = str(scope["method"]), str(scope["path"])
        headers = Headers(scope=scope)
        declared = headers.get("content-length")
        chunked = "chunked" in headers.get("transfer-encoding", "").lower()
        has_body = chunked or (declared is not None and declared.strip() not in ("", "0"))
        # an answer given before the body is read: the connection closes, so that
        # the rest of the body is not read (nor waited for) just to be thrown away
        early = {"Connection": "close"} if has_body else {}

        if path not in self.public:
            try:
                scope[USER_KEY] = self.auth.check(Request(scope))
            except ApiProblem as problem:
                headers_out = {**problem.headers, **early}
                response = problem_response(problem.status, problem.detail, headers=headers_out)
                await response(scope, receive, send)
                return
        if not has_body:
            await self.app(scope, receive, send)
            return

        upload = method == "PUT" and UPLOAD.fullmatch(path) is not None
        limit = (
            self.settings.api_max_package_mb * 1024 * 1024 if upload else self.settings.api_max_body
        )
        if declared is not None and declared.strip().isdigit() and int(declared) > limit:
            await self._too_large(scope, receive, send, upload, early)
            return
        if upload:  # streamed to disk by the route, which counts it against the same limit
            await self.app(scope, receive, send)
            return
        body = await _read(receive, limit)
        if body is None:
            await self._too_large(scope, receive, send, upload, early)
            return
        if body and method in BODY_METHODS and path != "/oauth2/token" and _is_json(headers):
            try:
                if len(body) > _INLINE_CHECK:  # a big body is parsed off the event loop
                    await anyio.to_thread.run_sync(check_json, body, self.limits)
                else:
                    check_json(body, self.limits)
            except JsonRejected as exc:
                item = {"field": exc.where, "message": exc.why}
                response = problem_response(400, str(exc), invalidParams=[item])
                await response(scope, receive, send)
                return
        await self.app(scope, _replay(body, receive), send)

    async def _too_large(
        self, scope: Scope, receive: Receive, send: Send, upload: bool, early: dict[str, str]
    ) -> None:
        if upload:
            detail = f"the package is larger than {self.settings.api_max_package_mb} MB"
        else:
            detail = f"the request body is larger than {self.settings.api_max_body} bytes"
        await problem_response(413, detail, headers=early)(scope, receive, send)


async def _read(receive: Receive, limit: int) -> bytes | None:
    """The whole body, or None as soon as it is longer than ``limit``."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnect()
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    """``receive`` for the app: the body read here, then the server's own messages
    (a disconnect)."""
    given = False

    async def replayed() -> Message:
        nonlocal given
        if not given:
            given = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replayed
