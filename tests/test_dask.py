"""On a real dask.distributed LocalCluster (2 worker processes): batch detection and grid search."""

import sys

import numpy as np
import pytest
from PIL import Image
from skimage import data

distributed = pytest.importorskip("distributed", reason="Dask is an extra: pip install 'fkp_classic[dask]'")

from fkp_classic.cli import main  # noqa: E402
from fkp_classic.photo import detect_photos, photo_paths  # noqa: E402


@pytest.fixture(scope="module")
def client():
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        with distributed.Client(cluster) as client:
            yield client


@pytest.fixture(scope="module")
def shots(tmp_path_factory):
    folder = tmp_path_factory.mktemp("shots")
    for i in range(5):
        Image.fromarray(np.roll(data.astronaut(), 25 * i, axis=0)).save(folder / f"shot{i}.png")
    (folder / "zz_broken.png").write_text("not a photo")
    return folder


def test_batch_detection_on_the_cluster_equals_the_serial_run(client, shots):
    paths = list(photo_paths([shots]))
    serial = list(detect_photos(paths, min_score=1.75))
    clustered = list(detect_photos(iter(paths), client=client, min_score=1.75))
    assert clustered == serial and [r["photo"] for r in clustered] == paths
    assert clustered[-1]["error"] is not None and all(len(r["faces"]) == 1 for r in clustered[:-1])


def test_fkp_detect_runs_on_a_scheduler_and_says_what_to_install(client, shots, tmp_path, capsys, monkeypatch):
    out = tmp_path / "faces.jsonl"
    address = client.scheduler.address
    assert main(["detect", str(shots), "--jsonl", str(out), "--scheduler", address, "--min-score", "1"]) == 2
    assert "1 of 6 photo(s) could not be processed" in capsys.readouterr().err
    assert len(out.read_text().splitlines()) == 6
    monkeypatch.setitem(sys.modules, "dask.distributed", None)  # as if Dask were not installed
    assert main(["detect", str(shots), "--jsonl", str(tmp_path / "b.jsonl"), "--scheduler", address]) == 2
    assert "pip install 'fkp_classic[dask]'" in capsys.readouterr().err


def test_grid_search_with_the_dask_joblib_backend(client, synthetic):
    import joblib
    from sklearn.model_selection import GridSearchCV, GroupKFold, cross_val_predict

    from fkp_classic import CascadeRegressor, KeypointRegressor
    from fkp_classic.metrics import rmse_scorer

    X, y = synthetic.data[:160], synthetic.target[:160]
    groups = np.arange(160) // 8
    search = GridSearchCV(CascadeRegressor(layout="kaggle15", cell_sizes=(10, 6), n_perturbations=1, uncertainty=False), {"alpha": [10.0, 100.0]},
                          cv=GroupKFold(2), scoring=rmse_scorer, n_jobs=-1)
    with joblib.parallel_config(backend="dask"):
        search.fit(X, y, groups=groups)
        pred = cross_val_predict(KeypointRegressor(layout="kaggle15"), X, y, groups=groups, cv=GroupKFold(2), n_jobs=-1)
    local = GridSearchCV(CascadeRegressor(layout="kaggle15", cell_sizes=(10, 6), n_perturbations=1, uncertainty=False), {"alpha": [10.0, 100.0]},
                         cv=GroupKFold(2), scoring=rmse_scorer).fit(X, y, groups=groups)
    np.testing.assert_allclose(search.cv_results_["mean_test_score"], local.cv_results_["mean_test_score"])
    np.testing.assert_allclose(pred, cross_val_predict(KeypointRegressor(layout="kaggle15"), X, y, groups=groups, cv=GroupKFold(2)))


def test_chunked_fit_on_the_cluster_equals_the_in_memory_fit(client, small_faces):
    import dask.array as da

    from fkp_classic import CascadeRegressor
    from test_chunked_fit import PARAMS, chunks_of

    X, y = small_faces
    whole = CascadeRegressor(**PARAMS).fit(X[:150], y[:150])
    from_list = CascadeRegressor(**PARAMS).fit_chunked(chunks_of(X[:150], y[:150], 41), client=client)
    # Dask arrays whose row blocks differ between X and y: y follows X's.
    arrays = da.from_array(X[:150], chunks=(50, -1)), da.from_array(y[:150], chunks=(64, -1))
    from_arrays = CascadeRegressor(**PARAMS).fit_chunked(*arrays, client=client)
    here = CascadeRegressor(**PARAMS).fit_chunked(*arrays)
    expected, expected_std = whole.predict(X[150:], return_std=True)
    for model in (from_list, from_arrays, here):
        pred, std = model.predict(X[150:], return_std=True)
        np.testing.assert_allclose(pred, expected, rtol=1e-6, atol=1e-6 * np.abs(expected).max())
        np.testing.assert_allclose(std, expected_std, rtol=1e-6)


def test_chunked_fit_on_the_cluster_measures_the_flip_axis_on_the_first_block(client, small_faces):
    import dask.array as da

    from fkp_classic import CascadeRegressor
    from test_chunked_fit import PARAMS

    X, y = small_faces
    arrays = da.from_array(X[:150], chunks=(50, -1)), da.from_array(y[:150], chunks=(50, -1))
    clustered = CascadeRegressor(**PARAMS, flip=True).fit_chunked(*arrays, client=client)  # the images stay there
    first = CascadeRegressor(**PARAMS, flip=True).fit(X[:50], y[:50])
    assert clustered.flip_axis_ == first.flip_axis_
