"""Symbolic derivatives (SPEC §9): reverse mode on the syntax tree, with symbolic shapes.

The modules, each using only those above it:

    terms.py         the term type E (interned, with a symbolic shape), scopes, numbers,
                     shapes, walks over a DAG
    constructors.py  the smart constructors, which simplify as a term is built; call
                     shapes; the elementwise derivative table beside fn
    printing.py      terms -> syntax trees, for gradcli.lang.syntax's printers
    simplify.py      the last pass (tidy): rewrites kept where they print shorter
    derivatives.py   the per-operation derivative rules, reverse mode, Jacobians, Hessians
    reading.py       syntax trees -> terms; the built-ins not read, and why
    formula.py       the entry points: differentiate, gradcli.diff, Formula

Nothing is imported here, so importing a module of the package loads only what it uses.
"""
