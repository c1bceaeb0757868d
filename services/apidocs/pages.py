"""`/docs` (Swagger UI) and `/redoc` (ReDoc) for the staff API and the partner ingest API, served
from assets vendored in `static/` (npm `swagger-ui-dist` and `redoc`'s standalone bundle, with their
licences beside them), so the reference works on a machine with no internet and under a
Content-Security-Policy that allows no other origin.

FastAPI's own pages load the assets from a CDN; these use FastAPI's page builders with local URLs.
Swagger UI's page starts it with one inline script: the page's CSP allows that script alone, by its
SHA-256, never inline scripts in general. Both tools style their output at run time, so the pages
allow inline styles; ReDoc's search runs in a worker made from a blob.
"""

from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path

from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

STATIC = Path(__file__).with_name("static")
ASSETS = "/api-docs-assets"
INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)


def install(app: FastAPI) -> None:
    """Serve `/docs` and `/redoc` for `app` (built with `docs_url=None, redoc_url=None`)."""
    if app.openapi_url is None:
        raise ValueError("the API reference pages need the app's OpenAPI document")
    title = f"{app.title} – API reference"
    app.mount(ASSETS, StaticFiles(directory=STATIC), name="api-docs-assets")
    swagger = _with_csp(
        get_swagger_ui_html(
            openapi_url=app.openapi_url, title=title, swagger_js_url=f"{ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS}/swagger-ui.css", swagger_favicon_url=f"{ASSETS}/favicon-32x32.png",
            swagger_ui_parameters={"validatorUrl": None},  # the default validator is a remote service
        )
    )  # fmt: skip
    redoc = _with_csp(
        get_redoc_html(
            openapi_url=app.openapi_url, title=title, redoc_js_url=f"{ASSETS}/redoc.standalone.js",
            redoc_favicon_url=f"{ASSETS}/favicon-32x32.png", with_google_fonts=False,
        )
    )  # fmt: skip

    @app.get("/docs", include_in_schema=False)
    def swagger_ui() -> HTMLResponse:
        return HTMLResponse(swagger[0], headers=swagger[1])

    @app.get("/redoc", include_in_schema=False)
    def redoc_ui() -> HTMLResponse:
        return HTMLResponse(redoc[0], headers=redoc[1])


def _with_csp(page: HTMLResponse) -> tuple[str, dict[str, str]]:
    """The page and its headers: a CSP allowing this origin, and the page's own inline scripts by hash."""
    body = bytes(page.body).decode()
    hashes = " ".join(f"'sha256-{_digest(script)}'" for script in INLINE_SCRIPT.findall(body))
    policy = (
        f"default-src 'self'; script-src 'self' {hashes}; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; worker-src 'self' blob:; object-src 'none'; frame-ancestors 'none'; "
        "base-uri 'self'; form-action 'self'"
    )
    return body, {"Content-Security-Policy": policy}


def _digest(script: str) -> str:
    return base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
