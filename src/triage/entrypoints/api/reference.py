"""The API reference page (/api/v1/docs): the published OpenAPI document as plain HTML.

Served from here with no scripts and nothing loaded from elsewhere (FastAPI's Swagger UI pulls
its code from a CDN, which a facility's network should not need to reach). It lists every
operation with what it needs, its parameters, its body and its answers; the document itself
is at /api/v1/openapi.json for any OpenAPI tool.
"""

from __future__ import annotations

from html import escape
from typing import Any

from fastapi.responses import HTMLResponse

METHODS = ("get", "put", "post", "delete", "patch")
# The page loads only the site's own stylesheet.
POLICY = "default-src 'none'; style-src 'self'; frame-ancestors 'none'"


def reference_page(spec: dict[str, Any], openapi_url: str) -> HTMLResponse:
    """The reference page for ``spec``."""
    by_tag: dict[str, list[str]] = {}
    for path, methods in spec.get("paths", {}).items():
        for method in METHODS:
            if method in methods:
                operation = methods[method]
                tag = (operation.get("tags") or ["other"])[0]
                by_tag.setdefault(tag, []).append(_operation(method, path, operation))
    sections = "".join(
        f'<section><h2 id="{escape(tag)}">{escape(tag)}</h2>{"".join(items)}</section>'
        for tag, items in sorted(by_tag.items())
    )
    info = spec.get("info", {})
    title = f"{info.get('title', 'API')} {info.get('version', '')}".strip()
    html = (
        '<!doctype html><html lang="en-GB"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)} · API reference</title>"
        '<link rel="stylesheet" href="/static/app.css"></head><body><main id="main">'
        f"<h1>{escape(title)}: API reference</h1>"
        f"<p>{escape(info.get('description', ''))} Send an API token as "
        "<code>Authorization: Bearer ...</code>. The OpenAPI document: "
        f'<a href="{escape(openapi_url)}">{escape(openapi_url)}</a>.</p>'
        f"{sections}</main></body></html>"
    )
    return HTMLResponse(html, headers={"Content-Security-Policy": POLICY})


def _operation(method: str, path: str, operation: dict[str, Any]) -> str:
    parameters = "".join(
        f"<li><code>{escape(p['name'])}</code> ({escape(p.get('in', ''))}"
        f"{', required' if p.get('required') else ''}) {escape(p.get('description', ''))}</li>"
        for p in operation.get("parameters", [])
    )
    body = operation.get("requestBody", {}).get("content", {})
    bodies = ", ".join(
        f"{escape(media)}{_schema_name(content.get('schema'))}" for media, content in body.items()
    )
    answers = ", ".join(
        f"{escape(status)} ({escape(', '.join(response.get('content', {})) or 'empty')})"
        for status, response in operation.get("responses", {}).items()
    )
    anchor = escape(operation.get("operationId", f"{method}-{path}"))
    return (
        f'<article class="card" id="{anchor}"><h3><code>{method.upper()} {escape(path)}</code>'
        f"</h3><p>{escape(operation.get('summary', ''))}: "
        f"{escape(operation.get('description', ''))}</p>"
        f"<p>Needs: <code>{escape(str(operation.get('x-access', '')))}</code></p>"
        + (f"<p>Parameters:</p><ul>{parameters}</ul>" if parameters else "")
        + (f"<p>Body: {bodies}</p>" if bodies else "")
        + f"<p>Answers: {answers}</p></article>"
    )


def _schema_name(schema: Any) -> str:
    if isinstance(schema, dict) and "$ref" in schema:
        return f" ({escape(str(schema['$ref']).rsplit('/', 1)[-1])})"
    return ""
