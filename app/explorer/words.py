"""Reading what people type into the explorer: one known word out of any text, or a list of words,
with notices that say what was ignored and why (empty, several words, punctuation, emoji, HTML,
10 kB of text). Unknown words come with close spellings."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from app.data.corpus import tokenize
from app.vectors.embeddings import Embeddings

MAX_QUERY_CHARS = 100  # a search box holds a word; past this we say so and read the first word
MAX_LIST_WORDS = 12  # odd-one-out reads this many words; suggestions cost a fuzzy search each

HTML_TAG = re.compile(r"</?[A-Za-z][^<>]{0,200}>")  # so "<b>sillk</b>" is read as "sillk", not as "b"

@dataclass
class Notice:
    """A message for the page: ``level`` is "info" (a hint) or "warning" (we dropped something)."""

    level: str
    text: str


@dataclass
class WordQuery:
    """The one word a search box asks about, or None with notices that say why."""

    word: str | None
    notices: list[Notice] = field(default_factory=list)
    suggestions: list[str] = field(default_factory=list)  # close spellings of an unknown word
    token: str | None = None  # the word read, known or not (another model may know it)


def read_query(text: str, emb: Embeddings) -> WordQuery:
    """One known word out of whatever was typed. Lower-cases, drops punctuation and emoji,
    keeps the first of several words, and suggests close spellings for an unknown one."""
    text = text or ""
    if not text.strip():
        return WordQuery(None, [Notice("info", "Type a word to see its nearest neighbours.")])
    notices = []
    if len(text) > MAX_QUERY_CHARS:
        notices.append(Notice("warning", f"That is {len(text):,} characters: the search box takes one word, "
                                         "so only the first word is looked up."))
        text = text[:MAX_QUERY_CHARS]
    if HTML_TAG.search(text):
        notices.append(Notice("info", "HTML tags are left out of the search (and never run)."))
        text = HTML_TAG.sub(" ", text)
    tokens = tokenize(text)
    if not tokens:
        notices.append(Notice("warning", "No word there: punctuation, emoji and symbols are not in the "
                                         "vocabulary. Type letters, e.g. “dress”."))
        return WordQuery(None, notices)
    word = tokens[0]
    if len(tokens) > 1 and len(text) <= MAX_QUERY_CHARS:
        ignored = ", ".join(tokens[1:6]) + (" …" if len(tokens) > 6 else "")
        notices.append(Notice("info", f"One word at a time: looking up “{word}” and ignoring {ignored}. "
                                      "For word arithmetic use the Analogy tab."))
    if word not in emb:
        suggestions = emb.suggest(word)
        notices.append(Notice("warning", unknown_word_message(emb, word, suggestions)))
        return WordQuery(None, notices, suggestions, token=word)
    return WordQuery(word, notices, token=word)


def unknown_word_message(emb: Embeddings, word: str, suggestions: list[str]) -> str:
    hint = f" Did you mean {', '.join(suggestions)}?" if suggestions else " No close spelling either."
    return f"“{word}” is not in the {emb.name} vocabulary ({len(emb):,} words).{hint}"


def markdown_safe(text: str) -> str:
    """Text shown literally by Streamlit's markdown: ``*``, ``$`` (LaTeX), backticks and the like escaped."""
    return re.sub(r"([\\`*_{}\[\]()#+\-.!|<>~$])", r"\\\1", text)


@dataclass
class WordList:
    """Known words read from free text, in order and unique, and the rest with the reason."""

    words: list[str]
    ignored: dict[str, str] = field(default_factory=dict)


def read_word_list(text: str, emb: Embeddings, limit: int = MAX_LIST_WORDS) -> WordList:
    """Words separated by spaces or commas. Unknown, repeated, non-word and surplus pieces are
    set aside with why (unknown ones with close spellings)."""
    words, ignored = [], {}
    suggestions_left = 3  # each is a fuzzy search over the vocabulary (~0.1 s on GloVe's 400k words)
    pieces = [p for p in re.split(r"[\s,;]+", HTML_TAG.sub(" ", text or "").strip()) if p]
    for position, piece in enumerate(pieces):
        if position >= limit:
            ignored[f"{len(pieces) - limit:,} more"] = f"only the first {limit} words are read"
            break
        tokens = tokenize(piece)
        if not tokens:
            ignored[piece[:20]] = "not a word (no letters or digits)"
        for token in tokens:
            if token in words:
                ignored[token] = "repeated"
            elif token not in emb:
                close = emb.suggest(token) if suggestions_left > 0 else []
                suggestions_left -= 1
                ignored[token] = "not in the vocabulary" + (f" (did you mean {', '.join(close)}?)" if close else "")
            else:
                words.append(token)
    return WordList(words, ignored)

