"""The dashboard's pages, its static assets, and the offline Swagger UI / ReDoc."""

from __future__ import annotations

import mimetypes
from html import escape
from pathlib import Path
from string import Template

from fastapi import APIRouter, FastAPI, Request
from fastapi.openapi.docs import (
    get_redoc_html,
    get_swagger_ui_html,
    get_swagger_ui_oauth2_redirect_html,
)
from fastapi.responses import HTMLResponse, Response

from service.errors import NotFound
from service.http import file_response

PACKAGE_DIR = Path(__file__).resolve().parent
STATIC_DIR = PACKAGE_DIR / "static"
PAGE_TEMPLATE = Template((PACKAGE_DIR / "templates" / "page.html").read_text())
COLLECT_PAGE = Template((PACKAGE_DIR / "templates" / "collect.html").read_text())
STATIC_PREFIX = "/static"
VENDOR = f"{STATIC_PREFIX}/vendor"
# Our scripts revalidate on every load (a 304 from the ETag: an upgrade is seen at once); the
# vendored libraries change only with their version: a day.
VENDOR_CACHE_CONTROL, OWN_CACHE_CONTROL = "public, max-age=86400", "no-cache"
DOCS_URL, REDOC_URL, OAUTH2_REDIRECT_URL = "/docs", "/redoc", "/docs/oauth2-redirect"

router = APIRouter(include_in_schema=False)


def page(name: str, title: str, **data: str) -> HTMLResponse:
    """The shell of a page: its script reads `data-*` from <main> and fetches the rest."""
    attributes = "".join(f' data-{key.replace("_", "-")}="{escape(v)}"' for key, v in data.items())
    html = PAGE_TEMPLATE.substitute(
        title=escape(title), page=name, attributes=attributes, static=STATIC_PREFIX
    )
    return HTMLResponse(html, headers={"Cache-Control": "no-cache"})


# path → (page script, title): the path's parameters reach the script as data-* attributes.
PAGES = {
    "/": ("data", "Data"),
    "/sessions/{session_id}": ("session", "Session {session_id}"),
    "/runs": ("runs", "Runs"),
    "/runs/{run_id}": ("run", "Run {run_id}"),
    "/compare": ("compare", "Compare runs"),
    "/sweeps/{sweep_id}": ("sweep", "Sweep {sweep_id}"),
    "/models": ("models", "Models"),
    "/tokens": ("tokens", "Tokens"),
}


def page_route(name: str, title: str):
    def show_page(request: Request) -> HTMLResponse:
        return page(name, title.format(**request.path_params), **request.path_params)

    return show_page


for page_path, (page_name, page_title) in PAGES.items():
    router.add_api_route(page_path, page_route(page_name, page_title), methods=["GET"])


@router.get("/collect")
def collect() -> HTMLResponse:
    """The phone recorder: a page of its own (no dashboard header), cached for offline use."""
    html = COLLECT_PAGE.substitute(static=STATIC_PREFIX)
    return HTMLResponse(html, headers={"Cache-Control": "no-cache"})


@router.get("/collect.sw.js")
def collect_service_worker(request: Request) -> Response:
    """/collect's service worker, served from the root so that it may control /collect."""
    return file_response(
        request,
        STATIC_DIR / "js" / "collect-sw.js",
        media_type="text/javascript",
        headers={"Cache-Control": OWN_CACHE_CONTROL},
    )


@router.get(STATIC_PREFIX + "/{file_path:path}")
def static_file(request: Request, file_path: str) -> Response:
    """A file of static/; nothing outside it (no `..`, no links out)."""
    path = (STATIC_DIR / file_path).resolve()
    if not path.is_relative_to(STATIC_DIR) or not path.is_file():
        raise NotFound(f"no dashboard asset {file_path!r}")
    media_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    if path.suffix == ".js":
        media_type = "text/javascript"  # module scripts need a JavaScript type
    vendored = path.is_relative_to(STATIC_DIR / "vendor")
    cache_control = VENDOR_CACHE_CONTROL if vendored else OWN_CACHE_CONTROL
    return file_response(
        request, path, media_type=media_type, headers={"Cache-Control": cache_control}
    )


@router.get(DOCS_URL)
def swagger_ui() -> HTMLResponse:
    return get_swagger_ui_html(
        openapi_url="/openapi.json",
        title="motionlab - Swagger UI",
        swagger_js_url=f"{VENDOR}/swagger-ui-dist/swagger-ui-bundle.js",
        swagger_css_url=f"{VENDOR}/swagger-ui-dist/swagger-ui.css",
        swagger_favicon_url=f"{VENDOR}/swagger-ui-dist/favicon-32x32.png",
        oauth2_redirect_url=OAUTH2_REDIRECT_URL,
        swagger_ui_parameters={"persistAuthorization": True},  # the token survives a reload
    )


@router.get(OAUTH2_REDIRECT_URL)
def swagger_ui_redirect() -> HTMLResponse:
    return get_swagger_ui_oauth2_redirect_html()


@router.get(REDOC_URL)
def redoc() -> HTMLResponse:
    return get_redoc_html(
        openapi_url="/openapi.json",
        title="motionlab - ReDoc",
        redoc_js_url=f"{VENDOR}/redoc/redoc.standalone.js",
        redoc_favicon_url=f"{VENDOR}/swagger-ui-dist/favicon-32x32.png",
        with_google_fonts=False,
    )


def install_dashboard(app: FastAPI) -> None:
    """The dashboard and the API docs, from the package (create the app with docs_url=None
    and redoc_url=None: these replace FastAPI's, which load their assets from a CDN)."""
    app.include_router(router)
