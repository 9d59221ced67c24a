"""The word LSTM: it learns on real text (wiki-sample), writes known words only, and the committed
fashion model's perplexity is what its card says."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from app.data.corpus import FASHION, WIKI, load_corpus, tokenize
from app.game.fakes import NUCLEUS, FilterCounts, TrainingText, rejection_reason
from app.game.wordfakes import bundle_word_lstm_writer, detokenise, first_letter_upper_rate
from app.lm.char_training import TrainConfig, train
from app.lm.ngram import KneserNey
from app.lm.wordlm import (
    STREAM_SEGMENTS,
    WordLanguageModel,
    WordVocab,
    load_bundle_word_lm,
    load_word_lm,
    save_word_lm,
    split_streams,
    split_token_sentences,
    stream_nats,
    token_stream,
    word_lstm,
    word_tokens,
)
from app.storage import store
from app.vectors.embeddings import Embeddings, load_bundle_embeddings


@pytest.fixture(scope="module")
def wiki_model() -> tuple[WordLanguageModel, dict[str, np.ndarray]]:
    """A small word LSTM trained briefly on 3,000 wiki-sample sentences, over the 2,000 most
    frequent words of the committed wiki-sample skip-gram model."""
    corpus = load_corpus(WIKI)
    skipgram = load_bundle_embeddings(WIKI, "skipgram")
    embeddings = Embeddings("top words", skipgram.words[:2000], np.asarray(skipgram.vectors[:2000]))
    sentences = {split: split_token_sentences(corpus, split)[:limit]
                 for split, limit in (("train", 3000), ("validation", 500))}
    vocab = WordVocab.build(embeddings, sentences["train"])
    streams = {split: token_stream(s, vocab) for split, s in sentences.items()}
    model = word_lstm(vocab, embeddings, hidden=64, layers=1, dropout=0.0, seed=0)
    torch.set_num_threads(1)
    train(model, streams["train"], streams["validation"],
          TrainConfig(seed=0, batch_size=16, sequence_length=32, learning_rate=1e-2, max_steps=120,
                      eval_every=120, eval_batches=2, device="cpu"))
    return WordLanguageModel(model, vocab), streams


def test_tokens_are_tokenize_words_plus_punctuation():
    sentence = "Love this dress, it's bun-skimming (5'8\")!"
    tokens = word_tokens(sentence)
    assert [t for t in tokens if any(c.isalnum() for c in t)] == tokenize(sentence)
    assert tokens == ["love", "this", "dress", ",", "it's", "bun-skimming", "(", "5'8", "\")!"]


def test_the_skip_gram_vectors_start_the_embeddings():
    skipgram = load_bundle_embeddings(WIKI, "skipgram")
    vocab = WordVocab(skipgram.words[:50] + [","])
    model = word_lstm(vocab, Embeddings("top", skipgram.words[:50], skipgram.vectors[:50]), 8, 1, 0.0, seed=0)
    np.testing.assert_allclose(model.embed.weight[vocab.index["the"]].detach().numpy(),
                               np.asarray(skipgram.vectors[skipgram.index["the"]], dtype=np.float32))
    assert vocab.tokens[:2] == ["<eos>", "<unk>"] and vocab.encode(["zzzz-not-a-word"]) == [1]


def test_a_short_training_beats_the_unigram_baseline(wiki_model):
    lm, streams = wiki_model
    unigram = KneserNey.fit(streams["train"].tolist(), 1, vocabulary=range(len(lm.vocab)))
    unigram_nats = -unigram.log_probs(streams["validation"][1:].tolist(), context=[0]).mean()
    lstm_nats = stream_nats(lm.model, streams["validation"])
    assert lstm_nats < unigram_nats - 0.2, (lstm_nats, unigram_nats)
    # Read as 4 warmed-up pieces side by side, the stream's loss is the same.
    assert stream_nats(lm.model, streams["validation"], segments=4) == pytest.approx(lstm_nats, rel=1e-4)


def test_sentence_scores_match_the_stream_and_samples_use_known_words(wiki_model, tmp_path):
    lm, _ = wiki_model
    tokens = word_tokens("The city is one of the largest in the world.")
    log_probs = lm.sentence_log_probs(tokens)
    assert log_probs.shape == (len(tokens) + 1,)  # each token, then the end of the sentence
    assert -log_probs.mean() == pytest.approx(stream_nats(lm.model, token_stream([tokens], lm.vocab)), rel=1e-5)

    sentences = lm.sample(20, temperature=1.0, max_tokens=40, seed=0)
    finished = [s for s in sentences if s is not None]  # None: still going after 40 tokens
    assert len(sentences) == 20 and any(len(s) >= 5 for s in finished)
    assert all(t in lm.vocab.index and t not in ("<unk>", "<eos>") for s in finished for t in s)
    assert sentences == lm.sample(20, temperature=1.0, max_tokens=40, seed=0)  # a seed fixes them

    # read side by side, sentences of other lengths (and none at all) change no sentence's mean
    batch = [tokens, word_tokens("A city."), [], word_tokens("🙂 <b>ünïcode</b>, words!")]
    expected = [lm.sentence_log_probs(t).mean() for t in batch]
    np.testing.assert_allclose(lm.mean_log_probs(batch, batch=3), expected, rtol=1e-5)

    path = save_word_lm(tmp_path / "wordlm.safetensors", lm)
    again = load_word_lm(path)
    assert again.vocab.tokens == lm.vocab.tokens
    np.testing.assert_allclose(again.sentence_log_probs(tokens), log_probs, atol=2e-2)  # float16 weights


def test_the_committed_word_lm_has_its_recorded_perplexity(fashion_csv):
    card = store.artifact_card(FASHION, "wordlm")
    lm = load_bundle_word_lm(FASHION)
    streams = split_streams(load_corpus(FASHION), lm.vocab)
    assert len(streams["test"]) - 1 == card["metrics"]["tokens"]["test"]
    nats = stream_nats(lm.model, streams["test"], segments=STREAM_SEGMENTS)
    assert nats == pytest.approx(card["metrics"]["test_nats_per_token"], abs=2e-4)
    assert card["metrics"]["test_perplexity"] < card["metrics"]["baseline"]["test_perplexity"]  # beats the 3-gram


@pytest.mark.parametrize("text", [
    "Love this dress, it fits well.",
    'i wore it to a "fancy" party (5\'4", 120 lbs) and got compliments!!',
    "the jersey/knit fabric is soft... but thin - size 2 fits; 100% cotton.",
    "the top is $98 & worth it :) and 'so' cute?",
])
def test_detokenise_spaces_marks_as_people_write_them(text):
    assert detokenise(word_tokens(text), capitalise=text[0].isupper()) == text


def test_detokenise_restores_most_real_sentences():
    sentences = load_corpus(WIKI).sentences("validation")
    restored = [detokenise(word_tokens(s), capitalise=s[0].isupper()) == s[0] + s[1:].lower() for s in sentences]
    assert np.mean(restored) > 0.8  # the rest: odd spacing people typed, like "word ,word"


def test_the_committed_word_lm_writes_known_words_in_finished_sentences(fashion_csv):
    corpus = load_corpus(FASHION)
    counts = FilterCounts()
    training = TrainingText.of(corpus)
    texts = bundle_word_lstm_writer(corpus, FASHION, training)(NUCLEUS)(0, counts)
    assert counts.sampled == 256 and counts.unknown_word == 0  # known words by construction
    assert len(texts) > 256 * 0.25, counts  # a good share are finished quiz-length sentences
    assert all(rejection_reason(t, training) is None for t in texts)
    upper = np.mean([t[0].isupper() for t in texts])
    assert abs(upper - first_letter_upper_rate(corpus)) < 0.15  # cased like the corpus
