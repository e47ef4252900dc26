"""What a file is, decided by its first bytes and never by its name: the kinds the helpdesk takes,
and common kinds it refuses, named so that a refusal can say what the file looked like."""

from __future__ import annotations

import codecs
import unicodedata
from dataclasses import dataclass
from typing import Literal

Family = Literal["image", "document", "archive", "media", "program", "web"]


@dataclass(frozen=True)
class Kind:
    name: str
    description: str  # fits "it looks like …" and "but is …": "a PNG image"
    family: Family
    extensions: tuple[str, ...] = ()  # lower case, without the dot; the first is the usual one
    media_type: str | None = None  # only kinds the helpdesk takes have one

    @property
    def accepted(self) -> bool:
        return self.media_type is not None


JPEG = Kind("jpeg", "a JPEG image", "image", ("jpg", "jpeg", "jfif", "jpe"), "image/jpeg")
PNG = Kind("png", "a PNG image", "image", ("png", "apng"), "image/png")
WEBP = Kind("webp", "a WebP image", "image", ("webp",), "image/webp")
GIF = Kind("gif", "a GIF image", "image", ("gif",), "image/gif")
HEIC_EXTENSIONS = ("heic", "heif", "heics", "heifs", "hif")
HEIC = Kind("heic", "a HEIC photo", "image", HEIC_EXTENSIONS, "image/heic")
PDF = Kind("pdf", "a PDF document", "document", ("pdf",), "application/pdf")

AVIF = Kind("avif", "an AVIF image", "image", ("avif",))
BMP = Kind("bmp", "a BMP image", "image", ("bmp", "dib"))
TIFF = Kind("tiff", "a TIFF image", "image", ("tif", "tiff"))
PHOTOSHOP = Kind("psd", "a Photoshop file", "image", ("psd",))
JPEG_XL = Kind("jxl", "a JPEG XL image", "image", ("jxl",))
CAMERA_RAW = Kind("cr3", "a camera raw file", "image", ("cr3",))
SVG = Kind("svg", "an SVG drawing", "image", ("svg",))
HTML = Kind("html", "an HTML web page", "web", ("html", "htm", "xhtml", "shtml"))
XML = Kind("xml", "an XML file", "web", ("xml",))
TEXT = Kind("text", "a text file", "document", ("txt", "csv", "md", "json", "log"))
RTF = Kind("rtf", "a rich text document", "document", ("rtf",))
POSTSCRIPT = Kind("postscript", "a PostScript file", "document", ("ps", "eps"))
WORD = Kind("docx", "a Word document", "document", ("docx", "docm", "dotx"))
EXCEL = Kind("xlsx", "an Excel spreadsheet", "document", ("xlsx", "xlsm"))
POWERPOINT = Kind("pptx", "a PowerPoint presentation", "document", ("pptx", "ppsx"))
OPENDOCUMENT = Kind("odf", "an OpenDocument file", "document", ("odt", "ods", "odp", "odg"))
OLD_OFFICE = Kind("ole", "an older Office document", "document", ("doc", "xls", "ppt", "msg"))
ZIP = Kind("zip", "a ZIP archive", "archive", ("zip",))
GZIP = Kind("gzip", "a gzip archive", "archive", ("gz", "tgz"))
SEVEN_ZIP = Kind("7z", "a 7-Zip archive", "archive", ("7z",))
RAR = Kind("rar", "a RAR archive", "archive", ("rar",))
BZIP2 = Kind("bzip2", "a bzip2 archive", "archive", ("bz2",))
XZ = Kind("xz", "an xz archive", "archive", ("xz",))
ZSTANDARD = Kind("zstd", "a Zstandard archive", "archive", ("zst",))
VIDEO = Kind("video", "a video", "media", ("mp4", "mov", "m4v", "webm", "mkv", "avi", "3gp"))
AUDIO = Kind("audio", "a sound recording", "media", ("mp3", "m4a", "wav", "ogg", "opus", "flac"))
WINDOWS_PROGRAM = Kind("exe", "a Windows program", "program", ("exe", "dll", "scr", "msi"))
LINUX_PROGRAM = Kind("elf", "a Linux program", "program", ("so", "elf"))
MAC_PROGRAM = Kind("macho", "a program", "program", ("dylib", "class"))
SCRIPT = Kind("script", "a script", "program", ("sh", "bash"))

KINDS: tuple[Kind, ...] = (
    JPEG, PNG, WEBP, GIF, HEIC, PDF, AVIF, BMP, TIFF, PHOTOSHOP, JPEG_XL, CAMERA_RAW, SVG, HTML,
    XML, TEXT, RTF, POSTSCRIPT, WORD, EXCEL, POWERPOINT, OPENDOCUMENT, OLD_OFFICE, ZIP, GZIP,
    SEVEN_ZIP, RAR, BZIP2, XZ, ZSTANDARD, VIDEO, AUDIO, WINDOWS_PROGRAM, LINUX_PROGRAM,
    MAC_PROGRAM, SCRIPT,
)  # fmt: skip
_BY_EXTENSION = {extension: kind for kind in KINDS for extension in kind.extensions}

_PREFIXES: tuple[tuple[bytes, Kind], ...] = (
    (b"\xff\xd8\xff", JPEG),
    (b"\x89PNG\r\n\x1a\n", PNG),
    (b"GIF87a", GIF),
    (b"GIF89a", GIF),
    (b"%PDF-", PDF),
    (b"\xff\x0a", JPEG_XL),
    (b"\x00\x00\x00\x0cJXL \r\n\x87\n", JPEG_XL),
    (b"8BPS", PHOTOSHOP),
    (b"II*\x00", TIFF),
    (b"MM\x00*", TIFF),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", OLD_OFFICE),
    (b"\x1f\x8b", GZIP),
    (b"7z\xbc\xaf\x27\x1c", SEVEN_ZIP),
    (b"Rar!\x1a\x07", RAR),
    (b"\xfd7zXZ\x00", XZ),
    (b"\x28\xb5\x2f\xfd", ZSTANDARD),
    (b"\x7fELF", LINUX_PROGRAM),
    (b"MZ", WINDOWS_PROGRAM),
    (b"\xfe\xed\xfa\xce", MAC_PROGRAM),
    (b"\xfe\xed\xfa\xcf", MAC_PROGRAM),
    (b"\xce\xfa\xed\xfe", MAC_PROGRAM),
    (b"\xcf\xfa\xed\xfe", MAC_PROGRAM),
    (b"\xca\xfe\xba\xbe", MAC_PROGRAM),
    (b"\x1a\x45\xdf\xa3", VIDEO),
    (b"ID3", AUDIO),
    (b"OggS", AUDIO),
    (b"fLaC", AUDIO),
    (b"{\\rtf", RTF),
    (b"%!PS", POSTSCRIPT),
    (b"#!", SCRIPT),
)
_ZIP_PREFIXES = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")
# What an Office file's ZIP names inside it; the central directory lists every name uncompressed.
_ZIP_MARKERS = (
    (b"word/", WORD),
    (b"xl/", EXCEL),
    (b"ppt/", POWERPOINT),
    (b"application/vnd.oasis.opendocument.", OPENDOCUMENT),
)
# The brands libheif's opener in pillow-heif takes as HEIF, and the AVIF ones (AV1 in the same box).
_HEIF_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"hevm", b"hevs"}
_GENERIC_HEIF_BRANDS = {b"mif1", b"msf1"}
_AVIF_BRANDS = {b"avif", b"avis"}
_AUDIO_BRANDS = {b"M4A ", b"M4B ", b"M4P "}
_BMP_HEADER_SIZES = {12, 40, 52, 56, 64, 108, 124}
_HTML_MARKERS = (
    "<!doctype html", "<html", "<head", "<body", "<script", "<iframe", "<meta", "<title",
    "<style", "<div", "<a ", "<img", "<form", "<p>", "<table",
)  # fmt: skip
_TEXT_BOMS = ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"),
              (codecs.BOM_UTF16_BE, "utf-16-be"))  # fmt: skip
_SNIFF_TEXT_BYTES = 4096


def sniff(data: bytes) -> Kind | None:
    """The kind the bytes are, or None when they are nothing this module knows."""
    for prefix, kind in _PREFIXES:
        if data.startswith(prefix):
            return kind
    if data.startswith(_ZIP_PREFIXES):
        return _zip_kind(data)
    if data[:4] == b"RIFF":
        return {b"WEBP": WEBP, b"AVI ": VIDEO, b"WAVE": AUDIO}.get(data[8:12])
    if data[4:8] == b"ftyp":
        return _iso_media_kind(data)
    if data[:2] == b"BM" and int.from_bytes(data[14:18], "little") in _BMP_HEADER_SIZES:
        return BMP
    return _text_kind(data[:_SNIFF_TEXT_BYTES])


def by_extension(extension: str) -> Kind | None:
    """The kind a file name's extension (without the dot, any case) says it is, if it is known."""
    return _BY_EXTENSION.get(extension.lower())


def _zip_kind(data: bytes) -> Kind:
    for marker, kind in _ZIP_MARKERS:
        if marker in data:
            return kind
    return ZIP


def _iso_media_kind(data: bytes) -> Kind:
    """HEIC, AVIF and MP4/QuickTime share one container; its `ftyp` box names the brands."""
    major = data[8:12]
    box_end = min(int.from_bytes(data[:4], "big"), 256)
    brands = {major} | {data[start : start + 4] for start in range(16, box_end - 3, 4)}
    if major in _HEIF_BRANDS:
        return HEIC
    if brands & _AVIF_BRANDS:
        return AVIF
    if major in _GENERIC_HEIF_BRANDS:
        return HEIC
    if major == b"crx ":
        return CAMERA_RAW
    return AUDIO if major in _AUDIO_BRANDS else VIDEO


def _text_kind(head: bytes) -> Kind | None:
    """Markup (SVG, HTML, XML) or plain text, judged on the file's first few kilobytes."""
    text = _decoded(head)
    if text is None:
        return None
    opening = text.lstrip().lower()
    if opening.startswith("<"):
        if "<svg" in opening:
            return SVG
        if any(marker in opening for marker in _HTML_MARKERS):
            return HTML
        return XML
    if any(unicodedata.category(ch) == "Cc" and ch not in "\t\n\r\f\v" for ch in text):
        return None
    return TEXT


def _decoded(head: bytes) -> str | None:
    for bom, encoding in _TEXT_BOMS:
        if head.startswith(bom):
            return head[len(bom) :].decode(encoding, errors="replace")
    try:
        # Incremental, so a character cut off by the sniffing window is not an error.
        return codecs.getincrementaldecoder("utf-8")().decode(head)
    except UnicodeDecodeError:
        return None
