"""Previewing an upload that is one giant line: time and peak memory against its size.

    python bench/upload_preview.py [--sizes 10,25,50]

Each size (MB) is a single line of real sentences (gensim's bundled Wikipedia sample, repeated),
previewed as the "Train your own" page does (uploads.read_upload, then uploads.corpus_stats) in a
fresh process, whose peak resident memory is read from the kernel. CPU seconds (the process's own,
imports included) do not depend on what else the machine is running; wall seconds do. Linear code keeps seconds/MB
and MB of memory per MB of text flat as the size grows; the issue's goal: 50 MB in ≤ 20 s, ≤ 800 MB.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHILD = """
import sys, time
from pathlib import Path
sys.path.insert(0, {root!r})
from app.data import uploads
data = Path({path!r}).read_bytes()
started = time.perf_counter()
corpus = uploads.read_upload("one-line.txt", data)
stats = uploads.corpus_stats(corpus)
import resource
usage = resource.getrusage(resource.RUSAGE_SELF)
print(time.perf_counter() - started, usage.ru_utime + usage.ru_stime, stats.documents, stats.words)
"""


def single_line_file(megabytes: int, folder: Path) -> Path:
    sys.path.insert(0, str(ROOT))
    from app.data.corpus import WIKI, load_corpus

    text = " ".join(load_corpus(WIKI).documents).encode()
    path = folder / f"one-line-{megabytes}mb.txt"
    path.write_bytes((text * (megabytes * 2**20 // len(text) + 1))[:megabytes * 2**20].replace(b"\n", b" "))
    return path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="10,25,50", help="MB, comma-separated")
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores\n")
    print("| single line | preview seconds (wall) | CPU seconds | CPU s / MB | peak RSS | documents | words |")
    print("|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as folder:
        for megabytes in map(int, args.sizes.split(",")):
            path = single_line_file(megabytes, Path(folder))
            before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
            out = subprocess.run([sys.executable, "-c", CHILD.format(root=str(ROOT), path=str(path))],
                                 capture_output=True, text=True, check=True).stdout.split()
            peak_mb = max(before, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss) / 1024  # kB on Linux
            seconds, cpu, documents, words = float(out[0]), float(out[1]), int(out[2]), int(out[3])
            print(f"| {megabytes} MB | {seconds:.1f} | {cpu:.1f} | {cpu / megabytes:.2f} | {peak_mb:,.0f} MB | "
                  f"{documents:,} | {words:,} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
