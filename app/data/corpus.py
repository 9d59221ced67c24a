"""Corpora: read text files, normalise, split into sentences and words, split train/val/test.

Two named corpora ship with the app:

* ``fashion-reviews``: the Women's E-Commerce Clothing Reviews CSV, read from the path in
  ``ATELIER_FASHION_CORPUS`` (never committed: it is an input).
* ``wiki-sample``: the English Wikipedia extract inside gensim's own package data, present on
  every install, so a fresh clone always has something to train on and play with.

Any other path is read by its extension: .csv, .txt, .jsonl, each optionally .gz.
"""

from __future__ import annotations

import bz2
import codecs
import csv
import gzip
import hashlib
import io
import json
import os
import re
import unicodedata
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import cached_property
from itertools import chain, islice
from pathlib import Path
from typing import BinaryIO, TextIO

import numpy as np

from app import PROJECT

FASHION = "fashion-reviews"
WIKI = "wiki-sample"
FASHION_ENV = "ATELIER_FASHION_CORPUS"
FASHION_FILE = "womens-clothing-reviews.csv"
SPLIT_SEED = 1234
SPLIT_FRACTIONS = {"train": 0.90, "validation": 0.05, "test": 0.05}

# Uploaded files are untrusted: cap what we are willing to expand (gzip bombs) and read.
MAX_TEXT_BYTES = 200 * 1024 * 1024


class CorpusError(ValueError):
    """A corpus could not be read; the message names the path and what was expected."""


# ---------------------------------------------------------------- text normalisation

_SPACES = re.compile(r"\s+")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# A sentence ends at . ! or ? (possibly repeated, possibly closing a quote) before a space...
_SENTENCE_END = re.compile(r"[.!?]+[\"')\]\u201d]*(?=\s)")
# ...unless the full stop ends one of these abbreviations or an initial (J. R. R. Tolkien).
ABBREVIATIONS = frozenset(
    "mr mrs ms mme mlle messrs dr prof rev hon st mt ft sr jr gen col capt lt sgt gov pres "
    "vs etc e.g i.e cf al approx dept est fig no nos vol vols ch p pp ed eds inc ltd co corp bros "
    "jan feb mar apr jun jul aug sep sept oct nov dec".split())
_LAST_WORD = re.compile(r"([^\W\d_]+(?:\.[^\W\d_]+)*)$")
# A word: letters/digits, with inner apostrophes or hyphens kept (bun-skimming, 5'8, it's).
_WORD = re.compile(r"[^\W_]+(?:['\-][^\W_]+)*")


def normalise(text: str) -> str:
    """NFC, typographic apostrophes made plain, control characters dropped, whitespace collapsed."""
    text = unicodedata.normalize("NFC", text)
    text = text.replace("\u2019", "'").replace("\u2018", "'")
    text = _CONTROL.sub(" ", text)
    return _SPACES.sub(" ", text).strip()


_PREVIOUS_WORD = re.compile(r"(\S+)\s+$")


def _is_initial(document: str, at: int, start: int) -> bool:
    """A capital letter alone after a capitalised word: George R. R. Martin (but "a size S. Love it")."""
    if not (document[at].isupper() and (at + 1 == len(document) or not document[at + 1].isalpha())):
        return False
    previous = _PREVIOUS_WORD.search(document, max(start, at - 30), at)
    return bool(previous) and previous.group(1)[0].isupper()


def split_sentences(document: str) -> list[str]:
    """Sentences of a normalised document. A sentence ends at . ! or ? followed by a space,
    never after "Mr." and the other ABBREVIATIONS or an initial, and never inside a word."""
    sentences, start = [], 0
    for end in _SENTENCE_END.finditer(document):
        if end.group().startswith(".") and not end.group().startswith(".."):
            word = _LAST_WORD.search(document, max(start, end.start() - 12), end.start())
            if word and (word.group(1).lower() in ABBREVIATIONS or _is_initial(document, word.start(1), start)):
                continue
        sentence = document[start:end.end()].strip()
        if sentence:
            sentences.append(sentence)
        start = end.end()
    rest = document[start:].strip()
    return sentences + [rest] if rest else sentences


def tokenize(text: str) -> list[str]:
    """Lower-cased word tokens; punctuation dropped, inner ' and - kept."""
    return _WORD.findall(text.lower())


# ---------------------------------------------------------------- readers
#
# A file is read as a stream, a chunk at a time, never whole: a first pass checks its size (a gzip
# bomb stops at the cap having held one chunk) and its encoding, the next hands out its documents
# one by one. A 190 MB text is then never in memory at once, let alone in several copies.

READ_CHUNK = 1 << 20  # bytes read (or decompressed) at a time
HEAD_BYTES = 65536  # what the encoding checks look at
Opener = Callable[[], BinaryIO]  # a fresh stream of a file's (decompressed) bytes, for each pass


def file_opener(path: Path) -> Opener:
    return (lambda: gzip.open(path, "rb")) if path.suffix == ".gz" else (lambda: open(path, "rb"))


@dataclass
class ByteScan:
    head: bytes  # the first HEAD_BYTES
    size: int
    utf8: bool  # the whole of it is valid UTF-8


def scan_bytes(opener: Opener, name: str, limit: int, unreadable: str = "cannot read it",
               advice: str = "") -> ByteScan:
    """One pass over the bytes: their size, head and whether they are UTF-8. CorpusError as soon as
    they pass ``limit`` bytes, or if they cannot be read (a damaged gzip, say)."""
    head, size, utf8 = b"", 0, True
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        with opener() as stream:
            while chunk := stream.read(READ_CHUNK):
                size += len(chunk)
                if size > limit:
                    raise CorpusError(f"{name}: expands to more than {limit // 2**20} MB{advice}")
                head += chunk[:HEAD_BYTES - len(head)]
                if utf8:
                    try:
                        decoder.decode(chunk)
                    except UnicodeDecodeError:
                        utf8 = False
        if utf8:
            decoder.decode(b"", final=True)
    except UnicodeDecodeError:  # ends inside a character
        utf8 = False
    except (OSError, EOFError, zlib.error) as e:
        raise CorpusError(f"{name}: {unreadable} ({e})") from e
    return ByteScan(head, size, utf8)


def text_encoding(scan: ByteScan, name: str = "file") -> tuple[str, str | None]:
    """UTF-8; else Latin-1 with a notice. Binary files (NUL bytes) are refused."""
    if b"\x00" in scan.head:
        raise CorpusError(f"{name}: looks binary (NUL bytes), expected a text file")
    if scan.utf8:
        return "utf-8-sig", None
    return "latin-1", f"{name} is not valid UTF-8; read it as Latin-1"


def _base_suffix(path: Path) -> str:
    return Path(path.stem).suffix.lower() if path.suffix == ".gz" else path.suffix.lower()


def csv_columns(lines: Iterable[str]) -> list[str]:
    return next(csv.reader(lines), [])


GUESS_ROWS = 500  # a CSV's text column is guessed from its first rows


def _read_csv(text: TextIO, name: str, text_column: str | None) -> Iterator[str]:
    rows = csv.DictReader(text)
    columns = rows.fieldnames or []
    if text_column is None and "Review Text" in columns:  # reviews: title + text
        return (". ".join(p for p in (r.get("Title") or "", r.get("Review Text") or "") if p.strip()) for r in rows)
    head = list(islice(rows, GUESS_ROWS))
    if text_column is None:  # the first column that holds mostly long strings
        text_column = _guess_text_column(head, columns)
    if text_column not in columns:
        raise CorpusError(f"{name}: no column {text_column!r}; columns are {columns}")
    return (r.get(text_column) or "" for r in chain(head, rows))


def _guess_text_column(rows: list[dict], columns: list[str]) -> str:
    def mean_words(col: str) -> float:
        values = [r.get(col) or "" for r in rows]
        return sum(len(v.split()) for v in values) / max(1, len(values))

    best = max(columns, key=mean_words, default=None)
    if best is None or mean_words(best) < 3:
        raise CorpusError("CSV has no usable text column (no column holds sentences); "
                          f"columns are {columns}")
    return best


MAX_BROKEN_JSONL_SHARE = 0.01  # up to 1% of a JSONL file's lines may be broken: skipped with a notice


def _read_jsonl(text: TextIO, name: str, text_field: str | None, notices: list[str] | None = None) -> Iterator[str]:
    """The text field of each line. A few lines that are not JSON (a line cut by an export, say) are
    skipped and named in ``notices``; more than MAX_BROKEN_JSONL_SHARE of them refuse the file."""
    documents, broken, lines = 0, [], 0
    for number, line in enumerate(text, 1):
        if not line.strip():
            continue
        lines += 1
        try:
            record = json.loads(line)
        except json.JSONDecodeError as e:
            broken.append(f"line {number} ({e.msg})")
            continue
        if not isinstance(record, str):
            if not isinstance(record, dict):
                raise CorpusError(f"{name}, line {number}: expected an object with a text field")
            key = text_field or next((k for k in ("text", "body", "content", "review") if k in record), None)
            if key is None or not isinstance(record.get(key), str):
                raise CorpusError(f"{name}, line {number}: no text field (tried {text_field or 'text, body, content, review'})")
            record = record[key]
        documents += 1
        yield record
    if broken:
        where = ", ".join(broken[:3]) + (f" and {len(broken) - 3:,} more" if len(broken) > 3 else "")
        if not documents or len(broken) > MAX_BROKEN_JSONL_SHARE * lines:
            raise CorpusError(f"{name}: {len(broken):,} of its {lines:,} lines are not JSON: {where}. "
                              "Each line must be one JSON object, such as {\"text\": \"…\"}.")
        if notices is not None:
            notices.append(f"Skipped {len(broken):,} of {lines:,} lines that are not JSON: {where}.")


# characters: a longer raw document (a novel on one line) is handed on in pieces of about this size, cut at
# a space. Normalising and cutting a piece hold a few copies of it and a list of its words: 64k keeps that small.
LONG_TEXT = 1 << 16


def _line_pieces(text: TextIO) -> Iterator[tuple[str, bool]]:
    """(piece, whether it starts a line): the lines, each longer than LONG_TEXT in pieces of that size,
    so a whole corpus on one line is never one string."""
    starts = True
    while piece := text.readline(LONG_TEXT):
        yield piece, starts
        starts = piece.endswith("\n")


def _has_blank_lines(text: TextIO) -> bool:
    """Whether a line after the first is blank: the file is in paragraphs."""
    return any(starts and piece.isspace() and piece.endswith("\n") and number
               for number, (piece, starts) in enumerate(_line_pieces(text)))


def _read_txt(text: TextIO, paragraphs: bool) -> Iterator[str]:
    """Blank-line paragraphs (``paragraphs``), else one document a line; a document longer than
    LONG_TEXT characters in pieces of about that size, cut at a space."""
    parts, length = [], 0
    for piece, starts in _line_pieces(text):
        if paragraphs and starts and piece.isspace():  # a blank line ends a paragraph
            if parts:
                yield "".join(parts)
            parts, length = [], 0
            continue
        parts.append(piece)
        length += len(piece)
        if not paragraphs and piece.endswith("\n"):
            yield "".join(parts)
            parts, length = [], 0
        elif length >= LONG_TEXT:
            document = "".join(parts)
            at = document.rfind(" ", len(document) // 2)
            at = len(document) if at == -1 else at
            yield document[:at]
            parts, length = [document[at:]], len(document) - at
    if parts:
        yield "".join(parts)


def _pieces_at_spaces(text: str, size: int = LONG_TEXT):
    """The text in pieces of at most ``size`` characters cut at spaces: normalising a 50 MB CSV cell
    in one go would hold several full copies of it at once (a few hundred MB each for wide text)."""
    start = 0
    while len(text) - start > size:
        at = text.rfind(" ", start + size // 2, start + size)
        at = start + size if at == -1 else at
        yield text[start:at]
        start = at
    yield text[start:] if start else text


def stream_documents(opener: Opener, kind: str, name: str, encoding: str, text_column: str | None = None,
                     notices: list[str] | None = None) -> Iterator[str]:
    """Normalised, non-empty documents of a file's bytes (kind ".csv", ".txt" or ".jsonl"), one at a
    time: what is in memory is the document at hand, never the file. ``text_column``: a CSV column
    or JSONL field (None: guess). CorpusError (at the first document, or for a JSONL file with too
    many broken lines, at the end) if the file cannot be read."""
    newline = "" if kind == ".csv" else None  # the csv module reads line ends inside quoted cells itself
    found = False
    try:
        paragraphs = False
        if kind == ".txt":
            with io.TextIOWrapper(opener(), encoding=encoding) as text:
                paragraphs = _has_blank_lines(text)
        with io.TextIOWrapper(opener(), encoding=encoding, newline=newline) as text:
            if kind == ".csv":
                raw = _read_csv(text, name, text_column)
            elif kind == ".jsonl":
                raw = _read_jsonl(text, name, text_column, notices)
            else:
                raw = _read_txt(text, paragraphs)
            for document in raw:
                for piece in _pieces_at_spaces(document):
                    if normalised := normalise(piece):
                        found = True
                        yield normalised
    except csv.Error as e:
        raise CorpusError(f"{name}: not a readable CSV ({e})") from e
    except UnicodeDecodeError as e:
        raise CorpusError(f"{name}: not valid {encoding} text ({e.reason})") from e
    if not found:
        raise CorpusError(f"{name}: holds no text")


def read_documents(path: str | os.PathLike, text_column: str | None = None,
                   notices: list[str] | None = None) -> list[str]:
    """Normalised, non-empty documents of a .csv / .txt / .jsonl file (each optionally .gz)."""
    path = Path(path)
    if not path.is_file():
        raise CorpusError(f"{path}: no such file (expected a .csv, .txt or .jsonl corpus, optionally .gz)")
    kind = _base_suffix(path)
    if kind not in (".csv", ".txt", ".jsonl"):
        raise CorpusError(f"{path}: unsupported type {kind or '(none)'}; expected .csv, .txt or .jsonl, optionally .gz")
    if path.suffix != ".gz" and path.stat().st_size > MAX_TEXT_BYTES:
        raise CorpusError(f"{path}: larger than {MAX_TEXT_BYTES // 2**20} MB")
    opener = file_opener(path)
    encoding, notice = text_encoding(scan_bytes(opener, str(path), MAX_TEXT_BYTES), path.name)
    if notice and notices is not None:
        notices.append(notice)
    return list(stream_documents(opener, kind, path.name, encoding, text_column, notices))


def read_wiki_sample(path: Path) -> list[str]:
    """Articles of gensim's bundled Wikipedia dump, wiki markup removed, one document a paragraph."""
    from gensim.corpora.wikicorpus import extract_pages, filter_wiki

    documents = []
    with bz2.open(path, "rb") as f:
        for _title, markup, _pageid in extract_pages(f):
            for paragraph in re.split(r"\n\s*\n", filter_wiki(markup)):
                # Keep prose; drop lists, tables and headings left over from the markup.
                lines = [ln for ln in paragraph.splitlines()
                         if len(ln.split()) >= 6 and not ln.lstrip().startswith(("*", "|", "=", "!", "{", "#", ":"))]
                text = normalise(re.sub(r"'{2,}", "", " ".join(lines)))  # '' / ''' mark italic / bold
                if len(text.split()) >= 8:
                    documents.append(text)
    return documents


# ---------------------------------------------------------------- named corpora

def wiki_sample_path() -> Path:
    import gensim

    return (Path(gensim.__file__).parent / "test" / "test_data" /
            "enwiki-latest-pages-articles1.xml-p000000010p000030302-shortened.bz2")


def fashion_corpus_path() -> Path:
    """Where the fashion CSV is expected: $ATELIER_FASHION_CORPUS, else ../shared/corpora/."""
    env = os.environ.get(FASHION_ENV)
    if env:
        return Path(env).expanduser()
    return PROJECT.parent / "shared" / "corpora" / FASHION_FILE


def corpus_path(name: str) -> Path:
    if name == FASHION:
        return fashion_corpus_path()
    if name == WIKI:
        return wiki_sample_path()
    return Path(name)


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@dataclass
class Corpus:
    """Documents of one corpus and their deterministic train / validation / test split."""

    name: str
    path: Path
    documents: list[str]
    seed: int = SPLIT_SEED
    notices: list[str] = field(default_factory=list)

    @cached_property
    def split_of_document(self) -> np.ndarray:
        """0 = train, 1 = validation, 2 = test for every document (seeded permutation)."""
        n = len(self.documents)
        order = np.random.default_rng(self.seed).permutation(n)
        n_train = int(round(n * SPLIT_FRACTIONS["train"]))
        n_val = int(round(n * SPLIT_FRACTIONS["validation"]))
        split = np.zeros(n, dtype=np.int8)
        split[order[n_train:n_train + n_val]] = 1
        split[order[n_train + n_val:]] = 2
        return split

    def split(self, which: str) -> list[str]:
        code = list(SPLIT_FRACTIONS).index(which)
        return [d for d, s in zip(self.documents, self.split_of_document, strict=True) if s == code]

    def sentences(self, which: str = "train") -> list[str]:
        return [s for d in self.split(which) for s in split_sentences(d)]

    def tokenized_sentences(self, which: str = "train") -> list[list[str]]:
        return [t for t in (tokenize(s) for s in self.sentences(which)) if t]

    @cached_property
    def sha256(self) -> str:
        return file_sha256(self.path)

    def card(self) -> dict:
        """What the model card says about the data."""
        counts = np.bincount(self.split_of_document, minlength=3).tolist()
        return {"name": self.name, "file": self.path.name, "sha256": self.sha256,
                "documents": len(self.documents),
                "split": {"seed": self.seed, "fractions": SPLIT_FRACTIONS,
                          "documents": dict(zip(SPLIT_FRACTIONS, counts, strict=True))}}


def load_corpus(name: str, text_column: str | None = None) -> Corpus:
    """A named corpus (fashion-reviews, wiki-sample) or a file path; CorpusError if unreadable."""
    path = corpus_path(name)
    if name == FASHION and not path.is_file():
        raise CorpusError(
            f"The fashion corpus is not at {path}. Expected the CSV '{FASHION_FILE}' of the CC0 "
            f"Kaggle data set \"Women's E-Commerce Clothing Reviews\"; set {FASHION_ENV} to its path.")
    notices: list[str] = []
    documents = read_wiki_sample(path) if name == WIKI else read_documents(path, text_column, notices)
    display_name = name if name in (FASHION, WIKI) else path.name.split(".")[0]
    return Corpus(display_name, path, documents, notices=notices)
