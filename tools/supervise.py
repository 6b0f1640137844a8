"""Start the Procfile's processes under supervisord (the `supervisor` package) and stay in the foreground:
`./syncline run` execs this.

A process that exits or is killed is started again, and supervisord says so on the terminal ("exited:
worker (terminated by SIGKILL; not expected)", then "spawned: 'worker' with pid …"); one that keeps dying
within START_SECONDS of its start is retried with a growing delay (1 s, 2 s, … supervisord's backoff) and
given up after START_RETRIES tries. Ctrl+C (or SIGTERM) stops them all: supervisord sends each one SIGTERM
(a worker's warm shutdown queues its runs again) and waits up to STOP_WAIT_SECONDS.

    python tools/supervise.py [--procfile Procfile] [--var-dir var] [--once NAME=COMMAND …] [--write-only]

`--once` adds a one-shot program (the demo sync), logged to VAR/NAME.log and never restarted. The config
is written to VAR/supervisord.conf; `supervisorctl -c VAR/supervisord.conf status` shows the processes.
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
START_SECONDS = 5
START_RETRIES = 10
STOP_WAIT_SECONDS = 20


def procfile_processes(path: Path) -> dict[str, str]:
    processes = {}
    for line in path.read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, _, command = line.partition(":")
            processes[name.strip()] = command.strip()
    return processes


def _value(text: str) -> str:
    return text.replace("%", "%%")  # supervisord expands %(name)s in its values


def _shell(command: str) -> str:
    # The Procfile's commands use the shell's ${VAR:-default}; exec so that signals reach the process itself.
    return _value("/bin/sh -c " + shlex.quote(f"exec {command}"))


def config(processes: dict[str, str], once: dict[str, str], var: Path) -> str:
    lines = [
        "[supervisord]",
        "nodaemon=true",  # in the foreground; its own log lines also go to the terminal
        f"logfile={_value(str(var / 'supervisord.log'))}",
        "logfile_maxbytes=5MB",
        f"pidfile={_value(str(var / 'supervisord.pid'))}",
        f"directory={_value(str(ROOT))}",
        *(["user=root"] if os.geteuid() == 0 else []),  # said, so that supervisord does not warn about it
        "",
        "[unix_http_server]",
        f"file={_value(str(var / 'supervisor.sock'))}",
        "chmod=0700",
        "",
        "[rpcinterface:supervisor]",
        "supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface",
        "",
        "[supervisorctl]",
        f"serverurl=unix://{_value(str(var / 'supervisor.sock'))}",
    ]
    for name, command in processes.items():
        lines += [
            "",
            f"[program:{name}]",
            f"command={_shell(command)}",
            f"directory={_value(str(ROOT))}",
            "autorestart=true",
            f"startsecs={START_SECONDS}",
            f"startretries={START_RETRIES}",
            "stopsignal=TERM",
            f"stopwaitsecs={STOP_WAIT_SECONDS}",
            "stopasgroup=true",
            "killasgroup=true",
            "redirect_stderr=true",
            "stdout_logfile=/dev/stdout",
            "stdout_logfile_maxbytes=0",
            f'environment=SYNCLINE_PROCESS="{name}"',
        ]
    for name, command in once.items():
        lines += [
            "",
            f"[program:{name}]",
            f"command={_shell(command)}",
            f"directory={_value(str(ROOT))}",
            "autorestart=false",
            "startsecs=0",
            "redirect_stderr=true",
            f"stdout_logfile={_value(str(var / (name + '.log')))}",
            f'environment=SYNCLINE_PROCESS="{name}"',
        ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--procfile", type=Path, default=ROOT / "Procfile")
    parser.add_argument(
        "--var-dir", type=Path, default=Path(os.environ.get("SYNCLINE_VAR_DIR", ROOT / "var"))
    )
    parser.add_argument("--once", action="append", default=[], metavar="NAME=COMMAND")
    parser.add_argument("--write-only", action="store_true", help="write the config and exit")
    args = parser.parse_args(argv)
    var = args.var_dir.resolve()
    var.mkdir(parents=True, exist_ok=True)
    once = dict(item.split("=", 1) for item in args.once)
    path = var / "supervisord.conf"
    path.write_text(config(procfile_processes(args.procfile), once, var))
    if args.write_only:
        print(path)
        return
    supervisord = Path(sys.executable).with_name("supervisord")
    os.execv(supervisord, [str(supervisord), "--configuration", str(path)])  # noqa: S606 - becomes supervisord


if __name__ == "__main__":
    main()
