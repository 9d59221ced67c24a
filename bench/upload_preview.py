"""Previewing an upload on "Train your own": time and memory against the text's size.

    python bench/upload_preview.py [--sizes 10,50] [--gzip-mb 190] [--write-docs]

Two kinds of file, each previewed as the page does (``uploads.preview_upload``) in a fresh process
that holds the upload's bytes first, as the server does:

* a single line of real sentences (gensim's bundled Wikipedia sample, repeated) of each size in MB;
* a .txt.gz of paragraphs that expands to ``--gzip-mb`` MB (under the 200 MB cap) from a few hundred kB,
  the issue's case: the text never has to be in memory at once.

The preview's memory is the process's peak resident memory (the kernel's VmHWM) less what it held
just before the preview (interpreter, imports and the upload's bytes): an upper bound of what the
preview adds. The goal (issue 26): under 2x the text's size. CPU seconds (the process's own) do not
depend on what else the machine is running; wall seconds do.
"""

from __future__ import annotations

import argparse
import gzip
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.doc_tables import add_write_docs_flag, write_docs  # noqa: E402

CHILD = """
import sys, time
from pathlib import Path
sys.path.insert(0, {root!r})
from app.data import uploads

def memory_kb(field):  # VmRSS: resident now; VmHWM: the peak (this process's own, unlike getrusage's)
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith(field + ":"))

data = Path({path!r}).read_bytes()
before = memory_kb("VmRSS")
started = time.perf_counter()
cpu_started = time.process_time()
stats, _notices = uploads.preview_upload({name!r}, data)
seconds, cpu = time.perf_counter() - started, time.process_time() - cpu_started
peak = memory_kb("VmHWM")
print(seconds, cpu, before, peak, stats.documents, stats.words)
"""


def wiki_text() -> bytes:
    from app.data.corpus import WIKI, load_corpus

    return "\n\n".join(load_corpus(WIKI).documents).encode()


def single_line_file(megabytes: int, folder: Path) -> tuple[Path, int]:
    text = wiki_text().replace(b"\n", b" ")
    path = folder / f"one-line-{megabytes}mb.txt"
    path.write_bytes((text * (megabytes * 2**20 // len(text) + 1))[:megabytes * 2**20])
    return path, megabytes * 2**20


def repetitive_gzip_file(megabytes: int, folder: Path) -> tuple[Path, int]:
    """Paragraphs of a 24 kB stretch of the sample, repeated: within gzip's 32 kB window, so a
    few hundred kB expand to ``megabytes`` MB, as a log or an export of near-duplicates does."""
    block = wiki_text()[:24_000]
    block = block[:block.rfind(b"\n\n") + 2]
    text = block * (megabytes * 2**20 // len(block))
    path = folder / f"paragraphs-{megabytes}mb.txt.gz"
    path.write_bytes(gzip.compress(text, compresslevel=9))
    return path, len(text)


def preview_row(label: str, path: Path, text_bytes: int) -> str:
    out = subprocess.run([sys.executable, "-c", CHILD.format(root=str(ROOT), path=str(path), name=path.name)],
                         capture_output=True, text=True, check=True).stdout.split()
    seconds, cpu = float(out[0]), float(out[1])
    before_kb, peak_kb, documents, words = (int(v) for v in out[2:])
    added_mb, text_mb = max(0, peak_kb - before_kb) / 1024, text_bytes / 2**20
    return (f"| {label} | {path.stat().st_size / 2**20:,.1f} MB | {text_mb:,.0f} MB | {seconds:.1f} | {cpu:.1f} | "
            f"{peak_kb / 1024:,.0f} MB | {added_mb:,.0f} MB | {added_mb / text_mb:.2f}× | {documents:,} | {words:,} |")


HEADER = ("| file | upload | text | preview seconds (wall) | CPU seconds | peak RSS | preview's memory | "
          "× the text | documents | words |\n|---|---|---|---|---|---|---|---|---|---|")


def table(rows: list[str]) -> str:
    return "\n".join([HEADER, *rows])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="10,50", help="single-line files, MB, comma-separated")
    parser.add_argument("--gzip-mb", type=int, default=190, help="what the .txt.gz expands to, MB (0: none)")
    add_write_docs_flag(parser, "bench/upload_preview.py")
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores\n")
    rows = []
    print(HEADER, flush=True)
    with tempfile.TemporaryDirectory() as folder:
        cases = [(f"one line, {mb} MB .txt", *single_line_file(mb, Path(folder))) for mb in map(int, args.sizes.split(","))]
        if args.gzip_mb:
            cases.append((f"paragraphs, .txt.gz of {args.gzip_mb} MB", *repetitive_gzip_file(args.gzip_mb, Path(folder))))
        for label, path, text_bytes in cases:
            rows.append(preview_row(label, path, text_bytes))
            print(rows[-1], flush=True)
    if args.write_docs:  # a run of some files replaces their rows; the others stay
        write_docs("bench/upload_preview.py", table(rows), merge=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
