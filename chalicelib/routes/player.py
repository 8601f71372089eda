"""The player a frontend drops in: ``/api/sdk/tracker.js`` and ``.mjs`` (the tracking SDK),
``/api/embed/{video_id}`` (a video's player page, for an ``<iframe>``) and ``/api/oembed``
(that ``<iframe>`` from a link, for CMSs)."""

from __future__ import annotations

from chalice import Blueprint

from chalicelib.presenters import player as player_presenter
from chalicelib.schemas.player import EmbedQuery, OEmbedQuery, OEmbedVideo
from chalicelib.services import player as player_service
from chalicelib.web import static
from chalicelib.web.request import RequestContext
from chalicelib.web.responses import JSON, Reply
from chalicelib.web.routing import api_route
from chalicelib.web.static import HTML, SdkRequest

bp = Blueprint(__name__)

JAVASCRIPT = static.CONTENT_TYPES[".js"]
XML = "text/xml; charset=utf-8"
# A versioned name never changes content; the plain name follows new builds within minutes.
IMMUTABLE = "public, max-age=31536000, immutable"
SHORT_LIVED = "public, max-age=300"


@api_route(
    bp,
    "/sdk/{sdk_file}",
    summary="The tracking SDK: tracker.js (a classic script) or tracker.mjs (an ES module)",
    produces=(JAVASCRIPT,),
    other_success=(302,),
    extra_statuses=(404,),
)
def tracking_sdk(ctx: RequestContext, sdk_file: SdkRequest) -> Reply:
    """``tracker.<version>.js`` may be cached for good; another build's version is redirected to the
    current one; the plain name is cached for 5 minutes. Any origin may load it (as a module too)."""
    current = static.sdk_name(sdk_file.file)
    if sdk_file.version not in (None, static.sdk_version(sdk_file.file)):
        return Reply(status=302, headers={"Location": current, "Cache-Control": "no-cache"}, content_type=JAVASCRIPT)
    headers = {
        "Cache-Control": SHORT_LIVED if sdk_file.version is None else IMMUTABLE,
        "Access-Control-Allow-Origin": "*",
        "Cross-Origin-Resource-Policy": "cross-origin",
        "X-Content-Type-Options": "nosniff",
    }
    return Reply(static.sdk_script(sdk_file.file).text, headers=headers, content_type=JAVASCRIPT)


@api_route(
    bp,
    "/embed/{video_id}",
    summary="A video's player page, for an <iframe>",
    query=EmbedQuery,
    produces=(HTML,),
    extra_statuses=(404, 410),
)
def embed_page(ctx: RequestContext, video_id: int) -> Reply:
    """Published videos for anyone; an unpublished one with ``?preview=<preview token>``. The poster,
    the video (HLS where it is ready), tracking by the SDK, and the oEmbed discovery link."""
    params: EmbedQuery = ctx.params
    video = player_service.embeddable_video(video_id, params.preview)
    page = player_presenter.embed_page(video, preview=params.preview is not None)
    return Reply(page.html, headers=page.headers, content_type=HTML)


@api_route(
    bp,
    "/oembed",
    summary="An embed page as oEmbed (type video)",
    query=OEmbedQuery,
    response=OEmbedVideo,
    produces=(JSON, XML),
    extra_statuses=(404,),
)
def oembed(ctx: RequestContext) -> Reply:
    """``url`` is a published video's embed page; ``html`` is its ``<iframe>``, at most 640 px wide and
    within ``maxwidth``/``maxheight``, with the video's aspect. JSON, or oEmbed's XML with ``format=xml``."""
    params: OEmbedQuery = ctx.params
    video = player_service.oembed_video(params.url)
    answer = player_presenter.oembed_answer(video, params.maxwidth, params.maxheight)
    headers = {"Cache-Control": f"public, max-age={answer.cache_age}"}
    if params.format == "xml":
        return Reply(player_presenter.oembed_xml(answer), headers=headers, content_type=XML)
    return Reply(answer, headers=headers)
