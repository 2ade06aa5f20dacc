"""What the points are for: head pose, eye and mouth measures, blinks, aligned chips (fkp_classic.analysis)."""

import copy
import json

import numpy as np
import pandas as pd
import pytest
from skimage import data

from conftest import ROOT
from fkp_classic.analysis import (
    BlinkDetector,
    Eyes,
    HeadPose,
    Mouth,
    angles_to_rotation,
    chip_transforms,
    eye_measures,
    face_chips,
    head_pose,
    make_analysers,
    mean_face_3d,
    mouth_measures,
    project_mean_face,
    rotation_to_angles,
)
from fkp_classic.keypoints import KeypointLayout, get_layout
from fkp_classic.photo import Face

FRAMES = ROOT.parent / "shared" / "data" / "frames"
IBUG = get_layout("ibug68")


@pytest.fixture(scope="module")
def frames():
    """Eight real annotated frames (68 points in frame pixels), of eight people."""
    if not (FRAMES / "frames.csv").is_file():
        pytest.skip(f"frames not found at {FRAMES}")
    table = pd.read_csv(FRAMES / "frames.csv").drop_duplicates("person").iloc[:8]
    points = table[[c for n in IBUG.names for c in (f"{n}_x", f"{n}_y")]].to_numpy(float).reshape(-1, 68, 2)
    return table.reset_index(drop=True), points


def _rotate(points, degrees, centre):
    a = np.radians(degrees)  # counter-clockwise on the screen (y down)
    rot = np.array([[np.cos(a), np.sin(a)], [-np.sin(a), np.cos(a)]])
    return (points - centre) @ rot.T + centre


@pytest.mark.parametrize("layout", ["ibug68", "kaggle15"])
def test_solver_recovers_exact_projections(layout):
    rng = np.random.default_rng(0)
    yaw, pitch, roll = rng.uniform(-60, 60, 50), rng.uniform(-60, 60, 50), rng.uniform(-90, 90, 50)
    points = project_mean_face(yaw, pitch, roll, layout=layout, scale=70, center=(160, 120))
    pose = head_pose(points, layout=layout)
    for name, truth in (("yaw", yaw), ("pitch", pitch), ("roll", roll)):
        assert np.abs(pose[name] - truth).max() < 0.1, name
    np.testing.assert_allclose(pose["scale"], 70, rtol=1e-6)
    np.testing.assert_allclose(pose["center"], np.broadcast_to([160, 120], (50, 2)), atol=1e-6)
    np.testing.assert_allclose(rotation_to_angles(angles_to_rotation(yaw, pitch, roll)),
                               np.column_stack([yaw, pitch, roll]), atol=1e-9)


def test_angle_signs_follow_the_documented_convention():
    model = mean_face_3d()
    nose, front = model[30, :2], project_mean_face(0, 0, 0)[0, 30]
    assert project_mean_face(20, 0, 0)[0, 30, 0] > front[0] + 1  # yaw > 0: the nose moves to the image's right
    assert project_mean_face(0, 20, 0)[0, 30, 1] < front[1] - 1  # pitch > 0: the nose moves up
    eyes = project_mean_face(0, 0, 20)[0, [36, 45]]
    assert eyes[1, 1] > eyes[0, 1]  # roll > 0: the eye on the image's right drops
    assert nose[1] > model[36, 1] and model[30, 2] < model[36, 2]  # nose below and in front of the eyes


def test_propagated_pose_uncertainty_matches_resampling():
    rng = np.random.default_rng(1)
    points = project_mean_face([20, -40], [10, 30], [5, 80], scale=60)
    std = np.stack([np.full((68, 2), 0.5), rng.uniform(0.5, 3, (68, 2))])
    pose = head_pose(points, layout="ibug68", point_std=std)
    redrawn = points + rng.standard_normal((300,) + points.shape) * std
    again = head_pose(redrawn.reshape(-1, 68, 2), layout="ibug68")
    for name in ("yaw", "pitch", "roll"):
        spread = again[name].reshape(300, 2).std(axis=0)
        np.testing.assert_allclose(pose[f"{name}_std"], spread, rtol=0.2)
    assert np.all(pose["yaw_std"][1] > 2 * pose["yaw_std"][0])


def test_roll_of_a_rotated_real_face(frames):
    table, points = frames
    before = head_pose(points, layout="ibug68")
    for angle in (-45, -20, 30):
        centre = np.column_stack([table.width, table.height]) / 2
        after = head_pose(_rotate(points, angle, centre[:, None]), layout="ibug68")
        np.testing.assert_allclose(after["roll"] - before["roll"], -angle, atol=0.01)
        np.testing.assert_allclose(after["yaw"], before["yaw"], atol=0.01)


def test_yaw_sign_of_a_mirrored_face(frames):
    table, points = frames
    mirrored = points[:, IBUG.flip_permutation].copy()
    mirrored[..., 0] = table.width.to_numpy()[:, None] - 1 - mirrored[..., 0]
    pose, mirror = head_pose(points, layout="ibug68"), head_pose(mirrored, layout="ibug68")
    np.testing.assert_allclose(mirror["yaw"], -pose["yaw"], atol=0.5)
    np.testing.assert_allclose(mirror["roll"], -pose["roll"], atol=0.5)
    np.testing.assert_allclose(mirror["pitch"], pose["pitch"], atol=0.5)
    turned = head_pose(project_mean_face(30, 0, 0), layout="ibug68")["yaw"]
    assert turned[0] > 25 and head_pose(project_mean_face(-30, 0, 0)[:, IBUG.flip_permutation] * [-1, 1],
                                        layout="ibug68")["yaw"][0] > 25


def test_eye_openness_of_closed_eyes_and_its_independence_of_pose_and_size():
    face = project_mean_face([0, 35, 0, 0], [0, 0, 25, 0], [0, 0, 0, 70], scale=[[[50]], [[50]], [[50]], [[120]]])
    open_ = eye_measures(face, layout="ibug68")
    np.testing.assert_allclose(open_["openness"], open_["openness"][0], rtol=1e-6)  # exact for the mean face
    closed = face.copy()
    for upper, lower in ((37, 41), (38, 40), (43, 47), (44, 46)):  # the upper lids down onto the lower
        closed[:, upper] = closed[:, lower] = (face[:, upper] + face[:, lower]) / 2
    shut = eye_measures(closed, layout="ibug68")
    assert open_["openness"][0] > 0.2 and np.all(shut["openness"] < 0.06) and shut["openness"][0] < 0.01
    one = face[:1].copy()
    one[:, [43, 44]] = one[:, [47, 46]]  # only the left eye (the image's right) shut
    m = eye_measures(one, layout="ibug68")
    assert m["left"][0] < 0.02 and m["right"][0] == pytest.approx(open_["right"][0], rel=0.05)


def test_mouth_opens_and_smiles():
    face = project_mean_face(20, 10, 5, scale=80)
    opened, smiling = face.copy(), face.copy()
    down = (face[:, 57] - face[:, 51]) * 0.5
    opened[:, [65, 66, 67, 56, 57, 58]] += down[:, None]
    smiling[:, [48, 60]] -= (face[:, 54] - face[:, 48])[:, None] * 0.1 + down[:, None] * 0.3
    smiling[:, [54, 64]] += (face[:, 54] - face[:, 48])[:, None] * 0.1 - down[:, None] * 0.3
    base, o, s = (mouth_measures(x, layout="ibug68") for x in (face, opened, smiling))
    assert o["open"][0] > base["open"][0] + 0.05 and o["aspect"][0] > base["aspect"][0]
    assert s["smile_width"][0] > base["smile_width"][0] * 1.15
    assert s["lip_corner_height"][0] > base["lip_corner_height"][0] + 0.02
    kaggle = mouth_measures(project_mean_face(0, 0, 0, layout="kaggle15"), layout="kaggle15")
    assert np.isnan(kaggle["open"][0]) and kaggle["smile_width"][0] == pytest.approx(base["smile_width"][0], rel=0.01)


def test_blink_events_from_a_synthetic_sequence():
    fps = 25
    faces = []
    for frame in range(125):  # 5 s; eyes shut in frames 20-23 and 80-82, and 100-124 (kept shut: no blink)
        pts = project_mean_face(10 * np.sin(frame / 20), 0, 0, scale=60, center=(100, 100))[0]
        if 20 <= frame <= 23 or 80 <= frame <= 82 or frame >= 100:
            for upper, lower in ((37, 41), (38, 40), (43, 47), (44, 46)):
                pts[upper] = pts[lower] = (pts[upper] + pts[lower]) / 2
        faces.append(Face((50, 50, 100, 100), pts, layout="ibug68"))
    for face, value in zip(faces, Eyes().analyse(None, faces)):
        face.analyses["eyes"] = value
    blinks = BlinkDetector(fps=fps)
    ended, closed = [], []
    for face in faces:
        ended.append(blinks.update(face))
        closed.append(blinks.closed)
    assert np.flatnonzero(closed)[:4].tolist() == [20, 21, 22, 23] and closed[99:101] == [False, True]
    assert [(e["start_frame"], e["end_frame"]) for e in blinks.events_] == [(20, 24), (80, 83)]
    assert [e for e in ended if e] == blinks.events_
    assert blinks.events_[0]["duration"] == pytest.approx(4 / fps)
    assert blinks.blinks_per_minute == pytest.approx(2 / (124 / fps) * 60)
    with pytest.raises(ValueError, match="open_above"):
        BlinkDetector(close_below=0.3, open_above=0.2).update(0.25)
    with pytest.raises(TypeError, match="eye openness"):
        BlinkDetector().update(Face((0, 0, 1, 1), faces[0].points, layout="ibug68"))


def test_chips_follow_dlibs_alignment_on_a_real_photo(frames):
    dlib = pytest.importorskip("dlib")
    from skimage import io

    table, points = frames
    photo = io.imread(FRAMES / table.file[0])
    pts = np.rint(points[0]).astype(int)
    shape = dlib.full_object_detection(dlib.rectangle(*pts.min(0), *pts.max(0)), [dlib.point(*p) for p in pts])
    theirs = dlib.get_face_chip(photo, shape, size=150, padding=0.25)
    details = dlib.get_face_chip_details(shape, size=150, padding=0.25)
    ours = face_chips(photo, [Face((0, 0, 1, 1), pts, layout="ibug68")], size=150, padding=0.25)[0]
    assert ours.shape == theirs.shape == (150, 150, 3) and ours.dtype == np.uint8
    to_photo = np.linalg.inv(chip_transforms(pts, layout="ibug68", size=150, padding=0.25)[0])
    rect = details.rect
    centre = np.array([(rect.left() + rect.right()) / 2, (rect.top() + rect.bottom()) / 2])
    scale = (rect.right() - rect.left()) / 150
    assert np.degrees(np.arctan2(to_photo[1, 0], to_photo[0, 0])) == pytest.approx(np.degrees(details.angle), abs=1.5)
    assert np.hypot(to_photo[0, 0], to_photo[1, 0]) == pytest.approx(scale, rel=0.04)
    assert np.linalg.norm(to_photo[:2] @ [74.5, 74.5, 1] - centre) < 0.02 * 150 * scale
    assert np.corrcoef(ours.ravel(), theirs.ravel())[0, 1] > 0.95


def test_arcface_chip_puts_the_five_points_on_the_template():
    from fkp_classic.analysis import ARCFACE_TEMPLATE

    pts = project_mean_face(0, 0, 15, scale=80, center=(120, 110))[0]
    t = chip_transforms(pts, layout="ibug68", size=112, template="arcface")[0]
    five = np.stack([pts[36:42].mean(0), pts[42:48].mean(0), pts[30], pts[48], pts[54]])
    placed = five @ t[:2, :2].T + t[:2, 2]
    assert np.abs(placed - ARCFACE_TEMPLATE).mean() < 2.5  # our mean face is not theirs: a few pixels apart
    kaggle = project_mean_face(0, 0, 15, scale=80, center=(120, 110), layout="kaggle15")[0]
    again = chip_transforms(kaggle, layout="kaggle15", size=112, template="arcface")[0]
    np.testing.assert_allclose(again, t, atol=1e-6)
    chips = face_chips(np.zeros((240, 240), np.uint8), [Face((0, 0, 1, 1), pts, layout="ibug68")] * 2,
                       size=112, template="arcface")
    assert chips.shape == (2, 112, 112, 3)


def test_analysers_on_the_astronaut_with_the_packaged_68_point_model():
    from fkp_classic import load_default_model
    from fkp_classic.photo import KeypointDetector

    detector = KeypointDetector(model=load_default_model(layout="ibug68"),
                                analysers=make_analysers("pose,eyes,mouth,chip"))
    photo = data.astronaut()
    face = max(detector.detect(photo), key=lambda f: f.score)
    assert abs(face.pose["yaw"]) < 35 and abs(face.pose["pitch"]) < 30 and abs(face.pose["roll"]) < 20
    assert 0.15 < face.eyes["openness"] < 0.45 and face.mouth["smile_width"] > 0.3
    assert face.pose["translation_mm"][2] > 0 and face.pose["yaw_std"] >= 0
    record = json.loads(json.dumps(face.to_dict()))
    assert set(record) >= {"pose", "eyes", "mouth", "chip"} and len(record["chip"]["transform"]) == 2
    chip = face_chips(photo, [face])[0]
    assert chip.shape == (150, 150, 3) and chip.std() > 20


def test_kaggle15_faces_get_a_coarse_pose_but_no_eye_openness():
    pts = project_mean_face(25, -10, 8, layout="kaggle15", scale=40, center=(48, 48))[0]
    face = Face((0, 0, 96, 96), pts, layout="kaggle15")
    pose, eyes = HeadPose().analyse(np.zeros((96, 96)), [face])[0], Eyes().analyse(None, [face])[0]
    assert pose["yaw"] == pytest.approx(25, abs=0.1) and "yaw_std" not in pose
    assert eyes["openness"] is None and eyes["brow_raise"] > 0
    assert Mouth().analyse(None, [face])[0]["open"] is None


def test_clear_errors():
    with pytest.raises(ValueError, match="unknown analyser 'gaze'.*pose, eyes, mouth"):
        make_analysers("pose,gaze")
    assert [a.name for a in make_analysers(["pose", "pose", " eyes"])] == ["pose", "eyes"]
    mine = KeypointLayout(("a", "b", "c"))
    with pytest.raises(ValueError, match="3-point layout"):
        head_pose(np.zeros((1, 3, 2)), layout=mine)
    with pytest.raises(ValueError, match="shape \\(n, 68, 2\\)"):
        head_pose(np.zeros((2, 15, 2)), layout="ibug68")
    from fkp_classic.analysis import fit_pose

    with pytest.raises(ValueError, match="finite"):
        fit_pose(np.full((1, 68, 2), np.nan), mean_face_3d("ibug68"))
    with pytest.raises(ValueError, match="shape"):
        fit_pose(np.zeros((1, 15, 2)), mean_face_3d("ibug68"))
    with pytest.raises(ValueError, match="size"):
        face_chips(np.zeros((10, 10, 3)), [], size=2)
    face = Face((0, 0, 1, 1), project_mean_face(0, 0, 0)[0], layout="ibug68")
    with pytest.raises(ValueError, match="focal_length"):
        HeadPose(focal_length=-1).analyse(np.zeros((10, 10)), [face])
    pose = HeadPose(focal_length=500.0)
    pose.analyse(np.zeros((10, 10)), [face])  # checked once per setting: a setting changed later is checked again
    pose.focal_length = -1
    with pytest.raises(ValueError, match="focal_length"):
        pose.analyse(np.zeros((10, 10)), [face])


def test_flat_columns_and_pose_axes_for_the_command_line():
    from fkp_classic.analysis import flat_analyses, pose_axes

    face = Face((0, 0, 1, 1), project_mean_face(30, 0, 0, scale=100, center=(200, 150))[0], layout="ibug68")
    for analyser in make_analysers("pose,eyes,mouth,chip"):
        face.analyses[analyser.name] = analyser.analyse(np.zeros((300, 400, 3), np.uint8), [face])[0]
    columns = flat_analyses(face, ["pose", "eyes", "mouth"])
    assert columns["pose_yaw"] == pytest.approx(30) and "pose_rotation" not in columns
    assert list(columns)[:3] == ["pose_yaw", "pose_pitch", "pose_roll"] and "mouth_open" in columns
    origin, ends = pose_axes(face.pose)
    assert ends[2, 0] < origin[0] - 10  # yaw to the image's right: the nose comes right, the back of the head left


def test_the_command_line_runs_the_analysers_and_writes_chips(tmp_path, capsys):
    from PIL import Image

    from fkp_classic.cli import main
    from fkp_classic.video import VideoWriter

    photo = tmp_path / "astronaut.png"
    Image.fromarray(data.astronaut()).save(photo)
    assert main(["detect", str(photo), "--analyse", "pose,eyes", "--json", str(tmp_path / "f.json"),
                 "--chips", str(tmp_path / "chips"), "--min-score", "1.75"]) == 0
    face, = json.loads((tmp_path / "f.json").read_text())[0]["faces"]
    assert abs(face["pose"]["roll"]) < 15 and "brow_raise" in face["eyes"]
    chip = np.asarray(Image.open(tmp_path / "chips" / "astronaut_0.png"))
    assert chip.shape == (150, 150, 3)
    clip = tmp_path / "clip.mp4"
    with VideoWriter(clip, fps=25) as out:
        for shift in range(0, 12, 2):
            out.write(np.roll(data.astronaut(), shift, axis=1))
    assert main(["track", str(clip), "--csv", str(tmp_path / "t.csv"), "--analyse", "pose,eyes,mouth",
                 "--min-score", "1.75"]) == 0
    table = pd.read_csv(tmp_path / "t.csv")
    assert len(table) == 6 and {"pose_yaw", "eyes_openness", "mouth_smile_width", "blinking"} <= set(table.columns)
    assert table["blinking"].eq(0).all() and "track 0: 0 blink(s)" in capsys.readouterr().out
    assert main(["detect", str(photo), "--analyse", "ears"]) == 2
    assert "--analyse: unknown analyser 'ears'" in capsys.readouterr().err


@pytest.fixture(scope="module")
def wide_eyed():
    """Three LFPW faces (300-W) whose eyes are at least 30 pixels wide: as AnnotatedPhotos, and as (grey photo,
    true points) pairs."""
    from fkp_classic.datasets import load_300w

    path = ROOT.parent / "shared" / "data" / "300w" / "lfpw_trainset"
    if not path.is_dir():
        pytest.skip(f"300-W not found at {path}")
    photos = load_300w(path)
    pts = photos.points.reshape(-1, 68, 2)
    widths = np.minimum(np.linalg.norm(pts[:, 39] - pts[:, 36], axis=1), np.linalg.norm(pts[:, 45] - pts[:, 42], axis=1))
    picked = photos.take(np.flatnonzero(widths >= 30)[:3])
    return picked, [(picked.read_photo(picked.photo_index[i]), picked.points[i].reshape(68, 2)) for i in range(3)]


def test_refitted_parts_come_back_to_the_part_and_mirror_exactly(wide_eyed):
    from fkp_classic.persistence import load_part_refiner
    from fkp_classic.photo import PART_SHARES

    refiner = load_part_refiner()
    assert refiner.share is None
    rng = np.random.default_rng(0)
    assert [part["region"] for part in refiner.parts_] == ["eyes", "eyebrows", "mouth", "nose", "jaw"]
    for gray, true in wide_eyed[1]:
        # points off by 4% of the outer eye corners' distance on each coordinate: about a face model's error
        noisy = true + rng.normal(0, 0.04 * np.linalg.norm(true[45] - true[36]), true.shape)
        refit = refiner.refine(gray, noisy[None])[0]
        for region, most in (("eyes", 0.5), ("eyebrows", 1.0), ("mouth", 1.0), ("nose", 0.5), ("jaw", 1.0)):
            p = list(IBUG.region_indices(region))
            assert (np.linalg.norm(refit[p] - true[p], axis=1).mean()
                    < most * np.linalg.norm(noisy[p] - true[p], axis=1).mean()), region
        # share: how far each part's points move from the given points to the part model's
        shared = {str(share): copy.copy(refiner).set_params(share=share).refine(gray, noisy[None])[0]
                  for share in (0.0, 1.0, {"eyes": 0.5, "jaw": 0.0})}
        np.testing.assert_array_equal(shared["0.0"], noisy)
        named = shared[str({"eyes": 0.5, "jaw": 0.0})]
        jaw, eyes = list(IBUG.region_indices("jaw")), list(IBUG.region_indices("eyes"))
        np.testing.assert_array_equal(named[jaw], noisy[jaw])  # the jaw as it was
        np.testing.assert_allclose(named[eyes], (noisy[eyes] + shared["1.0"][eyes]) / 2, atol=1e-9)
        for region in ("eyebrows", "mouth", "nose"):  # the regions not named take PART_SHARES, as the default does
            p = list(IBUG.region_indices(region))
            np.testing.assert_allclose(named[p], refit[p], atol=1e-9)
            np.testing.assert_allclose(refit[p], noisy[p] + PART_SHARES[region] * (shared["1.0"][p] - noisy[p]),
                                       atol=1e-9)
        # the same face in the mirrored photo: the same refit, mirrored (one model serves both eyes, both brows)
        mirrored = noisy[IBUG.flip_permutation] * [-1, 1] + [gray.shape[1] - 1, 0]
        again = refiner.refine(gray[:, ::-1], mirrored[None])[0]
        np.testing.assert_allclose(again[IBUG.flip_permutation] * [-1, 1] + [gray.shape[1] - 1, 0], refit, atol=1e-6)
        # parts that would be shown at less than min_scale of the crops' resolution keep their points
        small = copy.copy(refiner).set_params(min_scale=1e6)
        np.testing.assert_array_equal(small.refine(gray, noisy[None])[0], noisy)
        # one eye large enough, the other not: only the first is refitted, as it is with both
        widths = [np.linalg.norm(noisy[e][:, None] - noisy[e][None], axis=-1).max() for e in (range(36, 42),
                                                                                              range(42, 48))]
        # an eye crop's side is twice the eye's width: this min_scale puts the threshold between the two eyes
        one = copy.copy(refiner).set_params(min_scale=sum(widths) / 48).refine(gray, noisy[None])[0]
        narrow, wide = (slice(36, 42), slice(42, 48)) if widths[0] < widths[1] else (slice(42, 48), slice(36, 42))
        np.testing.assert_array_equal(one[narrow], noisy[narrow])
        np.testing.assert_allclose(one[wide], refit[wide], atol=1e-6)
    with pytest.raises(ValueError, match="must be"):
        refiner.refine(gray, np.zeros((1, 15, 2)))
    with pytest.raises(ValueError, match="share must lie between 0 and 1"):
        copy.copy(refiner).set_params(share={"mouth": 1.5}).refine(gray, noisy[None])
    with pytest.raises(ValueError, match=r"share names regions \['ears'\]"):
        copy.copy(refiner).set_params(share={"ears": 0.5}).refine(gray, noisy[None])


def test_part_refiner_fits_each_region_and_the_photo_path_uses_it(wide_eyed):
    from fkp_classic import load_default_model
    from fkp_classic.photo import KeypointDetector, PartRefiner

    photos = wide_eyed[0]
    refiner = PartRefiner(regions=("eyes", "mouth"), size=24, n_perturbations=1, random_state=0).fit(photos)
    assert [(p["region"], p["sided"]) for p in refiner.parts_] == [("eyes", True), ("mouth", False)]
    assert refiner.parts_[0]["points"] == list(range(36, 42))  # one eye; the other from the mirrored photo
    assert [est.image_shape_ for est in refiner.estimators_] == [(24, 24), (24, 24)]
    gray, true = wide_eyed[1][0]
    np.testing.assert_allclose(refiner.refine(gray, true[None])[0][:36], true[:36])  # jaw, brows, nose kept
    with pytest.raises(ValueError, match="refits 68-point faces"):
        KeypointDetector(load_default_model(), refiner=refiner)
    # the photo path refits the parts of the model's final points: the same as refitting them afterwards
    model = load_default_model(layout="ibug68")
    plain = KeypointDetector(model, refiner=None).detect(gray)
    refitted = KeypointDetector(model, refiner=refiner).detect(gray)
    np.testing.assert_allclose(refitted[0].points, refiner.refine(gray, plain[0].points[None])[0], atol=1e-6)
    assert not np.allclose(refitted[0].points[36:48], plain[0].points[36:48])
    # the verifier judged the face model's points, so the faces and their scores are the refiner-free path's
    assert [f.score for f in refitted] == [f.score for f in plain]
    with pytest.raises(ValueError, match="regions"):
        PartRefiner(regions=("ears",)).fit(photos)
    with pytest.raises(ValueError, match="'size' parameter"):
        PartRefiner(size=4).fit(photos)
    with pytest.raises(ValueError, match="span names regions"):
        PartRefiner(span={"ear": 2.0}).fit(photos)
