"""Lark's LALR runtime, without importing Lark: tokens, the lexer, the parser state.

Lark stays the grammar compiler: on a cache miss it reads grammar/gradcli.lark and builds
the LALR tables, and :func:`extract` copies out of that built parser everything the
runtime needs, as plain data (cached as JSON by :mod:`gradcli.lang.grammar`). Reading a
program then needs only this module and :mod:`re`, so a start with a warm cache never
pays for ``import lark`` (~40 ms). What mirrors what in Lark 1.x:

- :class:`Token` is ``lark.Token`` (a str with type and position);
- :class:`Lexer` is ``lark.lexer.BasicLexer`` with its ``LineCounter``: the terminals'
  combined pattern, tried at each position, ignored terminals skipped, a keyword
  re-typed by the ``UnlessCallback`` check (``true`` is TRUE, not NAME);
- :class:`ParserState` is ``lark.parsers.lalr_parser_state.ParserState.feed_token``:
  shift, or reduce and go to, with state and value stacks;
- each rule's callback is the chain ``lark.parse_tree_builder.ParseTreeBuilder`` wraps
  around the transformer's method: the child filter (drops filtered-out tokens, inlines
  ``_rules``, fills None for a missing ``[optional]``) and ``?rule`` single-child
  expansion; the method is picked by the rule's alias or name;
- :class:`UnexpectedToken` and :class:`UnexpectedCharacters` carry what Lark's
  exceptions of those names carry (token, expected terminals; character, line, column).

Nothing here analyses the grammar: the tables, the terminal order and each rule's
filter are Lark's own, read off the parser it built.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

FORMAT = 1  # the layout of extract()'s data; a change also needs grammar.CACHE_FORMAT bumped


class Token(str):
    """A lexed token, as ``lark.Token``: the text, its terminal's name and its position
    (1-based line and column, end exclusive; ``start_pos``/``end_pos`` are offsets)."""

    __slots__ = ("type", "value", "start_pos", "line", "column", "end_line", "end_column",
                 "end_pos")

    type: str
    value: Any
    start_pos: int | None
    line: int | None
    column: int | None
    end_line: int | None
    end_column: int | None
    end_pos: int | None

    def __new__(cls, type: str, value: Any, start_pos: int | None = None,  # noqa: A002
                line: int | None = None, column: int | None = None,
                end_line: int | None = None, end_column: int | None = None,
                end_pos: int | None = None) -> Token:
        self = str.__new__(cls, value)
        self.type = type
        self.value = value
        self.start_pos = start_pos
        self.line = line
        self.column = column
        self.end_line = end_line
        self.end_column = end_column
        self.end_pos = end_pos
        return self

    @classmethod
    def new_borrow_pos(cls, type_: str, value: Any, borrow: Any) -> Token:
        """A token of another type and value at ``borrow``'s position (``$END`` tokens)."""
        return cls(type_, value, borrow.start_pos, borrow.line, borrow.column,
                   borrow.end_line, borrow.end_column, borrow.end_pos)

    def __repr__(self) -> str:
        return f"Token({self.type!r}, {self.value!r})"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Token) and self.type != other.type:
            return False
        return str.__eq__(self, other)

    __hash__ = str.__hash__


class Tree:
    """A node for a rule the transformer has no method for (``lark.Tree``'s data and
    children); in this grammar only the ``__x_star_n`` helper rules, which their parent
    rule inlines at once."""

    __slots__ = ("data", "children")

    def __init__(self, data: str, children: list) -> None:
        self.data = data
        self.children = children

    def __repr__(self) -> str:
        return f"Tree({self.data!r}, {self.children!r})"

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, Tree) and self.data == other.data
                and self.children == other.children)

    __hash__ = None  # type: ignore[assignment]  # mutable, as lark.Tree compares


class UnexpectedInput(Exception):
    """A syntax error (``lark.exceptions.UnexpectedInput``)."""

    line: int | None
    column: int | None


class UnexpectedToken(UnexpectedInput):
    """The parser cannot take ``token`` here; ``expected`` are the terminals it could."""

    def __init__(self, token: Any, expected: set[str], state: Any = None) -> None:
        super().__init__()
        self.token = token
        self.expected = expected
        self.state = state
        self.line = getattr(token, "line", "?")
        self.column = getattr(token, "column", "?")
        self.pos_in_stream = getattr(token, "start_pos", None)

    def __str__(self) -> str:
        return (f"Unexpected token {self.token!r} at line {self.line}, column {self.column}."
                f"\nExpected one of: {sorted(self.expected)}")


class UnexpectedCharacters(UnexpectedInput):
    """No terminal matches the text at ``pos_in_stream``; ``char`` is the character there."""

    def __init__(self, text: str, pos: int, line: int, column: int,
                 allowed: set[str] | frozenset[str] = frozenset()) -> None:
        super().__init__()
        self.char = text[pos]
        self.pos_in_stream = pos
        self.line = line
        self.column = column
        self.allowed = set(allowed)

    def __str__(self) -> str:
        return (f"No terminal matches {self.char!r} in the current parser context, "
                f"at line {self.line} col {self.column}")


# -- the lexer ------------------------------------------------------------------------------


def _fullmatcher(patterns: list[re.Pattern]) -> Callable[[str], str | None]:
    """``lark.lexer.Scanner.fullmatch``: the terminal matching all of a text, or None."""

    def fullmatch(text: str) -> str | None:
        for pattern in patterns:
            m = pattern.fullmatch(text)
            if m:
                return m.lastgroup
        return None

    return fullmatch


class Lexer:
    """Lark's basic lexer over one text at a time.

    ``patterns`` are Lark's compiled scanner: one alternation of named groups, terminals
    in Lark's priority order (more than one pattern only past Python's group limit).
    ``keywords`` re-type a match of the named terminal when a keyword terminal matches
    all of it (``UnlessCallback``). Lines are counted only inside the terminals that can
    hold a newline, as ``LineCounter`` does.
    """

    __slots__ = ("patterns", "ignore", "newline_types", "keywords", "allowed", "_match")

    def __init__(self, spec: dict) -> None:
        flags = spec["flags"]
        self.patterns = [re.compile(p, flags) for p in spec["patterns"]]
        self.ignore = frozenset(spec["ignore"])
        self.newline_types = frozenset(spec["newline_types"])
        self.keywords = {
            kind: _fullmatcher([re.compile(p, flags) for p in patterns])
            for kind, patterns in spec["keywords"].items()
        }
        self.allowed = frozenset(spec["allowed"])
        if len(self.patterns) == 1:
            self._match = self.patterns[0].match
        else:
            def match(text: str, pos: int) -> re.Match | None:
                for pattern in self.patterns:
                    m = pattern.match(text, pos)
                    if m:
                        return m
                return None

            self._match = match

    def lex(self, text: str, line: int = 1) -> Iterator[Token]:
        """The tokens of ``text``, whose first line is numbered ``line``; raises
        UnexpectedCharacters where no terminal matches (after the tokens before it)."""
        match = self._match
        ignore = self.ignore
        newline_types = self.newline_types
        keywords = self.keywords
        new = str.__new__
        pos = 0
        end = len(text)
        line_start = 0  # the offset where the current line starts
        while pos < end:
            m = match(text, pos)
            if m is None:
                raise UnexpectedCharacters(text, pos, line, pos - line_start + 1,
                                           self.allowed or {"<END-OF-FILE>"})
            kind = m.lastgroup
            value = m.group()
            stop = pos + len(value)
            if kind in ignore:
                if kind in newline_types:
                    newlines = value.count("\n")
                    if newlines:
                        line += newlines
                        line_start = pos + value.rindex("\n") + 1
                pos = stop
                continue
            tok = new(Token, value)
            tok.type = kind
            tok.value = value
            tok.start_pos = pos
            tok.line = line
            tok.column = pos - line_start + 1
            if kind in newline_types:
                newlines = value.count("\n")
                if newlines:
                    line += newlines
                    line_start = pos + value.rindex("\n") + 1
            tok.end_line = line
            tok.end_column = stop - line_start + 1
            tok.end_pos = pos = stop
            if kind in keywords:
                tok.type = keywords[kind](value) or kind
            yield tok


# -- the parser -----------------------------------------------------------------------------


class ParseConf:
    """The LALR tables for one start rule, with each rule's callback bound to a
    transformer (``lark.parsers.lalr_parser_state.ParseConf``).

    ``states[s][symbol]`` is ``(True, next_state)`` to shift, or ``(False, (origin, size,
    callback))`` to reduce by a rule of ``size`` symbols.
    """

    __slots__ = ("states", "start_state", "end_state", "token_callbacks")

    def __init__(self, states: list[dict], start_state: int, end_state: int,
                 token_callbacks: dict[str, Callable]) -> None:
        self.states = states
        self.start_state = start_state
        self.end_state = end_state
        self.token_callbacks = token_callbacks


class ParserState:
    """One parse in progress: feed it tokens, then a ``$END`` token with ``is_end``."""

    __slots__ = ("conf", "state_stack", "value_stack")

    def __init__(self, conf: ParseConf) -> None:
        self.conf = conf
        self.state_stack = [conf.start_state]
        self.value_stack: list = []

    def feed_token(self, token: Any, is_end: bool = False) -> Any:
        """Shift ``token`` (after every reduction it allows); with ``is_end``, reduce to
        the start rule and return its value. UnexpectedToken if the grammar has no move."""
        state_stack = self.state_stack
        value_stack = self.value_stack
        states = self.conf.states
        end_state = self.conf.end_state
        while True:
            state = state_stack[-1]
            try:
                shift, arg = states[state][token.type]
            except KeyError:
                expected = {s for s in states[state] if s.isupper()}
                raise UnexpectedToken(token, expected, self) from None
            if shift:
                assert not is_end, "the end of input cannot be shifted"
                state_stack.append(arg)
                callback = self.conf.token_callbacks.get(token.type)
                value_stack.append(token if callback is None else callback(token))
                return None
            origin, size, callback = arg
            if size:
                children = value_stack[-size:]
                del state_stack[-size:]
                del value_stack[-size:]
            else:
                children = []
            value = callback(children)
            state_stack.append(states[state_stack[-1]][origin][1])
            value_stack.append(value)
            if is_end and state_stack[-1] == end_state:
                return value


def _child_filter(node_builder: Callable, to_include: list, append_none: int) -> Callable:
    """``ChildFilterLALR``: keep the listed children (inlining ``_rule`` ones, which are
    trees), with Nones where optional items were left out."""
    plain = not append_none and all(not expand and not nones for _, expand, nones in to_include)
    if plain:
        indices = [i for i, _, _ in to_include]
        return lambda children: node_builder([children[i] for i in indices])

    def filtered_children(children: list) -> Any:
        filtered: list = []
        for i, expand, nones in to_include:
            if nones:
                filtered += [None] * nones
            if expand:
                if filtered:
                    filtered += children[i].children
                else:  # as Lark: the inlined child's list is reused (left recursion)
                    filtered = children[i].children
            else:
                filtered.append(children[i])
        if append_none:
            filtered += [None] * append_none
        return node_builder(filtered)

    return filtered_children


def _expand_single_child(node_builder: Callable) -> Callable:
    """``ExpandSingleChild``: a ``?rule`` with one child is that child."""
    return lambda children: children[0] if len(children) == 1 else node_builder(children)


def _user_callback(transformer: Any, name: str) -> Callable:
    """The transformer's method for rule (or alias) ``name``, as Lark picks it."""
    method = getattr(transformer, name, None)
    if method is None:
        default = getattr(transformer, "__default__", None)
        if default is not None:
            return lambda children: default(name, children, None)
        return lambda children: Tree(name, children)
    wrapper = getattr(method, "visit_wrapper", None)  # lark.v_args
    if wrapper is not None:
        return lambda children: wrapper(method, name, children, None)
    return method


def load(data: dict, transformer: Any, start: str) -> tuple[Lexer, ParseConf]:
    """The lexer, and the parse tables for ``start`` calling ``transformer``, from
    :func:`extract`'s data. Raises (KeyError, TypeError, ValueError, ...) on data that
    is not that."""
    if data["format"] != FORMAT:
        raise ValueError("tables of another format")
    rules = []
    for origin, size, name, chain in data["rules"]:
        callback = _user_callback(transformer, name)
        for step in chain:
            if step[0] == "expand1":
                callback = _expand_single_child(callback)
            elif step[0] == "filter":
                callback = _child_filter(callback, [tuple(t) for t in step[1]], step[2])
            else:
                raise ValueError(f"unknown rule wrapper {step[0]!r}")
        rules.append((origin, int(size), callback))
    states = [
        {symbol: (True, int(arg)) if shift else (False, rules[arg])
         for symbol, (shift, arg) in actions.items()}
        for actions in data["states"]
    ]
    token_callbacks = {}
    for name in data["terminals"]:
        callback = getattr(transformer, name, None)
        if callback is not None:
            token_callbacks[name] = callback
    start_state, end_state = data["start"][start], data["end"][start]
    if not (0 <= start_state < len(states) and 0 <= end_state < len(states)):
        raise ValueError("no such state")
    return Lexer(data["lexer"]), ParseConf(states, start_state, end_state, token_callbacks)


# -- build time: read the tables off the parser Lark built -----------------------------------


def extract(parser: Any) -> dict:
    """Everything :func:`load` needs, as plain data, from a ``lark.Lark`` (LALR, basic
    lexer). Raises ValueError for a parser using something this runtime does not mirror
    (another lexer, lexer callbacks, positions, ...); the caller then keeps using Lark."""
    from lark.lexer import BasicLexer, UnlessCallback
    from lark.parse_tree_builder import (
        ChildFilterLALR,
        ChildFilterLALR_NoPlaceholders,
        ExpandSingleChild,
    )
    from lark.parsers.lalr_analysis import Shift

    lexer = parser.parser.lexer
    if (type(lexer) is not BasicLexer or lexer.re is not re or lexer.use_bytes
            or lexer.user_callbacks or parser.options.postlex is not None
            or parser.options.propagate_positions):
        raise ValueError("a lexer this runtime does not mirror")
    scanner = lexer.scanner  # builds the scanner and the keyword callbacks
    keywords = {}
    for kind, callback in lexer.callback.items():
        if type(callback) is not UnlessCallback:
            raise ValueError(f"a lexer callback this runtime does not mirror: {kind}")
        keywords[kind] = [m.pattern for m in callback.scanner._mres]
    allowed = scanner.allowed_types - lexer.ignore_types

    builders = parser._parse_tree_builder.rule_builders
    index = {}
    rules = []
    for rule, chain in builders:
        steps: list = []
        for wrapper in chain:
            if wrapper is ExpandSingleChild:
                steps.append(("expand1",))
            elif getattr(wrapper, "func", None) is ChildFilterLALR:
                to_include, append_none = wrapper.args
                steps.append(("filter", [tuple(t) for t in to_include], append_none))
            elif getattr(wrapper, "func", None) is ChildFilterLALR_NoPlaceholders:
                (to_include,) = wrapper.args
                steps.append(("filter", [(i, expand, 0) for i, expand in to_include], 0))
            else:
                raise ValueError(f"a rule wrapper this runtime does not mirror: {wrapper!r}")
        name = rule.alias or rule.options.template_source or rule.origin.name
        index[rule] = len(rules)
        rules.append((rule.origin.name, len(rule.expansion), name, steps))

    table = parser.parser.parser.parser.parse_table
    if sorted(table.states) != list(range(len(table.states))):
        raise ValueError("parse states are not numbered 0..n-1")
    states = [
        {symbol: (True, arg) if action is Shift else (False, index[arg])
         for symbol, (action, arg) in table.states[s].items()}
        for s in range(len(table.states))
    ]
    return {
        "format": FORMAT,
        "lexer": {
            "patterns": [m.pattern for m in scanner._mres],
            "flags": lexer.g_regex_flags,
            "ignore": sorted(lexer.ignore_types),
            "newline_types": sorted(lexer.newline_types),
            "keywords": keywords,
            "allowed": sorted(allowed),
        },
        "terminals": sorted(t.name for t in parser.terminals),
        "rules": rules,
        "states": states,
        "start": dict(table.start_states),
        "end": dict(table.end_states),
    }
