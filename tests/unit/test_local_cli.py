"""What a newcomer reads first: make help, --help, the README's options and ports."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys

import pytest

from dlrhub_local.__main__ import parser, port_taken
from dlrhub_local.defaults import PORT, ports_sentence
from tests.support import ROOT

README = (ROOT / "README.md").read_text()
#: An option line of --help with no text after it, and none on the next line either.
UNDOCUMENTED = re.compile(r"^  (--[a-z-]+)(?: [A-Z{][^ ]*)?\s*$\n(?!  {8,})", re.MULTILINE)
MAKEFILE = (ROOT / "Makefile").read_text()


def run(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=60, check=False)


def options() -> list[str]:
    return [name for action in parser()._actions for name in action.option_strings if name not in ("-h", "--help")]


def test_an_option_without_help_is_found() -> None:
    """The check below can fail: an option argparse prints with no help text is caught."""
    text = "options:\n  --template TEMPLATE\n  --config PATH         the accounts\n"
    assert UNDOCUMENTED.findall(text) == ["--template"]


def test_every_option_of_make_run_is_in_the_readme() -> None:
    prose = re.sub(r"```.*?```", "", README, flags=re.DOTALL)  # the code blocks' fences would pair wrongly
    told = {word for span in re.findall(r"`([^`]+)`", prose) for word in span.split()}
    assert options(), "the parser has options"
    assert not [name for name in options() if name not in told], "README: add these to make run's table"


@pytest.mark.parametrize(
    "module",
    ["dlrhub_local", "dlrhub_local.invoke", "dlrhub_local.put_event", "dlrhub_tools.recount", "dlrhub_tools.replay"],
)
def test_help_is_plain_text_and_every_option_says_what_it_does(module: str) -> None:
    done = run(sys.executable, "-m", module, "--help")
    assert done.returncode == 0, done.stderr
    text = done.stdout
    assert "``" not in text, "reST markup in --help"
    assert not re.search(r"\bissue \d+", text, re.IGNORECASE)
    assert "default: None" not in text
    undocumented = UNDOCUMENTED.findall(text)
    assert not undocumented, f"{module}: options without help: {undocumented}"


def test_make_run_help_shows_the_defaults_and_never_a_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DLRHUB_CALLBACK_SECRET", "secret-from-the-environment")
    text = parser().format_help()
    for shown in ("(default: 3000)", "(default: 15)", "(default: 60)", "(default: template.yaml)", "(default: local)"):
        assert shown in text
    assert "secret-from-the-environment" not in text


def test_one_sentence_about_ports_in_the_readme_and_the_help() -> None:
    sentence = ports_sentence(PORT)
    assert sentence in " ".join(README.split()), "the README's 'Try it' must carry the ports sentence"
    assert sentence in " ".join(parser().format_help().split())
    assert "each server on a random port" not in README


def test_make_help_lists_every_target_in_plain_words() -> None:
    done = run("make", "--no-print-directory", "help")
    assert done.returncode == 0, done.stderr
    listed = re.findall(r"^make (\S+) ", done.stdout, re.MULTILINE)
    phony = MAKEFILE.split(".PHONY:", 1)[1].split("\n", 1)[0].split()
    assert sorted(listed) == sorted(phony), "each .PHONY target needs a '## target: what it does' line"
    assert listed[:2] == ["run", "test"]
    assert not re.search(r"\bissue \d+", done.stdout, re.IGNORECASE)
    assert "make invoke FUNCTION=WebhookFunction EVENT=events/webhook_infin8linx_delivered.json" in done.stdout


def test_make_run_installs_only_what_the_stack_needs() -> None:
    """The run target's Python set-up is requirements-local.txt (no test tools); the tests add theirs."""
    run_line = next(line for line in MAKEFILE.splitlines() if line.startswith("run:"))
    assert "$(VENV)/.local" in run_line
    assert "$(VENV)/.installed" not in run_line
    local = (ROOT / "requirements-local.txt").read_text()
    for oracle in ("pytest", "schemathesis", "twilio", "vonage", "huaweicloudsdkcore", "ruff", "cfn-lint"):
        assert not re.search(rf"^{oracle}\b", local, re.MULTILINE), oracle
    assert "-r requirements-local.txt" in (ROOT / "requirements-dev.txt").read_text()


def test_a_port_in_use_is_one_line_naming_the_option_to_change() -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        done = run(sys.executable, "-m", "dlrhub_local", "--port", str(port), "--config", "/nonexistent/local.json")
        assert parser().parse_args(["--aws-port", str(port)]).aws_port == port
        taken = port_taken(parser().parse_args(["--port", "0", "--aws-port", str(port)]))
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr == (
        f"dlrhub_local: port {port} of 127.0.0.1 is in use (another make run?): stop what holds it,"
        " or choose another with --port (0: any free port)\n"
    )
    assert taken is not None
    assert taken.endswith("choose another with --aws-port (0: any free port)")


def test_putting_an_event_where_no_stack_answers_is_one_line() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "dlrhub_local.put_event", "m-1", "--endpoint", "http://127.0.0.1:1"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**os.environ, "AWS_MAX_ATTEMPTS": "1"},
    )
    assert done.returncode == 2
    assert done.stdout == (
        "put_event: nothing answers at http://127.0.0.1:1: is the local stack running (its banner prints the URL)?\n"
    )
    assert "Traceback" not in done.stderr
