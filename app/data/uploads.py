"""Uploaded corpora: untrusted bytes from a browser made into a ``Corpus``, or a clear refusal.

``read_upload(name, data)`` checks, in order: an empty file, the size cap (``ATELIER_UPLOAD_MAX_MB``,
default 50 MB), the file type, gzip (capping the EXPANDED size as it decompresses: a 50 kB gzip
bomb never becomes gigabytes in memory), binary content, the encoding (UTF-8, else Latin-1 with
a notice), and a CSV's text column. Giant documents (a whole novel on one line) are cut into
pieces so the train / validation / test split has something to split. The bytes are read as a
stream (``app/data/corpus.py``), a megabyte and a document at a time.

``preview_upload`` is the page's preview (documents, sentences, words, vocabulary, samples),
counted as the documents stream by without keeping them; ``corpus_stats`` the same of a corpus
in memory. ``training_problems`` says what stops a corpus from training, with the minimum it
needs. Nothing here writes to disk: the upload stays in memory.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import hashlib
import io
import math
import os
import random
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from app.data.corpus import (
    Corpus,
    CorpusError,
    Opener,
    csv_columns,
    scan_bytes,
    split_sentences,
    stream_documents,
    text_encoding,
    tokenize,
)

UPLOAD_MAX_MB_ENV = "ATELIER_UPLOAD_MAX_MB"
DEFAULT_UPLOAD_MAX_MB = 50
EXPANSION_LIMIT = 4  # a .gz may expand to 4x the upload cap (text compresses about 3x), no more
KINDS = (".csv", ".txt", ".jsonl")
MAX_COLUMNS = 100  # a menu longer than this is no use; the text column is among the first
MAX_DOCUMENT_CHARS = 5_000  # longer documents are cut into pieces of about this size

# What a corpus needs before training is worth starting.
MIN_WORDS = 5_000
MIN_DOCUMENTS = 20  # so the validation and test splits each get a few documents
MIN_VOCABULARY = 50  # words seen at least min_count times
MIN_LM_CHARACTERS = 20_000


def upload_limit_mb() -> int:
    """The upload cap in MB: $ATELIER_UPLOAD_MAX_MB if it is a positive integer, else 50."""
    try:
        value = int(os.environ.get(UPLOAD_MAX_MB_ENV, DEFAULT_UPLOAD_MAX_MB))
    except ValueError:
        return DEFAULT_UPLOAD_MAX_MB
    return value if value > 0 else DEFAULT_UPLOAD_MAX_MB


@dataclass
class UploadedCorpus(Corpus):
    """A corpus whose bytes came from a browser: no file on disk, so its sha256 is of the bytes.
    ``stored_at``: where a copy of its documents is kept beside the models trained on it."""

    content_sha256: str = ""
    stored_at: Path | None = None

    @property
    def sha256(self) -> str:
        return self.content_sha256

    def card(self) -> dict:
        """The corpus card; with ``kept`` (the file name of the copy kept in the bundle, see
        app/catalog/user_bundles.py) when there is one. No absolute path: the store can move."""
        card = super().card()
        if self.stored_at is not None:
            card["kept"] = self.stored_at.name
        return card


def upload_kind(name: str) -> tuple[str, bool]:
    """(".csv" | ".txt" | ".jsonl", gzipped?) from the file name; CorpusError for anything else."""
    path = Path(name.lower())
    gzipped = path.suffix == ".gz"
    kind = Path(path.stem).suffix if gzipped else path.suffix
    if kind not in KINDS:
        raise CorpusError(f"{display_name(name)}: unsupported type {kind or '(none)'}; "
                          "upload a .txt, .csv or .jsonl file, optionally gzipped (.gz)")
    return kind, gzipped


def display_name(name: str) -> str:
    """The file's own name (no folders a browser might send), at most 80 characters."""
    base = re.split(r"[\\/]", name)[-1] or "upload"
    return base if len(base) <= 80 else base[:77] + "…"


def upload_opener(name: str, data: bytes) -> Opener:
    """A fresh stream of the upload's bytes for each pass over them, gunzipped as it is read."""
    if upload_kind(name)[1]:
        return lambda: gzip.GzipFile(fileobj=io.BytesIO(data))
    return lambda: io.BytesIO(data)


def upload_encoding(name: str, data: bytes, limit_mb: int | None = None) -> tuple[str, str | None]:
    """The encoding to read an upload with and a notice about it (or None), once its size, type and
    bytes are checked (one pass, a megabyte at a time: a gzip bomb stops at the expanded cap having
    held a megabyte of it); CorpusError if it is refused."""
    shown = display_name(name)
    limit = (limit_mb or upload_limit_mb()) * 2**20
    if not data:
        raise CorpusError(f"{shown} is empty (0 bytes)")
    if len(data) > limit:
        over = math.ceil(len(data) / 2**20 * 10) / 10  # rounded up: 50 MB and a byte is "50.1 MB"
        raise CorpusError(f"{shown} is {over:.1f} MB, more than the {limit // 2**20} MB limit: "
                          "upload part of it, or gzip it (.gz) first")
    _kind, gzipped = upload_kind(name)
    scan = scan_bytes(upload_opener(name, data), shown, EXPANSION_LIMIT * limit if gzipped else limit,
                      unreadable="not a readable gzip file", advice="; upload a smaller corpus")
    if not scan.size:
        raise CorpusError(f"{shown} is empty once decompressed")
    if scan.head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):  # Windows "Unicode" text: NUL bytes, not binary
        return "utf-16", f"{shown} is UTF-16 text; read it as such"
    byte_order = utf16_without_bom(scan.head)
    if byte_order:
        raise CorpusError(
            f"{shown} is UTF-16 text ({byte_order}, without a byte-order mark), not UTF-8. Save it as UTF-8 "
            f"(your editor's \"Save as… → UTF-8\", or `iconv -f {byte_order} -t UTF-8 {shown} > utf8-{shown}`) "
            "and upload that.")
    return text_encoding(scan, shown)


def utf16_without_bom(data: bytes, sample: int = 65536) -> str | None:
    """"UTF-16LE" or "UTF-16BE" if the bytes read as UTF-16 text with no byte-order mark, else None.
    Such text is full of NUL bytes (the high byte of every ASCII character, or of a space
    between Arabic or Cyrillic words), all on one side: odd offsets for little-endian."""
    head = data[:sample - sample % 2]
    if b"\x00" not in head or len(head) < 4:
        return None
    even, odd = head[0::2].count(0), head[1::2].count(0)
    for order, nuls, others in (("UTF-16LE", odd, even), ("UTF-16BE", even, odd)):
        if nuls >= 0.9 * (nuls + others):
            try:
                text = head.decode(order.lower().replace("utf-", "utf_"))
            except UnicodeDecodeError:
                continue
            printable = sum(c.isprintable() or c in "\t\r\n" for c in text)
            if printable >= 0.95 * len(text):
                return order
    return None


def upload_columns(name: str, data: bytes, limit_mb: int | None = None) -> list[str]:
    """A CSV upload's column names (for the text-column menu); [] for other kinds."""
    if upload_kind(name)[0] != ".csv":
        return []
    encoding, _notice = upload_encoding(name, data, limit_mb)
    try:
        with io.TextIOWrapper(upload_opener(name, data)(), encoding=encoding, newline="") as text:
            columns = csv_columns(text)
    except (csv.Error, UnicodeDecodeError):
        return []  # reading the whole file says what is wrong with it
    return [c for c in columns if c.strip()][:MAX_COLUMNS]


def cut_long_document(document: str, max_chars: int = MAX_DOCUMENT_CHARS) -> list[str]:
    """A document longer than max_chars cut into pieces at sentence ends; a sentence longer than
    that at the last space before max_chars (else the first after it: never inside a word).
    Linear in the document's length: a 50 MB single line is read once, never re-sliced."""
    if len(document) <= max_chars:
        return [document]
    result: list[str] = []
    piece: list[str] = []  # sentences of the piece being filled, and its length
    length = 0
    for sentence in split_sentences(document):
        for part in _word_bounded_parts(sentence, max_chars):
            if piece and length + 1 + len(part) > max_chars:
                result.append(" ".join(piece))
                piece, length = [], 0
            piece.append(part)
            length += len(part) + (1 if length else 0)
    if piece:
        result.append(" ".join(piece))
    return [d for d in result if d]


def cut_long_documents(documents: list[str], max_chars: int = MAX_DOCUMENT_CHARS) -> tuple[list[str], int]:
    """Every document cut as ``cut_long_document`` does; and how many were cut."""
    return [p for d in documents for p in cut_long_document(d, max_chars)], sum(len(d) > max_chars for d in documents)


def _word_bounded_parts(sentence: str, max_chars: int) -> list[str]:
    """The sentence cut into parts of at most max_chars at spaces (a word longer than max_chars,
    a URL or a base64 blob, say, stays whole up to twice that, then is cut)."""
    if len(sentence) <= max_chars:
        return [sentence]
    parts, start, n = [], 0, len(sentence)
    while n - start > max_chars:
        at = sentence.rfind(" ", start + 1, start + max_chars + 1)
        if at == -1:
            at = sentence.find(" ", start + max_chars, start + 2 * max_chars)
        if at == -1:
            at = start + 2 * max_chars
        parts.append(sentence[start:at].strip())
        start = at
    parts.append(sentence[start:].strip())
    return [p for p in parts if p]


def upload_documents(name: str, data: bytes, text_column: str | None = None, limit_mb: int | None = None,
                     notices: list[str] | None = None) -> Iterator[str]:
    """An upload's documents one at a time, very long ones cut; what it says about the file goes
    into ``notices`` as it is read. CorpusError with the reason if the file is refused."""
    shown, notices = display_name(name), [] if notices is None else notices
    kind, _gzipped = upload_kind(name)
    encoding, notice = upload_encoding(name, data, limit_mb)
    if notice:
        notices.append(notice)
    cut = 0
    for document in stream_documents(upload_opener(name, data), kind, shown, encoding, text_column, notices):
        cut += len(document) > MAX_DOCUMENT_CHARS
        yield from cut_long_document(document)
    if cut:
        notices.append(f"{cut:,} very long document{'s were' if cut > 1 else ' was'} cut into pieces of "
                       f"at most {MAX_DOCUMENT_CHARS:,} characters (one giant line trains nothing useful).")


def read_upload(name: str, data: bytes, text_column: str | None = None,
                limit_mb: int | None = None) -> UploadedCorpus:
    """An uploaded .txt / .csv / .jsonl (optionally .gz) as a Corpus; CorpusError with the reason
    if it is refused. ``text_column`` picks a CSV column or JSONL field (None: guess)."""
    notices: list[str] = []
    documents = list(upload_documents(name, data, text_column, limit_mb, notices))
    corpus_name = display_name(name).split(".")[0] or "upload"
    return UploadedCorpus(corpus_name, Path(display_name(name)), documents, notices=notices,
                          content_sha256=content_sha256(data))


def content_sha256(data: bytes) -> str:
    """An upload's identity (no file on disk): the sha256 of its bytes as uploaded."""
    return hashlib.sha256(data).hexdigest()


def preview_upload(name: str, data: bytes, text_column: str | None = None,
                   limit_mb: int | None = None) -> tuple[CorpusStats, list[str]]:
    """The preview of an upload (its counts and a few sample sentences) and its notices, read as a
    stream: it holds the counts, never the text (issue 26: under 2x the text's size;
    bench/upload_preview.py measures it). CorpusError with the reason if the file is refused."""
    notices: list[str] = []
    stats = documents_stats(upload_documents(name, data, text_column, limit_mb, notices))
    return stats, notices


# ---------------------------------------------------------------- preview and minimums

@dataclass
class CorpusStats:
    documents: int
    sentences: int
    words: int
    vocabulary: int  # distinct words
    characters: int
    word_counts: Counter = field(repr=False)
    samples: list[str] = field(default_factory=list)

    def vocabulary_at(self, min_count: int) -> int:
        """Distinct words seen at least min_count times: what word2vec will keep."""
        return sum(1 for n in self.word_counts.values() if n >= min_count)


def documents_stats(documents: Iterable[str], samples: int = 5, sample_chars: int = 300, seed: int = 0) -> CorpusStats:
    """Counts over the documents, read once and one at a time, and the first sentences of a few of
    them picked at random (reservoir sampling: each document as likely as any other; long ones
    shortened for display)."""
    counts: Counter = Counter()
    documents_seen = sentences = characters = 0
    picked: list[tuple[int, str]] = []  # (document number, its first sentence)
    rng = random.Random(seed)
    for document in documents:
        in_document = split_sentences(document)
        sentences += len(in_document)
        characters += len(document)
        counts.update(tokenize(document))  # the same words as sentence by sentence: none spans a sentence end
        if len(picked) < samples:
            picked.append((documents_seen, (in_document or [document])[0]))
        elif (slot := rng.randrange(documents_seen + 1)) < samples:
            picked[slot] = (documents_seen, (in_document or [document])[0])
        documents_seen += 1
    shown = [first if len(first) <= sample_chars else first[:sample_chars - 1] + "…" for _n, first in sorted(picked)]
    return CorpusStats(documents=documents_seen, sentences=sentences, words=sum(counts.values()),
                       vocabulary=len(counts), characters=characters, word_counts=counts, samples=shown)


def corpus_stats(corpus: Corpus, samples: int = 5, sample_chars: int = 300, seed: int = 0) -> CorpusStats:
    """A corpus's preview: ``documents_stats`` of its documents."""
    return documents_stats(corpus.documents, samples, sample_chars, seed)


# Scripts written without spaces between words: Han (Chinese, Japanese kanji), kana, Thai, Lao,
# Khmer, Myanmar. Tokens of them are whole clauses, not words.
UNSPACED_SCRIPT = re.compile(r"[\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff\u3040-\u30ff\u3400-\u4dbf"
                             r"\u4e00-\u9fff\uf900-\ufaff]")
UNSEGMENTED_SHARE = 0.3  # of the words: more than this, and the corpus is taken as unsegmented


def unsegmented_share(stats: CorpusStats) -> float:
    """The share of the corpus's words written in a script without spaces (see UNSPACED_SCRIPT)."""
    unspaced = sum(n for word, n in stats.word_counts.items() if UNSPACED_SCRIPT.search(word))
    return unspaced / stats.words if stats.words else 0.0


UNSEGMENTED = ("This text is mostly written without spaces between words (Chinese, Japanese, Thai…), so what "
               "word2vec would take for words are whole clauses ({examples}). Split the words with spaces "
               "first (for Chinese, a segmenter such as jieba: `python -m jieba -d \" \" in.txt > out.txt`) and "
               "upload that; the character LSTM can still train on the text as it is.")


def training_problems(stats: CorpusStats, min_count: int) -> list[str]:
    """Why word2vec cannot train on this corpus (empty if it can), each with the minimum."""
    if unsegmented_share(stats) > UNSEGMENTED_SHARE:  # the counts below would blame its size, not its script
        examples = ", ".join(f"“{w[:12]}{'…' if len(w) > 12 else ''}”" for w, _n in stats.word_counts.most_common(2))
        return [UNSEGMENTED.format(examples=examples)]
    problems = []
    if stats.words < MIN_WORDS:
        problems.append(f"The corpus has {stats.words:,} words; training needs at least {MIN_WORDS:,}.")
    if stats.documents < MIN_DOCUMENTS:
        problems.append(f"The corpus has {stats.documents:,} documents; training needs at least "
                        f"{MIN_DOCUMENTS} (lines or paragraphs) to hold some back for validation.")
    kept = stats.vocabulary_at(min_count)
    if kept < MIN_VOCABULARY:
        problems.append(f"Only {kept:,} words occur at least {min_count} times; word2vec needs at least "
                        f"{MIN_VOCABULARY}. Lower the minimum count or add text.")
    return problems


def corpus_problems(stats: CorpusStats, stages, min_count: int) -> list[str]:
    """What stops these training stages ("embeddings", "lm", …) on this corpus: the one check
    the page and ``python -m app.training`` share."""
    problems = training_problems(stats, min_count) if "embeddings" in stages else []
    if "lm" in stages:
        problems += [p for p in lm_problems(stats) if p not in problems]
    return problems


def lm_problems(stats: CorpusStats) -> list[str]:
    """Why the character LSTM cannot train on this corpus (empty if it can)."""
    problems = []
    if stats.characters < MIN_LM_CHARACTERS:
        problems.append(f"The corpus has {stats.characters:,} characters; the character LSTM needs at "
                        f"least {MIN_LM_CHARACTERS:,}.")
    if stats.documents < MIN_DOCUMENTS:
        problems.append(f"The corpus has {stats.documents:,} documents; the LSTM needs at least {MIN_DOCUMENTS}.")
    return problems


QUIZ_SAMPLE_CHARACTERS = 500_000  # read this much of a corpus to judge it for the quiz: enough, and quick


def quiz_problem(corpus: Corpus) -> str | None:
    """Why Fake or real? cannot play a model of this corpus (None if it can): its real sentences and the
    LSTM's fakes are told apart word by word, so the text needs words split by spaces. Emoji alone, or
    Chinese written without spaces, have none. Judged on the corpus's first QUIZ_SAMPLE_CHARACTERS."""
    counts: Counter = Counter()
    read = 0
    for document in corpus.documents:
        counts.update(tokenize(document))
        read += len(document)
        if read >= QUIZ_SAMPLE_CHARACTERS:
            break
    words = sum(counts.values())
    if not words:
        return "its text has no words (emoji or symbols only)"
    unspaced = sum(n for word, n in counts.items() if UNSPACED_SCRIPT.search(word))
    if unspaced / words > UNSEGMENTED_SHARE:
        return "its text is written without spaces between words (Chinese, Japanese, Thai…)"
    return None
