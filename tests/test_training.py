"""Training code on a few thousand real sentences (the bundled Wikipedia sample)."""

import numpy as np
import pytest
import torch

from app.data.corpus import WIKI, load_corpus
from app.lm.char_lstm import CharLSTM, CharVocab, LMConfig
from app.lm.char_training import TrainConfig, evaluate, train
from app.vectors.word2vec import train_word2vec


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


def test_a_deadline_ends_training_and_evaluation_is_bounded(wiki):
    import time

    vocab, train_ids, val_ids = small_lm_data(wiki)
    model = CharLSTM(LMConfig(vocab_size=len(vocab), embedding_size=8, hidden_size=16, layers=1))
    config = TrainConfig(batch_size=8, sequence_length=16, max_steps=10**6, eval_every=10**6, eval_batches=1)
    history = train(model, train_ids, val_ids, config, deadline=time.monotonic() + 1.0)
    assert 0 < history.steps[-1] < 10**6  # the deadline, not max_steps, ended it, and the end was validated
    # an evaluation whose deadline has passed still measures one batch, then stops
    assert np.isfinite(evaluate(model, val_ids, 50, 8, 16, deadline=time.monotonic() - 1))


def test_ctrl_c_saves_a_checkpoint_first(wiki, tmp_path):
    vocab, train_ids, val_ids = small_lm_data(wiki)
    checkpoint = tmp_path / "lm.pt"
    model = CharLSTM(LMConfig(vocab_size=len(vocab), embedding_size=8, hidden_size=16, layers=1))
    config = TrainConfig(batch_size=8, sequence_length=16, max_steps=1000, eval_every=200, eval_batches=1)
    calls = []

    def ctrl_c_at_step_7() -> bool:
        calls.append(1)
        if len(calls) == 7:
            raise KeyboardInterrupt
        return False

    with pytest.raises(KeyboardInterrupt):
        train(model, train_ids, val_ids, config, checkpoint=checkpoint, should_stop=ctrl_c_at_step_7)
    assert torch.load(checkpoint, weights_only=True)["step"] == 7  # long before the first validation


def test_a_checkpoint_comes_every_checkpoint_seconds(wiki, tmp_path):
    vocab, train_ids, val_ids = small_lm_data(wiki)
    checkpoint = tmp_path / "lm.pt"
    model = CharLSTM(LMConfig(vocab_size=len(vocab), embedding_size=8, hidden_size=16, layers=1))
    saved_steps = []

    def watch() -> bool:
        if checkpoint.exists():
            saved_steps.append(torch.load(checkpoint, weights_only=True)["step"])
        return False

    config = TrainConfig(batch_size=8, sequence_length=16, max_steps=40, eval_every=1000, eval_batches=1,
                         checkpoint_seconds=0.0)
    train(model, train_ids, val_ids, config, checkpoint=checkpoint, should_stop=watch)
    assert saved_steps[:3] == [1, 2, 3]  # with no validation in sight, a save after every step


# ---------------------------------------------------------------- the command line

def run_cli(tmp_path, *args, wait=True):
    import os
    import subprocess
    import sys

    from tests.conftest import ROOT

    env = {**os.environ, "ATELIER_MODEL_STORE": str(tmp_path / "store"),
           "ATELIER_CHECKPOINTS": str(tmp_path / "checkpoints"), "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "app.training", *args]
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if not wait:
        return process
    out, err = process.communicate(timeout=300)
    return process.returncode, out, err


def test_cli_refuses_a_one_word_file_with_the_pages_message(tmp_path):
    from tests.hostile_files import one_word_file

    (tmp_path / "one.txt").write_bytes(one_word_file())
    code, _out, err = run_cli(tmp_path, "--corpus", str(tmp_path / "one.txt"))
    assert code == 2
    assert len(err.strip().splitlines()) == 1 and err.startswith("error: ")
    assert "The corpus has 1 words; training needs at least 5,000." in err  # uploads.training_problems' words
    assert not (tmp_path / "store" / "user" / "one").exists()


def test_cli_checkpoints_survive_kill_9_and_sigterm_and_the_budget_holds(tmp_path, wiki, monkeypatch):
    import json
    import signal
    import time

    (tmp_path / "novel.txt").write_text("\n".join(wiki.documents[:400]), encoding="utf-8")
    args = ["--corpus", str(tmp_path / "novel.txt"), "--only", "lm", "--lm-hidden", "16", "--checkpoint-seconds", "0.5"]
    folder = tmp_path / "checkpoints" / "user" / "novel"

    def checkpoint_step() -> int:
        found = sorted(folder.glob("lm-16x1-*.pt"))
        try:
            return torch.load(found[0], weights_only=True)["step"] if found else 0
        except (EOFError, RuntimeError):  # caught mid-rename: read it next time
            return 0

    def run_until_checkpoint_passes(step: int):
        process = run_cli(tmp_path, *args, "--minutes", "5", wait=False)
        deadline = time.monotonic() + 240
        while checkpoint_step() <= step and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.2)
        return process

    killed = run_until_checkpoint_passes(0)
    killed.send_signal(signal.SIGKILL)
    killed.communicate()
    saved = checkpoint_step()
    assert saved > 0 and not (tmp_path / "store" / "user" / "novel").exists()  # nothing half-written

    stopped = run_until_checkpoint_passes(saved)
    stopped.send_signal(signal.SIGTERM)
    _out, err = stopped.communicate(timeout=120)
    assert stopped.returncode == 130 and "checkpoint is saved" in err
    resumed_from = checkpoint_step()
    assert resumed_from > saved

    code, _out, err = run_cli(tmp_path, *args, "--minutes", "0.5")
    assert code == 0, err
    card = json.loads((tmp_path / "store" / "user" / "novel" / "manifest.json").read_text())["artifacts"]["lm"]
    curves = card["metrics"]["curves"]
    assert card["metrics"]["steps"] > resumed_from  # went on from the checkpoint SIGTERM left
    assert curves["steps"] == sorted(set(curves["steps"]))  # one history across the three runs
    assert card["metrics"]["eval"]["seconds"] <= 0.5 * 60  # the final evaluation stayed inside the budget
    assert "corpus" in json.loads((tmp_path / "store" / "user" / "novel" / "manifest.json").read_text())["artifacts"]
    # a command-line bundle is the room's: the quiz finds its LM and the corpus kept beside it
    from app.catalog import models
    from app.game import quiz
    from app.storage import store

    monkeypatch.setattr(store, "STORE", tmp_path / "store")
    assert "user/novel" in quiz.playable_bundles(models.language_model_bundles())[0]


def test_minutes_leave_out_the_decks_and_say_how_to_write_them(monkeypatch, capsys):
    """--minutes N bounds the whole run; the decks stage (hours of writing and grading fakes on a
    CPU) is left out with the command that writes them."""
    from app.training import cli

    def must_not_run(*args, **kwargs):
        raise AssertionError("decks were prepared under --minutes")

    monkeypatch.setattr(cli, "prepare_decks", must_not_run)
    assert cli.main(["--corpus", "wiki-sample", "--only", "decks", "--minutes", "1"]) == 0
    assert "--only decks" in capsys.readouterr().err


def test_minutes_cut_the_word_vectors_short_and_their_card_says_so(tmp_path, wiki, monkeypatch, capsys):
    """--minutes bounds a file's word-vector stage: word2vec stops when its share of the budget is
    spent, keeps what it learnt, and its card and output say after how many of the planned epochs."""
    import json

    from app.catalog import cards
    from app.storage import store
    from app.training import cli

    monkeypatch.setenv("ATELIER_MODEL_STORE", str(tmp_path / "store"))
    monkeypatch.setattr(store, "STORE", tmp_path / "store")
    monkeypatch.setattr(store, "CHECKPOINTS", tmp_path / "checkpoints")
    (tmp_path / "novel.txt").write_text("\n".join(wiki.documents[:400]), encoding="utf-8")
    # 200 epochs of this corpus are millions of words, far more than a second's budget holds
    assert cli.main(["--corpus", str(tmp_path / "novel.txt"), "--only", "embeddings", "--epochs", "200",
                     "--minutes", "0.02"]) == 0
    artifacts = json.loads((tmp_path / "store" / "user" / "novel" / "manifest.json").read_text())["artifacts"]
    output = capsys.readouterr().out
    for name in ("skipgram", "cbow"):
        budget = artifacts[name]["metrics"]["time_budget"]
        assert budget["epochs_planned"] == 200 and budget["epochs_trained"] < 200
        assert budget["words_trained"] < budget["words_planned"]
        assert np.load(tmp_path / "store" / "user" / "novel" / f"{name}.npz")["vectors"].shape[0] > 100  # saved, usable
        assert f"{name}: " in output and "the time budget cut it after" in output
    rows = [r for r in cards.card_rows() if r["bundle"] == "user/novel" and r["model"] in ("skipgram", "cbow")]
    assert len(rows) == 2 and all("cut by the time budget after" in r["what"] for r in rows)
