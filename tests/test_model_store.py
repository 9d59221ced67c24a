"""The committed models: checksums, formats, quality bars, and metrics recomputed."""

import json
import shutil

import numpy as np
import pytest
import torch

from app.catalog import models
from app.data.corpus import FASHION, FASHION_ENV, WIKI, load_corpus
from app.lm.char_lstm import DOCUMENT_BREAK, CharLSTM, LMConfig
from app.lm.char_training import evaluate
from app.lm.gate_trace import trace_gates
from app.serving.site import PAGES
from app.storage import store
from app.vectors.embeddings import load_glove

BUNDLES = ["fashion-reviews", "wiki-sample", "glove"]


@pytest.mark.parametrize("bundle", BUNDLES)
def test_every_artifact_matches_its_checksum(bundle):
    manifest = store.read_manifest(bundle)
    assert manifest["artifacts"]
    for name in manifest["artifacts"]:
        assert store.verified_path(bundle, name).is_file()


def test_store_is_small_and_pickle_free():
    files = [p for p in store.STORE.rglob("*") if p.is_file() and "user" not in p.parts]
    assert sum(p.stat().st_size for p in files) < 60 * 2**20
    assert {p.suffix for p in files} <= {".json", ".npz", ".safetensors"}
    for path in store.STORE.rglob("*.npz"):
        store.load_arrays(path)  # allow_pickle=False: raises on any object array


def test_corrupt_or_missing_file_is_refused(tmp_path, monkeypatch):
    copy = tmp_path / "store"
    shutil.copytree(store.STORE / "wiki-sample", copy / "wiki-sample")
    monkeypatch.setattr(store, "STORE", copy)
    path = copy / "wiki-sample" / "skipgram.npz"
    path.write_bytes(path.read_bytes()[:-10] + b"0123456789")
    with pytest.raises(store.StoreError, match="damaged"):
        store.verified_path("wiki-sample", "skipgram")
    (copy / "wiki-sample" / "cbow.npz").unlink()
    with pytest.raises(store.StoreError, match="missing"):
        models.load_embeddings("wiki-sample/cbow")
    with pytest.raises(store.StoreError, match="no artifact"):
        store.verified_path("wiki-sample", "nothing")


@pytest.fixture
def damaged_store(tmp_path, monkeypatch):
    """A copy of the store with four kinds of damage: a flipped byte in skip-gram vectors and in an
    LM, deleted projections, an invalid manifest. The app is pointed at it (ATELIER_MODEL_STORE)."""
    from tests.hostile_files import damaged_store_copy, flip_byte

    copy = damaged_store_copy(store.STORE, tmp_path / "model_store")
    flip_byte(copy / "wiki-sample" / "skipgram.npz")
    (copy / "wiki-sample" / "cbow-projections.npz").unlink()
    flip_byte(copy / "wiki-sample" / "lm.safetensors")
    (copy / "fashion-reviews" / "manifest.json").write_text('{"bundle": "fashion-reviews", "artifacts": ', "utf-8")
    monkeypatch.setenv("ATELIER_MODEL_STORE", str(copy))
    monkeypatch.setattr(store, "STORE", copy)
    return copy


DAMAGED = ["model_store/wiki-sample/skipgram.npz", "model_store/wiki-sample/cbow-projections.npz",
           "model_store/wiki-sample/lm.safetensors", "model_store/fashion-reviews/manifest.json"]


def test_a_damaged_store_is_named_and_the_rest_is_served(damaged_store):
    problems = store.problems()
    for file in DAMAGED:
        assert any(file in p and f"git checkout {file}" in p for p in problems), file
    keys = [m.key for m in models.embedding_models()]
    assert "wiki-sample/skipgram" not in keys and "wiki-sample/cbow" in keys and "glove" in keys
    assert not any(k.startswith("fashion-reviews/") for k in keys)
    assert models.load_projections("wiki-sample/cbow") is None  # its layout is gone, its vectors still serve
    assert "wiki-sample" not in models.language_model_bundles()


@pytest.mark.parametrize("page", ["pages/home.py", *[p.file for p in PAGES]])
def test_every_page_runs_on_a_damaged_store_and_names_the_files(damaged_store, page):
    from streamlit.testing.v1 import AppTest

    from tests.conftest import ROOT

    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=120).run()
    # The entry script names the damaged files above every page; AppTest shows the entry's own
    # elements on its first run only, so they are checked there.
    shown = " ".join(w.value for w in at.warning)
    for file in DAMAGED:
        assert file in shown and f"git checkout {file}" in shown, file
    if page != "pages/home.py":
        at.switch_page(page).run()
    assert not at.exception, at.exception  # the page itself runs on what is sound


def recomputed_validation_loss(bundle, corpus):
    card = store.artifact_card(bundle, "lm")
    lm = models.load_language_model(bundle)
    ids = np.array(lm.vocab.encode(DOCUMENT_BREAK.join(corpus.split("validation"))), dtype=np.int16)
    ev = card["metrics"]["eval"]
    batch = card["params"]["training"]["batch_size"]
    return evaluate(lm.model, ids, ev["windows"] // batch, batch, ev["length"]), card["metrics"]


def test_wiki_lm_validation_loss_matches_manifest():
    loss, metrics = recomputed_validation_loss(WIKI, load_corpus(WIKI))
    assert loss == pytest.approx(metrics["validation_nats_per_char"], abs=2e-3)


def test_fashion_lm_meets_the_bar_and_matches_manifest(fashion_csv, monkeypatch):
    monkeypatch.setenv(FASHION_ENV, str(fashion_csv))
    loss, metrics = recomputed_validation_loss(FASHION, load_corpus(FASHION))
    assert loss == pytest.approx(metrics["validation_nats_per_char"], abs=2e-3)
    assert metrics["validation_nats_per_char"] <= 1.20
    curves = metrics["curves"]
    assert len(curves["val_loss"]) == len(curves["train_loss"]) == len(curves["steps"]) > 5
    assert curves["val_loss"][-1] < curves["val_loss"][0]


def test_lm_scores_and_samples():
    lm = models.load_language_model(FASHION)
    good = lm.score("This dress is true to size and the fabric is soft.")
    noise = lm.score("qzx vbnm kjhg wxqz pfft zzkq.")
    assert good.nats_per_char < 1.5 < noise.nats_per_char
    assert len(good.ranks) == len("This dress is true to size and the fabric is soft.") and good.ranks.min() >= 1
    text = "".join(lm.generate("I love this", length=80, temperature=0.8, top_k=10, seed=3))
    assert len(text) == 80 and "\ufffd" not in text
    assert text == "".join(lm.generate("I love this", length=80, temperature=0.8, top_k=10, seed=3))
    weird = lm.score("<script>😀 ∑</script>")  # unknown characters map to the unknown id
    assert np.isfinite(weird.log_probs).all()


@pytest.mark.parametrize("layers", [1, 2])
def test_gate_tracer_equals_nn_lstm(layers):
    torch.manual_seed(layers)
    model = CharLSTM(LMConfig(vocab_size=30, embedding_size=12, hidden_size=20, layers=layers)).eval()
    ids = torch.randint(0, 30, (57,)).tolist()
    trace = trace_gates(model, ids)
    with torch.no_grad():
        out, (h_n, c_n) = model.lstm(model.embed(torch.tensor([ids])))
    assert np.allclose(trace[-1]["hidden"], out[0].numpy(), atol=1e-5)
    for layer in range(layers):
        assert np.allclose(trace[layer]["cell"][-1], c_n[layer, 0].numpy(), atol=1e-5)
        assert np.allclose(trace[layer]["hidden"][-1], h_n[layer, 0].numpy(), atol=1e-5)


def test_gate_tracer_on_committed_model_obeys_the_equations():
    lm = models.load_language_model(FASHION)
    layers = trace_gates(lm.model, lm.vocab.encode("Runs small, order up!"))
    assert len(layers) == lm.model.config.layers
    for g in layers:
        for gate in ("input", "forget", "output"):
            assert ((g[gate] >= 0) & (g[gate] <= 1)).all()  # σ saturates to exactly 1.0 in float32
        previous = np.vstack([np.zeros_like(g["cell"][:1]), g["cell"][:-1]])
        assert np.allclose(g["cell"], g["forget"] * previous + g["input"] * g["candidate"], atol=1e-5)
        assert np.allclose(g["hidden"], g["output"] * np.tanh(g["cell"]), atol=1e-5)
    with torch.no_grad():
        out, _ = lm.model.lstm(lm.model.embed(torch.tensor([lm.vocab.encode("Runs small, order up!")])))
    assert np.allclose(layers[-1]["hidden"], out[0].numpy(), atol=1e-5)


# What the fashion word2vec must have learnt: its top-5 neighbours are mostly of the same kind.
GARMENTS = {"top", "blouse", "jumpsuit", "skirt", "romper", "shirt", "dress", "tunic", "capris", "jean", "pants",
            "leggings", "sweats", "shorts", "trousers", "joggers", "cardigan", "coat", "poncho", "jacket", "vest",
            "pullover", "sweatshirt", "tee", "tank", "kimono", "shawl", "hoodie", "blazer", "overalls"}
FABRICS = {"cotton", "gauze", "gauzy", "knitted", "cashmere", "polyester", "silky", "linen", "wool", "rayon", "satin",
           "chiffon", "lace", "velvet", "knit", "jersey", "modal", "viscose", "spandex", "crepe", "lining", "underlay"}
SIZES = {"petit", "petites", "regular", "regualr", "ps", "sp", "xsp", "0", "00", "00p", "0p", "s", "xs", "xxs", "p",
         "m", "small", "medium", "size", "sizes", "tall", "plus", "2p", "4p"}
EXPECTED = {"dress": GARMENTS, "jeans": GARMENTS, "sweater": GARMENTS, "silk": FABRICS, "petite": SIZES}


@pytest.mark.parametrize("model", ["skipgram", "cbow"])
@pytest.mark.parametrize("word", EXPECTED)
def test_fashion_neighbours_are_mostly_the_same_kind(model, word):
    emb = models.load_embeddings(f"fashion-reviews/{model}")
    top5 = [w for w, _ in emb.most_similar(word, 5)]
    assert len(set(top5) & EXPECTED[word]) >= 3, top5


def test_glove_fashion_houses():
    glove = load_glove()
    assert len(glove) == 400_000
    assert "blahnik" in [w for w, _ in glove.most_similar("manolo", 3)]
    houses = {"givenchy", "dior", "chanel", "balenciaga", "valentino", "ungaro", "lacroix", "saint", "laurent", "gaultier"}
    assert houses & {w for w, _ in glove.most_similar("lanvin", 5)}
    assert glove.analogy("king", "man", "woman", 1)[0][0] == "queen"


@pytest.mark.parametrize("bundle", ["fashion-reviews", "wiki-sample"])
def test_similarity_metrics_recorded_for_every_embedding(bundle):
    for name in ("skipgram", "cbow"):
        metrics = store.artifact_card(bundle, name)["metrics"]
        for key in ("wordsim353", "simlex999"):
            assert -1 <= metrics[key]["spearman"] <= 1 and 0 < metrics[key]["coverage"] <= 1
    assert store.read_manifest("glove")["vectors"]["metrics"]["wordsim353"]["spearman"] > 0.4


def test_projections_cover_frequent_words():
    for key in ("fashion-reviews/skipgram", "wiki-sample/cbow", "glove"):
        arrays = models.load_projections(key)
        n = len(arrays["words"])
        assert 3000 <= n <= 5000
        assert arrays["tsne3"].shape == (n, 3) and arrays["tsne2"].shape == (n, 2) and arrays["pca3"].shape == (n, 3)
        assert np.isfinite(arrays["tsne3"]).all()
    assert "dress" in models.load_projections("fashion-reviews/skipgram")["words"]
    assert "blahnik" in models.load_projections("glove")["words"]


def test_manifest_records_corpus_and_parameters():
    card = store.artifact_card(FASHION, "lm")
    assert card["corpus"]["sha256"] == "bd93cc515747ad1f87b8bc863c9e40da758509e6db6506a96d06976e61e36ee0"
    assert card["seed"] == 1 and card["training_seconds"] > 0
    assert json.loads(json.dumps(card))["params"]["model"]["layers"] == 2


def test_the_model_cards_in_docs_are_the_stores_current_figures(tmp_path, monkeypatch):
    """docs/models.md's table is what `python -m app.catalog.cards` writes from the committed manifests."""
    from app.catalog import cards

    committed = tmp_path / "model_store"  # the committed bundles only: a developer's user/ models stay out
    committed.mkdir()
    for bundle in store.STORE.iterdir():
        if bundle.name != "user" and (bundle / store.MANIFEST).is_file():
            (committed / bundle.name).symlink_to(bundle)
    monkeypatch.setattr(store, "STORE", committed)
    page = cards.MODEL_CARDS_DOC.read_text(encoding="utf-8")
    assert f"<!-- {cards.MODEL_CARDS}:begin -->\n{cards.markdown_table()}\n<!-- {cards.MODEL_CARDS}:end -->" in page
    copy = tmp_path / "models.md"
    copy.write_text(page, encoding="utf-8")
    cards.write_doc_table(copy, cards.MODEL_CARDS, cards.markdown_table())
    assert copy.read_text(encoding="utf-8") == page  # rewriting it changes nothing
