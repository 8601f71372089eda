"""Signed HLS playback: the master playlist a video's ``playbackUrl`` names, and each rung's.

Public: the URL's signature is the credential (the API hands it only to callers allowed to
see the video). Answers are the same for every caller holding the URL until it expires.
"""

from __future__ import annotations

from chalice import Blueprint

from chalicelib.schemas.playback import PlaylistQuery
from chalicelib.services import playback
from chalicelib.web.request import RequestContext
from chalicelib.web.responses import Reply
from chalicelib.web.routing import api_route

bp = Blueprint(__name__)
# A playlist answer is fixed for its URL: browsers and caches may keep it a few minutes.
CACHE_SECONDS = 300


@api_route(
    bp,
    "/playback/{video_id}/{playlist}",
    summary="An HLS playlist of a video (signed URL)",
    query=PlaylistQuery,
    produces=(playback.PLAYLIST_CONTENT_TYPE,),
    extra_statuses=(403,),
)
def playlist(ctx: RequestContext, video_id: int, playlist: str) -> Reply:
    """The master playlist (``master.m3u8``: every rung with BANDWIDTH, RESOLUTION, CODECS) or one rung's
    (``720p.m3u8``: its segments as signed URLs answering Range requests). 403 for a wrong or expired
    signature, 404 when the video is gone or not ready."""
    query = ctx.params
    if playlist == playback.MASTER:
        text = playback.master_playlist(video_id, query.expires, query.signature)
    else:
        text = playback.media_playlist(video_id, playlist, query.expires, query.signature)
    headers = {"Cache-Control": f"private, max-age={CACHE_SECONDS}", "X-Content-Type-Options": "nosniff"}
    return Reply(text, headers=headers, content_type=playback.PLAYLIST_CONTENT_TYPE)
