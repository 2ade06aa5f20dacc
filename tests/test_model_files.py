"""Model files you can trust: the safe format round-trips every model, pickles load only on request."""

import importlib
import io
import json
import os
import pickle
import zipfile

import joblib
import numpy as np
import pytest
from skimage import data
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

from fkp_classic import (CascadeRegressor, HOGFeatures, KeypointRegressor, KeypointRidge, MeanKeypoints,
                         MeanPatchTemplateSearch, load_model, save_model)
from fkp_classic.cli import main
from fkp_classic.estimators import DENSE_LAYOUT_PARAMS
from fkp_classic import persistence
from fkp_classic.persistence import TRUSTED_TYPES, ModelVersionError, UntrustedModelError, convert_model


def _estimators():
    return {
        "cascade_dense": CascadeRegressor(**dict(DENSE_LAYOUT_PARAMS, cell_sizes=(8, 5)), uncertainty=True, random_state=0,
                                           layout="kaggle15"),
        "regressor": KeypointRegressor(layout="kaggle15", uncertainty=True),
        "mean": MeanKeypoints(layout="kaggle15"),
        "template": MeanPatchTemplateSearch(layout="kaggle15", search_radius=3),
        "ridge": KeypointRidge(layout="kaggle15", alpha=3.0, rank=6),
        "pipeline": make_pipeline(HOGFeatures(), KeypointRidge(layout="kaggle15")),
    }


@pytest.fixture(scope="module")
def fitted(synthetic):
    X, y = synthetic.data[:50], synthetic.target[:50]
    return {name: est.fit(X[:, :400] / 255 if name == "ridge" else X, y) for name, est in _estimators().items()}


@pytest.mark.parametrize("name", list(_estimators()))
def test_every_estimator_round_trips_bit_for_bit(name, fitted, synthetic, tmp_path):
    est, X = fitted[name], synthetic.data[120:150]
    X = X[:, :400] / 255 if name == "ridge" else X
    path = tmp_path / "model.skops"
    save_model(est, path, training_data=X)
    assert path.read_bytes()[:4] == b"PK\x03\x04"  # a zip of arrays and JSON, no pickle
    loaded, info = load_model(path, return_info=True)
    assert type(loaded) is type(est) and len(info["training_fingerprints"]) == len(X)
    np.testing.assert_array_equal(loaded.predict(X), est.predict(X))
    if name in ("cascade_dense", "regressor"):
        for a, b in zip(loaded.predict(X, return_std=True), est.predict(X, return_std=True)):
            np.testing.assert_array_equal(a, b)
    save_model(loaded, path)  # and again: the stored form is stable
    np.testing.assert_array_equal(load_model(path).predict(X), est.predict(X))


def test_the_default_cascade_round_trips_bit_for_bit(subset_cascade, faces96, faces96_subset, tmp_path):
    X = faces96.data[faces96_subset[1][:40]]
    save_model(subset_cascade, tmp_path / "cascade.skops")
    loaded = load_model(tmp_path / "cascade.skops")
    for a, b in zip(loaded.predict(X, return_std=True), subset_cascade.predict(X, return_std=True)):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("packaged", ["DEFAULT_MODEL", "IBUG68_MODEL", "DEFAULT_VERIFIER", "DEFAULT_FACE_DETECTOR",
                                      "PART_REFINER"])
def test_packaged_parts_round_trip_bit_for_bit(packaged, tmp_path):
    source = getattr(persistence, packaged)
    model, info = load_model(source, return_info=True)
    save_model(model, tmp_path / "again.skops")
    again = load_model(tmp_path / "again.skops")
    rng = np.random.default_rng(0)
    if packaged == "DEFAULT_FACE_DETECTOR":
        photo = data.astronaut()
        for a, b in zip(model.detect(photo, return_scores=True), again.detect(photo, return_scores=True)):
            np.testing.assert_array_equal(a, b)
        # its plain values (parameters, counts, mining log) are stored as one JSON entry: they come back as they were
        assert again.get_params() == model.get_params() and again.mining_log_ == model.mining_log_
        assert (again.n_positives_, again.angles) == (model.n_positives_, model.angles)
        return
    if packaged == "PART_REFINER":  # refits faces' parts on crops of a photo
        photo = rng.uniform(0, 255, (200, 200)).astype(np.uint8)
        points = (rng.uniform(60, 140, (2, 68, 2)))
        np.testing.assert_array_equal(model.widen_weights().refine(photo, points),
                                      again.widen_weights().refine(photo, points))
        assert again.parts_ == model.parts_ and again.get_params() == model.get_params()
        return
    X = rng.uniform(0, 255, (20, 96 * 96))
    if packaged == "DEFAULT_VERIFIER":
        first, second = persistence.widen_verifier(model), persistence.widen_verifier(again)
        np.testing.assert_array_equal(first.decision_function(X), second.decision_function(X))
        return
    assert info["training_fingerprints"] is not None  # fitted on faces96: fkp evaluate flags in-sample scores
    first, second = persistence.widen_model(model), persistence.widen_model(again)
    for a, b in zip(first.predict(X, return_std=True), second.predict(X, return_std=True)):
        np.testing.assert_array_equal(a, b)


def test_packaged_files_are_the_safe_format_and_keep_their_narrow_storage():
    for packaged in ("DEFAULT_MODEL", "IBUG68_MODEL", "DEFAULT_VERIFIER", "DEFAULT_FACE_DETECTOR", "PART_REFINER"):
        path = getattr(persistence, packaged)
        assert path.suffix == ".skops" and path.read_bytes()[:4] == b"PK\x03\x04"
    dense = load_model(persistence.IBUG68_MODEL)
    # stored as float16 scores of the reduced-rank basis; widened to float64 weights when loaded, to predict
    assert {ridge._scores_of[1].dtype for ridge in [dense.init_, *dense.stages_]} == {np.dtype(np.float16)}
    assert {ridge.coef_.dtype for ridge in [dense.init_, *dense.stages_]} == {np.dtype(np.float64)}


def test_trusted_types_are_the_librarys_own_classes():
    for name in TRUSTED_TYPES:
        module, _, qualname = name.rpartition(".")
        assert isinstance(getattr(importlib.import_module(module), qualname), type), name
        assert module.startswith("fkp_classic.")


class Stranger:
    """A type of nobody's trust, with a predict method so that only its type can refuse it."""

    def predict(self, X):
        return X


def test_a_safe_file_naming_an_untrusted_type_is_refused_naming_it(tmp_path):
    path = tmp_path / "stranger.skops"
    save_model(Stranger(), path)
    with pytest.raises(UntrustedModelError, match=r"names the type test_model_files\.Stranger, which .* may not hold"):
        load_model(path)
    # A function named in the file (here os.system, inside a pipeline) is refused by name too.
    save_model(make_pipeline(FunctionTransformer(os.system)), path)
    with pytest.raises(UntrustedModelError, match=r"(posix|os)\.system"):
        load_model(path)
    # The file cannot hide the type behind a trusted-looking header: the schema is what is checked.
    model = tmp_path / "m.skops"
    save_model(MeanKeypoints(layout="kaggle15").fit(np.zeros((3, 4)), np.ones((3, 30))), model)
    with zipfile.ZipFile(model) as zf:
        entries = {name: zf.read(name) for name in zf.namelist()}
    schema = json.loads(entries["schema.json"])
    schema["content"]["model"]["__module__"] = "subprocess"
    schema["content"]["model"]["__class__"] = "Popen"
    entries["schema.json"] = json.dumps(schema).encode()
    with zipfile.ZipFile(model, "w") as zf:
        for name, content in entries.items():
            zf.writestr(name, content)
    with pytest.raises(UntrustedModelError, match=r"subprocess\.Popen"):
        load_model(model)


def test_a_zip_or_text_that_is_no_model_file(tmp_path):
    path = tmp_path / "data.skops"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("training.csv", "a,b\n")
    with pytest.raises(ModelVersionError, match="is a zip but not an fkp_classic model file"):
        load_model(path)
    path.write_bytes(b"PK\x03\x04 cut short")
    with pytest.raises(ModelVersionError, match="not an fkp_classic model file"):
        load_model(path)
    path.write_text("hello")
    with pytest.raises(ModelVersionError, match="not a readable fkp_classic model file"):
        load_model(path)


class _Bomb:
    """Unpickling it creates the file ``marker``: what a hostile model file could do."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return open, (self.marker, "w")


@pytest.fixture
def bombs(tmp_path):
    marker = tmp_path / "pwned"
    plain, packed = tmp_path / "model.joblib", tmp_path / "packed.joblib"
    plain.write_bytes(pickle.dumps({"format": "fkp_classic-model", "model": _Bomb(marker)}))
    joblib.dump({"format": "fkp_classic-model", "model": _Bomb(marker)}, packed, compress=3)
    return marker, plain, packed


def test_a_pickle_is_refused_unless_trusted_and_runs_nothing(bombs, tmp_path):
    marker, plain, packed = bombs
    for path in (plain, packed):
        with pytest.raises(UntrustedModelError, match=r"pickle .*runs whatever code it names.*fkp convert-model .*--trust"):
            load_model(path)
        assert not marker.exists()
    with pytest.raises(ModelVersionError):  # trusted: unpickled (so the marker appears), then not a model
        load_model(plain, trusted=True)
    assert marker.exists()


def _tiny_video(path):
    from fkp_classic.video import VideoWriter

    with VideoWriter(path, fps=10) as out:
        for _ in range(3):
            out.write(np.full((32, 48, 3), 100, np.uint8))
    return path


def test_every_command_refuses_a_pickle_and_runs_nothing(bombs, tmp_path, capsys):
    marker, plain, packed = bombs
    from skimage import io as skio

    photo = tmp_path / "face.png"

    skio.imsave(photo, data.astronaut()[::4, ::4])
    video = _tiny_video(tmp_path / "clip.mp4")
    (tmp_path / "test.csv").write_text("ImageId,Image\n1," + " ".join(["0"] * 9216) + "\n")
    commands = [
        ["detect", str(photo), "--model", str(plain), "--json", str(tmp_path / "out.json")],
        ["track", str(video), "--model", str(packed), "--csv", str(tmp_path / "out.csv")],
        ["predict", str(plain), str(tmp_path / "test.csv"), "-o", str(tmp_path / "p.csv")],
        ["evaluate", str(packed), str(tmp_path)],
        ["show", str(tmp_path / "test.csv"), "--model", str(plain), "-o", str(tmp_path / "grid.png")],
        ["convert-model", str(plain), str(tmp_path / "new.skops")],
    ]
    for argv in commands:
        assert main(argv) == 2, argv
        err = capsys.readouterr().err
        assert err.startswith("fkp: error:") and err.count("\n") == 1 and "Traceback" not in err, err
        assert "runs whatever code it names" in err and "fkp convert-model" in err, err
        assert not marker.exists(), argv
    assert not any((tmp_path / name).exists() for name in ("out.json", "out.csv", "p.csv", "grid.png", "new.skops"))


def test_convert_model_keeps_the_model_and_its_fingerprints(synthetic, tmp_path, capsys):
    X, y = synthetic.data[:60], synthetic.target[:60]
    model = MeanKeypoints(layout="kaggle15").fit(X, y)
    old, new = tmp_path / "old.joblib", tmp_path / "new.skops"
    fingerprints = np.unique(persistence.face_fingerprints(X))
    joblib.dump({"format": "fkp_classic-model", "fkp_classic_version": persistence.__version__, "model": model,
                 "training_fingerprints": fingerprints}, old, compress=3)
    assert main(["convert-model", str(old), str(new), "--trust"]) == 0
    assert "safe model format" in capsys.readouterr().out
    loaded, info = load_model(new, return_info=True)
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))
    np.testing.assert_array_equal(info["training_fingerprints"], fingerprints)
    assert main(["predict", str(old), str(tmp_path / "test.csv"), "-o", str(tmp_path / "p.csv"), "--trust-model"]) == 2
    assert "runs whatever code" not in capsys.readouterr().err  # trusted: loaded; then the missing test file
    assert isinstance(convert_model(new, tmp_path / "again.skops"), MeanKeypoints)  # a safe file needs no trust


def test_save_model_is_atomic(tmp_path, monkeypatch):
    path = tmp_path / "m.skops"
    path.write_bytes(b"previous")
    import skops.io

    def failing(*args, **kwargs):
        raise RuntimeError("disk trouble")

    monkeypatch.setattr(skops.io, "dumps", failing)
    with pytest.raises(RuntimeError):
        save_model(MeanKeypoints(layout="kaggle15"), path)
    assert path.read_bytes() == b"previous" and [p.name for p in tmp_path.iterdir()] == ["m.skops"]
