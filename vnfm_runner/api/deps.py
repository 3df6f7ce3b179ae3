"""What routes receive through ``Depends``: the context the app factory put on
``app.state``, the services in it, the caller's identity and the listing parameters."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Query, Request
from fastapi.security import (
    HTTPAuthorizationCredentials,
    HTTPBasic,
    HTTPBasicCredentials,
    HTTPBearer,
)

from vnfm_runner.api import edge, filters
from vnfm_runner.api.context import ApiContext
from vnfm_runner.lcm import Vnfm
from vnfm_runner.notify.subscriptions import SubscriptionRegistry
from vnfm_runner.pkgm import PackageService

# Declared for /openapi.json (its security schemes); the edge has checked already.
_basic = HTTPBasic(auto_error=False, realm="vnfm")
_bearer = HTTPBearer(auto_error=False)


async def context(request: Request) -> ApiContext:
    ctx: ApiContext = request.app.state.ctx
    return ctx


Ctx = Annotated[ApiContext, Depends(context)]


async def lcm_service(ctx: Ctx) -> Vnfm:
    return ctx.service


async def package_service(ctx: Ctx) -> PackageService:
    return ctx.packages


async def subscription_registry(ctx: Ctx) -> SubscriptionRegistry:
    return ctx.registry


Lcm = Annotated[Vnfm, Depends(lcm_service)]
Packages = Annotated[PackageService, Depends(package_service)]
Registry = Annotated[SubscriptionRegistry, Depends(subscription_registry)]


# async: the check is a few comparisons (the edge did it; this reads its answer), so it
# runs on the event loop instead of costing every request a hop to the thread pool.
async def require_auth(
    request: Request,
    _basic_creds: Annotated[HTTPBasicCredentials | None, Depends(_basic)],
    _token: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> str:
    user = request.scope.get(edge.USER_KEY)  # checked at the edge already
    if isinstance(user, str):
        return user
    ctx: ApiContext = request.app.state.ctx
    return ctx.auth.check(request)


AUTH = [Depends(require_auth)]


# Dependencies are async where they only read: a sync one costs a hop to the thread pool.
@dataclass(frozen=True)
class Listing:
    """SOL013 listing parameters of every list route: a filter (5.2), the page marker
    (5.4) and the attribute selectors (5.3)."""

    filter: str | None = None
    marker: str | None = None
    all_fields: str | None = None
    fields: str | None = None
    exclude_fields: str | None = None
    exclude_default: str | None = None

    def terms(self) -> list[filters.Term]:
        return filters.parse(self.filter)

    def selector(self, default_excluded: tuple[str, ...]) -> filters.Selector:
        return filters.selector(
            all_fields=self.all_fields,
            fields=self.fields,
            exclude_fields=self.exclude_fields,
            exclude_default=self.exclude_default,
            default_excluded=default_excluded,
        )


async def listing(
    filter: Annotated[str | None, Query(description="SOL013 5.2 attribute filter")] = None,
    nextpage_opaque_marker: Annotated[str | None, Query(description="SOL013 5.4 paging")] = None,
    all_fields: Annotated[str | None, Query(description="SOL013 5.3 selectors")] = None,
    fields: Annotated[str | None, Query()] = None,
    exclude_fields: Annotated[str | None, Query()] = None,
    exclude_default: Annotated[str | None, Query()] = None,
) -> Listing:
    return Listing(
        filter, nextpage_opaque_marker, all_fields, fields, exclude_fields, exclude_default
    )


ListingParams = Annotated[Listing, Depends(listing)]
