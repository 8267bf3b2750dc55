"""Settings come from the environment, and a bad value stops the start naming the variable."""

from __future__ import annotations

import socket
import subprocess
import sys
from collections.abc import Callable
from dataclasses import fields
from pathlib import Path
from typing import Any

import pytest

from service.settings import ConfigError, Settings
from tests.conftest import ROOT


def test_defaults_are_documented_and_valid() -> None:
    settings = Settings.from_env(environ={})
    assert settings.port == 8080
    assert settings.host == "127.0.0.1"
    assert settings.max_body_bytes == 10 * 1024 * 1024
    assert settings.time_budget_s == 10.0
    assert settings.in_flight_limit == settings.extractors * 3
    names = [row[0] for row in Settings.documentation()]
    assert "CLEANER_TIME_BUDGET_S" in names
    assert "PORT" in names


def test_environment_overrides_defaults() -> None:
    settings = Settings.from_env(environ={"PORT": "9090", "CLEANER_TIME_BUDGET_S": "2.5", "CLEANER_ALLOW_OPEN": "yes"})
    assert (settings.port, settings.time_budget_s, settings.allow_open) == (9090, 2.5, True)


@pytest.mark.parametrize(
    ("environ", "named"),
    [
        ({"PORT": "eighty"}, "PORT"),
        ({"PORT": "70000"}, "PORT"),
        ({"CLEANER_TIME_BUDGET_S": "-1"}, "CLEANER_TIME_BUDGET_S"),
        ({"CLEANER_EXTRACTORS": "0"}, "CLEANER_EXTRACTORS"),
        ({"CLEANER_LOG_LEVEL": "loud"}, "CLEANER_LOG_LEVEL"),
        ({"CLEANER_ALLOW_OPEN": "perhaps"}, "CLEANER_ALLOW_OPEN"),
        ({"CLEANER_API_KEYS_FILE": "/nonexistent/keys"}, "CLEANER_API_KEYS_FILE"),
        ({"CLEANER_FETCH_ALLOW": "10.0.0.0/8,intranet.local"}, "CLEANER_FETCH_ALLOW"),
        ({"CLEANER_FETCH_TIMEOUT_S": "0"}, "CLEANER_FETCH_TIMEOUT_S"),
        # NaN passed every range check and turned the limit off (s20 audit).
        ({"CLEANER_TIME_BUDGET_S": "nan"}, "CLEANER_TIME_BUDGET_S"),
        ({"CLEANER_READ_TIMEOUT_S": "inf"}, "CLEANER_READ_TIMEOUT_S"),
        ({"CLEANER_FETCH_USER_AGENT": "bot\r\nX-Evil: 1"}, "CLEANER_FETCH_USER_AGENT"),
        ({"CLEANER_API_KEYS": "clé-secrète"}, "CLEANER_API_KEYS"),
        ({"CLEANER_API_KEYS": "   "}, "CLEANER_API_KEYS"),
        # A typo configured nothing, silently.
        ({"CLEANER_TIMEBUDGET_S": "1"}, "CLEANER_TIMEBUDGET_S .*did you mean CLEANER_TIME_BUDGET_S"),
    ],
)
def test_bad_value_names_the_variable(environ: dict[str, str], named: str) -> None:
    with pytest.raises(ConfigError, match=named):
        Settings.from_env(environ=environ)


@pytest.mark.parametrize("limit_mb", ["1", "300", "511"])
def test_an_extraction_memory_limit_no_process_works_in_is_refused(limit_mb: str) -> None:
    # A limit of 1 said "config ok", then every page answered 500 and /readyz 503 (s20 audit).
    with pytest.raises(ConfigError, match=f"CLEANER_EXTRACTOR_MEMORY_LIMIT_MB={limit_mb} is below 512"):
        Settings.from_env(environ={"CLEANER_EXTRACTOR_MEMORY_LIMIT_MB": limit_mb})


@pytest.mark.parametrize("limit_mb", [0, 512])
def test_no_extraction_memory_limit_or_one_at_the_floor_is_accepted(limit_mb: int) -> None:
    environ = {"CLEANER_EXTRACTOR_MEMORY_LIMIT_MB": str(limit_mb)}
    assert Settings.from_env(environ=environ).extractor_memory_limit_mb == limit_mb


@pytest.mark.parametrize(
    ("variable", "raw"),
    [
        # int() and float() take these too: "1_0" is 10, "٣" (Arabic-Indic three) is 3 (s20 audit).
        ("PORT", "1_0"),
        ("PORT", "\u0663"),
        ("PORT", "８０８０"),
        ("CLEANER_TIME_BUDGET_S", "1_0.5"),
        ("CLEANER_TIME_BUDGET_S", "\u0663.5"),
    ],
)
def test_numbers_are_ascii_digits_only(variable: str, raw: str) -> None:
    with pytest.raises(ConfigError, match=f"{variable}=.* is not a"):
        Settings.from_env(environ={variable: raw})


@pytest.mark.parametrize(
    ("name", "raw", "value"),
    [
        ("port", "+8081", 8081),
        ("time_budget_s", "2.", 2.0),
        ("time_budget_s", ".5", 0.5),
        ("time_budget_s", "5E-1", 0.5),
        ("max_body_bytes", " 2048 ", 2048),
    ],
)
def test_numbers_in_their_usual_ascii_forms_are_read(name: str, raw: str, value: float) -> None:
    variable = next(f.metadata["env"] for f in fields(Settings) if f.name == name)
    assert getattr(Settings.from_env(environ={variable: raw}), name) == value


@pytest.mark.parametrize(
    "environ",
    [
        {"PORT": "9" * 5000},  # not a number (over int()'s digit limit)
        {"PORT": "9" * 1000},  # a number above the maximum
        {"CLEANER_LOG_LEVEL": "x" * 5000},
        {"CLEANER_FETCH_ALLOW": "x" * 5000},
        {"HOST": "h" * 5000},
    ],
)
def test_a_bad_value_is_echoed_cut(environ: dict[str, str]) -> None:
    with pytest.raises(ConfigError) as refused:
        Settings.from_env(environ=environ)
    assert len(str(refused.value)) < 300
    assert "…" in str(refused.value)


def test_non_loopback_without_keys_is_refused() -> None:
    with pytest.raises(ConfigError, match="not loopback"):
        Settings.from_env(environ={"HOST": "0.0.0.0"})


def test_non_loopback_with_keys_or_explicit_opt_in_is_allowed() -> None:
    assert Settings.from_env(environ={"HOST": "0.0.0.0", "CLEANER_API_KEYS": "k1"}).host == "0.0.0.0"
    assert Settings.from_env(environ={"HOST": "0.0.0.0", "CLEANER_ALLOW_OPEN": "1"}).allow_open


def test_api_keys_are_not_in_the_settings_repr() -> None:
    assert "s3cret" not in repr(Settings.from_env(environ={"CLEANER_API_KEYS": "s3cret"}))


def test_check_config_exits_2_with_a_clear_message() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "service.check_config"],
        cwd=ROOT,
        env={"PORT": "not-a-port", "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "PORT='not-a-port' is not a whole number" in result.stderr


@pytest.mark.parametrize("keys", [",", " , ", "key-1,,key-2", "key-1,"])
def test_an_empty_api_key_stops_the_start(keys: str) -> None:
    """Issue 24: "," passed the check and then served a non-loopback HOST without any key."""
    with pytest.raises(ConfigError, match="CLEANER_API_KEYS"):
        Settings.from_env(environ={"HOST": "0.0.0.0", "CLEANER_API_KEYS": keys})


@pytest.mark.parametrize(
    "content",
    ["\n", "# only a comment\n\n", "not-a-digest\n", f"{'ab' * 32}\nclear-text-key\n"],
)
def test_a_keys_file_without_only_digests_stops_the_start(tmp_path: Path, content: str) -> None:
    keys_file = tmp_path / "keys.sha256"
    keys_file.write_text(content)
    with pytest.raises(ConfigError, match="CLEANER_API_KEYS_FILE"):
        Settings.from_env(environ={"HOST": "0.0.0.0", "CLEANER_API_KEYS_FILE": str(keys_file)})


def test_a_keys_file_of_digests_and_comments_is_accepted(tmp_path: Path) -> None:
    keys_file = tmp_path / "keys.sha256"
    # sha256sum's own lines ("HEX  -", "HEX *file") too, and a byte-order mark.
    keys_file.write_text(f"\ufeff# ops\n\n{'ab' * 32}  # rotated 2026-11\n{'cd' * 32}  -\n{'ef' * 32} *key.txt\n")
    settings = Settings.from_env(environ={"HOST": "0.0.0.0", "CLEANER_API_KEYS_FILE": str(keys_file)})
    assert settings.api_key_digests() == [bytes.fromhex(h * 32) for h in ("ab", "cd", "ef")]


def _resolving_to(*addresses: str) -> Callable[..., list[tuple[Any, ...]]]:
    def getaddrinfo(host: str, *args: Any, **kwargs: Any) -> list[tuple[Any, ...]]:
        return [(socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, 0)) for a in addresses]

    return getaddrinfo


@pytest.mark.parametrize(
    "addresses",
    [("127.0.0.1", "192.0.2.7"), ("192.0.2.7",), ("::1", "2001:db8::1")],
)
def test_a_host_name_is_loopback_only_if_every_address_it_resolves_to_is(
    monkeypatch: pytest.MonkeyPatch, addresses: tuple[str, ...]
) -> None:
    monkeypatch.setattr(socket, "getaddrinfo", _resolving_to(*addresses))
    with pytest.raises(ConfigError, match="not loopback"):
        Settings.from_env(environ={"HOST": "127.0.0.1.nip.io"})


def test_a_host_name_that_does_not_resolve_is_not_loopback(monkeypatch: pytest.MonkeyPatch) -> None:
    def fails(*args: Any, **kwargs: Any) -> list[tuple[Any, ...]]:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", fails)
    with pytest.raises(ConfigError, match="not loopback"):
        Settings.from_env(environ={"HOST": "127.0.0.1.nip.io"})


def test_a_host_name_resolving_only_to_loopback_needs_no_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(socket, "getaddrinfo", _resolving_to("127.0.0.1", "::1"))
    assert Settings.from_env(environ={"HOST": "my-loopback-name"}).host_is_loopback


@pytest.mark.parametrize("host", ["127.0.0.1", "127.3.4.5", "::1", "localhost"])
def test_loopback_literals_and_localhost_need_no_keys(host: str) -> None:
    assert Settings.from_env(environ={"HOST": host}).host_is_loopback


def test_the_fetch_allow_list_is_parsed_into_networks() -> None:
    settings = Settings.from_env(environ={"CLEANER_FETCH_ALLOW": " 10.20.0.0/16, 127.0.0.1 ,::1"})
    assert [str(network) for network in settings.fetch_networks] == ["10.20.0.0/16", "127.0.0.1/32", "::1/128"]


def test_what_gunicorn_binds_obeys_the_keys_rule_too(capsys: pytest.CaptureFixture[str]) -> None:
    # GUNICORN_CMD_ARGS="--bind 0.0.0.0:80" replaced the checked HOST (s20 audit).
    from service.http import gunicorn_conf

    gunicorn_conf._check_bind(["127.0.0.1:8080", "[::1]:8080", "localhost:80", "unix:/run/cleaner.sock"])
    with pytest.raises(SystemExit) as stopped:
        gunicorn_conf._check_bind(["127.0.0.1:8080", "0.0.0.0:23153"])
    assert stopped.value.code == 2
    assert "'0.0.0.0:23153', which is not loopback" in capsys.readouterr().err


@pytest.mark.parametrize("host", ["[::1]", "::1"])
def test_an_ipv6_host_binds_and_counts_as_loopback_with_or_without_brackets(host: str) -> None:
    """HOST='[::1]', as URLs write it, was bound as '[::1' and called not loopback (s20 audit)."""
    from gunicorn.util import parse_address

    settings = Settings.from_env(environ={"HOST": host, "PORT": "8081"})
    assert settings.host_is_loopback
    assert settings.listen_address == "[::1]:8081"
    assert parse_address(settings.listen_address) == ("::1", 8081)  # what gunicorn binds


@pytest.mark.parametrize(
    "host", ["[127.0.0.1]", "[localhost]", "[::1", "::1]", "[]", "127.0.0.1:9000", "localhost:80", "[::1]:8080"]
)
def test_brackets_go_around_an_ipv6_address_only_and_a_port_is_ports(host: str) -> None:
    # "127.0.0.1:9000" passed, and gunicorn was then asked to bind "[127.0.0.1:9000]:8080".
    with pytest.raises(ConfigError, match=r"HOST=.*without a port .*brackets go around an IPv6 address only"):
        Settings.from_env(environ={"HOST": host, "CLEANER_API_KEYS": "k"})
