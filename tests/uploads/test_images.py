"""Images come back upright, in sRGB, within size, and with no metadata at all; oversized ones are
refused before they are decoded, damaged ones with a plain answer."""

from __future__ import annotations

import io
import warnings

import pytest
from PIL import Image, ImageFile, ImageSequence

from helpdesk.errors import TooLarge, UnsupportedType
from helpdesk.uploads import images, kinds
from helpdesk.uploads.prepare import Prepared, prepare
from tests.uploads import samples

# Markers of metadata in a file's raw bytes: EXIF (GPS lives inside it), XMP, ICC, and the text
# the samples plant in comments and text chunks.
METADATA_MARKERS = (
    b"Exif",
    b"EXIF",
    b"adobe:ns:meta",
    b"XMP",
    b"ICC_PROFILE",
    b"iCCP",
    samples.CAMERA_SERIAL.encode(),
    samples.SECRET.encode(),
)
METADATA_KEYS = {"exif", "xmp", "XML:com.adobe.xmp", "icc_profile", "comment", "dpi"}
BY = " \N{MULTIPLICATION SIGN} "  # between width and height in the messages
BARE_PNG_CHUNKS = {b"IHDR", b"PLTE", b"tRNS", b"IDAT", b"IEND"}
BARE_STILL_WEBP_CHUNKS = {b"VP8 ", b"VP8L", b"VP8X", b"ALPH"}
BARE_ANIMATED_WEBP_CHUNKS = {b"VP8X", b"ANIM", b"ANMF"}


def opened(data: bytes) -> Image.Image:
    return Image.open(io.BytesIO(data))


def near(colour, expected, tolerance: int = 40) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip(colour[:3], expected, strict=True))


def assert_no_metadata(data: bytes) -> None:
    found = [marker for marker in METADATA_MARKERS if marker in data]
    assert found == []
    image = opened(data)
    assert len(image.getexif()) == 0
    assert METADATA_KEYS.isdisjoint(image.info)


def assert_upright(result: Prepared | images.Reencoded, stored_size: tuple[int, int]) -> None:
    """The samples store left red, right blue, with orientation 6 (turn a quarter clockwise):
    upright, red is on top."""
    assert (result.width, result.height) == (stored_size[1], stored_size[0])
    for data in (result.data, result.thumbnail):
        picture = opened(data).convert("RGB")
        assert picture.size == (stored_size[1], stored_size[0])
        assert near(picture.getpixel((picture.width // 2, 2)), samples.RED)
        assert near(picture.getpixel((picture.width // 2, picture.height - 3)), samples.BLUE)


@pytest.fixture
def no_decoding(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any attempt to decode pixels fails the test: a refusal must come from the header alone."""

    def refuse(self):
        raise AssertionError(f"{self.format} pixels were decoded")

    monkeypatch.setattr(ImageFile.ImageFile, "load", refuse)


def test_a_phone_jpeg_loses_gps_serial_and_all_other_metadata():
    original = samples.jpeg_with_gps()
    assert all(marker in original for marker in (b"Exif", b"adobe:ns:meta", b"ICC_PROFILE"))
    assert samples.CAMERA_SERIAL.encode() in original and samples.SECRET.encode() in original

    result = prepare(original, "IMG_0001.JPG")

    assert result.content_type == "image/jpeg" and opened(result.data).format == "JPEG"
    assert_no_metadata(result.data)
    assert_no_metadata(result.thumbnail)
    assert opened(result.thumbnail).format == "WEBP"
    assert set(samples.riff_chunk_types(result.thumbnail)) <= BARE_STILL_WEBP_CHUNKS


def test_a_phone_jpeg_is_turned_upright_as_its_orientation_says():
    assert_upright(prepare(samples.jpeg_with_gps((60, 40), orientation=6), "x.jpg"), (60, 40))


def test_a_phone_heic_becomes_an_upright_jpeg_without_metadata():
    original = samples.heic_with_gps((64, 40))
    assert samples.CAMERA_SERIAL.encode() in original and b"irot" in original

    result = prepare(original, "IMG_0002.HEIC")

    assert (result.filename, result.content_type) == ("IMG_0002.jpg", "image/jpeg")
    assert opened(result.data).format == "JPEG"
    assert_no_metadata(result.data)
    assert_no_metadata(result.thumbnail)
    assert_upright(result, (64, 40))


def test_png_text_chunks_exif_profile_and_density_are_gone():
    original = samples.png_with_text()
    assert {b"tEXt", b"zTXt", b"iTXt", b"eXIf", b"iCCP", b"pHYs"} <= set(
        samples.png_chunk_types(original)
    )

    result = prepare(original, "screenshot.png")

    assert set(samples.png_chunk_types(result.data)) <= BARE_PNG_CHUNKS
    assert_no_metadata(result.data)
    assert near(opened(result.data).convert("RGB").getpixel((2, 2)), samples.RED, 2)


def test_a_still_webp_loses_exif_xmp_and_profile():
    original = samples.webp_with_metadata()
    assert {b"EXIF", b"XMP ", b"ICCP"} <= set(samples.riff_chunk_types(original))

    result = prepare(original, "photo.webp")

    assert result.content_type == "image/webp"
    assert set(samples.riff_chunk_types(result.data)) <= BARE_STILL_WEBP_CHUNKS
    assert_no_metadata(result.data)


def frame_colours_and_durations(data: bytes) -> tuple[list[tuple[int, int, int]], list[int]]:
    image = opened(data)
    colours, durations = [], []
    for frame in ImageSequence.Iterator(image):
        colours.append(frame.convert("RGB").getpixel((5, 5)))
        durations.append(frame.info.get("duration"))
    return colours, durations


def assert_same_animation(result: Prepared, colours, durations) -> None:
    got_colours, got_durations = frame_colours_and_durations(result.data)
    assert len(got_colours) == len(colours)
    assert all(near(got, want, 8) for got, want in zip(got_colours, colours, strict=True))
    assert got_durations == list(durations)
    assert opened(result.data).info.get("loop") == 0


def test_a_gif_keeps_every_frame_and_duration_but_not_its_comment():
    colours, durations = (samples.RED, samples.GREEN, samples.BLUE), (100, 200, 300)
    original = samples.gif_with_comment(colours, durations)
    assert samples.SECRET.encode() in original

    result = prepare(original, "leak.gif")

    assert result.content_type == "image/gif"
    assert_same_animation(result, colours, durations)
    assert_no_metadata(result.data)
    assert all("comment" not in frame.info for frame in ImageSequence.Iterator(opened(result.data)))


def test_the_thumbnail_of_an_animation_is_its_first_frame():
    colours = (samples.YELLOW, samples.BLUE, samples.GREEN)
    for original in (
        samples.gif_with_comment(colours),
        samples.animated_webp(colours),
        samples.apng_with_text(colours),
    ):
        thumbnail = opened(prepare(original, "x").thumbnail)
        assert getattr(thumbnail, "n_frames", 1) == 1
        assert near(thumbnail.convert("RGB").getpixel((5, 5)), samples.YELLOW, 8)


def test_an_animated_webp_keeps_its_frames_without_metadata():
    colours, durations = (samples.RED, samples.GREEN, samples.BLUE), (100, 200, 300)
    original = samples.animated_webp(colours, durations)
    assert {b"EXIF", b"XMP "} <= set(samples.riff_chunk_types(original))

    result = prepare(original, "clip.webp")

    assert set(samples.riff_chunk_types(result.data)) <= BARE_ANIMATED_WEBP_CHUNKS
    assert_same_animation(result, colours, durations)
    assert_no_metadata(result.data)


def test_an_animated_png_keeps_its_frames_without_text():
    colours, durations = (samples.RED, samples.GREEN, samples.BLUE), (100, 200, 300)
    result = prepare(samples.apng_with_text(colours, durations), "clip.png")

    assert set(samples.png_chunk_types(result.data)) <= BARE_PNG_CHUNKS | {
        b"acTL",
        b"fcTL",
        b"fdAT",
    }
    assert_same_animation(result, colours, durations)
    assert_no_metadata(result.data)


def test_a_transparent_gif_frame_stays_transparent():
    solid = Image.new("RGBA", (20, 10), (*samples.RED, 255))
    solid.putpixel((0, 0), (0, 0, 0, 0))
    half = Image.new("RGBA", (20, 10), (0, 0, 0, 0))
    half.paste((*samples.BLUE, 255), (0, 0, 10, 10))
    original = samples.encoded(
        solid, "GIF", save_all=True, append_images=[half], duration=100, disposal=2
    )

    second = opened(prepare(original, "x.gif").data)
    second.seek(1)

    assert second.convert("RGBA").getpixel((15, 5))[3] == 0
    assert near(second.convert("RGBA").getpixel((5, 5)), samples.BLUE, 8)


def test_a_colour_profile_is_applied_then_dropped():
    # In the sample's profile, red and blue primaries trade places: its "red" is sRGB blue.
    original = samples.encoded(
        samples.halves(), "PNG", icc_profile=samples.swapped_primaries_profile()
    )

    result = prepare(original, "x.png")

    picture = opened(result.data)
    assert "icc_profile" not in picture.info
    red, _green, blue = picture.convert("RGB").getpixel((2, 2))
    assert blue > 200 and red < 120


def test_a_broken_colour_profile_is_dropped_and_the_pixels_kept():
    original = samples.encoded(samples.halves(), "JPEG", icc_profile=b"not a colour profile")

    result = prepare(original, "x.jpg")

    assert "icc_profile" not in opened(result.data).info
    assert near(opened(result.data).getpixel((2, 2)), samples.RED)


def test_transparency_is_kept_in_png_and_in_the_thumbnail():
    picture = Image.new("RGBA", (30, 20), (0, 0, 0, 0))
    picture.paste((*samples.GREEN, 255), (0, 0, 15, 20))

    result = prepare(samples.encoded(picture, "PNG"), "x.png")

    for data in (result.data, result.thumbnail):
        out = opened(data).convert("RGBA")
        assert out.getpixel((25, 10))[3] == 0
        assert near(out.getpixel((5, 10)), samples.GREEN, 8) and out.getpixel((5, 10))[3] == 255


def test_a_transparent_heic_becomes_a_jpeg_on_white():
    picture = Image.new("RGBA", (32, 32), (0, 0, 0, 0))
    out = io.BytesIO()
    picture.save(out, "HEIF", quality=90)

    result = prepare(out.getvalue(), "x.heic")

    assert near(opened(result.data).getpixel((16, 16)), (255, 255, 255), 8)


def test_sixteen_bit_grey_is_scaled_to_eight_bits_not_clipped():
    original = samples.encoded(Image.new("I;16", (8, 8), 30000), "PNG")

    result = prepare(original, "scan.png")

    assert near(opened(result.data).convert("RGB").getpixel((4, 4)), (117, 117, 117), 2)


def test_cmyk_jpeg_becomes_rgb():
    original = samples.encoded(Image.new("CMYK", (8, 8), (0, 255, 255, 0)), "JPEG")

    picture = opened(prepare(original, "print.jpg").data)

    assert picture.mode == "RGB" and near(picture.getpixel((4, 4)), (255, 0, 0), 8)


def test_an_mpo_keeps_its_first_picture_as_a_jpeg():
    second = Image.new("RGB", (60, 40), samples.GREEN)
    original = samples.encoded(samples.halves(), "MPO", save_all=True, append_images=[second])

    result = prepare(original, "stereo.jpg")

    picture = opened(result.data)
    assert (picture.format, getattr(picture, "n_frames", 1)) == ("JPEG", 1)
    assert near(picture.getpixel((2, 2)), samples.RED)


@pytest.mark.parametrize(
    ("size", "expected"),
    [((9000, 3000), (4096, 1365)), ((5000, 100), (4096, 82)), ((3000, 4096), (3000, 4096))],
)
def test_big_photos_are_scaled_to_4096_on_the_long_side(size, expected):
    original = samples.encoded(Image.new("RGB", size, samples.GREEN), "JPEG")

    result = prepare(original, "big.jpg")

    assert (result.width, result.height) == expected == opened(result.data).size


@pytest.mark.parametrize(
    ("size", "expected"),
    [((2000, 1000), (480, 240)), ((300, 900), (160, 480)), ((100, 50), (100, 50))],
)
def test_thumbnails_fit_480_by_480_and_are_never_enlarged(size, expected):
    result = prepare(samples.encoded(Image.new("RGB", size, samples.BLUE), "PNG"), "x.png")

    assert opened(result.thumbnail).size == expected
    assert (result.width, result.height) == size


def test_a_pixel_bomb_that_pillow_itself_refuses_is_too_large_with_its_size(no_decoding):
    # 60000 x 60000 RGBA would take 14.4 GB to decode; the file is a few hundred bytes.
    bomb = samples.png_claiming(60000, 60000)
    assert len(bomb) < 1000

    with pytest.raises(TooLarge) as refused:
        prepare(bomb, "radiator.png")

    assert refused.value.field == "file" and refused.value.status == 413
    assert f"60000{BY}60000" in refused.value.detail and "50 megapixels" in refused.value.detail


def test_an_image_over_50_megapixels_is_refused_before_decoding(no_decoding):
    with pytest.raises(TooLarge, match=f"8000{BY}8000 pixels; at most 50 megapixels"):
        prepare(samples.png_claiming(8000, 8000), "x.png")


def test_pillows_bomb_warning_is_too_large_even_when_warnings_are_errors(no_decoding):
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        with pytest.raises(TooLarge, match=f"10000{BY}10000 pixels"):
            prepare(samples.png_claiming(10000, 10000), "x.png")


def test_an_animation_with_too_many_frames_is_refused():
    with pytest.raises(TooLarge, match=r"too many frames \(201; at most 200\)"):
        prepare(samples.many_frames_gif(201), "x.gif")
    assert opened(prepare(samples.many_frames_gif(200), "x.gif").data).n_frames == 200


def test_an_animation_too_large_in_all_is_refused_before_any_frame_is_decoded(no_decoding):
    # Three frames of 20 megapixels: each within the limit, together over it.
    with pytest.raises(TooLarge, match=f"3 frames of 5000{BY}4000 pixels"):
        prepare(samples.gif_canvas(5000, 4000, [(1, 1)] * 3), "x.gif")


def test_a_gif_frame_larger_than_its_canvas_is_checked_before_it_is_decoded():
    with pytest.raises(TooLarge, match=rf"this image is too large \(8000{BY}8000 pixels"):
        prepare(samples.gif_canvas(10, 10, [(1, 1), (8000, 8000)]), "x.gif")


@pytest.mark.parametrize(
    "build",
    [
        samples.jpeg_with_gps,
        samples.png_with_text,
        samples.gif_with_comment,
        samples.webp_with_metadata,
        samples.heic_with_gps,
    ],
    ids=lambda build: build.__name__,
)
def test_a_truncated_image_is_damaged(build):
    whole = build()

    with pytest.raises(UnsupportedType) as refused:
        prepare(whole[: len(whole) * 2 // 3], "x")

    assert refused.value.detail == images.DAMAGED and refused.value.status == 415


def test_a_jpeg_of_very_many_scans_is_refused_before_decoding(no_decoding):
    jpeg = samples.jpeg_with_gps()
    scans = jpeg[:-2] + b"\xff\xda\x00\x08\x01\x01\x00\x00\x3f\x00" * 150 + jpeg[-2:]

    with pytest.raises(UnsupportedType, match=r"\d+ scans; at most 100"):
        prepare(scans, "x.jpg")


def test_what_comes_out_can_be_prepared_again_to_the_same_picture():
    once = prepare(samples.jpeg_with_gps(), "x.jpg")
    twice = prepare(once.data, "x.jpg")

    assert (twice.width, twice.height) == (once.width, once.height)
    assert near(opened(twice.data).getpixel((20, 2)), samples.RED)


def test_reencode_names_the_kind_it_wrote():
    assert images.reencode(samples.heic_with_gps(), kinds.HEIC).kind is kinds.JPEG
    assert images.reencode(samples.png_with_text(), kinds.PNG).kind is kinds.PNG
