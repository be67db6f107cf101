"""Print the configuration reference (Markdown), or with --write put it into README.md between its markers.

The reference is generated from the config schema and the comments in config/hubsync.toml
(hubsync/config_reference.py); tests/unit/test_config_reference.py fails when the README's copy is stale.
"""

from __future__ import annotations

import argparse
import sys

from hubsync.config_reference import default_paths, reference, undocumented, with_reference


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--write", action="store_true", help="update README.md in place")
    args = parser.parse_args()
    readme, toml = default_paths()
    toml_text = toml.read_text(encoding="utf-8")
    missing = undocumented(toml_text)
    if missing:
        sys.stderr.write(f"keys without a comment in {toml}: {', '.join(missing)}\n")
        return 1
    if args.write:
        readme.write_text(with_reference(readme.read_text(encoding="utf-8"), toml_text), encoding="utf-8")
    else:
        sys.stdout.write(reference(toml_text) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
