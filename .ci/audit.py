"""pip-audit of the locked dependencies (requirements.lock), for `make audit` and CI.

Exit 1 when any locked dependency has a known vulnerability (each is listed, with the versions
that fix it). When the vulnerability service cannot be reached, no dependency was audited:
that is not a pass. `make audit` (``--strict``) fails then; CI (``--offline-ok``) says so in a
banner and goes on, because CI machines may have no route to a vulnerability service.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--offline-ok", action="store_true", help="unreachable service: warn")
    args = parser.parse_args()
    command = [
        str(Path(sys.executable).with_name("pip-audit")),
        "--requirement",
        str(ROOT / "requirements.lock"),
        "--no-deps",  # the lock pins every package, dependencies included
        "--disable-pip",
        "--progress-spinner",
        "off",
        "--format",
        "json",
    ]
    run = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)
    try:
        report = json.loads(run.stdout)
    except ValueError:
        print(f"pip-audit failed to run:\n{run.stderr.strip()}", file=sys.stderr)
        return 1
    dependencies = report["dependencies"]
    vulnerable = [d for d in dependencies if d.get("vulns")]
    skipped = [d for d in dependencies if "skip_reason" in d]
    for dep in vulnerable:
        for vuln in dep["vulns"]:
            fixes = ", ".join(vuln.get("fix_versions", [])) or "no fixed release yet"
            print(f"VULNERABLE {dep['name']} {dep['version']}: {vuln['id']} (fixed in {fixes})")
    audited = len(dependencies) - len(skipped)
    print(
        f"pip-audit: {audited} of {len(dependencies)} locked dependencies audited, "
        f"{len(vulnerable)} with known vulnerabilities"
    )
    if vulnerable:
        return 1
    if skipped:
        reasons = sorted({d["skip_reason"].split(":")[0] for d in skipped})
        banner = "=" * 78
        print(
            f"{banner}\nNOT AUDITED: {len(skipped)} dependencies could not be checked "
            f"({'; '.join(reasons)}).\nThe vulnerability service (PyPI's JSON API or OSV) is "
            f"not reachable from this machine.\n{banner}",
            file=sys.stderr,
        )
        return 0 if args.offline_ok else 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
