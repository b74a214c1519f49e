"""``/feeds/{token}.ics``: a subscriber's calendar, with ETag and Last-Modified for cheap revalidation.

An unknown, malformed or revoked token gets the same plain 404 (nothing tells which tokens
exist). ``If-None-Match`` wins over ``If-Modified-Since`` (RFC 9110 §13.2.2); both give 304.
"""

from __future__ import annotations

from datetime import datetime
from email.utils import format_datetime, parsedate_to_datetime

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse, Response

from engine.calendars.build import FeedDocument, FeedOptions
from engine.calendars.feeds import FeedService, feed_for_token

router = APIRouter()
MEDIA_TYPE = "text/calendar; charset=utf-8"


@router.api_route("/feeds/{token}.ics", methods=["GET", "HEAD"], include_in_schema=False)
def feed(token: str, request: Request) -> Response:
    """Serve the feed the token opens: 200 with the calendar, 304 when the subscriber's copy is current."""
    service: FeedService = request.app.state.feeds
    with service.engine.connect() as conn:
        found = feed_for_token(conn, token)
    if found is None:
        return PlainTextResponse("Not Found", status_code=404)
    doc = service.document(found, FeedOptions.from_query(request.query_params))
    headers = _validators(doc)
    if not_modified(request.headers.get("if-none-match"), request.headers.get("if-modified-since"), doc):
        return Response(status_code=304, headers=headers)
    if request.method == "HEAD":
        return Response(b"", media_type=MEDIA_TYPE, headers={**headers, "Content-Length": str(len(doc.body))})
    return Response(doc.body, media_type=MEDIA_TYPE, headers=headers)


def _validators(doc: FeedDocument) -> dict[str, str]:
    return {
        "ETag": doc.etag,
        "Last-Modified": format_datetime(doc.last_modified.replace(microsecond=0), usegmt=True),
        "Cache-Control": "private, no-cache",
        "Referrer-Policy": "no-referrer",
        "X-Robots-Tag": "noindex",
    }


def not_modified(if_none_match: str | None, if_modified_since: str | None, doc: FeedDocument) -> bool:
    """Return True when the client's copy is the current one (weak ETag comparison, dates to the second)."""
    if if_none_match is not None:
        tags = {t.strip().removeprefix("W/") for t in if_none_match.split(",")}
        return "*" in tags or doc.etag in tags
    if if_modified_since is None:
        return False
    try:
        since: datetime = parsedate_to_datetime(if_modified_since)
    except (TypeError, ValueError):
        return False
    if since.tzinfo is None:
        return False
    return doc.last_modified.replace(microsecond=0) <= since
