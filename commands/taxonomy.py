"""What an incident is, in words the region's CSIRTs and intelligence units share (shared by
the incidents family, the digest and the reports, as `commands.reference` is).

`type=`: the Reference Security Incident Taxonomy (RSIT), with the values of MISP's `rsit`
taxonomy (version 2), so an export tags it `rsit:<category>="<type>"` as MISP does.
`crime=`: the link to other crime the Action Plan names (section 2: fraud, money laundering,
child exploitation, crime funded through crypto-currencies, terrorism) and section 4 asks the
RCC to report on. Labels are translated; the values are what is stored and exported.
"""

from __future__ import annotations

from commands.framework import ArgumentError, Labelled, ParseEnv
from commands.i18n import N_, _
from commands.types import plain

# category -> its label, then each type of it -> its label (MISP rsit, version 2).
RSIT: dict[str, tuple[str, dict[str, str]]] = {
    "abusive-content": (N_("Abusive content"), {
        "spam": N_("Spam"),
        "harmful-speech": N_("Harmful speech"),
        "violence": N_("Child sexual abuse, sexual or violent content"),
    }),
    "malicious-code": (N_("Malicious code"), {
        "infected-system": N_("Infected system"),
        "c2-server": N_("Command-and-control server"),
        "malware-distribution": N_("Malware distribution"),
        "malware-configuration": N_("Malware configuration"),
    }),
    "information-gathering": (N_("Information gathering"), {
        "scanner": N_("Scanning"),
        "sniffing": N_("Sniffing"),
        "social-engineering": N_("Social engineering"),
    }),
    "intrusion-attempts": (N_("Intrusion attempts"), {
        "ids-alert": N_("Exploitation of a known vulnerability"),
        "brute-force": N_("Login attempts"),
        "exploit": N_("New attack signature"),
    }),
    "intrusions": (N_("Intrusions"), {
        "privileged-account-compromise": N_("Privileged account compromise"),
        "unprivileged-account-compromise": N_("Unprivileged account compromise"),
        "application-compromise": N_("Application compromise"),
        "burglary": N_("Burglary"),
    }),
    "availability": (N_("Availability"), {
        "dos": N_("Denial of service"),
        "ddos": N_("Distributed denial of service"),
        "misconfiguration": N_("Misconfiguration"),
        "sabotage": N_("Sabotage"),
        "outage": N_("Outage"),
    }),
    "information-content-security": (N_("Information content security"), {
        "unauthorised-information-access": N_("Unauthorised access to information"),
        "unauthorised-information-modification": N_("Unauthorised modification of information"),
        "data-loss": N_("Data loss"),
    }),
    "fraud": (N_("Fraud"), {
        "unauthorized-use-of-resources": N_("Unauthorised use of resources"),
        "copyright": N_("Copyright"),
        "masquerade": N_("Masquerade"),
        "phishing": N_("Phishing"),
    }),
    "vulnerable": (N_("Vulnerable"), {
        "weak-crypto": N_("Weak cryptography"),
        "ddos-amplifier": N_("DDoS amplifier"),
        "potentially-unwanted-accessible": N_("Potentially unwanted accessible service"),
        "information-disclosure": N_("Information disclosure"),
        "vulnerable-system": N_("Vulnerable system"),
    }),
    "other": (N_("Other"), {"other": N_("Other")}),
    "test": (N_("Test"), {"test": N_("Test")}),
}  # fmt: skip

# Every type by its own name and as `category:type`; a type's name alone is enough, as
# none is in two categories.
TYPES = {f"{c}:{t}": (c, t) for c, (_label, types) in RSIT.items() for t in types}
BY_NAME = {t: key for key, (_c, t) in TYPES.items()}

CRIMES: dict[str, str] = {
    "fraud": N_("fraud"),
    "money-laundering": N_("money laundering"),
    "child-exploitation": N_("child sexual exploitation"),
    "terrorist-financing": N_("terrorist financing"),
    "drug-trafficking": N_("drug trafficking"),
    "other": N_("other crime"),
}
CHILD_EXPLOITATION = "child-exploitation"


def incident_type(text: str, _env: ParseEnv) -> str:
    """`phishing`, `fraud:phishing` or MISP's `rsit:fraud="phishing"`: stored as
    `fraud:phishing`."""
    key = plain(text).strip().casefold().removeprefix("rsit:").replace("=", ":").replace('"', "")
    found = key if key in TYPES else BY_NAME.get(key)
    if found is None:
        starting = sorted(k for k in TYPES if k.split(":")[1].startswith(key) and key)
        found = starting[0] if len(starting) == 1 else None
    if found is None:
        raise ArgumentError(
            _("{text!r} is not an incident type; the types are: {types}").format(
                text=text, types=", ".join(BY_NAME)
            )
        )
    return found


INCIDENT_TYPE = Labelled(incident_type, "<type>")


def type_label(key: str | None) -> str:
    """`Phishing (fraud:phishing)` in the reader's language; empty when none is set."""
    if not key or key not in TYPES:
        return key or ""
    category, name = TYPES[key]
    return f"{_(RSIT[category][1][name])} ({key})"


def crime_label(key: str | None) -> str:
    return _(CRIMES[key]) if key in CRIMES else (key or "")


def type_name(key: str) -> str:
    """A type's English name (translated where it is shown), or the key itself."""
    if key not in TYPES:
        return key
    category, name = TYPES[key]
    return RSIT[category][1][name]
