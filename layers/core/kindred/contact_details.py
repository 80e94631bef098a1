"""Which kinds of contact details (phone number, e-mail address, social handle) a text holds."""

# What counts and what does not is docs/protocol.md's "Contact details", in short:
# - phone: 7 to 15 digits written as one number (spaces, dots, dashes, slashes and brackets
#   between groups, a leading `+` or `00`), or spelled out in English or Spanish words ("six one
#   two ...", "seiscientos doce, treinta y cuatro ..."); not a time, a date, a year or a range of
#   years, a price, a percentage, a quantity with its unit, a round or thousands-grouped count, a
#   decimal, a number named as an id or a code, nor a service's line: Kindred's own crisis lines
#   and freephone numbers are an organisation's, not a person's, and numbers of 3 to 6 digits
#   ("988", "116 123", "024") are never taken for a phone number.
# - email: an address, also with spaces around `@`, or hidden: "name at gmail dot com",
#   "nombre arroba gmail punto com", "name [at] mail [dot] org", "my gmail is name.92".
# - handle: `@name` (not "@ home", "@home", "@5pm"), a profile link (instagram.com/name, t.me/
#   name ...), `u/name`, a Discord tag (name#1234), a platform and a name ("insta: name", "my snap
#   is name", "mi insta es name", "name_92 on tiktok", "my username is name"), or an invitation to
#   a named platform ("add me on snap", "agrégame en insta", "escríbeme por telegram"); a platform
#   named without a name ("I saw it on TikTok", "my insta is private") is not one.
# Each is read on a plain form of the text (NFKC, lower case, no accents, no invisible
# characters), so that look-alike digits and zero-width spaces hide nothing. Nothing here keeps
# or logs the text.

from __future__ import annotations

import itertools
import re
import unicodedata
from collections.abc import Iterator, Sequence
from functools import cache
from typing import Any

KINDS = ("phone", "email", "handle")

# ---- the plain form ----------------------------------------------------------------------

_INVISIBLE = re.compile("[\u00ad\u200b-\u200f\u2060-\u2064\ufeff]")
_DASHES = str.maketrans(
    dict.fromkeys("\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d", "-")
    | dict.fromkeys("\u2018\u2019\u02bc\u00b4`", "'")
)
_COMBINING = re.compile("[\u0300-\u036f]")


def _plain(text: str) -> str:
    folded = unicodedata.normalize("NFKC", text).translate(_DASHES)
    folded = _INVISIBLE.sub("", folded).casefold()
    return _COMBINING.sub("", unicodedata.normalize("NFD", folded))


def _blank(text: str, pattern: re.Pattern[str], fill: str) -> str:
    """`text` with every match of `pattern` replaced by `fill` characters of the same length
    (so that positions stay, and a blanked span joins nothing to what is around it)."""
    return pattern.sub(lambda m: fill * len(m.group(0)), text)


def _wordset(words: str) -> frozenset[str]:
    return frozenset(words.split())


def _words(*names: str) -> str:
    return "|".join(sorted((re.escape(n).replace(r"\ ", r"\s?") for n in names), key=len)[::-1])


# ---- e-mail addresses ----------------------------------------------------------------------

_PROVIDERS = _words(
    "gmail", "googlemail", "hotmail", "outlook", "yahoo", "ymail", "icloud", "me.com",
    "protonmail", "proton", "pm.me", "live", "msn", "aol", "gmx", "yandex", "mail.ru", "zoho",
    "tutanota", "terra", "telefonica", "movistar", "orange",
)  # fmt: skip
# Top-level domains that a hidden address ("at ... dot com") is taken to end with.
_TLDS = _words(
    "com", "net", "org", "edu", "gov", "info", "io", "co", "me", "uk", "us", "ca", "au", "nz",
    "ie", "es", "mx", "ar", "cl", "pe", "uy", "ve", "ec", "bo", "py", "cr", "do", "gt", "hn",
    "sv", "ni", "pa", "cu", "pr", "br", "pt", "fr", "de", "it", "nl", "be", "ch", "at", "eu",
    "biz", "xyz", "app", "dev", "online", "email", "mail",
)  # fmt: skip
_LOCAL = r"[a-z0-9](?:[a-z0-9._%+-]{0,62}[a-z0-9_])?"
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_ADDRESS = re.compile(rf"(?<![a-z0-9._%+-]){_LOCAL}@{_LABEL}(?:\.{_LABEL})*\.[a-z]{{2,24}}\b")
_SPACED_ADDRESS = re.compile(
    rf"(?<![a-z0-9._%+-]){_LOCAL}[ \t]{{0,2}}@[ \t]{{0,2}}{_LABEL}(?:\.{_LABEL})*\.(?:{_TLDS})\b"
)
# "name at gmail dot com", "juan punto perez arroba hotmail punto es", "x [at] y [dot] org".
_BRACKETED_AT = r"[ \t]*[\[({<][ \t]*(?:at|arroba|@)[ \t]*[\])}>][ \t]*"
_WORD_AT = r"[ \t]+(?:at|arroba)[ \t]+"
_SYMBOL_AT = r"[ \t]*(?:@|arroba)[ \t]*"
_DOT = (
    r"(?:[ \t]*[\[({<][ \t]*(?:dot|punto|\.)[ \t]*[\])}>][ \t]*|[ \t]+(?:dot|punto)[ \t]+"
    r"|[ \t]?\.[ \t]?)"
)
_HIDDEN_ADDRESS = re.compile(
    rf"(?<![a-z0-9._%+-])(?P<local>[a-z0-9][a-z0-9._+-]{{0,62}}(?:{_DOT}[a-z0-9_]{{1,30}}){{0,3}})"
    rf"(?P<at>{_BRACKETED_AT}|{_WORD_AT}|{_SYMBOL_AT})"
    rf"(?P<domain>{_LABEL})(?P<rest>(?:{_DOT}{_LABEL}){{0,3}})(?![a-z0-9])"
)
_TLD = re.compile(rf"(?:{_TLDS})")
_PROVIDER = re.compile(rf"(?:{_PROVIDERS})")
# Words that a hidden address's domain never is ("look at this dot com", "at home dot ...").
_NOT_DOMAINS = _wordset(
    "the this that my your his her our their a an home work school night least first last all "
    "once it me you him them us one some any"
)
_NOT_LOCALS = _wordset(
    "i im me you we they he she it is was were are am be been look looking looked laugh "
    "laughing stare staring good bad great best worst not just only even still all"
)
# "my email is name.92", "mi correo: laura_92", "my gmail is lau.ra".
_MAIL_CUE = re.compile(
    r"\b(?:my|mi)[ \t]+(?:e-?mail|email|correo(?:[ \t]+electronico)?|mail|"
    rf"{_PROVIDERS})(?:[ \t]+(?:address|adress))?(?:[ \t]+(?:is|es)\b|[ \t]*[:=])[ \t]*"
    r"(?P<name>[a-z0-9._+-]{3,64})"
)


def _matches(pattern: re.Pattern[str], text: str) -> Iterator[re.Match[str]]:
    """Every match of `pattern` in `text`, overlapping ones too: a match the caller turns down
    must not hide one that starts inside it."""
    position = 0
    while (match := pattern.search(text, position)) is not None:
        yield match
        position = match.start() + 1


_AT_CUE = re.compile(r"@|\b(?:at|arroba)\b")
_MY_CUE = re.compile(r"\b(?:my|mi)\b")


def _emails(plain: str) -> list[tuple[int, int]]:
    """The spans of the e-mail addresses in `plain`, written out or hidden."""
    spans: list[tuple[int, int]] = []
    if "@" in plain:
        spans += [m.span() for m in _ADDRESS.finditer(plain)]
        spans += [m.span() for m in _SPACED_ADDRESS.finditer(plain)]
    if _AT_CUE.search(plain):
        hidden = _matches(_HIDDEN_ADDRESS, plain)
        spans += [m.span() for m in hidden if _is_hidden_address(m, plain)]
    if _MY_CUE.search(plain):
        cued = _MAIL_CUE.finditer(plain)
        spans += [m.span() for m in cued if _looks_like_handle(m.group("name"))]
    return spans


def _is_hidden_address(match: re.Match[str], plain: str) -> bool:
    at, local, domain = match.group("at").strip(), match.group("local"), match.group("domain")
    dots = re.findall(_DOT, match.group("rest"))
    labels = [label for label in re.split(_DOT, match.group("rest")) if label]
    ends_in_tld = bool(labels) and _TLD.fullmatch(labels[-1]) is not None
    if at != "at":  # "@", "arroba", "[at]": an address if it ends like one
        return ends_in_tld or _PROVIDER.fullmatch(domain) is not None
    if domain in _NOT_DOMAINS or local in _NOT_LOCALS:
        return False
    before = plain[max(0, match.start() - 40) : match.start()]
    vouched = _looks_like_handle(local) or re.search(r"e-?mail|correo", before) is not None
    if _PROVIDER.fullmatch(domain):
        return ends_in_tld or (not labels and vouched)  # "laura at gmail dot com", "x92 at gmail"
    if ends_in_tld and any(dot.strip() != "." for dot in dots):
        return True  # "name at example dot org"
    # "at amazon.com" is a website; "laura92 at example.org" an address.
    return ends_in_tld and vouched


# ---- social handles ----------------------------------------------------------------------

_PLATFORM_NAMES = (
    "instagram", "insta", "ig", "snapchat", "snap", "tiktok", "tik tok", "discord", "telegram",
    "whatsapp", "whats app", "wasap", "wassap", "guasap", "whatsap", "wsp", "wpp", "wa",
    "kik", "twitter", "facebook", "fb", "messenger", "reddit", "twitch", "signal", "wechat",
    "skype", "threads", "bluesky", "bsky", "youtube", "tumblr", "pinterest", "linkedin",
    "onlyfans", "tt", "steam", "xbox", "psn", "playstation", "roblox", "minecraft", "fortnite",
    "viber", "line", "face", "feis", "tinder", "bumble", "hinge", "grindr", "mastodon", "sc",
    "tg", "tele",
)  # fmt: skip
_PLATFORMS = _words(*_PLATFORM_NAMES)
# Platform names that are ordinary words too: they count only right before ":" and a name.
_AMBIGUOUS_PLATFORMS = _wordset(
    "tele line face feis signal threads steam hinge bumble xbox minecraft fortnite"
)
_NAME = r"@?[a-z0-9_](?:[a-z0-9_.-]{0,28}[a-z0-9_])?"
# Words that follow "my insta is" and the like without being a name.
_NOT_NAMES = _wordset(
    """
    a an the my your his her our their its it this that these those there here is was are
    were be been being am not no nope so very really too just only also even still always
    never mostly kinda kind sort pretty super literally basically actually probably like
    down broken gone deleted dead full empty blocked hacked banned boring private public
    off on back new old and or but if when because cause cuz lol haha hahaha where what how
    why who all bad good fine ok okay toxic depressing fake full filled for about of to in
    at with from by as has had got gets says said making made getting full up out over
    sad happy weird ugly cringe trash garbage perfect great amazing cool nice dumb stupid lame
    mess everything nothing life hell they we i you he she them people everyone nobody
    someone everybody active online offline famous popular big known verified alone lonely
    there everywhere rarely barely hardly constantly hooked stuck
    es un una el la lo los las mi tu su sus que de del en y o pero porque muy tan privado
    privada publico publica bloqueado bloqueada hackeado hackeada borrado borrada aburrido
    aburrida no si ya nuevo nueva viejo vieja nada todo toda ahi aqui esta estan era fue como
    cuando donde jaja jajaja jeje lleno llena vacio vacia raro rara feo fea triste solo sola
    para por con sin sobre hasta desde mas menos algo ellos ellas nadie todos alguien yo vida
    basura genial horrible mierda
    """
)
# Words that say what something is like ("my insta is embarrassing"), not what it is called.
_DESCRIBING = re.compile(
    r"^.{3,}(?:ing|ed|ible|able|ful|less|ous|ive|ish|ly|ado|ada|ido|ida|oso|osa)$"
)
_AT_HANDLE = re.compile(r"(?<![a-z0-9_@.&/])@(?P<name>[a-z0-9_](?:[a-z0-9_.]{0,28}[a-z0-9_])?)")
# "@" used for "at": "I'm @home", "@ work", "see you @5pm".
_NOT_AT_NAMES = _wordset(
    "home work school uni college night noon midnight the my your church gym office "
    "everyone here channel all mum mom mums moms dad dads nan nans gran grans grandma grandmas "
    "grandpa grandmas hospital park mall beach bar pub casa trabajo clase escuela cole noche "
    "mediodia todos"
)
_TIME_WORD = re.compile(r"\d+(?:[:.]\d+)?(?:am|pm|h|hs|hrs|min|mins|k)?")
_PROFILE_LINK = re.compile(
    r"\b(?:(?:instagram\.com|instagr\.am|vm\.tiktok\.com|t\.me|telegram\.me|wa\.me|"
    r"chat\.whatsapp\.com|discord\.gg|discord\.com/(?:invite|users)|discordapp\.com/users|"
    r"snapchat\.com/add|facebook\.com|fb\.com|fb\.me|m\.me|twitter\.com|x\.com|"
    r"reddit\.com/u(?:ser)?|twitch\.tv|linktr\.ee|bsky\.app/profile|kik\.me|signal\.me|"
    r"onlyfans\.com|tumblr\.com)/|(?:tiktok\.com|youtube\.com|threads\.net)/@)[a-z0-9_.@+-]{2,}"
)
_REDDIT_USER = re.compile(r"(?<![a-z0-9_/])/?u/[a-z0-9_-]{3,20}\b")
_DISCORD_TAG = re.compile(r"(?<![a-z0-9_.#])[a-z0-9_.]{2,32}#\d{4}(?!\d)")
_HANDLE_WORD = (
    r"(?:user ?name|username|handle|name|id|tag|user|account|acc|usuario|nombre|cuenta|nick|"
    r"nickname|@)"
)
_AFTER_NAME = (
    r"(?=$|[\s]*[,.!?;:)(\n\"'*~]|[ \t]+(?:if|and|y|o|or|si|add|agregame|follow|sigueme|btw|pls|"
    r"please|plz|por favor|lol|jaja|xd|to|para|on|en|in|dm|message|text|escribeme|hablame)\b)"
)
_PLATFORM_NAME = re.compile(
    # "insta: name", "snap - name", "ig = name", "discord -> name"
    rf"\b(?P<platform>{_PLATFORMS})\b(?:[ \t]+{_HANDLE_WORD})?[ \t]*(?:[:=]|->|-)[ \t]*"
    rf"(?P<name>{_NAME})"
)
_MY_PLATFORM_IS = re.compile(
    # "my snap is name", "mi insta es name", "my discord username is name", "my tiktok's name"
    rf"\b(?:my|mi)[ \t]+(?P<platform>{_PLATFORMS})\b(?:'s)?(?:[ \t]+(?:de[ \t]+)?{_HANDLE_WORD})?"
    rf"[ \t]*[?,]?[ \t]*(?:(?:is|es|its|it's|it is)\b|[=:])[ \t]*(?P<name>{_NAME})"
)
_MY_USERNAME_IS = re.compile(
    # "my username is laura_92", "mi usuario de insta es lau.ra", "my @ is laura"
    r"\b(?:my|mi)[ \t]+(?:user ?name|username|user|handle|gamertag|gamer tag|nick|usuario|"
    rf"nombre de usuario|cuenta|@)(?:[ \t]+(?:de|on|en|in|for|para)[ \t]+(?:{_PLATFORMS})\b)?"
    rf"(?:[ \t]*(?:(?:is|es)\b|[=:])[ \t]*|[ \t]+)(?P<name>{_NAME})"
)
_ADD_MY = re.compile(
    # "add my snap", "agrega mi insta", "sígueme a mi tiktok"
    rf"\b(?:add|follow|agrega|sigue|agregame|sigueme|anade)[ \t]+(?:a[ \t]+)?(?:my|mi)[ \t]+"
    rf"(?P<platform>{_PLATFORMS})\b"
)
_I_AM_ON = re.compile(
    # "I'm lauraxo on snap", "soy laurita en tiktok"
    rf"\b(?:i'm|im|i am|soy)[ \t]+(?P<name>{_NAME})[ \t]+(?:on|en)[ \t]+(?P<platform>{_PLATFORMS})"
    r"\b"
)
_NAME_ON_PLATFORM = re.compile(
    # "laura_92 on insta", "soy lau.ra en tiktok", "find me as laura92 on discord"
    rf"(?<![a-z0-9_.@])(?P<name>{_NAME})[ \t]+(?:on|en|in|at|@)[ \t]+(?P<platform>{_PLATFORMS})\b"
)
_PLATFORM_THEN_NAME = re.compile(
    # "insta laura_92", "snapchat lau.ra", "discord laura#1234"
    rf"\b(?P<platform>{_PLATFORMS})[ \t]+(?P<name>{_NAME})"
)
_INVITE = re.compile(
    # "add me on snap", "you can dm me on insta", "hmu on discord", "agrégame en insta",
    # "escríbeme por telegram", "me puedes seguir en tiktok"
    r"(?:(?:^|[\n.,!?;:(]|\b(?:and|so|just|pls|plz|please|then|or|lol|can|could|should|"
    r"feel free to|if you want|if u want|hey|hi|also|btw|ok|okay|maybe|y|o|pues|entonces|"
    r"porfa|puedes|podes|podrias|si quieres|oye|hola)\b)[ \t]*(?:add|follow|dm|pm|message|msg|text|"
    r"find|contact|reach|call|snap|whatsapp|hit|look)[ \t]+me(?:[ \t]+up)?|\bhmu|"
    r"\b(?:agrega|anade|sigue|escribe|habla|busca|contacta|encuentra|llama|manda|agregar|"
    r"anadir|seguir|escribir|hablar|buscar|contactar)me(?:[ \t]+(?:un|al|por|el|en)?[ \t]*"
    r"(?:mensaje|msj|mensajito|dm|md|privado|priv|wsp))?|"
    r"\bme[ \t]+(?:puedes|podes|podrias)[ \t]+(?:agregar|seguir|escribir|hablar|buscar|contactar))"
    r"[ \t]+(?:on|at|in|via|through|over|by|en|por|al|a|de|del|a[ \t]+mi)[ \t]+"
    r"(?:my[ \t]+|mi[ \t]+)?"
    rf"(?P<platform>{_PLATFORMS})\b(?P<after>[^\n]{{0,12}})"
)
_ADD_ME_NAME = re.compile(
    # "add me: laura_92", "agrégame laura92", "find me as laura92", "búscame como lau.ra"
    r"\b(?:add[ \t]+me|follow[ \t]+me|agregame|anademe|sigueme|(?:find|search)[ \t]+me[ \t]+"
    r"(?:as|under)|(?:buscame|encuentrame)[ \t]+como)[ \t]*[:=-]?[ \t]*(?P<name>" + _NAME + ")"
)
_PLATFORM_AS = re.compile(
    # "estoy en insta como laura", "I'm on tiktok as lunar.moth", "find me on snap under lunar"
    rf"\b(?P<platform>{_PLATFORMS})\b[ \t]+(?:como|as|under)[ \t]+(?P<name>{_NAME})"
)
_PLATFORM_ITS = re.compile(
    # "insta, es laura_92", "my snap? it's lau.ra"
    rf"\b(?P<platform>{_PLATFORMS})\b[ \t]*[,:?]?[ \t]*(?:it's|its|it is|es|is)[ \t]+"
    rf"(?P<name>{_NAME})"
)
_PLATFORM_WORD = re.compile(rf"\b(?:{_PLATFORMS})\b")
_LETTERS = re.compile(r"[a-z]+")
# The first word of each platform's name: a message with none of them names no platform.
_PLATFORM_STARTS = frozenset(name.split()[0] for name in _PLATFORM_NAMES)
_NAME_CUE = re.compile(
    r"\b(?:my|mi|add|follow|find|search|agregame|anademe|sigueme|buscame|encuentrame)\b"
)
_PLATFORM_ME = re.compile(
    # "snap me at laura92", "whatsapp me @ ..."
    rf"\b(?P<platform>{_PLATFORMS})[ \t]+me(?:[ \t]+(?:at|@|on)[ \t]+|[ \t]*:[ \t]*)"
    rf"(?P<name>{_NAME})"
)


def _looks_like_handle(name: str) -> bool:
    """A name as people pick them for an account: letters with a digit or `_` inside, or two
    runs of letters joined by a dot ("lau.ra")."""
    name = name.lstrip("@").rstrip(".-")
    if len(name) < 3 or not re.search(r"[a-z]", name) or _TIME_WORD.fullmatch(name):
        return False
    return bool(re.search(r"[0-9_]", name)) or (
        len(name) >= 5 and re.search(r"[a-z]{2}\.[a-z]{2}", name) is not None
    )


def _a_name(match: re.Match[str], plain: str, *, strict: bool = False) -> bool:
    """The match's `name` is an account's name, not a word of the sentence: it starts with `@`
    or looks like a handle, or (unless `strict`) is a word that ends the phrase."""
    name = match.group("name")
    bare = name.lstrip("@").rstrip(".-")
    if len(bare) < 2 or bare in _NOT_NAMES or not re.search(r"[a-z]", bare):
        return False
    if re.fullmatch(rf"(?:{_PLATFORMS})", bare) or _TIME_WORD.fullmatch(bare):
        return False
    if name.startswith("@") or _looks_like_handle(bare):
        return True
    if strict or _DESCRIBING.search(bare):
        return False
    return re.match(_AFTER_NAME, plain[match.end("name") :]) is not None


def _on_platform(match: re.Match[str], plain: str, *, strict: bool = False) -> bool:
    """A platform and a name: ordinary words that name a platform too ("line", "signal") only
    with a name that looks like a handle."""
    ambiguous = match.group("platform") in _AMBIGUOUS_PLATFORMS
    return _a_name(match, plain, strict=strict or ambiguous)


def _handles(plain: str) -> bool:
    # Each pattern is tried only when what it needs is in the text: most messages have no
    # "@", no link and no platform's name, and cost a few microseconds.
    for match in _AT_HANDLE.finditer(plain) if "@" in plain else ():
        name = match.group("name")
        if (
            name not in _NOT_AT_NAMES
            and not plain.startswith("'s", match.end())  # "@ mum's": at a place
            and re.search(r"[a-z]", name)
            and not _TIME_WORD.fullmatch(name)
        ):
            return True
    if "/" in plain and (_PROFILE_LINK.search(plain) or _REDDIT_USER.search(plain)):
        return True
    if "#" in plain and _DISCORD_TAG.search(plain):
        return True
    if _NAME_CUE.search(plain) and (
        any(_a_name(m, plain) for m in _matches(_MY_USERNAME_IS, plain))
        or any(_a_name(m, plain, strict=True) for m in _matches(_ADD_ME_NAME, plain))
    ):
        return True
    if _PLATFORM_STARTS.isdisjoint(_LETTERS.findall(plain)) or not _PLATFORM_WORD.search(plain):
        return False
    for pattern in (_PLATFORM_NAME, _MY_PLATFORM_IS, _PLATFORM_ME, _PLATFORM_AS):
        if any(_on_platform(m, plain) for m in _matches(pattern, plain)):
            return True
    if any(_on_platform(m, plain) for m in _matches(_I_AM_ON, plain)):
        return True
    if _ADD_MY.search(plain):
        return True
    for pattern in (_NAME_ON_PLATFORM, _PLATFORM_THEN_NAME, _PLATFORM_ITS):
        if any(_on_platform(m, plain, strict=True) for m in _matches(pattern, plain)):
            return True
    # "add me on snap"; but "add me on whatsapp: 612 345 678" is a phone number, found as such.
    return any(
        re.match(r"[ \t:,-]*\+?\d", m.group("after")) is None for m in _INVITE.finditer(plain)
    )


# ---- phone numbers -----------------------------------------------------------------------

_HOUR = r"(?:[01]?\d|2[0-4])"
_MINUTE = r"[0-5]\d"
_CLOCK = r"am|pm|a\.m\.|p\.m\.|h|hs|hrs"
_DAY = r"(?:0?[1-9]|[12]\d|3[01])"
_MONTH = r"(?:0?[1-9]|1[0-2])"
_YEAR = r"(?:1[89]\d\d|2[01]\d\d)"
_CURRENCY_WORDS = (
    r"(?:eur|euros?|usd|dollars?|dolares|dolar|bucks|pounds?|gbp|quid|libras?|pesos?|soles|"
    r"bolivares|reais|francs?|francos|yen|k|mil|grand|million|millones|millon|billion)"
)
_CURRENCY = rf"(?:[$€£¥]|(?:de[ \t]+)?{_CURRENCY_WORDS}(?![a-z]))"
_UNITS = (
    r"(?:km|kms|kg|kgs|kilos?|mg|mcg|ml|cl|cm|mm|m|g|gr|lbs?|oz|miles|millas|metros|meters?|"
    r"years?|yrs?|anos|days?|dias|weeks?|semanas|months?|meses|hours?|hrs?|horas|minutes?|"
    r"mins?|minutos|seconds?|secs?|segundos|steps|pasos|calories|calorias|kcal|people|"
    r"personas|gente|times|veces|views|vistas|followers|seguidores|likes|subs|subscribers|"
    r"suscriptores|words|palabras|pages|paginas|points|puntos|pts|messages|mensajes|students|"
    r"alumnos|users|usuarios|votes|votos|units|unidades|pills|pastillas|tabs)"
)
# Numbers that are something else, blanked before phone numbers are looked for.
_NOT_PHONES = re.compile(
    "|".join(
        [
            # times: 10:30, 22:15h, 10:30:15, 3pm, 10.30am, 22h, "a las 10.30", 10.30-11.45
            rf"(?<!\d){_HOUR}:{_MINUTE}(?::{_MINUTE})?(?:[ \t]?(?:{_CLOCK})\b)?",
            rf"(?<![\d.]){_HOUR}(?:[.:h]{_MINUTE})?[ \t]?(?:{_CLOCK}|horas)(?![a-z])",
            rf"(?<![\d.]){_HOUR}\.{_MINUTE}[ \t]?-[ \t]?{_HOUR}\.{_MINUTE}(?![\d.])",
            rf"\b(?:at|las|from|until|till|to|de|desde|hasta|around|about|sobre|por|la|y)"
            rf"[ \t]+{_HOUR}[.h]{_MINUTE}(?![\d.])",
            # dates: 12/03/2024, 03-12-24, 12.03.2024, 2024-03-12, 12/03
            rf"(?<![\d./-]){_DAY}([./-]){_MONTH}\1(?:{_YEAR}|\d\d)(?![./-]?\d)",
            rf"(?<![\d./-]){_MONTH}([./-]){_DAY}\2(?:{_YEAR}|\d\d)(?![./-]?\d)",
            rf"(?<![\d./-]){_YEAR}([./-]){_MONTH}\3{_DAY}(?![./-]?\d)",
            r"(?<![\d./-])\d{1,2}/\d{1,2}(?![./-]?\d)",
            rf"(?<![\d./-]){_DAY}[ \t]{_MONTH}[ \t]{_YEAR}(?![\d])",
            # ranges of years: 2020-2024, 1990 - 2000, 2019/20
            rf"(?<![\d./-]){_YEAR}[ \t]?[-/][ \t]?(?:{_YEAR}|\d\d)(?![\d])",
            # round ranges: 1000-2000, 500 - 1500
            r"(?<![\d./-])[1-9]\d*00[ \t]?-[ \t]?[1-9]\d*00(?![./-]?\d)",
            # prices: $1,500, € 20, 1.500 €, 20€, 1.500.000 de pesos, 15k
            r"[$€£¥][ \t]?\d{1,3}(?:[.,\s]\d{3})*(?:[.,]\d{1,2})?(?!\d)",
            r"[$€£¥][ \t]?\d+(?:[.,]\d+)?",
            rf"(?<![\d.,])\d{{1,3}}(?:[., \t]\d{{3}})*(?:[.,]\d{{1,2}})?[ \t]?{_CURRENCY}",
            rf"(?<![\d.,])\d+(?:[.,]\d+)?[ \t]?{_CURRENCY}",
            # percentages
            r"(?<![\d.,])\d+(?:[.,]\d+)?[ \t]?(?:%|por[ \t]?ciento|percent|per[ \t]cent)",
            # a quantity and its unit, numbers grouped by thousands with commas
            rf"(?<![\d.,])\d+(?:[.,]\d+)?[ \t]?{_UNITS}\b",
            r"(?<![\d,.])\d{1,3}(?:,\d{3})+(?:\.\d+)?(?![\d,]|\.\d)",
            # numbers named as something else: an id, an order, a code, a password
            r"\b(?:id|order|ref|reference|case|ticket|invoice|pin|code|passcode|password|zip|"
            r"postcode|dni|nie|nif|pedido|referencia|expediente|factura|codigo|contrasena|clave|"
            r"tracking|seguimiento|isbn|serial|matricula|account|cuenta|student|passport|"
            r"licen[cs]e|policy|member|membership|customer|employee|patient|nhs|ssn|flight|room|"
            r"seat|route|socio|estudiante|poliza|tarjeta|serie|afiliacion|seguridad social)\b"
            r"(?:[ \t]+(?:number|no|num|numero|nr|n)\b\.?)?[ \t]*(?:is|es|:|#|=)?[ \t]*"
            r"\d[\d \t.-]*\d",
            r"\bnumero[ \t]+de[ \t]+(?:la[ \t]+)?(?:pedido|cuenta|socio|estudiante|expediente|"
            r"seguimiento|referencia|poliza|tarjeta|serie|seguridad social|afiliacion|dni|"
            r"pasaporte|matricula|factura|cliente|paciente)\b[ \t]*(?:es|:|#|=)?[ \t]*"
            r"(?:el[ \t]+)?\d[\d \t.-]*\d",
            # ordinals: 1st, 2nd, 3rd, 21st, 1o, 2a, 3er
            r"(?<![\d.,])\d+(?:st|nd|rd|th|er|o|a|ro|do|to|vo|no)\b",
        ]
    )
)
_SEPARATOR = r"(?:[ \t]{0,2}[.\-/()]{1,2}[ \t]{0,2}|[ \t]{1,2})"
_PHONE_CANDIDATE = re.compile(
    r"(?<![\w@/=#&%$€£+*])(?<!\d[.,-])(?P<plus>\(?(?:\+|\b00)[ \t]?)?"
    rf"\(?\d+(?:{_SEPARATOR}\d+)*\)?(?![\w@])"
)
# 1.234.567, 12 345 678: a count grouped in thousands (a phone number's first group is longer).
_THOUSANDS = re.compile(r"[1-9]\d?([. ])\d{3}(?:\1\d{3})+")
_DECIMAL = re.compile(r"\d{1,3}[.,]\d{5,}")
# Numbers spelled out, as people say a phone number: digit by digit ("six one two"), in pairs
# ("seiscientos doce, treinta y cuatro"), with "double"/"triple" ("double oh seven").
_UNIT_WORDS = {
    "zero": 0, "oh": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
    "seven": 7, "eight": 8, "nine": 9, "cero": 0, "uno": 1, "una": 1, "dos": 2, "tres": 3,
    "cuatro": 4, "cinco": 5, "seis": 6, "siete": 7, "ocho": 8, "nueve": 9,
}  # fmt: skip
_TEEN_WORDS = {
    "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15,
    "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19, "diez": 10, "once": 11,
    "doce": 12, "trece": 13, "catorce": 14, "quince": 15, "dieciseis": 16, "diecisiete": 17,
    "dieciocho": 18, "diecinueve": 19, "veintiuno": 21, "veintiuna": 21, "veintidos": 22,
    "veintitres": 23, "veinticuatro": 24, "veinticinco": 25, "veintiseis": 26,
    "veintisiete": 27, "veintiocho": 28, "veintinueve": 29,
}  # fmt: skip
_TENS_WORDS = {
    "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70,
    "eighty": 80, "ninety": 90, "veinte": 20, "treinta": 30, "cuarenta": 40, "cincuenta": 50,
    "sesenta": 60, "setenta": 70, "ochenta": 80, "noventa": 90,
}  # fmt: skip
_HUNDRED_WORDS = {
    "cien": 100, "ciento": 100, "doscientos": 200, "trescientos": 300, "cuatrocientos": 400,
    "quinientos": 500, "seiscientos": 600, "setecientos": 700, "ochocientos": 800,
    "novecientos": 900,
}  # fmt: skip
_REPEAT_WORDS = {"double": 2, "triple": 3, "doble": 2}
_JOIN_WORDS = frozenset({"y", "and", "hundred"})
_NUMBER_WORDS = frozenset(
    [*_UNIT_WORDS, *_TEEN_WORDS, *_TENS_WORDS, *_HUNDRED_WORDS, *_REPEAT_WORDS, *_JOIN_WORDS]
)
_SPELLED_WORDS = _NUMBER_WORDS - _JOIN_WORDS
_NUMBER_TOKEN = re.compile(r"[a-z]+|\d+")
_RUN_GAP = re.compile(r"[ \t,.-]{1,3}")


def _spelled_runs(plain: str) -> Iterator[list[str]]:
    """The runs of numbers in `plain` that spell at least one out: their words and digits."""
    run: list[str] = []
    last_end = -1
    for match in _NUMBER_TOKEN.finditer(plain):
        token = match.group(0)
        joined = last_end >= 0 and _RUN_GAP.fullmatch(plain[last_end : match.start()])
        if token.isdigit() or token in _NUMBER_WORDS:
            if not joined and run:
                yield run
                run = []
            run.append(token)
            last_end = match.end()
        else:
            if run:
                yield run
            run, last_end = [], -1
    if run:
        yield run


def _two_digits(words: list[str], i: int) -> tuple[int | None, int]:
    """The number below 100 that starts at `words[i]`, and where the next one starts."""
    word = words[i] if i < len(words) else ""
    if word in _TENS_WORDS:
        j = i + 1 + (i + 1 < len(words) and words[i + 1] in ("y", "and"))
        if j < len(words) and _UNIT_WORDS.get(words[j], 0) > 0:
            return _TENS_WORDS[word] + _UNIT_WORDS[words[j]], j + 1
        return _TENS_WORDS[word], i + 1
    if word in _TEEN_WORDS:
        return _TEEN_WORDS[word], i + 1
    if word in _UNIT_WORDS:
        return _UNIT_WORDS[word], i + 1
    return None, i


def _spelled_groups(words: list[str]) -> list[str]:
    """The digits a run of spelled numbers says, group by group ("seiscientos doce" -> "612")."""
    groups: list[str] = []
    i = 0
    while i < len(words):
        word = words[i]
        if word.isdigit():
            groups.append(word)
            i += 1
        elif word in _REPEAT_WORDS and i + 1 < len(words) and words[i + 1] in _UNIT_WORDS:
            groups.append(str(_UNIT_WORDS[words[i + 1]]) * _REPEAT_WORDS[word])
            i += 2
        elif word in _HUNDRED_WORDS or (
            word in _UNIT_WORDS and i + 1 < len(words) and words[i + 1] == "hundred"
        ):
            hundreds = _HUNDRED_WORDS.get(word) or _UNIT_WORDS[word] * 100
            i += 1 if word in _HUNDRED_WORDS else 2
            i += i < len(words) and words[i] in ("y", "and")
            rest, i = _two_digits(words, i)
            groups.append(str(hundreds + (rest or 0)))
        else:
            value, after = _two_digits(words, i)
            if value is not None:
                groups.append(str(value))
            i = max(after, i + 1)
    return groups


@cache
def _service_numbers() -> frozenset[str]:
    """The digits of the crisis lines and referral services in Kindred's own directories (7
    digits or more)."""
    # Read once, when a long number is first seen.
    from kindred.referrals import directory as referral_directory
    from kindred.safety import crisis_directory

    entries: list[Any] = [line for lines in crisis_directory().values() for line in lines]
    entries += [item.model_dump() for item in referral_directory()]
    numbers: set[str] = set()
    for entry in entries:
        for key in ("phone", "sms"):
            digits = re.sub(r"\D", "", str(entry.get(key) or ""))
            if len(digits) >= 7:
                numbers.add(digits.lstrip("0"))
    return frozenset(numbers)


# Freephone and shared-cost prefixes (0800, 0808, 1800, 1-800, 888 ..., 900 in Spain, 0120 in
# Japan): an organisation's line, never a person's.
_FREEPHONE = re.compile(
    r"(?:0800|0808|0500|084[345]|087[01]|0?90[0-2]|0120|0570|1?800)\d{3,}|8(?:88|77|66|55|44|33)\d{7}"
)


def _is_service_number(digits: str) -> bool:
    """A crisis line's number, with or without its country code, or a freephone number."""
    bare = digits.lstrip("0")
    if _FREEPHONE.fullmatch(digits):
        return True
    return any(
        bare == number or (bare.endswith(number) and len(bare) - len(number) <= 3)
        for number in _service_numbers()
    )


def _counting(groups: Sequence[str]) -> bool:
    """Counting up or down, digit by digit or number by number ("1234567", "1 2 3 ... 9 10")."""
    digits = "".join(groups)
    by_digit = {int(b) - int(a) for a, b in itertools.pairwise(digits)}
    by_number = {int(b) - int(a) for a, b in itertools.pairwise(groups)}
    return by_digit in ({1}, {-1}) or (len(groups) > 2 and by_number in ({1}, {-1}))


def _a_phone_number(candidate: str) -> bool:
    plus = candidate.lstrip("( \t").startswith(("+", "00"))
    groups = re.findall(r"\d+", candidate)
    digits = "".join(groups)
    if not (8 if plus else 7) <= len(digits) <= 15:
        return False
    if len(groups) == 2 and _DECIMAL.fullmatch(candidate.strip()):
        return False
    if not plus and _THOUSANDS.fullmatch(candidate.strip()):
        return False
    if not plus and (digits.endswith("000") or _counting(groups)):
        return False
    return not _is_service_number(digits)


def _phones(plain: str) -> bool:
    digits = sum(map(str.isdigit, plain))
    spelled = sum(word in _SPELLED_WORDS for word in _LETTERS.findall(plain))
    for words in _spelled_runs(plain) if spelled and digits + 3 * spelled >= 7 else ():
        if any(word.isalpha() and word not in _JOIN_WORDS for word in words):
            groups = _spelled_groups(words)
            if 7 <= len("".join(groups)) <= 15 and not _counting(groups):
                return True
    if digits < 7:
        return False
    numbers = _blank(plain, _NOT_PHONES, "|")
    return any(_a_phone_number(m.group(0)) for m in _PHONE_CANDIDATE.finditer(numbers))


# ---- the whole ---------------------------------------------------------------------------

_URL = re.compile(r"\b(?:https?://|www\.)\S+")


def contact_details_in(text: str) -> list[str]:
    """The kinds of contact details in `text`, each once, in the order phone, email, handle;
    [] when there are none."""
    plain = _plain(text)
    found: set[str] = set()
    emails = _emails(plain)
    if emails:
        found.add("email")
        for start, end in emails:
            plain = plain[:start] + "|" * (end - start) + plain[end:]
    if _handles(plain):
        found.add("handle")
    if _phones(_blank(plain, _URL, "|")):
        found.add("phone")
    return [kind for kind in KINDS if kind in found]
