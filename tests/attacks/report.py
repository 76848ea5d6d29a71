"""Print the attack corpus as a table: tactic -> score and what the feedback said.

    .venv/bin/python tests/attacks/report.py > /tmp/attacks.md
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.support import ASSIGNMENTS, ATTACKS, build_submission, header, run_cli  # noqa: E402


def main() -> None:
    print("| attack | tactic | score | outcome (first failing check of corr2d, or the rule entry) |")
    print("| --- | --- | ---: | --- |")
    for attack in ATTACKS:
        with tempfile.TemporaryDirectory() as tmp:
            tmp = Path(tmp)
            path = build_submission(tmp, "01_corr2d", {header(attack, "replaces"): attack.read_text()}, solved=False)
            run = run_cli("grade", path, "--json", tmp / "r.json", "--release", ASSIGNMENTS, cwd=tmp, timeout=900)
            data = json.loads((tmp / "r.json").read_text())
        rule = [t for t in data["tests"] if "rule" in t["name"] or "tampering" in t["name"]]
        first = rule[0] if rule else next(t for t in data["tests"] if t["name"].startswith("01_corr2d/corr2d:")
                                             and "public" not in t["name"])
        outcome = " ".join(first["output"].split())[:160].replace("|", "\\|")
        print(f"| {attack.stem} | {header(attack, 'tactic')} | {data['score']:g}/{data['max_score']:g} "
              f"(exit {run.returncode}) | {outcome} |")


if __name__ == "__main__":
    main()
