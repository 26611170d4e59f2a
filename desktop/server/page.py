"""The page at the server's address (`/`): what a person who follows the FastGPT guide opens in a
browser, a teammate on the LAN, or someone running `xindesk serve` on a home server.

It is static files from `resources/web/` (HTML, CSS and plain JavaScript, no build step) that
call the public REST API like any other client: same origin, so the browser guard lets its
changes through, while a page of another site stays refused. The files are served without a
key (they hold nothing); the API behind them asks for one when the server has one, and the page
keeps it in the tab's session storage only.

The headers keep the page to itself: no script or style from elsewhere, no framing by another
site (a page that frames it could trick a click), no referrer.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.responses import FileResponse, RedirectResponse
from starlette.responses import Response
from starlette.staticfiles import StaticFiles

#: Where the page's files are served from.
PAGE_PREFIX = "/ui"

PAGE_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    # Small files that change with each version: always ask, answer 304 when unchanged.
    "Cache-Control": "no-cache",
}


class PageFiles(StaticFiles):
    """The page's files, with `PAGE_HEADERS` on every answer."""

    def file_response(
        self, full_path: str | os.PathLike[str], *args: Any, **kwargs: Any
    ) -> Response:
        response = super().file_response(full_path, *args, **kwargs)
        response.headers.update(PAGE_HEADERS)
        return response


def add_page(app: FastAPI, resources: Path) -> None:
    """Serve the page at `/`, its files (`resources/web`) under `PAGE_PREFIX`, and the app's
    icon as the tab's."""
    web_dir = resources / "web"
    index = web_dir / "index.html"
    icon = resources / "icons" / "xindesk.svg"
    app.mount(PAGE_PREFIX, PageFiles(directory=web_dir), name="page")

    @app.get("/", include_in_schema=False)
    async def page() -> FileResponse:
        return FileResponse(index, media_type="text/html", headers=PAGE_HEADERS)

    @app.get("/favicon.svg", include_in_schema=False)
    async def favicon() -> FileResponse:
        return FileResponse(icon, media_type="image/svg+xml", headers=PAGE_HEADERS)

    @app.get("/ui", include_in_schema=False)
    async def page_folder() -> RedirectResponse:
        return RedirectResponse("/")
