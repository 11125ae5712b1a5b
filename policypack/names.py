"""Names and the characters in them: what may be read, and when two names look the same.

* `bad_char` finds characters that XML (so DOCX and HTML) cannot hold, and the other control
  characters that have no place in policy text: the loader refuses them in every value and key.
* `invisible_char` finds characters that change how a name compares without changing how it looks
  (Unicode format characters, category Cf: zero-width spaces and joiners, the soft hyphen, bidi
  embeddings, overrides and isolates, the byte-order mark).
* `skeleton` folds a name or a text so that look-alikes compare equal: NFKC, format characters
  removed, case folded, confusable characters mapped to the ASCII letters they imitate (after
  Unicode's confusables data, UTS #39, as shipped by the `confusable-homoglyphs` package), a few
  ASCII look-alikes folded (I l 1 |, O 0, rn m), and every run of white space made one space.
  Two names with the same skeleton are the same name to a reader.
* `NameFinder` finds any of a set of names in a text, compared by skeleton, in one pass over the
  text (a regular expression built from a trie of the skeletons), longest name first.
"""
from __future__ import annotations

import bisect
import functools
import json
import re
import unicodedata
from importlib import resources
from typing import Iterator, Optional

import ahocorasick

# Ids that would collide with a file the build writes: OUT/index.html and OUT/review.html, and
# OUT/<org>/index.html (the pack page). Refused for policies and organisations alike.
RESERVED_IDS = frozenset({"index", "review"})

# Characters XML 1.0 cannot hold (C0 controls but tab, LF, CR; surrogates; U+FFFE, U+FFFF), and
# DEL and the C1 controls, which it can but which are terminal escapes and never policy text.
_BAD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
# In a key (and so in messages that quote it) tab, LF and CR are refused as well.
_BAD_IN_KEY = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")


def describe(ch: str) -> str:
    """'U+200B ZERO WIDTH SPACE' (or just the code point for a character with no name)."""
    name = unicodedata.name(ch, "")
    return f"U+{ord(ch):04X}" + (f" {name}" if name else "")


def bad_char(text: str, key: bool = False) -> Optional[tuple]:
    """(index, character) of the first character that may not appear in a value (or key), or None."""
    m = (_BAD_IN_KEY if key else _BAD).search(text)
    return (m.start(), m.group()) if m else None


def invisible_char(text: str) -> Optional[str]:
    """The first format (Cf) character in `text`, or None."""
    if text.isascii():
        return None
    for ch in text:
        if unicodedata.category(ch) == "Cf":
            return ch
    return None


def odd_space(text: str) -> Optional[str]:
    """A description of white space that would make a name look like another, or None."""
    if text != text.strip():
        return "starts or ends with a space"
    if "  " in text:
        return "has two spaces in a row"
    for ch in text:
        if ch != " " and (ch.isspace() or unicodedata.category(ch) == "Zs"):
            return f"holds {describe(ch)} instead of an ordinary space"
    return None


# ---- skeletons ---------------------------------------------------------------------------------

# ASCII look-alikes, after case folding (upper-case I is the classic stand-in for l); and m,
# which UTS #39 maps to "rn". Applied with str.replace, which stays fast on any text.
_ASCII_FOLD = (("i", "l"), ("1", "l"), ("|", "l"), ("0", "o"), ("m", "rn"))
_NON_ASCII = re.compile(r"[^\x00-\x7f]")
# a word (a run of non-space) holding a non-ASCII character; matched from the word's start so
# that the scan stays linear
_NON_ASCII_WORD = re.compile(r"(?<!\S)[\x21-\x7e]*[^\x00-\x7f]\S*")


@functools.lru_cache(maxsize=1)
def _confusables() -> dict:
    """character -> the ASCII text it imitates, from Unicode's confusables data (UTS #39)."""
    data = json.loads(resources.files("confusable_homoglyphs").joinpath("confusables.json")
                      .read_text(encoding="utf-8"))
    table = {}
    for ch, homoglyphs in data.items():
        if len(ch) != 1 or ch.isascii():
            continue
        targets = [h["c"] for h in homoglyphs if h["c"].isascii() and h["c"].strip() and h["c"].isprintable()]
        if targets:  # prefer a letter or digit to punctuation, then the shortest
            table[ch] = min(targets, key=lambda t: (not t.isalnum(), len(t), t))
    return table


@functools.lru_cache(maxsize=4096)
def _fold_char(ch: str) -> str:
    """One non-ASCII character, folded: removed if it is a format character, else mapped to what
    it imitates, before and after case folding (Cyrillic capital В imitates B, small в nothing)."""
    if unicodedata.category(ch) == "Cf":
        return ""
    table = _confusables()
    out = table.get(ch, ch).casefold()
    return "".join(table.get(c, c) if not c.isascii() else c for c in out).lower()


def _fold_match(m) -> str:
    return _fold_char(m.group())


@functools.lru_cache(maxsize=16384)
def _fold_word(word: str) -> str:
    """A run of non-space characters holding some non-ASCII: NFKC, then each character folded."""
    return _NON_ASCII.sub(_fold_match, unicodedata.normalize("NFKC", word))


def _fold_word_match(m) -> str:
    return _fold_word(m.group())


@functools.lru_cache(maxsize=65536)
def skeleton(text: str) -> str:
    """The form in which look-alike names compare equal (see the module's doc). Cached: most
    clause texts recur, unchanged, in every school's copy."""
    if not text.isascii():  # only the words with a non-ASCII character need Unicode's tables
        text = _NON_ASCII_WORD.sub(_fold_word_match, text)
    text = text.lower()
    for a, b in _ASCII_FOLD:
        text = text.replace(a, b)
    return " ".join(text.split())


# ---- finding names in text ---------------------------------------------------------------------


class NameFinder:
    """Finds `names` in text by skeleton (those of at least `min_length` characters)."""

    def __init__(self, names, min_length: int = 1):
        self.skeletons = {name: skeleton(name) for name in names}  # every name's, short ones too
        self.by_skeleton: dict = {}
        for name, skel in self.skeletons.items():
            if len(name) >= min_length and skel:
                self.by_skeleton.setdefault(skel, []).append(name)
        # one Aho-Corasick automaton over every skeleton: a scan is linear in the text, however many
        # names there are and however many share a first word ("The ...")
        self.automaton = None
        if self.by_skeleton:
            self.automaton = ahocorasick.Automaton()
            for skel in self.by_skeleton:
                self.automaton.add_word(skel, len(skel))
            self.automaton.make_automaton()

    def _scan(self, text: str) -> Iterator[tuple]:
        """(start, skeleton) of each name in `text`: whole words only, leftmost first, and of the
        names starting at one place the longest, never overlapping."""
        found = []
        for end, length in self.automaton.iter(text):
            start = end - length + 1
            before = text[start - 1] if start else " "
            after = text[end + 1] if end + 1 < len(text) else " "
            if not (before.isalnum() or before == "_" or after.isalnum() or after == "_"):
                found.append((start, -length))
        pos = 0
        for start, negative in sorted(found):
            if start >= pos:
                yield start, text[start:start - negative]
                pos = start - negative

    def find(self, text: str) -> Iterator[str]:
        """The names mentioned in `text`, in order, whole words only, however written (of names
        with one skeleton, the first given); a longer name wins, so "Kestrel Park Academy" is not
        also read as "Kestrel Park"."""
        if self.automaton is None or not text:
            return iter(())
        return (self.by_skeleton[skel][0] for _, skel in self._scan(skeleton(text)))

    def find_each(self, texts: list) -> Iterator[tuple]:
        """(index of the text, name) for every name in `texts`, in order, with one scan for all the
        texts together (each text still stands alone: a name never spans two)."""
        if self.automaton is None:
            return
        joined = "\x00".join(skeleton(t).replace("\x00", " ") for t in texts)
        starts, at = [0], joined.find("\x00")
        while at >= 0:
            starts.append(at + 1)
            at = joined.find("\x00", at + 1)
        for start, skel in self._scan(joined):
            yield bisect.bisect_right(starts, start) - 1, self.by_skeleton[skel][0]
