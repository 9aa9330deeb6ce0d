"""The customer API's documentation, served by the local stack: ``/docs`` and ``/openapi.json``.

``/openapi.json`` is docs/openapi.json, the document generated from the API function's routes
(``make openapi``). ``/docs`` is Swagger UI on it, from Swagger UI's own distribution (the npm
package ``swagger-ui-dist``, which ``make run`` installs into .cache/swagger-ui): every file the
page loads comes from the local stack, none from a CDN, and the online validator is off. Its
"Try it out" sends requests to the local stack, whose customer API is open (no SigV4).
"""

from __future__ import annotations

from pathlib import Path

from dlrhub_local.page import Page

ROOT = Path(__file__).resolve().parents[2]
DOCUMENT = ROOT / "docs" / "openapi.json"
SWAGGER_UI = ROOT / ".cache" / "swagger-ui" / "node_modules" / "swagger-ui-dist"
DOCS, OPENAPI = "/docs", "/openapi.json"
#: The files of the distribution the page uses, by content type.
ASSETS = {
    "swagger-ui.css": "text/css; charset=utf-8",
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
    "favicon-32x32.png": "image/png",
}

PAGE = f"""<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>DLR Hub customer API - local stack</title>
  <link rel="stylesheet" href="{DOCS}/swagger-ui.css">
  <link rel="icon" type="image/png" href="{DOCS}/favicon-32x32.png">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="{DOCS}/swagger-ui-bundle.js"></script>
  <script>
    window.ui = SwaggerUIBundle({{url: "{OPENAPI}", dom_id: "#swagger-ui", validatorUrl: null, deepLinking: true}});
  </script>
</body>
</html>
"""

MISSING = f"""<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>DLR Hub customer API - local stack</title></head>
<body>
  <p>Swagger UI is not installed: <code>make run</code> installs it with npm (the package swagger-ui-dist)
  into .cache/swagger-ui. The OpenAPI document itself: <a href="{OPENAPI}">{OPENAPI}</a>.</p>
</body>
</html>
"""


def docs_pages(swagger_ui: Path = SWAGGER_UI, document: Path = DOCUMENT) -> tuple[dict[str, Page], bool]:
    """The pages (path -> Page), and whether Swagger UI is installed."""
    html = "text/html; charset=utf-8"
    pages = {OPENAPI: Page("application/json", document.read_bytes)}
    if not all((swagger_ui / name).is_file() for name in ASSETS):
        return pages | {DOCS: Page(html, MISSING.encode)}, False
    assets = {
        f"{DOCS}/{name}": Page(content_type, (swagger_ui / name).read_bytes) for name, content_type in ASSETS.items()
    }
    return pages | {DOCS: Page(html, PAGE.encode)} | assets, True
