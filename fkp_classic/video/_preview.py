"""A live preview: a window matplotlib draws each annotated frame into (``fkp track --show``)."""

import os
import sys

__all__ = ["Preview", "check_display"]

_MIN_SIDE = 640  # a small video's window is scaled up to this many pixels along its longer side


def check_display():
    """Raise ``RuntimeError`` saying why no window can open here: no display, or matplotlib draws no windows."""
    if sys.platform.startswith(("linux", "freebsd", "openbsd", "netbsd")) and not (
            os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        raise RuntimeError("a preview window needs a display, and there is none here (DISPLAY and WAYLAND_DISPLAY "
                           "are not set); write the annotated video with -o instead")
    import matplotlib
    import matplotlib.pyplot as plt  # noqa: F401 - picks the backend

    backend = matplotlib.get_backend().lower()
    try:
        from matplotlib.backends import BackendFilter, backend_registry

        drawn_only = backend_registry.list_builtin(BackendFilter.NON_INTERACTIVE)
    except ImportError:  # matplotlib before 3.9
        from matplotlib.rcsetup import non_interactive_bk as drawn_only
    if backend in {name.lower() for name in drawn_only}:
        raise RuntimeError(f"matplotlib draws no windows here (its backend is {backend}): install a GUI toolkit it "
                           "uses (tkinter, PyQt6, ...) or set MPLBACKEND, or write the annotated video with -o")


class Preview:
    """A window the frames are drawn into, one after another, until it is closed.

    Parameters
    ----------
    title : str
        The window's title.

    Attributes
    ----------
    closed : bool
        Whether the window was closed (by its user, or :meth:`close`).

    Raises
    ------
    RuntimeError
        When no window can open here (:func:`check_display`).
    """

    def __init__(self, title):
        check_display()
        self.title, self._closed = title, False
        self._figure = self._image = None

    @property
    def closed(self):
        import matplotlib.pyplot as plt

        return self._closed or (self._figure is not None and not plt.fignum_exists(self._figure.number))

    def show(self, rgb):
        """Draw ``rgb``, an ``(h, w, 3)`` uint8 array, in the window (opened at the first frame).

        Raises
        ------
        RuntimeError
            When the window cannot open.
        """
        if self.closed:
            return
        if self._figure is None:
            try:
                self._open(rgb)
            except Exception as exc:  # noqa: BLE001 - each GUI toolkit has its own errors (TclError, ...)
                raise RuntimeError(f"the preview window could not open ({exc or type(exc).__name__})") from None
        else:
            self._image.set_data(rgb)
        self._figure.canvas.draw_idle()
        self._figure.canvas.flush_events()  # the window's events: redraw, and a click on its close button

    def _open(self, rgb):
        import matplotlib.pyplot as plt

        height, width = rgb.shape[:2]
        scale = max(1.0, _MIN_SIDE / max(height, width)) / 100
        self._figure = plt.figure(figsize=(width * scale, height * scale), dpi=100)
        axes = self._figure.add_axes((0, 0, 1, 1))
        axes.set_axis_off()
        self._image = axes.imshow(rgb, interpolation="bilinear")
        self._figure.canvas.mpl_connect("close_event", self._on_close)
        if self._figure.canvas.manager is not None:
            self._figure.canvas.manager.set_window_title(self.title)
        plt.show(block=False)

    def _on_close(self, event):
        self._closed = True

    def close(self):
        """Close the window (if it is still open)."""
        import matplotlib.pyplot as plt

        if self._figure is not None:
            plt.close(self._figure)
        self._closed = True
