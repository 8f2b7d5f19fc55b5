"""Regenerate the list of built-ins in docs/language.md from the one table.

    python docs/generate.py

Everything between the `functions:start` and `functions:end` markers is replaced by
`gradcli functions --markdown`; tests/cli/test_functions.py fails when it is stale.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from gradcli.cli.commands import builtin_rows, functions_markdown  # noqa: E402

START, END = "<!-- functions:start -->", "<!-- functions:end -->"


def main() -> None:
    path = ROOT / "docs" / "language.md"
    text = path.read_text(encoding="utf-8")
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    table = functions_markdown(builtin_rows())
    path.write_text(f"{head}{START}\n\n{table.strip()}\n\n{END}{tail}", encoding="utf-8")


if __name__ == "__main__":
    main()
