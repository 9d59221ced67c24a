"""Talk mode's script: a talk is a TOML file of beats, read into plain dataclasses, and how each beat scores.

A talk file (``talks/rnns-for-nlp.toml``) is a title and a list of ``[[beats]]``, each with a ``kind``,
its ``text`` (markdown; LaTeX between dollars), the speaker's ``notes`` and the kind's settings::

    title = "Recurrent Neural Networks for NLP"

    [[beats]]
    kind = "word_guess"
    text = "Zalando ?? Talk: which word is missing?"
    notes = "CBOW predicts the middle word from its context."
    task = "cbow"
    context = ["zalando", "talk"]
    models = ["fashion-reviews/cbow", "wiki-sample/cbow"]

A file that cannot be used raises ``TalkError`` whose message names the line and the problem (TOML's own
syntax errors included), never a traceback. Scoring is here too (``score_answers``), so the SQL store
(app/game/talk_room.py) and the tests share one meaning of "points".
"""

from __future__ import annotations

import json
import re
import tomllib
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from app import PROJECT
from app.game.quiz import ROUNDS_PER_GAME
from app.lm.char_lstm import LanguageModel
from app.vectors.embeddings import Embeddings

TALKS = PROJECT / "talks"
DEFAULT_TALK = TALKS / "rnns-for-nlp.toml"

SLIDE, WORD_GUESS, CHOICE, ESTIMATE, DEMO, FAKE_OR_REAL = "slide", "word_guess", "choice", "estimate", "demo", "fake_or_real"
KINDS = {
    SLIDE: "slide",
    WORD_GUESS: "word guess",
    CHOICE: "choice poll",
    ESTIMATE: "estimate",
    DEMO: "live demo",
    FAKE_OR_REAL: "fake or real",
}
ASKING = {WORD_GUESS, CHOICE, ESTIMATE}  # the kinds whose phones answer through talk_room
WORD_TASKS = ("neighbours", "cbow", "analogy", "next_word", "fixed")
DEMO_VIEWS = ("explorer", "gates", "gradients")
# Live demos the room feeds from their phones: a word placed in the explorer's 3D cloud, a sentence read
# through the LSTM's gates. Nothing scores; the stage shows what the room typed.
FED_VIEWS = ("explorer", "gates")
DEMO_MODELS = {"explorer": ["fashion-reviews/skipgram", "wiki-sample/skipgram", "glove"],
               "gates": ["fashion-reviews", "wiki-sample"]}
MAX_CHOICES = 4
MAX_ROUNDS = ROUNDS_PER_GAME  # Fake-or-real rounds in a whole talk (a room's limit)
ANSWER_MAX = 40  # characters of a typed answer
SENTENCE_MAX = 80  # characters of a sentence for the gates (what talk_answers.answer holds)
TEXT_MAX = 2000  # characters of a beat's text
# Points: a word in the model's top k scores by its rank; a right tile; the closest estimates.
WORD_POINTS = (3, 2, 2, 1, 1)  # rank 1, 2, 3…; 1 point below that while still in the top k
CHOICE_POINTS = 2
ESTIMATE_POINTS = 3  # the closest answer(s); the next closest get 1


class TalkError(ValueError):
    """A talk file that cannot be used; str(error) names the file's line and the problem."""


@dataclass(frozen=True)
class Beat:
    number: int  # 1-based, in the file's order
    line: int  # where its [[beats]] header is, for messages
    kind: str
    text: str
    notes: str = ""
    title: str = ""
    settings: dict = field(default_factory=dict)

    @property
    def asks(self) -> bool:
        """Whether phones answer this beat (word guess, choice poll, estimate, a demo the room feeds)."""
        return self.kind in ASKING or (self.kind == DEMO and self.settings["view"] in FED_VIEWS)

    @property
    def takes_words(self) -> bool:
        """Whether a phone types one word that the model must know (a word guess, the explorer's cloud)."""
        return self.kind == WORD_GUESS or (self.kind == DEMO and self.settings["view"] == "explorer")

    @property
    def takes_sentence(self) -> bool:
        return self.kind == DEMO and self.settings["view"] == "gates"

    @property
    def scores(self) -> bool:
        """Whether an answer can win points (a poll with no right tile and the demos cannot)."""
        return self.kind in (WORD_GUESS, ESTIMATE) or (self.kind == CHOICE and self.settings["answer"] is not None)

    @property
    def stakes(self) -> str:
        """What an answer can win, spelled out for the phones."""
        if self.takes_words and self.kind == DEMO:
            return "No points here: your word joins the cloud on the big screen."
        if self.takes_sentence:
            return (f"No points here: one sentence of the room (at most {SENTENCE_MAX} characters) goes through "
                    f"the LSTM's gates on the big screen.")
        if self.kind == WORD_GUESS:
            k = self.settings["top_k"]
            return (f"The model's top answer wins {WORD_POINTS[0]} points; any word in its top {k} wins at least 1. "
                    f"No points lost for a miss.")
        if self.kind == CHOICE:
            return (f"The right tile wins {CHOICE_POINTS} points." if self.settings.get("answer") is not None
                    else "A poll: no right answer, no points.")
        if self.kind == ESTIMATE:
            return f"The closest answer wins {ESTIMATE_POINTS} points, the next closest 1."
        return ""


@dataclass(frozen=True)
class Talk:
    title: str
    beats: list[Beat]
    source: str  # the file's name, for messages


# ---------------------------------------------------------------- reading

def load_talk(path: Path = DEFAULT_TALK) -> Talk:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise TalkError(f"{Path(path).name}: cannot be read ({e.__class__.__name__}: {e}).") from e
    return parse_talk(text, Path(path).name)


def parse_talk(text: str, source: str = "talk.toml") -> Talk:
    """The talk in text, checked; a TalkError names the line and the problem."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise TalkError(f"{source}: {_toml_problem(e)}") from e
    lines = _beat_lines(text)

    def fail(line: int | None, problem: str) -> TalkError:
        return TalkError(f"{source}, line {line}: {problem}" if line else f"{source}: {problem}")

    title = data.get("title", "")
    if not isinstance(title, str):
        raise fail(_key_line(text, "title"), "title must be text in quotes.")
    raw_beats = data.get("beats")
    if not isinstance(raw_beats, list) or not raw_beats:
        raise fail(None, "no beats: add at least one [[beats]] table with a kind and a text.")
    beats = []
    for number, raw in enumerate(raw_beats, 1):
        line = lines[number - 1] if number <= len(lines) else None
        try:
            beats.append(_beat(number, line, raw))
        except ValueError as e:
            raise fail(line, f"beat {number}: {e}") from e
    rounds = 0
    for beat in beats:  # a talk is one room, whose Fake-or-real rounds are dealt when it starts
        rounds += beat.settings.get("rounds", 0) if beat.kind == FAKE_OR_REAL else 0
        if rounds > MAX_ROUNDS:
            raise fail(beat.line, f"beat {beat.number}: the talk's Fake-or-real beats hold {MAX_ROUNDS} rounds "
                                  f"in all; this one brings them to {rounds}.")
    return Talk(title or source, beats, source)


def _toml_problem(error: tomllib.TOMLDecodeError) -> str:
    """TOML's message, with the line first: 'line 4: invalid value (column 9)'."""
    message = str(error)
    where = re.search(r"\(at line (\d+), column (\d+)\)", message)
    if not where:
        return f"not valid TOML: {message}"
    problem = message[:where.start()].strip()
    return f"line {where.group(1)}: not valid TOML: {problem} (column {where.group(2)})."


def _beat_lines(text: str) -> list[int]:
    """The line of each [[beats]] header, in order."""
    return [number for number, line in enumerate(text.splitlines(), 1) if re.match(r"\s*\[\[\s*beats\s*\]\]", line)]


def _key_line(text: str, key: str) -> int | None:
    return next((n for n, line in enumerate(text.splitlines(), 1) if re.match(rf"\s*{key}\s*=", line)), None)


def _text(raw: dict, key: str, required: bool = False, limit: int = TEXT_MAX) -> str:
    value = raw.get(key, "")
    if not isinstance(value, str):
        raise ValueError(f"{key} must be text in quotes, not {type(value).__name__}.")
    value = value.strip()
    if required and not value:
        raise ValueError(f"it has no {key}: every beat needs one.")
    if len(value) > limit:
        raise ValueError(f"its {key} has {len(value)} characters; the limit is {limit} (one screen).")
    return value


def _number(raw: dict, key: str, default: float | None = None) -> float:
    value = raw.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{key} must be a number" + ("." if key in raw else " and is missing."))
    return float(value)


def _words(raw: dict, key: str, count: int | None = None) -> list[str]:
    value = raw.get(key)
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not value or not all(isinstance(w, str) and w.strip() for w in value):
        raise ValueError(f"{key} must be a list of words, like {key} = [\"zalando\", \"talk\"].")
    if count is not None and len(value) != count:
        raise ValueError(f"{key} needs {count} words, not {len(value)}.")
    return [normalise_answer(w) for w in value]


def _beat(number: int, line: int | None, raw) -> Beat:
    if not isinstance(raw, dict):
        raise ValueError("a beat must be a [[beats]] table.")
    kind = raw.get("kind")
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}; a beat's kind is one of {', '.join(KINDS)}.")
    text = _text(raw, "text", required=True)
    notes, title = _text(raw, "notes"), _text(raw, "title", limit=120)
    settings = {key: value for key, value in raw.items() if key not in ("kind", "text", "notes", "title")}
    settings.update(_settings(kind, raw))
    return Beat(number, line or 0, kind, text, notes, title, settings)


def _settings(kind: str, raw: dict) -> dict:
    """The kind's settings, checked and with defaults; a ValueError says what is wrong."""
    if kind == WORD_GUESS:
        task = raw.get("task", "neighbours")
        if task not in WORD_TASKS:
            raise ValueError(f"unknown task {task!r}; a word guess's task is one of {', '.join(WORD_TASKS)}.")
        top_k = raw.get("top_k", 5)
        if isinstance(top_k, bool) or not isinstance(top_k, int) or not 1 <= top_k <= 20:
            raise ValueError("top_k must be a whole number from 1 to 20.")
        settings: dict = {"task": task, "top_k": top_k}
        if task == "neighbours":
            settings["word"] = _words(raw, "word", 1)[0]
        elif task == "cbow":
            settings["context"] = _words(raw, "context")
        elif task == "analogy":
            settings["words"] = _words(raw, "words", 3)
        elif task == "next_word":
            settings["context"] = _text(raw, "context", required=True, limit=300)
        if task == "fixed" or "answers" in raw:
            settings["answers"] = _words(raw, "answers")
        models = raw.get("models", [])
        if task != "fixed" and (not isinstance(models, list) or not models
                                or not all(isinstance(m, str) for m in models)):
            raise ValueError("models must list the models to ask, first choice first, "
                             "like models = [\"fashion-reviews/cbow\", \"wiki-sample/cbow\"].")
        settings["models"] = models
        return settings
    if kind == CHOICE:
        options = raw.get("options")
        if (not isinstance(options, list) or not 2 <= len(options) <= MAX_CHOICES
                or not all(isinstance(o, str) and o.strip() for o in options)):
            raise ValueError(f"options must list 2 to {MAX_CHOICES} answers as text.")
        answer = raw.get("answer")
        if answer is not None and (isinstance(answer, bool) or not isinstance(answer, int)
                                   or not 1 <= answer <= len(options)):
            raise ValueError(f"answer must be the number of the right option, 1 to {len(options)}.")
        return {"options": [o.strip() for o in options], "answer": None if answer is None else answer - 1}
    if kind == ESTIMATE:
        low, high = _number(raw, "min"), _number(raw, "max")
        answer = _number(raw, "answer")
        if not low < high:
            raise ValueError(f"min ({low:g}) must be below max ({high:g}).")
        if not low <= answer <= high:
            raise ValueError(f"answer ({answer:g}) must be between min and max.")
        step = _number(raw, "step", (high - low) / 100)
        if step <= 0:
            raise ValueError("step must be above 0.")
        return {"min": low, "max": high, "answer": answer, "step": step, "unit": _text(raw, "unit", limit=20)}
    if kind == DEMO:
        view = raw.get("view")
        if view not in DEMO_VIEWS:
            raise ValueError(f"unknown view {view!r}; a live demo shows one of {', '.join(DEMO_VIEWS)}.")
        settings = {"view": view}
        if view in DEMO_MODELS:
            models = raw.get("models", DEMO_MODELS[view])
            if not isinstance(models, list) or not models or not all(isinstance(m, str) for m in models):
                raise ValueError(f"models must list the models to show, first choice first, like "
                                 f"models = {json.dumps(DEMO_MODELS[view])}.")
            settings["models"] = models
        if view == "explorer" and "word" in raw:
            settings["word"] = _words(raw, "word", 1)[0]
        if view == "gates":
            settings["sentence"] = _text(raw, "sentence", limit=SENTENCE_MAX)
        return settings
    if kind == FAKE_OR_REAL:
        rounds = raw.get("rounds", 3)
        if isinstance(rounds, bool) or not isinstance(rounds, int) or not 1 <= rounds <= MAX_ROUNDS:
            raise ValueError(f"rounds must be a whole number from 1 to {MAX_ROUNDS}.")
        return {"rounds": rounds}
    return {}


# ---------------------------------------------------------------- answers and points

def clean_text(raw: str) -> str:
    """Free text as a phone typed it, made plain: NFKC (as nicknames are), no control or invisible
    characters, spaces and line breaks as single spaces."""
    text = unicodedata.normalize("NFKC", raw or "")
    return " ".join("".join(ch for ch in text if ch.isspace() or unicodedata.category(ch)[0] != "C").split())


def normalise_answer(raw: str) -> str:
    """A typed word as it is compared: clean_text, lower case, no outer punctuation."""
    return clean_text(raw).casefold().strip(".,;:!?\"'()[]")[:ANSWER_MAX]


def score_answers(beat: Beat, answers: dict[int, str], model_answers: list[str] | None = None) -> dict[int, int]:
    """Points per player for one beat: answers are player id -> their answer as stored (a normalised word,
    a tile's index, an estimate's number, all as text); model_answers is the model's ranked words."""
    if beat.kind == WORD_GUESS:
        ranked = (model_answers or beat.settings.get("answers") or [])[:beat.settings["top_k"]]
        rank = {word: index for index, word in reversed(list(enumerate(ranked)))}

        def word_points(answer: str) -> int:
            if answer not in rank:
                return 0
            return WORD_POINTS[rank[answer]] if rank[answer] < len(WORD_POINTS) else 1
        return {player: word_points(answer) for player, answer in answers.items()}
    if beat.kind == CHOICE:
        right = beat.settings.get("answer")
        return {player: CHOICE_POINTS if right is not None and answer == str(right) else 0
                for player, answer in answers.items()}
    if beat.kind == ESTIMATE:
        target = beat.settings["answer"]
        distance = {player: abs(float(answer) - target) for player, answer in answers.items()}
        gaps = sorted(set(distance.values()))
        points_by_gap = {gap: points for gap, points in zip(gaps, (ESTIMATE_POINTS, 1), strict=False)}
        return {player: points_by_gap.get(gap, 0) for player, gap in distance.items()}
    return {player: 0 for player in answers}


def check_answer(beat: Beat, raw: str) -> str:
    """A phone's answer as stored, or ValueError saying why it cannot be taken (the vocabulary is checked
    by the page, which has the model)."""
    if beat.takes_sentence:
        sentence = clean_text(raw)
        if not sentence:
            raise ValueError("Type a sentence.")
        if len(sentence) > SENTENCE_MAX:
            raise ValueError(f"A short sentence, please: at most {SENTENCE_MAX} characters (this one has "
                             f"{len(sentence)}).")
        return sentence
    if beat.takes_words:
        word = normalise_answer(raw)
        if not word:
            raise ValueError("Type a word.")
        if len(unicodedata.normalize("NFKC", raw or "").strip()) > ANSWER_MAX:
            raise ValueError(f"One word, please: at most {ANSWER_MAX} characters.")
        return word
    if beat.kind == CHOICE:
        if not raw.isdigit() or not 0 <= int(raw) < len(beat.settings["options"]):
            raise ValueError("That is not one of the tiles.")
        return str(int(raw))
    if beat.kind == ESTIMATE:
        try:
            value = float(raw)
        except ValueError as e:
            raise ValueError("An estimate is a number.") from e
        if not beat.settings["min"] <= value <= beat.settings["max"]:
            raise ValueError(f"Pick a number from {beat.settings['min']:g} to {beat.settings['max']:g}.")
        return f"{value:g}"
    raise ValueError("This beat takes no answers.")


# ---------------------------------------------------------------- the model's answer

CBOW_NOTE = ("Our stored CBOW model keeps its word vectors but not its output weights, so gensim's "
             "predict_output_word cannot run: this is the equivalent from the vectors, the words nearest to "
             "the average of the context words' vectors.")


def answering_model(beat: Beat, embeddings_for: Callable[[str], Embeddings], available: list[str]) -> str | None:
    """The first of the beat's models that this server has and that knows the beat's words (the fashion
    model when its bundle is there and knows them); None when none does."""
    settings = beat.settings
    for key in settings.get("models", []):
        if key not in available:
            continue
        if settings["task"] == "next_word":
            return key
        vectors = embeddings_for(key)
        needed = {"neighbours": [settings.get("word")], "analogy": settings.get("words", [])}.get(settings["task"])
        if needed is None:  # cbow: one known context word is enough
            if any(word in vectors for word in settings["context"]):
                return key
        elif all(word in vectors for word in needed):
            return key
    return None


def demo_model(beat: Beat, available: list[str]) -> str | None:
    """The first of a live demo's models that this server has (available: for the explorer, the models
    with a stored projection)."""
    return next((key for key in beat.settings.get("models", []) if key in available), None)


def model_answer(beat: Beat, embeddings_for: Callable[[str], Embeddings],
                 language_model_for: Callable[[str], LanguageModel], available: list[str]) -> dict:
    """What the model says to a word guess: {"words": ranked, "model": key, "note": how it was worked out}.
    available: the embedding keys and language-model bundles this server has; the loaders are the pages'
    cached ones. A beat whose models are all missing falls back on its fixed answers, and says so."""
    settings, k = beat.settings, beat.settings["top_k"]
    fixed = {"words": settings.get("answers", []), "model": "", "note": "The talk file's answers."}
    key = None if settings["task"] == "fixed" else answering_model(beat, embeddings_for, available)
    if key is None:
        if settings["task"] != "fixed":
            fixed["note"] = (f"None of {', '.join(settings['models'])} is on this server and knows the words: "
                             f"the talk file's answers.")
        return fixed
    task = settings["task"]
    if task == "next_word":
        words = [word.casefold() for word, _ in language_model_for(key).next_words(settings["context"], k=k)]
        return {"words": words, "model": key, "note": f"The character LSTM of {key}, by beam search over letters."}
    vectors = embeddings_for(key)
    if task == "neighbours":
        found = vectors.most_similar(settings["word"], topn=k)
        note = f"The {k} nearest words to “{settings['word']}” in {key}."
    elif task == "analogy":
        found = vectors.analogy(*settings["words"], topn=k)
        note = f"{settings['words'][0]} − {settings['words'][1]} + {settings['words'][2]} in {key}."
    else:  # cbow
        known = [w for w in settings["context"] if w in vectors]
        mean = vectors.unit[[vectors.index[w] for w in known]].mean(axis=0)
        found = vectors.most_similar_to_vector(mean, topn=k, exclude=set(known))
        left_out = [w for w in settings["context"] if w not in vectors]
        note = CBOW_NOTE + (f" ({', '.join(left_out)}: not in {key}'s vocabulary, left out.)" if left_out else "")
    return {"words": [word for word, _ in found], "model": key, "note": note}
