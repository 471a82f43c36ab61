"""``/playground``: one page and its script, shipped in the package (no CDN, no build step)."""

from __future__ import annotations

from importlib import resources
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route

_TYPES = {
    "playground.html": "text/html; charset=utf-8",
    "playground.js": "text/javascript; charset=utf-8",
    "playground.css": "text/css; charset=utf-8",
}


def routes() -> list[Route]:
    from starlette.routing import Route

    return [
        Route("/playground", page, methods=["GET"]),
        Route("/playground/{name}", asset, methods=["GET"]),
    ]


def _read(name: str) -> bytes:
    return resources.files("agentkit.serve").joinpath("static").joinpath(name).read_bytes()


async def page(request: Request) -> Response:
    from starlette.responses import Response

    return Response(_read("playground.html"), media_type=_TYPES["playground.html"])


async def asset(request: Request) -> Response:
    from starlette.exceptions import HTTPException
    from starlette.responses import Response

    name = request.path_params["name"]
    if name not in _TYPES:
        raise HTTPException(404)
    return Response(_read(name), media_type=_TYPES[name])
