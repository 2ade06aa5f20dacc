"""Shared fixtures: real data from ../shared/data (or $FKP_DATA), synthetic faces."""

import os
from pathlib import Path

# One BLAS thread, here and in the processes the tests start (the command line, Dask workers): the suite's
# products are small to medium, where BLAS's threads cost more than they save, and far more when other
# processes share the cores (a 1120-row positive-definite solve, as a cascade stage's cross-fitting makes:
# 0.62 s with two OpenBLAS threads against 0.05 s with one on a busy 2-core machine). Set the variables
# yourself to choose otherwise.
for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

threadpool_limits(limits=int(os.environ["OPENBLAS_NUM_THREADS"]), user_api="blas")  # if numpy was loaded already

ROOT = Path(__file__).resolve().parents[1]
FACES96 = Path(os.environ.get("FKP_DATA", ROOT.parent / "shared" / "data" / "faces96"))
KAGGLE = Path(os.environ.get("FKP_KAGGLE_DATA", ROOT.parent / "shared" / "data" / "kaggle"))

needs_faces96 = pytest.mark.skipif(
    not (FACES96 / "training.zip").is_file(),
    reason=f"faces96 data not found at {FACES96} (set FKP_DATA to the faces96 folder)",
)
needs_kaggle = pytest.mark.skipif(
    not (KAGGLE / "IdLookupTable.csv").is_file(),
    reason=f"genuine Kaggle files not found at {KAGGLE} (set FKP_KAGGLE_DATA)",
)


@pytest.fixture(scope="session")
def faces96():
    """The whole faces96 training set (loaded once per session)."""
    if not (FACES96 / "training.zip").is_file():
        pytest.skip(f"faces96 data not found at {FACES96} (set FKP_DATA to the faces96 folder)")
    from fkp_classic.datasets import load_kaggle

    return load_kaggle(FACES96)


@pytest.fixture(scope="session")
def small_kaggle_folder(tmp_path_factory):
    """A folder in faces96's own Kaggle format holding its first 600 training faces and first 40 test faces
    (training.zip, training_meta.csv, test.zip and the lookup rows of those 40), with the shared ``video``
    folder beside it, as in ../shared/data: the docs' examples run on it as written, in a fraction of the time."""
    import zipfile

    import pandas as pd

    if not (FACES96 / "training.zip").is_file():
        pytest.skip(f"faces96 data not found at {FACES96} (set FKP_DATA to the faces96 folder)")
    folder = tmp_path_factory.mktemp("data") / "faces96"
    folder.mkdir()
    if (FACES96.parent / "video").is_dir():
        (folder.parent / "video").symlink_to(FACES96.parent / "video", target_is_directory=True)
    for name, rows in (("training", 600), ("test", 40)):
        with zipfile.ZipFile(FACES96 / f"{name}.zip") as source:
            table = pd.read_csv(source.open(f"{name}.csv"), nrows=rows)
        with zipfile.ZipFile(folder / f"{name}.zip", "w", zipfile.ZIP_DEFLATED) as target:
            target.writestr(f"{name}.csv", table.to_csv(index=False))
    pd.read_csv(FACES96 / "training_meta.csv", nrows=600).to_csv(folder / "training_meta.csv", index=False)
    lookup = pd.read_csv(FACES96 / "IdLookupTable.csv")
    lookup[lookup.ImageId.isin(table.ImageId)].to_csv(folder / "IdLookupTable.csv", index=False)
    return folder


@pytest.fixture(scope="session")
def faces96_folds(faces96):
    """The benchmark's 5 GroupKFold-by-person folds."""
    from sklearn.model_selection import GroupKFold

    return list(GroupKFold(5).split(faces96.data, faces96.target, faces96.groups))


@pytest.fixture(scope="session")
def faces96_subset(faces96, faces96_folds):
    """Fold 0 made smaller: the training faces of its first 100 people (about 1200), and its 682 test faces.

    The accuracy checks of the suite run here, once per estimator; the benchmark runs all 5 folds.
    """
    train, test = faces96_folds[0]
    people = np.unique(faces96.groups[train])[:100]
    return train[np.isin(faces96.groups[train], people)], test


@pytest.fixture(scope="session")
def subset_cascade(faces96, faces96_subset):
    """The default CascadeRegressor fitted once on ``faces96_subset``'s training faces."""
    from fkp_classic import CascadeRegressor

    train, _ = faces96_subset
    return CascadeRegressor(layout="kaggle15").fit(faces96.data[train], faces96.target[train])


@pytest.fixture(scope="session")
def subset_regressor(faces96, faces96_subset):
    """The default KeypointRegressor fitted once on ``faces96_subset``'s training faces."""
    from fkp_classic import KeypointRegressor

    train, _ = faces96_subset
    return KeypointRegressor(layout="kaggle15").fit(faces96.data[train], faces96.target[train])


@pytest.fixture(scope="session")
def faces96_ibug68():
    """faces96 with the 68 iBUG points of its training_meta.csv as the target (loaded once per session)."""
    if not (FACES96 / "training_meta.csv").is_file():
        pytest.skip(f"faces96 data not found at {FACES96} (set FKP_DATA to the faces96 folder)")
    from fkp_classic.datasets import load_kaggle

    return load_kaggle(FACES96, layout="ibug68")


@pytest.fixture(scope="session")
def kaggle_missing_mask():
    """Labelled-keypoint mask (7049, 15) of Kaggle's real training file."""
    if not (KAGGLE / "training_keypoints.csv").is_file():
        pytest.skip(f"genuine Kaggle files not found at {KAGGLE}")
    import pandas as pd

    return pd.read_csv(KAGGLE / "training_keypoints.csv").notna().to_numpy()[:, 0::2]


@pytest.fixture(scope="session")
def synthetic():
    """300 synthetic faces with exact keypoints."""
    from fkp_classic.datasets import make_faces

    return make_faces(300, random_state=0)


@pytest.fixture(scope="session")
def small_faces():
    """180 synthetic faces at 48x48 (keypoints halved), 30% of rows with only the four core keypoints."""
    from fkp_classic.datasets import make_faces

    X, y = make_faces(180, random_state=3, missing=0.3, return_X_y=True)
    return X.reshape(-1, 48, 2, 48, 2).mean(axis=(2, 4)).reshape(len(X), -1), y / 2


@pytest.fixture
def rng():
    return np.random.default_rng(0)


# scikit-learn's common checks that cannot run on keypoint estimators are listed, with the reason,
# in test_estimators.py; pytest would print an "x" for each. They are counted once at the end instead.
_COMMON_CHECKS = "test_sklearn_common_checks"


def pytest_report_teststatus(report, config):
    if _COMMON_CHECKS in report.nodeid and report.when == "call" and hasattr(report, "wasxfail"):
        return "xfailed", "", "XFAIL"
    return None


def pytest_terminal_summary(terminalreporter):
    expected = [r for r in terminalreporter.stats.get("xfailed", []) if _COMMON_CHECKS in r.nodeid]
    if expected:
        terminalreporter.write_line(
            f"{len(expected)} scikit-learn common checks failed as expected: they feed X of 1-10 columns and y of "
            f"1 or 5 columns, which are not flattened images or (x, y) keypoint pairs (reasons per check in "
            f"tests/test_estimators.py; every convention they cover is tested on image-shaped data there)."
        )
