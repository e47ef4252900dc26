"""`prepare`: the bytes decide what a file is, a name that says otherwise is refused, PDFs are kept
as they came, names are made safe to show, and nothing a client sends gets anything but a
refusal in plain words."""

from __future__ import annotations

import hashlib
import io
from concurrent.futures import ThreadPoolExecutor

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from helpdesk.errors import HelpdeskError, TooLarge, UnsupportedType
from helpdesk.uploads import prepare as prepare_module
from helpdesk.uploads.prepare import Prepared, prepare
from tests.uploads import samples


def small_png() -> bytes:
    return samples.encoded(samples.halves((12, 8)), "PNG")


def small_jpeg() -> bytes:
    return samples.encoded(samples.halves((12, 8)), "JPEG")


def refusal(data: bytes, filename: str = "upload") -> UnsupportedType:
    with pytest.raises(UnsupportedType) as refused:
        prepare(data, filename)
    assert refused.value.field == "file" and refused.value.status == 415
    return refused.value


def test_an_empty_file_is_refused():
    assert refusal(b"", "photo.jpg").detail == "the file is empty"


def test_a_png_named_pdf_is_refused_by_what_it_is():
    assert refusal(small_png(), "invoice.pdf").detail == (
        "the file is named .pdf but is a PNG image; rename it or choose the right file"
    )


@pytest.mark.parametrize(
    ("build", "filename", "named", "is_"),
    [
        (samples.pdf, "scan.PNG", ".png", "a PDF document"),
        (small_png, "photo.zip", ".zip", "a PNG image"),
        (small_png, "photo.docx", ".docx", "a PNG image"),
    ],
)
def test_a_name_naming_another_known_kind_is_refused(build, filename, named, is_):
    detail = refusal(build(), filename).detail
    assert detail.startswith(f"the file is named {named} but is {is_};")


@pytest.mark.parametrize(
    ("filename", "expected"),
    [
        ("scan.jfif", "scan.jpg"),
        ("scan.JPE", "scan.jpg"),
        ("scan.jpeg", "scan.jpg"),
        ("image", "image.jpg"),
        ("leak.tmp", "leak.jpg"),
        ("Heizung 12.03.2024", "Heizung 12.03.2024.jpg"),
    ],
)
def test_a_jpeg_with_a_jpeg_unknown_or_no_extension_is_named_by_its_kind(filename, expected):
    assert prepare(small_jpeg(), filename).filename == expected


@pytest.mark.parametrize(
    ("build", "filename", "expected"),
    [
        (small_jpeg, "radiator.gif", "radiator.jpg"),
        (samples.heic_with_gps, "IMG_0003.jpg", "IMG_0003.jpg"),
        (small_png, "screenshot.jpeg", "screenshot.png"),
    ],
)
def test_a_photo_named_as_another_kind_of_photo_is_named_by_what_it_is(build, filename, expected):
    assert prepare(build(), filename).filename == expected


def test_a_heic_photo_is_named_as_the_jpeg_it_becomes():
    assert prepare(samples.heic_with_gps(), "IMG_0004.HEIC").filename == "IMG_0004.jpg"


@pytest.mark.parametrize(
    ("data", "filename", "looks_like"),
    [
        (samples.HTML_PAGE, "screenshot.png", "it looks like an HTML web page"),
        (samples.SVG, "drawing.svg", "it looks like an SVG drawing"),
        (samples.SVG, "drawing.png", "it looks like an SVG drawing"),
        (samples.zip_of({"a.jpg": b"x"}), "photos.jpg", "it looks like a ZIP archive"),
        (samples.word_document(), "report.pdf", "it looks like a Word document"),
        (b"MZ\x90\x00" + bytes(100), "photo.jpg", "it looks like a Windows program"),
    ],
)
def test_a_refused_kind_is_named_whatever_the_file_is_called(data, filename, looks_like):
    assert f"({looks_like})" in refusal(data, filename).detail


def test_a_zip_bomb_is_refused_as_a_zip_without_being_opened():
    bomb = samples.zip_bomb(megabytes=64)
    assert len(bomb) < 200_000  # 64 MB of zeros inside

    detail = refusal(bomb, "photos.zip").detail

    assert detail.startswith("this file is not a photo or a PDF (it looks like a ZIP archive)")


def test_bytes_of_no_known_kind_are_refused_with_what_is_taken():
    detail = refusal(bytes(range(256)) * 4, "photo.jpg").detail
    assert detail.startswith("this file is not a photo or a PDF")
    assert "JPEG, PNG, WebP, GIF, HEIC" in detail


def test_the_declared_type_decides_nothing():
    assert prepare(small_png(), "photo", "application/pdf").content_type == "image/png"
    with pytest.raises(UnsupportedType, match="HTML"):
        prepare(samples.HTML_PAGE, "x", "image/png")


def test_a_pdf_is_stored_exactly_as_it_came():
    original = samples.pdf()

    result = prepare(original, "Heizungsplan.pdf", "application/pdf")

    assert result.data == original
    assert result.digest == hashlib.sha256(original).hexdigest()
    assert (result.filename, result.content_type) == ("Heizungsplan.pdf", "application/pdf")
    assert (result.width, result.height, result.thumbnail) == (None, None, None)


@pytest.mark.parametrize(
    "damaged",
    [
        b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\n",  # cut off before its end marker
        samples.pdf() + bytes(2000),  # the end marker too far from the end
        samples.pdf().replace(b"%PDF-1.4", b"%PDF-9.4"),
        b"%PDF-",
    ],
)
def test_a_damaged_pdf_is_refused(damaged):
    assert "PDF is damaged" in refusal(damaged, "plan.pdf").detail


def test_an_image_digest_is_of_what_is_stored():
    sent = samples.png_with_text()
    result = prepare(sent, "x.png")
    assert result.digest == hashlib.sha256(result.data).hexdigest()
    assert result.data != sent  # written again, not stored as sent


@pytest.mark.parametrize(
    ("filename", "expected"),
    [
        ("../../etc/passwd.png", "passwd.png"),
        ("C:\\x\\y.png", "y.png"),
        ("..\\..\\windows\\win.ini.png", "win.ini.png"),
        ("/var/www/", "photo.png"),
        (".png", "photo.png"),
        ("", "photo.png"),
        ("...", "photo.png"),
        ("  \t\n  ", "photo.png"),
        ("Dorm\x00B\x1f214.png", "Dorm B 214.png"),
        ("line\u2028break.png", "line break.png"),
        ("invoice\u202egnp.png", "invoicegnp.png"),  # shown as "invoicepng.png" with the override
        ("\u2066\u2067bidi\u2069\u200f\u200e.png", "bidi.png"),
        ("zero\u200bwidth\ufeff.png", "zerowidth.png"),
        (
            "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645.png",
            "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645.png",
        ),
        ("Zimmer 214 \u2013 Heizkörper.png", "Zimmer 214 \u2013 Heizkörper.png"),
        ("Cafe\u0301.png", "Caf\u00e9.png"),  # one form of é, however it was typed
        ("  many   spaces  .png", "many spaces.png"),
        ("archive.tar.png", "archive.tar.png"),
    ],
)
def test_names_are_cleaned_to_a_safe_display_name(filename, expected):
    assert prepare(small_png(), filename).filename == expected


def test_a_long_name_is_cut_to_120_characters_before_the_extension():
    result = prepare(small_png(), "r" * 300 + ".png")
    assert result.filename == "r" * 120 + ".png"


def test_a_name_cut_short_does_not_end_in_a_dot_or_space():
    result = prepare(small_png(), "a" * 119 + " .b" + "c" * 50 + ".png")
    assert result.filename == "a" * 119 + ".png"


def test_a_hidden_extension_is_not_hidden_by_invisible_characters():
    # The right-to-left override would show "photo\u202egnp.exe" as "photoexe.png".
    assert ".exe" in refusal(small_png(), "photo\u202egnp.exe").detail


def test_a_pdf_without_a_stem_is_called_document():
    assert prepare(samples.pdf(), ".pdf").filename == "document.pdf"


def test_refusals_are_the_helpdesk_errors_with_their_statuses():
    with pytest.raises(TooLarge) as too_large:
        prepare(samples.png_claiming(9000, 9000), "x.png")
    assert (too_large.value.status, too_large.value.code) == (413, "too_large")
    assert refusal(b"\x00").code == "unsupported_type"


def test_prepare_gives_the_same_files_from_several_threads_at_once():
    originals = [
        samples.jpeg_with_gps(),
        samples.heic_with_gps(),
        samples.gif_with_comment(),
        samples.animated_webp(),
        samples.encoded(samples.halves(), "PNG", icc_profile=samples.swapped_primaries_profile()),
    ]
    one_by_one = [prepare(original, "x").digest for original in originals]

    with ThreadPoolExecutor(max_workers=4) as pool:
        at_once = list(pool.map(lambda original: prepare(original, "x").digest, originals * 6))

    assert at_once == one_by_one * 6


MAGIC_PREFIXES = (
    b"\xff\xd8\xff",
    b"\x89PNG\r\n\x1a\n",
    b"GIF89a",
    b"RIFF\x00\x10\x00\x00WEBPVP8 ",
    b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic",
    b"%PDF-1.4\n",
    b"PK\x03\x04",
)
VALID_SAMPLES = (
    small_jpeg(),
    small_png(),
    samples.gif_with_comment(),
    samples.webp_with_metadata(),
    samples.animated_webp(),
    samples.apng_with_text(),
    samples.heic_with_gps(),
    samples.pdf(),
)


@st.composite
def corrupted(draw) -> bytes:
    """A valid sample with a few bytes changed and perhaps cut short: it gets past the magic
    numbers and into the decoders."""
    data = bytearray(draw(st.sampled_from(VALID_SAMPLES)))
    for _ in range(draw(st.integers(1, 8))):
        data[draw(st.integers(0, len(data) - 1))] = draw(st.integers(0, 255))
    return bytes(data[: draw(st.integers(1, len(data)))])


UPLOADS = st.one_of(
    st.binary(max_size=512),
    st.tuples(st.sampled_from(MAGIC_PREFIXES), st.binary(max_size=512)).map(b"".join),
    corrupted(),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=UPLOADS, filename=st.text(max_size=40))
def test_any_bytes_and_name_get_a_prepared_file_or_a_plain_refusal(data, filename):
    result = outcome(data, filename)
    if isinstance(result, HelpdeskError):
        assert isinstance(result, UnsupportedType | TooLarge)
        assert result.detail and result.field == "file"
        return
    assert result.filename and len(result.filename) <= prepare_module.MAX_STEM_CHARS + 5
    assert result.digest == hashlib.sha256(result.data).hexdigest()
    if result.content_type != "application/pdf":
        Image.open(io.BytesIO(result.data)).load()


def outcome(data: bytes, filename: str) -> Prepared | HelpdeskError:
    """What `prepare` gives, or the helpdesk error it raises; anything else fails the test."""
    try:
        return prepare(data, filename)
    except HelpdeskError as refused:
        return refused
