"""Progress of a run's writes: a bar on a terminal, plain lines (each tenth) otherwise."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fjordsync.cli.render import cell, markup

if TYPE_CHECKING:
    from rich.console import Console


class ProgressReporter:
    """A progress bar on a terminal; plain lines (each tenth) otherwise. Runs of fewer than 20
    writes show nothing."""

    def __init__(self, console: Console, flow: str, *, enabled: bool) -> None:
        self.console = console
        self.flow = flow
        self.enabled = enabled
        self.bar: Any = None
        self.task: Any = None
        self.last_tenth = -1

    def __call__(self, done: int, total: int) -> None:
        if not self.enabled or total < 20:
            return
        if self.console.is_terminal:
            if self.bar is None:
                from rich.progress import Progress

                self.bar = Progress(console=self.console, transient=True)
                self.bar.start()
                self.task = self.bar.add_task(f"{markup(self.flow)}: writing", total=total)
            self.bar.update(self.task, completed=done)
            return
        tenth = done * 10 // total
        if tenth != self.last_tenth:
            self.last_tenth = tenth
            self.console.print(cell(f"{self.flow}: {done}/{total} written"), highlight=False)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()
