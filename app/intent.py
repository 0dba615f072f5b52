"""Intent parsing: what kind of question is this, and what is it about."""

from __future__ import annotations

import re
from collections.abc import Callable
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
    TREND = "trend"
    EMERGING = "emerging"
    THEMES = "themes"
    CHANGED = "what_changed"
    COUNT = "count"
    AUTHORS = "authors"
    LARGEST = "largest_topics"
    DOCUMENT = "document"
    HELP = "help"
    ABOUT = "about_index"
    EMPTY = "empty"


@dataclass
class Intent:
    """The parsed question: a kind, the content to search for, topic ids it names, follow-up flag."""

    kind: IntentKind
    content: str
    topic_ids: list[int] = field(default_factory=list)
    follow_up: bool = False
    window: tuple[int, str] | None = None  # "in the last three months" -> (3, "month")
    declining: bool = False  # "which topics declined?"
    problems: bool = False  # "what are the open problems?"
    subjects: list[str] = field(default_factory=list)  # "compare A and B" -> ["A", "B"]
    noun: str = ""  # what a count counts, in the user's word: "how many bills ..." -> "bills"
    period: str = ""  # "in 2025" / "in 2025-03": the period a count or search is restricted to
    recent: bool = False  # "the latest papers on X": the most recent of the relevant documents
    oldest: bool = False  # "the oldest papers on X": the earliest-dated of the relevant documents
    by_citations: bool = False  # "the most cited papers on X": ranked by a citation count, where the index has one
    person: str = ""  # "papers by Jane Doe": the author whose documents are asked for
    cited: int = 0  # "tell me about [2]": the previous answer's source number
    doc_ref: str = ""  # "papers similar to 2505.00059": a document id
    similar: bool = False  # "more like [2]": documents close to that one
    elliptical: bool = False  # "and in 2026?", "what about speech?": the previous question, changed
    peak: str = ""  # "which month had the most papers on X?": "most" (or "fewest")
    unit: str = ""  # ... and the period it asks for: "month", "quarter", "year" ("" when not named)
    limit: int = 0  # "give me 10 papers on X", "the 5 largest topics": how many to show (0: the default)
    excluded: str = ""  # "papers on RAG but not medical": documents holding these words are left out
    where: tuple[str, str] | None = None  # "questions with label svn": only documents whose column holds the value


_TOPIC_REF = re.compile(r"\btopics?\s*#?\s*(-?\d+)", re.IGNORECASE)  # "-5" too: refused by name, not searched
# "topics 1 and 4", "topic 1 and topic 4", "topics 2, 5 or 7", "topics 3-6": one topic named, then more; a bare
# number that reads as a year ("topic 3 and 2025") is not a topic
_MORE_TOPIC = r"(?:(?:topics?\s*)?#\s*\d+|topics?\s*\d+|(?!(?:19|20)\d\d\b)\d+)\b"
_TOPIC_LIST = re.compile(
    rf"\btopics?\s*#?\s*(?P<first>-?\d+)\b(?P<more>(?:\s*(?:,\s*(?:and|or|&)?|and|&|or|and/or)\s*{_MORE_TOPIC})+|"
    rf"\s*(?:-|–|to|through|thru)\s*{_MORE_TOPIC})?",
    re.IGNORECASE,
)
_BARE_TOPIC = re.compile(  # "topic 3?", "topics 1 and 4", "what are topics 2 and 3 about?"
    r"\s*((what\s+(is|are|was|were)|show|list|give)\s+(me\s+)?)?(the\s+)?topics?\s*#?\s*\d+(\s+about)?\s*[?.!]*\s*",
    re.IGNORECASE,
)
_NAMED_TOPIC = re.compile(  # "tell me about the hallucination topic", "papers in the topic on speech"
    r"^\s*(please\s+)?(((list|show|give)\s+(me\s+)?)?(what\s+are\s+)?(all\s+)?(the\s+)?(papers|documents|articles)\s+"
    r"(in|of|from)|tell\s+me\s+(more\s+)?about|describe|show(\s+me)?|list|what\s+is\s+in|what\s+is|what's|"
    r"explain|summari[sz]e|details?\s+(of|on|about))\s+(the|that)\s+(?P<t>(?P<x>[\w\s'’-]+?)\s+(topic|cluster)|(topic|cluster)\s+(on|about|"
    r"for|of|covering)\s+(?P<y>.+?))\s*[?.!]*\s*$",
    re.IGNORECASE,
)
_NOT_A_TOPIC_NAME = re.compile(  # "what is the main topic?", "what is the topic of this paper?": no subject named
    r"^(main|biggest|largest|smallest|most\s+\w+|top|next|previous|last|same|other|whole|this|that|these|its|their|"
    r"(this|that|the|my|your)\s+\w+)$",
    re.IGNORECASE,
)
MAX_TOPIC_RANGE = 20  # "topics 3-6" names 3, 4, 5 and 6; a longer range is read as its two ends


def topic_list(q: str) -> tuple[list[int], str]:
    """The topic ids a question names, in order, and the question with each list of topics written as its
    first one ("papers in topics 1 and 4 about X" -> [1, 4], "papers in topic 1 about X"), so that the
    patterns below read one topic however many are named."""
    ids: list[int] = []

    def one(m: re.Match[str]) -> str:
        first, more = int(m.group("first")), m.group("more") or ""
        after = [int(n) for n in re.findall(r"\d+", more)]
        if (
            re.match(r"\s*(-|–|to\b|through\b|thru\b)", more, re.IGNORECASE)
            and 0 <= first < after[0] <= first + MAX_TOPIC_RANGE
        ):
            after = list(range(first + 1, after[0] + 1))
        ids.extend([first, *after])
        return f"topic {first}" if more else m.group(0)

    rest = _TOPIC_LIST.sub(one, q)
    return list(dict.fromkeys(ids)), rest


_CHANGED = re.compile(
    r"^\s*what\s+(has\s+|have\s+)?changed\s*(\?|$|since\b|in\s+(the|this)\s+(index|corpus|collection|data\s*set)\b)|"
    r"\bchanges?\s+since\b|\bsince\s+the\s+(last|previous)\s+(update|build|rebuild|version|index|generation)\b|"
    r"\b(what|which)\s+(documents|papers|abstracts)\s+(were|have\s+been)\s+(added|removed)\b",
    re.IGNORECASE,
)
_LIST = re.compile(
    r"^\s*(please\s+)?((list|show|browse|give me|display)\s+(me\s+)?(all\s+)?(the\s+)?topics|"
    r"what\s+topics\s+(are\s+there|exist|do you have|does (it|the corpus|this corpus) (have|hold|contain))|"
    r"(give me an\s+)?overview|topics\??$|what\s+is\s+in\s+(the|this)\s+(corpus|collection|index))",
    re.IGNORECASE,
)
_COVER = re.compile(
    r"^\s*(which|what)\s+topics?\s+(cover|covers|are about|is about|discuss|discusses|deal with|deals with|"
    r"mention|mentions|talk about|relate to|concern|include|address|addresses)\s+(?P<x>.+)$"
    r"|^\s*(list\s+|show\s+(me\s+)?|(is|are)\s+there\s+(an?\s+|any\s+)?)?(all\s+)?(the\s+)?(topics?|clusters?)\s+"
    r"(about|on|covering|related to|for)\s+(?P<y>.+)$",
    re.IGNORECASE,
)
_MAP = re.compile(r"\b(show|draw|plot|display)\b.*\b(map|plot|scatter)\b", re.IGNORECASE)
_COMPARE = re.compile(r"\bcompare\b", re.IGNORECASE)
_DETAIL = re.compile(
    r"\b(tell\s+me\s+((more|a\s+bit\s+more|a\s+little\s+more|something|everything|all)\s+)?about|describe|what\s+is|"
    r"what's|explain|details?\s+(of|on|about)|summari[sz]e|show|expand\s+on|elaborate\s+on|dig\s+into|go\s+into)\b|"
    r"^\s*more\s+(on|about)\b|^\s*what\s+(does|do)\s+.*\b(cover|contain|hold)\s*[?.!]*\s*$",
    re.IGNORECASE,
)
_FOLLOW = re.compile(
    r"^\s*(and|also|what about)\b\s*|\b(which|what|of|among)\s+(of\s+)?(those|these|them)\b\s*|"
    r"^\s*((only|just)\s+(the\s+ones|those|these|them)|(which|what)\s+ones|the\s+ones)\b\s*",  # "only the ones from May"
    re.IGNORECASE,
)
_NARROWING = re.compile(  # "which of those mention RL?": the subject is RL, not "mention RL"
    r"^\s*((are|were|is|was|have\s+been|has\s+been)\s+)?((published|written|posted|released|listed|added|dated|"
    r"submitted|came\s+out|come\s+out|appeared)(\s+(in|on|from|during|since|after|before))?\s*[?.!]*\s*$|(use|uses|using|used|mention|mentions|mentioning|"
    r"discuss|discusses|discussing|study|studies|propose|proposes|address|addresses|apply|applies|cover|covers|"
    r"involve|involves|evaluate|evaluates|focus\s+on|focuses\s+on|deal\s+with|deals\s+with|talk\s+about|"
    r"talks\s+about|about|on)\s+|(are|were|is|was)\s*[?.!]*\s*$)",
    re.IGNORECASE,
)
_FOCUS = re.compile(
    r"^\s*(use|only|focus on|restrict to|search( only)?( in)?|stick to)\s+topics?\s+(?P<ids>[\d,\sand]+)\s*$",
    re.IGNORECASE,
)
_CLEAR = re.compile(
    r"^\s*(use all topics|all topics|clear (the )?focus|search everything|reset)\s*[.!]?\s*$", re.IGNORECASE
)
# what other corpora call their documents ("news on Apple", "which bills are about health care?")
_OTHER_DOCS = (
    r"news|stories|headlines|bills|posts|reports|texts|entries|records|reviews|tweets|emails|messages|letters|docs|"
    r"questions|threads|tickets|comments"
)
_PAPERS_LEAD = re.compile(
    r"^\s*((which|what)\s+(are\s+the\s+((main|top|key|biggest|latest|recent|major)\s+)?)?"
    rf"(papers|documents|articles|abstracts|works|studies|{_OTHER_DOCS})\s+"
    r"((is|are)\s+there\s+(on|about|regarding)|do|does|are|is|about|on|that|discuss|use|propose|mention|mentioning|"
    r"regarding)?\s*|"
    r"(is|are)\s+there\s+(any(thing|\s+\w+)?|some(thing|\s+\w+)?|(a|an)\s+\w+|\w+)\s+(on|about|regarding|mentioning)\s+|"
    r"what\s+(do|does|did|are|is|have|has)\s+(the\s+)?(papers|documents|articles|abstracts|studies|literature|research|"
    r"researchers|authors|people|scientists|experts)\s+(say|saying|said|tell\s+us|telling\s+us|report|reported|find|"
    r"found|finding|show|shown|conclude|concluded|think|thinking|write|writing|written)\s+(about|on|regarding)\s+|"
    r"what\s+(is|has\s+been)\s+(known|said|written|reported|found)\s+(about|on|regarding)\s+|"
    r"what\s+(has\s+|have\s+)?(happened|happens|is\s+happening)\s+(in|with|to|on|around)\s+|"
    rf"summari[sz]e\s+(what\s+)?(the\s+)?(papers|documents|articles|abstracts|research|literature|{_OTHER_DOCS})\s+"
    r"(say\s+)?(on|about|regarding)\s+|"
    r"((please\s+)?((can|could|would)\s+you\s+)?(help\s+me\s+)?(find|show|list|give|get)\s+(me\s+)?)?(the\s+)?"
    r"((top|first|best)\s+)?((\d{1,2}|two|three|four|five|six|seven|eight|nine|ten|twenty|some|all|a\s+few)\s+)?"
    rf"(papers|documents|articles|abstracts|{_OTHER_DOCS})\s+(about|on|that|which|mentioning|regarding)\s*|"
    r"((please\s+)?((can|could|would)\s+you\s+)?(help\s+me\s+)?(find|show|list|give|get)\s+(me\s+)?)(the\s+)?"
    r"((top|first|best)\s+)?((\d{1,2}|two|three|four|five|six|seven|eight|nine|ten|twenty|some|all|a\s+few)\s+)?"
    rf"(papers|documents|articles|abstracts|{_OTHER_DOCS})\s*)",
    re.IGNORECASE,
)


_TREND = (
    re.compile(
        r"\bhow\s+(has|have|did|does|do|is|are)\s+(?P<x>.+?)\s+(changed?|evolved?|developed?|grown|grow|growing|"
        r"shifted|progressed|moved|trended|done)\b(?=\s*(over\s+time|in\b|since\b|during\b|recently|lately|so\s+far|"
        r"from\b|between\b|[?.!]|$))(\s+over\s+time)?",
        re.IGNORECASE,
    ),
    re.compile(
        r"\b(trends?|evolution|development|popularity|growth|history|timeline)\s+(of|in|for|on)\s+(?P<x>.+)$",
        re.IGNORECASE,
    ),
    re.compile(r"^\s*(show\s+(me\s+)?)?(?P<x>.+?)\s+(over|through|across)\s+time\b", re.IGNORECASE),
    re.compile(r"\b(is|are)\s+(?P<x>.+?)\s+(growing|declining|rising|falling|shrinking|on the rise)\b", re.IGNORECASE),
    re.compile(
        r"^\s*(is|are)\s+(?P<x>.+?)\s+(getting|becoming|growing)\s+(more\s+|less\s+)?(popular|common|important|"
        r"widespread|prominent|mainstream|studied|researched)\b",
        re.IGNORECASE,
    ),
    re.compile(
        r"^\s*(has|have|did)\s+(?P<x>.+?)\s+(declined|decline|grown|grow|risen|rise|fallen|fall|dropped|drop|increased|"
        r"increase|decreased|decrease|peaked|peak|taken\s+off|take\s+off|died\s+down|cooled)\b",
        re.IGNORECASE,
    ),
    re.compile(r"^\s*what\s+(has\s+|have\s+)?changed\s+(in|about|for)\s+(?P<x>.+)$", re.IGNORECASE),
)
_TREND_FILLER = re.compile(
    r"^\s*(the\s+)?((research|work|papers?|publications?|interest|studies|attention|activity)\s+(on|in|about|into|to)|"
    r"(the\s+)?(topic|field|area)\s+of)\s+",
    re.IGNORECASE,
)
_SUBJECTS = r"(topics?|areas?|themes?|research|directions?|fields?|subjects?|subtopics?)"
_MOVES = (
    r"(grew|grow|grown|growing|rose|risen|rising|gained|gaining|emerged|emerging|declined?|declining|shr[ai]nk|"
    r"shrunk|shrinking|fell|fallen|falling|faded|fading|lost|losing|cooled|disappeared|disappearing|vanished|died\s+out|"
    r"dropped|dropping)"
)
_EMERGING = re.compile(
    rf"\b(what|which)(\s+(topics?|areas?|themes?|subjects?|fields?|research|directions?))?(\s+(is|are)|'s|’s)\s+"
    r"(emerging|trending|new|hot|rising|growing|declining|fading)\b(?!\s+(about|with|for|in\s+(size|importance|"
    r"length|number|use)))|"
    rf"\b(emerging|trending|hot|growing|fastest[- ]growing|declining|shrinking|rising|fading)\s+{_SUBJECTS}\b|"
    r"\bnew\s+(topics?|themes?|areas|subtopics?|directions)\b|"
    rf"\b(which|what)\s+{_SUBJECTS}\s+(have\s+|has\s+|are\s+|did\s+|were\s+)?{_MOVES}\b",
    re.IGNORECASE,
)
_DECLINING = re.compile(
    r"declin|shr[ai]nk|shrunk|\bfell\b|fall|fad(e|ed|ing)\b|\blost\b|losing|cool|disappear|vanish|died\s+out|dropp",
    re.IGNORECASE,
)
_NUMBERS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
    "ten": 10, "eleven": 11, "twelve": 12, "a": 1, "an": 1, "the": 1,
}  # fmt: skip
_COUNTED = "|".join(w for w in _NUMBERS if w not in ("a", "an", "the"))  # "show me the papers": no count
_WINDOW = re.compile(
    r"\b(last|past|previous|recent|this)\s+(?P<n>\d+|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve)?\s*"
    r"(?P<unit>months?|quarters?|years?|weeks?)(['’]s)?(?!\w)",
    re.IGNORECASE,
)
_WINDOW_PHRASE = re.compile(r"\s*\b(in|over|during|from|within|of|since)?\s*(the\s+)?" + _WINDOW.pattern, re.I)
_WINDOW_PHRASE_FOR = re.compile(r"\s*\b(in|over|during|from|within|of|since|for)?\s*(the\s+)?" + _WINDOW.pattern, re.I)


def _drop_window(text: str, also_for: bool = False) -> str:
    """The text without its window phrase ('... in the last three months'; 'for the last month' too)."""
    return (_WINDOW_PHRASE_FOR if also_for else _WINDOW_PHRASE).sub(" ", text)


_THEMES = re.compile(
    r"\b(main|major|key|big|broad|central|principal|overall|dominant)\s+(research\s+)?(themes?|areas|topics|research areas|"
    r"directions|fields|findings|research questions)\b|"
    r"^\s*what(\s+is|['’]s)\s+the\s+(main|overall|central|dominant|general)\s+(topic|theme|subject|focus)"
    r"(\s+(of|in)\s+(the|this)\s+(corpus|collection|index|data\s*set|documents|papers|abstracts|articles))?\s*[?.!]*\s*$|"
    r"\bsummari[sz]e\s+(the\s+|this\s+|whole\s+|entire\s+)*(corpus|collection|index|data\s*set|documents|papers|abstracts)\b|"
    r"\bsummary\s+of\s+(the\s+|this\s+|whole\s+|entire\s+)*(corpus|collection|index|data\s*set|documents|papers)\b|"
    r"\bwhat\s+(is|are)\s+(this|the)\s+(corpus|collection|index|data\s*set|documents|papers)\s+about\b",
    re.IGNORECASE,
)
_PROBLEMS = re.compile(
    r"\b(open|unsolved|unresolved|remaining|outstanding)\s+(research\s+)?(problems?|questions?|challenges?|issues?)\b|"
    r"\b(key|main|major|biggest|current)\s+(challenges|limitations|problems)\b|\bfuture\s+(work|directions)\b|"
    r"^\s*what\s+(are|were)\s+(the\s+)?(limitations|challenges|drawbacks|shortcomings|weaknesses)\s+(?=(of|in|for)\b)",
    re.IGNORECASE,
)
_PROBLEMS_SUBJECT = re.compile(r"\b(in|of|for|on|about|within)\s+(?P<x>.+)$", re.IGNORECASE)

_COUNT = re.compile(
    r"^\s*(and\s+)?(how\s+many|(what\s+is\s+|what's\s+)?the\s+number\s+of|number\s+of|count(\s+the)?)(\s+(?P<rest>.+)|"
    r"\s*[?.!]*\s*$)",
    re.IGNORECASE,
)
_SHARE = re.compile(
    r"^\s*(and\s+)?(how\s+much\s+of|what\s+(share|fraction|percentage|proportion|part|percent)\s+of)\s+"
    r"(the\s+|this\s+|these\s+|all\s+)*(?P<noun>[\w-]+)\s+(?P<rest>.*)$",
    re.IGNORECASE,
)
_COLLECTION = r"(corpus|collection|index|data\s*set|dataset)"
# Words a corpus calls its documents; a count question names one ("how many bills ...").
_DOC_NOUNS = frozenset(
    "papers documents articles abstracts studies works texts bills posts stories reports entries records items "
    "publications questions preprints docs pages reviews tweets news emails messages letters cases".split()
)  # plurals only: "how many question answering papers" counts papers
_TOPIC_NOUNS = frozenset("topics clusters areas themes subtopics".split())
_COUNT_LEAD = re.compile(
    rf"^(are|is|were|was|do|does|did|have|has|exist|there|in|within|of|inside|from|the|this|{_COLLECTION})\b\s*",
    re.IGNORECASE,
)
_COUNT_RELATION = re.compile(
    r"^(that|which|who|whose)?\s*(are|is|were|was|do|does|did|have|has)?\s*"
    r"(about|on|regarding|concerning|related\s+to|relating\s+to|dealing\s+with|deal\s+with|deals\s+with|"
    r"talk\s+about|talks\s+about|focus\s+on|focuses\s+on|focused\s+on|rely\s+on|relies\s+on|refer\s+to|"
    r"refers\s+to|ask(s|ed)?\s+about|asking\s+about|mention(s|ing)?|discuss(es|ing)?|cover(s|ing)?|address(es|ing)?|use(s|d)?|using|stud(y|ies)|"
    r"propose(s|d)?|investigate(s|d)?|explore(s|d)?|examine(s|d)?|evaluate(s|d)?|apply|applies|report(s)?|"
    r"describe(s|d)?|present(s)?|introduce(s|d)?|concern(s)?|involve(s|d)?|involving|analy[sz]e(s|d)?|"
    r"tackle(s|d)?|employ(s|ed)?|feature(s|d)?|with|in)?\b\s*",
    re.IGNORECASE,
)
_COUNT_TAIL = re.compile(
    rf"\s+((are|is)\s+there|(do|does)\s+(you|it|the\s+{_COLLECTION}|this\s+{_COLLECTION})\s+(have|hold|contain)|"
    rf"exist|(are|is)\s+(in|within)\s+(the|this)\s+{_COLLECTION}|(in|within)\s+(the|this)\s+{_COLLECTION}|"
    r"((are|were|have\s+been)\s+)?(published|written|listed|added|released|appeared|came\s+out))\s*$",
    re.IGNORECASE,
)


_YEAR = r"(19|20)\d\d(-[01]\d|Q[1-4])?"
_NOT_A_NOUN_AFTER = (  # not "2000 patients"; "in 2026 related to X" is a period
    r"(?!\s+(?!(to|and|on|about|in|until|through|or|with|for|only|related|relating|regarding|concerning)\b)[a-z]+)"
)
_CLAUSE_AFTER = (  # "papers in 2025 are about RAG", "... from 2025 that use LoRA": a period, then the clause
    r"(?=\s+(are|is|were|was|that|which|have|has|had|do|does|did|mention|mentioned|mentioning|discuss|discussed|"
    r"discussing|cover|covering|use|used|using|but|not|published|written|posted|listed|appeared|came)\b)"
)
_PERIOD = re.compile(  # "in 2025", "from 2025-03", "during 2025Q1"; not "from 2000 patients"
    rf"\s*\b(in|during|from|of)\s+(?P<p>{_YEAR})\b(?!-\d)({_NOT_A_NOUN_AFTER}|{_CLAUSE_AFTER})",
    re.IGNORECASE,
)
_RANGE = re.compile(
    rf"\s*\b(from|between|in|during)\s+(?P<a>{_YEAR})\s+(to|and|until|through|-)\s+(?P<b>{_YEAR})\b", re.IGNORECASE
)
_OPEN = re.compile(  # "since 2025-03", "after 2025", "before 2026": ranges open at one end
    rf"\s*\b(?P<w>since|after|before|until|till|up\s+to|prior\s+to)\s+(?P<p>{_YEAR})\b(?!-\d){_NOT_A_NOUN_AFTER}",
    re.IGNORECASE,
)
_MONTHS = {
    pattern: i + 1
    for i, pattern in enumerate(
        "jan(uary)? feb(ruary)? mar(ch)? apr(il)? may june? july? aug(ust)? sep(t|tember)? oct(ober)? nov(ember)? "
        "dec(ember)?".split()
    )
}


def month_number(text: str) -> int:
    """1-12 for a month's name alone ('April', 'apr.'), else 0."""
    word = text.strip().rstrip(".").lower()
    return next((n for pattern, n in _MONTHS.items() if re.fullmatch(pattern, word)), 0)


_MONTH_YEAR = re.compile(r"\b(?P<m>" + "|".join(_MONTHS) + r")\.?,?\s+(?P<y>(19|20)\d\d)\b(?!-\d)", re.IGNORECASE)
_QUARTER_YEAR = re.compile(
    r"\b(q(?P<q>[1-4])|(the\s+)?(?P<o>first|second|third|fourth)\s+quarter(\s+of)?)\s*,?\s+(?P<y>(19|20)\d\d)\b",
    re.IGNORECASE,
)


def normalise_dates(q: str) -> str:
    """'March 2025' -> '2025-03', 'Q1 2026' / 'the first quarter of 2026' -> '2026Q1' (the forms the period
    rules read)."""

    def month(m: re.Match[str]) -> str:
        n = next(i for pattern, i in _MONTHS.items() if re.fullmatch(pattern, m.group("m"), re.IGNORECASE))
        return f"{m.group('y')}-{n:02d}"

    def quarter(m: re.Match[str]) -> str:
        q = m.group("q") or str(["first", "second", "third", "fourth"].index(m.group("o").lower()) + 1)
        return f"{m.group('y')}Q{q}"

    return _QUARTER_YEAR.sub(quarter, _MONTH_YEAR.sub(month, q))


_BARE_MONTH = re.compile(  # "papers from April", "between March and May": a month named without its year
    r"\b(?P<pre>in|during|from|since|after|before|until|till|through|thru|between|of|for|to|and|or|vs\.?|versus|than|"
    r"compare|comparing)\s+(the\s+month\s+of\s+)?(?P<m>january|february|march|april|may|june|july|august|september|"
    r"sept|october|november|december)\b(?![-/]\d)(?!\.?,?\s*['’]?\d)",
    re.IGNORECASE,
)
_MONTH_AFTER = ("in", "during", "from", "since", "after", "before", "until", "till", "through", "thru", "between")
_MONTH_RANGE = re.compile(
    r"\b(from|between)\s+(?P<m1>[A-Za-z]+)\s+(?P<y1>\d{4})\s+(to|and|until|till|through|thru|-)\s+(?P<m2>[A-Za-z]+)\s+"
    r"(?P<y2>\d{4})\b"
)


def _is_month(m: re.Match[str]) -> bool:
    """Whether a `_BARE_MONTH` match is a month: lower-case 'may' and 'march' only after a word like 'in' or
    'since' ('papers that may help', 'the march of progress' are no dates)."""
    word = m.group("m")
    return not (word.lower() in ("may", "march") and word.islower() and m.group("pre").lower() not in _MONTH_AFTER)


def bare_months(q: str) -> list[str]:
    """The months a question names without a year as dates ('papers from April'; not 'papers that may help')."""
    return [m.group("m").capitalize() for m in _BARE_MONTH.finditer(q) if _is_month(m)]


def name_years(q: str, year_of: Callable[[int], int | None]) -> tuple[str, list[tuple[str, int]]]:
    """'papers from April' -> 'papers from April 2026': each month named without a year gets the year
    `year_of(month)` picks (None: left as written); also the (month, year) pairs it named (`_is_month`
    decides what is a month). A range read backwards ('from November to February') starts the year before."""
    named: list[tuple[str, int]] = []

    def one(m: re.Match[str]) -> str:
        word = m.group("m")
        if not _is_month(m):
            return m.group(0)
        year = year_of(month_number(word))
        if year is None:
            return m.group(0)
        named.append((word.capitalize(), year))
        return f"{m.group(0)} {year}"

    out = _BARE_MONTH.sub(one, q)
    if not named:
        return q, named

    def ordered(m: re.Match[str]) -> str:
        start, end = (
            (int(m.group("y1")), month_number(m.group("m1"))),
            (int(m.group("y2")), month_number(m.group("m2"))),
        )
        first = (m.group("m1").capitalize(), start[0])
        if start[1] and end[1] and start > end and first in named:
            named[named.index(first)] = (first[0], start[0] - 1)  # the note names the year read
            return m.group(0).replace(f"{m.group('m1')} {m.group('y1')}", f"{m.group('m1')} {start[0] - 1}", 1)
        return m.group(0)

    return _MONTH_RANGE.sub(ordered, out), named


def _shift(period: str, step: int) -> str:
    """The period just after (step 1) or before (step -1) a year, month or quarter."""
    if "Q" in period.upper():
        y, q = int(period[:4]), int(period[-1]) - 1 + step
        return f"{y + q // 4}Q{q % 4 + 1}"
    if "-" in period:
        y, m = int(period[:4]), int(period[5:7]) - 1 + step
        return f"{y + m // 12}-{m % 12 + 1:02d}"
    return str(int(period) + step)


_ONWARDS = re.compile(
    rf"\s*\b(?P<w>from|in|since)\s+(?P<p>{_YEAR})\s+(?P<t>on(?=\s*([?.!,;]|$))|onwards?|so\s+far|to\s+date|until\s+now|"
    r"till\s+now)\b",
    re.IGNORECASE,
)


def _period(q: str) -> tuple[str, str]:
    """The period a question names ('2025', '2025-03', '2019..2021' for a range; '2025-03..' since March
    2025, '..2025' before 2026) and the question without it."""
    onwards = _ONWARDS.search(q)  # "from 2025 onwards", "in 2026 so far"
    if onwards:
        p = onwards.group("p").upper()
        asked = p if onwards.group("w").lower() == "in" else f"{p}.."
        return asked, _ONWARDS.sub(" ", q, count=1)
    r = _RANGE.search(q)
    if r:
        return f"{r.group('a')}..{r.group('b')}", _RANGE.sub(" ", q, count=1)
    o = _OPEN.search(q)
    if o:
        word, p = o.group("w").lower(), o.group("p").upper()
        asked = {"since": f"{p}..", "after": f"{_shift(p, 1)}..", "before": f"..{_shift(p, -1)}"}.get(
            word.split()[0] if word != "prior to" else "before", f"..{p}"
        )
        return asked, _OPEN.sub(" ", q, count=1)
    m = _PERIOD.search(q)
    if m:
        return m.group("p"), _PERIOD.sub(" ", q, count=1)
    return "", q


def _count_subject(text: str) -> str:
    """'are about question answering' -> 'question answering'; 'are there' -> ''."""
    text = _PERIOD.sub("", text)
    text = re.sub(r"^\s*(in|within|from|of|under)\s+topics?\s*#?\s*-?\d+\b", "", text, flags=re.IGNORECASE)  # in `refs`
    text = re.sub(
        r"\s*\b(in\s+total|altogether|(per|each|every|a)\s+(year|month|quarter|week)|over\s+time|"
        r"by\s+(year|month|quarter)|(were|was|have\s+been|are)\s+(published|written|posted|listed|added))\b",
        " ",
        text,
        flags=re.IGNORECASE,
    )
    text = re.sub(
        r"^\s*(are|is)?\s*(in|within)\s+topic\s*#?\s*-?\d+\s*$|^\s*(does|do)\s+(topic\s*#?\s*-?\d+\s+)?"
        r"(have|hold|contain|include)\s*$",
        "",
        text,
        flags=re.IGNORECASE,
    )
    dangling = re.compile(r"((^|\s+)(in|over|during|within|for|from|of|since))+(\s+the)?\s*$", re.IGNORECASE)
    text = dangling.sub("", _strip(_WINDOW.sub("", text)).strip())  # "... in the [last three months]"
    text = dangling.sub("", _COUNT_TAIL.sub("", text))
    while True:
        shorter = _COUNT_LEAD.sub("", text, count=1)
        if shorter == text:
            break
        text = shorter
    subject = _strip(_COUNT_RELATION.sub("", text, count=1))
    subject = re.sub(r"\s+(in|within|from|under)\s+topics?\s*#?\s*-?\d+\b.*$", "", subject, flags=re.IGNORECASE)
    return re.sub(r"^(the|a|an)\s+(?=\S)", "", subject)  # "the environment": environment; not "The Who"


_FEWEST = r"fewest|fewer|less|least|lowest|smallest|minimum|quietest"
_PEAK = (
    re.compile(
        r"^\s*(in\s+|during\s+)?(which|what)\s+(month|year|quarter|period|time\s+period)\s+(had|has|have|saw|sees|got|"
        rf"was|were|did|brought|held|produced|showed)\s+(the\s+)?(?P<m>most|more|{_FEWEST}|fewer|less|highest|largest|biggest|"
        r"greatest|peak|maximum)\b(?P<rest>.*)$",
        re.IGNORECASE,
    ),
    re.compile(
        rf"^\s*when\s+(were|was|did|have|has|are|is)\s+(the\s+)?(?P<m>most|{_FEWEST})\s+(?P<rest>((new|recent)\s+)?"
        r"(papers|documents|articles|abstracts|publications|preprints|studies|works?|research)\b.*)$",
        re.IGNORECASE,
    ),
    re.compile(
        r"^\s*(when|(in\s+)?(which|what)\s+(month|year|quarter|period))\s+(did|does|was|were|is|has)\s+(?P<x>.+?)\s+"
        r"(peak|peaked|most\s+popular|at\s+its\s+(peak|height|highest)|most\s+active|busiest)\s*[?.!]*\s*$",
        re.IGNORECASE,
    ),
    re.compile(
        r"^\s*(what|which)(\s+was|\s+is|\s+were|'s|’s)\s+the\s+(?P<m>busiest|peak|most\s+active|quietest)\s+"
        r"(month|year|quarter|period)\b(\s+(for|of|in|on)\s+(?P<x>.+))?",
        re.IGNORECASE,
    ),
)
_ACTIVITY_NOUNS = _DOC_NOUNS | {"research", "work", "activity", "submissions", "output", "publishing"}


def _peak_subject(rest: str) -> str:
    """'papers on question answering published' -> 'question answering'; 'papers' -> ''."""
    rest = re.sub(r"^(number|amount|count)\s+of\s+", "", _strip(rest), flags=re.IGNORECASE)
    rest = _COUNT_TAIL.sub("", rest)
    words = rest.split()
    at = next((i for i, w in enumerate(words) if w.lower() in _ACTIVITY_NOUNS), None)
    if at is None:
        return _count_subject(rest)
    before = " ".join(w for w in words[:at] if w.lower() not in ("new", "recent", "the"))
    return _strip(f"{before} {_count_subject(' '.join(words[at + 1 :]))}")


_TWO_PERIODS = re.compile(  # "..., 2025 or 2026?": the two periods to weigh
    rf"\s*,?\s*(in\s+)?(?P<a>{_YEAR})\s+(or|vs\.?|versus|and|against)\s+(in\s+)?(?P<b>{_YEAR})\s*\??\s*$", re.IGNORECASE
)
_PERIOD_AGAINST_PERIOD = (  # "compare RAG in 2025 and 2026", "how many papers on agents in 2025 and in 2026?"
    re.compile(  # "compare 2025-04 and 2025-05", "2025 vs 2026": the whole index in each
        rf"^\s*((please\s+)?compare\s+)?((in|during)\s+)?(?P<a>{_YEAR})\s+(and|with|to|against|vs\.?|versus)\s+"
        rf"(in\s+|during\s+)?(?P<b>{_YEAR})\s*\??$",
        re.IGNORECASE,
    ),
    re.compile(
        rf"^\s*(please\s+)?compare\s+(?P<x>.+?)\s+((in|during|from)\s+)?(?P<a>{_YEAR})\s+(and|with|to|against|vs\.?|"
        rf"versus)\s+(in\s+|during\s+)?(?P<b>{_YEAR})\s*\??$",
        re.IGNORECASE,
    ),
    re.compile(
        rf"^\s*(?P<x>[^,;:]+?)\s+(in\s+)?(?P<a>{_YEAR})\s+(vs\.?|versus)\s+(in\s+)?(?P<b>{_YEAR})\s*\??$", re.IGNORECASE
    ),
    re.compile(
        rf"^\s*(are|were|is)\s+there\s+more\s+(papers|documents|articles|publications)((\s+(on|about)\s+(?P<x>.+?))?)\s+"
        rf"(in|during)\s+(?P<a>{_YEAR})\s+(or|than)\s+(in\s+|during\s+)?(?P<b>{_YEAR})\s*\??$",
        re.IGNORECASE,
    ),
    re.compile(
        rf"^\s*how\s+many\s+(?P<noun>\w+)\s+(are\s+|were\s+)?(on|about|mention)\s+(?P<x>.+?)\s+(in|during)\s+(?P<a>{_YEAR})"
        rf"\s*,?\s+(and|vs\.?|versus|against)\s+(how\s+many\s+)?(in|during)\s+(?P<b>{_YEAR})\s*\??$",
        re.IGNORECASE,
    ),
)


def _unit_of(period: str) -> str:
    return "quarter" if "q" in period.lower() else "month" if "-" in period else "year"


def _period_against_period(q: str, refs: list[int], follow: bool) -> Intent | None:
    """One subject in two periods: counted per period, the larger named (a peak over the two)."""
    for pattern in _PERIOD_AGAINST_PERIOD:
        m = pattern.match(q)
        if m:
            a, b = sorted((m.group("a").upper(), m.group("b").upper()))
            subject = _strip(_DOC_LEAD.sub("", re.sub(r"^\s*(please\s+)?compare\s+", "", m.groupdict().get("x") or "")))
            subject = re.sub(r"^(the\s+)?(papers|documents|research|work)\s+(on|about)\s+", "", subject, flags=re.I)
            subject = re.sub(r"^topic\s*#?\s*\d+$", "", subject, flags=re.IGNORECASE)  # the topic is in `refs`
            return Intent(
                IntentKind.COUNT,
                subject,
                refs,
                follow,
                noun="documents",
                period=f"{a}..{b}",
                peak="most",
                unit=_unit_of(a),
            )
    return None


def _peak_intent(q: str, refs: list[int], follow: bool) -> Intent | None:
    """'Which month had the most papers on X?', 'when did X peak?', 'what was the busiest year?': the
    period with the most (or fewest) documents, counted from the index."""
    two = _TWO_PERIODS.search(q)  # "which year had more papers on agents, 2025 or 2026?"
    if two:
        a, b = sorted((two.group("a").upper(), two.group("b").upper()))
        intent = _peak_intent(q[: two.start()], refs, follow)
        if intent is not None:
            intent.period, intent.unit = f"{a}..{b}", intent.unit or _unit_of(a)
        return intent
    period, rest = _period(q)
    for pattern in _PEAK:
        m = pattern.match(rest)
        if not m:
            continue
        found = m.groupdict()
        rest = _strip(found.get("rest") or "")
        if rest and pattern is _PEAK[0] and not re.match(r"(on|about|in|for|of|regarding)\b", rest, re.I):
            words = [w.lower() for w in rest.split()[:6]]
            if not any(w in _ACTIVITY_NOUNS for w in words):  # "which year was the most important for NLP?"
                continue
        subject = _peak_subject(found.get("x") or rest)
        subject = _TREND_FILLER.sub("", subject)
        subject = re.sub(r"^(in\s+|of\s+|within\s+)?topic\s*#?\s*-?\d+$", "", subject, flags=re.IGNORECASE).strip()
        if re.fullmatch(rf"(the\s+|this\s+|whole\s+|entire\s+)*{_COLLECTION}?", subject, re.IGNORECASE):
            subject = ""
        most = "fewest" if re.fullmatch(_FEWEST, (found.get("m") or "most").lower()) else "most"
        unit = re.search(r"\b(month|quarter|year)\b", m.group(0), re.IGNORECASE)
        return Intent(
            IntentKind.COUNT,
            subject,
            refs,
            follow,
            _window(rest),
            noun="documents",
            period=period,
            peak=most,
            unit=unit.group(1).lower() if unit else "",
        )
    return None


def _count_intent(q: str, refs: list[int], follow: bool) -> Intent | None:
    period, rest = _period(q)
    intent = _count_kind(rest, refs, follow)
    if intent is not None and intent.kind in (IntentKind.COUNT, IntentKind.COVER):  # "how many topics cover X in 2025?"
        intent.period = intent.period or period
    return intent


_NOT_THE_DOCUMENTS = re.compile(  # "how many questions does SQuAD contain?": the clause is about something else
    rf"^(does|do|did|can|could|will|would|should|was|has|had)\b(?!\s+((the|this)\s+{_COLLECTION}|topic\s*#?\s*-?\d+)\b|"
    r"\s+(have|hold|contain|include)\s*[?.!]*\s*$)",  # "how many papers does [topic 10] have?"
    re.IGNORECASE,
)
_TOPIC_RELATION = re.compile(
    r"^(are\s+|is\s+)?(cover|covers|about|on|discuss|discusses|mention|mentions|deal\s+with|deals\s+with|"
    r"relate\s+to|related\s+to|concern|address|addresses)\b",
    re.IGNORECASE,
)
_VERBS_BEFORE = frozenset("does do did is are was were can could has have had will would".split())


def _count_kind(q: str, refs: list[int], follow: bool) -> Intent | None:
    """'How many papers are about X?', 'how many X papers are there?', 'what share of the documents mention
    X?', 'how many topics are there?' (topics about X are a 'which topics' question). A count of anything
    else ('how many parameters does GPT-3 have?') is a question for the documents: None."""
    share = _SHARE.match(q)
    if share:
        noun, rest = share.group("noun").lower(), share.group("rest")
        if re.fullmatch(_COLLECTION, noun, re.IGNORECASE):
            noun = "documents"
        if noun not in _DOC_NOUNS or _NOT_THE_DOCUMENTS.match(rest.strip()):
            return None
        return Intent(IntentKind.COUNT, _count_subject(rest), refs, follow, _window(q), noun=noun)
    m = _COUNT.match(q)
    if not m:
        return None
    rest = _strip(m.group("rest") or "")
    words = rest.split()
    first = words[0].lower() if words else ""
    after = " ".join(words[1:])
    if first in ("of", "among"):  # "how many of those are about X?": a follow-up search
        them = re.match(r"(of|among)\s+(them|those|these)\s*", rest, re.IGNORECASE)
        if them:  # "how many of them (were published in 2025)?"; "how many of those are about RL?": those on RL
            narrowed = _NARROWING.sub(
                "", re.sub(r"^(papers|documents|articles|abstracts|ones)\s+", "", rest[them.end() :])
            )
            if refs:  # "how many of them are in topic 1?": the topic is in `refs`
                narrowed = re.sub(
                    r"\b((are|were|is)\s+)?(in|from|of|within|under)?\s*topic\s*#?\s*-?\d+\b", " ", narrowed
                )
            return Intent(IntentKind.COUNT, _strip(narrowed.strip()), refs, True, _window(q))
        return None
    if not first or re.fullmatch(r"(are|were)(\s+there)?", rest, re.IGNORECASE):  # "how many?", "how many are there?"
        return Intent(IntentKind.COUNT, "", refs, True, _window(q))  # the last subject's, in a conversation
    if first in ("are", "is", "were", "about", "on", "mention", "discuss"):  # "how many are about RL?"
        return Intent(IntentKind.COUNT, _count_subject(rest), refs, follow, _window(q), noun="documents")
    if first in ("authors", "researchers", "writers") and not re.match(
        r"(does|do|did|can|could|is|are|per|on\s+average|in\s+a\b)", after, re.IGNORECASE
    ):  # "how many authors (work on X)?"; not "how many authors does a typical paper have?"
        authors = _authors_intent(f"which authors {after}", refs, follow)
        if authors is not None:
            authors.noun = "count"
        return authors
    if first in _TOPIC_NOUNS:
        if re.search(rf"\b{_MOVES}\b", rest, re.IGNORECASE):  # "how many topics grew?"
            return Intent(IntentKind.EMERGING, "", refs, follow, _window(q), bool(_DECLINING.search(rest)))
        if _TOPIC_RELATION.match(after.strip()):  # "how many topics cover X?"
            return _cover(_count_subject(after), refs, follow, noun="count", timed=after)
        if not _count_subject(after):  # "how many topics are there?"
            return Intent(IntentKind.COUNT, "", refs, follow, noun="topics")
        return None  # "how many clusters does k-means find?"
    if first not in _DOC_NOUNS:  # "how many question answering papers are there?"
        later = [i for i, w in enumerate(words) if w.lower() in _DOC_NOUNS]
        if not later or later[0] > 5 or any(w.lower() in _VERBS_BEFORE for w in words[: later[0]]):
            return None
        i = later[0]
        subject = _strip(" ".join(w for w in words[:i] if w.lower() not in ("new", "recent", "latest", "newest")))
        tail = _count_subject(" ".join(words[i + 1 :]))
        subject = f"{subject} {tail}".strip() if tail else subject
        return Intent(IntentKind.COUNT, subject, refs, follow, _window(q), noun=words[i].lower())
    if _NOT_THE_DOCUMENTS.match(after.strip()):
        return None
    return Intent(IntentKind.COUNT, _count_subject(after), refs, follow, _window(q), noun=first)


_SIDE_LEAD = re.compile(
    r"^\s*(and\s+|or\s+)?(the\s+)?((research|work|papers?|documents?|articles?|literature|studies|topics?)\s+(on|about|of|in)\s+)?",
    re.IGNORECASE,
)
_SIDE_TAIL = re.compile(
    rf"\s+(coverage|research|papers|documents|articles|work|literature|studies|topics)?\s*"
    rf"((in|within)\s+(the|this)\s+{_COLLECTION})?\s*$",
    re.IGNORECASE,
)
_COMPARE_SUBJECTS = (
    re.compile(r"^\s*(please\s+)?compare\s+(?P<a>.+?)\s+(with|to|against|vs\.?|versus)\s+(?P<b>.+)$", re.IGNORECASE),
    re.compile(r"^\s*(please\s+)?compare\s+(?P<a>.+?)\s+and\s+(?P<b>.+)$", re.IGNORECASE),
    re.compile(r"^\s*(?P<a>[^,;:]+?)\s+(vs\.?|versus)\s+(?P<b>.+)$", re.IGNORECASE),
)
_DOCS = r"(papers|documents|articles|abstracts|work|research|studies|publications)"
_POPULAR = r"(popular|studied|researched|investigated|published|written\s+about)"
_MORE_SUBJECTS = (  # "are there more papers on A or B?", "which is more popular, A or B?": the two side by side
    re.compile(
        rf"^\s*((are|is)\s+there|do\s+(we|you|I)\s+have|does\s+(it|the\s+{_COLLECTION}|this\s+{_COLLECTION})\s+"
        rf"(have|hold))\s+more\s+{_DOCS}\s+(on|about|regarding)\s+(?P<a>.+?)\s+(or|than)\s+((on|about)\s+)?(?P<b>.+)$",
        re.IGNORECASE,
    ),
    re.compile(
        rf"^\s*(which|what)\s+(is|was|are)\s+(more|most)\s+{_POPULAR}\s*[,:]?\s*(?P<a>.+?)\s+or\s+(?P<b>.+)$", re.I
    ),
    re.compile(rf"^\s*(is|are)\s+(?P<a>.+?)\s+more\s+{_POPULAR}\s+than\s+(?P<b>.+)$", re.IGNORECASE),
    re.compile(
        rf"^\s*(are|is)\s+there\s+more\s+(?P<a>.+?)\s+{_DOCS}\s+(than|or)\s+(?P<b>.+?)(\s+(ones|{_DOCS}))?\s*\??$",
        re.IGNORECASE,
    ),
)
# "X vs Y" names two subjects only when X is one (not "which papers compare X vs Y?", "trends of X vs Y")
_NOT_A_SIDE = re.compile(
    r"^(which|what|how|who|why|where|when|show|list|find|give|papers|documents|articles|trends?|compare|"
    r"comparing|is|are|does|do)\b|[,;]",
    re.IGNORECASE,
)
MAX_SIDE_WORDS = 6  # "the performance of BERT on GLUE" and longer: a question for the documents, not two subjects
MAX_SIDES = 5
_QUALIFIER = re.compile(
    r"\s(for|on|in|with|at|across|over|under|when|using|regarding|without|via|through|among)\s", re.IGNORECASE
)


def _qualified(sides: list[str]) -> bool:
    """'compare BERT and GPT on GLUE', 'SFT vs RL for reasoning': a qualifier on the last side only belongs to
    every side; the comparison is a question for the documents."""
    return bool(_QUALIFIER.search(f" {sides[-1]} ")) and not any(_QUALIFIER.search(f" {x} ") for x in sides[:-1])


_MANY_SUBJECTS = re.compile(
    r"^\s*(please\s+)?(compare\s+(?P<x>[^?]+?,[^?]+?\s+(and|vs\.?|versus)\s+[^?]+?)|"
    r"(?P<y>[^,;:?]+?(\s+(vs\.?|versus)\s+[^,;:?]+?){2,}))\s*\??$",
    re.IGNORECASE,
)


def _side(text: str) -> str:
    return _strip(_SIDE_TAIL.sub("", _SIDE_LEAD.sub("", _strip(text))))


_OTHER_WRITERS = (  # people who are authors only when the question says they wrote ("which senators sponsored X")
    r"(sponsors|senators|congressmen|representatives|legislators|lawmakers|reporters|journalists)\s+(?=(wrote|write|"
    r"writes|sponsored|sponsor|sponsors|introduced|introduce|introduces|authored|filed|proposed)\b)"
)
_AUTHORS = re.compile(
    rf"^\s*(and\s+)?(which|what)\s+((authors|researchers|writers)\b|{_OTHER_WRITERS})|"
    r"^\s*(and\s+)?how\s+many\s+(different\s+|distinct\s+|unique\s+|individual\s+)?(authors|researchers|writers)\b"
    r"(?!\s+(does|do|did|can|could|per|has|have|had|on\s+average|in\s+a|(is|are|were)(?!\s+there))\b)|"
    r"^\s*(and\s+)?who\s+((works?|is\s+working|are\s+working|researches|studies|contributes)\b(?!\s+(at|with|for|under|"
    r"using|in\s+(a|an|the)\b))|"
    r"(writes|is\s+writing|publishes)\s+(?=(on|about|in)\b))|"
    r"\b(top|main|leading|most\s+active|most\s+prolific|prolific|key|frequent|busiest)\s+(\d{1,2}\s+)?"
    r"(authors?|researchers?|writers?)\b|"
    r"^\s*who\s+(wrote|writes|has\s+written|published|publishes|has\s+published|has|authored|contributed|sponsored|"
    r"introduced|filed|submitted|proposed|posted|reported)\s+the\s+most"
    r"(\s+(papers|documents|articles|publications|works|abstracts))?\b|"
    r"^\s*who\s+(are|is)\s+the\s+(main\s+|top\s+|leading\s+|most\s+\w+\s+)?(authors|researchers)\b",
    re.IGNORECASE,
)  # "who wrote the attention paper?" / "who introduced X?" ask about one paper: searches
_AUTHORS_VERB = re.compile(
    r"^\s*(have\s+|has\s+|had\s+|do\s+|does\s+|did\s+|are\s+|is\s+|were\s+)?"
    r"(work(s|ed|ing)?|stud(y|ies|ied|ying)|research(es|ed|ing)?|publish(es|ed|ing)?|writ(e|es|ing)|wrote|"
    r"contribut(e|es|ed|ing)|focus(es|ed|ing)?|specializ(e|es|ed|ing)|specialis(e|es|ed|ing)|cover(s|ed|ing)?|"
    r"sponsor(s|ed|ing)?|introduc(e|es|ed|ing)|report(s|ed|ing)?)\b",
    re.IGNORECASE,
)
_AUTHORS_PREPOSITION = re.compile(r"^\s*(on|about|in|with|for|into|regarding|of|to)\s+", re.IGNORECASE)


def _time_words(text: str, also_for: bool = False) -> tuple[str, tuple[int, str] | None, str]:
    """The period and the window a text names, and the text without them ('which authors work on RAG in
    2025?', 'RAG vs agents in the last three months')."""
    period, rest = _period(text)
    window = _window(rest)
    if window:
        rest = _drop_window(rest, also_for)
    return period, window, rest


def _authors_intent(q: str, refs: list[int], follow: bool) -> Intent | None:
    """'Which authors work on X?', 'who publishes on X?', 'which researchers have studied X?', 'top authors
    in topic 5', 'most prolific authors' (the whole corpus)."""
    m = _AUTHORS.search(q)
    if not m:
        return None
    period, window, rest = _time_words(q[m.end() :])  # "which authors work on RAG in 2025?": 2025's documents
    rest = _AUTHORS_VERB.sub("", rest, count=1)
    rest = re.sub(
        rf"^\s*(the\s+)?most(\s+(papers|documents|articles|publications|works|{_OTHER_DOCS}))?\b", "", rest, flags=re.I
    )
    rest = re.sub(rf"^\s*(papers|documents|articles|publications|works|{_OTHER_DOCS})\b", "", rest, flags=re.I)
    rest = _AUTHORS_PREPOSITION.sub("", rest, count=1)
    subject = _strip(rest)
    subject = re.sub(r"^(the\s+)?(topic|field|area|subject)\s+of\s+", "", subject, flags=re.IGNORECASE)
    subject = re.sub(
        rf"^((are|is)\s+)?(there|(in|within)\s+(the|this)\s+{_COLLECTION})$", "", subject, flags=re.IGNORECASE
    )
    if refs or re.fullmatch(rf"(the\s+|this\s+|whole\s+|entire\s+|all\s+)*({_COLLECTION}|papers|documents)?", subject):
        subject = ""
    return Intent(IntentKind.AUTHORS, subject, refs, follow, window, period=period)


def _compare_intent(q: str, refs: list[int], follow: bool) -> Intent | None:
    """'compare A and B', 'A vs B' (A and B short subjects, or topics by number), also in a period ('RAG vs
    agents in 2025', '... in the last three months'). 'How does A differ from B?' and 'the difference
    between A and B' ask what the documents say: searches."""
    period, window, rest = _time_words(q)
    if period or window:
        found = _compare_sides(rest, refs, follow)
        if found is not None:
            found.period, found.window = period, window
        return found
    return _compare_sides(q, refs, follow)


def _compare_sides(q: str, refs: list[int], follow: bool) -> Intent | None:
    two_topics = re.search(
        r"\b(differences?|contrast|overlaps?|similarit(y|ies))\s+(between|of)\s+topics?\b|\b(differ|differs|overlaps?)"
        r"(\s+(from|with)\b|\s*\??\s*$)|\bhow\s+(different|similar|alike|related)\s+(are|is)\s+topics?\b|"
        r"\b(different|differs?|distinct)\s+from\s+topic\b|\bdistinguish(es)?\s+topic\b|^\s*contrast\s+topics?\b|"
        r"\btopics?\s*#?\s*\d+\s*(vs\.?|versus)\s*(topic\s*)?#?\s*\d+\b|"
        r"\b(bigger|larger|smaller|more\s+popular|less\s+popular|older|newer)\s+than\s+topic\b",
        q,
        re.IGNORECASE,
    )
    pair = re.search(r"\btopics?\s*#?\s*(\d+)\s*(,|and|&|vs\.?|versus|or)\s*(topic\s*)?#?\s*(\d+)\b", q, re.IGNORECASE)
    if (two_topics or _COMPARE.search(q)) and len(refs) == 1 and pair:  # "the difference between topic 1 and 4"
        refs = [int(pair.group(1)), int(pair.group(4))]
    if (_COMPARE.search(q) or two_topics) and len(refs) >= 2:
        return Intent(IntentKind.COMPARE, _strip(q), refs[:2], follow)
    many = _MANY_SUBJECTS.match(q)  # "compare A, B and C", "A vs B vs C"
    if many:
        listed = many.group("x") or many.group("y")
        parts = re.split(r"\s*,\s*(?:and\s+|vs\.?\s+)?|\s+and\s+|\s+(?:vs\.?|versus)\s+", listed)
        sides = [_side(x) for x in parts if x.strip()]
        if (
            3 <= len(sides) <= MAX_SIDES
            and all(x and not _NOT_A_SIDE.search(x) and len(x.split()) <= MAX_SIDE_WORDS for x in sides)
            and len({x.lower() for x in sides}) == len(sides)
            and not _qualified(sides)
        ):
            return Intent(IntentKind.COMPARE, _strip(q), refs, follow, subjects=sides)
    for pattern in (*_MORE_SUBJECTS, *_COMPARE_SUBJECTS):
        m = pattern.search(q)
        if m:
            a, b = _side(m.group("a")), _side(m.group("b"))
            if any(_NOT_A_SIDE.search(x) or len(x.split()) > MAX_SIDE_WORDS for x in (a, b)) or _qualified([a, b]):
                return None
            if a and b and a.lower() != b.lower():
                return Intent(IntentKind.COMPARE, _strip(q), refs[:2], follow, subjects=[a, b])
    return None


def _window(q: str) -> tuple[int, str] | None:
    m = _WINDOW.search(q)
    if not m or re.match(r"\s+(of|before|after|prior)\b", q[m.end() :], re.IGNORECASE):
        return None  # "the last three months of pregnancy" is a subject, not a window
    n, unit = m.group("n"), m.group("unit").lower().rstrip("s")
    if m.group(1).lower() == "this" and not n:
        return 0, unit  # "this year": the calendar year, set against the index's dates
    if m.group(1).lower() == "previous" and not n and m.group("unit").lower().endswith("s"):
        return None  # "papers from previous years": not the recent ones (no window)
    if (
        m.group(1).lower() in ("last", "previous")
        and not n
        and unit != "week"
        and not m.group("unit").lower().endswith("s")  # "in last months": recent ones
        and not re.search(r"\bthe\s*$", q[: m.start()], re.IGNORECASE)
    ):  # "papers from last year": the calendar year before (since it, with "since"); "in the last year": 12 months
        return (-2 if re.search(r"\bsince\s*$", q[: m.start()], re.IGNORECASE) else -1), unit
    count = int(n) if n and n.isdigit() else _NUMBERS.get((n or "one").lower(), 1)
    return max(1, count), unit


def _time_intent(q: str, refs: list[int], follow: bool) -> Intent | None:
    """Trend questions about one subject, and 'what is emerging / which topics grew' over the whole corpus."""
    emerging = _EMERGING.search(q)
    if emerging:  # "what are the emerging topics in speech?", "what topics emerged in 2026?"
        period, tail = _period(q[emerging.end() :])
        tail = _drop_window(tail)
        m = re.match(
            rf"^\s*({_SUBJECTS}\s+)?((the\s+)?most\s+)?(in|on|about|within|for|among|of|related\s+to)\s+(?P<x>.+)$",
            tail,
            re.IGNORECASE,
        )
        subject = _strip(m.group("x")) if m and not refs else ""
        subject = re.sub(r"\s+(research|field|area|work|literature)$", "", subject, flags=re.IGNORECASE)
        subject = re.sub(r"^(the|this)\s+(last|past|previous)\s*$|^(the\s+)?(corpus|collection|index)$", "", subject)
        return Intent(IntentKind.EMERGING, subject, refs, follow, _window(q), bool(_DECLINING.search(q)), period=period)
    for pattern in _TREND:
        m = pattern.search(q)
        if m:
            subject = _strip(_TREND_FILLER.sub("", _WINDOW.sub("", m.group("x")).strip()))
            subject = re.sub(r"^(the\s+)?(?P<x>.+?)\s+(topic|area|field|subject)$", r"\g<x>", subject, flags=re.I)
            subject = re.sub(r"\s+(in|over|during)\s*$", "", subject)
            if subject or refs:
                asked = _period(q)[0]  # "from 2025-03 to 2025-04", "since 2025-03": those periods compared
                compared = asked if ".." in asked and not asked.startswith("..") else ""
                if compared:
                    subject = _strip(_period(subject)[1]) or subject
                return Intent(
                    IntentKind.TREND, subject, refs, follow, None if compared else _window(q), period=compared
                )
    return None


def _themes_intent(q: str, refs: list[int]) -> Intent | None:
    """Whole-corpus questions: the main themes, a summary of the corpus, its open problems (optionally on a subject)."""
    if refs:
        return None
    problems = _PROBLEMS.search(q)
    if problems:
        rest = q[problems.end() :]
        m = _PROBLEMS_SUBJECT.search(rest)
        subject = _strip(m.group("x")) if m else ""
        subject = (
            ""
            if re.fullmatch(
                r"(the|this|whole|entire|\s)*(corpus|collection|index|data\s*set|papers|documents)?",
                subject,
                re.IGNORECASE,
            )
            else subject
        )
        return Intent(IntentKind.THEMES, subject, problems=True)
    themes = _THEMES.search(q)
    if themes:
        m = _PROBLEMS_SUBJECT.search(q[themes.end() :])
        subject = _strip(m.group("x")) if m else ""
        if subject and not re.fullmatch(
            rf"(the\s+|this\s+|whole\s+|entire\s+)*({_COLLECTION}|papers|documents|abstracts)", subject, re.IGNORECASE
        ):  # "the main findings on X": what the documents on X say; "the main areas of X": the topics of X
            if re.fullmatch(_YEAR, subject, re.IGNORECASE) and not re.search("findings", themes.group(0), re.I):
                return Intent(IntentKind.LARGEST, "", period=subject.upper())  # "the main topics in 2025"
            findings = re.search(r"findings|research questions", themes.group(0), re.IGNORECASE)
            return Intent(IntentKind.PAPERS, subject) if findings else _cover(subject, [], False)
        return Intent(IntentKind.THEMES, "")
    return None


_OVERVIEW = re.compile(r"\boverview\s+(of|on|about)\s+(?P<x>.+)$", re.IGNORECASE)
_LARGEST = re.compile(
    rf"\b(biggest|largest|most\s+popular|most\s+common|most\s+frequent|dominant|top)\s+((\d+|{_COUNTED})\s+)?(topics?|subjects)\b"
    r"(?![\s-]+model)|"
    r"\btopics?\s+(are|is|were|was)\s+(the\s+)?(most\s+popular|biggest|largest|most\s+common)\b|"
    r"^\s*(which|what)\s+topics?\s+(has|have|had|holds?|contains?)\s+(the\s+)?most\s+(papers|documents|articles)\b|"
    r"^\s*what\s+(were|are|was|is)\s+(people|researchers|authors|they|scientists|most\s+papers|the\s+papers)\s+"
    r"(working\s+on|writing\s+(about|on)|studying|researching|about|publishing\s+on)\b",
    re.IGNORECASE,
)
_SMALLEST = re.compile(
    r"\b(smallest|least\s+popular|least\s+common|rarest|tiniest)\s+(\d+\s+)?(topics?|subjects)\b(?![\s-]+model)|"
    r"\btopics?\s+(are|is|were|was)\s+(the\s+)?(smallest|least\s+popular|least\s+common|rarest)\b|"
    r"^\s*(which|what)\s+topics?\s+(has|have|had|holds?|contains?)\s+(the\s+)?(fewest|least)\s+"
    r"(papers|documents|articles|abstracts)\b",
    re.IGNORECASE,
)
_SIZE_WORDS = re.compile(
    r"^\s*((are|is|were|was)\s+)?(the\s+)?(biggest|largest|smallest|most\s+popular|least\s+popular|most\s+common|"
    r"least\s+common|rarest)?\s*",
    re.IGNORECASE,
)


def _largest_intent(q: str, refs: list[int], follow: bool) -> Intent | None:
    """'The biggest topics' (the whole corpus), 'the largest topics in speech' (among the topics about a
    subject), 'the top topics in 2025' (ranked by their documents of that period), 'the smallest topics'."""
    m = _LARGEST.search(q)
    smallest = False
    if not m:
        m, smallest = _SMALLEST.search(q), True
    if not m or refs:
        return None
    # "what is the largest topic?", "which topic has the most papers?": one topic, unless a plural noun
    # follows ("the largest topic areas / groupings") or the question asks what *are* the largest
    one = (
        re.search(r"\btopic\b", m.group(0), re.IGNORECASE) is not None
        and re.match(r"\s*(\(s\)|[\s-]+[a-z]+s\b)", q[m.end() :], re.IGNORECASE) is None
        and re.search(r"\b(are|were)\b", q[: m.start()], re.IGNORECASE) is None
    )
    period, window, rest = _time_words(q[m.end() :])
    growth = re.match(
        r"\s*(by|in\s+terms\s+of|ranked\s+by)\s+(growth|gains?|increase|rise|decline|losses|drop)\b", rest, re.I
    )
    if growth:  # "top 5 topics by growth": the topics that grew (or declined) the most
        declining = growth.group(2).lower() in ("decline", "losses", "drop")
        return Intent(IntentKind.EMERGING, "", refs, follow, window, declining, period=period)
    rest = _SIZE_WORDS.sub("", rest, count=1)
    rest = re.sub(  # "the largest topic areas", "largest topic(s)"
        r"^\s*(\(s\)|(areas|clusters|groups|groupings|categories|families|themes)\b)", "", rest, flags=re.I
    )
    rest = re.sub(r"^\s*(related|relating)\s+to\s+|^\s*(concerning|among|within)\s+", "", rest, flags=re.I)
    rest = _AUTHORS_PREPOSITION.sub("", rest, count=1)
    subject = _strip(rest)
    cited = re.search(r"\b(cit(ations?|ed)|impact|h-index)\b", subject, re.IGNORECASE)
    if cited:  # "the biggest topics in terms of citations": the index holds no citation counts
        return Intent(IntentKind.LARGEST, "", refs, follow, window, period=period, noun="citations")
    if re.fullmatch(
        rf"((the|this|whole|entire|all|of|in)\s+)*({_COLLECTION}|papers|documents|corpus|topics)?",
        subject,
        re.IGNORECASE,
    ):
        subject = ""
    return Intent(
        IntentKind.LARGEST,
        subject,
        refs,
        follow,
        window,
        period=period,
        peak="fewest" if smallest else "",
        limit=1 if one else 0,
    )


_BY_PERSON = (
    re.compile(
        r"^\s*((list|show|find|give)\s+(me\s+)?)?(all\s+)?(the\s+)?(papers|documents|articles|works|publications|abstracts)"
        r"\s+(written\s+|authored\s+|published\s+|co-?authored\s+|co-?written\s+|jointly\s+written\s+)?by\s+(?P<name>.+)$",
        re.IGNORECASE,
    ),
    re.compile(
        r"^\s*how\s+many\s+(papers|documents|articles|works|publications)\s+(did|has|have|does)\s+(?P<name>.+?)\s+"
        r"(write|written|publish|published|author|authored|co-?author|co-?authored)\b",
        re.IGNORECASE,
    ),
    re.compile(
        r"^\s*what\s+(has|did|have|does)\s+(?P<name>.+?)\s+(write|written|publish|published|work\s+on|worked\s+on)"
        r"(?=\s*([?.!]|$|(on|about|regarding|recently|lately|since|in\s+(19|20)\d\d)\b))",
        re.IGNORECASE,
    ),
    re.compile(
        r"^\s*how\s+many\s+(papers|documents|articles|works|publications)\s+((are|were|has|have)\s+(been\s+)?)?"
        r"(written\s+|authored\s+|published\s+)?by\s+(?P<name>.+)$",
        re.IGNORECASE,
    ),
    re.compile(  # "Preslav Nakov's papers on fact-checking"
        r"^\s*((list|show|find|give)\s+(me\s+)?)?(?P<name>[^\s'’]+(\s+[^\s'’]+){0,3})['’]s?\s+(papers|documents|articles|"
        r"works?|publications|research)(\s+(on|about|regarding)\s+(?P<x>.+))?\s*\??$",
        re.IGNORECASE,
    ),
    re.compile(
        r"^\s*(which|what)\s+(topics?|areas?|subjects?|fields?)\s+(does|do|did|has|have)\s+(?P<name>.+?)\s+"
        r"(work(ed)?|write|written|publish(ed)?|research(ed)?)(\s+(on|about|in))?\s*\??$",
        re.IGNORECASE,
    ),
    re.compile(r"^\s*who\s+is\s+(?P<name>[A-Z][\w'-]+(\s+[A-Z][\w.'-]*){1,3})\s*\??$"),  # a capitalised name
    re.compile(  # "hate speech papers by Paloma Piot"
        r"^\s*(?P<x>[^?]+?)\s+(papers|documents|articles|works|publications)\s+(written\s+|authored\s+)?by\s+(?P<name>.+)$",
        re.IGNORECASE,
    ),
)
_NOT_A_PERSON = re.compile(
    r"^(topics?|dates?|years?|months?|size|relevance|category|categories|subject|area|field|the\s+\w+)$", re.IGNORECASE
)


_PERSON_SUBJECT = re.compile(  # "Jane Doe on reasoning": the person, then what her documents should be about
    r"^(?P<name>.+?)\s+(on|about|regarding|concerning|related\s+to|in\s+the\s+(area|field)\s+of)\s+(?P<x>.+)$",
    re.IGNORECASE,
)
_SUBJECT_BY_PERSON = re.compile(  # "papers on reasoning by Jane Doe"
    r"^\s*((list|show|find|give)\s+(me\s+)?)?(all\s+)?(the\s+)?(papers|documents|articles|works|publications|"
    r"abstracts)\s+(on|about|regarding)\s+(?P<x>.+?)\s+(written\s+|authored\s+|published\s+)?by\s+(?P<name>.+)$",
    re.IGNORECASE,
)
# Words that end a name: "papers by Jane Doe using transformers" is no person "Jane Doe using transformers".
_NOT_IN_A_NAME = frozenset(
    "the a an of using with for from that which who and or to is are was were their this these it its been they we "
    "you researchers people authors anyone someone somebody everyone he she today yesterday tonight week month year "
    "llms llm models model gpt-4 chatgpt ai".split()
)


def _person_intent(q: str, refs: list[int], follow: bool) -> Intent | None:
    """'Papers by Jane Doe', 'how many papers did Jane Doe write?', 'what has Jane Doe published?', also
    with a subject ('papers by Jane Doe on reasoning', 'papers on reasoning by Jane Doe') or a period
    ('papers by Jane Doe in 2025')."""
    period, window, rest = _time_words(q)
    for pattern in (_SUBJECT_BY_PERSON, *_BY_PERSON):
        m = pattern.match(rest)
        if not m:
            continue
        name, subject = _strip(m.group("name")), _strip(m.groupdict().get("x") or "")
        tail = re.match(r"\s*(on|about|regarding|concerning)\s+(?P<x>.+)$", rest[m.end() :], re.IGNORECASE)
        if tail and not subject:  # "how many papers did Jane Doe write on reasoning?"
            subject = _strip(tail.group("x"))
        split = _PERSON_SUBJECT.match(name)
        if split and not subject:
            name, subject = _strip(split.group("name")), _strip(split.group("x"))
        together = _coauthors(name)
        if together:  # "papers by Fei Huang and Jingren Zhou": the documents naming them all
            return Intent(IntentKind.AUTHORS, subject, refs, follow, window, period=period, person=together)
        words = name.split()
        if pattern in (_SUBJECT_BY_PERSON, _BY_PERSON[-1]) and (
            len(words) < 2 or any(w.lower() in _NOT_IN_A_NAME for w in words)
        ):
            continue  # "papers on parsing by hand": no person
        if (
            1 <= len(words) <= 5
            and not _NOT_A_PERSON.match(name)
            and not any(w.lower() in _NOT_IN_A_NAME for w in words)
        ):
            return Intent(IntentKind.AUTHORS, subject, refs, follow, window, period=period, person=name)
    return None


def _coauthors(name: str) -> str:
    """'Fei Huang and Jingren Zhou' -> 'Fei Huang; Jingren Zhou' (two to four full names joined by 'and', '&',
    'with' or commas); '' for anything else."""
    parts = [p for p in re.split(r"\s*(?:,\s*(?:and\s+)?|\s+and\s+|\s*&\s*|\s+with\s+)\s*", name.strip()) if p]
    if not 2 <= len(parts) <= 4:
        return ""
    for part in parts:
        words = part.split()
        if not 2 <= len(words) <= 5 or any(w.lower() in _NOT_IN_A_NAME for w in words) or _NOT_A_PERSON.match(part):
            return ""
        if not all(w[:1].isupper() for w in words if w.lower() not in ("de", "van", "von", "der", "da", "di", "la")):
            return ""
    return "; ".join(parts)


def _strip(text: str) -> str:
    return re.sub(r"[?!.\s]+$", "", text.strip())


_ORDINALS = {
    "first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7, "eighth": 8,
    "ninth": 9, "tenth": 10,
}  # fmt: skip
_CITED = re.compile(
    r"\b(paper|document|source|article|citation|result|abstract|reference)\s*(number\s*|no\.?\s*)?#?\s*\[?(?P<n>\d{1,2})\]?(?![\w.-])"
    r"(?!\s+(of|on|about|in)\b)|"
    r"(?<![\w\]])\[(?P<m>\d{1,2})\](?!\s*\()|"
    rf"\bthe\s+(?P<o>{'|'.join(_ORDINALS)})\s+(paper|document|source|article|citation|result|one|abstract|reference)\b"
    r"(?!\s+(on|about|to|that|which|in|of|for|with|using|ever|published)\b)",
    re.IGNORECASE,
)
_NTH_TOPIC = re.compile(  # "the second topic"; not "the first topic to emerge" (a description, not a pointer)
    rf"\bthe\s+(?P<o>{'|'.join(_ORDINALS)})\s+(topic|area|cluster|theme)\b(?!\s+(to|that|which|ever|of|on|about)\b)",
    re.IGNORECASE,
)
_NTH_ONE = re.compile(rf"\bthe\s+(?P<o>{'|'.join(_ORDINALS)})\s+one\b", re.IGNORECASE)
_IT_TOPIC = (  # "it" where it can only be the topic just shown (a lower-case "it": not "IT spending"); group `it`
    re.compile(r"\b(related|similar|close|closest|nearest|neighbou?rs?|next)\s+to\s+(?P<it>it)\b"),
    re.compile(r"\b(is|are)\s+(?P<it>it)\s+(most\s+)?(closest|close|nearest|similar|related)\s+to\b"),
    re.compile(r"\b(does|do|did)\s+(?P<it>it)\s+(have|hold|contain|include)\b"),
    re.compile(r"\b(overlaps?\s+with|subtopics\s+of|children\s+of|inside|under)\s+(?P<it>it)\b"),
    re.compile(r"^\s*what\s+(is|does)\s+(?P<it>it)\s+(about|cover|hold|contain)\b"),
    re.compile(r"\b(are|is|were)\s+in\s+(?P<it>it)\s*[?.!]*\s*$"),  # "how many questions are in it?"
    re.compile(r"\bwhat\s+are\s+(?P<it>its)\s+(subtopics|children|keywords|documents|papers|sizes?)\b"),
    re.compile(r"(?P<it>\b(this|that)\s+(topic|cluster|theme)\b)", re.IGNORECASE),
)


def pronoun_topic(q: str, in_view: int | None) -> str:
    """'What topics are related to it?', 'which topic is it closest to?', 'how many documents does it have?',
    'who writes in this topic?' -> '... topic 10' when the last answer showed topic 10 alone (`in_view`).
    Any other "it" is left to the conversation's last subject."""
    if in_view is None or re.search(r"\btopics?\s*#?\s*\d", q, re.IGNORECASE):
        return q
    for pattern in _IT_TOPIC:
        m = pattern.search(q)
        if m:
            start, end = m.span("it")
            owner = "'s" if q[start:end].lower() == "its" else ""  # "what are its subtopics?": topic 10's
            return f"{q[:start]}topic {in_view}{owner}{q[end:]}"
    return q


def ordinal_topics(q: str, shown: list[int], listed: bool) -> str:
    """'the second topic' -> 'topic 12' where the last answer showed topic 12 second (`shown`); 'the first
    one' too when that answer listed topics (`listed`; after a list of documents it is a document)."""

    def one(m: re.Match[str]) -> str:
        n = _ORDINALS[m.group("o").lower()]
        return f"topic {shown[n - 1]}" if n <= len(shown) else m.group(0)

    q = _NTH_TOPIC.sub(one, q)
    return _NTH_ONE.sub(one, q) if listed else q


_LISTING = re.compile(  # "papers in topic 12", "list the documents of the first one": its documents, listed
    r"\b(papers|documents|articles|abstracts|publications|preprints|stories|posts|items|members)\b", re.IGNORECASE
)


def _listing(q: str) -> str:
    """'documents' when the question asks for a topic's documents ('show me papers in the first one')."""
    return "documents" if _LISTING.search(q) else ""


_SIMILAR = re.compile(r"\b(similar\s+to|like|related\s+to|close\s+to|closest\s+to|neighbou?rs\s+of)\b", re.IGNORECASE)
_SIMILAR_ID = re.compile(
    r"\b(papers?|documents?|articles?|abstracts?|more)\s+(\w+\s+)?(similar\s+to|like|related\s+to|close\s+to)\s+"
    r"(id\s+)?(?P<id>[\w./:-]*\d[\w./:-]*)\s*\??$",
    re.IGNORECASE,
)


_QUOTED_TITLE = r"[\"“”‘’'](?P<t>[^\"“”‘’]{4,}?)[\"“”‘’']"  # (an apostrophe inside a title ends it only at the end)
_SIMILAR_TITLE = re.compile(  # 'papers like "Gemma 3 Technical Report"', "more like 'Attention Is All You Need'"
    r"\b(papers?|documents?|articles?|abstracts?|more|work|others?|anything|something)\s+(\w+\s+)?(similar\s+to|like|"
    rf"related\s+to|close\s+to)\s+(the\s+(paper|article|document)\s+)?{_QUOTED_TITLE}\s*[?.!]*\s*$",
    re.IGNORECASE,
)
_TITLED = re.compile(  # 'tell me about the paper "Gemma 3 Technical Report"', 'open "Attention Is All You Need"'
    r"^\s*(tell\s+me\s+about|show(\s+me)?|open|describe|summari[sz]e|what\s+(is|does))\s+(the\s+)?"
    rf"((paper|article|document|abstract)\s+(called\s+|titled\s+|named\s+)?)?{_QUOTED_TITLE}(\s+(say|about))?\s*[?.!]*\s*$",
    re.IGNORECASE,
)
_DOC_ID = re.compile(  # "tell me about paper cooking-3" (an id ending the question), "who wrote 2503.12141?"
    r"\b(paper|document|article|abstract|preprint|arxiv|id)\b(\s+id\b)?(\s*[:#]\s*|\s+)(?P<id>[A-Za-z][\w./:]*-\d+)"
    r"\s*[?.!]*\s*$|(?<![\w./-])(?P<arxiv>([0-9][7-9]|[1-9]\d)(0[1-9]|1[0-2])\.\d{4,5}(v\d+)?)(?![\w.-])",
    re.IGNORECASE,
)


_NUMBERED_DOC = re.compile(  # "show document 447", "open question #12", "doc id 9" (ids that are numbers)
    r"^\s*((show|open|display|get|print|read|tell\s+me\s+about)\s+(me\s+)?)?(the\s+)?(document|doc|question|post|bill|"
    r"article|story|paper|record|item|entry)\s+(?P<id>id\s*)?(number\s*|no\.?\s*)?[:#]?\s*(?P<n>\d{1,12})\s*[?.!]*\s*$",
    re.IGNORECASE,
)


def _document_intent(q: str) -> Intent | None:
    """'Tell me about [2]', 'what does the second paper say?', 'more like [3]', 'papers similar to 2505.00059',
    'papers like "Gemma 3 Technical Report"' (a title in quotes)."""
    titled = _SIMILAR_TITLE.search(q) or _TITLED.search(q)
    if titled:
        return Intent(
            IntentKind.DOCUMENT, titled.group("t").strip(), similar=bool(_SIMILAR.search(q[: titled.start("t")]))
        )
    nth = _NTH_TOPIC.search(q)
    if nth:  # "tell me about the second topic", "papers in the first area"
        return Intent(IntentKind.TOPIC, "", cited=_ORDINALS[nth.group("o").lower()], noun=_listing(q))
    numbered = _NUMBERED_DOC.match(q)
    if numbered:  # "show document 447": a source of the last answer when it has one so numbered, else an id
        n = numbered.group("n")
        cited = int(n) if len(n) <= 2 and not numbered.group("id") else 0
        return Intent(IntentKind.DOCUMENT, "", cited=cited, doc_ref=n, similar=bool(_SIMILAR.search(q)))
    m = _CITED.search(q)
    if m:
        n = int(m.group("n") or m.group("m") or _ORDINALS[m.group("o").lower()])
        return Intent(IntentKind.DOCUMENT, "", cited=n, similar=bool(_SIMILAR.search(q)))
    ref = _SIMILAR_ID.search(q)
    if ref:
        return Intent(IntentKind.DOCUMENT, "", doc_ref=ref.group("id").strip(), similar=True)
    named = _DOC_ID.search(q)
    if named:
        return Intent(IntentKind.DOCUMENT, "", doc_ref=(named.group("id") or named.group("arxiv")).strip())
    return None


_WHERE = (
    re.compile(
        r"^\s*(which|what)\s+(topic|area|part\s+of\s+the\s+tree)\s+(is|are|does|do)\s+(?P<x>.+?)\s+"
        r"(in|belong\s+to|fall\s+(in|under)|part\s+of|under)\s*\??$",
        re.IGNORECASE,
    ),
    re.compile(r"^\s*where\s+(does|do|is|are)\s+(?P<x>.+?)\s+(fit|belong|sit|fall|appear|go)\b", re.IGNORECASE),
    re.compile(r"^\s*(which|what)\s+topics?\s+(are|is)\s+(similar|related|close)\s+to\s+(?P<x>.+)$", re.IGNORECASE),
)


_HELP = re.compile(
    r"^\s*((please\s+)?help|\?+|hi|hello|hey|hallo|good\s+(morning|afternoon|evening)|thanks?(\s+you)?|thank\s+you\s+"
    r"(very|so)\s+much|thx|cheers|ok(ay)?|who\s+are\s+you|what\s+are\s+you|what\s+can\s+(you|i)\s+(do|ask)|"
    r"how\s+(do|can|should)\s+i\s+(use\s+(this|it|you)|ask|start)|what\s+(should|can|could)\s+i\s+ask|"
    r"what\s+kinds?\s+of\s+questions(\s+can\s+i\s+ask)?|how\s+does\s+this\s+(tool\s+|app\s+|chat\s+)?work|"
    r"example\s+questions?|"
    r"usage|commands)(\s+(me|please|here|with\s+this|(this|the)\s+(tool|app|assistant|chat|bot)))?[\s!?.,]*$",
    re.IGNORECASE,
)
_ABOUT = re.compile(
    rf"^\s*(how\s+(was|is|were)\s+(this|the)\s+({_COLLECTION}|map|topic\s+tree|topics|clusters?)\s+(built|made|created|"
    rf"constructed|computed|clustered|indexed)|what\s+(data|{_COLLECTION}|documents)\s+(is|are)\s+(this|these|in\s+"
    rf"(here|the\s+{_COLLECTION}))|what\s+is\s+(this|the)\s+({_COLLECTION})(?!\s+about)|(what|which)\s+(embedding\s+|language\s+)?"
    rf"(models?|embedder|settings|parameters)\s+(is|are|was|were|did\s+you)\s+(used|use)|what(\s+is|'s|’s)\s+the\s+"
    rf"(date\s+range|time\s+span|span|period|time\s+range|source)\s+of\s+(the|this)\s+({_COLLECTION}|data|documents|papers)|"
    rf"when\s+was\s+(this|the)\s+{_COLLECTION}\s+(built|made|created|updated|last\s+updated)|(what|which)\s+(dates|period|"
    rf"time\s+range|date\s+range|time\s+span|years|months)\s+(does|do)\s+(the|this)\s+({_COLLECTION}|data|documents|papers)\s+"
    rf"(cover|span)|(what|which)\s+(columns|fields|metadata|attributes)\s+(does|do|are\s+in|is\s+in)\s+(the|this)\s+"
    rf"({_COLLECTION}|data|documents|papers)(\s+(have|hold|carry|contain))?|(what|which)\s+(columns|fields|metadata)\s+"
    rf"(are\s+there|exist)|"
    rf"(how|where)\s+(did|do)\s+(the|these)\s+(documents|papers|data)\s+come\s+from)"
    rf"(\s+(to\s+build|for|in|by)\s+(this|the)\s+({_COLLECTION}|topics|map|topic\s+tree|tool|app|chat))?\s*[?.!]*\s*$",
    re.IGNORECASE,
)


_ELLIPSIS = (
    re.compile(
        r"^\s*((and|but|ok(ay)?|now|also),?\s+)?((what|how)\s+about|same\s+for|and\s+for|now\s+for|and\s+now\s+for)\s+"
        r"(?P<x>.+?)\s*[?.!]*$",
        re.IGNORECASE,
    ),
    re.compile(  # "and in 2026?", "and last month?", "and topic 1?"
        rf"^\s*(and|also)\s+(?P<x>((in|for|during|from|since|after|before|over|within)\s+)?((the\s+)?(last|past|this|previous)\s+\w+"
        rf"|{_YEAR}|topic\s*#?\s*\d+).*?)\s*[?.!]*$",
        re.IGNORECASE,
    ),
    re.compile(
        rf"^\s*(?P<x>(in|during|from|since|after|before)\s+{_YEAR}(\s+(to|and|until)\s+{_YEAR})?)\s*[?.!]*$", re.I
    ),
    re.compile(r"^\s*(and|also)\s+(?P<x>[^\s?]+(\s+[^\s?]+){0,3})\s*\?+\s*$", re.IGNORECASE),  # "and RAG?"
)
_NOT_ELLIPTICAL = re.compile(
    r"\b(those|these|them|which|what|how|who|why|where|when|compare|vs|it|its|is|are|was|were|does|do|did|can|could|"
    r"should|then|else|more|so)\b",
    re.IGNORECASE,
)
_ADDING = re.compile(r"^\s*(and|now|also)\s+(for|in|on|with|the)\s+(?!\d)", re.IGNORECASE)  # "and for Arabic?"
_UNIT_ONLY = re.compile(
    r"^\s*(and|or|now)?\s*((by|per|which|each|in)\s+)?(?P<unit>months?|quarters?|years?)\s*[?.!]*\s*$", re.IGNORECASE
)
MAX_ELLIPSIS_WORDS = 6


def _ellipsis(q: str, named: list[int] | None = None) -> Intent | None:
    """A fragment that only changes the previous question: its period ('and in 2026?'), its subject ('what
    about speech?', or adds to it: 'and for Arabic?'), its topic ('and topic 1?'), its unit ('and by
    quarter?'). The Assistant fills in the rest from the conversation."""
    unit = _UNIT_ONLY.match(q)
    if unit:
        return Intent(IntentKind.PAPERS, "", elliptical=True, unit=unit.group("unit").lower().rstrip("s"))
    for pattern in _ELLIPSIS:
        m = pattern.match(q)
        if not m:
            continue
        x = m.group("x").strip()
        if _NOT_ELLIPTICAL.search(x) or len(x.split()) > MAX_ELLIPSIS_WORDS:
            return None
        if re.fullmatch(_YEAR, x, re.IGNORECASE):
            x = f"in {x}"
        period, window, rest = _time_words(x, also_for=True)
        refs = [int(n) for n in _TOPIC_REF.findall(rest)]
        if refs:  # "and topics 3 and 5?": every topic the question named
            refs = named or refs
        rest = _TOPIC_REF.sub(" ", rest)
        content = _strip(re.sub(r"^\s*(the\s+|for\s+|on\s+|about\s+|in\s+)+", "", _DOC_LEAD.sub("", rest.strip())))
        if not (period or window or refs or content):
            return None
        adds = bool(content and _ADDING.match(q))  # "and for Arabic?" narrows the subject, not replaces it
        return Intent(IntentKind.PAPERS, content, refs, adds, window, period=period, elliptical=True)
    return None


def describe(intent: Intent) -> str:
    """The question an intent stands for, in words (to show how a follow-up was read)."""
    subject = f"“{intent.content}”" if intent.content and intent.kind is not IntentKind.TOPIC else ""
    if intent.topic_ids and not subject:
        subject = ", ".join(f"topic {t}" for t in intent.topic_ids)
    subject = subject or "the whole index"
    when = ""
    if intent.period:
        lo, dots, hi = intent.period.partition("..")
        when = (
            f" in {lo}"
            if not dots
            else f" from {lo} to {hi}"
            if lo and hi
            else f" from {lo} on"
            if lo
            else f" up to {hi}"
        )
    elif intent.window and intent.window[0] == 0:
        when = f" this {intent.window[1]}"
    elif intent.window and intent.window[0] < 0:
        when = f" {'since ' if intent.window[0] == -2 else ''}last {intent.window[1]}"
    elif intent.window:
        when = f" in the last {intent.window[0]} {intent.window[1]}{'s' if intent.window[0] > 1 else ''}"
    match intent.kind:
        case IntentKind.COUNT if intent.peak:
            return f"which {intent.unit or 'period'} had the {intent.peak} documents on {subject}{when}"
        case IntentKind.COUNT:
            return f"how many documents are about {subject}{when}"
        case IntentKind.AUTHORS if intent.person:
            return f"papers by {intent.person}" + (f" on {subject}" if intent.content else "") + when
        case IntentKind.AUTHORS:
            return f"which authors work on {subject}{when}"
        case IntentKind.TREND:
            return f"how {subject} changed{when}"
        case IntentKind.COVER:
            return f"which topics cover {subject}"
        case IntentKind.TOPIC:
            return subject
        case IntentKind.EMERGING:
            moved = "declined" if intent.declining else "grew"
            return f"which topics{' near ' + subject if intent.content else ''} {moved}{when}"
        case IntentKind.COMPARE:
            sides = [f"“{x}”" for x in intent.subjects] or [f"topic {t}" for t in intent.topic_ids]
            return (
                f"compare {', '.join(sides[:-1])} and {sides[-1]}{when}" if len(sides) >= 2 else f"a comparison{when}"
            )
        case IntentKind.LARGEST:
            which = "smallest" if intent.peak == "fewest" else "largest"
            return f"the {which} topics" + (f" about {subject}" if intent.content else "") + when
        case _:
            return f"papers on {subject}{when}"


_LIMIT = re.compile(
    rf"\b(top|first|give\s+me|show\s+me|list|find|get|the)\s+(?P<n>\d{{1,2}}|{_COUNTED})\s+((largest|biggest|"
    r"most\s+popular|newest|latest|most\s+recent|oldest|earliest|most\s+cited|highly\s+cited|closest|best|"
    r"most\s+relevant|most\s+prolific|main|new|recent)\s+)?"
    rf"(papers|documents|articles|abstracts|topics|authors|results|researchers|sources|{_OTHER_DOCS})\b|"
    rf"\btop\s+(?P<m>\d{{1,2}}|{_COUNTED})\b(?!\s*(%|percent))",
    re.IGNORECASE,
)
MAX_LIMIT = 25


def _all(q: str) -> int:
    """MAX_LIMIT for 'all the papers in topic 12' ('all': as many as an answer shows), else 0."""
    return MAX_LIMIT if re.search(r"\b(all|every|each)\b", q, re.IGNORECASE) else 0


def _limit(q: str) -> int:
    """'give me 10 papers on X', 'the 5 largest topics', 'top 3 authors' -> 10, 5, 3 (at most MAX_LIMIT)."""
    m = _LIMIT.search(q)
    if not m:
        return 0
    n = m.group("n") or m.group("m")
    return min(MAX_LIMIT, max(1, int(n) if n.isdigit() else _NUMBERS[n.lower()]))


# The words the rules read; a typo of one ("wich", "mnay", "tpoics") is read as the word when the corpus
# does not know the typed form (see `fix_typos`).
GRAMMAR_WORDS = frozenset(
    "which what many topics topic papers paper documents document authors author compare list show latest recent trend "
    "trends emerging growing between about largest popular month year quarter published most overview themes "
    "changed".split()
)


# English words one edit from a grammar word ("last" / "list", "months" / "month"): never mended.
_REAL_WORDS = frozenset(
    "last lost post host most must much that than then them these those there year years near many mean show "
    "shown snow slow list lists least months topical optic tropic pages paper papers authored compared compares "
    "changes latent abut about".split()
)


def _one_edit(a: str, b: str) -> bool:
    """Whether b is within one insertion, deletion, swap of neighbours, or (in words of 6+ letters)
    substitution of a."""
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        diff = [i for i in range(len(a)) if a[i] != b[i]]
        swap = len(diff) == 2 and diff[1] == diff[0] + 1 and a[diff[0]] == b[diff[1]] and a[diff[1]] == b[diff[0]]
        return swap or (len(diff) == 1 and len(a) >= 6)
    short, long_ = (a, b) if len(a) < len(b) else (b, a)
    return any(long_[:i] + long_[i + 1 :] == short for i in range(len(long_)))


def fix_typos(question: str, known: Callable[[str], bool] = lambda _w: False) -> str:
    """Mend a misspelt grammar word ('how mnay papers', 'wich topics', 'list tpoics'): a word of 4+ letters
    that is one edit from exactly one grammar word and that `known` (the corpus's own words) does not hold."""

    def mend(m: re.Match[str]) -> str:
        word = m.group(0)
        low = word.lower()
        if len(low) < 4 or low in GRAMMAR_WORDS or low in _REAL_WORDS or known(low):
            return word
        near = [g for g in GRAMMAR_WORDS if _one_edit(low, g) and low.rstrip("s") != g.rstrip("s")]
        return near[0] if len(near) == 1 else word

    question = re.sub(r"(?<=\s)r(?=\s+about\b)", "are", question)  # "how many articles r about the nba"
    return re.sub(r"[A-Za-z]+", mend, question)


def parse_intent(question: str) -> Intent:
    """Classify a question; the rules look at phrasing only, never at the corpus."""
    intent = _parse(question)
    if intent.kind in (
        IntentKind.PAPERS,
        IntentKind.LARGEST,
        IntentKind.AUTHORS,
        IntentKind.COVER,
        IntentKind.EMERGING,
    ):
        intent.limit = _limit(question) or intent.limit  # a LARGEST about one topic has limit 1 already
    return intent


def _parse(question: str) -> Intent:
    q = normalise_dates(question.strip())
    if not q:
        return Intent(IntentKind.EMPTY, "")
    follow = bool(_FOLLOW.search(q))
    refs, q = topic_list(q)
    if _HELP.match(q):
        return Intent(IntentKind.HELP, _strip(q))
    if _ABOUT.match(q):
        return Intent(IntentKind.ABOUT, "")
    elliptical = _ellipsis(q, refs)
    if elliptical is not None:
        return elliptical
    focus = _FOCUS.match(q)
    if focus:
        return Intent(IntentKind.FOCUS, "", refs)
    if _CLEAR.match(q):
        return Intent(IntentKind.CLEAR, "")
    if _MAP.search(q):
        return Intent(IntentKind.MAP, _strip(q), refs, follow)
    document = _document_intent(q)
    if document is not None:
        return document
    if (
        refs
        and re.search(
            r"\b(subtopics?|children|child\s+topics|related|similar|neighbou?rs?|closest|nearest)\b"
            + r"|\boverlaps?\b" * (len(refs) == 1),
            q,
            re.IGNORECASE,
        )
        and not (len(refs) >= 2 and re.search(r"\bhow\s+(similar|related|alike)\s+(are|is)\b", q, re.IGNORECASE))
    ):
        return Intent(IntentKind.TOPIC, _strip(q), refs, follow)  # its subtopics and closest topics
    for pattern in _WHERE:
        where = pattern.match(q)
        if where and not refs:  # "which topic is question answering in?": the topics covering it, with paths
            return Intent(
                IntentKind.COVER,
                _strip(re.sub(r"\s+in\s+the\s+(topic\s+)?tree$", "", _strip(where.group("x")))),
                refs,
                follow,
            )
    compare = _period_against_period(q, refs, follow) or _compare_intent(q, refs, follow)
    if compare is not None:
        return compare
    if _CHANGED.search(q):
        return Intent(IntentKind.CHANGED, "")
    peak = _peak_intent(q, refs, follow)
    if peak is not None:
        return peak
    person = _person_intent(q, refs, follow)  # "how many papers by Jane Doe?" counts her papers, not the words
    if person is not None:
        return person
    if not _EMERGING.search(q) and (count := _count_intent(q, refs, follow)) is not None:
        return count
    authors = _authors_intent(q, refs, follow)
    if authors is not None:
        return authors
    largest = _largest_intent(q, refs, follow)
    if largest is not None:
        return largest
    overview = _OVERVIEW.search(q)
    if overview and not re.fullmatch(
        rf"(the\s+|this\s+|whole\s+|entire\s+)*({_COLLECTION}|papers|documents|topics)",
        _strip(overview.group("x")),
        re.IGNORECASE,
    ):
        return _cover(re.sub(r"\s+(research|work|literature)$", "", _strip(overview.group("x"))), refs, follow)
    timed = _time_intent(q, refs, follow)
    if timed is not None:
        return timed
    themes = _themes_intent(q, refs)
    if themes is not None:
        return themes
    m = _COVER.match(q)
    if m:
        return _cover(m.group("x") or m.group("y"), refs, follow)
    if _LIST.match(q):
        window, (period, _) = _window(q), _period(q)
        if (window or period) and re.search(rf"\b{_MOVES}\b", q, re.IGNORECASE):  # "list the topics that grew in 2025"
            return Intent(IntentKind.EMERGING, "", refs, follow, window, bool(_DECLINING.search(q)), period=period)
        if window or period:  # "list all topics in 2025": the topics by their documents then ("all": up to 25)
            every = MAX_LIMIT if re.search(r"\ball\b", q, re.IGNORECASE) else 0
            return Intent(IntentKind.LARGEST, "", refs, follow, window, period=period, limit=every)
        if refs:  # "show topics 1 and 4": those topics
            return Intent(IntentKind.TOPIC, _strip(q), refs, follow)
        return Intent(IntentKind.LIST, "", refs, follow)
    named = _NAMED_TOPIC.match(q)
    subject = _strip(named.group("x") or named.group("y")) if named else ""
    if named and not refs and not _NOT_A_TOPIC_NAME.match(subject):  # "tell me about the hallucination topic"
        return Intent(IntentKind.TOPIC, subject, [], follow, noun=_listing(q[: named.start("t")]), limit=_all(q))
    if refs and (_DETAIL.search(q) or _BARE_TOPIC.fullmatch(q)):
        return Intent(IntentKind.TOPIC, _strip(q), refs, follow)
    return _papers_intent(q, refs, follow)


_RECENT = re.compile(
    r"^\s*((what|which)\s+(are|is|were)\s+|(show|list|give|find)\s+(me\s+)?)?(the\s+|any\s+|some\s+)?(\d{1,2}\s+)?"
    r"(latest|newest|most\s+recent|recent|new|today['’]?s)\s+(papers?|documents?|articles?|abstracts?|work|research|"
    rf"stud(y|ies)|preprints?|publications?|results|findings|developments|advances|{_OTHER_DOCS}|story|bill|post|report)"
    r"\s*((on|about|in|regarding|for|into)\s+)?|"
    r"\b(recently|lately)\b|"
    r"\b(published|posted|listed|released|submitted|added)\s+(today|yesterday)\b(?!['’])|"
    r"\b(papers|documents|articles|abstracts|preprints|publications)\s+(from|of)\s+(today|yesterday)\b(?!['’])|"
    r"(?<=\bout\s)(today|yesterday)\b(?!['’])",
    re.IGNORECASE,
)
_ASKED_FOR = r"^\s*((what|which)\s+(are|is|were|was)\s+|(show|list|give|find)\s+(me\s+)?)?(the\s+)?(\d{1,2}\s+)?"
_DOC_WORD = r"(papers?|documents?|articles?|abstracts?|stud(y|ies)|preprints?|publications?)"
_ON = r"\s*((on|about|in|regarding|for|into)\s+)?"  # the word before the subject
_BY_CITATIONS = re.compile(  # "the most cited paper", "highly cited papers on RAG", "papers with the most citations"
    rf"{_ASKED_FOR}(most|highly|best|top|widely)[\s-]+cited\s+({_DOC_WORD}|works?)?{_ON}|"
    r"^\s*(which|what)\s+(papers?|documents?|articles?|stud(y|ies)|works?)\s+(has|have|had|got|received|get)\s+"
    r"(the\s+)?(most|highest|largest)\s+(number\s+of\s+)?(citations|citation\s+counts?)\b|"
    r"\b(with|by|has|have|had|got|received|get)\s+(the\s+)?(most|highest|largest)\s+(number\s+of\s+)?"
    r"(citations|citation\s+counts?)\b|"
    r"\bmost\s+citations\b",
    re.IGNORECASE,
)
_OLDEST = re.compile(  # "the oldest paper", "the earliest papers on RAG" ("the first paper" may mean source [1])
    rf"{_ASKED_FOR}(oldest|earliest)\s+{_DOC_WORD}{_ON}", re.IGNORECASE
)
_DOC_LEAD = re.compile(
    rf"^\s*(papers|documents|articles|abstracts|work|research|studies|preprints|publications|{_OTHER_DOCS})\s+"
    r"(on|about|regarding|discussing|that\s+discuss|which\s+discuss|mentioning|that\s+mention|which\s+mention)\s+",
    re.IGNORECASE,
)


_EXCLUDED = re.compile(  # "RAG but not medical", "speech papers excluding ASR" ("without X" is often the subject)
    r"\s*,?\s*\b(but\s+not(\s+(about|on|in|for|involving|including|mentioning))?|excluding|except(\s+for)?|other\s+than|"
    r"(that|which)\s+(don['’]t|do\s+not|doesn['’]t|does\s+not)\s+(mention|use|discuss)|"
    rf"apart\s+from|leaving\s+out|\b(papers|documents|articles|abstracts|studies|works|ones|those|these|them|{_OTHER_DOCS}|"
    r"\d{4}(-\d{2})?|topic\s*#?\s*\d+)"
    r"(?P<cut>(\s+(that|which))?\s+(((are|is|were|was)\s+)?not\s+(about|on|involving|including|mentioning)|(aren['’]t|"
    r"isn['’]t|weren['’]t|(don['’]t|do\s+not|doesn['’]t|does\s+not)\s+(mention|use|discuss)|never\s+mention)"
    r"(\s+(about|on))?)))\s+(?P<x>\S.*)$",
    re.IGNORECASE,
)
_EXCLUDED_FILLER = re.compile(  # "but not the medical ones": "medical"
    r"^\s*(the|any|those|these)\s+|\s+(ones?|papers?|documents?|articles?|studies|works?)\s*[?.!]*\s*$", re.IGNORECASE
)
_NO_SUBJECT = re.compile(
    r"((show|list|give|find)\s+(me\s+)?)?(the\s+)?((\d{1,2}|new|all|any|some|more|most|recent|latest|newest)\s+)?"
    r"(papers?|documents?|articles?|abstracts?|results|work|research|publications?|preprints?)?(\s+(are|were|is))?|are|were|"
    r"(which|what)(\s+are)?(\s+the)?(\s+(other|remaining))?\s+(papers|documents|articles|abstracts|studies|works|ones|"
    rf"{_OTHER_DOCS})(\s+(are|were|is|do|does|did))?|"
    r"what\s+(has\s+|have\s+)?(happened|is\s+happening|was\s+happening)|"
    r"(what|which|who)\s+(was|were|is|are|has\s+been|have\s+been|got)\s+(published|written|posted|listed|added|"
    r"released|new)|what\s+came\s+out|what\s+(did|have|has)\s+(researchers|people|authors|they|scientists)\s+"
    r"(publish|published|write|written)",
    re.IGNORECASE,
)


def _cover(subject: str, refs: list[int], follow: bool, noun: str = "", timed: str = "") -> Intent:
    """The topics covering a subject, in a period when it (or `timed`, the words it came from) names one
    ('list all topics about speech in 2025', 'what topics cover QA in the last year?': the time words are
    not searched for)."""
    window = _window(timed or subject)
    period, text = _period(subject)
    period = period or (_period(timed)[0] if timed else "")
    if window:
        text = _drop_window(text)
    if not _strip(text) and (period or window) and not noun:  # "list all topics in 2025": that period's largest
        return Intent(IntentKind.LARGEST, "", refs, follow, window, period=period)
    return Intent(IntentKind.COVER, _strip(text), refs, follow, window, period=period, noun=noun)


def _papers_intent(q: str, refs: list[int], follow: bool) -> Intent:
    """A search, optionally scoped in time: 'the latest papers on X', 'papers on X in the last three
    months', 'papers from 2026-05 about X' (the time words are not searched for); 'but not Y' leaves out
    the documents that mention Y."""
    excluded = ""
    left_out = _EXCLUDED.search(q)
    cut = (left_out.start("cut") if left_out.group("cut") else left_out.start()) if left_out else 0
    if left_out and (_strip(_FOLLOW.sub(" ", q[:cut])) or follow):  # "RAG from April but not medical"
        dated, rest = _period(left_out.group("x"))  # "RAG but not medical from April": the period is the search's
        q = q[:cut] + (f" in {dated}" if dated and _strip(rest) else "")
        excluded = _strip(_EXCLUDED_FILLER.sub("", rest if dated and _strip(rest) else left_out.group("x")))
    window = _window(q)
    period, text = _period(q)
    oldest = bool(_OLDEST.search(q))
    # "the most cited papers"; not "which author has the most citations?" (ranked papers are no answer to it)
    by_citations = bool(_BY_CITATIONS.search(q)) and not re.search(
        r"\b(topics?|authors?|researchers?|writers?|clusters?|areas?|venues?|journals?)\b(?!\s*#?\s*\d)", q, re.I
    )
    recent = bool(_RECENT.search(q)) and not oldest
    if window:
        text = _drop_window(text)
    text = re.sub(r"\s*\b((from|in|of|during)\s+)?(the\s+)?previous\s+(years|months|quarters)\b", " ", text, flags=re.I)
    text = _BY_CITATIONS.sub(" ", _OLDEST.sub(" ", _RECENT.sub(" ", text)))
    if refs:  # "papers in topic 12 about DPO": a search of DPO within topic 12
        text = re.sub(r"\s*\b((in|from|of|within|under|inside)\s+)?topic\s*#?\s*\d+\b", " ", text, flags=re.IGNORECASE)
    content = _DOC_LEAD.sub("", _PAPERS_LEAD.sub("", _FOLLOW.sub(" ", text).strip()))  # "papers on X": X
    if follow:  # "which of those use GPT-4?": GPT-4
        content = _NARROWING.sub("", content)
    content = re.sub(r"\s+", " ", _strip(content)).strip()
    content = re.sub(r"^(about|on|regarding)\s+", "", content, flags=re.IGNORECASE)
    content = re.sub(  # "papers in 2025 are about RAG", "... were published about agents": RAG, agents
        r"^((papers|documents|articles|abstracts|studies|works)\s+)?((that|which)\s+)?(are|is|were|was)\s+"
        r"((published|written|posted)\s+)?(about|on|regarding|concerning)\s+(?=\S)",
        "",
        content,
        flags=re.IGNORECASE,
    )
    content = re.sub(  # "papers that mention ZB-9", "that use LoRA": ZB-9, LoRA (not "use of LLMs")
        r"^((that|which)\s+)?(mentions?|mentioning|discuss(es)?|discussing|address(es)?|covers?|(uses?|using|studies|"
        r"study|apply|applies|propose|proposes)(?!\s+(of|in|on|for)\b))\s+(?=\S)",
        "",
        content,
        flags=re.IGNORECASE,
    )
    if oldest or recent or by_citations:  # "the oldest paper in the collection": no subject
        content = re.sub(
            rf"^((in|of|from|across)\s+)?(the|this)\s+(whole\s+|entire\s+)?{_COLLECTION}((\s+(about|on|regarding))?\s+|$)|"
            rf"\s+(in|of|from|across)\s+(the|this)\s+(whole\s+|entire\s+)?{_COLLECTION}(?=\s|$)",
            " ",
            content,
            flags=re.I,
        ).strip()
    if recent:  # "any new papers on RAG today?"
        content = re.sub(r"\s+(today|yesterday)$", "", content, flags=re.IGNORECASE)
    scoped = bool(window or period or recent or oldest)
    if excluded and _NO_SUBJECT.fullmatch(content):  # "which papers are not about LLMs?": all the others
        content = ""
    if (scoped or refs or by_citations) and _NO_SUBJECT.fullmatch(content):
        # "the most recent papers", "show me papers from 2024": the newest documents of the period; "the most
        # cited papers": the whole index by its citation count
        content = ""
        if not scoped and not by_citations and not excluded:  # "papers in topic 12": the topic's documents, listed
            return Intent(IntentKind.TOPIC, _strip(q), refs, follow, noun="documents", limit=_limit(q) or _all(q))
    return Intent(
        IntentKind.PAPERS,
        content if scoped or by_citations or excluded else content or _strip(q),
        refs,
        follow,
        window,
        period=period,
        recent=recent,
        oldest=oldest,
        by_citations=by_citations,
        excluded=excluded,
    )
