"""Background jobs: long work (training) on its own thread, so a page stays responsive.

A page submits ``work(job)``; the work reports through ``job.report(...)`` and checks
``job.stop_requested``. The registry is one per process (``shared_registry()``), so a job
outlives the page's reruns and page switches, and every session sees the same queue:

* one job per session (its ``owner``), and never two jobs writing the same model bundle;
* at most ``max_running`` jobs run at once (the machine has 2 cores); the rest wait in order,
  up to ``max_waiting``, and past that a submit is refused with a message to show;
* cancel: a queued job is dropped; a running one is asked to stop at its next check.

Pages poll a job's fields (``status``, ``fraction``, ``message``, ``figures``, ``history``);
they are plain attributes written by one thread, read by others.
"""

from __future__ import annotations

import os
import threading
import time
import traceback
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

QUEUED, RUNNING, DONE, FAILED, CANCELLED = "queued", "running", "done", "failed", "cancelled"
MAX_JOBS_ENV = "ATELIER_MAX_JOBS"
KIND_NAMES = {"lm": "char-LSTM"}  # a job's kind as other visitors read it
KEEP_FINISHED_SECONDS = 3600  # a finished job stays visible to its owner this long


class JobRefused(RuntimeError):
    """The job cannot start now; the message says why (for the page to show)."""


@dataclass(eq=False)
class Job:
    owner: str  # the session that started it
    title: str
    kind: str = ""  # what the page calls it: "word2vec", "lm"…
    bundle: str | None = None  # the model bundle it writes, if any
    id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    status: str = QUEUED
    fraction: float = 0.0
    message: str = "Waiting for a free trainer…"
    figures: dict = field(default_factory=dict)  # the latest figures: words/s, loss…
    history: list[dict] = field(default_factory=list)  # points of a live curve
    result: Any = None
    error: str | None = None
    created: float = field(default_factory=time.time)
    started: float | None = None
    finished: float | None = None
    _stop: threading.Event = field(default_factory=threading.Event, repr=False)

    @property
    def active(self) -> bool:
        return self.status in (QUEUED, RUNNING)

    @property
    def stop_requested(self) -> bool:
        return self._stop.is_set()

    def cancel(self) -> None:
        self._stop.set()

    def report(self, fraction: float | None = None, message: str | None = None, **figures) -> None:
        if fraction is not None:
            self.fraction = min(1.0, max(0.0, fraction))
        if message is not None:
            self.message = message
        if figures:
            self.figures = {**self.figures, **figures}

    def add_point(self, **point) -> None:
        self.history.append(point)

    @property
    def seconds(self) -> float:
        if self.started is None:
            return 0.0
        return (self.finished or time.time()) - self.started


def default_max_running() -> int:
    try:
        return max(1, int(os.environ.get(MAX_JOBS_ENV, "1")))
    except ValueError:
        return 1


class JobRegistry:
    def __init__(self, max_running: int | None = None, max_waiting: int = 6):
        self.max_running = max_running or default_max_running()
        self.max_waiting = max_waiting
        self._jobs: list[Job] = []
        self._waiting: list[Job] = []  # FIFO of queued jobs
        self._running = 0
        self._turn = threading.Condition()

    # -------------------------------------------------------- what pages ask

    def job_of(self, owner: str) -> Job | None:
        """The owner's latest job (running, queued, or recently finished)."""
        with self._turn:
            self._forget_old()
            mine = [j for j in self._jobs if j.owner == owner]
        return mine[-1] if mine else None

    def active(self) -> list[Job]:
        with self._turn:
            return [j for j in self._jobs if j.active]

    def others_summary(self, owner: str) -> str | None:
        """What the other visitors' active jobs are, by kind only ("2 other jobs on this server:
        word2vec, lm"), or None: a job's title names its model, which may be private."""
        kinds = [KIND_NAMES.get(j.kind, j.kind or "training") for j in self.active() if j.owner != owner]
        return f"{len(kinds)} other job(s) on this server: {', '.join(kinds)}" if kinds else None

    def queue_position(self, job: Job) -> int | None:
        """1 = next to run; None when not waiting."""
        with self._turn:
            return self._waiting.index(job) + 1 if job in self._waiting else None

    # -------------------------------------------------------- submitting and running

    def submit(self, owner: str, title: str, work: Callable[[Job], Any], bundle: str | None = None,
               on_success: Callable[[Job], None] | None = None, kind: str = "") -> Job:
        """Queue ``work(job)`` on a new thread; JobRefused if the owner or bundle is busy or the
        queue is full. ``on_success(job)`` runs on that thread after the work returns."""
        with self._turn:
            self._forget_old()
            if any(j.active and j.owner == owner for j in self._jobs):
                raise JobRefused("You already have a job running: wait for it or cancel it first.")
            if bundle and any(j.active and j.bundle == bundle for j in self._jobs):
                raise JobRefused(f"Someone is already training {bundle}: pick another name or wait.")
            if len(self._waiting) >= self.max_waiting:
                raise JobRefused(f"{self._running} jobs are running and {len(self._waiting)} are waiting; "
                                 "try again in a few minutes.")
            job = Job(owner=owner, title=title, kind=kind, bundle=bundle)
            self._jobs.append(job)
            self._waiting.append(job)
        threading.Thread(target=self._run, args=(job, work, on_success), name=f"job-{job.id}",
                         daemon=True).start()
        return job

    def _run(self, job: Job, work: Callable[[Job], Any], on_success) -> None:
        with self._turn:
            while not job.stop_requested and (self._waiting[0] is not job or self._running >= self.max_running):
                self._turn.wait(timeout=0.5)
            self._waiting.remove(job)
            if job.stop_requested:
                self._finish(job, CANCELLED, "Cancelled before it started.")
                return
            self._running += 1
            job.status, job.started, job.message = RUNNING, time.time(), "Starting…"
        try:
            job.result = work(job)
            outcome, message = DONE, "Done."
        except Exception as e:  # the page shows the reason; the server log keeps the trace
            if job.stop_requested:
                outcome, message = CANCELLED, "Cancelled: nothing was saved."
            else:
                traceback.print_exc()
                outcome, message = FAILED, f"Failed: {e}"
                job.error = str(e) or type(e).__name__
        if outcome == DONE and on_success is not None:
            try:
                on_success(job)
            except Exception:  # the work is done and saved; a failed follow-up must not say otherwise
                traceback.print_exc()
        with self._turn:
            self._running -= 1
            self._finish(job, outcome, message)

    def _finish(self, job: Job, status: str, message: str) -> None:
        job.status, job.message, job.finished = status, message, time.time()
        if status == DONE:
            job.fraction = 1.0
        self._turn.notify_all()

    def _forget_old(self) -> None:
        now = time.time()
        self._jobs = [j for j in self._jobs if j.active or now - (j.finished or now) < KEEP_FINISHED_SECONDS]

    def wait(self, job: Job, timeout: float | None = None) -> bool:
        """Block until the job has finished (for tests and scripts); True if it did."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._turn:
            while job.active:
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    return False
                self._turn.wait(timeout=0.5 if left is None else min(0.5, left))
        return True


_shared: JobRegistry | None = None
_shared_lock = threading.Lock()


def shared_registry() -> JobRegistry:
    """The process's one registry (created on first use)."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = JobRegistry()
        return _shared
