"""`jobsync emulator`: serve the DataArts routes on 127.0.0.1 over an engine database."""

from __future__ import annotations

import os
import secrets as pysecrets
from pathlib import Path
from typing import Annotated

import typer

from jobsync.cli.app import app
from jobsync.cli.common import Output, error_handler
from jobsync.errors import UsageError

ENV_AK, ENV_SK = 'HUAWEICLOUD_SDK_AK', 'HUAWEICLOUD_SDK_SK'


def _clusters(values: list[str]) -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    for value in values:
        name, sep, id_ = value.partition('=')
        if not name:
            raise UsageError(f'--cdm-cluster {value!r}: give NAME or NAME=ID')
        out[name] = id_ if sep and id_ else None
    return out


def _workspaces(values: list[str] | None) -> dict[str, str]:
    """`--workspace ID[=NAME]` values as id -> name (`default` is added by the gateway)."""
    out: dict[str, str] = {}
    for value in values or []:
        id_, _, name = value.partition('=')
        if not id_:
            raise UsageError(f'--workspace {value!r}: give ID or ID=NAME')
        out[id_] = name or id_
    return out


@app.command()
def emulator(
    port: Annotated[int, typer.Option('--port', help='Port on 127.0.0.1 (0: any free port).', min=0, max=65535)] = 8443,
    db: Annotated[Path, typer.Option('--db', help='SQLite file holding the emulated service (created if missing).')]
        = Path('.jobsync/emulator.db'),
    ak: Annotated[list[str] | None, typer.Option(
        '--ak', metavar='<ak>',
        help=f'Access key to accept (repeatable, paired with --sk; default: env {ENV_AK}).')] = None,
    sk: Annotated[list[str] | None, typer.Option(
        '--sk', metavar='<sk>', help=f'Secret key of the --ak at the same position (default: env {ENV_SK}).')] = None,
    token: Annotated[list[str] | None, typer.Option(
        '--token', metavar='<token>', help='IAM token to accept in X-Auth-Token (repeatable).')] = None,
    cdm_cluster: Annotated[list[str] | None, typer.Option(
        '--cdm-cluster', metavar='<name[=id]>',
        help='CDM cluster every project has: NAME or NAME=ID (repeatable).')] = None,
    latency_ms: Annotated[float, typer.Option('--latency-ms', help='Added latency per request.', min=0)] = 0.0,
    throttle_rps: Annotated[float, typer.Option(
        '--throttle-rps', help='Answer 429 APIG.0308 with Retry-After above this many requests a second (0: off).',
        min=0)] = 0.0,
    fault_rate: Annotated[float, typer.Option(
        '--fault-rate', help='Fraction of requests answered 5xx (half before, half after processing).',
        min=0, max=0.9)] = 0.0,
    drop_rate: Annotated[float, typer.Option(
        '--drop-rate', help='Fraction of connections dropped (half before, half after processing).',
        min=0, max=0.9)] = 0.0,
    max_faults: Annotated[int | None, typer.Option('--max-faults', help='Stop injecting after this many faults.',
                                                   min=0)] = None,
    seed: Annotated[int | None, typer.Option('--seed', help='Seed for the fault dice (repeatable runs).')] = None,
    workspace: Annotated[list[str] | None, typer.Option(
        '--workspace', metavar='<id[=name]>',
        help='DataArts workspace the emulator knows: ID or ID=NAME (repeatable; `default` is always'
                            ' there). Other ids get DLF.0819; Management Center calls without the header are refused.',
    )] = None,
    unreachable_host: Annotated[list[str] | None, typer.Option(
        '--unreachable-host', metavar='<host>',
        help='A CDM link to this host fails its connectivity check (500 validation-result).',
    )] = None,
    cdm_run_ms: Annotated[int, typer.Option('--cdm-run-ms', help='How long a CDM run lasts.', min=0)] = 0,
    instance_run_ms: Annotated[int, typer.Option(
        '--instance-run-ms', help='How long a Factory job instance runs.', min=0)] = 0,
    failing_job: Annotated[list[str] | None, typer.Option(
        '--failing-job', help='Instances of this Factory job end `fail` (repeatable).')] = None,
    failing_cdm_job: Annotated[list[str] | None, typer.Option(
        '--failing-cdm-job', metavar='<name>',
        help='Starting this CDM job answers FAILURE_ON_SUBMIT (repeatable).')] = None,
) -> None:
    """Serve the DataArts Factory, Management Center and CDM routes on 127.0.0.1 (Ctrl-C stops).

    Point a dataarts target's factory, management and cdm endpoints at the printed URL. AK/SK signatures are
    verified for the given keys (or HUAWEICLOUD_SDK_AK/SK from the environment); with no keys and no --token,
    a key pair is made up and printed. Objects live in --db.
    """
    output = Output()
    with error_handler(output):
        try:
            import starlette  # noqa: F401
            import uvicorn  # noqa: F401
        except ImportError as exc:
            raise UsageError(f'the emulator needs the `emulator` extra ({exc.name} is not installed)',
                             hint="pip install 'jobsync-dataarts[emulator]'") from None
        from jobsync.workspace.emulator import Emulator, EmulatorServer, Faults

        aks, sks = list(ak or []), list(sk or [])
        if len(aks) != len(sks):
            raise UsageError('--ak and --sk must come in pairs', hint='give one --sk after each --ak')
        credentials = dict(zip(aks, sks, strict=True))
        generated = False
        if not credentials and os.environ.get(ENV_AK) and os.environ.get(ENV_SK):
            credentials = {os.environ[ENV_AK]: os.environ[ENV_SK]}
        if not credentials and not token:
            credentials = {'AKEMU' + pysecrets.token_hex(8).upper(): pysecrets.token_hex(20)}
            generated = True
        try:
            faults = Faults(latency_ms=latency_ms, throttle_rps=throttle_rps, fault_rate=fault_rate,
                            drop_rate=drop_rate, max_faults=max_faults, seed=seed)
        except ValueError as exc:
            raise UsageError(str(exc)) from None
        db.parent.mkdir(parents=True, exist_ok=True)
        em = Emulator(db, credentials=credentials, tokens=set(token or []), clusters=_clusters(cdm_cluster or []),
                      faults=faults, workspaces=_workspaces(workspace), unreachable_hosts=set(unreachable_host or []),
                      failing_cdm_jobs=set(failing_cdm_job or []), cdm_run_ms=cdm_run_ms,
                      instance_run_ms=instance_run_ms, failing_jobs=set(failing_job or []))
        try:
            server = EmulatorServer(em, port=port)
        except OSError as exc:
            raise UsageError(f'cannot listen on 127.0.0.1:{port}: {exc.strerror}',
                             hint='pick another --port, or --port 0 for any free one') from None
        output.out(f'jobsync emulator listening on {server.url} (database {db})\n')
        if generated:
            # Emulator-only keys, made up just now: printing them is the point.
            ak_, sk_ = next(iter(credentials.items()))
            output.out(f'No keys given; accepting this pair:\n  export {ENV_AK}={ak_}\n  export {ENV_SK}={sk_}\n')
        output.out('Press Ctrl-C to stop.\n')
        try:
            server.run_forever()
        except KeyboardInterrupt:  # Ctrl-C, or SIGTERM from whoever started it: how a server ends
            output.err('jobsync emulator stopped.\n')
        finally:
            em.close()
