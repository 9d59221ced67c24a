"""Training code on a few thousand real sentences (the bundled Wikipedia sample)."""

import numpy as np
import pytest
import torch

from app.charlm import CharLSTM, CharVocab, LMConfig, TrainConfig, evaluate, train
from app.corpus import WIKI, load_corpus
from app.embeddings import train_word2vec


@pytest.fixture(scope="module")
def wiki():
    return load_corpus(WIKI)


def test_word2vec_trains_and_is_reproducible(wiki):
    sentences = wiki.tokenized_sentences("train")[:3000]
    first = train_word2vec(sentences, sg=1, vector_size=32, min_count=3, epochs=3, seed=7)
    second = train_word2vec(sentences, sg=1, vector_size=32, min_count=3, epochs=3, seed=7)
    assert len(first) > 1000 and first.dimensions == 32
    assert np.allclose(first.vectors, second.vectors)
    assert first.words[0] == "the"  # rows are frequency ordered
    assert first.most_similar("the", 3)[0][0] != "the"


def small_lm_data(wiki):
    text = "\n".join(wiki.split("train"))[:60_000]
    vocab = CharVocab.build(text)
    ids = np.array(vocab.encode(text), dtype=np.int16)
    return vocab, ids[:50_000], ids[50_000:]


def test_tiny_lm_loss_falls(wiki):
    torch.manual_seed(0)
    vocab, train_ids, val_ids = small_lm_data(wiki)
    model = CharLSTM(LMConfig(vocab_size=len(vocab), embedding_size=16, hidden_size=48, layers=1))
    config = TrainConfig(batch_size=16, sequence_length=32, max_steps=60, eval_every=30, eval_batches=2, learning_rate=1e-2)
    before = evaluate(model, val_ids, 2, 16, 32)
    history = train(model, train_ids, val_ids, config)
    assert history.val_loss[-1] < before - 0.5
    assert history.steps == [30, 60]


def test_resume_continues_from_checkpoint(wiki, tmp_path):
    vocab, train_ids, val_ids = small_lm_data(wiki)
    checkpoint = tmp_path / "lm.pt"
    config = dict(batch_size=8, sequence_length=16, eval_every=10, eval_batches=1)
    model = CharLSTM(LMConfig(vocab_size=len(vocab), embedding_size=8, hidden_size=16, layers=1))
    first = train(model, train_ids, val_ids, TrainConfig(max_steps=10, **config), checkpoint=checkpoint)
    assert checkpoint.exists() and first.steps == [10]
    resumed = CharLSTM(LMConfig(vocab_size=len(vocab), embedding_size=8, hidden_size=16, layers=1))
    history = train(resumed, train_ids, val_ids, TrainConfig(max_steps=20, **config), checkpoint=checkpoint)
    assert history.steps == [10, 20]  # kept the first run's record, then went on from step 10
    assert history.val_loss[0] == first.val_loss[0]
    saved = torch.load(checkpoint, weights_only=True)
    assert saved["step"] == 20
