"""Does requirements.lock still match pyproject.toml? Exit 1 naming each difference.

Every requirement of the project (``dependencies`` and the ``dev`` extra) must be pinned in the lock with
``==`` at a version its specifier allows, with hashes. A dependency added to pyproject.toml without
`make lock` (or a lock edited by hand) is caught here, before anything is installed from the lock.
Needs only the standard library and ``packaging`` (which pip vendors).
"""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path

try:
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name
    from packaging.version import Version
except ImportError:  # a bare interpreter: pip always carries a copy
    from pip._vendor.packaging.requirements import Requirement
    from pip._vendor.packaging.utils import canonicalize_name
    from pip._vendor.packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)")


def pins(lock_text: str) -> tuple[dict[str, str], set[str]]:
    found, hashed, current = {}, set(), None
    for line in lock_text.splitlines():
        match = PIN.match(line)
        if match:
            current = canonicalize_name(match.group(1))
            found[current] = match.group(2)
        if current and "--hash=sha256:" in line:
            hashed.add(current)
    return found, hashed


def problems(pyproject: Path, lock: Path) -> list[str]:
    if not lock.exists():
        return [f"{lock.name} is missing: run `make lock`."]
    project = tomllib.loads(pyproject.read_text())["project"]
    wanted = list(project["dependencies"]) + list(project.get("optional-dependencies", {}).get("dev", []))
    pinned, hashed = pins(lock.read_text())
    found = []
    for text in wanted:
        req = Requirement(text)
        name = canonicalize_name(req.name)
        if name not in pinned:
            found.append(f"{req.name} is in pyproject.toml but not in {lock.name}")
        elif not req.specifier.contains(Version(pinned[name]), prereleases=True):
            found.append(f"{req.name}: pyproject.toml asks {req.specifier}, {lock.name} pins {pinned[name]}")
    found += [f"{name} is pinned without hashes" for name in sorted(set(pinned) - hashed)]
    return found


def main() -> int:
    found = problems(ROOT / "pyproject.toml", ROOT / "requirements.lock")
    if found:
        print("requirements.lock does not match pyproject.toml:", file=sys.stderr)
        for line in found:
            print(f"  - {line}", file=sys.stderr)
        print("Run `make lock` (it regenerates the lock from pyproject.toml) and commit both.", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
