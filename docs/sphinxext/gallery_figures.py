"""A sphinx-gallery scraper for the matplotlib figures that pyplot does not know of.

:func:`fkp_classic.plotting.face_grid` returns a ``matplotlib.figure.Figure`` not attached to pyplot
(so a script or a server never leaks it); in a notebook it shows as a cell's value. sphinx-gallery's
own scraper finds only pyplot's figures, so an example ending in ``fig`` would show nothing: this one
saves each such figure that an example's namespace holds, once.
"""

import weakref

from matplotlib.figure import Figure
from sphinx_gallery.scrapers import figure_rst

_shown = weakref.WeakSet()


def unattached_figures(block, block_vars, gallery_conf, **kwargs):
    figures = []
    for value in list(block_vars["example_globals"].values()):
        if isinstance(value, Figure) and value not in _shown:
            _shown.add(value)  # once: pyplot's own (run before its scraper closes them) are left to that scraper
            if value.canvas.manager is None:
                figures.append(value)
    paths = []
    for fig in figures:
        path = next(block_vars["image_path_iterator"])
        fig.savefig(path)
        paths.append(path)
    return figure_rst(paths, gallery_conf["src_dir"]) if paths else ""
