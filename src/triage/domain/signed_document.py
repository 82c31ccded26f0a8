"""Documents signed for parties outside the facility, and statements they sign back.

A dispatch note or a consignment outcome report is signed with the facility's key; an asset
owner's acknowledgement of a dispatch is signed with the asset owner's key. Each is one JSON
file that anyone holding the signer's verifier key checks offline:

    {"format": "device-triage-signed-document/v1",
     "kind": "dispatch-note",
     "document": {...},
     "note": "<a C2SP signed note>"}

The note's text names the format, the kind and the SHA-256 of the document's canonical JSON
(RFC 8785 style, as the ledger's entries are hashed), so the signature covers every byte of the
document without the note carrying it:

    device-triage signed document v1
    kind dispatch-note
    sha256 <64 hex digits>

The same format serves both directions; only the key differs.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from triage.ledger import canonical, note
from triage.ledger.errors import VerificationError

FORMAT = "device-triage-signed-document/v1"
_HEADER = "device-triage signed document v1"
_KIND = re.compile(r"^[a-z][a-z0-9-]{0,63}$")
MAX_BYTES = 16 * 1024 * 1024


@dataclass(frozen=True)
class SignedDocument:
    """A document, its kind and the signed note that vouches for it."""

    kind: str
    document: dict[str, Any]
    note: str

    @property
    def digest(self) -> str:
        """The SHA-256 (hex) of the document's canonical JSON: what the note signs."""
        return document_digest(self.document)

    def to_json(self) -> bytes:
        """The file handed to the other party (pretty, UTF-8, ending in a newline)."""
        body = {"format": FORMAT, "kind": self.kind, "document": self.document, "note": self.note}
        return (json.dumps(body, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def document_digest(document: Mapping[str, Any]) -> str:
    """The SHA-256 (hex) of a document's canonical JSON."""
    return hashlib.sha256(canonical.dumps(dict(document))).hexdigest()


def _text(kind: str, digest: str) -> str:
    return f"{_HEADER}\nkind {kind}\nsha256 {digest}\n"


def sign_document(kind: str, document: Mapping[str, Any], signer_key: str) -> SignedDocument:
    """Sign ``document`` as a ``kind`` with a C2SP signer key (note.generate_key's first half)."""
    if not _KIND.match(kind):
        raise ValueError(f"document kind {kind!r} must be lower-case letters, digits and '-'")
    body = dict(document)
    return SignedDocument(kind, body, note.sign(_text(kind, document_digest(body)), signer_key))


def parse_document(data: bytes | str) -> SignedDocument:
    """The signed document in a file, unchecked; VerificationError when it is not one."""
    raw = data.encode("utf-8") if isinstance(data, str) else bytes(data)
    if len(raw) > MAX_BYTES:
        raise VerificationError(f"a signed document is at most {MAX_BYTES} bytes")
    try:
        body = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise VerificationError(f"not a signed document: not JSON ({exc})") from None
    if not isinstance(body, dict) or body.get("format") != FORMAT:
        raise VerificationError(f"not a signed document: its format is not {FORMAT!r}")
    kind, document, signed = body.get("kind"), body.get("document"), body.get("note")
    if not isinstance(kind, str) or not _KIND.match(kind):
        raise VerificationError("not a signed document: 'kind' is missing or malformed")
    if not isinstance(document, dict):
        raise VerificationError("not a signed document: 'document' is not a JSON object")
    if not isinstance(signed, str):
        raise VerificationError("not a signed document: 'note' is not a signed note")
    return SignedDocument(kind, document, signed)


def verify_document(
    data: bytes | str | SignedDocument, verifier_keys: Sequence[str], kind: str | None = None
) -> SignedDocument:
    """Check a signed document against the signer's verifier key(s) and, when given, that it is
    a ``kind``; return it. VerificationError names what is wrong: not a signed document, another
    kind, a signature by no known key, or a document changed after it was signed."""
    found = data if isinstance(data, SignedDocument) else parse_document(data)
    if kind is not None and found.kind != kind:
        raise VerificationError(f"this is a {found.kind}, not a {kind}")
    text = note.verify(found.note, verifier_keys)
    lines = text.split("\n")
    if len(lines) != 4 or lines[0] != _HEADER or lines[3] != "":
        raise VerificationError("the signed note is not a device-triage signed document")
    if lines[1] != f"kind {found.kind}":
        raise VerificationError(f"the note was signed for another kind ({lines[1][5:]!r})")
    if lines[2] != f"sha256 {found.digest}":
        raise VerificationError("the document was changed after it was signed (digest differs)")
    return found
