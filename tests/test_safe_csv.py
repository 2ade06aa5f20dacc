"""CSV files written by fkp open in a spreadsheet without running anything: no cell is a formula."""

import csv

import numpy as np
import pytest

from fkp_classic import MeanKeypoints, save_model
from fkp_classic.cli import main
from fkp_classic.keypoints import KeypointLayout
from fkp_classic.utils._safe_csv import safe_cell

HOSTILE = ("=HYPERLINK(\"http://x\")", "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)", "\t=1", "\r=1", "left_eye")


@pytest.mark.parametrize("cell", HOSTILE)
def test_formula_cells_get_a_quote_and_numbers_stay_numbers(cell):
    assert safe_cell(cell) == (cell if cell == "left_eye" else "'" + cell)
    for number in ("-3.20", "+1e3", "-0", "12", -4.5, 3):
        assert safe_cell(number) == number


@pytest.fixture
def hostile_model(tmp_path):
    """A keypoint model whose layout names start like formulas, predicting negative coordinates."""
    names = ("=HYPERLINK(\"http://x\")", "@SUM(A1)", "-2+3", "nose")
    layout = KeypointLayout(names=names)
    X = np.full((4, 96 * 96), 128.0)
    y = np.tile([-3.5, 10.0, 20.0, -1.25, 30.0, 40.0, 48.0, 60.0], (4, 1))
    path = tmp_path / "hostile.skops"
    save_model(MeanKeypoints(layout=layout).fit(X, y), path)
    return path, names


def _rows(path):
    with open(path, newline="") as fh:
        return list(csv.reader(fh))


def test_fkp_predict_writes_no_formula(hostile_model, tmp_path):
    model, names = hostile_model
    (tmp_path / "test.csv").write_text("ImageId,Image\n1," + " ".join(["0"] * 9216) + "\n")
    out = tmp_path / "p.csv"
    assert main(["predict", str(model), str(tmp_path / "test.csv"), "-o", str(out)]) == 0
    header, row = _rows(out)
    assert header[:3] == ["ImageId", "'" + names[0] + "_x", "'" + names[0] + "_y"]
    assert header[3] == "'@SUM(A1)_x" and header[6] == "'-2+3_y" and header[-1] == "nose_y"
    assert float(row[1]) == -3.5 and row[1].startswith("-")  # a negative coordinate is still a number
    assert main(["predict", str(model), str(tmp_path / "test.csv"), "-o", str(out), "--resume"]) == 0  # same header


def test_fkp_track_writes_no_formula(hostile_model, tmp_path):
    from fkp_classic.video import VideoWriter

    model, names = hostile_model
    video = tmp_path / "grey.mp4"
    with VideoWriter(video, fps=10) as out:
        for _ in range(2):
            out.write(np.full((64, 64, 3), 90, np.uint8))
    assert main(["track", str(video), "--model", str(model), "--csv", str(tmp_path / "t.csv")]) == 0
    header = _rows(tmp_path / "t.csv")[0]
    assert header[9:11] == ["'" + names[0] + "_x", "'" + names[0] + "_y"] and header[-1] == "nose_y"
    assert not any(cell.startswith(("=", "+", "-", "@", "\t", "\r")) for cell in header)
