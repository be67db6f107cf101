from __future__ import annotations

from hubsync.config_reference import default_paths, readme_block, reference, schema_keys, undocumented


def test_every_config_key_is_commented_in_the_default_config() -> None:
    _, toml = default_paths()
    assert undocumented(toml.read_text(encoding="utf-8")) == []


def test_the_readme_reference_is_generated_from_the_current_schema() -> None:
    readme, toml = default_paths()
    # Stale? Run: python scripts/config_reference.py --write
    assert readme_block(readme.read_text(encoding="utf-8")) == reference(toml.read_text(encoding="utf-8"))


def test_the_reference_walks_nested_tables_and_arrays_of_tables() -> None:
    paths = {key.path: key for key in schema_keys()}
    assert paths["portal.tier"].default == '"professional"'
    assert paths["scoring.signals[].match[].url"].type.startswith("string")
    assert paths["scoring.profile.rules[].cases[].gt"].default == "not set"
    assert paths["scoring.handoff.capacity.floor"].default == "61"
    assert paths["scoring.signals[].points"].default == "required"
    assert (paths["report.min_n"].default, paths["report.period"].type) == ("30", '"week" \\| "month"')
