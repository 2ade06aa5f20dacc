"""fkp_classic: classical facial keypoint detection as scikit-learn estimators.

>>> from fkp_classic import CascadeRegressor

The estimators live in :mod:`fkp_classic.estimators`, the features in
:mod:`fkp_classic.features`, the photo path in :mod:`fkp_classic.photo`, the
video tracker in :mod:`fkp_classic.video` and the data loaders in
:mod:`fkp_classic.datasets`. The public names (``__init__.pyi``, the one
declaration of the API) are imported on first use, so ``fkp --version``
and ``import fkp_classic`` stay fast.
"""

import lazy_loader as _lazy

from ._version import __version__

__getattr__, __dir__, __all__ = _lazy.attach_stub(__name__, __file__)
