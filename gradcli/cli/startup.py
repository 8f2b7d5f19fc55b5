"""Start-up with the cyclic garbage collector paused.

Importing NumPy, Lark, click and gradcli makes hundreds of thousands of objects and no
cyclic garbage worth collecting, yet each 700 allocations start a collection that walks
them: ~5% of `gradcli eval`'s start. The console script pauses the collector
(:func:`pause`) and the command resumes it (:func:`resume`) once its imports are done,
before the first statement runs, so a program, a stream or a REPL session runs with the
collector as usual. What start-up made is frozen first (``gc.freeze``: moved where no
collection looks; it lives as long as the process anyway), else the first collection
would walk it all and cost what the pause saved. The console script resumes the
collector on the way out in any case.
"""

from __future__ import annotations

import gc
import sys

_paused = False


def pause() -> None:
    """Stop the collector, if it runs (a caller that turned it off keeps it off)."""
    global _paused
    if gc.isenabled():
        gc.disable()
        _paused = True


def resume() -> None:
    """Start the collector again if :func:`pause` stopped it."""
    global _paused
    if _paused:
        _paused = False
        gc.freeze()  # what start-up made stays (modules, tables): not collected later, nor
        gc.enable()  # walked by the first collection (which would cost what was saved)


def load_numpy() -> None:
    """Import NumPy, with the collector running while it does if :func:`pause` stopped it.

    NumPy's import with the collector paused costs more than the collections it saves
    (measured, 25 interleaved runs: `gradcli eval '1+2'` ~13 ms slower with OpenBLAS's
    own threads, whose start NumPy's import includes, ~2 ms with one thread; the
    mechanism is not pinned down), so the commands' first NumPy import goes through
    here; what follows it (Lark, gradcli) still runs paused."""
    if _paused and "numpy" not in sys.modules:
        gc.enable()
        try:
            import numpy  # noqa: F401
        finally:
            gc.disable()
