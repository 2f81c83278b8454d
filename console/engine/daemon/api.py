"""The versioned HTTP/JSON API (/v1/...): the only way clients touch drives and the inventory.

This module assembles the route modules of routes/ into one Starlette app; none of them imports it.
"""

from __future__ import annotations

from collections.abc import Callable

from starlette.applications import Starlette
from starlette.middleware import Middleware

from console.engine.daemon.events import EventLog
from console.engine.daemon.request_limits import RequestLimits
from console.engine.daemon.routes.audit import audit_routes
from console.engine.daemon.routes.core import core_routes
from console.engine.daemon.routes.plan import plan_routes
from console.engine.daemon.routes.restore import restore_routes
from console.engine.daemon.routes.restore_catalog import restore_catalog_routes
from console.engine.daemon.routes.rotation import rotation_routes
from console.engine.daemon.service import TapeService


def build_app(service: TapeService, *, on_stop: Callable[[], None] | None = None,
              events: EventLog | None = None) -> Starlette:
    routes = core_routes(service, on_stop=on_stop, events=events)
    routes += restore_routes(service, service.restores)
    routes += restore_catalog_routes(service)
    routes += rotation_routes(service)
    routes += audit_routes(service)
    routes += plan_routes(service)
    return Starlette(routes=routes, middleware=[Middleware(RequestLimits)])
