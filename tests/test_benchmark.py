"""The quick benchmark end to end on tiny real and synthetic subsets."""

import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from conftest import needs_faces96
from fkp_classic.keypoints import KAGGLE_COLUMNS

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import run  # noqa: E402


@pytest.fixture(autouse=True)
def one_timed_predict(monkeypatch):
    """Predict timed once per fold, not PREDICT_REPEATS times: these tests check the figures, not their precision."""
    monkeypatch.setattr(run, "PREDICT_REPEATS", 1)


def _check_result(out, expect_groups):
    result = json.loads((out / "results.json").read_text())
    assert {"machine", "command", "data", "cv", "keypoint_names", "estimators", "hog_speed", "best"} <= set(result)
    assert result["machine"]["versions"]["fkp_classic"]
    assert ("GroupKFold" in result["cv"]["description"]) == expect_groups
    rows = {r["name"]: r for r in result["estimators"] if r["status"] == "ok"}
    for row in rows.values():
        assert np.isfinite(row["rmse"]) and row["rmse"] > 0
        assert len(row["per_keypoint_rmse"]) == 15 and np.isfinite(row["per_keypoint_rmse"]).all()
        assert len(row["rmse_folds"]) == result["cv"]["n_folds"]
        assert row["fit_seconds"] >= 0 and row["predict_faces_per_second"] > 0
        assert set(row["ratios"]) == {"rmse", "fit_seconds", "predict_faces_per_second", "peak_fit_memory_mib"}
    # The mean baseline is the worst row; learning helps.
    assert max(rows.values(), key=lambda r: r["rmse"])["name"] == "mean shape"
    assert rows["HOG ridge (KeypointRegressor)"]["rmse"] < 0.8 * rows["mean shape"]["rmse"]
    assert min(r["ratios"]["rmse"] for r in rows.values()) == 1.0
    assert result["hog_speed"]["max_abs_difference"] < 1e-6
    for name in ("results.md", "rmse.png", "per_keypoint_rmse.png", "faces.png"):
        assert (out / name).stat().st_size > 0
    return result, rows


@needs_faces96
def test_quick_benchmark_on_faces96_subset(tmp_path, capsys, small_kaggle_folder):
    # faces96's first 600 faces and 40 test faces, in its own format
    data = small_kaggle_folder
    assert run.main(["--quick", "--data", str(data), "--limit", "240", "--folds", "2", "--out", str(tmp_path), "--submit"]) == 0
    result, rows = _check_result(tmp_path, expect_groups=True)
    assert len(rows) == 6 and result["data"]["n_samples"] >= 240
    skipped = [r for r in result["estimators"] if r["status"] == "skipped"]
    assert skipped and skipped[0]["name"] == "dlib shape predictor" and skipped[0]["reason"]
    submission = pd.read_csv(tmp_path / "submission.csv")
    assert list(submission.columns) == ["RowId", "Location"]
    assert len(submission) == len(pd.read_csv(data / "IdLookupTable.csv"))
    assert "| HOG ridge (KeypointRegressor) |" in capsys.readouterr().out


def test_quick_benchmark_on_synthetic_faces_writes_a_run_folder_unless_published(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("FKP_DATA", raising=False)
    monkeypatch.setattr(run, "RUNS", tmp_path / "runs")
    monkeypatch.setattr(run, "RESULTS", tmp_path / "published")
    assert run.main(["--quick", "--folds", "2", "--limit", "200", "--estimators", "mean,HOG ridge"]) == 0
    out = capsys.readouterr().out
    assert "running on 200 embedded synthetic faces" in out  # --limit holds for them too
    written = list((tmp_path / "runs").iterdir())
    assert len(written) == 1 and not (tmp_path / "published").exists()
    assert f"Results will be written to {written[0]}" in out and out.count("Data:") == 1
    _check_result(written[0], expect_groups=False)


@needs_faces96
def test_quick_benchmark_on_kaggle_csv_with_missing_labels(tmp_path, faces96, kaggle_missing_mask):
    rng = np.random.default_rng(0)
    n = 240
    mask = np.repeat(kaggle_missing_mask[rng.choice(len(kaggle_missing_mask), n, replace=False)], 2, axis=1)
    frame = pd.DataFrame(np.where(mask, faces96.target[:n], np.nan), columns=list(KAGGLE_COLUMNS))
    frame["Image"] = [" ".join(map(str, r)) for r in faces96.data[:n]]
    frame.to_csv(tmp_path / "training.csv", index=False)
    out = tmp_path / "results"
    assert run.main(["--quick", "--data", str(tmp_path / "training.csv"), "--folds", "2",
                     "--estimators", "mean,HOG ridge", "--out", str(out)]) == 0
    result, _ = _check_result(out, expect_groups=False)
    assert result["data"]["n_missing_rows"] == int((~mask.all(axis=1)).sum()) > 0


def test_bad_data_path_is_one_clear_error(tmp_path, capsys):
    assert run.main(["--data", str(tmp_path / "missing.csv"), "--out", str(tmp_path)]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_uncertainty_ceiling_recovers_a_known_spread_of_error_scales():
    import uncertainty_ceiling

    rng = np.random.default_rng(0)
    sigma = np.exp(rng.normal(0.0, 0.5, (4000, 30)))  # each coordinate's true error scale
    error = sigma * rng.normal(size=sigma.shape)
    error[::7, :4] = np.nan  # missing labels are left out
    result = uncertainty_ceiling.ceiling(error, sigma)
    assert abs(result["log_sigma_sd_at_most"] - 0.5) < 0.05  # sqrt(var(log|e|) - pi^2/8)
    assert abs(result["model_spearman"] - result["oracle_spearman"]) < 0.02  # the true sigma reaches the ceiling
    # errors of one spread only: nothing to rank, so no ceiling and no oracle above chance
    flat = uncertainty_ceiling.ceiling(rng.normal(size=(4000, 30)), np.ones((4000, 30)))
    assert abs(flat["var_log_abs_error"] - np.pi**2 / 8) < 0.03 and abs(flat["other_coordinates_oracle_spearman"]) < 0.03
