"""Faces in video: the tracker, its smoothing filters, video files and fkp track."""

import csv

import numpy as np
import pytest
from PIL import Image
from skimage import data
from skimage.transform import rotate

from conftest import ROOT
from fkp_classic.cli import main
from fkp_classic.evaluation import moving_face_sequence, tracking_errors
from fkp_classic.photo import KeypointDetector
from fkp_classic.video import FaceTracker, OneEuroFilter, VideoError, VideoWriter, read_video
from fkp_classic.video._face_smoother import AlphaBetaFilter

DATA = ROOT.parent / "shared" / "data"
CLIP = DATA / "video" / "0553_01_006_donald_trump.avi"
needs_clip = pytest.mark.skipif(not CLIP.is_file(), reason=f"the real clip is not at {CLIP}")
needs_frames = pytest.mark.skipif(not (DATA / "frames" / "frames.csv").is_file(), reason="frames not found")


def test_one_euro_filter_holds_still_points_and_follows_motion():
    rng = np.random.default_rng(0)
    t = np.arange(100) / 25
    noisy = 50 + rng.normal(0, 1, (100, 1, 2))
    still = OneEuroFilter(min_cutoff=0.5, beta=1.0)
    out = np.array([still(ti, p, scale=30) for ti, p in zip(t, noisy)])
    assert out[50:].std() < 0.5 * noisy[50:].std()  # jitter removed
    ramp = np.stack([60 * t, 0 * t], axis=1)[:, None, :]  # 2 face sizes per second
    lag = {}
    for beta in (0.1, 1.0):
        moving = OneEuroFilter(min_cutoff=0.5, beta=beta)
        lag[beta] = np.abs(np.array([moving(ti, p, scale=30) for ti, p in zip(t, ramp)])[-1] - ramp[-1]).max()
    assert lag[1.0] < 3 and lag[1.0] < 0.35 * lag[0.1]  # the cutoff rises with speed: little lag
    with pytest.raises(ValueError, match="times must increase"):
        still(t[-1], noisy[0])


def test_alpha_beta_filter_catches_up_with_steady_motion():
    f = AlphaBetaFilter(0.6, 0.2)
    out = [f(t / 25, np.array([3.0 * t, -2.0 * t])) for t in range(60)]
    np.testing.assert_allclose(out[-1], [3.0 * 59, -2.0 * 59], atol=1e-6)  # no lag once settled
    with pytest.raises(ValueError, match="alpha must be in"):
        AlphaBetaFilter(alpha=0)


@needs_frames
def test_a_synthetic_sequence_is_tracked_within_tolerance():
    from fkp_classic.datasets import load_frames

    frames = load_frames(DATA / "frames", gray=False, limit=1)
    clip, truth = moving_face_sequence(frames.images[0], frames.keypoints[0], 40, random_state=3)
    assert clip.shape[0] == 40 and truth.shape == (40, 30)
    results = {}
    for smooth in (False, True):
        tracker = FaceTracker(smooth=smooth)
        tracked = [faces for _, _, faces in tracker.track(clip, fps=25)]
        assert all(len(faces) == 1 and faces[0].track_id == 0 for faces in tracked)  # never lost
        assert tracker.n_detections == 1  # the detector ran on the first frame only
        pred = np.array([faces[0].points.ravel() for faces in tracked])
        results[smooth] = tracking_errors(truth, pred)
        expected = np.array([faces[0].expected_nme for faces in tracked])  # every frame's error scales, followed too
        assert (expected > 0.01).all() and (expected < 0.2).all()
    nme, jitter = results[True]
    assert nme.max() < 0.10 and nme.mean() < 0.07
    assert jitter < 0.7 * results[False][1]


def test_a_face_leaving_and_coming_back_is_detected_again():
    photo = data.astronaut()
    empty = np.full_like(photo, 128)
    frames = [photo] * 3 + [empty] * 3 + [photo] * 3
    tracker = FaceTracker(min_score=1.75)
    found = [faces for _, _, faces in tracker.track(frames)]
    assert [len(f) for f in found] == [1, 1, 1, 0, 0, 0, 1, 1, 1]
    assert {f[0].track_id for f in found[:3]} == {0} and {f[0].track_id for f in found[6:]} == {1}
    np.testing.assert_allclose(found[7][0].points, found[1][0].points, atol=3)


def test_the_tracker_takes_up_no_face_the_keypoint_model_doubts():
    photo = data.astronaut()  # with every candidate scored in: her face and the suit's patterns
    counts = [len(FaceTracker(min_score=-10, max_point_std=limit).update(photo))
              for limit in ("auto", None)]
    assert 1 < counts[0] < counts[1]
    assert FaceTracker().detector.max_point_std == KeypointDetector().max_point_std


def test_two_faces_keep_distinct_ids():
    photo = data.astronaut()
    pair = np.concatenate([photo, photo[:, ::-1]], axis=1)  # her and her mirror image, side by side
    frames = [np.roll(pair, shift, axis=0) for shift in range(0, 12, 2)]
    tracker = FaceTracker(min_score=1.75)
    tracked = [sorted(faces, key=lambda f: f.track_id) for _, _, faces in tracker.track(frames)]
    assert all(len(faces) == 2 for faces in tracked)
    assert {tuple(f.track_id for f in faces) for faces in tracked} == {(0, 1)}
    sides = np.array([[f.points[:, 0].mean() > 512 for f in faces] for faces in tracked])
    assert (sides == sides[0]).all() and sides[0].sum() == 1  # each id stays on its own face
    moved = np.array([faces[0].points[:, 1].mean() for faces in tracked])
    assert np.all(np.diff(moved) > 0.5)  # and follows it down


def test_video_files_are_written_atomically_and_read_back(tmp_path):
    path = tmp_path / "out.mp4"
    with VideoWriter(path, fps=25) as out:
        for i in range(12):
            out.write(np.full((61, 80, 3), 20 * i, np.uint8))  # odd height: padded for yuv420p
    video = read_video(path)
    frames = list(video)
    assert len(frames) == 12 and frames[0].shape == (62, 80, 3) and video.fps == 25
    assert abs(float(frames[5].mean()) - 100) < 3
    with pytest.raises(RuntimeError, match="stop"):
        with VideoWriter(tmp_path / "half.mp4", fps=25) as out:
            out.write(np.zeros((32, 32, 3), np.uint8))
            raise RuntimeError("stop")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.mp4"]  # nothing half-written left
    with pytest.raises(VideoError, match="the suffix names no video format"):
        VideoWriter(tmp_path / "out.gif", fps=25)
    for bad in ({"fps": 0}, {"fps": 25, "quality": 60}):
        with pytest.raises(ValueError, match=f"The '{next(reversed(bad))}' parameter of VideoWriter must be"):
            VideoWriter(tmp_path / "bad.mp4", **bad)
    with pytest.warns(FutureWarning, match="pass fps=25 as keyword arguments: VideoWriter takes 1"):
        assert VideoWriter(tmp_path / "old.mp4", 25).fps == 25


@needs_clip
def test_fkp_track_writes_the_documented_csv_and_a_playable_video(tmp_path, capsys):
    out, table = tmp_path / "annotated.mp4", tmp_path / "points.csv"
    assert main(["track", str(CLIP), "-o", str(out), "--csv", str(table)]) == 0
    assert "201 frames, a face on 201 (100%)" in capsys.readouterr().out
    rows = list(csv.reader(table.open()))
    from fkp_classic.keypoints import KAGGLE_NAMES

    assert rows[0] == ["frame", "time_s", "track_id", "box_x", "box_y", "box_w", "box_h", "score", "expected_nme"] + [
        f"{n}_{a}" for n in KAGGLE_NAMES for a in ("x", "y")]
    assert len(rows) == 202 and [r[0] for r in rows[1:4]] == ["0", "1", "2"] and rows[2][1] == "0.040"
    video = read_video(out)
    assert (video.width, video.height) == (320, 240) and sum(1 for _ in video) == 201


def test_fkp_track_names_bad_videos_in_one_line(tmp_path, capsys):
    Image.fromarray(data.astronaut()).save(tmp_path / "photo.png")
    (tmp_path / "notes.mp4").write_text("not a video")
    cases = [(tmp_path / "none.mp4", "no such file"), (tmp_path / "photo.png", "is a still image"),
             (tmp_path / "notes.mp4", "is not a video FFmpeg can read"), (tmp_path, "it is a folder")]
    for path, message in cases:
        assert main(["track", str(path), "--csv", str(tmp_path / "p.csv")]) == 2
        err = capsys.readouterr().err
        assert err.count("fkp: error:") == 1 and message in err and "Traceback" not in err
    assert main(["track", str(tmp_path / "none.mp4")]) == 2  # without outputs too: the video's problem, said once
    assert capsys.readouterr().err.count("no such file") == 1
    assert not (tmp_path / "p.csv").exists()


@pytest.fixture(scope="module")
def panning_clip(tmp_path_factory):
    """2.5 seconds at 10 fps of the camera panning across the astronaut at 256 x 256: quick to track."""
    path = tmp_path_factory.mktemp("clip") / "panning.mp4"
    with VideoWriter(path, fps=10) as out:
        for shift in range(25):
            out.write(np.roll(data.astronaut()[::2, ::2], shift, axis=1))
    return path


def test_fkp_track_without_outputs_prints_what_it_finds_second_by_second(panning_clip, capsys):
    # min_score 2: the astronaut's face scores about 3, the patch of her suit that is issue 34's false face about 1.5
    assert main(["track", str(panning_clip), "--min-score", "2"]) == 0
    out, err = capsys.readouterr()
    lines = out.splitlines()
    assert lines[0].split() == ["second", "frames", "faces/frame", "tracks"] and err == ""
    assert [line.split() for line in lines[1:4]] == [["0", "10", "1.00", "0"], ["1", "10", "1.00", "0"],
                                                     ["2", "5", "1.00", "0"]]
    assert lines[4].endswith("25 frames, a face on 25 (100%), 1 track(s); face detector run on 1 frames")


def test_fkp_track_csv_to_standard_output_with_score_and_expected_nme(panning_clip, tmp_path, capsys, monkeypatch):
    from fkp_classic import MeanKeypoints, load_default_model, save_model
    from fkp_classic.keypoints import KAGGLE_15

    monkeypatch.chdir(tmp_path)  # where a file named "-" would land

    assert main(["track", str(panning_clip), "--min-score", "2", "--csv", "-"]) == 0
    out, err = capsys.readouterr()
    rows = list(csv.DictReader(out.splitlines()))  # standard output holds the CSV alone
    assert len(rows) == 25 and list(rows[0])[7:9] == ["score", "expected_nme"]
    assert all(float(r["score"]) > 1 and 0 < float(r["expected_nme"]) < 0.15 for r in rows)
    assert "wrote the CSV to standard output" in err and not (tmp_path / "-").exists()
    # a model without an error model: the expected_nme cells are empty, not missing
    mean_shape = load_default_model().mean_shape_.ravel()
    plain = tmp_path / "mean.skops"
    save_model(MeanKeypoints(layout=KAGGLE_15).fit(np.zeros((2, 96 * 96)), np.tile(mean_shape, (2, 1))), plain)
    assert main(["track", str(panning_clip), "--min-score", "1", "--csv", "-", "--model", str(plain)]) == 0
    rows = list(csv.DictReader(capsys.readouterr().out.splitlines()))
    assert rows and all(r["expected_nme"] == "" and float(r["score"]) > 1 for r in rows)


def test_fkp_track_draws_the_colour_key_on_the_video(panning_clip, tmp_path, capsys):
    out = tmp_path / "annotated.mp4"
    assert main(["track", str(panning_clip), "--min-score", "1", "-o", str(out)]) == 0
    written, source = next(iter(read_video(out))).astype(int), next(iter(read_video(panning_clip))).astype(int)
    corner = (slice(0, 80), slice(0, 80))  # the legend of 12 px text on a 256 x 256 frame: eyes, eyebrows, nose, mouth

    def cyan(image):  # the eyes' colour (0, 200, 255), give or take the video codec
        return int(((image[..., 0] < 90) & (image[..., 1] > 140) & (image[..., 2] > 190)).sum())

    assert cyan(written[corner]) > 20 and cyan(source[corner]) == 0
    assert written[corner].mean() < 0.75 * source[corner].mean()  # on its dark box


def test_a_face_turning_60_degrees_keeps_its_track():
    photo = data.astronaut()
    centre = (228, 120)  # her face
    angles = np.linspace(0, 60, 60)
    frames = [np.round(rotate(photo, a, center=centre, mode="edge") * 255).astype(np.uint8) for a in angles]
    tracker = FaceTracker(min_score=1.75)
    tracked = [faces for _, _, faces in tracker.track(frames)]
    hers = [[f for f in faces if np.abs(f.points.mean(axis=0) - centre).max() < 25] for faces in tracked]
    assert all(len(h) == 1 for h in hers) and {h[0].track_id for h in hers} == {0}  # one face, one id, throughout
    turned = np.array([h[0].angle for h in hers]) - hers[0][0].angle
    np.testing.assert_allclose(turned[-10:], angles[-10:], atol=4)  # and its angle follows the turn
