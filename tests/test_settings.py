"""Settings come from the environment, and a bad value stops the start naming the variable."""

from __future__ import annotations

import subprocess
import sys

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
    ],
)
def test_bad_value_names_the_variable(environ: dict[str, str], named: str) -> None:
    with pytest.raises(ConfigError, match=named):
        Settings.from_env(environ=environ)


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


def test_the_fetch_allow_list_is_parsed_into_networks() -> None:
    settings = Settings.from_env(environ={"CLEANER_FETCH_ALLOW": " 10.20.0.0/16, 127.0.0.1 ,::1"})
    assert [str(network) for network in settings.fetch_networks] == ["10.20.0.0/16", "127.0.0.1/32", "::1/128"]
