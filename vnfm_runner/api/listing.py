"""List pages as JSON bytes, built once per change of the store.

Why: a burst of NFVO listings (200 GETs of the same 70 instances at once) cost
~6 ms of server CPU each — reading and decoding the rows, the package id map,
selecting attributes, redacting, encoding — all of it the same work, once per
request, on a server with one interpreter lock. A page now is built once and its
bytes served until the store changes: the key is the request (path, query, base
URL), the validator the store's change stamp (SQLite's ``data_version``, which
moves with every commit of any connection, other processes included: a CLI
command too). Concurrent misses of one page wait for the one build. Without a
stamp (PostgreSQL) nothing is cached.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import anyio.to_thread
from fastapi.responses import Response

from vnfm_runner.secrets import redact

MAX_PAGES = 512  # pages kept per store version (distinct queries)


def to_json(doc: Any) -> bytes:
    """The bytes JSONResponse would send (secret-named values redacted)."""
    return json.dumps(
        redact(doc), ensure_ascii=False, allow_nan=False, indent=None, separators=(",", ":")
    ).encode("utf-8")


@dataclass(frozen=True)
class Page:
    body: bytes
    headers: dict[str, str]

    def response(self) -> Response:
        return Response(self.body, media_type="application/json", headers=self.headers)


class PageCache:
    def __init__(self, stamp: Callable[[], int] | None) -> None:
        self.stamp = stamp
        self._version: int | None = None
        self._pages: dict[tuple[str, ...], Page] = {}
        self._building: dict[tuple[str, ...], asyncio.Future[Page]] = {}

    async def page(self, key: tuple[str, ...], build: Callable[[], Page]) -> Page:
        """The page of ``key``: kept, being built, or built now (in a worker thread)."""
        if self.stamp is None:
            return await anyio.to_thread.run_sync(build)
        version = self.stamp()
        if version != self._version:
            self._version, self._pages = version, {}
        kept = self._pages.get(key)
        if kept is not None:
            return kept
        pending = self._building.get(key)
        if pending is not None:
            return await asyncio.shield(pending)
        future: asyncio.Future[Page] = asyncio.get_running_loop().create_future()
        self._building[key] = future
        try:
            page = await anyio.to_thread.run_sync(build)
            future.set_result(page)
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # retrieved: waiters get it, nobody logs it as lost
            raise
        finally:
            del self._building[key]
        if self._version == version and len(self._pages) < MAX_PAGES:
            self._pages[key] = page
        return page
