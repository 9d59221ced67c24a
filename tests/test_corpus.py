"""Readers, normalisation, tokens and the split, on files the tests write."""

import gzip
import json

import pytest

from app.data.corpus import (
    FASHION,
    FASHION_ENV,
    WIKI,
    CorpusError,
    load_corpus,
    normalise,
    read_documents,
    split_sentences,
    tokenize,
)


def test_tokens_keep_inner_apostrophes_and_hyphens():
    assert tokenize("The bun-skimming dresses; I'm 5'8\u2033!") == ["the", "bun-skimming", "dresses", "i'm", "5'8"]
    assert tokenize(normalise("It\u2019s  GREAT\n")) == ["it's", "great"]
    assert tokenize("-- ' __ !!") == []
    assert tokenize("café naïve 😀 <script>") == ["café", "naïve", "script"]


def test_normalise_nfc_and_whitespace():
    assert normalise("cafe\u0301\t\tchic\x00 ") == "caf\u00e9 chic"


def test_sentences():
    assert split_sentences("Love it! Runs small. Would buy again?") == ["Love it!", "Runs small.", "Would buy again?"]


def test_csv_reviews_join_title_and_text(tmp_path):
    path = tmp_path / "r.csv"
    path.write_text(',Title,Review Text,Rating\n0,Great top,"Soft, light  and warm.",5\n1,,Too short.,2\n2,,,1\n')
    assert read_documents(path) == ["Great top. Soft, light and warm.", "Too short."]


def test_csv_text_column_chosen_or_guessed(tmp_path):
    path = tmp_path / "p.csv"
    path.write_text("id,description\n1,a long flowing linen dress for summer\n2,wool coat with deep pockets\n")
    assert read_documents(path)[0].startswith("a long flowing")
    assert read_documents(path, text_column="id") == ["1", "2"]
    with pytest.raises(CorpusError, match="no column 'body'"):
        read_documents(path, text_column="body")


def test_csv_without_text_column(tmp_path):
    path = tmp_path / "n.csv"
    path.write_text("a,b\n1,2\n3,4\n")
    with pytest.raises(CorpusError, match="no usable text column"):
        read_documents(path)


def test_txt_lines_and_paragraphs(tmp_path):
    lines = tmp_path / "l.txt"
    lines.write_text("first doc\n\nsecond doc\nstill second\n")
    assert read_documents(lines) == ["first doc", "second doc still second"]
    per_line = tmp_path / "pl.txt"
    per_line.write_text("one\ntwo\n")
    assert read_documents(per_line) == ["one", "two"]


def test_jsonl_and_gz(tmp_path):
    path = tmp_path / "d.jsonl.gz"
    with gzip.open(path, "wt", encoding="utf-8") as f:
        f.write(json.dumps({"text": "Velvet blazer 😀"}) + "\n\n" + json.dumps({"body": "x y"}) + "\n")
    assert read_documents(path) == ["Velvet blazer 😀", "x y"]
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "ok"}\n{oops\n')
    with pytest.raises(CorpusError, match="1 of its 2 lines are not JSON: line 2"):
        read_documents(bad)


def test_empty_wrong_encoding_binary_and_missing(tmp_path):
    empty = tmp_path / "e.txt"
    empty.write_bytes(b"")
    with pytest.raises(CorpusError, match="holds no text"):
        read_documents(empty)
    latin = tmp_path / "latin.txt"
    latin.write_bytes("jolie robe d'été".encode("latin-1"))
    notices = []
    assert read_documents(latin, notices=notices) == ["jolie robe d'été"]
    assert "Latin-1" in notices[0]
    binary = tmp_path / "junk.txt"
    binary.write_bytes(bytes(range(256)) * 10)
    with pytest.raises(CorpusError, match="binary"):
        read_documents(binary)
    not_gzip = tmp_path / "fake.txt.gz"
    not_gzip.write_bytes(b"plain text, not gzip")
    with pytest.raises(CorpusError, match="cannot read"):
        read_documents(not_gzip)
    with pytest.raises(CorpusError, match="no such file"):
        read_documents(tmp_path / "nowhere.csv")
    with pytest.raises(CorpusError, match="unsupported type"):
        read_documents(empty.rename(tmp_path / "e.pdf"))


def test_missing_fashion_corpus_message(monkeypatch, tmp_path):
    monkeypatch.setenv(FASHION_ENV, str(tmp_path / "absent.csv"))
    with pytest.raises(CorpusError, match=f"absent.csv.*{FASHION_ENV}"):
        load_corpus(FASHION)


def test_wiki_sample_is_always_there_and_split_is_deterministic():
    first, second = load_corpus(WIKI), load_corpus(WIKI)
    assert len(first.documents) > 1000
    assert "'''" not in " ".join(first.documents[:50])  # wiki bold markup removed
    assert (first.split_of_document == second.split_of_document).all()
    card = first.card()
    assert sum(card["split"]["documents"].values()) == len(first.documents)
    assert set(first.split("test")).isdisjoint(first.split("train"))


def test_fashion_corpus_reads(fashion_csv, monkeypatch):
    monkeypatch.setenv(FASHION_ENV, str(fashion_csv))
    corpus = load_corpus(FASHION)
    assert len(corpus.documents) > 22_000
    assert corpus.card()["split"]["documents"]["train"] > 20_000


def test_abbreviations_and_initials_do_not_end_sentences():
    from app.data.corpus import split_sentences

    text = ("We met Mr. Darcy and Mrs. Bennet near St. Paul's with Dr. Jones. A book by George R. R. Martin, "
            "e.g. this one, sold out! I ordered a size S. It fits.")
    assert split_sentences(text) == [
        "We met Mr. Darcy and Mrs. Bennet near St. Paul's with Dr. Jones.",
        "A book by George R. R. Martin, e.g. this one, sold out!",
        "I ordered a size S.", "It fits."]


def test_a_sentence_never_ends_inside_a_word(tmp_path):
    from app.data.corpus import split_sentences

    documents = load_corpus(WIKI).documents[:300]
    for document in documents:
        for sentence in split_sentences(document):
            end = document.index(sentence) + len(sentence)
            assert end == len(document) or not document[end].isalnum(), sentence[-30:]
