"""README.md as written: every Python snippet runs as shown, and every command it (or a ```bash
block of docs/) shows is accepted by the command line it names."""

import re
import shlex
import shutil
from pathlib import Path

import pytest
from test_examples_help import example_parser

from transformer.cli import build_parser

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
DOCS = [README, *sorted((ROOT / "docs").glob("*.md"))]


def fenced_blocks(path: Path) -> list[tuple[str, str]]:
    """(language, code) of every ``` block of a Markdown file, in order."""
    blocks, language, lines = [], None, []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("```"):
            if language is None:
                language, lines = line[3:].strip(), []
            else:
                blocks.append((language, "\n".join(lines) + "\n"))
                language = None
        elif language is not None:
            lines.append(line)
    return blocks


def shown_commands() -> list[tuple[str, str]]:
    """(file name, command) for the `python -m transformer` and `python examples/...` commands
    in ```bash blocks of README.md and docs/, and in README.md's inline code."""
    commands = []
    for path in DOCS:
        for language, code in fenced_blocks(path):
            if language in ("bash", "sh", ""):
                commands += [(path.name, line) for line in code.replace("\\\n", " ").splitlines()]
    inline = re.findall(r"`(python [^`]+)`", README.read_text(encoding="utf-8"))
    commands += [(README.name, command) for command in inline]
    wanted = ("python -m transformer ", "python examples/")
    return [(name, command.strip()) for name, command in commands if command.startswith(wanted)]


SNIPPETS = [code for language, code in fenced_blocks(README) if language == "python"]


@pytest.mark.parametrize("code", SNIPPETS, ids=[f"snippet{i}" for i in range(len(SNIPPETS))])
def test_readme_python_snippet_runs_as_shown(code, tmp_path, monkeypatch):
    if "viz.draw(" in code and shutil.which("dot") is None:
        pytest.skip("graphviz 'dot' not installed (make installs it)")
    monkeypatch.chdir(tmp_path)
    exec(compile(code, str(README), "exec"), {"__name__": "__readme__"})


@pytest.mark.parametrize("where, command", shown_commands())
def test_shown_command_is_accepted(where, command, monkeypatch):
    args = shlex.split(command, comments=True)
    if args[1] == "-m":
        parser, args = build_parser(), args[3:]
    else:
        script = ROOT / args[1]
        if "argparse" not in script.read_text(encoding="utf-8"):
            assert args[2:] == [], f"{where}: {script.name} takes no arguments"
            return
        parser, args = example_parser(script, monkeypatch), args[2:]
    try:
        parser.parse_args(args)
    except SystemExit as exit_info:
        assert exit_info.code == 0, f"{where}: {command}"  # --help
