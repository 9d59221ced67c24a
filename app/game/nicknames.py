"""Nicknames on the boards: what a player may type, and how two players with one name are shown apart.

A nickname must not pass for another one: "Alice" with a zero-width joiner inside, or with a
Cyrillic "А", would look identical on the projector. So names are NFKC-normalised (fullwidth and
"mathematical bold" letters become plain ones), invisible characters are refused (except the joiner
inside an emoji sequence), and one word may not mix scripts (Latin and Cyrillic, say). Several
honest "Alice"s stay several players: boards tell them apart by id and show "Alice", "Alice #2". That
" #2" is the app's alone: a typed name may not end in a number sign and digits, or a player who types
"Alice #2" would look exactly like the second Alice.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Hashable, Iterable

NICKNAME_MAX = 24
ZERO_WIDTH_JOINER = "\u200d"
# Scripts that one word may legitimately combine (Japanese mixes kanji and kana; Korean may add hanja).
SCRIPT_FAMILIES = {"CJK": "CJK", "HIRAGANA": "CJK", "KATAKANA": "CJK", "HANGUL": "CJK"}
# How distinct_names marks a namesake ("Alice #2"), and what a typed name may not imitate it with: a
# number sign or one that looks like it (♯ music sharp, ⌗ viewdata square; fullwidth and small number
# signs are "#" after NFKC), then digits of any script, at the end.
NAMESAKE_MARK = " #{}"
IMITATED_MARK = re.compile(r"\s*[#♯⌗]\s*(\d+)$")


class InvalidNickname(ValueError):
    pass


def _is_emoji(char: str) -> bool:
    return unicodedata.category(char) == "So" or "\U0001f000" <= char <= "\U0001faff"


def _is_invisible(nickname: str, index: int) -> bool:
    """Format characters (zero-width spaces and joiners, bidi marks, BOM) and non-printables;
    a zero-width joiner between two emoji is how 👩‍🎤 is written, so that one is allowed."""
    char = nickname[index]
    if char == ZERO_WIDTH_JOINER:
        before, after = nickname[index - 1:index], nickname[index + 1:index + 2]
        emoji_before = before == "\ufe0f" or (before and _is_emoji(before))
        return not (emoji_before and after and _is_emoji(after))
    return unicodedata.category(char) in ("Cf", "Cc", "Co", "Cn", "Cs") or not (char.isprintable() or char == " ")


def script(char: str) -> str | None:
    """The script of a letter (LATIN, CYRILLIC, GREEK, CJK…) from its Unicode name; None for
    digits, punctuation, emoji and marks, which go with any script."""
    if not unicodedata.category(char).startswith("L"):
        return None
    first = unicodedata.name(char, "UNKNOWN").split()[0]
    if first == "MODIFIER":
        return None
    return SCRIPT_FAMILIES.get(first, first)


def validate_nickname(raw: str) -> str:
    """The nickname as stored: NFKC, trimmed, 1-24 visible characters, one script per word.

    Any script, emoji and quotes are fine: the database gets it as a bound parameter and the pages
    show it as text. What could disguise one name as another is refused, with the reason."""
    nickname = unicodedata.normalize("NFKC", raw or "").strip()
    if not nickname:
        raise InvalidNickname("Type a nickname (1 to 24 characters).")
    if len(nickname) > NICKNAME_MAX:
        raise InvalidNickname(f"That nickname has {len(nickname)} characters; the limit is {NICKNAME_MAX}: "
                              f"shorten it.")
    if mark := IMITATED_MARK.search(nickname):
        instead = nickname[:mark.start()] + mark.group(1)  # "Alice #2" → "Alice2"
        raise InvalidNickname(f"A nickname cannot end in “{mark.group().strip()}”: the board adds “#2”, “#3” to "
                              f"tell apart players with the same name. Try “{instead}” or another name.")
    hidden = sorted({f"U+{ord(nickname[i]):04X}" for i in range(len(nickname)) if _is_invisible(nickname, i)})
    if hidden:
        raise InvalidNickname(f"Nicknames can only hold visible, printable characters (not {', '.join(hidden)}).")
    for word in nickname.split():
        scripts = sorted({s for s in map(script, word) if s})
        if len(scripts) > 1:
            raise InvalidNickname(f"“{word}” mixes {' and '.join(s.title() for s in scripts)} letters, which can "
                                  f"pass for another name: write each word in one alphabet.")
    return nickname


def name_key(nickname: str) -> str:
    """Names that read the same on a board (case aside) share a key."""
    return unicodedata.normalize("NFKC", nickname).casefold()


def distinct_names(players: Iterable[tuple[Hashable, str]]) -> dict[Hashable, str]:
    """{player id: name as shown}, in the order given (earliest first): the first "Alice" stays
    "Alice", the next ones become "Alice #2", "Alice #3"."""
    seen: dict[str, int] = {}
    shown = {}
    for player_id, nickname in players:
        key = name_key(nickname)
        seen[key] = seen.get(key, 0) + 1
        shown[player_id] = nickname if seen[key] == 1 else nickname + NAMESAKE_MARK.format(seen[key])
    return shown
