"""Live and streamed input: URLs, standard input, cameras, the live mode that never falls behind, --show."""

import csv
import http.server
import io
import os
import re
import signal
import socket
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from skimage import data

from fkp_classic.cli import main
from fkp_classic.video import FaceTracker, VideoError, VideoWriter, read_video

FPS = 25
INTERVAL = 1 / FPS


@pytest.fixture(scope="module")
def stream_clip(tmp_path_factory):
    """2 seconds at 25 fps of the camera panning across the astronaut (256 x 256), in Matroska: a streamable format."""
    path = tmp_path_factory.mktemp("live") / "panning.mkv"
    with VideoWriter(path, fps=FPS) as out:
        for shift in range(2 * FPS):
            out.write(np.roll(data.astronaut()[::2, ::2], shift, axis=1))
    return path


@pytest.fixture(scope="module")
def paced_server(stream_clip):
    """An HTTP server on this machine giving ``stream_clip`` paced at its frame rate, as a live stream comes."""
    import av

    payload = stream_clip.read_bytes()
    with av.open(str(stream_clip)) as container:  # where each frame's bytes end: a frame sent per frame interval
        ends = sorted(packet.pos + packet.size for packet in container.demux(video=0) if packet.size)
    ends[-1] = len(payload)

    class Paced(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            if self.path != "/live.mkv":
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Type", "video/x-matroska")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            sent = 0
            for end in ends:
                self.wfile.write(payload[sent:end])
                self.wfile.flush()
                sent = end
                time.sleep(INTERVAL)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Paced)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


def _stdin(monkeypatch, payload):
    """Standard input holding ``payload`` through a real pipe, written by a thread as it is read."""
    read_end, write_end = os.pipe()

    def write():
        with os.fdopen(write_end, "wb") as fh:
            fh.write(payload)

    threading.Thread(target=write, daemon=True).start()
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(os.fdopen(read_end, "rb")))


def test_a_live_stream_read_by_a_slow_reader_drops_frames_and_keeps_latency_bounded(paced_server):
    video = read_video(f"{paced_server}/live.mkv")  # a URL: live by default, and not turned into a path
    assert video.live and video.path == f"{paced_server}/live.mkv" and (video.width, video.height) == (256, 256)
    work = 3 * INTERVAL  # a reader three times slower than the stream
    taken, waits = [], []
    for frame in video.frames():
        waits.append(time.perf_counter() - frame.captured_at)  # how old the frame is when the reader gets it
        taken.append(frame)
        time.sleep(work)
    indices = [f.index for f in taken]
    assert indices[-1] == 2 * FPS - 1 and np.all(np.diff(indices) >= 1)
    assert [f.skipped for f in taken[1:]] == list(np.diff(indices) - 1)  # every drop recorded
    assert video.n_dropped == 2 * FPS - len(taken) and video.n_dropped > FPS // 2  # most frames dropped
    # a frame waits at most about one frame interval for the reader (a newer one replaces it after that), never
    # the backlog a reader of every frame would build (two seconds of stream read at a third of its pace)
    assert max(waits) < 2 * INTERVAL + work and np.median(waits) < 1.5 * INTERVAL
    assert taken[-1].time_s == pytest.approx(indices[-1] * INTERVAL, abs=0.01)  # time stamps from the stream
    with pytest.raises(VideoError, match="was read already"):
        next(iter(video))


def test_fkp_track_live_stream_writes_skips_and_latency_to_the_csv(paced_server, tmp_path, capsys, monkeypatch):
    update, spent = FaceTracker.update, {}

    def slow_update(self, frame, time_s=None, name="frame"):  # a deliberately slow tracker: 80 ms more a frame
        start = time.perf_counter()
        time.sleep(2 * INTERVAL)
        faces = update(self, frame, time_s, name)
        spent[int(name.split()[-1])] = time.perf_counter() - start
        return faces

    monkeypatch.setattr(FaceTracker, "update", slow_update)
    table = tmp_path / "live.csv"
    assert main(["track", f"{paced_server}/live.mkv", "--min-score", "2", "--csv", str(table)]) == 0
    out = capsys.readouterr().out
    rows = list(csv.DictReader(table.open()))
    assert list(rows[0])[:5] == ["frame", "time_s", "skipped", "latency_ms", "track_id"]
    frames = np.array([int(r["frame"]) for r in rows])
    skipped = np.array([int(r["skipped"]) for r in rows])
    assert len(set(frames)) == len(frames)  # one face a frame
    assert list(skipped[1:]) == list(np.diff(frames) - 1) and skipped.sum() > FPS // 2
    assert f"live: {2 * FPS - len(frames)} frames dropped" in out
    # latency: the frame's processing, and at most about one frame interval waiting for the tracker (a newer
    # frame replaces it after that); the stream's last waits for the frame before it, with none to replace it
    latency = np.array([float(r["latency_ms"]) / 1000 for r in rows])
    work = np.array([spent[i] for i in frames])
    assert np.all(latency[:-1] < work[:-1] + 2 * INTERVAL) and latency[-1] < work[-1] + work[-2] + INTERVAL
    assert float(rows[-1]["time_s"]) == pytest.approx(frames[-1] * INTERVAL, abs=0.01)


def test_fkp_track_reads_standard_input_and_files_keep_every_frame(stream_clip, tmp_path, capsys, monkeypatch):
    _stdin(monkeypatch, stream_clip.read_bytes())
    assert main(["track", "-", "--min-score", "1", "--csv", str(tmp_path / "piped.csv")]) == 0
    assert "standard input: 50 frames" in capsys.readouterr().out
    assert main(["track", str(stream_clip), "--min-score", "1", "--csv", str(tmp_path / "file.csv")]) == 0
    capsys.readouterr()
    # a pipe is not live by default: every frame, the same rows as the file's
    assert (tmp_path / "piped.csv").read_text() == (tmp_path / "file.csv").read_text()
    # --live plays a file at its frame rate and drops what a slow tracker has no time for
    monkeypatch.setattr(FaceTracker, "update", _slowed(FaceTracker.update, 3 * INTERVAL))
    assert main(["track", str(stream_clip), "--live", "--min-score", "1"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["second", "frames", "dropped", "faces/frame", "latency_ms", "max_ms", "tracks"]
    per_second = [[float(cell) for cell in line.split()[:6]] for line in lines[1:3]]
    assert all(dropped > frames for _, frames, dropped, _, _, _ in per_second)  # played at 25 fps: most dropped
    n_frames, n_dropped = map(int, re.search(r"(\d+) frames, .* (\d+) frames dropped", lines[-1]).groups())
    assert n_frames + n_dropped == 2 * FPS
    # not behind: a frame waits under about an interval for the tracker, whose work is 3 intervals and a little
    assert all(mean_ms < 1000 * 6 * INTERVAL for _, _, _, _, mean_ms, _ in per_second)


def _slowed(update, seconds):
    def slow(self, frame, time_s=None, name="frame"):
        time.sleep(seconds)
        return update(self, frame, time_s, name)

    return slow


def test_bad_live_inputs_get_one_line_naming_them(stream_clip, tmp_path, capsys, monkeypatch):
    url = "http://127.0.0.1:9/stream.mp4"  # the discard port: nothing listens
    assert main(["track", url, "--csv", str(tmp_path / "t.csv")]) == 2
    err = capsys.readouterr().err
    assert err.count("fkp: error:") == 1 and f"cannot open {url}: Connection refused" in err and "Traceback" not in err
    _stdin(monkeypatch, b"")
    assert main(["track", "-"]) == 2
    assert "fkp: error: standard input is empty: pipe a video in" in capsys.readouterr().err
    mp4 = tmp_path / "clip.mp4"  # its index at the end: not readable from a pipe, and said so
    with VideoWriter(mp4, fps=FPS) as out:
        for _ in range(20):
            out.write(np.random.default_rng(0).integers(0, 255, (240, 320, 3), dtype=np.uint8))
    _stdin(monkeypatch, mp4.read_bytes())
    assert main(["track", "-"]) == 2
    assert "cannot be read from a pipe: give its path" in capsys.readouterr().err
    assert main(["track", "-", "--camera", "0"]) == 2
    assert "give a video (a file, a URL, or - for standard input) or --camera" in capsys.readouterr().err
    if sys.platform.startswith("linux") and not Path("/dev/video9").exists():
        assert main(["track", "--camera", "9"]) == 2
        assert "fkp: error: cannot open camera 9 (/dev/video9 through FFmpeg's v4l2): no such camera" in \
               capsys.readouterr().err
    assert not (tmp_path / "t.csv").exists()
    with socket.socket() as silent:  # a server that takes the connection and never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        start = time.perf_counter()
        with pytest.raises(VideoError, match=r"cannot open http://127.0.0.1:\d+/x.mkv: no answer in 0.3 s"):
            read_video(f"http://127.0.0.1:{silent.getsockname()[1]}/x.mkv", timeout=0.3)
        assert time.perf_counter() - start < 3


def test_fkp_detect_reads_a_photo_from_standard_input(tmp_path, capsys, monkeypatch):
    import json

    buffer = io.BytesIO()
    Image.fromarray(data.astronaut()).save(buffer, format="PNG")
    _stdin(monkeypatch, buffer.getvalue())
    assert main(["detect", "-", "--min-score", "1", "--json", "-", "-o", str(tmp_path / "seen.png")]) == 0
    [record] = json.loads(capsys.readouterr().out)
    assert record["photo"] == "-" and record["error"] is None and len(record["faces"]) >= 1
    assert Image.open(tmp_path / "seen.png").size == (512, 512)
    _stdin(monkeypatch, b"")
    assert main(["detect", "-"]) == 2
    assert "fkp: error: standard input is empty: pipe a photo in" in capsys.readouterr().err
    assert main(["detect", "-", str(tmp_path / "seen.png")]) == 2
    assert "- reads one photo from standard input: give it alone" in capsys.readouterr().err


def test_show_without_a_window_is_one_error_line(stream_clip, tmp_path, capsys, monkeypatch):
    import matplotlib.pyplot as plt

    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    args = ["track", str(stream_clip), "--show", "--csv", str(tmp_path / "t.csv")]
    if sys.platform.startswith("linux"):
        assert main(args) == 2
        err = capsys.readouterr().err
        assert err.count("fkp: error:") == 1 and "--show: a preview window needs a display" in err
    monkeypatch.setenv("DISPLAY", ":99")
    plt.switch_backend("agg")  # a display, but matplotlib has no toolkit to draw a window with
    assert main(args) == 2
    assert "--show: matplotlib draws no windows here (its backend is agg)" in capsys.readouterr().err
    assert not (tmp_path / "t.csv").exists()


def test_closing_the_preview_or_ctrl_c_stops_the_run_and_writes_the_outputs(stream_clip, tmp_path, capsys,
                                                                            monkeypatch):
    import matplotlib.pyplot as plt

    from fkp_classic.video import _preview

    monkeypatch.setattr(_preview, "check_display", lambda: None)  # the window drawn off screen, as on a display
    plt.switch_backend("agg")
    open_before = set(plt.get_fignums())  # figures other tests left open are not the preview's
    show, shown = _preview.Preview.show, []

    def show_and_close(self, rgb):  # the user closes the window after the third frame
        show(self, rgb)
        shown.append(rgb.shape)
        if len(shown) == 3:
            plt.close(self._figure)

    monkeypatch.setattr(_preview.Preview, "show", show_and_close)
    table, out = tmp_path / "shown.csv", tmp_path / "shown.mp4"
    assert main(["track", str(stream_clip), "--show", "--min-score", "1", "--csv", str(table), "-o", str(out)]) == 0
    assert shown == [(256, 256, 3)] * 3 and set(plt.get_fignums()) == open_before  # the preview's window closed
    assert "stopped by the preview window closed after 3 frames" in capsys.readouterr().out
    assert {r["frame"] for r in csv.DictReader(table.open())} == {"0", "1", "2"} and sum(1 for _ in read_video(out)) == 3
    # Ctrl-C in a live run: the frame in hand is finished, the outputs written, the handler given back
    before = signal.getsignal(signal.SIGINT)  # Python's own, or SIG_IGN when started in the background
    update = FaceTracker.update

    def interrupted(self, frame, time_s=None, name="frame"):
        if name == "frame 0":
            signal.raise_signal(signal.SIGINT)
        return update(self, frame, time_s, name)

    monkeypatch.setattr(FaceTracker, "update", interrupted)
    assert main(["track", str(stream_clip), "--live", "--min-score", "1", "--csv", str(table)]) == 0
    assert "stopped by Ctrl-C after 1 frames" in capsys.readouterr().out
    assert {r["frame"] for r in csv.DictReader(table.open())} == {"0"}
    assert signal.getsignal(signal.SIGINT) is before  # restored
