"""Model files: the version check, old class paths, the packaged model and verifier."""

import joblib
import numpy as np
import pytest

from fkp_classic import KeypointRegressor, load_default_model, load_model, save_model
from fkp_classic.persistence import ModelVersionError, load_default_verifier


def test_model_version_check(tmp_path):
    model = KeypointRegressor(layout="kaggle15")
    path = tmp_path / "m.joblib"
    save_model(model, path)
    assert isinstance(load_model(path), KeypointRegressor)
    joblib.dump({"format": "fkp_classic-model", "fkp_classic_version": "9.3.0", "model": model}, path)
    with pytest.raises(ModelVersionError, match="saved by fkp_classic 9.3.0, which is incompatible"):
        load_model(path, trusted=True)  # a pickle: read only when trusted
    joblib.dump(model, path)
    with pytest.raises(ModelVersionError, match="not an fkp_classic model file"):
        load_model(path, trusted=True)


def test_model_of_the_old_package_layout_says_what_to_do(tmp_path):
    path = tmp_path / "old.joblib"
    path.write_bytes(b"cfkp_classic.cascade\nCascadeRegressor\n.")  # a pickle naming a 0.2 class path
    with pytest.raises(ModelVersionError, match=r"older than 0\.3 .*fkp_classic\.cascade.*refit it"):
        load_model(path, trusted=True)


def test_model_path_that_is_a_folder(tmp_path):
    with pytest.raises(ModelVersionError, match="is a folder, not a model file"):
        load_model(tmp_path)


def test_packaged_parts_record_their_layout():
    model = load_default_model()
    assert model.layout_.n_keypoints == 15 and model.mean_shape_.shape == (15, 2)
    assert model.image_shape_ == (96, 96)
    assert hasattr(load_default_verifier(), "decision_function")
    dense = load_default_model(layout="ibug68")
    assert dense.layout_.n_keypoints == 68 and dense.mean_shape_.shape == (68, 2)
    assert all(ridge.output_basis_.shape == (136, 12) for ridge in [dense.init_, *dense.stages_])  # reduced rank
    assert all(ridge.coef_.dtype == np.float64 for ridge in [dense.init_, *dense.stages_])  # widened on load
