"""Live progress of an operation from ansible-runner events."""

from __future__ import annotations

import time
from typing import Any

from rich.console import Console


class Progress:
    """Prints one line per task and per failed host, with elapsed time."""

    def __init__(self, console: Console, quiet: bool = False) -> None:
        self.console = console
        self.quiet = quiet
        self.started = time.monotonic()

    def __call__(self, event: dict[str, Any]) -> None:
        if self.quiet:
            return
        kind = event.get("event")
        data = event.get("event_data") or {}
        elapsed = f"[dim]{time.monotonic() - self.started:6.1f}s[/]"
        if kind == "playbook_on_play_start":
            self.console.print(f"{elapsed} [bold]{data.get('play', '')}[/]")
        elif kind == "playbook_on_task_start":
            self.console.print(f"{elapsed}   {data.get('task', '')}")
        elif kind == "runner_on_failed" and not data.get("ignore_errors"):
            msg = (data.get("res") or {}).get("msg", "")
            self.console.print(f"{elapsed}   [red]failed on {data.get('host')}: {msg}[/]")
        elif kind == "runner_on_unreachable":
            self.console.print(f"{elapsed}   [red]unreachable: {data.get('host')}[/]")
