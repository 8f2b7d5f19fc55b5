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
