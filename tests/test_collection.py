"""Photo collections: paths from folders, globs and lists; faces in order on processes; streamed, resumable output."""

import json

import numpy as np
import pytest
from PIL import Image
from skimage import data

from fkp_classic.cli import main
from fkp_classic.photo import KeypointDetector
from fkp_classic.photo._collection import detect_photos, photo_paths, read_done


@pytest.fixture(scope="module")
def collection(tmp_path_factory):
    folder = tmp_path_factory.mktemp("shots")
    photo = data.astronaut()
    for i in range(4):
        Image.fromarray(np.roll(photo, 20 * i, axis=1)).save(folder / f"shot{i}.png")
    (folder / "broken.jpg").write_bytes(b"\xff\xd8\xff not a jpeg")
    (folder / "notes.txt").write_text("not listed: not a photo suffix")
    return folder


def test_inputs_expand_from_folders_globs_and_lists(collection, tmp_path):
    listing = tmp_path / "list.txt"
    listing.write_text(f"# the shots\n{collection / 'shot1.png'}\n\n{collection / 'shot0.png'}\n")
    (tmp_path / "rel.png").write_bytes(b"")
    (tmp_path / "relative.txt").write_text("rel.png\n")
    assert [p.split("/")[-1] for p in photo_paths([collection])] == [
        "broken.jpg", "shot0.png", "shot1.png", "shot2.png", "shot3.png"]
    assert [p.split("/")[-1] for p in photo_paths([str(collection / "shot*.png")])] == [f"shot{i}.png" for i in range(4)]
    assert list(photo_paths([f"@{listing}"])) == [str(collection / "shot1.png"), str(collection / "shot0.png")]
    assert list(photo_paths([f"@{tmp_path / 'relative.txt'}"])) == [str(tmp_path / "rel.png")]
    assert list(photo_paths(["missing.png"])) == ["missing.png"]  # reading it will say what is wrong


def test_two_processes_give_the_one_process_results_in_order(collection):
    paths = list(photo_paths([collection]))
    one = list(detect_photos(paths, jobs=1, min_score=1.75))
    two = list(detect_photos(iter(paths), jobs=2, min_score=1.75))
    assert [r["photo"] for r in two] == paths and two == one
    assert "not a photo Pillow can read" in two[0]["error"] and len(two[1]["faces"]) == 1
    expected = json.loads(json.dumps(KeypointDetector(min_score=1.75).detect(paths[1])[0].to_dict()))
    got = two[1]["faces"][0]
    assert got["box"] == expected["box"] and got["keypoints"] == expected["keypoints"]
    # BLAS threads here, one per worker: another summing order of the detector's float32 scores
    assert got["score"] == pytest.approx(expected["score"], rel=1e-6)


def test_fkp_detect_streams_json_lines_and_resumes_with_one_record_per_photo(collection, tmp_path, capsys):
    out = tmp_path / "faces.jsonl"
    assert main(["detect", str(collection), "--jsonl", str(out), "--min-score", "1"]) == 2  # broken.jpg failed
    err = capsys.readouterr().err
    assert err.count("fkp: error:") == 1 and "1 of 5 photo(s) could not be processed" in err
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["photo"].split("/")[-1] for r in records] == ["broken.jpg"] + [f"shot{i}.png" for i in range(4)]
    assert main(["detect", str(collection), "--jsonl", str(out)]) == 2
    assert "exists: add --resume" in capsys.readouterr().err
    lines = out.read_bytes().splitlines(keepends=True)
    out.write_bytes(b"".join(lines[:2]) + lines[2][:30])  # a run stopped in the middle of its third line
    assert read_done(out)[0] == {records[0]["photo"], records[1]["photo"]} and out.read_bytes().endswith(b"\n")
    out.write_bytes(b"".join(lines[:2]) + lines[2][:30])
    assert main(["detect", str(collection), "--jsonl", str(out), "--resume", "--min-score", "1", "--jobs", "2"]) == 2
    assert "3 photo(s) done (0 failed)" in capsys.readouterr().out
    again = [json.loads(line) for line in out.read_text().splitlines()]
    assert again == records  # exactly one record per photo, in order
    assert main(["detect", str(collection), "--resume"]) == 2
    assert "--resume continues a --jsonl output" in capsys.readouterr().err
    # a file of an earlier version's records (no "schema") is not continued in another format
    old = tmp_path / "old.jsonl"
    old.write_text(json.dumps({"photo": records[0]["photo"], "faces": []}) + "\n")
    assert main(["detect", str(collection), "--jsonl", str(old), "--resume"]) == 2
    err = capsys.readouterr().err
    assert err.count("fkp: error:") == 1 and f"{old} holds records of another format (schema none" in err
    assert old.read_text().count("\n") == 1
