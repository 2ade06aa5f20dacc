"""Property-based: hostile photo and video bytes give the right result or a named error, quickly, in bounded memory.

Each example damages a small valid file (a photo of every format Pillow
writes here, a video of each container ``VideoWriter`` writes): cut at any
byte, bytes flipped, a header patched to claim a huge (or zero) size or
millions of frames, a decompression bomb. Reading it must then give a
picture of the promised dtype and shape within the limits, or raise
:class:`PhotoError` / :class:`VideoError` naming the file; any other
exception, a read slower than a few seconds, fails. ``fkp detect`` and
``fkp track`` on such files exit 0 or 2 with one ``fkp: error:`` line and
leave no half-written output. Dedicated tests check that a video claiming
100000x100000 pixels or 10 million frames, and a photo bomb, are handled
in under 10 s with a peak RSS under 500 MiB (in a child process).

CI runs a small number of examples per property (the "ci" profile);
``HYPOTHESIS_PROFILE=thorough python -m pytest tests/test_hostile_media.py``
runs 2000 per property by hand.
"""

import contextlib
import io
import json
import os
import struct
import subprocess
import sys
import time
import zlib

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image, features
from skimage import data

from fkp_classic.cli import main
from fkp_classic.photo import PhotoError, read_photo
from fkp_classic.photo._read import MAX_PIXELS
from fkp_classic.video import VideoError, VideoWriter, read_video

settings.register_profile(
    "ci", max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)
settings.register_profile(
    "thorough", max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

SECONDS = 5.0  # the longest any single hostile read may take here (the 10 s targets run in a child process)
HUGE = (0, 1, 65535, 65536, 100_000, 2**24, 2**31 - 1, 2**32 - 1)


# --- photos -------------------------------------------------------------------------------------------------

def _photo_seeds():
    """Small valid photos, as bytes, of every format Pillow writes here (and some of their variants)."""
    rgb = Image.fromarray(data.astronaut()[::16, ::16])  # 32x32
    seeds = {}

    def save(name, image, fmt, **kwargs):
        buffer = io.BytesIO()
        image.save(buffer, fmt, **kwargs)
        seeds[name] = buffer.getvalue()

    save("rgb.png", rgb, "PNG")
    save("gray16.png", Image.fromarray((np.asarray(rgb.convert("L"), np.uint16) * 257)), "PNG")
    save("palette.png", rgb.convert("P"), "PNG", transparency=0)
    save("photo.jpg", rgb, "JPEG", quality=80)
    save("progressive.jpg", rgb, "JPEG", progressive=True)
    save("cmyk.jpg", rgb.convert("CMYK"), "JPEG")
    save("animated.gif", rgb.convert("P"), "GIF", save_all=True, append_images=[rgb.rotate(90).convert("P")])
    save("photo.bmp", rgb, "BMP")
    save("photo.tiff", rgb, "TIFF")
    save("deflate.tiff", rgb, "TIFF", compression="tiff_deflate")
    save("pages.tiff", rgb, "TIFF", save_all=True, append_images=[rgb.convert("L")])
    if features.check("webp"):
        save("photo.webp", rgb, "WEBP", quality=80)
        save("lossless.webp", rgb, "WEBP", lossless=True)
    return seeds


PHOTOS = _photo_seeds()


def _png_chunk(kind, payload):
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))


def _claim_size(raw, name, width, height):
    """``raw`` with its header patched to claim ``width`` x ``height`` (checksums kept valid)."""
    raw = bytearray(raw)
    if name.endswith(".png"):
        ihdr = raw[16:29]
        ihdr[0:8] = struct.pack(">II", width, height)
        raw[8:33] = _png_chunk(b"IHDR", bytes(ihdr))
    elif name.endswith(".bmp"):
        raw[18:26] = struct.pack("<ii", min(width, 2**31 - 1), min(height, 2**31 - 1))
    elif name.endswith(".gif"):
        raw[6:10] = struct.pack("<HH", width & 0xFFFF, height & 0xFFFF)
        at = raw.find(b"\x2c", 13)  # the first image descriptor (or a byte that looks like one)
        if at > 0 and at + 9 <= len(raw):
            raw[at + 5:at + 9] = struct.pack("<HH", width & 0xFFFF, height & 0xFFFF)
    elif name.endswith(".jpg"):
        at = max(raw.find(b"\xff\xc0"), raw.find(b"\xff\xc2"))
        raw[at + 5:at + 9] = struct.pack(">HH", height & 0xFFFF, width & 0xFFFF)
    elif name.endswith(".tiff"):
        ifd = struct.unpack("<I", raw[4:8])[0]
        for i in range(struct.unpack("<H", raw[ifd:ifd + 2])[0]):
            entry = ifd + 2 + 12 * i
            tag, kind = struct.unpack("<HH", raw[entry:entry + 4])
            if tag in (256, 257):
                value = width if tag == 256 else height
                raw[entry + 8:entry + 12] = (struct.pack("<I", value) if kind == 4 else struct.pack("<HH", value & 0xFFFF, 0))
    elif name.endswith(".webp"):
        if raw[12:16] == b"VP8 ":
            raw[26:30] = struct.pack("<HH", width & 0x3FFF, height & 0x3FFF)
        elif raw[12:16] == b"VP8L":
            bits = ((width - 1) & 0x3FFF) | (((height - 1) & 0x3FFF) << 14)
            raw[21:25] = struct.pack("<I", bits | (struct.unpack("<I", raw[21:25])[0] & ~0xFFFFFFF))
    return bytes(raw)


def _png_bomb(width, height):
    """A PNG of ``width`` x ``height`` black gray pixels: a few hundred kilobytes unpacking to width * height bytes."""
    packer, row = zlib.compressobj(9), b"\x00" * (width + 1)
    block = row * max(1, 4_000_000 // len(row))
    rows, parts = height, []
    while rows > 0:
        n = min(rows, len(block) // len(row))
        parts.append(packer.compress(block[: n * len(row)]))
        rows -= n
    parts.append(packer.flush())
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr) + _png_chunk(b"IDAT", b"".join(parts)) + _png_chunk(b"IEND", b"")


def _damaged(seeds, claim):
    """Strategy: (name, bytes) of a seed cut, flipped, claiming another size, or several of these."""
    name = st.sampled_from(sorted(seeds))

    @st.composite
    def damage(draw):
        key = draw(name)
        raw = seeds[key]
        how = draw(st.sampled_from(["cut", "flip", "claim", "claim+cut", "flip+cut", "append"]))
        if "claim" in how:
            raw = claim(raw, key, draw(st.sampled_from(HUGE)), draw(st.sampled_from(HUGE)))
        if "flip" in how:
            raw = bytearray(raw)
            for _ in range(draw(st.integers(1, 8))):
                at = draw(st.integers(0, len(raw) - 1))
                raw[at] = draw(st.integers(0, 255))
            raw = bytes(raw)
        if "cut" in how:
            raw = raw[: draw(st.integers(0, len(raw)))]
        if how == "append":
            raw = raw + draw(st.binary(max_size=64))
        return key, raw

    return damage()


def _check_photo(path):
    start = time.perf_counter()
    try:
        photo, n_frames = read_photo(path)
    except PhotoError as exc:
        assert str(path) in str(exc), f"PhotoError without the file's name: {exc}"
    else:
        assert photo.dtype in (np.uint8, np.uint16) and photo.ndim in (2, 3) and photo.size > 0
        assert photo.ndim == 2 or photo.shape[2] == 3
        assert photo.shape[0] * photo.shape[1] <= MAX_PIXELS and n_frames >= 1
    assert time.perf_counter() - start < SECONDS, f"reading {path} took {time.perf_counter() - start:.1f} s"


@given(case=_damaged(PHOTOS, _claim_size))
def test_hostile_photo_bytes(case, tmp_path_factory):
    name, raw = case
    path = tmp_path_factory.mktemp("photo") / name
    path.write_bytes(raw)
    _check_photo(path)


def test_every_photo_seed_reads(tmp_path):
    for name, raw in PHOTOS.items():
        (tmp_path / name).write_bytes(raw)
        photo, n_frames = read_photo(tmp_path / name)
        assert photo.shape[:2] == (32, 32) and n_frames == (2 if name in ("animated.gif", "pages.tiff") else 1)


def _one_error_line(err):
    lines = [line for line in err.splitlines() if line.startswith("fkp: error:")]
    assert len(lines) == 1 and "Traceback" not in err, err


def _fkp(argv):
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        status = main(argv)
    return status, err.getvalue()


@settings(max_examples=max(10, settings().max_examples // 3))
@given(case=_damaged(PHOTOS, _claim_size))
def test_fkp_detect_on_hostile_photos(case, tmp_path_factory):
    name, raw = case
    folder = tmp_path_factory.mktemp("detect")
    (folder / name).write_bytes(raw)
    out, annotated = folder / "faces.json", folder / "annotated.png"
    status, err = _fkp(["detect", str(folder / name), "--json", str(out), "-o", str(annotated)])
    assert status in (0, 2)
    if status == 2:
        _one_error_line(err)
        assert str(folder / name) in err and not annotated.exists()
    if out.exists():  # written whole (atomically), the failure recorded in it
        assert str(folder / name) in json.loads(out.read_text())
    assert sorted(p.name for p in folder.iterdir() if p.name.startswith(".")) == []  # no temporary file left


def _peak_rss_of(code):
    """Run ``code`` in a child Python; its peak RSS in MiB and wall time in seconds."""
    child = ("import resource, sys, time\nstart = time.perf_counter()\n" + code +
             "\nprint(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, time.perf_counter() - start)")
    result = subprocess.run([sys.executable, "-c", child], capture_output=True, text=True, timeout=60,
                            cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    assert result.returncode == 0, result.stderr
    rss, seconds = map(float, result.stdout.split()[-2:])
    return rss, seconds, result.stdout


def test_photo_bombs_are_refused_in_bounded_memory(tmp_path):
    bomb = tmp_path / "bomb.png"
    bomb.write_bytes(_png_bomb(12_000, 12_000))  # 144 megapixels (under max_pixels) from about 140 kB
    claims = tmp_path / "claims.png"
    claims.write_bytes(_claim_size(PHOTOS["rgb.png"], "rgb.png", 14_000, 14_000))  # 196 megapixels, no data
    for path in (bomb, claims):
        with pytest.raises(PhotoError, match=str(path)):
            read_photo(path)
    rss, seconds, out = _peak_rss_of(
        f"from fkp_classic.photo import read_photo, PhotoError\n"
        f"for p in ({str(bomb)!r}, {str(claims)!r}):\n"
        f"    try:\n        read_photo(p)\n    except PhotoError as exc:\n        print(exc)\n")
    assert rss < 500 and seconds < 10, out
