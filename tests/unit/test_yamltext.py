"""YAML read through libyaml (:mod:`dsr.domain.yamltext`, issue 15 item 4) is what ``yaml.safe_load`` reads."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from dsr.domain import yamltext

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = sorted(p for pattern in ("dsr/**/*.yml", "dsr/**/*.yaml") for p in ROOT.glob(pattern))


def test_every_shipped_yaml_file_reads_as_safe_load_reads_it():
    assert len(SHIPPED) >= 5 and yamltext._FAST is not None  # the data map, statement, rules, ...
    for path in SHIPPED:
        text = path.read_text(encoding="utf-8")
        assert yamltext.safe_load(text) == yaml.safe_load(text), path


@pytest.mark.parametrize("text", [
    "a: 1\nb: [2, 3.5, true, null, 2026-12-07, '0o17', 0o17, 1_000]\nc: {d: é, e: '%s'}\n",
    "- &x {a: 1}\n- *x\n- !!str 12\n- |\n  two\n  lines\n- >-\n  folded\n  text\n",
    "", "# only a comment\n", "key: \"tab\\tand \\u2028\"\n",
])
def test_documents_read_the_same(text):
    assert yamltext.safe_load(text) == yaml.safe_load(text)


@pytest.mark.parametrize("text", ["a: [1, 2\n", "a: b: c\n", "- !!python/object:os.system 'ls'\n", "\t- x\n"])
def test_a_text_refused_is_refused_with_the_pure_loaders_words(text):
    with pytest.raises(yaml.YAMLError) as fast:
        yamltext.safe_load(text)
    with pytest.raises(yaml.YAMLError) as pure:
        yaml.safe_load(text)
    assert str(fast.value) == str(pure.value) and type(fast.value) is type(pure.value)
