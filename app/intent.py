"""Intent parsing: what kind of question is this, and what is it about."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum


class IntentKind(StrEnum):
    """What a question asks for; the values are the `intent` strings of `ask --json`."""

    LIST = "list_topics"
    COVER = "which_topics"
    TOPIC = "topic_detail"
    COMPARE = "compare"
    MAP = "map"
    PAPERS = "papers"
    FOCUS = "focus"
    CLEAR = "clear_focus"
    EMPTY = "empty"


@dataclass
class Intent:
    """The parsed question: a kind, the content to search for, topic ids it names, follow-up flag."""

    kind: IntentKind
    content: str
    topic_ids: list[int] = field(default_factory=list)
    follow_up: bool = False


_TOPIC_REF = re.compile(r"\btopics?\s*#?\s*(\d+)", re.IGNORECASE)
_LIST = re.compile(
    r"^\s*(please\s+)?((list|show|browse|give me|display)\s+(me\s+)?(all\s+)?(the\s+)?topics|"
    r"what\s+topics\s+(are\s+there|exist|do you have|does (it|the corpus|this corpus) (have|hold|contain))|"
    r"(give me an\s+)?overview|topics\??$|what\s+is\s+in\s+(the|this)\s+(corpus|collection|index)|"
    r"what\s+are\s+the\s+(main|major|key|big|broad)\s+(areas|themes|topics|fields|research areas)\b)",
    re.IGNORECASE,
)
_COVER = re.compile(
    r"^\s*(which|what)\s+topics?\s+(cover|covers|are about|is about|discuss|discusses|deal with|deals with|"
    r"mention|mentions|talk about|relate to|concern|include|address|addresses)\s+(?P<x>.+)$"
    r"|^\s*(list\s+|show\s+(me\s+)?)?topics?\s+(about|on|covering|related to)\s+(?P<y>.+)$",
    re.IGNORECASE,
)
_MAP = re.compile(r"\b(show|draw|plot|display)\b.*\b(map|plot|scatter)\b", re.IGNORECASE)
_COMPARE = re.compile(r"\bcompare\b", re.IGNORECASE)
_DETAIL = re.compile(
    r"\b(tell me about|describe|what is|what's|explain|details? (of|on|about)|summari[sz]e|show)\b", re.IGNORECASE
)
_FOLLOW = re.compile(
    r"^\s*(and|also|what about)\b\s*|\b(which|what|of|among)\s+(of\s+)?(those|these|them)\b\s*", re.IGNORECASE
)
_FOCUS = re.compile(
    r"^\s*(use|only|focus on|restrict to|search( only)?( in)?|stick to)\s+topics?\s+(?P<ids>[\d,\sand]+)\s*$",
    re.IGNORECASE,
)
_CLEAR = re.compile(
    r"^\s*(use all topics|all topics|clear (the )?focus|search everything|reset)\s*[.!]?\s*$", re.IGNORECASE
)
_PAPERS_LEAD = re.compile(
    r"^\s*((which|what)\s+(papers|documents|articles|abstracts|works|studies)\s+(do|does|are|is|about|on|that|discuss|use|propose)?\s*|"
    r"(find|show|list|give)\s+(me\s+)?(papers|documents|articles|abstracts)\s+(about|on|that|which)?\s*)",
    re.IGNORECASE,
)


def _strip(text: str) -> str:
    return re.sub(r"[?!.\s]+$", "", text.strip())


def parse_intent(question: str) -> Intent:
    """Classify a question; the rules look at phrasing only, never at the corpus."""
    q = question.strip()
    if not q:
        return Intent(IntentKind.EMPTY, "")
    follow = bool(_FOLLOW.search(q))
    refs = [int(n) for n in _TOPIC_REF.findall(q)]
    focus = _FOCUS.match(q)
    if focus:
        return Intent(IntentKind.FOCUS, "", [int(n) for n in re.findall(r"\d+", focus.group("ids"))])
    if _CLEAR.match(q):
        return Intent(IntentKind.CLEAR, "")
    if _MAP.search(q):
        return Intent(IntentKind.MAP, _strip(q), refs, follow)
    if _COMPARE.search(q) and len(refs) >= 2:
        return Intent(IntentKind.COMPARE, _strip(q), refs[:2], follow)
    m = _COVER.match(q)
    if m:
        return Intent(IntentKind.COVER, _strip(m.group("x") or m.group("y")), refs, follow)
    if _LIST.match(q):
        return Intent(IntentKind.LIST, "", refs, follow)
    if refs and (_DETAIL.search(q) or re.fullmatch(r"\s*topic\s*#?\s*\d+\s*\??\s*", q, re.IGNORECASE)):
        return Intent(IntentKind.TOPIC, _strip(q), refs[:1], follow)
    content = _PAPERS_LEAD.sub("", _FOLLOW.sub(" ", q).strip())
    return Intent(IntentKind.PAPERS, _strip(content) or _strip(q), refs, follow)
