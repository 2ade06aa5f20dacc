"""Loaders of annotated photos: 300-W / iBUG ``.pts`` folders, dlib's training XML, a CSV of photos and points."""

import os
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from sklearn.model_selection import GroupKFold
from sklearn.utils._param_validation import InvalidParameterError

from conftest import ROOT
from fkp_classic.datasets import DataError, load_300w, load_dlib_xml, load_photo_points, read_pts
from fkp_classic.keypoints import IBUG_68, KeypointLayout

W300 = Path(os.environ.get("FKP_300W_DATA", ROOT.parent / "shared" / "data" / "300w"))
TWO = KeypointLayout(("left_eye", "right_eye"), flip_pairs=(("left_eye", "right_eye"),))


def photo(path, shape=(40, 60), value=0):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.full(shape, value, np.uint8)).save(path)
    return path


def pts(path, points, n_points=None):
    body = "".join(f"{x} {y}\n" for x, y in points)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"version: 1\nn_points:  {len(points) if n_points is None else n_points}\n{{\n{body}}}\n")
    return path


# ---------------------------------------------------------------- .pts / 300-W folders


def test_pts_is_one_based(tmp_path):
    points = read_pts(pts(tmp_path / "a.pts", [(1, 1), (10.5, 20.25)]))
    np.testing.assert_array_equal(points, [[0, 0], [9.5, 19.25]])


def test_300w_folder_points_in_photo_pixels(tmp_path):
    photo(tmp_path / "lfpw" / "image_0001.jpg", shape=(80, 100))
    truth = np.random.default_rng(0).uniform(1, 79, size=(68, 2))
    pts(tmp_path / "lfpw" / "image_0001.pts", truth)
    photos = load_300w(tmp_path)  # iBUG's 68 points: the documented default
    assert photos.layout is IBUG_68 and photos.points.shape == (1, 136)
    np.testing.assert_allclose(photos.points[0].reshape(68, 2), truth - 1)
    assert photos.shapes.tolist() == [[80, 100]] and photos.subset.tolist() == ["lfpw"]
    assert photos.boxes is None and photos.read_photo(0).shape == (80, 100)


def test_300w_groups_faces_by_photo(tmp_path):
    # AFW: a photo with k faces is k identical files <photo>_<k>; HELEN: crops <id>_<k> of one photo, different files;
    # LFPW: image_XXXX, each its own photo.
    photo(tmp_path / "afw" / "77_1.jpg", value=10)
    shutil.copy(tmp_path / "afw" / "77_1.jpg", tmp_path / "afw" / "77_2.jpg")
    photo(tmp_path / "afw" / "78_1.jpg", value=20)
    photo(tmp_path / "helen" / "5_1.jpg", value=30)
    photo(tmp_path / "helen" / "5_2.jpg", value=90)
    photo(tmp_path / "lfpw" / "image_0001.jpg")
    photo(tmp_path / "lfpw" / "image_0002.jpg")
    for i, image in enumerate(sorted(tmp_path.rglob("*.jpg"))):
        pts(image.with_suffix(".pts"), [(5 + i, 5), (20 + i, 5)])
    photos = load_300w(tmp_path, layout=TWO)
    assert photos.n_faces == 7
    by_name = {Path(s).stem: f for f, s in zip(range(photos.n_faces), photos.sources)}
    group = dict(zip(by_name, photos.groups[list(by_name.values())]))
    on = dict(zip(by_name, photos.photo_index[list(by_name.values())]))
    assert group["77_1"] == group["77_2"] == "afw/77" and on["77_1"] == on["77_2"]  # one photo, two faces
    assert group["78_1"] != group["77_1"]
    assert group["5_1"] == group["5_2"] == "helen/5" and on["5_1"] != on["5_2"]  # two crops of one photo
    assert group["image_0001"] != group["image_0002"]  # a leading zero is no face number
    assert photos.n_photos == 6 and sorted(set(photos.subset)) == ["afw", "helen", "lfpw"]
    for train, test in GroupKFold(3).split(photos.points, groups=photos.groups):
        assert not set(photos.groups[train]) & set(photos.groups[test])
    one = photos.faces_of(on["77_1"])
    np.testing.assert_array_equal(np.sort(one), np.sort([by_name["77_1"], by_name["77_2"]]))
    # iter_photos decodes each photo holding faces once, with its faces
    seen = {i: faces for i, image, faces in photos.iter_photos()}
    assert sorted(seen) == list(range(6)) and sorted(np.concatenate(list(seen.values()))) == list(range(7))
    # a fold keeps its faces and their photos, renumbered
    fold = photos.take(photos.subset == "afw")
    assert fold.n_faces == 3 and fold.n_photos == 2 and fold.photo_index.max() == 1
    assert fold.read_photo(fold.photo_index[0]).mean() in (10, 20)
    # no pattern: every file a photo (and a group) of its own
    assert len(set(load_300w(tmp_path, layout=TWO, photo_pattern=None).groups)) == 7


@pytest.mark.parametrize(
    "text, line, what",
    [
        ("version: 1\nn_points: 2\n1 1\n2 2\n}\n", 3, "expected 'version:', 'n_points:' or '{'"),
        ("version: 1\nn_points: 2\n", None, "no line '{'"),
        ("version: 1\nn_points: 2\n{\n1 1\n2 2\n", 5, "without the '}'"),
        ("version: 1\nn_points: 3\n{\n1 1\n2 2\n}\n", 6, "2 points .* n_points is 3"),
        ("version: 1\nn_points: 2\n{\n1 1\n2 x\n}\n", 5, "not two finite numbers"),
        ("version: 1\nn_points: 2\n{\n1 1\nnan 2\n}\n", 5, "not two finite numbers"),
        ("version: 1\nn_points: 2\n{\n1 1 1\n2 2\n}\n", 4, "expected two numbers"),
        ("version: 1\nn_points: two\n{\n1 1\n2 2\n}\n", 2, "not a whole number"),
        ("version: 1\nn_points: 2\n{\n1 1\n2 2\n}\n3 3\n", 7, "after the closing"),
    ],
)
def test_broken_pts_named_by_file_and_line(tmp_path, text, line, what):
    (tmp_path / "face.pts").write_text(text)
    photo(tmp_path / "face.jpg")
    where = f"face.pts, line {line}: " if line else "face.pts: "
    with pytest.raises(DataError, match=f"{where}.*{what}"):
        load_300w(tmp_path, layout=TWO)


def test_300w_refuses_missing_photo_wrong_count_and_far_points(tmp_path):
    pts(tmp_path / "a" / "x_1.pts", [(3, 3), (5, 5)])
    with pytest.raises(DataError, match=r"x_1.pts: no photo beside it"):
        load_300w(tmp_path, layout=TWO)
    photo(tmp_path / "a" / "x_1.jpg")
    with pytest.raises(DataError, match=r"x_1.pts: 2 points, but the ibug68 layout has 68"):
        load_300w(tmp_path)
    pts(tmp_path / "a" / "x_1.pts", [(3, 3), (500, 5)])  # far right of a 60-pixel-wide photo
    with pytest.raises(DataError, match=r"x_1.pts: point right_eye x = 499 lies outside its 60x40 photo"):
        load_300w(tmp_path, layout=TWO)
    pts(tmp_path / "a" / "x_1.pts", [(3, 76), (5, 5)])  # y = 75 is more than 30 px (50% of 60) below 40 rows
    with pytest.raises(DataError, match=r"x_1.pts: point left_eye y = 75 lies outside"):
        load_300w(tmp_path, layout=TWO)
    pts(tmp_path / "a" / "x_1.pts", [(76, 3), (5, 5)])  # but x = 75 is within 30 px of 60 columns
    assert load_300w(tmp_path, layout=TWO).points[0, 0] == 75
    (tmp_path / "a" / "x_1.jpg").write_bytes(b"not a jpeg")
    pts(tmp_path / "a" / "x_1.pts", [(3, 3), (5, 5)])
    with pytest.raises(DataError, match=r"x_1.pts: cannot read its photo"):
        load_300w(tmp_path, layout=TWO)


def test_parameters_checked_and_keyword_only(tmp_path):
    with pytest.raises(InvalidParameterError, match="layout"):
        load_300w(tmp_path, layout="ibug67")
    with pytest.raises(TypeError):
        load_300w(tmp_path, "ibug68")
    with pytest.raises(DataError, match="holds no .pts files"):
        load_300w(tmp_path)


# ---------------------------------------------------------------- dlib XML

XML = """<?xml version='1.0' encoding='ISO-8859-1'?>
<?xml-stylesheet type='text/xsl' href='image_metadata_stylesheet.xsl'?>
<dataset>
<name>faces</name>
<images>
  <image file='photos/group.jpg'>
    <box top='5' left='6' width='20' height='21'>
      <part name='00' x='10' y='11'/>
      <part name='01' x='12' y='13'/>
    </box>
    <box top='2' left='1' width='3' height='4' ignore='1'/>
    <box top='10' left='30' width='20' height='20'>
      <part name='01' x='40' y='15'/>
    </box>
  </image>
  <image file='empty.png'>
  </image>
</images>
</dataset>
"""


@pytest.fixture
def xml_dataset(tmp_path):
    photo(tmp_path / "data" / "photos" / "group.jpg", shape=(40, 60))
    photo(tmp_path / "data" / "empty.png", shape=(30, 30))
    (tmp_path / "data" / "faces.xml").write_text(XML)
    return tmp_path / "data" / "faces.xml"


def test_dlib_xml_several_faces_boxes_and_ignored(xml_dataset, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the photos are found beside the XML, not in the working folder
    photos = load_dlib_xml(xml_dataset, layout="ibug68")
    assert photos.n_faces == 2 and photos.n_photos == 2 and photos.layout is IBUG_68
    assert photos.photo_index.tolist() == [0, 0]  # two faces of one photo
    assert photos.groups[0] == photos.groups[1]
    points = photos.points.reshape(2, 68, 2)
    np.testing.assert_array_equal(points[0, :2], [[10, 11], [12, 13]])  # '00', '01' are p0, p1, 0-based as written
    assert np.isnan(points[0, 2:]).all() and np.isnan(points[1, 0]).all()  # parts a box lacks are NaN
    np.testing.assert_array_equal(points[1, 1], [40, 15])
    np.testing.assert_array_equal(photos.boxes, [[6, 5, 20, 21], [30, 10, 20, 20]])  # (x, y, w, h)
    np.testing.assert_array_equal(photos.ignored_boxes, [[1, 2, 3, 4]])
    assert photos.ignored_photo_index.tolist() == [0]
    assert photos.shapes.tolist() == [[40, 60], [30, 30]]  # the photo with no face is kept (background)
    assert photos.sources.tolist() == [f"{xml_dataset}, line 7", f"{xml_dataset}, line 12"]
    assert photos.subset.tolist() == ["photos", "photos"]
    assert photos.read_photo(1, gray=False).shape == (30, 30, 3)


def test_dlib_xml_layout_from_part_names(xml_dataset):
    photos = load_dlib_xml(xml_dataset)
    assert photos.layout.names == ("00", "01") and photos.points.shape == (2, 4)


@pytest.mark.parametrize(
    "old, new, line, what",
    [
        ("</box>\n    <box top='2'", "</bx>\n    <box top='2'", 10, "not well-formed XML .*mismatched tag"),
        ("<part name='01' x='40'", "<part name='72' x='40'", 13, "part '72' is not in the ibug68 layout"),
        ("left='30'", "left='thirty'", 12, "left='thirty' is not a finite number"),
        ("<part name='01' x='12' y='13'/>", "<part name='01' x='12'/>", 9, "<part> has no y= attribute"),
        ("<part name='01' x='12' y='13'/>", "<part name='0' x='12' y='13'/>", 9, "part '0' is keypoint p0, which"),
        ("<dataset>", "<!DOCTYPE d [<!ENTITY a 'b'>]>\n<dataset>", 3, "DOCTYPE"),
        ("<image file='empty.png'>", "<image file='missing.png'>", 16, "photo .*missing.png does not exist"),
        ("<dataset>", "<images>", 3, "root element is <images>"),
        ("<box top='2'", "<part name='9' x='1' y='1'/><box top='2'", 11, "<part> inside <image>; it belongs inside <box>"),
    ],
)
def test_broken_dlib_xml_named_by_line(xml_dataset, old, new, line, what):
    xml_dataset.write_text(XML.replace(old, new, 1))
    with pytest.raises(DataError, match=f"faces.xml, line {line}: .*{what}"):
        load_dlib_xml(xml_dataset, layout="ibug68")


def test_dlib_xml_as_dlib_writes_it(tmp_path):
    """dlib's own writer (imglab's format) read back: parts, boxes (dlib's inclusive rectangles), ignored boxes."""
    dlib = pytest.importorskip("dlib")
    meta = dlib.image_dataset_metadata
    photo(tmp_path / "p" / "a.jpg", shape=(50, 70))
    dataset, image, box, ignored = meta.dataset(), meta.image(), meta.box(), meta.box()
    image.filename = "p/a.jpg"
    box.rect = dlib.rectangle(10, 5, 39, 44)  # left, top, right, bottom (inclusive): 30 wide, 40 high
    for k in range(68):
        box.parts[f"{k:02d}"] = dlib.point(10 + k % 30, 5 + k // 2)
    ignored.rect, ignored.ignore = dlib.rectangle(0, 0, 9, 9), True
    image.boxes.append(box)
    image.boxes.append(ignored)
    dataset.images.append(image)
    meta.save_image_dataset_metadata(dataset, str(tmp_path / "set.xml"))
    photos = load_dlib_xml(tmp_path / "set.xml", layout="ibug68")
    k = np.arange(68)
    np.testing.assert_array_equal(photos.points.reshape(68, 2), np.c_[10 + k % 30, 5 + k // 2])
    np.testing.assert_array_equal(photos.boxes, [[10, 5, 30, 40]])
    np.testing.assert_array_equal(photos.ignored_boxes, [[0, 0, 10, 10]])


# ---------------------------------------------------------------- CSV of photos and named points


def test_photo_points_csv(tmp_path):
    photo(tmp_path / "img" / "a.jpg", shape=(40, 60))
    photo(tmp_path / "img" / "b.jpg", shape=(50, 50))
    csv = tmp_path / "faces.csv"
    csv.write_text("file,group,left_eye_x,left_eye_y,right_eye_x,right_eye_y\n"
                   "img/a.jpg,ann,1,2,3,4\nimg/a.jpg,bob,5,6,,\nimg/b.jpg,ann,7,8,9,10\n")
    photos = load_photo_points(csv)
    assert photos.layout.names == ("left_eye", "right_eye") and photos.layout.flip_pairs == (("left_eye", "right_eye"),)
    np.testing.assert_array_equal(photos.points[[0, 2]], [[1, 2, 3, 4], [7, 8, 9, 10]])
    assert np.isnan(photos.points[1, 2:]).all()
    assert photos.photo_index.tolist() == [0, 0, 1] and photos.groups.tolist() == ["ann", "bob", "ann"]
    assert photos.sources[1] == f"{csv}, line 3"
    same = load_photo_points(csv, layout=TWO)
    np.testing.assert_array_equal(same.points, photos.points)


@pytest.mark.parametrize(
    "text, what",
    [
        ("photo,a_x,a_y\nimg/a.jpg,1,1\n", "has no file column"),
        ("file,a_x,a_y\nimg/a.jpg,1,1\nimg/a.jpg,1,x\n", r"line 3 \(row 1\), column a_y: 'x' is not a number"),
        ("file,a_x,a_y\nimg/a.jpg,1,\n", r"line 2 \(row 0\): only one of a_x and a_y"),
        ("file,a_x,a_y\nimg/a.jpg,1,1\n,2,2\n", r"line 3 \(row 1\), column file: empty"),
        ("file,a_x,a_y\nimg/gone.jpg,1,1\n", r"line 2: its photo .*gone.jpg does not exist"),
    ],
)
def test_broken_photo_points_csv(tmp_path, text, what):
    photo(tmp_path / "img" / "a.jpg")
    (tmp_path / "faces.csv").write_text(text)
    with pytest.raises(DataError, match=f"faces.csv.*{what}"):
        load_photo_points(tmp_path / "faces.csv")


def test_photo_points_csv_layout_columns_required(tmp_path):
    photo(tmp_path / "a.jpg")
    (tmp_path / "faces.csv").write_text("file,p0_x,p0_y\na.jpg,1,1\n")
    with pytest.raises(DataError, match="lacks the ibug68 layout's column"):
        load_photo_points(tmp_path / "faces.csv", layout="ibug68")


# ---------------------------------------------------------------- the real 300-W training part


@pytest.mark.skipif(not (W300 / "afw").is_dir(), reason=f"300-W data not found at {W300} (set FKP_300W_DATA)")
def test_real_300w_subset(tmp_path):
    """A few real faces (22 files): points inside their photos, AFW's faces of one photo on one photo and group."""
    chosen = {"afw": ["111076519_1", "111076519_2", "1051618982_1"], "helen_trainset": ["100040721_1", "100040721_2"],
              "lfpw_trainset": ["image_0001", "image_0002"]}
    for folder, stems in chosen.items():
        (tmp_path / folder).mkdir()
        for stem in stems:
            for ext in (".jpg", ".pts"):
                (tmp_path / folder / (stem + ext)).symlink_to(W300 / folder / (stem + ext))
    photos = load_300w(tmp_path)
    assert photos.n_faces == 7 and photos.layout is IBUG_68
    xy = photos.points.reshape(photos.n_faces, 68, 2)
    size = photos.shapes[photos.photo_index][:, None, ::-1]  # (width, height) of each face's photo
    assert (xy >= -0.5).all() and (xy <= size - 0.5).all()  # within the pixels (their edges) of the photo
    stems = [Path(s).stem for s in photos.sources]
    afw = [stems.index("111076519_1"), stems.index("111076519_2")]
    assert photos.groups[afw[0]] == photos.groups[afw[1]] and photos.photo_index[afw[0]] == photos.photo_index[afw[1]]
    helen = [stems.index("100040721_1"), stems.index("100040721_2")]
    assert photos.groups[helen[0]] == photos.groups[helen[1]]
    assert photos.n_photos == 6 and len(set(photos.groups)) == 5
    i = photos.photo_index[afw[0]]
    assert photos.read_photo(i).shape == tuple(photos.shapes[i])
