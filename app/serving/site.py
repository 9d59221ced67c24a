"""The app's pages, in menu order: one list that the navigation and the home page both read."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from app import PROJECT

SCREENSHOTS = PROJECT / "docs" / "screenshots"  # written by the e2e suite


@dataclass(frozen=True)
class PageInfo:
    file: str
    title: str
    icon: str
    url_path: str
    blurb: str  # one line for the home page

    def screenshot(self, device: str = "desktop") -> Path:
        """The page's picture (docs/screenshots/<url_path>-<device>.png, "home" for the home page),
        taken by tests/e2e/test_screenshots.py; it may not exist yet for a new page."""
        return SCREENSHOTS / f"{self.url_path or 'home'}-{device}.png"


HOME = PageInfo("pages/home.py", "Home", "🧵", "", "")
PAGES = [
    PageInfo("pages/embeddings.py", "Embedding explorer", "🧭", "explorer",
             "word2vec skip-gram and CBOW trained on the reviews, and GloVe, in 3D: neighbours, "
             "analogies, odd one out, two models side by side"),
    PageInfo("pages/fake_or_real.py", "Fake or real?", "🎭", "fake-or-real",
             "real review sentences against sentences the LSTM wrote: play from your phone and join "
             "the room leaderboard"),
    PageInfo("pages/present.py", "Room mode", "📽️", "present",
             "for the speaker: put one sentence on the projector, the room votes from phones, then the reveal"),
    PageInfo("pages/play.py", "Join a room", "📱", "play",
             "for the audience: the room code from the big screen, a nickname, and vote from your phone"),
    PageInfo("pages/speaker.py", "Give the talk", "🎤", "speaker",
             "for the speaker: the whole talk from the app, a stage for the projector and the room answering every beat"),
    PageInfo("pages/stage.py", "Stage", "🖥️", "stage",
             "the talk's projector view (opened from the speaker view, by the room's code)"),
    PageInfo("pages/results.py", "Talk results", "🏆", "results",
             "after a talk: the podium, the room's answers to every beat and their CSV, by the room's code"),
    PageInfo("pages/lstm_gates.py", "LSTM gates, live", "🔬", "lstm-gates",
             "the input, forget and output gates, cell and hidden state of a character LSTM as you type"),
    PageInfo("pages/playground.py", "LM playground", "✍️", "playground",
             "generate with temperature and top-k, score a sentence, fill the blank"),
    PageInfo("pages/why_lstm.py", "Why LSTM?", "📉", "why-lstm",
             "vanishing and exploding gradients, clipping, and what memory buys on a recall task"),
    PageInfo("pages/train_your_own.py", "Train your own", "🧶", "train",
             "upload your own text, train word2vec and a char-LSTM, and see them in every page"),
]
