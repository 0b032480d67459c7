"""The one meaning of ``progress=`` across the API (maps, sweeps, training analyses, training).

``progress`` is True (a tqdm bar), False or None (silent), or a callable
``progress(done, total)`` called with the number of work items done so far
and their total (grid points for maps and sweeps, epochs for training).
Every such function documents it with the same sentence:
"True for a tqdm progress bar, False or None for none, or a callable
``progress(done, total)`` called as work completes (e.g. a widget's
progress bar)."
"""

from __future__ import annotations

from typing import Any, Callable

ProgressArg = bool | Callable[[int, int], Any] | None


class Progress:
    """Reporter built from a ``progress=`` argument; call it with ``(done, total)``, then :meth:`close`.

    Parameters
    ----------
    progress
        True, False/None or a callable ``progress(done, total)``.
    total
        Number of work items (the bar's length).
    desc, unit
        Label and unit of the tqdm bar.

    Examples
    --------
    >>> seen = []
    >>> p = Progress(lambda done, total: seen.append((done, total)), 3, "demo", "item")
    >>> p(1, 3); p(3, 3); p.close()
    >>> seen
    [(1, 3), (3, 3)]
    >>> Progress("yes", 3, "demo", "item")
    Traceback (most recent call last):
    ...
    TypeError: progress must be True, False, None or a callable progress(done, total), got str 'yes'
    """

    def __init__(self, progress: ProgressArg, total: int, desc: str, unit: str) -> None:
        self._callback: Callable[[int, int], Any] | None = None
        self._bar: Any = None
        if progress is None or progress is False:
            return
        if progress is True:
            from tqdm.auto import tqdm

            self._bar = tqdm(total=total, desc=desc, unit=unit)
        elif callable(progress):
            self._callback = progress
        else:
            raise TypeError(f"progress must be True, False, None or a callable progress(done, total), "
                            f"got {type(progress).__name__} {progress!r}")

    def __call__(self, done: int, total: int, **postfix: Any) -> None:
        """Report ``done`` of ``total``; ``postfix`` (e.g. ``loss=...``) is shown next to a tqdm bar."""
        if self._callback is not None:
            self._callback(int(done), int(total))
        elif self._bar is not None:
            self._bar.update(int(done) - self._bar.n)
            if postfix:
                self._bar.set_postfix(**postfix)

    def close(self) -> None:
        """Close the tqdm bar (if any)."""
        if self._bar is not None:
            self._bar.close()
