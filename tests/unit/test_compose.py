"""Static checks of the container packaging: Dockerfile, .dockerignore and compose.yaml.

No Docker engine is needed. The files are parsed and held against the CLI itself (its
argument parser and the environment variables it reads), so renaming a flag, a port or a
variable on one side without the other fails here rather than at deploy time.
"""

from __future__ import annotations

import argparse
import importlib
import json
import posixpath
import re
import shlex
import tomllib
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import unquote, urlsplit

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "compose.yaml"
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"

APP = "modelog"
DB = "postgres"
POSTGRES_PORT = 5432

# What the image must contain: the package is installed editable and the migrations are
# found relative to the source tree.
SOURCE_TREE = ("pyproject.toml", "README.md", "registry", "projections", "migrations")

# Local state that must stay out of the build context.
MUST_BE_IGNORED = (
    ".git/HEAD",
    ".venv/bin/python",
    ".modelog/pg/PG_VERSION",
    "bench/results/append.json",
    "registry/__pycache__/cli.cpython-311.pyc",
    ".pytest_cache/README.md",
    ".ruff_cache/CACHEDIR.TAG",
)

# The contract, used only if registry.cli does not export ENVIRONMENT_VARIABLES.
DOCUMENTED_ENVIRONMENT_VARIABLES = frozenset(
    {
        "MODELOG_DATABASE_URL",
        "MODELOG_HOST",
        "MODELOG_PORT",
        "MODELOG_DATA_DIR",
        "MODELOG_LOG_FORMAT",
    }
)

HEALTH_PATHS = {"/healthz", "/readyz"}
HEALTH_URL = re.compile(r"https?://(?:127\.0\.0\.1|localhost|\[::1\])(?::(\d+))?(/[\w./-]*)")
# Dockerfile's "HEALTHCHECK [--option=value ...] CMD ..."
HEALTHCHECK_CMD = re.compile(r"^(?:--\S+\s+)*CMD\s+(.*)$", re.DOTALL)


# --------------------------------------------------------------------------- parsing


def parse_dockerfile(text: str) -> list[tuple[str, str]]:
    """(KEYWORD, arguments) per instruction, line continuations joined, comments dropped."""
    instructions: list[tuple[str, str]] = []
    pending = ""
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue  # blank lines and comments, also inside a continued instruction
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        keyword, _, args = (pending + stripped).partition(" ")
        instructions.append((keyword.upper(), args.strip()))
        pending = ""
    if pending.strip():
        keyword, _, args = pending.strip().partition(" ")
        instructions.append((keyword.upper(), args.strip()))
    return instructions


def final_stage(instructions: list[tuple[str, str]]) -> list[tuple[str, str]]:
    starts = [i for i, (keyword, _) in enumerate(instructions) if keyword == "FROM"]
    assert starts, "Dockerfile has no FROM instruction"
    return instructions[starts[-1] :]


def instruction_argv(args: str) -> list[str]:
    """Exec form (a JSON array) or shell form, as a list of words."""
    if args.startswith("["):
        try:
            words = json.loads(args)
        except json.JSONDecodeError:
            pass
        else:
            if isinstance(words, list) and all(isinstance(w, str) for w in words):
                return words
    return shlex.split(args)


def last_argv(stage: list[tuple[str, str]], keyword: str) -> list[str]:
    found = [args for kw, args in stage if kw == keyword]
    return instruction_argv(found[-1]) if found else []


def compose_argv(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return shlex.split(value)
    assert isinstance(value, list), f"expected a string or a list, got {value!r}"
    return [str(word) for word in value]


def service_environment(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        pairs = (str(item).partition("=") for item in env)
        return {name: value for name, _, value in pairs}
    return {str(name): "" if value is None else str(value) for name, value in env.items()}


def healthcheck_text(service: dict[str, Any], name: str) -> str:
    check = service.get("healthcheck")
    assert isinstance(check, dict), f"service {name!r} has no healthcheck"
    assert not check.get("disable"), f"service {name!r} disables its healthcheck"
    test = check.get("test")
    assert test, f"service {name!r} healthcheck has no test"
    if isinstance(test, str):
        return test
    assert test[0] in {"CMD", "CMD-SHELL"}, f"service {name!r} healthcheck test is {test!r}"
    return " ".join(str(word) for word in test[1:])


def container_port(mapping: Any) -> int:
    """The container side of a compose port mapping, short or long syntax."""
    if isinstance(mapping, dict):
        return int(mapping["target"])
    text = str(mapping).split("/")[0]  # drop "/tcp"
    return int(text.rsplit(":", 1)[-1])


def uses_missing_http_client(command: str) -> bool:
    # python:*-slim ships neither curl nor wget.
    return bool({"curl", "wget"} & set(re.findall(r"[\w.-]+", command)))


def dockerignore_rules(text: str) -> list[tuple[bool, re.Pattern[str]]]:
    """(is_exception, regex) per pattern, in file order (the last match wins)."""
    rules = []
    for line in text.splitlines():
        pattern = line.strip()
        if not pattern or pattern.startswith("#"):
            continue
        exception = pattern.startswith("!")
        pattern = posixpath.normpath(pattern.lstrip("!").strip()).lstrip("/")
        rules.append((exception, _ignore_regex(pattern)))
    return rules


def _ignore_regex(pattern: str) -> re.Pattern[str]:
    segments = pattern.split("/")
    parts = []
    for n, segment in enumerate(segments):
        last = n == len(segments) - 1
        if segment == "**":
            parts.append(".*" if last else "(?:[^/]+/)*")
            continue
        piece = re.escape(segment).replace(r"\*", "[^/]*").replace(r"\?", "[^/]")
        piece = re.sub(r"\\\[(.*?)\\\]", _character_class, piece)
        parts.append(piece + ("" if last else "/"))
    return re.compile("".join(parts) + r"\Z")


def _character_class(match: re.Match[str]) -> str:
    body = match.group(1).replace("\\", "")
    return "[^" + body[1:] + "]" if body.startswith("!") else "[" + body + "]"


def is_ignored(path: str, rules: list[tuple[bool, re.Pattern[str]]]) -> bool:
    # A pattern that matches a directory excludes everything below it.
    pieces = path.split("/")
    candidates = ["/".join(pieces[: i + 1]) for i in range(len(pieces))]
    ignored = False
    for exception, regex in rules:
        if any(regex.match(candidate) for candidate in candidates):
            ignored = not exception
    return ignored


def option_names(argv: list[str]) -> list[str]:
    return [word.split("=", 1)[0] for word in argv if re.match(r"^--?[A-Za-z]", word)]


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    assert COMPOSE_FILE.is_file(), "compose.yaml is missing"
    document = yaml.safe_load(COMPOSE_FILE.read_text())
    assert isinstance(document, dict), "compose.yaml is not a mapping"
    return document


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    found = compose.get("services")
    assert isinstance(found, dict), "compose.yaml has no services"
    return found


@pytest.fixture(scope="module")
def app(services: dict[str, dict[str, Any]]) -> dict[str, Any]:
    assert APP in services, f"compose.yaml has no {APP!r} service"
    return services[APP]


@pytest.fixture(scope="module")
def db(services: dict[str, dict[str, Any]]) -> dict[str, Any]:
    assert DB in services, f"compose.yaml has no {DB!r} service"
    return services[DB]


@pytest.fixture(scope="module")
def stage() -> list[tuple[str, str]]:
    assert DOCKERFILE.is_file(), "Dockerfile is missing"
    return final_stage(parse_dockerfile(DOCKERFILE.read_text()))


@pytest.fixture(scope="module")
def commands(app: dict[str, Any], stage: list[tuple[str, str]]) -> dict[str, list[str]]:
    """The argv each way of starting the container runs: ENTRYPOINT + CMD/command."""
    image_entrypoint = last_argv(stage, "ENTRYPOINT")
    image_cmd = last_argv(stage, "CMD")
    if "entrypoint" in app:  # overriding the entrypoint also drops the image's CMD
        compose_run = compose_argv(app["entrypoint"]) + compose_argv(app.get("command"))
    elif "command" in app:
        compose_run = image_entrypoint + compose_argv(app["command"])
    else:
        compose_run = image_entrypoint + image_cmd
    return {"Dockerfile": image_entrypoint + image_cmd, "compose.yaml": compose_run}


@pytest.fixture(scope="module")
def cli() -> ModuleType:
    return importlib.import_module("registry.cli")


@pytest.fixture(scope="module")
def serve_parser(cli: ModuleType) -> argparse.ArgumentParser:
    parser = cli.build_parser()
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction) and "serve" in action.choices:
            return action.choices["serve"]
    pytest.fail("registry.cli.build_parser() has no 'serve' subcommand")


def parsed_serve(cli: ModuleType, argv: list[str], where: str) -> argparse.Namespace:
    try:
        return cli.build_parser().parse_args(argv[1:])
    except SystemExit:
        pytest.fail(f"{where}: the CLI rejects {shlex.join(argv)!r}")


def serve_action(serve_parser: argparse.ArgumentParser, flag: str) -> argparse.Action:
    for action in serve_parser._actions:
        if flag in action.option_strings:
            return action
    pytest.fail(f"`modelog serve` has no {flag} option")


def command_sets(argv: list[str], action: argparse.Action) -> bool:
    return any(name in action.option_strings for name in option_names(argv))


# --------------------------------------------------------------------------- compose


def test_compose_has_app_and_database_services(services: dict[str, Any]) -> None:
    missing = {APP, DB} - set(services)
    assert not missing, f"compose.yaml lacks services {sorted(missing)}"
    image = str(services[DB].get("image", ""))
    assert image.split(":")[0].split("/")[-1] == "postgres", f"{DB} image is {image!r}"


def test_app_is_built_from_the_repo_dockerfile(app: dict[str, Any]) -> None:
    build = app.get("build")
    assert build is not None, f"{APP} is not built from source (no build:)"
    if isinstance(build, str):
        build = {"context": build}
    context = (COMPOSE_FILE.parent / str(build.get("context", "."))).resolve()
    dockerfile = (context / str(build.get("dockerfile", "Dockerfile"))).resolve()
    assert context == ROOT, f"{APP} build context is {context}, not the repository"
    assert dockerfile == DOCKERFILE.resolve(), f"{APP} builds from {dockerfile}"
    assert dockerfile.is_file(), f"{dockerfile} does not exist"


def test_app_waits_for_a_healthy_database(app: dict[str, Any]) -> None:
    depends_on = app.get("depends_on")
    assert isinstance(depends_on, dict), f"{APP} depends_on must be a mapping with conditions"
    assert DB in depends_on, f"{APP} does not depend on {DB}"
    condition = (depends_on[DB] or {}).get("condition")
    assert condition == "service_healthy", f"{APP} waits for {DB} with {condition!r}"


def test_database_healthcheck_uses_pg_isready(db: dict[str, Any]) -> None:
    assert "pg_isready" in healthcheck_text(db, DB)


def test_database_keeps_data_in_a_named_volume(
    compose: dict[str, Any], db: dict[str, Any]
) -> None:
    image = str(db.get("image", ""))
    tag = image.rpartition(":")[2] if ":" in image else ""
    major = re.match(r"\d+", tag)
    # postgres:18+ images declare their volume at /var/lib/postgresql and refuse a mount at
    # the old .../data path; older ones keep data in /var/lib/postgresql/data.
    expected = (
        "/var/lib/postgresql"
        if major is None or int(major.group()) >= 18
        else "/var/lib/postgresql/data"
    )
    named = set((compose.get("volumes") or {}).keys())
    mounts = []
    for volume in db.get("volumes") or []:
        if isinstance(volume, dict):
            mounts.append((str(volume.get("source", "")), str(volume.get("target", ""))))
        else:
            source, _, rest = str(volume).partition(":")
            mounts.append((source, rest.split(":")[0]))
    targets = {target.rstrip("/") for source, target in mounts if source in named}
    assert expected in targets, f"{DB} ({image}) has no named volume at {expected}: {mounts}"


def test_database_url_points_at_the_database_service(
    app: dict[str, Any], db: dict[str, Any]
) -> None:
    url_text = service_environment(app).get("MODELOG_DATABASE_URL")
    assert url_text, f"{APP} does not set MODELOG_DATABASE_URL"
    url = urlsplit(url_text)
    pg = service_environment(db)
    for name in ("POSTGRES_USER", "POSTGRES_PASSWORD", "POSTGRES_DB"):
        assert pg.get(name), f"{DB} does not set {name}"
    assert url.scheme in {"postgresql", "postgres"}, f"scheme is {url.scheme!r}"
    assert url.hostname == DB, f"database host is {url.hostname!r}, not the {DB!r} service"
    assert (url.port or POSTGRES_PORT) == POSTGRES_PORT, f"database port is {url.port}"
    assert unquote(url.username or "") == pg["POSTGRES_USER"], "user differs from POSTGRES_USER"
    assert unquote(url.password or "") == pg["POSTGRES_PASSWORD"], (
        "password differs from POSTGRES_PASSWORD"
    )
    assert url.path.lstrip("/") == pg["POSTGRES_DB"], "database differs from POSTGRES_DB"


def test_modelog_variables_are_ones_the_cli_reads(
    cli: ModuleType, services: dict[str, Any], stage: list[tuple[str, str]]
) -> None:
    known = getattr(cli, "ENVIRONMENT_VARIABLES", DOCUMENTED_ENVIRONMENT_VARIABLES)
    used = [
        (f"compose.yaml service {name}", variable)
        for name, service in services.items()
        for variable in service_environment(service)
    ]
    for kw, args in stage:
        if kw == "ENV":
            words = shlex.split(args)
            if "=" in words[0]:
                used.extend(("Dockerfile ENV", word.partition("=")[0]) for word in words)
            else:  # legacy "ENV NAME value"
                used.append(("Dockerfile ENV", words[0]))
    unknown = sorted(
        f"{where}: {variable}"
        for where, variable in used
        if variable.startswith("MODELOG_") and variable not in known
    )
    assert not unknown, f"variables the CLI does not read: {unknown} (it reads {sorted(known)})"


# --------------------------------------------------------------------------- Dockerfile


def test_dockerfile_base_image_satisfies_requires_python(stage: list[tuple[str, str]]) -> None:
    words = [word for word in stage[0][1].split() if not word.startswith("--")]
    image, _, tag = words[0].partition(":")
    assert image.split("/")[-1] == "python", f"base image is {words[0]!r}"
    requires = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"]
    minimum = re.search(r">=\s*(\d+)\.(\d+)", requires)
    version = re.match(r"(\d+)\.(\d+)", tag)
    assert minimum and version, f"cannot compare base tag {tag!r} with {requires!r}"
    have = tuple(map(int, version.groups()))
    need = tuple(map(int, minimum.groups()))
    assert have >= need, f"base image Python {tag} is older than requires-python {requires}"


def test_dockerfile_runs_as_a_non_root_user(stage: list[tuple[str, str]]) -> None:
    users = [args for kw, args in stage if kw == "USER"]
    assert users, "Dockerfile never switches away from root (no USER)"
    user = users[-1].split(":")[0]
    assert user not in {"root", "0"}, f"Dockerfile runs as {users[-1]!r}"


def test_dockerfile_copies_and_installs_the_whole_source_tree(
    stage: list[tuple[str, str]],
) -> None:
    sources = set()
    for kw, args in stage:
        if kw not in {"COPY", "ADD"}:
            continue
        words = instruction_argv(args)
        if any(word.startswith("--from") for word in words):
            continue  # from another stage, not the build context
        words = [word for word in words if not word.startswith("--")]
        sources.update(posixpath.normpath(word).lstrip("/") for word in words[:-1])
    for source in sources - {"."}:
        assert list(ROOT.glob(source)), f"COPY source {source!r} is not in the repository"
    if "." not in sources:
        missing = [path for path in SOURCE_TREE if path not in sources]
        assert not missing, f"the image lacks {missing} (copied: {sorted(sources)})"

    def installs_editable(run: str) -> bool:
        for command in re.split(r"&&|\|\||;", run):
            words = shlex.split(command)
            if "pip" not in " ".join(words) or "install" not in words:
                continue
            pairs = zip(words, [*words[1:], ""], strict=True)
            if any(a in {"-e", "--editable"} and b == "." for a, b in pairs):
                return True
            if "--editable=." in words:
                return True
        return False

    runs = [args for kw, args in stage if kw == "RUN"]
    assert any(installs_editable(run) for run in runs), "no RUN does `pip install -e .`"


def test_dockerignore_keeps_local_state_out_and_sources_in() -> None:
    assert DOCKERIGNORE.is_file(), ".dockerignore is missing"
    rules = dockerignore_rules(DOCKERIGNORE.read_text())
    leaked = [path for path in MUST_BE_IGNORED if not is_ignored(path, rules)]
    assert not leaked, f".dockerignore lets these into the build context: {leaked}"
    wanted = []
    for top in SOURCE_TREE:
        wanted.append(top)
        for path in (ROOT / top).rglob("*") if (ROOT / top).is_dir() else ():
            relative = path.relative_to(ROOT).as_posix()
            if path.is_file() and "__pycache__" not in path.parts:
                wanted.append(relative)
    dropped = [path for path in wanted if is_ignored(path, rules)]
    assert not dropped, f".dockerignore drops files the image needs: {dropped}"


# --------------------------------------------------------------------------- both, vs the CLI


@pytest.mark.parametrize("where", ["Dockerfile", "compose.yaml"])
def test_container_runs_modelog_serve(commands: dict[str, list[str]], where: str) -> None:
    argv = commands[where]
    assert argv[:2] == ["modelog", "serve"], f"{where} runs {argv!r}, not `modelog serve`"


@pytest.mark.parametrize("where", ["Dockerfile", "compose.yaml"])
def test_serve_flags_exist_in_the_cli(
    commands: dict[str, list[str]], serve_parser: argparse.ArgumentParser, where: str
) -> None:
    known = {name for action in serve_parser._actions for name in action.option_strings}
    unknown = [flag for flag in option_names(commands[where][2:]) if flag not in known]
    assert not unknown, f"{where}: `modelog serve` has no {unknown} (it has {sorted(known)})"


@pytest.mark.parametrize("where", ["Dockerfile", "compose.yaml"])
def test_serve_command_parses_and_listens_on_all_interfaces(
    cli: ModuleType,
    commands: dict[str, list[str]],
    serve_parser: argparse.ArgumentParser,
    where: str,
) -> None:
    argv = commands[where]
    namespace = parsed_serve(cli, argv, where)
    host = serve_action(serve_parser, "--host")
    assert command_sets(argv, host), f"{where} does not pass --host"
    # Inside a container the loopback default is unreachable through a published port.
    assert getattr(namespace, host.dest) in {"0.0.0.0", "::"}, f"{where} binds loopback only"


def test_ports_agree(
    cli: ModuleType,
    app: dict[str, Any],
    commands: dict[str, list[str]],
    serve_parser: argparse.ArgumentParser,
    stage: list[tuple[str, str]],
) -> None:
    port = serve_action(serve_parser, "--port")
    listens = {}
    for where, argv in commands.items():
        assert command_sets(argv, port), f"{where} does not pass --port"
        listens[where] = int(getattr(parsed_serve(cli, argv, where), port.dest))
    exposed = {
        int(word.split("/")[0]) for kw, args in stage if kw == "EXPOSE" for word in args.split()
    }
    published = {container_port(mapping) for mapping in app.get("ports") or []}
    assert published, f"{APP} publishes no ports"
    assert published == {listens["compose.yaml"]}, (
        f"{APP} publishes container ports {published} but serves on {listens['compose.yaml']}"
    )
    assert exposed == {listens["Dockerfile"]}, (
        f"Dockerfile EXPOSEs {exposed} but its CMD serves on {listens['Dockerfile']}"
    )
    assert listens["compose.yaml"] == listens["Dockerfile"], f"ports differ: {listens}"


def test_health_checks_hit_the_health_endpoints(
    app: dict[str, Any],
    cli: ModuleType,
    commands: dict[str, list[str]],
    serve_parser: argparse.ArgumentParser,
    stage: list[tuple[str, str]],
) -> None:
    checks = {"compose.yaml": healthcheck_text(app, APP)}
    image_checks = [args for kw, args in stage if kw == "HEALTHCHECK"]
    assert image_checks, "Dockerfile has no HEALTHCHECK"
    found = HEALTHCHECK_CMD.match(image_checks[-1])
    assert found, f"Dockerfile HEALTHCHECK has no command: {image_checks[-1]!r}"
    checks["Dockerfile"] = found.group(1)

    port = serve_action(serve_parser, "--port")
    for where, check in checks.items():
        assert not uses_missing_http_client(check), f"{where} healthcheck needs curl/wget"
        url = HEALTH_URL.search(check)
        assert url, f"{where} healthcheck requests no local URL: {check!r}"
        assert url.group(2) in HEALTH_PATHS, f"{where} healthcheck requests {url.group(2)}"
        serving = int(getattr(parsed_serve(cli, commands[where], where), port.dest))
        assert int(url.group(1) or 80) == serving, (
            f"{where} healthcheck uses port {url.group(1) or 80}, the server {serving}"
        )
