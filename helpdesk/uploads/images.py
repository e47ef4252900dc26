"""Photos and screenshots made safe to store and serve: sizes checked before anything is decoded,
then re-encoded from pixels alone, so that no metadata (GPS, camera serials, comments) survives.

Pure and synchronous: the caller runs `reencode` on a small thread pool. Nothing here touches
Pillow's global settings (its own bomb limit and warning filters stay as they are); its bomb error
is caught and answered like ours."""

from __future__ import annotations

import io
import struct
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from PIL import Image, ImageCms, ImageFile, ImageOps
from pillow_heif import register_heif_opener

from helpdesk.errors import TooLarge, UnsupportedType
from helpdesk.uploads import kinds
from helpdesk.uploads.kinds import Kind

register_heif_opener()

MAX_PIXELS = 50_000_000
MAX_FRAMES = 200
# Every frame of an animation is held decoded until it is written again.
MAX_ANIMATION_PIXELS = MAX_PIXELS
MAX_SIDE = 4096
THUMBNAIL_BOX = (480, 480)
# Each scan of a progressive JPEG walks the whole image again; encoders write about ten, and a
# file of thousands of tiny scans is how a small JPEG keeps a decoder busy for minutes.
MAX_JPEG_SCANS = 100
JPEG_QUALITY = 85
WEBP_QUALITY = 85
# zlib level 6: a few per cent larger than optimize=True, which took a 4K screenshot 12 s.
PNG_COMPRESSION = 6
THUMBNAIL_QUALITY = 80

DAMAGED = "this image is damaged and cannot be read"
_FORMATS = {"jpeg": "JPEG", "png": "PNG", "webp": "WEBP", "gif": "GIF", "heic": "HEIF"}
_OUTPUT = {"jpeg": kinds.JPEG, "heic": kinds.JPEG, "png": kinds.PNG, "webp": kinds.WEBP,
           "gif": kinds.GIF}  # fmt: skip
_ANIMATED = {"png", "webp", "gif"}
# What a damaged or hostile file makes Pillow and its plugins raise while reading.
_READ_ERRORS = (OSError, SyntaxError, ValueError, struct.error, EOFError, IndexError, TypeError,
                KeyError, ZeroDivisionError, RuntimeError, ImageCms.PyCMSError)  # fmt: skip
_BOMBS = (Image.DecompressionBombError, Image.DecompressionBombWarning)


@dataclass(frozen=True)
class Reencoded:
    kind: Kind  # what `data` is: a HEIC photo comes back as a JPEG
    data: bytes
    width: int
    height: int
    thumbnail: bytes  # WebP, fitting THUMBNAIL_BOX


def reencode(data: bytes, kind: Kind) -> Reencoded:
    """Decode an image of `kind` (as sniffed from its bytes) and write it again from its pixels.

    Raises TooLarge for too many pixels or frames, UnsupportedType for a damaged file."""
    if kind.name == "jpeg":
        _check_jpeg_scans(data)
    with _reading(data, kind), Image.open(io.BytesIO(data), formats=[_FORMATS[kind.name]]) as im:
        _check_size(im.width, im.height)
        if kind.name in _ANIMATED and getattr(im, "n_frames", 1) > 1:
            frames, durations = _decoded_frames(im)
            loop = im.info.get("loop")
        else:
            frames, durations, loop = [_decoded_still(im, kind)], [], None
    output = _OUTPUT[kind.name]
    first = frames[0]
    return Reencoded(
        kind=output,
        data=_encoded(frames, durations, loop, output),
        width=first.width,
        height=first.height,
        thumbnail=_thumbnail(first),
    )


@contextmanager
def _reading(data: bytes, kind: Kind) -> Iterator[None]:
    """Turns whatever Pillow raises on a damaged or oversized file into a refusal."""
    try:
        yield
    except _BOMBS:
        raise TooLarge(_too_large_message(data, kind), field="file") from None
    except _READ_ERRORS:
        raise UnsupportedType(DAMAGED, field="file") from None


def _too_large_message(data: bytes, kind: Kind) -> str:
    """Pillow refuses a huge image before saying its size; its format plugin reads the header
    again without that check (`Image.OPEN` is the registry Image.open itself uses)."""
    try:
        factory, _accept = Image.OPEN[_FORMATS[kind.name]]
        width, height = factory(io.BytesIO(data), "").size
    except (*_READ_ERRORS, *_BOMBS):
        width = height = 0
    if width * height <= MAX_PIXELS:  # unreadable, or a later frame is what grew too large
        return f"this image is too large (more than {MAX_PIXELS // 1_000_000} megapixels)"
    return _size_message(width, height)


def _size_message(width: int, height: int) -> str:
    return (
        f"this image is too large ({_dimensions(width, height)} pixels; "
        f"at most {MAX_PIXELS // 1_000_000} megapixels)"
    )


def _dimensions(width: int, height: int) -> str:
    return f"{width} \N{MULTIPLICATION SIGN} {height}"


def _check_size(width: int, height: int) -> None:
    if width < 1 or height < 1:
        raise UnsupportedType(DAMAGED, field="file")
    if width * height > MAX_PIXELS:
        raise TooLarge(_size_message(width, height), field="file")


def _check_animation(count: int, pixels: int, size: tuple[int, int]) -> None:
    if pixels > MAX_ANIMATION_PIXELS:
        raise TooLarge(
            f"this animation is too large ({count} frames of {_dimensions(*size)} pixels; "
            f"at most {MAX_ANIMATION_PIXELS // 1_000_000} megapixels in all)",
            field="file",
        )


def _check_jpeg_scans(data: bytes) -> None:
    # Entropy-coded data escapes 0xFF as FF 00, so FF DA is a start-of-scan marker or, rarely,
    # a byte pair inside a metadata segment: counting it can only overestimate.
    scans = data.count(b"\xff\xda")
    if scans > MAX_JPEG_SCANS:
        raise UnsupportedType(
            f"this image is built in an unusual way ({scans} scans; at most {MAX_JPEG_SCANS}) "
            "and cannot be read safely",
            field="file",
        )


def _decoded_still(im: ImageFile.ImageFile, kind: Kind) -> Image.Image:
    """The first (or, for HEIC, the primary) picture, upright, in sRGB, at most MAX_SIDE."""
    if kind.name == "jpeg" and max(im.size) > MAX_SIDE:
        # Decode at 1/2, 1/4 or 1/8 scale while that still leaves at least the target size.
        im.draft(None, _fitted(im.size, (MAX_SIDE, MAX_SIDE)))
    icc_profile = im.info.get("icc_profile")
    picture = _in_srgb(ImageOps.exif_transpose(im), icc_profile)
    return _pixels_only(_fit(picture, (MAX_SIDE, MAX_SIDE)))


def _decoded_frames(im: ImageFile.ImageFile) -> tuple[list[Image.Image], list[int]]:
    """Every frame as Pillow composes it (full canvas, disposal applied), with its duration."""
    count = im.n_frames
    if count > MAX_FRAMES:
        raise TooLarge(
            f"this animation has too many frames ({count}; at most {MAX_FRAMES})", field="file"
        )
    icc_profile = im.info.get("icc_profile")
    frames: list[Image.Image] = []
    durations: list[int] = []
    decoded = 0
    for index in range(count):
        im.seek(index)
        # A GIF frame may be larger than the canvas its header announced, and later frames are
        # never smaller than this one: check before each frame is decoded.
        _check_size(im.width, im.height)
        pixels = im.width * im.height
        _check_animation(count, decoded + (count - index) * pixels, im.size)
        decoded += pixels
        frame = _in_srgb(ImageOps.exif_transpose(im.convert("RGBA")), icc_profile)
        frames.append(_pixels_only(_fit(frame, (MAX_SIDE, MAX_SIDE))))
        durations.append(int(im.info.get("duration", 0)))
    return frames, durations


def _in_srgb(image: Image.Image, icc_profile: bytes | None) -> Image.Image:
    """RGB or RGBA pixels as sRGB: converted through the file's colour profile when it has one
    LittleCMS can use, else taken as they are (the profile is dropped either way)."""
    image = _eight_bit(image)
    mode = "RGBA" if image.has_transparency_data else "RGB"
    if image.mode not in ("RGB", "RGBA", "L", "CMYK"):
        image = image.convert(mode)
    if icc_profile:
        try:
            source = ImageCms.ImageCmsProfile(io.BytesIO(icc_profile))
            srgb = ImageCms.createProfile("sRGB")  # cheap; one per call keeps threads apart
            return ImageCms.profileToProfile(image, source, srgb, outputMode=mode)
        except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
            pass  # a profile that does not fit the pixels (or is broken): use them as they are
    return image if image.mode == mode else image.convert(mode)


def _eight_bit(image: Image.Image) -> Image.Image:
    """16-bit greyscale scaled down to 8 bits: Pillow's plain conversion clips it to white."""
    if image.mode == "I" or image.mode.startswith("I;16"):
        return image.convert("I").point(lambda value: value / 256).convert("L")
    return image


def _pixels_only(image: Image.Image) -> Image.Image:
    """Pillow's writers fall back to `info` for comments and colour profiles: empty it."""
    image.info = {}
    return image


def _fitted(size: tuple[int, int], box: tuple[int, int]) -> tuple[int, int]:
    scale = min(box[0] / size[0], box[1] / size[1], 1.0)
    return max(1, round(size[0] * scale)), max(1, round(size[1] * scale))


def _fit(image: Image.Image, box: tuple[int, int]) -> Image.Image:
    """Scaled down to fit `box`, keeping its aspect; never scaled up."""
    size = _fitted(image.size, box)
    if size == image.size:
        return image
    return image.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)


def _encoded(
    frames: list[Image.Image], durations: list[int], loop: int | None, kind: Kind
) -> bytes:
    out = io.BytesIO()
    first = frames[0]
    if kind is kinds.JPEG:
        _opaque(first).save(out, "JPEG", quality=JPEG_QUALITY, progressive=True, optimize=True)
    elif len(frames) > 1:
        animation: dict[str, object] = {
            "save_all": True,
            "append_images": frames[1:],
            "duration": durations,
        }
        if loop is not None:
            animation["loop"] = loop
        if kind is kinds.GIF:
            # Each frame is a whole picture: clear the previous one so its pixels never show
            # through where this one is transparent.
            first.save(out, "GIF", disposal=2, **animation)
        elif kind is kinds.WEBP:
            first.save(out, "WEBP", quality=WEBP_QUALITY, **animation)
        else:
            first.save(out, "PNG", compress_level=PNG_COMPRESSION, **animation)
    elif kind is kinds.GIF:
        first.save(out, "GIF")
    elif kind is kinds.WEBP:
        first.save(out, "WEBP", quality=WEBP_QUALITY)
    else:
        first.save(out, "PNG", compress_level=PNG_COMPRESSION)
    return out.getvalue()


def _opaque(image: Image.Image) -> Image.Image:
    """JPEG has no transparency: put transparent pixels on white rather than on black."""
    if image.mode == "RGB":
        return image
    background = Image.new("RGBA", image.size, (255, 255, 255, 255))
    return Image.alpha_composite(background, image).convert("RGB")


def _thumbnail(first: Image.Image) -> bytes:
    out = io.BytesIO()
    _fit(first, THUMBNAIL_BOX).save(out, "WEBP", quality=THUMBNAIL_QUALITY)
    return out.getvalue()
