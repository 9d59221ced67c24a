"""Hostile and awkward inputs, generated at test time (nothing of them is committed).

Each function returns bytes (or writes a small damaged copy of the model store): a single-line
file, a gzip bomb, UTF-16 without a byte-order mark, an Arabic corpus, a tiny Latin-1 file, a
corpus with a 115-word vocabulary, a one-word file. The texts are made of word lists with a seeded
generator: no real corpus is copied.
"""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path

import numpy as np

# Common Arabic words (function words, nouns, verbs): enough for a corpus WordSim-353 cannot score.
ARABIC_WORDS = (
    "في من على إلى عن مع هذا هذه ذلك التي الذي كان كانت يكون قال قالت بعد قبل عند كل بين حتى "
    "لكن أو ثم قد لا لم لن ما هو هي هم نحن أنا أنت البيت المدينة الكتاب المدرسة الطالب المعلم "
    "الشمس القمر البحر الجبل الطريق السوق الماء الخبز القهوة الشاي الفستان القميص الحذاء اللون "
    "الأحمر الأزرق الأبيض الأسود جميل كبير صغير جديد قديم طويل قصير سريع بطيء يذهب يأتي يكتب "
    "يقرأ يلبس يشتري يبيع يحب يريد يعرف يرى يسمع يعمل يلعب اليوم أمس غدا صباح مساء ليل نهار"
).split()

LATIN_WORDS = ("robe jupe été café crème très élégante légère coton soie noire blanche "
               "taille petite grande jolie").split()


def sentences_from(words: list[str], count: int, seed: int = 0, length: tuple[int, int] = (6, 14)) -> list[str]:
    """count sentences of random words from the list (seeded): text with a known vocabulary."""
    rng = np.random.default_rng(seed)
    return [" ".join(rng.choice(words, size=rng.integers(*length))) + "." for _ in range(count)]


def arabic_corpus(words: int = 12_000) -> bytes:
    """About ``words`` Arabic words, one sentence a line, UTF-8."""
    lines = sentences_from(ARABIC_WORDS, words // 10, seed=1, length=(8, 13))
    return "\n".join(lines).encode("utf-8")


def tiny_latin1(words: int = 22) -> bytes:
    """A few French lines in Latin-1 (not valid UTF-8), ``words`` words in all."""
    rng = np.random.default_rng(2)
    text = " ".join(rng.choice(LATIN_WORDS, size=words))
    return "\n".join(text[i:i + 40] for i in range(0, len(text), 40)).encode("latin-1")


def small_vocabulary_corpus(vocabulary: int = 115, lines: int = 400) -> bytes:
    """``lines`` lines over exactly ``vocabulary`` words, each used often: made-up ones (w0 …) and
    "professor" and "doctor", its one WordSim-353 pair and one SimLex-999 pair (a correlation needs two)."""
    words = ["professor", "doctor"] + [f"w{i}" for i in range(vocabulary - 2)]
    text = sentences_from(words, lines, seed=3, length=(12, 20))
    text[0] = " ".join(words) + "."  # every word at least once
    return "\n".join(text).encode("utf-8")


def single_line(words: list[str], repeat: int = 1) -> bytes:
    """A whole corpus on one line: sentences, no line breaks."""
    return (" ".join(words) * repeat).encode("utf-8") if repeat > 1 else " ".join(words).encode("utf-8")


def gzip_bomb(expanded_mb: int = 40) -> bytes:
    """expanded_mb of text that compresses to well under 1 MB."""
    return gzip.compress(b"a " * (expanded_mb * 2**20 // 2))


def utf16_without_bom(text: str, byte_order: str = "le") -> bytes:
    return text.encode(f"utf-16-{byte_order}")


def one_word_file() -> bytes:
    return b"dress\n"


def damaged_store_copy(source: Path, target: Path) -> Path:
    """A copy of the model store (user bundles left out) to damage in a test."""
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("user", ".staging"))
    return target


def flip_byte(path: Path, offset: int | None = None) -> None:
    """Flip one byte of a file (the middle one by default): its sha256 no longer matches."""
    data = bytearray(path.read_bytes())
    at = len(data) // 2 if offset is None else offset
    data[at] ^= 0xFF
    path.write_bytes(bytes(data))


# Common Chinese characters (function words, clothing, colours): sentences written as Chinese is, without spaces.
CHINESE_CHARACTERS = list("的一是不了人我在有他这中大来上个们到说和你地出道也时年得就那要下以生会自着去之过家学对可里后"
                          "衣服裙子裤鞋颜色红蓝白黑很好看舒适喜欢买穿大小长短新旧漂亮质量")
EMOJI = list("😀😂😍🥰😎🤔👗👠👜💄🎉🔥✨💯👍👎❤️💔🌸🌞")


def chinese_corpus(sentences: int = 1_500) -> bytes:
    """Chinese-like sentences with no spaces between words (the characters drawn at random), one a line."""
    rng = np.random.default_rng(5)
    lines = ["".join(rng.choice(CHINESE_CHARACTERS, size=rng.integers(12, 30))) + "。" for _ in range(sentences)]
    return "\n".join(lines).encode("utf-8")


def emoji_only_corpus(lines: int = 2_000) -> bytes:
    """Lines of emoji and spaces only: characters an LSTM can learn, and not one word."""
    return "\n".join(sentences_from(EMOJI, lines, seed=6, length=(4, 10))).encode("utf-8")


def jsonl_with_one_broken_line(documents: list[str], broken_at: int = 742) -> bytes:
    """One {"text": …} object a line, the line ``broken_at`` (1-based) cut short as a failed export leaves it."""
    import json

    lines = [json.dumps({"text": d}) for d in documents]
    lines[broken_at - 1] = lines[broken_at - 1][:25]
    return "\n".join(lines).encode("utf-8")
