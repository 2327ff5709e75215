"""Every example's command line: a whole-sentence description, help on every option, and
output written under a git-ignored folder by default (never over the docs' tracked figures)."""

import argparse
from pathlib import Path

import pytest
from helpers import load_script

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted(p for p in (ROOT / "examples").glob("*.py") if "argparse" in p.read_text())
IGNORED = {line.strip().rstrip("/") for line in (ROOT / ".gitignore").read_text().splitlines()}


class _Parsed(Exception):
    """Raised instead of parsing, carrying the example's parser."""


def example_parser(path: Path, monkeypatch) -> argparse.ArgumentParser:
    """The parser an example's main() builds (caught as it starts parsing)."""
    module = load_script(path)

    def capture(parser, args=None, namespace=None):
        raise _Parsed(parser)

    with monkeypatch.context() as patch, pytest.raises(_Parsed) as parsed:
        patch.setattr(argparse.ArgumentParser, "parse_args", capture)
        module.main([])
    return parsed.value.args[0]


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_example_command_line_is_documented_and_writes_to_an_ignored_folder(path, monkeypatch):
    parser = example_parser(path, monkeypatch)
    assert parser.description.rstrip().endswith("."), parser.description
    for action in parser._actions:
        assert action.help, f"{path.name}: {action.option_strings or action.dest} has no help"
    out = next((a.default for a in parser._actions if "--out" in a.option_strings), None)
    if out is not None:
        assert not Path(out).is_absolute() and Path(out).parts[0] in IGNORED, out
