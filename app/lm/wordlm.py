"""A word-level LSTM language model whose input embeddings start as the skip-gram vectors.

The talk's two halves meet here: the word2vec vectors of the embedding explorer become the first
layer of a recurrent language model, which then writes whole sentences word by word.

Tokens are ``app.data.corpus.tokenize``'s words, plus punctuation marks (``,`` ``.`` ``!`` ``...``) so
that written sentences can be punctuated like people's. The vocabulary is the skip-gram model's
words, the marks seen at least ``MIN_MARK_COUNT`` times, and two special tokens:

* ``<eos>`` ends every sentence; the stream starts with one, so it is also the "start" context;
* ``<unk>`` stands for any other word (the sampler never writes it).

The network is an LSTM with tied input and output embeddings (``WordLSTM``), trained by the
char-LSTM's own ``char_training.train`` loop on the token stream (nothing in that loop is about
characters). Perplexity is measured statefully: one pass over the whole split with the LSTM state carried along, as the
n-gram baseline (``app.lm.ngram``) reads the same stream.
"""

from __future__ import annotations

import re
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from app.data.corpus import _WORD, Corpus, split_sentences
from app.lm.char_lstm import model_device, round_to_float16
from app.lm.char_training import TrainConfig, train
from app.lm.ngram import KneserNey
from app.lm.sampling import nucleus
from app.storage import store
from app.vectors.embeddings import Embeddings, load_bundle_embeddings

EOS, UNK = "<eos>", "<unk>"
MIN_MARK_COUNT = 20
STREAM_SEGMENTS = 32  # stream_nats reads a split as 32 pieces side by side (the same loss, faster)
# A token is a word exactly as tokenize() finds it, or a run of punctuation marks.
_TOKEN = re.compile(rf"{_WORD.pattern}|[^\w\s]+")


def word_tokens(sentence: str) -> list[str]:
    """Lower-cased words (as ``tokenize``) and runs of punctuation, in order."""
    return _TOKEN.findall(sentence.lower())


def is_word(token: str) -> bool:
    return bool(_WORD.fullmatch(token))


# ---------------------------------------------------------------- vocabulary and streams

class WordVocab:
    """Tokens <-> ids: id 0 is <eos>, id 1 is <unk>, then words and marks."""

    def __init__(self, tokens: list[str]):
        self.tokens = [EOS, UNK] + [t for t in tokens if t not in (EOS, UNK)]
        self.index = {t: i for i, t in enumerate(self.tokens)}

    @classmethod
    def build(cls, embeddings: Embeddings, sentences: list[list[str]]) -> WordVocab:
        """The embedding's words, then the marks seen at least MIN_MARK_COUNT times."""
        counts: dict[str, int] = {}
        for sentence in sentences:
            for token in sentence:
                if not is_word(token):
                    counts[token] = counts.get(token, 0) + 1
        marks = sorted((m for m, n in counts.items() if n >= MIN_MARK_COUNT), key=lambda m: -counts[m])
        return cls(list(embeddings.words) + marks)

    def __len__(self) -> int:
        return len(self.tokens)

    def encode(self, tokens: list[str]) -> list[int]:
        return [self.index.get(t, 1) for t in tokens]


def split_token_sentences(corpus: Corpus, split: str) -> list[list[str]]:
    """Every sentence of a split as word_tokens, documents in order."""
    return [t for t in (word_tokens(s) for d in corpus.split(split) for s in split_sentences(d)) if t]


def token_stream(sentences: list[list[str]], vocab: WordVocab) -> np.ndarray:
    """<eos> s1 <eos> s2 <eos> ...: the ids a split's model reads and predicts, as int32."""
    ids = [0]
    for sentence in sentences:
        ids.extend(vocab.encode(sentence))
        ids.append(0)
    return np.array(ids, dtype=np.int32)


def split_streams(corpus: Corpus, vocab: WordVocab,
                  train_sentences: list[list[str]] | None = None) -> dict[str, np.ndarray]:
    """The token stream of each split (train, validation, test)."""
    return {split: token_stream(train_sentences if split == "train" and train_sentences is not None
                                else split_token_sentences(corpus, split), vocab)
            for split in ("train", "validation", "test")}


def kneser_ney_nats(streams: dict[str, np.ndarray], vocab: WordVocab, order: int = 3) -> dict[str, float]:
    """The baseline: nats/token of a Kneser-Ney n-gram fitted on the train stream, on the
    validation and test streams (each read as the LSTM reads it: the first <eos> is context)."""
    model = KneserNey.fit(streams["train"].tolist(), order, vocabulary=range(len(vocab)))
    return {split: float(-model.log_probs(streams[split][1:].tolist(), context=[0]).mean())
            for split in ("validation", "test")}


# ---------------------------------------------------------------- the model

@dataclass
class WordLSTMConfig:
    vocab_size: int
    embedding_size: int = 100  # the skip-gram vectors' size
    hidden_size: int = 256
    layers: int = 1
    dropout: float = 0.2


class WordLSTM(nn.Module):
    """Embedding -> LSTM -> projection back to the embedding size -> scores against the same
    embedding matrix. Input and output embeddings are tied (Press & Wolf 2017), so the skip-gram
    vectors start both: the model predicts a word by how close its vector is to the LSTM's
    guess. Tying also makes the softmax 2.5x cheaper than a hidden-size head, on a CPU."""

    def __init__(self, config: WordLSTMConfig):
        super().__init__()
        self.config = config
        self.embed = nn.Embedding(config.vocab_size, config.embedding_size)
        self.lstm = nn.LSTM(config.embedding_size, config.hidden_size, config.layers, batch_first=True,
                            dropout=config.dropout if config.layers > 1 else 0.0)
        self.drop = nn.Dropout(config.dropout)
        self.project = nn.Linear(config.hidden_size, config.embedding_size)
        self.output_bias = nn.Parameter(torch.zeros(config.vocab_size))

    def forward(self, ids: torch.Tensor, state=None):
        """ids (batch, time) -> logits (batch, time, vocab), new (h, c) state."""
        out, state = self.lstm(self.drop(self.embed(ids)), state)
        guess = self.project(self.drop(out))
        return guess @ self.embed.weight.T + self.output_bias, state


def word_lstm(vocab: WordVocab, embeddings: Embeddings, hidden: int, layers: int, dropout: float,
              seed: int) -> WordLSTM:
    """A word LSTM whose (tied) embeddings start as the skip-gram vectors; specials and marks
    start random, at the vectors' own scale."""
    torch.manual_seed(seed)
    model = WordLSTM(WordLSTMConfig(len(vocab), embeddings.dimensions, hidden, layers, dropout))
    vectors = torch.from_numpy(np.asarray(embeddings.vectors, dtype=np.float32))
    with torch.no_grad():
        weight = model.embed.weight
        weight.normal_(0.0, float(vectors.std()))
        weight[torch.tensor([vocab.index[w] for w in embeddings.words])] = vectors
    return model


@torch.no_grad()
def stream_nats(model: nn.Module, ids: np.ndarray, segments: int = 1, warmup: int = 1000,
                chunk: int = 512) -> float:
    """Mean nats per token over a whole stream read front to back, the LSTM state carried along:
    every token after the first is predicted from all the tokens before it. Works for any of the
    project's LSTMs (characters or words).

    One token at a time is slow on a CPU, so ``segments`` > 1 cuts the stream into that many
    pieces read side by side as a batch; each piece first reads the ``warmup`` tokens before it,
    unscored, so it starts from (to within rounding) the state a single pass would have there:
    an LSTM's memory of a token fades long before 1,000 tokens.
    """
    was_training = model.training
    model.eval()
    device = model_device(model)
    targets = len(ids) - 1
    length = -(-targets // segments)  # scored tokens per segment
    starts = [s for s in range(0, targets, length)]
    firsts = [max(0, s - warmup) for s in starts]  # where each segment starts reading
    width = max(min(s + length, targets) - f for s, f in zip(starts, firsts, strict=True))
    x = np.zeros((len(starts), width + 1), dtype=np.int64)
    scored = np.zeros((len(starts), width), dtype=bool)
    for row, (s, f) in enumerate(zip(starts, firsts, strict=True)):
        end = min(s + length, targets)
        x[row, :end + 1 - f] = ids[f:end + 1]
        scored[row, s - f:end - f] = True
    x, scored = torch.from_numpy(x).to(device), torch.from_numpy(scored).to(device)
    state, total = None, 0.0
    for t in range(0, width, chunk):
        logits, state = model(x[:, t:t + chunk][:, :width - t], state)
        loss = F.cross_entropy(logits.transpose(1, 2), x[:, t + 1:t + chunk + 1], reduction="none")
        total += loss[scored[:, t:t + chunk]].sum().item()
    model.train(was_training)
    return total / max(1, targets)


@dataclass
class WordLanguageModel:
    """A trained word LSTM with its vocabulary: scoring and writing sentences."""

    model: WordLSTM
    vocab: WordVocab

    def __post_init__(self):
        self.model.eval()

    @torch.no_grad()
    def sentence_log_probs(self, tokens: list[str]) -> np.ndarray:
        """log P of each token and of the closing <eos>, the sentence read from a fresh start."""
        ids = torch.tensor([[0] + self.vocab.encode(tokens) + [0]])
        logits, _ = self.model(ids[:, :-1])
        return torch.log_softmax(logits[0], -1).gather(1, ids[0, 1:, None])[:, 0].numpy()

    @torch.no_grad()
    def mean_log_probs(self, sentences: list[list[str]], batch: int = 512) -> np.ndarray:
        """Per sentence: the mean of ``sentence_log_probs``, many sentences read side by side
        (the LSTM reads left to right, so the <eos> padding after a sentence changes nothing in it)."""
        means = np.zeros(len(sentences))
        for start in range(0, len(sentences), batch):
            rows = [[0] + self.vocab.encode(tokens) + [0] for tokens in sentences[start:start + batch]]
            ids = torch.zeros(len(rows), max(map(len, rows)), dtype=torch.long)
            for number, row in enumerate(rows):
                ids[number, :len(row)] = torch.tensor(row)
            logits, _ = self.model(ids[:, :-1])
            log_p = torch.log_softmax(logits, -1).gather(2, ids[:, 1:, None])[..., 0]
            read = torch.arange(ids.shape[1] - 1)[None, :] < torch.tensor([len(r) - 1 for r in rows])[:, None]
            means[start:start + len(rows)] = ((log_p * read).sum(1) / read.sum(1)).numpy()
        return means

    @torch.no_grad()
    def sample(self, count: int, temperature: float = 1.0, max_tokens: int = 60,
               seed: int | None = None, top_p: float = 1.0) -> list[list[str] | None]:
        """count sentences written side by side from a fresh start, each up to its first <eos>.
        <unk> is never written, so every word is one the model knows. A sentence still going
        after max_tokens is None (unfinished). top_p < 1: nucleus sampling (``sampling.nucleus``)."""
        generator = torch.Generator().manual_seed(seed) if seed is not None else None
        ids = torch.zeros(count, 1, dtype=torch.long)
        logits, state = self.model(ids)
        written = torch.zeros(count, max_tokens, dtype=torch.long)
        done = torch.zeros(count, dtype=torch.bool)
        steps = 0
        for steps in range(1, max_tokens + 1):
            logits = logits[:, -1] / max(temperature, 1e-4)
            logits[:, 1] = float("-inf")  # never <unk>
            probs = torch.softmax(logits, -1)
            if top_p < 1.0:
                probs = nucleus(probs, top_p)
            next_ids = torch.multinomial(probs, 1, generator=generator)[:, 0]
            next_ids[done] = 0
            written[:, steps - 1] = next_ids
            done |= next_ids == 0
            if bool(done.all()):
                break
            logits, state = self.model(next_ids[:, None], state)
        sentences = []
        for row in written[:, :steps].tolist():
            sentences.append([self.vocab.tokens[i] for i in row[:row.index(0)]] if 0 in row else None)
        return sentences


# ---------------------------------------------------------------- storage

def save_word_lm(path: Path, lm: WordLanguageModel) -> Path:
    return store.save_weights(path, lm.model, config=asdict(lm.model.config), tokens=lm.vocab.tokens)


def load_word_lm(path: Path) -> WordLanguageModel:
    weights, header = store.load_weights(path)
    model = WordLSTM(WordLSTMConfig(**header["config"]))
    model.load_state_dict(weights)
    return WordLanguageModel(model, WordVocab(header["tokens"]))


def load_bundle_word_lm(bundle: str) -> WordLanguageModel:
    return load_word_lm(store.verified_path(bundle, "wordlm"))


# ---------------------------------------------------------------- training (python -m app.training --only wordlm)

@dataclass
class WordLMSettings:
    hidden: int = 256
    layers: int = 1
    dropout: float = 0.2
    steps: int = 100_000  # the minutes end it first on a CPU
    minutes: float | None = 48.0  # of training in all (a resumed run counts the time before)
    batch_size: int = 32
    sequence_length: int = 48
    learning_rate: float = 3e-3
    eval_every: int = 250
    eval_batches: int = 8


def train_word_lm(corpus: Corpus, bundle: str, seed: int, settings: WordLMSettings,
                  checkpoint: Path, baseline_order: int = 3) -> dict:
    """Train on the corpus's train split (resuming a checkpoint), measure validation and test
    perplexity and the Kneser-Ney baseline on the same streams, save and record it."""
    embeddings = load_bundle_embeddings(bundle, "skipgram")
    train_sentences = split_token_sentences(corpus, "train")
    vocab = WordVocab.build(embeddings, train_sentences)
    streams = split_streams(corpus, vocab, train_sentences)
    model = word_lstm(vocab, embeddings, settings.hidden, settings.layers, settings.dropout, seed)
    config = TrainConfig(seed=seed, batch_size=settings.batch_size, sequence_length=settings.sequence_length,
                         learning_rate=settings.learning_rate, max_steps=settings.steps,
                         eval_every=settings.eval_every, eval_batches=settings.eval_batches,
                         minutes=settings.minutes, device="cpu")
    print(f"word LSTM {settings.hidden}x{settings.layers}, {sum(p.numel() for p in model.parameters()):,} "
          f"parameters, {len(vocab):,} tokens, {len(streams['train']):,} training tokens; checkpoint {checkpoint}")
    history = train(model, streams["train"], streams["validation"], config, checkpoint=checkpoint)

    lm = WordLanguageModel(model, vocab)
    round_to_float16(lm)  # measure exactly what is served
    started = time.monotonic()
    nats = {split: stream_nats(model, streams[split], segments=STREAM_SEGMENTS) for split in ("validation", "test")}
    baseline = kneser_ney_nats(streams, vocab, baseline_order)
    print(f"float16 weights: perplexity validation {np.exp(nats['validation']):.1f}, test {np.exp(nats['test']):.1f}; "
          f"{baseline_order}-gram Kneser-Ney {np.exp(baseline['validation']):.1f} / {np.exp(baseline['test']):.1f} "
          f"({time.monotonic() - started:.0f}s)")
    path = save_word_lm(store.bundle_dir(bundle) / "wordlm.safetensors", lm)
    return store.record_artifact(
        bundle, "wordlm", path, kind="word-LSTM language model",
        params={"model": asdict(model.config), "training": asdict(config), "embeddings": "skipgram",
                "min_mark_count": MIN_MARK_COUNT},
        seed=seed, corpus=corpus.card(), training_seconds=round(history.seconds, 1),
        metrics={"validation_perplexity": round(float(np.exp(nats["validation"])), 2),
                 "test_perplexity": round(float(np.exp(nats["test"])), 2),
                 "validation_nats_per_token": round(nats["validation"], 4),
                 "test_nats_per_token": round(nats["test"], 4),
                 "tokens": {split: len(s) - 1 for split, s in streams.items()},
                 "vocabulary": len(vocab),
                 "baseline": {"model": f"{baseline_order}-gram interpolated modified Kneser-Ney",
                              "validation_perplexity": round(float(np.exp(baseline["validation"])), 2),
                              "test_perplexity": round(float(np.exp(baseline["test"])), 2)},
                 "steps": history.steps[-1] if history.steps else 0,
                 "curves": asdict(history) | {"seconds": round(history.seconds, 1)}})
