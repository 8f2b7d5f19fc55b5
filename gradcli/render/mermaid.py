"""The creator graph as a Mermaid flowchart (renders on GitHub and in many editors)."""

from __future__ import annotations

from gradcli.lang.results import Graph
from gradcli.render.labels import node_label

CLASSES = {
    "input": "fill:#cfe8ff,stroke:#3a7bd5",
    "constant": "fill:#eeeeee,stroke:#999999",
    "computed": "fill:#ffffff,stroke:#555555",
    "output": "fill:#ffd59e,stroke:#d9822b,stroke-width:2px",
}


def _escape(text: str) -> str:
    """Text safe inside a quoted Mermaid label."""
    for plain, entity in (("&", "#amp;"), ('"', "#quot;"), ("<", "#lt;"), (">", "#gt;")):
        text = text.replace(plain, entity)
    return text.replace("\n", "<br/>")


def render_mermaid(graph: Graph, *, precision: int = 4) -> str:
    """The whole graph as ``flowchart TD``, inputs at the top and the output at the bottom."""
    lines = ["flowchart TD"]
    members: dict[str, list[str]] = {kind: [] for kind in CLASSES}
    for node in graph.nodes:
        kind = "output" if node.id == graph.output else node.kind
        members[kind].append(f"n{node.id}")
        label = _escape(node_label(node, precision, separator="\n"))
        if node.kind == "computed":
            lines.append(f'  n{node.id}["{label}"]')
        else:
            lines.append(f'  n{node.id}(["{label}"])')
    for node in graph.nodes:
        for source in node.inputs:
            lines.append(f"  n{source} --> n{node.id}")
    for kind, style in CLASSES.items():
        lines.append(f"  classDef {kind} {style}")
        if members[kind]:
            lines.append(f"  class {','.join(members[kind])} {kind}")
    return "\n".join(lines) + "\n"
