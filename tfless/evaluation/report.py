"""Writing evaluation results as JSON and a markdown table."""

from __future__ import annotations

import json
import os


def _fmt(v) -> str:
    if isinstance(v, float):
        return f"{v:.4f}"
    return str(v)


def markdown_table(rows: list[dict], columns: list[str] | None = None) -> str:
    """A markdown table of ``rows`` (dicts); ``columns`` defaults to every key, in order."""
    if not rows:
        return ""
    if columns is None:
        columns = []
        for r in rows:
            columns += [k for k in r if k not in columns]
    lines = ["| " + " | ".join(columns) + " |", "| " + " | ".join("---" for _ in columns) + " |"]
    for r in rows:
        lines.append("| " + " | ".join(_fmt(r.get(c, "")) for c in columns) + " |")
    return "\n".join(lines) + "\n"


def write_results(results: dict, out_dir: str, name: str = "results", title: str = "") -> dict:
    """Writes ``<out_dir>/<name>.json`` and ``<name>.md`` (a two-column metric table).

    Returns:
      ``{"json": path, "markdown": path}``.
    """
    os.makedirs(out_dir, exist_ok=True)
    json_path = os.path.join(out_dir, f"{name}.json")
    md_path = os.path.join(out_dir, f"{name}.md")
    with open(json_path, "w") as f:
        json.dump(results, f, indent=2, sort_keys=True)
    scalars = [{"metric": k, "value": v} for k, v in results.items() if not isinstance(v, dict)]
    text = (f"# {title}\n\n" if title else "") + markdown_table(scalars, ["metric", "value"])
    with open(md_path, "w") as f:
        f.write(text)
    return {"json": json_path, "markdown": md_path}
