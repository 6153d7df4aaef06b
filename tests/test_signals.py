"""SIGINT and SIGTERM, for real (issue 10, class B): ``merge`` and ``generate --roster`` run as
their own processes, with worker processes, and are signalled half way. Afterwards no
temporary file is left, no worker process is alive, the previous outputs are as they were,
and the command said so in one line and exited 130 or 143, without a traceback.

"Half way" is made certain, not timed: the child runs the real CLI with one function wrapped
so that, at the chosen point, it writes a flag file (its pid) and then waits for ever; the test
waits for the flags, then signals. A worker that did not end with its parent would wait for
ever too, and be found alive.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
import zipfile
from pathlib import Path

import pytest

from pmqa_xlsx import generate_roster
from pmqa_xlsx.layout import Layout
from pmqa_xlsx.roster import Agency

from .conftest import FIXED_TIME, ROOT

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                reason="signals, /proc and PR_SET_PDEATHSIG: Linux")

RUNNER = textwrap.dedent('''
    """The real CLI, paused at one point: flags/<pid> is written there, then it waits."""
    import os
    import sys
    import time
    from pathlib import Path

    FLAGS, WHERE, ARGS = Path(sys.argv[1]), sys.argv[2], sys.argv[3:]


    def pause():
        (FLAGS / str(os.getpid())).write_text(WHERE)
        while True:
            time.sleep(0.05)


    if WHERE == "reading":  # in each worker, at its first batch
        import importlib

        consolidate = importlib.import_module("pmqa_xlsx.consolidate")  # not the function

        def _read_batch(files, layouts):
            pause()

        consolidate._read_batch = _read_batch
    elif WHERE == "writing":  # in the parent, the workbook half written
        import pmqa_xlsx.report as report

        _real_answers = report._write_answers

        def _write_answers(*args):
            _real_answers(*args)
            pause()

        report._write_answers = _write_answers
    elif WHERE == "closing":  # the workbook's close in its thread, half way; the CSVs go on
        import pmqa_xlsx.xlsxtext as xlsxtext

        _real_add_part = xlsxtext.Workbook._add_part

        def _add_part(self, package, path, name):
            if name.startswith("xl/worksheets/"):
                (FLAGS / str(os.getpid())).write_text(WHERE)
                while True:  # until the close is abandoned, as a long compression would be
                    self._pmqa_closing.go_on()
                    time.sleep(0.05)
            _real_add_part(self, package, path, name)

        xlsxtext.Workbook._add_part = _add_part
    elif WHERE == "results":  # in the parent, the agencies' result pages being made
        import pmqa_xlsx.agency_result as agency_result

        _real_page = agency_result.write_page

        def write_page(page, target):
            _real_page(page, target)
            pause()

        agency_result.write_page = write_page
    elif WHERE == "generating":  # in each worker, its fifth workbook written but not renamed
        _real_fsync = os.fsync
        _synced = [0]

        def _fsync(fd):
            _real_fsync(fd)
            _synced[0] += 1
            if _synced[0] == 5:
                pause()

        os.fsync = _fsync

    from pmqa_xlsx.cli import main

    main(ARGS, prog_name="pmqa-xlsx")
''')


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state not in ("Z", "X")  # a zombie has ended; only its exit status is left


def wait_for(condition: object, what: str, proc: subprocess.Popen | None = None,
             limit: float = 60.0) -> None:
    """Wait until ``condition()``; fail (saying what) if the child ends first or never."""
    deadline = time.monotonic() + limit
    while not condition():  # type: ignore[operator]
        if proc is not None and proc.poll() is not None:
            out, err = proc.communicate()
            pytest.fail(f"the command ended before {what}: {proc.returncode}\n{out}\n{err}")
        if time.monotonic() > deadline:
            pytest.fail(f"still waiting for {what}")
        time.sleep(0.02)


class Run:
    """One paused command: the process, the flags it leaves, its temporary folder."""

    started: list[Run] = []

    def __init__(self, tmp_path: Path, where: str, *args: object) -> None:
        self.flags = tmp_path / "flags"
        self.flags.mkdir()
        self.tmp = tmp_path / "tmp"
        self.tmp.mkdir()
        script = tmp_path / "runner.py"
        script.write_text(RUNNER)
        env = {**os.environ, "TMPDIR": str(self.tmp), "PYTHONUNBUFFERED": "1"}
        self.proc = subprocess.Popen(
            [sys.executable, str(script), str(self.flags), where, *map(str, args)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
            start_new_session=True)  # its own process group, as a terminal would give it
        Run.started.append(self)

    def paused(self, count: int) -> list[int]:
        wait_for(lambda: len(list(self.flags.iterdir())) >= count, f"{count} pause(s)",
                 self.proc)
        return [int(p.name) for p in self.flags.iterdir()]

    def signal_group(self, sig: int) -> None:
        os.killpg(self.proc.pid, sig)  # what Ctrl+C does: the whole foreground group

    def finish(self) -> tuple[int, str, str]:
        try:
            out, err = self.proc.communicate(timeout=120)
        except subprocess.TimeoutExpired:
            self.kill()
            out, err = self.proc.communicate()
            pytest.fail(f"the command did not end after the signal\n{out}\n{err}")
        return self.proc.returncode, out, err

    def kill(self) -> None:
        """End what is left of this run's process group (only ours: its own session)."""
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            return
        self.proc.wait()


@pytest.fixture(autouse=True)
def _no_run_outlives_its_test() -> object:
    yield
    while Run.started:
        Run.started.pop().kill()


def no_temporaries(out: Path, tmp: Path) -> None:
    """No temporary file beside the outputs, nothing in the temporary folder."""
    assert [p for p in out.rglob("*") if p.name.endswith(".tmp")] == []
    assert list(tmp.iterdir()) == []


def all_gone(pids: list[int]) -> None:
    wait_for(lambda: not any(alive(p) for p in pids), f"workers {pids} to end")


@pytest.fixture(scope="module")
def many(layout: Layout, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """40 returns (copies of one), enough for merge to read them in two workers."""
    from pmqa_xlsx.cellmap import build_cellmap
    from pmqa_xlsx.generate import Template

    cellmap = build_cellmap(layout)
    fields = frozenset(f.id for f in layout.identity.fields if f.roster)
    data = Template(cellmap, fields, None, FIXED_TIME).personalise(Agency(code="S001",
                                                                          name="ก"))
    folder = tmp_path_factory.mktemp("many")
    for i in range(40):
        (folder / f"S{i:03d}.xlsx").write_bytes(data)
    return folder


def previous_outputs(out: Path) -> dict[Path, bytes]:
    files = {out / "merged.xlsx": b"previous workbook",
             out / "csv" / "answers.csv": b"previous answers",
             out / "csv" / "returns.csv": b"previous returns"}
    for path, data in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return files


def merge_args(many: Path, out: Path) -> list[object]:
    return ["merge", "--lang", "en", many, "-o", out / "merged.xlsx", "--csv", out / "csv",
            "--jobs", 2]


def test_ctrl_c_while_workers_read(many: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    previous = previous_outputs(out)
    run = Run(tmp_path, "reading", *merge_args(many, out))
    workers = run.paused(2)
    run.signal_group(signal.SIGINT)  # the workers get it too, and leave it to the parent
    code, stdout, stderr = run.finish()
    assert code == 130, stderr
    assert "Traceback" not in stderr and "stopped by SIGINT; the outputs were not written: " \
        "the previous ones are as they were" in stderr
    all_gone(workers)
    assert {p: p.read_bytes() for p in previous} == previous
    no_temporaries(out, run.tmp)


def test_sigterm_while_the_workbook_is_written(many: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    previous = previous_outputs(out)
    run = Run(tmp_path, "writing", *merge_args(many, out))
    run.paused(1)
    assert [p.name for p in out.iterdir() if p.name.endswith(".tmp")]  # mid-write indeed
    assert list(run.tmp.iterdir())  # and xlsxwriter's own files with it
    os.kill(run.proc.pid, signal.SIGTERM)  # a service manager stopping it: the parent only
    code, stdout, stderr = run.finish()
    assert code == 143, stderr
    assert "Traceback" not in stderr and "stopped by SIGTERM" in stderr
    assert {p: p.read_bytes() for p in previous} == previous
    no_temporaries(out, run.tmp)
    assert sorted(p.name for p in out.rglob("*")) == ["answers.csv", "csv", "merged.xlsx",
                                                      "returns.csv"]


def test_ctrl_c_while_the_results_are_made_leaves_every_output_as_it_was(
        tmp_path: Path) -> None:
    """merge --results: the agencies' pages are made first and put in place with the
    workbook and the CSVs, as one set; Ctrl+C while they are made writes none of them, and
    says so (it used to replace the workbook first, then say "the outputs were written"
    while the results were still the last merge's)."""
    out = tmp_path / "out"
    previous = previous_outputs(out)
    results = out / "results"
    samples = ROOT / "samples" / "returns"  # the sample round: returns that count
    run = Run(tmp_path, "results", *merge_args(samples, out), "--results", results)
    run.paused(1)
    run.signal_group(signal.SIGINT)
    code, stdout, stderr = run.finish()
    assert code == 130, stderr
    assert "Traceback" not in stderr and "stopped by SIGINT; the outputs were not written: " \
        "the previous ones are as they were" in stderr
    assert {p: p.read_bytes() for p in previous} == previous
    assert not results.exists()  # made for the results, and removed again, empty
    no_temporaries(out, run.tmp)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_while_the_workbook_is_closed_in_the_background(many: Path, tmp_path: Path,
                                                                 sig: int) -> None:
    """The workbook's package is compressed in a thread of its own while the CSVs are
    written: a signal then stops that thread too, and nothing of either is left."""
    out = tmp_path / "out"
    previous = previous_outputs(out)
    run = Run(tmp_path, "closing", *merge_args(many, out))
    run.paused(1)
    assert [p.name for p in out.iterdir() if p.name.endswith(".tmp")]  # mid-write indeed
    time.sleep(0.5)  # the CSVs written meanwhile, or being written: either way, staged
    if sig == signal.SIGINT:
        run.signal_group(sig)
    else:
        os.kill(run.proc.pid, sig)
    code, stdout, stderr = run.finish()
    assert code == (130 if sig == signal.SIGINT else 143), stderr
    assert "Traceback" not in stderr and f"stopped by {signal.Signals(sig).name}" in stderr
    assert {p: p.read_bytes() for p in previous} == previous
    no_temporaries(out, run.tmp)
    assert sorted(p.name for p in out.rglob("*")) == ["answers.csv", "csv", "merged.xlsx",
                                                      "returns.csv"]


def test_workers_die_with_a_parent_that_is_killed(many: Path, tmp_path: Path) -> None:
    run = Run(tmp_path, "reading", *merge_args(many, tmp_path))
    workers = run.paused(2)
    os.kill(run.proc.pid, signal.SIGKILL)  # nothing of the parent runs: the kernel tells them
    run.finish()
    all_gone(workers)


def test_sigterm_while_generate_writes_the_roster(layout: Layout, tmp_path: Path) -> None:
    agencies = [Agency(code=f"A{i:03d}", name=f"หน่วยงาน {i}") for i in range(120)]
    roster = tmp_path / "roster.csv"
    roster.write_text("agency_code,agency_name\n" + "".join(f"{a.code},{a.name}\n"
                                                            for a in agencies))
    out = tmp_path / "sent"
    generate_roster(layout, agencies, out, generated_at=FIXED_TIME)  # the previous round
    manifest = (out / "manifest.csv").read_bytes()
    run = Run(tmp_path, "generating", "generate", "--roster", roster, "-o", out, "--year",
              "2569", "--jobs", 2)
    workers = run.paused(2)
    assert [p for p in out.iterdir() if p.name.endswith(".tmp")]  # each half way through one
    os.kill(run.proc.pid, signal.SIGTERM)
    code, stdout, stderr = run.finish()
    assert code == 143, stderr
    assert "Traceback" not in stderr and "manifest.csv was not written" in stderr
    all_gone(workers)
    no_temporaries(out, run.tmp)
    assert (out / "manifest.csv").read_bytes() == manifest
    for path in out.glob("*.xlsx"):  # each the previous workbook or a new one, whole
        with zipfile.ZipFile(path) as package:
            assert package.testzip() is None
    assert len(list(out.glob("*.xlsx"))) == 120
    shutil.rmtree(out)


def test_an_interrupt_in_process_is_one_line_and_its_exit_code(many: Path, tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch
                                                               ) -> None:
    from click.testing import CliRunner

    from pmqa_xlsx.cli import main
    from pmqa_xlsx.parallel import Terminated

    for raised, code, name in ((KeyboardInterrupt, 130, "SIGINT"), (Terminated, 143, "SIGTERM")):
        def stop(*args: object, raised: type[BaseException] = raised, **kwargs: object) -> None:
            raise raised

        monkeypatch.setattr(sys.modules["pmqa_xlsx.consolidate"], "read_all", stop)
        result = CliRunner().invoke(main, [str(a) for a in merge_args(many, tmp_path)])
        assert result.exit_code == code and isinstance(result.exception, SystemExit)
        assert result.stderr.strip().endswith(f"stopped by {name}; the outputs were not "
                                               "written: the previous ones are as they were, "
                                               "and no temporary file is left")
        thai = [str(a) for a in merge_args(many, tmp_path) if a not in ("--lang", "en")]
        result = CliRunner().invoke(main, thai)  # Thai unless told
        assert result.exit_code == code
        assert result.stderr.strip().endswith(f"หยุดทำงานเพราะได้รับสัญญาณ {name} ยังไม่ได้เขียน"
                                               "ผลลัพธ์ ไฟล์ผลลัพธ์เดิมยังอยู่เหมือนเดิม และไม่มี"
                                               "ไฟล์ชั่วคราวค้างอยู่")


HALF_SENT = textwrap.dedent('''
    """A worker dies half way through sending its result; the pool is then stopped."""
    import os
    import signal
    import struct
    import sys

    from pmqa_xlsx.parallel import stop_workers, worker_pool


    def half_a_result() -> None:
        frame = sys._getframe()
        while "result_queue" not in frame.f_locals:  # the worker's loop, up the stack
            frame = frame.f_back
        pipe = frame.f_locals["result_queue"]._writer
        # a message's length, then a tenth of it: what a worker killed mid-send leaves
        os.write(pipe.fileno(), struct.pack("!i", 1000) + b"x" * 100)
        os.kill(os.getpid(), signal.SIGKILL)


    with worker_pool(1) as pool:
        future = pool.submit(half_a_result)
        while pool._processes and any(p.is_alive() for p in pool._processes.values()):
            pass  # until the worker is dead, its half message in the pipe
        stop_workers(pool)
    print("stopped")
''')


def test_a_worker_killed_mid_send_does_not_hang_the_stop(tmp_path: Path) -> None:
    """A worker killed while it sent a result (a signal at the wrong moment) left half of it
    in the results pipe, and the pool's thread waited for the rest for ever: stopping the
    workers, and so the merge's exit on Ctrl+C, hung. Now the stop ends and the process
    exits."""
    script = tmp_path / "half_sent.py"
    script.write_text(HALF_SENT, encoding="utf-8")
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.stdout.strip() == "stopped", done.stderr
