"""Results for people and machines: results.json, a terminal table, GitHub's job summary."""

from __future__ import annotations

import json
import os
from pathlib import Path

from autograder.grade import NotebookResult

STATUS_MARK = {"passed": "ok", "failed": "FAIL"}


def _round(value: float) -> float:
    return round(value + 0.0, 4)


def results_json(results: list[NotebookResult], problems: list[str] = ()) -> dict:
    """The Gradescope autograder schema, one file for all graded notebooks."""
    tests = []
    for result in results:
        for entry in result.entries:
            tests.append({
                "name": entry.name,
                "score": _round(entry.score),
                "max_score": _round(entry.max_score),
                "status": entry.status,
                "output": entry.output,
                "visibility": "visible",
            })
    score = sum(r.score for r in results)
    max_score = sum(r.max_score for r in results)
    lines = list(problems)
    for result in results:
        # No timing here: grading a notebook again with its seed gives the same file, byte for byte.
        lines.append(f"{result.path}: {_round(result.score)}/{_round(result.max_score)}")
        if result.seed:
            lines.append(f"  hidden inputs: seed {result.seed} (grade again with --seed {result.seed.value})")
        if result.isolation:
            lines.append(f"  isolation: {result.isolation}")
        lines.extend(f"  note: {note}" for note in result.notes)
        if not result.hidden:
            lines.append("  public checks only: the hidden cases are not installed here")
        lines.extend(f"  pending manual grading: {m['name']} ({m['max_score']:g} points)" for m in result.manual)
    return {
        "score": _round(score),
        "max_score": _round(max_score),
        "output": "\n".join(lines),
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "tests": tests,
        "manual": [m for r in results for m in r.manual],
        "isolation": sorted({r.isolation for r in results if r.isolation}),
        "seeds": [{"notebook": r.path, "assignment": r.assignment, "seed": r.seed.value, "from": r.seed.origin}
                  for r in results if r.seed],
    }


def write_json(data: dict, path: Path) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, allow_nan=False) + "\n", encoding="utf-8")
    tmp.replace(path)


def table(data: dict) -> str:
    """A per-item table for the terminal, with the messages of failed cases."""
    rows = [(t["name"], f"{t['score']:g}/{t['max_score']:g}", STATUS_MARK.get(t["status"], t["status"]))
            for t in data["tests"]]
    width = max([len(r[0]) for r in rows] + [10])
    out = [f"{'check':<{width}}  {'points':>9}  status", "-" * (width + 19)]
    for (name, points, mark), test in zip(rows, data["tests"]):
        out.append(f"{name:<{width}}  {points:>9}  {mark}")
        if test["status"] != "passed" and test["output"]:
            out.extend(f"{'':4}{line}" for line in test["output"].splitlines()[:12])
    out.append("-" * (width + 19))
    out.append(f"{'total':<{width}}  {data['score']:g}/{data['max_score']:g}")
    if data["output"]:
        out.append("")
        out.append(data["output"])
    return "\n".join(out)


def github(data: dict) -> None:
    """Inside GitHub Actions: a job summary in Markdown and a Points notice."""
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if not summary:
        return
    lines = ["## Autograder", "", f"**Points {data['score']:g}/{data['max_score']:g}**", "",
             "| check | points | status |", "| --- | ---: | --- |"]
    for test in data["tests"]:
        name = test["name"].replace("|", "\\|")
        mark = "✅" if test["status"] == "passed" else "❌"
        lines.append(f"| {name} | {test['score']:g}/{test['max_score']:g} | {mark} |")
    if data["output"]:
        lines += ["", "```", data["output"], "```"]
    with open(summary, "a", encoding="utf-8") as handle:
        handle.write("\n".join(lines) + "\n")
    print(f"::notice title=Autograder::Points {data['score']:g}/{data['max_score']:g}")
