"""``python -m service``: the same answers and problems as the API, without the HTTP server."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

from service.models import Options
from service.offline.cli import COMMANDS, build_parser
from service.offline.cli.common import EXIT_FAILED, EXIT_OK, EXIT_REJECTED, EXIT_USAGE, raw_options
from service.offline.cli.extract import mode_for
from tests.conftest import FIXTURES, ROOT
from tests.hostile_corpus import large_page
from tests.http.test_extract_api import ARTICLE, SCHEMA_KEYS
from tests.http.test_fixtures import check_answer

SEED = FIXTURES / "text-seed-news-recent-posts"
SEED_TITLE = "Regulators recommend that Chinese developers abandon Nvidia accelerators in favor of Chinese analogues"
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8
# Starting the CLI's extraction processes and cleaning a few small pages.
CLI_TIMEOUT_S = 120.0


def run_cli(*args: str, stdin: bytes | None = None, **env: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "service", *args],
        cwd=ROOT,
        input=stdin,
        capture_output=True,
        timeout=CLI_TIMEOUT_S,
        check=False,
        env={**os.environ, "CLEANER_EXTRACTORS": "2", **env},
    )


def problem_of(completed: subprocess.CompletedProcess[bytes]) -> dict[str, Any]:
    """The problem document the CLI wrote on stderr (its last line)."""
    problem: dict[str, Any] = json.loads(completed.stderr.decode().strip().splitlines()[-1])
    return problem


# -- structure ----------------------------------------------------------------------------------


def test_every_command_has_the_registry_interface() -> None:
    names = [command.NAME for command in COMMANDS]
    assert {"extract", "batch"} <= set(names)
    assert len(set(names)) == len(names)
    for command in COMMANDS:
        assert callable(command.add_arguments)
        assert callable(command.run)
        assert command.HELP


def test_docs_cli_has_a_section_for_every_command_naming_each_of_its_flags() -> None:
    """docs/cli.md lacked ``warc`` (issue 24 item 17)."""
    import argparse

    doc = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    for command in COMMANDS:
        heading = f"### `{command.NAME}`"
        assert heading in doc, heading
        start = doc.index(heading)
        section = doc[start : doc.find("\n## ", start)]
        parser = argparse.ArgumentParser()
        command.add_arguments(parser)
        flags = {flag for action in parser._actions for flag in action.option_strings if flag.startswith("--")}
        # The extraction flags are documented once, in extract's table; the others in their section.
        own = flags - {"--help", "--format", "--comments", "--no-tables", "--images", "--links", "--favor"}
        own -= {"--explain", "--budget", "--progress", "--no-progress"}
        missing = sorted(flag for flag in own if f"`{flag}" not in section)
        assert not missing, (command.NAME, missing)


def test_option_flags_map_to_the_api_options() -> None:
    args = build_parser().parse_args(
        [
            *("extract", "x.html", "--format", "markdown", "--format", "html", "--comments", "--no-tables"),
            *("--images", "--links", "--favor", "precision", "--explain", "--timeout", "2.5"),
            *("--include", "main", "--include", ".story, .aside", "--exclude", ".ad"),
        ]
    )
    assert Options.parse(raw_options(args)) == Options(
        formats=("markdown", "html"),
        comments=True,
        tables=False,
        images=True,
        links=True,
        favor="precision",
        explain=True,
        timeout=2.5,
        include=("main", ".story, .aside"),
        exclude=(".ad",),
    )
    assert raw_options(build_parser().parse_args(["extract", "x.html"])) == {}


@pytest.mark.parametrize(
    ("page", "forced", "mode"),
    [
        ("a.txt", None, "text"),
        ("a.TXT", None, "text"),
        ("a.html", None, "html"),
        ("-", None, "html"),
        ("a.html", "text", "text"),
        ("a.txt", "html", "html"),
    ],
)
def test_mode_is_text_for_txt_files_unless_forced(page: str, forced: Any, mode: str) -> None:
    assert mode_for(page, forced) == mode


# -- extract ------------------------------------------------------------------------------------


def test_extract_text_file_gives_the_fixture_answer() -> None:
    completed = run_cli("extract", str(SEED / "input.txt"), "--explain")
    assert completed.returncode == EXIT_OK, completed.stderr
    answer = json.loads(completed.stdout)
    assert set(answer) == SCHEMA_KEYS | {"removed"}
    assert answer["title"] == SEED_TITLE
    assert answer["authors"] == ["admin"]
    check_answer(answer, json.loads((SEED / "expected.json").read_text(encoding="utf-8")))


def test_extract_answer_equals_the_api_answer(client: FlaskClient, tmp_path: Path) -> None:
    page = tmp_path / "page.html"
    page.write_text(ARTICLE, encoding="utf-8")
    url = "https://lake.example/news/solar-boats"
    completed = run_cli("extract", str(page), "--url", url, "--format", "text", "--format", "markdown")
    assert completed.returncode == EXIT_OK, completed.stderr
    cli_answer = json.loads(completed.stdout)
    api_answer = client.post(
        "/v1/extract",
        data=ARTICLE.encode(),
        query_string={"url": url, "format": "text,markdown"},
        headers={"Content-Type": "text/html"},
    ).get_json()
    assert set(cli_answer) == set(api_answer)
    for key in set(api_answer) - {"timing_ms"}:
        assert cli_answer[key] == api_answer[key], key
    assert cli_answer["title"] == "Solar boats cross the lake"
    assert cli_answer["authors"] == ["Ada Lovelace"]


def test_extract_reads_stdin_as_text_with_flag() -> None:
    completed = run_cli("extract", "-", "--text", stdin=(SEED / "input.txt").read_bytes())
    assert completed.returncode == EXIT_OK, completed.stderr
    answer = json.loads(completed.stdout)
    assert answer["title"] == SEED_TITLE
    assert answer["authors"] == ["admin"]


def test_selector_flags_on_text_are_ignored_and_said() -> None:
    completed = run_cli("extract", "-", "--text", "--include", "#main", stdin=(SEED / "input.txt").read_bytes())
    assert completed.returncode == EXIT_OK, completed.stderr
    answer = json.loads(completed.stdout)
    assert answer["title"] == SEED_TITLE
    assert "include-ignored" in answer["warnings"]


def test_binary_file_exits_non_zero_with_a_problem_on_stderr(tmp_path: Path) -> None:
    image = tmp_path / "photo.html"
    image.write_bytes(PNG)
    completed = run_cli("extract", str(image))
    assert completed.returncode == EXIT_REJECTED
    assert completed.stdout == b""
    problem = problem_of(completed)
    assert problem["code"] == "not-a-page"
    assert problem["status"] == 422
    assert problem["type"] == "urn:pagecleaner:problem:not-a-page"
    assert problem["instance"] == str(image)


@pytest.mark.slow
def test_page_over_its_budget_exits_with_the_failure_code(tmp_path: Path) -> None:
    page = tmp_path / "huge.html"
    page.write_bytes(large_page())
    completed = run_cli("extract", str(page), "--budget", "0.5")
    assert completed.returncode == EXIT_FAILED
    problem = problem_of(completed)
    assert problem["code"] == "time-budget-exceeded"
    assert problem["status"] == 503


def test_a_timeout_over_the_budget_is_refused_as_a_flag_out_of_range() -> None:
    """The API's code, but the CLI's exit code and the flag's name (it exited 1 naming ``timeout``)."""
    completed = run_cli("extract", str(SEED / "input.txt"), "--budget", "5", "--timeout", "6")
    assert completed.returncode == EXIT_USAGE
    problem = problem_of(completed)
    assert (problem["code"], problem["option"]) == ("invalid-option", "--timeout")


def test_missing_file_is_a_problem_too(tmp_path: Path) -> None:
    completed = run_cli("extract", str(tmp_path / "nope.html"))
    assert completed.returncode == EXIT_REJECTED
    assert problem_of(completed)["code"] == "input-unreadable"


def test_input_over_the_body_limit_is_refused(tmp_path: Path) -> None:
    page = tmp_path / "big.html"
    page.write_bytes(b"<p>" + b"a" * 4096 + b"</p>")
    completed = run_cli("extract", str(page), CLEANER_MAX_BODY_BYTES="1024")
    assert completed.returncode == EXIT_REJECTED
    assert problem_of(completed)["code"] == "body-too-large"


def test_bad_configuration_is_a_usage_error() -> None:
    completed = run_cli("extract", str(SEED / "input.txt"), CLEANER_TIME_BUDGET_S="soon")
    assert completed.returncode == EXIT_USAGE
    problem = problem_of(completed)
    assert problem["code"] == "config-error"
    assert "CLEANER_TIME_BUDGET_S" in problem["detail"]


@pytest.mark.parametrize("budget", ["0.001", "100000"])
def test_a_budget_flag_out_of_range_blames_the_flag_not_the_environment(budget: str) -> None:
    completed = run_cli("extract", str(SEED / "input.txt"), "--budget", budget)
    assert completed.returncode == EXIT_USAGE
    problem = problem_of(completed)
    assert problem["code"] == "invalid-option"
    assert problem["option"] == "--budget"
    assert problem["detail"].startswith(f"--budget: {budget} is ")
    assert "CLEANER_TIME_BUDGET_S" not in problem["detail"]


def test_unknown_format_is_a_usage_error() -> None:
    completed = run_cli("extract", "-", "--format", "pdf", stdin=b"<p>x</p>")
    assert completed.returncode == EXIT_USAGE
    assert b"invalid choice: 'pdf'" in completed.stderr


# -- batch --------------------------------------------------------------------------------------


def write_lines(path: Path, lines: list[Any]) -> Path:
    path.write_text(
        "\n".join(line if isinstance(line, str) else json.dumps(line) for line in lines) + "\n", encoding="utf-8"
    )
    return path


def read_lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_batch_writes_one_line_per_input_in_order(tmp_path: Path) -> None:
    source = write_lines(
        tmp_path / "in.jsonl",
        [
            {"id": "seed", "text": (SEED / "input.txt").read_text(encoding="utf-8")},
            "this is not JSON",
            {"id": 7, "html": ARTICLE, "url": "https://lake.example/a", "options": {"format": ["text", "markdown"]}},
            "",
            {"id": "bad-option", "html": ARTICLE, "options": {"colour": "blue"}},
            {"html": ARTICLE},
            {"id": "binary", "html": PNG.decode("latin-1")},
            {"id": "last", "html": ARTICLE},
        ],
    )
    target = tmp_path / "out.jsonl"
    completed = run_cli("batch", str(source), str(target), "--explain")
    assert completed.returncode == EXIT_REJECTED, completed.stderr  # some items failed
    results = read_lines(target)
    assert [result["id"] for result in results] == ["seed", None, 7, "bad-option", None, "binary", "last"]
    seed, not_json, lake, bad_option, no_id, binary, last = results
    assert seed["title"] == SEED_TITLE
    assert seed["authors"] == ["admin"]
    assert set(seed) == {"id"} | SCHEMA_KEYS | {"removed"}  # --explain applies to every line
    assert not_json["error"]["code"] == "invalid-json"
    assert not_json["error"]["line"] == 2
    assert lake["hostname"] == "lake.example"
    assert "markdown" in lake
    assert bad_option["error"]["code"] == "invalid-option"
    assert bad_option["error"]["line"] == 5  # blank lines are skipped but counted
    assert no_id["error"] == {**no_id["error"], "code": "invalid-field", "field": "id"}
    assert binary["error"]["code"] == "not-a-page"
    assert last["title"] == "Solar boats cross the lake"
    assert b"7 pages, 3 ok, 4 failed" in completed.stderr


def test_batch_with_an_unwritable_output_blames_the_output(tmp_path: Path) -> None:
    source = write_lines(tmp_path / "in.jsonl", [{"id": 1, "html": ARTICLE}])
    target = tmp_path / "missing-dir" / "out.jsonl"
    completed = run_cli("batch", str(source), str(target))
    assert completed.returncode == EXIT_REJECTED
    problem = problem_of(completed)
    assert problem["code"] == "output-unwritable"
    assert problem["instance"] == str(target)
    assert problem["detail"].startswith(str(target))


def test_batch_lines_equal_the_api_answers(client: FlaskClient, tmp_path: Path) -> None:
    line = {"id": "a", "html": ARTICLE, "url": "https://lake.example/a", "options": {"format": "markdown"}}
    target = tmp_path / "out.jsonl"
    completed = run_cli("batch", str(write_lines(tmp_path / "in.jsonl", [line])), str(target))
    assert completed.returncode == EXIT_OK, completed.stderr
    (result,) = read_lines(target)
    api_answer = client.post("/v1/extract", json={key: value for key, value in line.items() if key != "id"}).get_json()
    assert set(result) == {"id"} | set(api_answer)
    for key in set(api_answer) - {"timing_ms"}:
        assert result[key] == api_answer[key], key


def test_batch_reads_stdin_and_writes_stdout() -> None:
    lines = "\n".join(json.dumps({"id": n, "html": ARTICLE}) for n in range(5)).encode()
    completed = run_cli("batch", "-", "-", "--processes", "2", stdin=lines)
    assert completed.returncode == EXIT_OK, completed.stderr
    results = [json.loads(line) for line in completed.stdout.decode().splitlines()]
    assert [result["id"] for result in results] == [0, 1, 2, 3, 4]
    assert {result["title"] for result in results} == {"Solar boats cross the lake"}
    assert b"on 2 processes" in completed.stderr


def test_batch_progress_bar_goes_to_stderr(tmp_path: Path) -> None:
    source = write_lines(tmp_path / "in.jsonl", [{"id": n, "html": ARTICLE} for n in range(3)])
    completed = run_cli("batch", str(source), str(tmp_path / "out.jsonl"), "--progress")
    assert completed.returncode == EXIT_OK, completed.stderr
    assert b"3/3" in completed.stderr


@pytest.mark.slow
def test_batch_kills_a_page_over_its_budget_and_goes_on(tmp_path: Path) -> None:
    # large_page takes ~10 s to clean: with a 1 s budget its process is killed, not waited for.
    source = write_lines(
        tmp_path / "in.jsonl",
        [
            {"id": "before", "html": ARTICLE},
            {"id": "huge", "html": large_page().decode()},
            {"id": "after", "html": ARTICLE},
            {"id": "after-2", "html": ARTICLE},
        ],
    )
    target = tmp_path / "out.jsonl"
    completed = run_cli("batch", str(source), str(target), "--budget", "1")
    assert completed.returncode == EXIT_REJECTED, completed.stderr
    before, huge, after, after_2 = read_lines(target)
    assert huge["id"] == "huge"
    assert huge["error"]["code"] == "time-budget-exceeded"
    assert huge["error"]["status"] == 503
    assert before["title"] == after["title"] == after_2["title"] == "Solar boats cross the lake"


@pytest.mark.parametrize(
    ("url", "reason"),
    [("http://[::1/", "not a valid URL"), ("http://a.example/\x01", "control characters"), ("http://a b/", "host")],
)
def test_a_malformed_url_flag_is_refused_like_the_api_refuses_it(url: str, reason: str) -> None:
    completed = run_cli("extract", str(FIXTURES / "html-blog-comments" / "input.html"), "--url", url)
    assert completed.returncode == EXIT_REJECTED
    problem = problem_of(completed)
    assert (problem["code"], problem["field"]) == ("invalid-field", "url")
    assert reason in problem["detail"]


def test_a_url_flag_that_is_not_http_is_dropped_and_said() -> None:
    completed = run_cli("extract", str(FIXTURES / "html-blog-comments" / "input.html"), "--url", "javascript:alert(1)")
    assert completed.returncode == EXIT_OK
    answer = json.loads(completed.stdout)
    assert answer["url"] is None
    assert "url-ignored" in answer["warnings"]
    assert answer["text"]
