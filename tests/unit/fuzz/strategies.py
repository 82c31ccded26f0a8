"""Strategies, keys and helpers shared by the fuzzers of every parser of outside data
(tests/unit/fuzz/test_*.py). Signed formats are fuzzed three ways: arbitrary input; a valid
signed note with bytes changed, added or removed (which must be refused or, when the change is
outside the signed text, read as the original); and arbitrary content correctly signed, so that
the parsing behind the signature is tried too, as if a key had been stolen or a signer had a
bug."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from triage.ledger import note
from triage.ledger.entry import Entry, Ref
from triage.ledger.export import export_lines
from triage.ledger.log import Log
from triage.ledger.memory import MemoryLogStorage
from triage.ledger.receipt import build_receipt

ORIGIN = "triage.example/ledger"
FACILITY_SIGNER, FACILITY_VERIFIER = note.generate_key(ORIGIN)
TOOL_SIGNER, TOOL_VERIFIER = note.generate_key("tool-BENCH-1")
OTHER_SIGNER, OTHER_VERIFIER = note.generate_key(ORIGIN)  # same name, another key
AT = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
NONCE = "0123456789abcdef0123456789abcdef"
DEVICE = "BC-33-AC-FF-FE-FA-55-3D"

FUZZ = settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])


# -- strategies ------------------------------------------------------------------------------

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False)
    | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner),
    max_leaves=12,
)
nasty_text = st.one_of(
    st.text(max_size=200),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=60),
    st.sampled_from(
        [
            "",
            "\x00",
            "\n",
            "\ufeff",
            "—",
            "\u2028",
            "٠١٢٣",
            "𝟘𝟙",
            "9" * 400,
            "{" * 5000,
            "[" * 5000,
            "1e999999",
            "NaN",
            "../../etc/passwd",
        ]
    ),
)


def as_bytes(text: str) -> bytes:
    """``text`` as UTF-8; a lone surrogate (``st.characters()`` may draw one) becomes the
    invalid bytes it would be on disk, input the parser must refuse, not a strategy error."""
    return text.encode("utf-8", errors="surrogatepass")


@st.composite
def mutated(draw: st.DrawFn, original: str) -> str:
    """``original`` with a few characters replaced, inserted or deleted, or cut short."""
    text = original
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        kind = draw(st.sampled_from(["replace", "insert", "delete", "truncate", "duplicate"]))
        at = draw(st.integers(min_value=0, max_value=max(len(text) - 1, 0)))
        char = draw(
            st.sampled_from(["\n", " ", "—", "=", "+", "A", "0", "\x00", "\r", "é", '"'])
            | st.characters()
        )
        if kind == "replace" and text:
            text = text[:at] + char + text[at + 1 :]
        elif kind == "insert":
            text = text[:at] + char + text[at:]
        elif kind == "delete" and text:
            text = text[:at] + text[at + 1 :]
        elif kind == "truncate":
            text = text[:at]
        else:
            text = text[:at] + text[at:] + text[at:]
    return text


@st.composite
def objects_like(draw: st.DrawFn, template: dict[str, Any]) -> Any:
    """``template`` with some fields replaced by any JSON, dropped, or added; or any JSON."""
    if draw(st.integers(0, 9)) == 0:
        return draw(json_values)
    obj = dict(template)
    chosen = draw(st.lists(st.sampled_from(sorted(obj)), max_size=3, unique=True)) if obj else []
    for key in chosen:
        if draw(st.booleans()):
            del obj[key]
        else:
            obj[key] = draw(json_values)
    obj.update(draw(st.dictionaries(st.text(max_size=8), json_values, max_size=2)))
    return obj


def _json_line(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False, allow_nan=True) + "\n"


def signed_json(obj: Any, signer: str) -> str:
    text = _json_line(obj)
    try:
        return note.sign(text, signer)
    except ValueError:
        return ""  # text a note cannot carry (a control character): nothing to sign


# -- signed samples: a receipt and a ledger export to change -----------------------------


def device_entries(count: int, other_device_on_odd: bool = False) -> list[bytes]:
    """A small log's entries about DEVICE (and, on odd indexes if asked, another device)."""
    return [
        Entry(
            type="device.received",
            at=AT + timedelta(minutes=n),
            actor=Ref("operator", "ben"),
            facility="triage.example",
            subject=Ref(
                "device", "00-11-22-33-44-55-66-77" if other_device_on_odd and n % 2 else DEVICE
            ),
            data={"step": n},
        ).to_bytes()
        for n in range(count)
    ]


def _receipt() -> str:
    log = Log(MemoryLogStorage())
    device = Ref("device", DEVICE)
    log.append(device_entries(7, other_device_on_odd=True))
    checkpoint = log.issue_checkpoint(ORIGIN, FACILITY_SIGNER)
    return build_receipt(log, ORIGIN, device, [0, 2, 4, 6], checkpoint)


RECEIPT = _receipt()
RECEIPT_OBJ = json.loads(RECEIPT)


def _ledger_export() -> bytes:
    log = Log(MemoryLogStorage())
    entries = device_entries(5)
    log.append(entries)
    checkpoint = log.issue_checkpoint(ORIGIN, FACILITY_SIGNER)
    return b"".join(export_lines(ORIGIN, checkpoint.note, checkpoint.size, entries))


LEDGER_EXPORT = _ledger_export()
