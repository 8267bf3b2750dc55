"""``python -m service warc IN.warc.gz [IN2 ...] --out DIR``: web archives in, JSON Lines out.

Every HTML ``response`` record of the inputs goes through the same pipeline as the API (same
options, same time budget per page, same answer, plus the record's ``warc_target_uri``,
``warc_record_id`` and ``warc_date``), on all cores through a Dask LocalCluster, or on any Dask
cluster given ``--scheduler tcp://HOST:8786``. Per input: ``DIR/<name>.jsonl.gz`` and
``DIR/<name>.summary.json``; inputs whose outputs are complete are skipped (re-runs resume).
The design is in ``service.offline.warc``; operators' documentation in docs/at_scale.md.

Exit codes: 0 when every input's output is complete (pages that failed are counted in the
summaries: at crawl scale some always do), 3 when a chunk failed for good or an input could not
be read to its end (``read_errors``; re-run to finish),
2 for a bad command line or configuration, 1 for an unreadable input.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from tqdm import tqdm

from service.errors import BadRequest, ServiceError
from service.offline.cli.common import (
    EXIT_FAILED,
    EXIT_OK,
    InputUnreadable,
    OutputUnwritable,
    add_option_flags,
    add_progress_flag,
    check_at_least_one,
    flag_options,
    load_settings,
    report_problem,
)
from service.offline.warc.output import OutputPaths, output_name
from service.offline.warc.records import DEFAULT_CHUNK_RECORDS, check_warc

NAME = "warc"
HELP = "clean the HTML pages of WARC files on all cores or a Dask cluster; JSON lines out, one file per input"


class DuplicateInputName(BadRequest):
    """Two inputs would write the same output file."""

    code, title = "duplicate-input-name", "Two inputs have the same output name"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("inputs", nargs="+", metavar="IN.warc.gz", help="WARC files (gzip per record, or plain)")
    parser.add_argument("--out", required=True, metavar="DIR", help="output directory (created if missing)")
    parser.add_argument(
        "--scheduler",
        metavar="ADDR",
        help="Dask scheduler to run on, e.g. tcp://HOST:8786 (default: a LocalCluster on this machine)",
    )
    parser.add_argument(
        "--workers",
        type=int,
        metavar="N",
        help="LocalCluster worker processes (default: CLEANER_EXTRACTORS, i.e. one per core)",
    )
    parser.add_argument(
        "--chunk-records",
        type=int,
        default=DEFAULT_CHUNK_RECORDS,
        metavar="N",
        help=f"WARC records per task (default: {DEFAULT_CHUNK_RECORDS})",
    )
    add_progress_flag(parser)
    add_option_flags(parser)
    parser.epilog = (
        "Inputs must be readable at the same path by this process and every Dask worker "
        "(a shared filesystem on a cluster). Re-running skips inputs whose outputs are complete."
    )


def run(args: argparse.Namespace) -> int:
    # Everything is checked before a cluster starts (which takes seconds).
    try:
        settings = load_settings(args)
        options = flag_options(args, settings)
        check_at_least_one("--workers", args.workers)
        check_at_least_one("--chunk-records", args.chunk_records)
        check_inputs(args.inputs)
        make_out_dir(args.out)
    except ServiceError as error:
        return report_problem(error, args.out if isinstance(error, OutputUnwritable) else "warc")

    # Dask is imported only for this command: it costs about a second.
    from service.offline.warc.runner import InputReport, WarcJob, WarcRunner, dashboard_line, dask_client
    from service.offline.warc.shipping import ensure_importable

    job = WarcJob(list(args.inputs), Path(args.out), options, settings, args.chunk_records)
    all_paths = [OutputPaths.for_input(job.out_dir, path) for path in job.inputs]
    if all(paths.is_complete(job.fingerprint(path)) for path, paths in zip(job.inputs, all_paths, strict=True)):
        # nothing to do: no cluster to start
        reports = [
            InputReport(path, paths, already_complete=True) for path, paths in zip(job.inputs, all_paths, strict=True)
        ]
    else:
        workers = args.workers or settings.extractors
        if args.scheduler and args.workers:
            print("warc: --workers is ignored with --scheduler (the cluster has its workers)", file=sys.stderr)
        with dask_client(args.scheduler, workers) as client:
            if args.scheduler:  # a LocalCluster's processes start with this process's sys.path
                try:
                    shipped = ensure_importable(client)
                except ServiceError as error:
                    return report_problem(error, "warc")
                if shipped:
                    print(shipped, file=sys.stderr)
            print(dashboard_line(client), file=sys.stderr)
            disable = None if args.progress is None else not args.progress
            with tqdm(total=0, unit="record", file=sys.stderr, disable=disable) as bar:
                reports = WarcRunner(job, client, bar).run()
    complete = True
    for report in reports:
        document = report.document()
        print(json.dumps(document, ensure_ascii=False))
        if report.already_complete:
            print(f"warc: {report.input}: output complete already, skipped", file=sys.stderr)
        else:
            print(f"warc: {report.input}: {report.summary.line()} in {report.seconds:.1f} s", file=sys.stderr)
            complete = complete and report.summary.complete
    return EXIT_OK if complete else EXIT_FAILED


def make_out_dir(out: str) -> None:
    """Create ``--out`` (and its parents) now, so a bad one is said before any work.

    Raises:
        OutputUnwritable: it exists and is no directory, or it cannot be created.
    """
    try:
        os.makedirs(out, exist_ok=True)
    except FileExistsError:
        raise OutputUnwritable(f"{out}: exists and is not a directory") from None
    except OSError as error:
        raise OutputUnwritable(f"{out}: {error.strerror or error}") from None


def check_inputs(inputs: list[str]) -> None:
    """Every input is a readable WARC file and no two share an output name.

    Raises:
        InputUnreadable / NotAWarc / DuplicateInputName.
    """
    seen: dict[str, str] = {}
    for path in inputs:
        if not os.path.isfile(path) or not os.access(path, os.R_OK):
            raise InputUnreadable(f"{path}: not a readable file")
        check_warc(path)
        name = output_name(path)
        if name in seen:
            raise DuplicateInputName(f"{seen[name]} and {path} would both write {name}.jsonl.gz")
        seen[name] = path
