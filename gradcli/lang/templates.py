"""Compiled-statement templates: lines that differ only in their numbers parse once.

A stream of short lines (``mean(3*(sin(x)+4)^2) + 2*sum(x)``, then the same with other
constants) spends most of its time in the LALR parse. The parse depends only on the
tokens' types, and the instructions the emitter makes depend on the tokens' values and
positions. So a one-line statement is keyed on its token sequence with every NUMBER's
text left out. Lines with a new key are parsed as usual; the second one also makes a
template of its instructions, whose spans point at token indices and whose number pushes
point at the NUMBER tokens, kept only if a variant of the line with other numbers, parsed
in full, gives exactly what the template gives for it. Later lines with that key get the
template's instructions with their own numbers and columns substituted. Same tokens,
same program; a line that does not parse is never kept, so errors (messages and
positions) come from the full path.

The tokens come from the grammar's own lexer (:class:`gradcli.lang.lalr.Lexer`: Lark's
compiled terminal patterns, in its priority order, and its keyword check), scanned here
without a Token object per match. Any
line this scan is unsure of (a ``;``, a ``\\`` continuation, an unbalanced bracket, a
character no terminal matches) goes to the full path.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from gradcli.lang.compiler import PUSH, number_value
from gradcli.lang.lalr import Lexer

_SPAN, _SPANS, _NUMBER = range(3)
_MAX_TEMPLATES = 2048
_OPEN = frozenset(("LPAR", "LSQB"))
_CLOSE = frozenset(("RPAR", "RSQB"))


class Templates:
    """Quick lexing of one line, and the templates learnt from full parses."""

    __slots__ = ("finditer", "ignore", "keywords", "templates", "seen", "enabled")

    def __init__(self, lexer: Lexer | None) -> None:
        """Templates for lines lexed by ``lexer``; none (``enabled`` False) without one."""
        self.templates: dict[tuple, tuple | None] = {}
        self.seen: set[tuple] = set()
        self.enabled = False
        if lexer is None or len(lexer.patterns) != 1:
            return  # (past Python's group limit Lark splits the pattern: full path only)
        self.finditer = lexer.patterns[0].finditer
        self.ignore = lexer.ignore
        self.keywords = lexer.keywords
        self.enabled = True

    def tokens(self, text: str) -> tuple[list[str], list[str], list[int], list[int]] | None:
        """Kinds, values, start and end offsets of the tokens of ``text`` (one line, ending
        in its newline), without the final newline; None if the line is not one simple
        statement (or no statement at all) that the quick path can take."""
        ignore = self.ignore
        keywords = self.keywords
        kinds: list[str] = []
        values: list[str] = []
        starts: list[int] = []
        ends: list[int] = []
        depth = 0
        pos = 0
        for m in self.finditer(text):  # each match must start where the last one ended
            start, stop = m.span()
            if start != pos:
                return None  # a character no terminal matches: the full path says so
            pos = stop
            kind = m.lastgroup
            if kind in ignore:
                if "\n" in m.group():
                    return None
                continue
            value = m.group()
            if kind == "_NEWLINE":
                if stop != len(text) or depth or not kinds:
                    return None
                return kinds, values, starts, ends
            if kind in keywords:
                kind = keywords[kind](value) or kind
            elif kind in _OPEN:
                depth += 1
            elif kind in _CLOSE:
                depth -= 1
                if depth < 0:
                    return None
            elif kind == "_SEMICOLON":
                return None
            kinds.append(kind)
            values.append(value)
            starts.append(start)
            ends.append(stop)
        return None

    @staticmethod
    def key(kinds: list[str], values: list[str]) -> tuple:
        return (*kinds, *(None if k == "NUMBER" else v for k, v in zip(kinds, values)))

    def instantiate(self, template: tuple, line: int, values: list[str], starts: list[int],
                    ends: list[int]) -> list[tuple]:
        """The template's instructions for this line's numbers and columns."""
        pairs, steps = template
        spans = [(line, starts[i] + 1, line, ends[j] + 1) for i, j in pairs]
        code = []
        append = code.append
        for step in steps:
            form = step[0]
            if form == _SPAN:  # (op, span, *rest): most instructions
                append((step[1], spans[step[2]], *step[3]))
            elif form == _NUMBER:
                append((PUSH, spans[step[1]], number_value(values[step[2]])))
            else:
                fields = list(step[1])
                for index, kind, where in step[2]:
                    if kind == _SPAN:
                        fields[index] = spans[where]
                    elif kind == _SPANS:
                        fields[index] = [spans[k] for k in where]
                    else:
                        fields[index] = number_value(values[where])
                append(tuple(fields))
        return code

    def learn(self, key: tuple, code: list[tuple], text: str, line: int,
              found: tuple[list[str], list[str], list[int], list[int]],
              reparse: Callable[[str, int], list | None]) -> None:
        """Learn from ``code``, the full parse of ``text`` (tokens ``found``), whose key has
        no template yet.

        A key's template is made the second time the key is seen (a line seen once costs
        nothing more). It is kept only if a variant of the line with other numbers (and
        so other columns), parsed in full by ``reparse``, gives exactly what the template
        gives for it: a compiler that ever used a number's value beyond its push, or a
        span this module does not understand, is never cached.
        """
        if key not in self.seen:
            if len(self.seen) >= _MAX_TEMPLATES:
                self.seen.clear()
            self.seen.add(key)
            return
        kinds, values, starts, ends = found
        template = self._template(code, line, kinds, values, starts, ends)
        if template is not None:
            pieces = []
            last = 0
            for k, i in enumerate(i for i, kind in enumerate(kinds) if kind == "NUMBER"):
                other = f"{k + 7}.25" if values[i] != f"{k + 7}.25" else f"{k + 7}.5"
                pieces += [text[last:starts[i]], other]
                last = ends[i]
            variant = "".join(pieces) + text[last:]
            again = self.tokens(variant)
            try:
                if (again is None or again[0] != kinds or self.instantiate(
                        template, line, *again[1:]) != reparse(variant, line)):
                    template = None
            except Exception:  # noqa: BLE001 - never cache what does not round-trip
                template = None
        self._keep(key, template)

    def _keep(self, key: tuple, template: tuple | None) -> None:
        if len(self.templates) >= _MAX_TEMPLATES:
            self.templates.clear()
        self.templates[key] = template

    def _template(self, code: list[tuple], line: int, kinds: list[str], values: list[str],
                  starts: list[int], ends: list[int]) -> tuple | None:
        """``code`` with every span (a 4-tuple, see compiler) as token indices and every
        number push as the index of its NUMBER token; None if it does not round-trip."""
        by_start = {(line, s + 1): i for i, s in enumerate(starts)}
        by_end = {(line, e + 1): i for i, e in enumerate(ends)}

        def locate(span: Any) -> tuple[int, int] | None:
            if type(span) is not tuple or len(span) != 4:
                return None
            i = by_start.get((span[0], span[1]))
            j = by_end.get((span[2], span[3]))
            return None if i is None or j is None else (i, j)

        template: Any = []
        try:
            for ins in code:
                slots = []
                for index, value in enumerate(ins):
                    if index == 0:
                        continue
                    where = locate(value)
                    if where is not None:
                        slots.append((index, _SPAN, where))
                    elif _spanlike(value):
                        return None  # a span that is not from token to token: unforeseen
                    elif type(value) is list and value and all(
                            locate(item) is not None for item in value):
                        slots.append((index, _SPANS, [locate(item) for item in value]))
                    elif type(value) is list and any(_spanlike(item) for item in value):
                        return None
                if ins[0] == PUSH and slots and slots[0][0] == 1:
                    i, j = slots[0][2]
                    if i == j and kinds[i] == "NUMBER":
                        slots.append((2, _NUMBER, i))
                template.append((ins, tuple(slots)))
            template = _compile(template)
            if self.instantiate(template, line, values, starts, ends) != code:
                return None
        except Exception:  # noqa: BLE001 - a shape we did not foresee: never cache it
            return None
        return template


def _spanlike(value: Any) -> bool:
    return type(value) is tuple and len(value) == 4 and all(type(v) is int for v in value)


def _compile(generic: list) -> tuple:
    """(ins, slots) pairs -> (the distinct token spans, one quick step per instruction)."""
    pairs: list[tuple[int, int]] = []
    number: dict[tuple[int, int], int] = {}

    def pair(where: tuple[int, int]) -> int:
        k = number.get(where)
        if k is None:
            k = number[where] = len(pairs)
            pairs.append(where)
        return k

    steps = []
    for ins, slots in generic:
        if len(slots) == 1 and slots[0][0] == 1 and slots[0][1] == _SPAN:
            steps.append((_SPAN, ins[0], pair(slots[0][2]), ins[2:]))
        elif (ins[0] == PUSH and len(ins) == 3 and len(slots) == 2 and slots[0][:2] == (1, _SPAN)
              and slots[1][:2] == (2, _NUMBER)):
            steps.append((_NUMBER, pair(slots[0][2]), slots[1][2]))
        else:
            general = []
            for index, kind, where in slots:
                if kind == _SPAN:
                    general.append((index, kind, pair(where)))
                elif kind == _SPANS:
                    general.append((index, kind, [pair(w) for w in where]))
                else:
                    general.append((index, kind, where))
            steps.append((_SPANS, ins, tuple(general)))
    return tuple(pairs), tuple(steps)
