"""A file's kind comes from its bytes: the kinds the helpdesk takes, and the refused ones it can
name in a refusal."""

from __future__ import annotations

import gzip
from collections import Counter

import pytest

from helpdesk.uploads import kinds
from tests.uploads import samples


def ftyp(major: bytes, *compatible: bytes) -> bytes:
    body = major + b"\x00\x00\x00\x00" + b"".join(compatible)
    return (8 + len(body)).to_bytes(4, "big") + b"ftyp" + body + bytes(64)


SAMPLES = {
    "jpeg": (lambda: samples.jpeg_with_gps(), kinds.JPEG),
    "png": (lambda: samples.png_with_text(), kinds.PNG),
    "gif": (lambda: samples.gif_with_comment(), kinds.GIF),
    "webp": (lambda: samples.webp_with_metadata(), kinds.WEBP),
    "heic": (lambda: samples.heic_with_gps(), kinds.HEIC),
    "heif with a generic brand": (lambda: ftyp(b"mif1", b"mif1", b"heic"), kinds.HEIC),
    "avif": (lambda: ftyp(b"avif", b"avif", b"mif1", b"miaf"), kinds.AVIF),
    "avif under a generic brand": (lambda: ftyp(b"mif1", b"avif", b"miaf"), kinds.AVIF),
    "mp4 video": (lambda: ftyp(b"isom", b"isom", b"mp41"), kinds.VIDEO),
    "quicktime video": (lambda: ftyp(b"qt  ", b"qt  "), kinds.VIDEO),
    "m4a audio": (lambda: ftyp(b"M4A ", b"M4A "), kinds.AUDIO),
    "pdf": (lambda: samples.pdf(), kinds.PDF),
    "bmp": (lambda: samples.encoded(samples.halves(), "BMP"), kinds.BMP),
    "tiff": (lambda: samples.encoded(samples.halves(), "TIFF"), kinds.TIFF),
    "zip": (lambda: samples.zip_of({"report.txt": b"hello"}), kinds.ZIP),
    "word": (samples.word_document, kinds.WORD),
    "excel": (lambda: samples.zip_of({"xl/workbook.xml": b"<workbook/>"}), kinds.EXCEL),
    "gzip": (lambda: gzip.compress(b"hello"), kinds.GZIP),
    "html": (lambda: samples.HTML_PAGE, kinds.HTML),
    "html after a byte order mark": (lambda: b"\xef\xbb\xbf  <html><p>hi</p></html>", kinds.HTML),
    "svg": (lambda: samples.SVG, kinds.SVG),
    "svg without a prolog": (lambda: b'<svg xmlns="http://www.w3.org/2000/svg"/>', kinds.SVG),
    "xml": (lambda: b'<?xml version="1.0"?><order><room>214</room></order>', kinds.XML),
    "text": (lambda: "Heizkörper tropft, Zimmer 214\n".encode(), kinds.TEXT),
    "windows program": (lambda: b"MZ\x90\x00" + bytes(60), kinds.WINDOWS_PROGRAM),
    "linux program": (lambda: b"\x7fELF\x02\x01\x01" + bytes(57), kinds.LINUX_PROGRAM),
    "script": (lambda: b"#!/bin/sh\nrm -rf /\n", kinds.SCRIPT),
    "webm video": (lambda: b"\x1a\x45\xdf\xa3" + bytes(28), kinds.VIDEO),
}


@pytest.mark.parametrize("name", SAMPLES)
def test_the_kind_comes_from_the_bytes(name):
    build, kind = SAMPLES[name]
    assert kinds.sniff(build()) is kind


@pytest.mark.parametrize(
    "data", [b"\x00\x01\x02\x03 binary", bytes(range(256)), b"RIFF\x10\x00\x00\x00ABCD", b"\x00"]
)
def test_bytes_of_no_known_kind_are_none(data):
    assert kinds.sniff(data) is None


def test_only_photos_and_pdfs_are_accepted():
    accepted = {kind for kind in kinds.KINDS if kind.accepted}
    assert accepted == {kinds.JPEG, kinds.PNG, kinds.WEBP, kinds.GIF, kinds.HEIC, kinds.PDF}


@pytest.mark.parametrize(
    ("extension", "kind"),
    [
        ("jpg", kinds.JPEG),
        ("JPEG", kinds.JPEG),
        ("jfif", kinds.JPEG),
        ("jpe", kinds.JPEG),
        ("HEIC", kinds.HEIC),
        ("heif", kinds.HEIC),
        ("pdf", kinds.PDF),
        ("zip", kinds.ZIP),
        ("docx", kinds.WORD),
        ("svg", kinds.SVG),
        ("exe", kinds.WINDOWS_PROGRAM),
        ("tmp", None),
        ("", None),
    ],
)
def test_an_extension_names_at_most_one_kind(extension, kind):
    assert kinds.by_extension(extension) is kind


def test_no_extension_belongs_to_two_kinds():
    counts = Counter(extension for kind in kinds.KINDS for extension in kind.extensions)
    assert [extension for extension, count in counts.items() if count > 1] == []
