"""Files given to download, by the API and the pages alike: what they are, and the name a
browser saves them under."""

from __future__ import annotations

from fastapi.responses import Response

from triage.services.ports import Document


def attachment(content: bytes | str, media_type: str, filename: str) -> Response:
    """``content`` to save as ``filename`` rather than to show."""
    return Response(
        content,
        media_type=media_type,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def pdf(document: Document) -> Response:
    """A rendered document (a certificate, a label, a report) to save under its own name."""
    return attachment(document.content, "application/pdf", document.filename)
