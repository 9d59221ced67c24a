"""The word LSTM as the quiz's second fake writer: whole sentences written word by word.

The word LSTM (``app/lm/wordlm.py``) writes lower-case tokens, words and punctuation marks, one
sentence at a time, and never its unknown token: every word is one it knows, by construction.
``detokenise`` turns the tokens back into text spaced and cased as the corpus writes it: marks
lean on the word before them, brackets and quotes on the word inside them; words stay lower
case (the fashion corpus is lower case after each review's first letters), and the first letter
is upper case as often as in the training split's quiz-length sentences.

The filters (finished, 5-30 words, known words, nothing recited from the training split), the
decodings and the choice of decks are the char-LSTM's own (``app/game/fakes.py``,
``app/game/decks.py``); the reals its decks deal keep to its vocabulary, as its fakes do.
"""

from __future__ import annotations

import random

from app.data.corpus import Corpus, tokenize
from app.game.decks import Writer
from app.game.fakes import MAX_WORDS, MIN_WORDS, Decoding, FilterCounts, TrainingText, keep_passing
from app.lm.wordlm import WordLanguageModel, is_word, load_bundle_word_lm

ATTACH_LEFT = ",.!?;:%)]}"  # a mark starting with one of these follows the word before it without a space
ATTACH_RIGHT = "([{$/"  # the word after a mark ending with one of these follows it without a space
QUOTES = "\"'"
SMILEYS = (":)", ":(", ":-", ";)", ":d", ":p")
MAX_TOKENS = 64  # a sentence still going after this many tokens is dropped (30 words and their marks fit)
# Candidates for the decks to choose from (decks.prepare_decks: the model as it is gets no more than
# decks.CANDIDATES): about half of the word LSTM's sentences pass the filters (most others are
# shorter than 5 words); about 25 minutes of one CPU core. The short decks (hard: 5-7 words) need
# this many for adversarial filtering to leave enough to choose from.
CANDIDATES = 32_000


def detokenise(tokens: list[str], capitalise: bool = False) -> str:
    """'love', 'this', 'dress', ',', 'it', 'fits', '.' -> 'love this dress, it fits.' (or 'Love ...')."""
    text, glue_next, open_quote = "", True, False
    for token in tokens:
        if is_word(token):
            space = not glue_next
            glue_next = False
        else:
            inches = token[0] == '"' and text[-1:].isdigit()  # 5'4" is a height, not a quotation
            closing = token[0] in QUOTES and (open_quote or inches)
            opening = token[0] in QUOTES and not closing
            smiley = token[:2] in SMILEYS
            space = not glue_next and (smiley or not (token[0] in ATTACH_LEFT or closing or token[0] == "/"))
            quotes = sum(token.count(q) for q in QUOTES) - inches
            open_quote ^= quotes % 2 == 1
            glue_next = token[-1] in ATTACH_RIGHT or (opening and len(token) == 1)
        text += (" " if space and text else "") + token
    return text[:1].upper() + text[1:] if capitalise else text


def first_letter_upper_rate(corpus: Corpus) -> float:
    """How often a training sentence of quiz length (5-30 words) starts with an upper-case letter."""
    starts = [s[:1] for s in corpus.sentences("train") if MIN_WORDS <= len(tokenize(s)) <= MAX_WORDS]
    return sum(c.isupper() for c in starts) / max(1, len(starts))


def word_lstm_writer(lm: WordLanguageModel, training: TrainingText, upper_rate: float, batch: int = 256) -> Writer:
    """What ``decks.prepare_decks`` calls for each decoding, then for each batch: (seed, counts) ->
    the sentences that passed the filters (an unfinished sample counts as "unfinished")."""
    def sampler(decoding: Decoding):
        def sample(seed: int, counts: FilterCounts) -> list[str]:
            rng = random.Random(seed)
            texts = [detokenise(tokens, capitalise=rng.random() < upper_rate) if tokens is not None else ""
                     for tokens in lm.sample(batch, decoding.temperature, MAX_TOKENS, seed=seed, top_p=decoding.top_p)]
            return keep_passing(texts, training, counts)
        return sample
    return sampler


def bundle_word_lstm_writer(corpus: Corpus, bundle: str, training: TrainingText) -> Writer:
    """The bundle's committed word LSTM as a writer, filtered against the corpus's training split."""
    return word_lstm_writer(load_bundle_word_lm(bundle), training, first_letter_upper_rate(corpus))
