"""Sample uploads built in memory (with Pillow where it can write the kind), so no binary file is
kept in the repository. Metadata planted here must never come out of `prepare`."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from collections.abc import Sequence

import pillow_heif
from PIL import ExifTags, Image, ImageCms
from PIL.PngImagePlugin import PngInfo

import helpdesk.uploads.images  # noqa: F401  (registers pillow-heif's opener and writer)

CAMERA_SERIAL = "SN-4711-RADIATOR"
SECRET = "Dorm B room 214"  # planted in comments, text chunks and XMP
XMP = (
    '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-'
    'syntax-ns#"><rdf:Description xmlns:dc="http://purl.org/dc/elements/1.1/" dc:title="'
    f'{SECRET}"/></rdf:RDF></x:xmpmeta>'
).encode()
RED, GREEN, BLUE, YELLOW = (230, 20, 20), (20, 200, 20), (20, 20, 230), (240, 220, 10)
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def exif_with_gps(orientation: int | None = 6) -> Image.Exif:
    """What a phone writes: where (GPS), with which camera (serial), and how it was held."""
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "Campus Phone"
    if orientation is not None:
        exif[ExifTags.Base.Orientation] = orientation
    exif.get_ifd(ExifTags.IFD.Exif)[ExifTags.Base.BodySerialNumber] = CAMERA_SERIAL
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (52.0, 31.0, 12.5)
    gps[ExifTags.GPS.GPSLongitudeRef] = "E"
    gps[ExifTags.GPS.GPSLongitude] = (13.0, 24.0, 3.25)
    return exif


def halves(size: tuple[int, int] = (60, 40), left=RED, right=BLUE) -> Image.Image:
    """Left half one colour, right half another: which way it was turned shows."""
    picture = Image.new("RGB", size, right)
    picture.paste(left, (0, 0, size[0] // 2, size[1]))
    return picture


def srgb_profile() -> bytes:
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def encoded(picture: Image.Image, format: str, **params) -> bytes:
    out = io.BytesIO()
    picture.save(out, format, **params)
    return out.getvalue()


def jpeg_with_gps(size: tuple[int, int] = (60, 40), orientation: int | None = 6) -> bytes:
    return encoded(
        halves(size),
        "JPEG",
        exif=exif_with_gps(orientation),
        xmp=XMP,
        comment=SECRET,
        icc_profile=srgb_profile(),
    )


def heic_with_gps(size: tuple[int, int] = (64, 40)) -> bytes:
    """Laid out like a phone's HEIC: the pixels as the sensor saw them (`halves(size)`), a
    rotation property (`irot`) that turns them upright, and EXIF with GPS, serial and the same
    orientation 6, which HEIF readers must not apply a second time."""
    stored = halves(size)
    photo = pillow_heif.from_bytes("RGB", stored.size, stored.tobytes())
    photo.info["exif"] = exif_with_gps(6).tobytes()  # pillow-heif writes `irot` from it
    photo.info["xmp"] = XMP
    out = io.BytesIO()
    photo.save(out, quality=90)
    return out.getvalue()


def png_with_text(picture: Image.Image | None = None) -> bytes:
    text = PngInfo()
    text.add_text("Comment", SECRET)
    text.add_text("Author", SECRET, zip=True)
    text.add_itxt("Location", SECRET, lang="en", tkey="Location")
    return encoded(
        picture or halves(),
        "PNG",
        pnginfo=text,
        exif=exif_with_gps(None),
        icc_profile=srgb_profile(),
        dpi=(300, 300),
    )


def frames_of(colours: Sequence[tuple[int, int, int]], size=(20, 10)) -> list[Image.Image]:
    return [Image.new("RGB", size, colour) for colour in colours]


def animated(format: str, colours: Sequence[tuple[int, int, int]], durations: Sequence[int],
             **params) -> bytes:  # fmt: skip
    first, *rest = frames_of(colours)
    return encoded(first, format, save_all=True, append_images=rest, duration=list(durations),
                   loop=0, **params)  # fmt: skip


def gif_with_comment(colours=(RED, GREEN, BLUE), durations=(100, 200, 300)) -> bytes:
    return animated("GIF", colours, durations, comment=SECRET)


def webp_with_metadata(picture: Image.Image | None = None) -> bytes:
    return encoded(
        picture or halves(),
        "WEBP",
        exif=exif_with_gps(None),
        xmp=XMP,
        icc_profile=srgb_profile(),
        quality=95,
    )


def animated_webp(colours=(RED, GREEN, BLUE), durations=(100, 200, 300)) -> bytes:
    return animated("WEBP", colours, durations, exif=exif_with_gps(None), xmp=XMP, quality=95)


def apng_with_text(colours=(RED, GREEN, BLUE), durations=(100, 200, 300)) -> bytes:
    text = PngInfo()
    text.add_text("Comment", SECRET)
    return animated("PNG", colours, durations, pnginfo=text)


def png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png_chunk_types(data: bytes) -> list[bytes]:
    """The chunk types of a PNG in order, read straight from its bytes."""
    types, position = [], len(PNG_SIGNATURE)
    while position < len(data):
        (length,) = struct.unpack(">I", data[position : position + 4])
        types.append(data[position + 4 : position + 8])
        position += 12 + length
    return types


def riff_chunk_types(data: bytes) -> list[bytes]:
    """The top-level chunk ids of a WebP (RIFF) file, read straight from its bytes."""
    types, position = [], 12
    while position + 8 <= len(data):
        types.append(data[position : position + 4])
        (length,) = struct.unpack("<I", data[position + 4 : position + 8])
        position += 8 + length + (length & 1)
    return types


def png_claiming(width: int, height: int) -> bytes:
    """A valid PNG header announcing `width` by `height` RGBA pixels, with one row of data:
    a few hundred bytes that would need width * height * 4 bytes of memory to decode."""
    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    one_row = zlib.compress(b"\x00" * (1 + 4 * width))
    return (
        PNG_SIGNATURE
        + png_chunk(b"IHDR", header)
        + png_chunk(b"IDAT", one_row)
        + png_chunk(b"IEND", b"")
    )


def gif_canvas(width: int, height: int, frames: Sequence[tuple[int, int]]) -> bytes:
    """A GIF whose header announces a `width` by `height` canvas, with frames of the given sizes
    that each hold one pixel of data: tiny as a file, while Pillow composes every frame on the
    whole canvas (and grows the canvas for a frame larger than it)."""
    screen = b"GIF89a" + struct.pack("<HHBBB", width, height, 0x80, 0, 0) + bytes(6)
    control = b"\x21\xf9\x04\x00\x0a\x00\x00\x00"
    # One pixel of colour 0 in LZW with a minimum code size of 2: clear, 0, end.
    pixel = b"\x02\x02\x44\x01\x00"
    body = b"".join(
        control + b"\x2c" + struct.pack("<HHHHB", 0, 0, frame_width, frame_height, 0) + pixel
        for frame_width, frame_height in frames
    )
    return screen + body + b"\x3b"


def many_frames_gif(count: int) -> bytes:
    colours = [RED if index % 2 else BLUE for index in range(count)]
    first, *rest = [Image.new("RGB", (2, 2), colour) for colour in colours]
    return encoded(first, "GIF", save_all=True, append_images=rest, duration=50)


def pdf() -> bytes:
    """A small valid PDF: one empty page, with a cross-reference table of true offsets."""
    bodies = (
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>",
    )
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(bodies, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    table = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(bodies) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n" % (len(bodies) + 1, table)
    return bytes(out + b"%%EOF\n")


def zip_of(files: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, body in files.items():
            archive.writestr(name, body)
    return out.getvalue()


def zip_bomb(megabytes: int = 64) -> bytes:
    """A small archive of one large file of zeros, written a megabyte at a time."""
    out = io.BytesIO()
    with (
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive,
        archive.open("zeros.bin", "w", force_zip64=True) as member,
    ):
        for _ in range(megabytes):
            member.write(bytes(1 << 20))
    return out.getvalue()


def word_document() -> bytes:
    return zip_of(
        {
            "[Content_Types].xml": b"<Types/>",
            "_rels/.rels": b"<Relationships/>",
            "word/document.xml": b"<w:document/>",
        }
    )


HTML_PAGE = (
    b"<!DOCTYPE html>\n<html><head><title>Login</title></head>"
    b"<body><script>fetch('/api/v1/me')</script></body></html>\n"
)
SVG = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n'
    b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
    b"<script>alert(document.cookie)</script></svg>\n"
)


def _s15fixed16(value: float) -> bytes:
    return struct.pack(">i", round(value * 65536))


def _xyz_tag(x: float, y: float, z: float) -> bytes:
    return b"XYZ " + bytes(4) + _s15fixed16(x) + _s15fixed16(y) + _s15fixed16(z)


def swapped_primaries_profile() -> bytes:
    """An ICC v2 RGB profile like sRGB's but with red and blue primaries swapped (and linear):
    a pixel that is pure red in it is blue in sRGB, so a conversion is plain to see."""
    red, green, blue = (0.4361, 0.2225, 0.0139), (0.3851, 0.7169, 0.0971), (0.1431, 0.0606, 0.7141)
    linear = b"curv" + bytes(4) + struct.pack(">IH", 1, 0x0100) + bytes(2)
    tags = [
        (b"wtpt", _xyz_tag(0.9642, 1.0, 0.8249)),
        (b"rXYZ", _xyz_tag(*blue)),
        (b"gXYZ", _xyz_tag(*green)),
        (b"bXYZ", _xyz_tag(*red)),
        (b"rTRC", linear),
        (b"gTRC", linear),
        (b"bTRC", linear),
    ]
    offset = 128 + 4 + 12 * len(tags)
    table, bodies = struct.pack(">I", len(tags)), b""
    for signature, body in tags:
        table += signature + struct.pack(">II", offset + len(bodies), len(body))
        bodies += body
    size = offset + len(bodies)
    header = (
        struct.pack(">I", size)
        + bytes(4)
        + struct.pack(">I", 0x02100000)
        + b"mntrRGB XYZ "
        + bytes(12)
        + b"acsp"
        + bytes(24)
        + struct.pack(">I", 0)
        + _s15fixed16(0.9642)
        + _s15fixed16(1.0)
        + _s15fixed16(0.8249)
        + bytes(48)
    )
    assert len(header) == 128
    return header + table + bodies
