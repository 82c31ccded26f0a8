"""Seal-bag and device-bag labels: one 100 x 50 mm page per label, text that fits, and QR codes
that a scanner reads back as exactly the serial or Device ID."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader
from reportlab.pdfbase.pdfmetrics import stringWidth

from triage.adapters.pdf.labels import (
    MAX_LABELS,
    DeviceLabel,
    SealLabel,
    device_label_filename,
    render_device_labels,
    render_seal_labels,
    seal_labels_filename,
)
from triage.errors import InvalidInput

FACILITY = "Demo Triage Facility"
BATCH = "6f1c2a8e-4d0b-4b7e-9a57-3f5e2c9d1a11"
JOB = "3d5b1a9c-07e4-4c51-8f0e-0d2b6c7a9e42"
JOB2 = "0b7e9a57-3f5e-4c51-8f0e-6f1c2a8e4d0b"
MM = 72 / 25.4  # points per millimetre
LONG_SUPPLIER = (
    "North Western Tamper Evident Security Seal Manufacturing and Distribution Company "
    "International Holdings plc (Greater Manchester Division)"
)

SEALS = [
    SealLabel("SL-000123", BATCH, "ISO 17712 H (high security)", "Acme Seals Ltd"),
    SealLabel("SL-000124", BATCH, "other: supplier grade A", "Brightseal & Sons <Ltd>"),
    SealLabel("SL-000125", BATCH, "ISO 17712 S (security)", LONG_SUPPLIER),
]
DEVICES = [
    DeviceLabel("00-11-22-33-44-55-66-77", "ESME", JOB, "SL-000123", FACILITY),
    DeviceLabel("BC-33-AC-FF-FE-FA-55-3D", "CHF", JOB2, None, FACILITY),
]


def _reader(pdf: bytes) -> PdfReader:
    assert pdf.startswith(b"%PDF-")
    return PdfReader(io.BytesIO(pdf))


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"{name} is not installed: `make` installs poppler-utils and zbar-tools")
    return path


def _scan(pdf: bytes, tmp_path: Path) -> list[list[str]]:
    """What a QR reader finds on each page printed at 300 dpi, one sorted list per page."""
    (tmp_path / "labels.pdf").write_bytes(pdf)
    subprocess.run(
        [_tool("pdftoppm"), "-r", "300", "-png", "labels.pdf", "page"],
        cwd=tmp_path,
        check=True,
        capture_output=True,
    )
    pages = sorted(tmp_path.glob("page-*.png"), key=lambda p: int(p.stem.rsplit("-", 1)[1]))
    assert len(pages) == len(_reader(pdf).pages)
    found = []
    for page in pages:
        result = subprocess.run(
            [_tool("zbarimg"), "--quiet", "--raw", "-Sdisable", "-Sqrcode.enable", str(page)],
            capture_output=True,
            text=True,
        )
        assert result.returncode == 0, f"no QR code read on {page.name}: {result.stderr}"
        found.append(sorted(result.stdout.splitlines()))
    return found


def _runs(page: Any) -> list[tuple[str, str, float, float, float]]:
    """Each text run drawn on a page: text, font, size, x and y."""
    runs: list[tuple[str, str, float, float, float]] = []

    def visit(text: str, cm: Any, tm: Any, font: Any, size: float) -> None:
        if text.strip():
            x, y = cm[4] + tm[4], cm[5] + tm[5]
            runs.append((text.strip(), str(font["/BaseFont"]).lstrip("/"), size, x, y))

    page.extract_text(visitor_text=visit)
    return runs


# -- pages -------------------------------------------------------------------------------------


def test_one_page_of_100_by_50_mm_per_seal_label() -> None:
    reader = _reader(render_seal_labels(SEALS, FACILITY))

    assert len(reader.pages) == len(SEALS)
    for page in reader.pages:
        assert float(page.mediabox.width) / MM == pytest.approx(100, abs=0.01)
        assert float(page.mediabox.height) / MM == pytest.approx(50, abs=0.01)


def test_one_page_of_100_by_50_mm_per_device_label() -> None:
    labels = [*DEVICES, DEVICES[0]]
    reader = _reader(render_device_labels(labels))

    assert len(reader.pages) == 3
    for page in reader.pages:
        assert float(page.mediabox.width) / MM == pytest.approx(100, abs=0.01)
        assert float(page.mediabox.height) / MM == pytest.approx(50, abs=0.01)


def test_a_single_label_is_a_single_page() -> None:
    assert len(_reader(render_seal_labels(SEALS[:1], FACILITY)).pages) == 1
    assert len(_reader(render_device_labels(DEVICES[1:])).pages) == 1


# -- text --------------------------------------------------------------------------------------


def test_seal_label_text_names_the_seal_its_class_supplier_batch_and_facility() -> None:
    reader = _reader(render_seal_labels(SEALS[:2], FACILITY))

    for label, page in zip(SEALS[:2], reader.pages, strict=True):
        text = page.extract_text()
        for expected in (label.serial, label.seal_class, label.supplier, label.batch_id, FACILITY):
            assert expected in text
    # Each page shows its own seal only.
    assert SEALS[1].serial not in reader.pages[0].extract_text()
    assert "Brightseal & Sons <Ltd>" in reader.pages[1].extract_text()


def test_the_serial_is_the_largest_text_on_a_seal_label() -> None:
    runs = _runs(_reader(render_seal_labels(SEALS[:1], FACILITY)).pages[0])

    largest = max(runs, key=lambda run: run[2])
    assert largest[0] == "SL-000123"
    assert all(size < largest[2] for text, _, size, _, _ in runs if text != "SL-000123")


def test_device_label_text_names_the_device_its_type_seal_job_and_facility() -> None:
    reader = _reader(render_device_labels(DEVICES))

    fitted, unsealed = (page.extract_text() for page in reader.pages)
    for expected in ("00-11-22-33-44-55-66-77", "ESME", "Seal SL-000123", f"Job {JOB}", FACILITY):
        assert expected in fitted
    assert "not fitted" not in fitted
    for expected in ("BC-33-AC-FF-FE-FA-55-3D", "CHF", "Seal: not fitted", f"Job {JOB2}"):
        assert expected in unsealed
    assert FACILITY in unsealed
    assert "SL-000123" not in unsealed


def test_the_device_id_is_the_largest_text_on_a_device_label() -> None:
    runs = _runs(_reader(render_device_labels(DEVICES[:1])).pages[0])

    largest = max(runs, key=lambda run: run[2])
    assert largest[0] == "00-11-22-33-44-55-66-77"


def test_long_text_is_cut_short_to_stay_on_the_label() -> None:
    long_facility = "The Very Long Named Regional Smart Metering Triage Facility " * 3
    labels = [
        render_seal_labels([SEALS[2]], long_facility),
        render_device_labels(
            [
                DeviceLabel("00-11-22-33-44-55-66-77", "ESME", JOB, "SL-000123", long_facility),
                DeviceLabel("00-11-22-33-44-55-66-77", "ESME", JOB, None, long_facility),
            ]
        ),
    ]
    pages = [page for pdf in labels for page in _reader(pdf).pages]

    seal_text = pages[0].extract_text()
    assert LONG_SUPPLIER not in seal_text
    assert "Supplier: North Western Tamper" in seal_text
    assert "..." in seal_text
    for page in pages:
        runs = _runs(page)
        assert runs
        for text, font, size, x, y in runs:
            assert x >= 48 * MM, f"{text!r} runs into the QR code"
            assert x + stringWidth(text, font, size) <= 98 * MM, f"{text!r} runs off the label"
            assert 0 < y < 48 * MM
            assert size >= 4.5


def test_text_the_fonts_cannot_print_is_replaced_not_dropped() -> None:
    label = SealLabel("SL-000200", BATCH, "ISO 17712 I (indicative)", "Zählerwerk\nŁódź 北京")

    text = _reader(render_seal_labels([label], "Façade\tFacility")).pages[0].extract_text()

    assert "Supplier: Zählerwerk ?ódz ??" in text
    assert "Façade Facility" in text
    assert "\u25a0" not in text  # the black box of a missing glyph


# -- QR codes ----------------------------------------------------------------------------------


def test_seal_label_qr_codes_read_as_exactly_the_serials(tmp_path: Path) -> None:
    pdf = render_seal_labels(SEALS, FACILITY)

    assert _scan(pdf, tmp_path) == [[label.serial] for label in SEALS]


def test_device_label_qr_codes_read_as_exactly_the_device_id_and_seal(tmp_path: Path) -> None:
    pdf = render_device_labels(DEVICES)

    fitted, unsealed = _scan(pdf, tmp_path)
    assert fitted == sorted(["00-11-22-33-44-55-66-77", "SL-000123"])
    assert unsealed == ["BC-33-AC-FF-FE-FA-55-3D"]


def test_a_long_serial_still_scans_on_a_device_label(tmp_path: Path) -> None:
    serial = "SEAL-" + "7" * 27  # the longest serial the seal register takes (32 characters)
    pdf = render_device_labels([DeviceLabel("00-11-22-33-44-55-66-77", "GSME", JOB, serial, "F")])

    assert _scan(pdf, tmp_path) == [sorted(["00-11-22-33-44-55-66-77", serial])]


def test_labels_stay_small() -> None:
    pdf = render_seal_labels(
        [SealLabel(f"SL-{n:06d}", BATCH, "ISO 17712 H", "Acme") for n in range(100)], FACILITY
    )

    assert len(pdf) < 100 * 3000
    assert b"/Subtype /Image" not in pdf  # the codes are vector squares


# -- refusals ----------------------------------------------------------------------------------


def test_no_labels_are_refused() -> None:
    with pytest.raises(InvalidInput, match="at least one"):
        render_seal_labels([], FACILITY)
    with pytest.raises(InvalidInput, match="at least one"):
        render_device_labels([])


def test_more_than_max_labels_are_refused() -> None:
    assert MAX_LABELS == 1000
    seals = [SealLabel(f"SL-{n:06d}", BATCH, "ISO 17712 H", "Acme") for n in range(MAX_LABELS + 1)]
    devices = [DEVICES[0]] * (MAX_LABELS + 1)

    with pytest.raises(InvalidInput, match=f"1001 seal labels given; at most {MAX_LABELS}"):
        render_seal_labels(seals, FACILITY)
    with pytest.raises(InvalidInput, match=f"1001 device labels given; at most {MAX_LABELS}"):
        render_device_labels(devices)


def test_exactly_max_labels_are_printed() -> None:
    seals = [SealLabel(f"SL-{n:06d}", BATCH, "ISO 17712 H", "Acme") for n in range(MAX_LABELS)]

    assert len(_reader(render_seal_labels(seals, FACILITY)).pages) == MAX_LABELS


@pytest.mark.parametrize("serial", ["", "   ", " SL-1 ", "SL-\n0001", "SL-\u00e91", "S" * 65])
def test_a_serial_a_scanner_could_not_type_back_is_refused(serial: str) -> None:
    with pytest.raises(InvalidInput, match="serial"):
        render_seal_labels([SEALS[0], SealLabel(serial, BATCH, "ISO 17712 H", "Acme")], FACILITY)
    with pytest.raises(InvalidInput, match="device label 1: seal_serial"):
        render_device_labels([DeviceLabel("00-11-22-33-44-55-66-77", "ESME", JOB, serial, "F")])
    with pytest.raises(InvalidInput, match="device label 1: device_id"):
        render_device_labels([DeviceLabel(serial, "ESME", JOB, None, "F")])


# -- file names --------------------------------------------------------------------------------

_SAFE = re.compile(r"^[A-Za-z0-9._-]+$")


def test_file_names() -> None:
    assert seal_labels_filename("SL-000123", 50) == "seal-labels-SL-000123-x50.pdf"
    assert device_label_filename("00-11-22-33-44-55-66-77") == (
        "device-label-00-11-22-33-44-55-66-77.pdf"
    )


@pytest.mark.parametrize(
    "text", ["../../etc/passwd", "a b/c\\d:e*f?g", 'x"<>|\n\x00', "Łódź", "", "   ", "A" * 500]
)
def test_file_names_hold_only_safe_characters(text: str) -> None:
    for name in (seal_labels_filename(text, 3), device_label_filename(text)):
        assert _SAFE.match(name), name
        assert name.endswith(".pdf")
        assert "/" not in name
        assert not name.startswith(".")
        assert len(name) <= 100
