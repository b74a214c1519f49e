"""Signed, expiring action links: an owner's (mark done or report implemented, report progress, ask for an
extension, not mine, say why it is late), a supervisor's (acknowledge, grant or refuse a pending extension,
reassign), a verifier's (confirm or return a report of implementation), opening the action (every role), and
the recipient's notification preferences (the List-Unsubscribe target).

An action link is ``{base_url}/a/{token}/{verb}`` with ``verb`` one of ``ACTIONS``; the
preferences link is ``{base_url}/preferences/{token}``. A token is an itsdangerous
``URLSafeSerializer`` signature over a small JSON object::

    {"do": "act", "preferences" or "updates", "p": plan id, "r": action ref (updates: the campaign's id),
     "u": recipient id or address, "o": role the link was sent in ("owner", "supervisor", "verifier" or "viewer"),
     "x": expiry}

One token serves the verbs of a message: it proves "this recipient, in this role, may act on this
action until ``x``", and each verb is something that recipient may do anyway in that role. An owner
(or their delegate or deputy) gets ``OWNER_VERBS``; a supervisor ``SUPERVISOR_VERBS`` (never "not
mine": handing an action back is its owner's); the verifier the rules name for a report of implementation
``VERIFIER_VERBS`` (confirm or return it: ``verify``); any other recipient (a plain address) is a
``VIEWER`` and gets only ``view``, which opens the action's page after signing in and acts on
nothing. An owner's token carries no ``"o"``
(as every token did before roles were carried): the web treats such a token as the owner's only
when its recipient is the action's owner, delegate or deputy today. ``x`` is the expiry in
whole seconds since the Unix epoch (UTC), derived from the message's own time, never the wall
clock, so a message renders byte for byte the same every time; ``read_link`` checks it against
the ``now`` it is given. The web app serves the links: ``read_link(secret, token, now, kind)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

from itsdangerous import BadSignature, URLSafeSerializer
from itsdangerous.encoding import base64_encode
from itsdangerous.url_safe import URLSafeSerializerMixin

from engine.errors import InputError

VIEW = "view"
OWNER_VERBS = ("done", "progress", "extension", "not_mine", "delay", VIEW)
SUPERVISOR_VERBS = ("acknowledge", "grant", "refuse", "reassign", VIEW)
VERIFIER_VERBS = ("verify", VIEW)
VIEWER_VERBS = (VIEW,)
ACTIONS = tuple(dict.fromkeys(OWNER_VERBS + SUPERVISOR_VERBS + VERIFIER_VERBS))
OWNER, SUPERVISOR, VERIFIER, VIEWER = "owner", "supervisor", "verifier", "viewer"
VERBS = {OWNER: OWNER_VERBS, SUPERVISOR: SUPERVISOR_VERBS, VERIFIER: VERIFIER_VERBS, VIEWER: VIEWER_VERBS}
ACT, PREFERENCES, UPDATES = "act", "preferences", "updates"
SALT = "planwatch-link-v1"
DEV_SECRET = "planwatch-development-key-not-secret"
LINK_LIFETIME = timedelta(days=60)
PREFERENCES_LIFETIME = timedelta(days=400)


class LinkError(InputError):
    """A link that is forged, damaged, expired, or of the wrong kind."""


@dataclass(frozen=True, slots=True)
class SignedLink:
    """What a verified token allows; ``expires`` is aware UTC; ``plan_id``/``ref`` are empty for preferences."""

    kind: str
    plan_id: str
    ref: str
    recipient: str
    expires: datetime
    role: str = ""


class _Serializer(URLSafeSerializer):
    """URL-safe tokens without the zlib attempt: payloads this small never shrink, and it is the costly part."""

    def dump_payload(self, obj: Any) -> bytes:
        """Return the JSON of ``obj``, base64-encoded (never compressed)."""
        return base64_encode(super(URLSafeSerializerMixin, self).dump_payload(obj))


@lru_cache(maxsize=8)
def _serializer(secret: str) -> URLSafeSerializer:
    return _Serializer(secret or DEV_SECRET, salt=SALT)


@lru_cache(maxsize=4096)
def sign_link(secret: str, kind: str, plan_id: str, ref: str, recipient: str, expires: datetime, role: str = "") -> str:
    """Return the token of one link of ``kind`` ("act", "preferences" or "updates") for ``role``; ``expires``
    is aware."""
    if kind not in (ACT, PREFERENCES, UPDATES):
        raise ValueError(f"unknown link kind {kind!r}; expected {ACT!r}, {PREFERENCES!r} or {UPDATES!r}")
    if role and role not in VERBS:
        raise ValueError(f"unknown link role {role!r}; expected one of {sorted(VERBS)}")
    payload: dict[str, Any] = {"do": kind, "p": plan_id, "r": ref, "u": recipient, "x": int(expires.timestamp())}
    if role and role != OWNER:  # an owner's token reads the same without it: old links stay byte for byte
        payload["o"] = role
    return str(_serializer(secret).dumps(payload))


def read_link(secret: str, token: str, now: datetime, kind: str = ACT) -> SignedLink:
    """Return what ``token`` allows, or raise ``LinkError`` if it is forged, of another kind, or expired at
    ``now`` (aware)."""
    try:
        data = _serializer(secret).loads(token)
    except BadSignature:
        raise LinkError(
            "this link was made by another planwatch installation (or with a key this one no longer uses), or it "
            "was cut short when it was copied, so it cannot be checked here; open the action from the newest "
            "message about it, or sign in to planwatch"
        ) from None
    if not isinstance(data, dict) or data.get("do") != kind:
        raise LinkError(f"this is not a planwatch {kind} link")
    expires = datetime.fromtimestamp(int(data["x"]), UTC)
    if now >= expires:
        raise LinkError(f"this link expired on {expires:%Y-%m-%d %H:%M} UTC; use the newest message about it")
    role = str(data.get("o") or "")
    if role and role not in VERBS:
        raise LinkError("this link names a role planwatch does not know")
    return SignedLink(kind, str(data["p"]), str(data["r"]), str(data["u"]), expires, role)


def action_links(
    base_url: str, secret: str, plan_id: str, ref: str, recipient: str, sent: datetime, role: str = OWNER
) -> dict[str, str]:
    """Return the URL of each verb ``role`` may use for one message sent at ``sent`` (aware), valid for
    ``LINK_LIFETIME``; a plain address (``VIEWER``) gets only ``view``; an unknown role (``""``) nothing."""
    if role not in VERBS:
        return {}
    token = sign_link(secret, ACT, plan_id, ref, recipient, sent + LINK_LIFETIME, role)
    base = base_url.rstrip("/")
    return {verb: f"{base}/a/{token}/{verb}" for verb in VERBS[role]}


def preferences_url(base_url: str, secret: str, recipient: str, sent: datetime) -> str:
    """Return the URL of the recipient's notification preferences (also the one-click unsubscribe target)."""
    token = sign_link(secret, PREFERENCES, "", "", recipient, sent + PREFERENCES_LIFETIME)
    return f"{base_url.rstrip('/')}/preferences/{token}"


def updates_url(base_url: str, secret: str, plan_id: str, campaign_id: int, recipient: str, sent: datetime) -> str:
    """Return the URL of the owner's page for updating all their open actions at once, from an update campaign's
    message sent at ``sent`` (aware); valid for ``LINK_LIFETIME``. Its token (``"r"``: the campaign's id) opens
    that page only, as ``recipient``."""
    token = sign_link(secret, UPDATES, plan_id, str(campaign_id), recipient, sent + LINK_LIFETIME)
    return f"{base_url.rstrip('/')}/updates/{token}"
