"""What every list route does: a SOL013 page (filter, marker, attribute selectors) with the
``Link`` header of the next one — of a store table in SQL (api/paging.py ``page``) or of
documents held in memory (``page_of``) — and, for the lists worth it, the page cache
(api/listing.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import Request
from fastapi.responses import Response

from vnfm_runner.api import paging
from vnfm_runner.api.context import ApiContext, base_url
from vnfm_runner.api.deps import Listing
from vnfm_runner.api.listing import Page, to_json

Docs = list[dict[str, Any]]


def link_of(request: Request, path: str) -> Callable[[str], str]:
    """The ``Link`` header value of the next page of ``path``, from its marker."""
    return lambda marker: paging.next_link(
        base_url(request), path, dict(request.query_params), marker
    )


def memory_page(
    ctx: ApiContext,
    request: Request,
    listing: Listing,
    docs: Docs,
    path: str,
    default_excluded: tuple[str, ...] = (),
) -> tuple[Docs, dict[str, str]]:
    """A page of documents held in memory, selected, and its headers."""
    chooser = listing.selector(default_excluded)
    chunk, headers = paging.page_of(
        docs, listing.terms(), listing.marker, ctx.settings.api_page_size, link_of(request, path)
    )
    return [chooser.apply(d) for d in chunk], headers


async def cached(
    ctx: ApiContext, request: Request, path: str, build: Callable[[], Page]
) -> Response:
    """The page of this request, from the page cache (built once per change of the store)."""
    page = await ctx.pages.page((path, str(request.url.query), base_url(request)), build)
    return page.response()


async def table_listing(
    ctx: ApiContext,
    request: Request,
    listing: Listing,
    table: paging.Table,
    path: str,
    default_excluded: tuple[str, ...] = (),
    headers: dict[str, str] | None = None,
    documents: Callable[[Docs], Docs] | None = None,
) -> Response:
    """One keyset page of a store table, through the page cache; ``headers`` go on every
    answer, ``documents`` rewrites the page's documents before selection."""

    def build() -> Page:
        chooser = listing.selector(default_excluded)
        result = paging.page(
            ctx.service.store, table, listing.terms(), listing.marker, ctx.settings.api_page_size
        )
        answer = dict(headers or {})
        if result.next_marker:
            answer["Link"] = link_of(request, path)(result.next_marker)
        items = result.items if documents is None else documents(result.items)
        return Page(to_json([chooser.apply(d) for d in items]), answer)

    return await cached(ctx, request, path, build)
