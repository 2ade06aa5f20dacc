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
COMMAND_EXAMPLES = max(10, settings().max_examples // 3) if settings().max_examples < 2000 else settings().max_examples
"""Examples of the properties that run fkp itself: a third of the profile's in CI, all 2000 in "thorough"."""

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
    packer, row = zlib.compressobj(1), b"\x00" * (width + 1)
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


@settings(max_examples=COMMAND_EXAMPLES)
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
        assert [record["photo"] for record in json.loads(out.read_text())] == [str(folder / name)]
    assert sorted(p.name for p in folder.iterdir() if p.name.startswith(".")) == []  # no temporary file left


# --- videos -------------------------------------------------------------------------------------------------

def _video_seeds(folder):
    """Small valid videos, as bytes, of each container VideoWriter writes, and an audio-only file."""
    import av

    seeds = {}
    frames = [np.asarray(Image.fromarray(data.astronaut()[::8, ::8]).rotate(10 * i)) for i in range(3)]  # 64x64
    for suffix in (".mp4", ".avi", ".mkv", ".mov"):
        path = folder / f"clip{suffix}"
        with VideoWriter(path, fps=10) as out:
            for frame in frames:
                out.write(frame)
        seeds[path.name] = path.read_bytes()
    with av.open(os.fspath(folder / "sound.wav"), "w") as container:
        stream = container.add_stream("pcm_s16le", rate=8000)
        frame = av.AudioFrame.from_ndarray(np.zeros((1, 800), np.int16), format="s16", layout="mono")
        frame.sample_rate = 8000
        for packet in [*stream.encode(frame), *stream.encode()]:
            container.mux(packet)
    seeds["sound.wav"] = (folder / "sound.wav").read_bytes()
    return seeds


@pytest.fixture(scope="module")
def videos(tmp_path_factory):
    return _video_seeds(tmp_path_factory.mktemp("seeds"))


VIDEO_NAMES = ("clip.mp4", "clip.avi", "clip.mkv", "clip.mov", "sound.wav")


def _claim_video(raw, name, width, height):
    """``raw`` with its container's header claiming frames of ``width`` x ``height`` and ``width`` frames."""
    raw = bytearray(raw)
    if name.endswith(".avi"):
        avih, strh, strf = raw.find(b"avih"), raw.find(b"strh"), raw.find(b"strf")
        raw[avih + 24:avih + 28] = struct.pack("<I", width)  # dwTotalFrames
        raw[avih + 40:avih + 48] = struct.pack("<II", width, height)
        raw[strh + 40:strh + 44] = struct.pack("<I", width)  # dwLength
        raw[strf + 12:strf + 20] = struct.pack("<II", width, height)
    elif name.endswith((".mp4", ".mov")):
        for box, at in ((b"tkhd", 76), (b"avc1", 28)):
            start = raw.find(box)
            if box == b"tkhd" and start > 0:
                raw[start + at:start + at + 8] = struct.pack(">II", (width & 0xFFFF) << 16, (height & 0xFFFF) << 16)
            elif start > 0:
                raw[start + at:start + at + 4] = struct.pack(">HH", width & 0xFFFF, height & 0xFFFF)
        stts = raw.find(b"stts")
        if stts > 0:
            raw[stts + 12:stts + 16] = struct.pack(">I", width)  # the first run's sample count
    elif name.endswith(".mkv"):
        for element in (b"\xb0\x81", b"\xba\x81"):  # PixelWidth, PixelHeight as 1-byte values: made 4-byte claims
            at = raw.find(element)
            if at > 0:
                raw[at + 1:at + 3] = b"\x81" + bytes([width & 0xFF])
    return bytes(raw)


def _check_video(path):
    start = time.perf_counter()
    try:
        video = read_video(path)
        n = 0
        for frame in video:
            assert frame.dtype == np.uint8 and frame.ndim == 3 and frame.shape[2] == 3 and frame.size > 0
            n += 1
        assert n >= 1
    except VideoError as exc:
        assert str(path) in str(exc), f"VideoError without the file's name: {exc}"
    assert time.perf_counter() - start < SECONDS, f"reading {path} took {time.perf_counter() - start:.1f} s"


VIDEO_SEEDS = {}  # filled by the fixture below before the properties draw from it


@pytest.fixture(scope="module", autouse=True)
def _video_seeds_for_strategies(videos):
    VIDEO_SEEDS.update(videos)


@given(case=st.deferred(lambda: _damaged(VIDEO_SEEDS, _claim_video)))
def test_hostile_video_bytes(case, tmp_path_factory):
    name, raw = case
    path = tmp_path_factory.mktemp("video") / name
    path.write_bytes(raw)
    _check_video(path)


def test_every_video_seed_reads_or_is_refused(videos, tmp_path):
    for name, raw in videos.items():
        (tmp_path / name).write_bytes(raw)
        if name == "sound.wav":
            with pytest.raises(VideoError, match="holds no video stream"):
                read_video(tmp_path / name)
        else:
            assert sum(1 for _ in read_video(tmp_path / name)) == 3


@settings(max_examples=COMMAND_EXAMPLES)
@given(case=st.deferred(lambda: _damaged(VIDEO_SEEDS, _claim_video)))
def test_fkp_track_on_hostile_videos(case, tmp_path_factory):
    name, raw = case
    folder = tmp_path_factory.mktemp("track")
    (folder / name).write_bytes(raw)
    out = folder / "points.csv"
    start = time.perf_counter()
    status, err = _fkp(["track", str(folder / name), "--csv", str(out), "--detect-every", "1"])
    assert status in (0, 2) and time.perf_counter() - start < 4 * SECONDS
    if status == 2:
        _one_error_line(err)
        assert not out.exists()
    else:
        assert out.read_text().startswith("frame,time_s,track_id")
    assert sorted(p.name for p in folder.iterdir() if p.name.startswith(".")) == []  # no temporary file left


def test_a_video_with_no_frames_is_refused(videos, tmp_path):
    path = tmp_path / "empty.avi"
    raw = videos["clip.avi"]
    path.write_bytes(raw[: raw.find(b"movi") + 4])  # the headers, the frames' list opened, and no frame
    with pytest.raises(VideoError, match=f"{path}.*no video frame"):
        list(read_video(path))
    assert _fkp(["track", str(path), "--csv", str(tmp_path / "p.csv")])[0] == 2
    assert not (tmp_path / "p.csv").exists()


def _huge_video(raw, name):
    """``raw`` claiming 100000 x 100000 pixels (AVI; MP4's 16-bit fields: 65535 x 65535) and 10 million frames."""
    raw = bytearray(_claim_video(raw, name, 100_000 if name.endswith(".avi") else 65_535, 100_000))
    if name.endswith(".avi"):
        avih, strh = raw.find(b"avih"), raw.find(b"strh")
        raw[avih + 24:avih + 28] = struct.pack("<I", 10_000_000)
        raw[strh + 40:strh + 44] = struct.pack("<I", 10_000_000)
    else:
        stts = raw.find(b"stts")
        raw[stts + 12:stts + 16] = struct.pack(">I", 10_000_000)
    return bytes(raw)


_CHILD = """
import json, resource, sys, time
from fkp_classic.photo import PhotoError, read_photo
from fkp_classic.video import VideoError, read_video
outcomes = []
for path in sys.argv[1:]:
    start = time.perf_counter()
    try:
        if path.endswith(".png"):
            read_photo(path)
            outcome = "read"
        else:
            outcome = f"{sum(1 for _ in read_video(path))} frames"
    except (PhotoError, VideoError) as exc:
        outcome = str(exc)
    outcomes.append((path, outcome, time.perf_counter() - start))
# this process's own peak (VmHWM): ru_maxrss keeps the peak of the parent it was forked from, the test runner
try:
    peak = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM:")) / 1024
except OSError:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"outcomes": outcomes, "peak_mib": peak}))
"""


def test_huge_claims_are_handled_quickly_in_bounded_memory(videos, tmp_path):
    """A photo bomb and photo, AVI and MP4 headers claiming huge sizes (and 10 million frames), read in a child
    process: each refused naming the file or read as the frames it holds, in under 10 s, peak RSS under 500 MiB."""
    files = {"bomb.png": _png_bomb(12_000, 12_000),  # 144 megapixels (under max_pixels) from about 600 kB
             "claims.png": _claim_size(PHOTOS["rgb.png"], "rgb.png", 13_000, 13_000),  # 169 megapixels, no data
             "huge.avi": _huge_video(videos["clip.avi"], "clip.avi"),
             "huge.mp4": _huge_video(videos["clip.mp4"], "clip.mp4")}
    for name, raw in files.items():
        (tmp_path / name).write_bytes(raw)
    for name in ("bomb.png", "claims.png"):  # refused before decoding, here too
        with pytest.raises(PhotoError, match=f"{tmp_path / name}: claims"):
            read_photo(tmp_path / name)
    result = subprocess.run([sys.executable, "-c", _CHILD, *(str(tmp_path / name) for name in files)],
                            capture_output=True, text=True, timeout=120,
                            cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.splitlines()[-1])
    assert report["peak_mib"] < 500, report
    for path, outcome, seconds in report["outcomes"]:
        assert seconds < 10, report
        assert outcome == "3 frames" or path in outcome, report
