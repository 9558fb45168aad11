"""What counts as an acknowledgement of a broadcast, in the region's four languages.

A reply counts only when its whole text — trimmed, with case, accents and punctuation
ignored, and a `BC-n` it names left out — is one of the acknowledgement words below, or ack
emoji (with an acknowledgement word or alone). Anything else — a negation ("niet
ontvangen"), a question ("who hasn't acked yet?"), a sentence ("received, will check") —
never counts: it gets a hint, and the country stays dark and escalated. The wrong answer
here stops an escalation chain, so the list is short and exact on purpose.
"""

from __future__ import annotations

import re
import unicodedata

# After normalising (see `_normal`). Each language's plain words for "received".
WORDS = frozenset(
    {
        # English
        "ack",
        "acked",
        "acknowledge",
        "acknowledged",
        "received",
        "roger",
        # French
        "recu",
        "bien recu",
        "accuse de reception",
        "accuse reception",
        # Dutch
        "ontvangen",
        "goed ontvangen",
        "bevestigd",
        # Spanish
        "recibido",
        "bien recibido",
        "acuse de recibo",
        "confirmado",
    }
)
EMOJI = ("✅", "👍", "✔", "☑")
MODIFIERS = re.compile("[\ufe0f\ufe0e\U0001f3fb-\U0001f3ff]")  # variation selectors, skin tones
MENTIONED = re.compile(r"\bbc-?\d{1,9}\b")
QUESTION = ("?", "¿")
LONGEST = 60  # characters: nothing longer is a bare acknowledgement


def is_ack_reaction(key: str) -> bool:
    """✅ and 👍, with any skin tone or variation selector."""
    return key.strip()[:1] in EMOJI


def is_ack_text(text: str) -> bool:
    """Whether a reply's whole text is an acknowledgement (see the module's docstring)."""
    text = text.strip()
    if not text or len(text) > LONGEST or any(q in text for q in QUESTION):
        return False
    bare = MODIFIERS.sub("", text)
    emoji = any(e in bare for e in EMOJI)
    for e in EMOJI:
        bare = bare.replace(e, " ")
    words = MENTIONED.sub(" ", _normal(bare)).split()
    phrase = " ".join(words)
    return phrase in WORDS or (emoji and not phrase)


def _normal(text: str) -> str:
    """Lower case, accents dropped, punctuation as spaces."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    kept = []
    for ch in decomposed:
        if unicodedata.combining(ch):
            continue
        kept.append(ch if ch.isalnum() or ch == "-" else " ")
    return "".join(kept)
