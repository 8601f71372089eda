"""The player routes in process: the SDK files and their caching, the embed page (who may open it,
what it carries, its policy) and oEmbed (sizes, formats, whose URLs)."""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import quote

import pytest

from chalicelib.web import static

EMBED = "http://media.test/api/embed/"


def _config(html: str) -> dict[str, Any]:
    match = re.search(r'<script type="application/json" id="embed-config">(.*?)</script>', html, re.S)
    assert match, html
    return dict(json.loads(match.group(1)))


# --- the SDK ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "defines"), [("tracker.js", "var MediaTracker="), ("tracker.mjs", "export{")])
def test_the_sdk_is_served_as_a_classic_script_and_as_a_module(client: Any, name: str, defines: str) -> None:
    plain = client.http.get(f"/api/sdk/{name}")
    assert plain.status_code == 200
    assert plain.headers["Content-Type"].startswith("text/javascript")
    assert defines in plain.body.decode()
    assert plain.headers["Cache-Control"] == "public, max-age=300"
    assert plain.headers["Access-Control-Allow-Origin"] == "*"  # a module imported from any page

    versioned = static.sdk_name(name)
    assert re.fullmatch(r"tracker\.[0-9a-f]{12}\.m?js", versioned)
    pinned = client.http.get(f"/api/sdk/{versioned}")
    assert pinned.status_code == 200 and pinned.body == plain.body
    assert pinned.headers["Cache-Control"] == "public, max-age=31536000, immutable"

    stale = client.http.get(f"/api/sdk/{versioned.replace(static.sdk_version(name), '0' * 12)}")
    assert stale.status_code == 302 and stale.headers["Location"] == versioned


def test_the_sdk_is_small_and_both_files_come_from_one_source(client: Any) -> None:
    import gzip

    classic = client.http.get("/api/sdk/tracker.js").body
    module = client.http.get("/api/sdk/tracker.mjs").body
    assert len(gzip.compress(classic, 9)) <= 5 * 1024 and len(gzip.compress(module, 9)) <= 5 * 1024
    for text in (classic.decode(), module.decode()):  # the same contract in both
        for word in ("/api/track/", "sendBeacon", "Retry-After", "hlsError", "rebufferMs", "MEDIA_ERR_DECODE"):
            assert word in text, word


@pytest.mark.parametrize("name", ["tracker.css", "tracker.js.map", "../manifest.json", "tracker.abc.js", "x.js"])
def test_other_sdk_names_are_404(client: Any, name: str) -> None:
    response = client.http.get(f"/api/sdk/{quote(name, safe='')}")
    assert response.status_code == 404
    assert response.json_body["error"] == "NotFound"


# --- the embed page --------------------------------------------------------------------------


def test_a_published_video_has_an_embed_page_with_its_player_and_policy(client: Any, create_video: Any) -> None:
    video = create_video(published=True, title="Harbour <at> dawn", thumbnailUrl="https://img.example.test/p.jpg")
    response = client.http.get(f"/api/embed/{video['id']}")
    assert response.status_code == 200
    html = response.body.decode()
    assert response.headers["Content-Type"].startswith("text/html")
    assert "<title>Harbour &lt;at&gt; dawn</title>" in html
    assert 'poster="https://img.example.test/p.jpg"' in html
    oembed = f"http://media.test/api/oembed?url={EMBED}{video['id']}&amp;format=json"
    assert f'<link rel="alternate" type="application/json+oembed" href="{oembed}"' in html
    assert f'src="../sdk/{static.sdk_name("tracker.js")}"' in html
    assert re.search(r'src="\.\./assets/embed\.js\?v=[0-9a-f]{12}"', html)
    config = _config(html)
    assert config["videoId"] == video["id"]
    assert config["title"] == "Harbour <at> dawn"
    assert config["streamUrl"].startswith("https://") or config["streamUrl"].startswith("http://")
    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self';" in policy and "frame-ancestors" not in policy  # runs only our code, embeds anywhere
    assert "img-src 'self' data: https://img.example.test;" in policy
    media = re.search(r"media-src ([^;]+) blob:", policy)
    assert media and config["streamUrl"].startswith(media.group(1))
    assert "X-Frame-Options" not in response.headers
    assert response.headers["Cache-Control"] == "public, max-age=60"


def test_a_title_cannot_end_the_config_script(client: Any, create_video: Any) -> None:
    video = create_video(published=True, title="</script><script>alert(1)</script>")
    html = client.http.get(f"/api/embed/{video['id']}").body.decode()
    assert "<script>alert(1)" not in html
    assert _config(html)["title"] == "</script><script>alert(1)</script>"


def test_an_unpublished_video_embeds_only_with_its_preview_token(
    client: Any, create_video: Any, admin_headers: dict[str, str]
) -> None:
    hidden = create_video(published=False)
    other = create_video(published=False)
    assert client.http.get(f"/api/embed/{hidden['id']}").status_code == 404
    link = client.http.get(f"/api/videos/{hidden['id']}/preview-link", headers=admin_headers).json_body
    token = link["previewUrl"].rsplit("/", 1)[1]
    shown = client.http.get(f"/api/embed/{hidden['id']}?preview={token}")
    assert shown.status_code == 200
    assert shown.headers["Cache-Control"] == "private, no-store"
    assert _config(shown.body.decode())["videoId"] == hidden["id"]
    assert client.http.get(f"/api/embed/{other['id']}?preview={token}").status_code == 404  # another video's token
    assert client.http.get(f"/api/embed/{hidden['id']}?preview=not-a-token").status_code == 404


def test_an_expired_preview_token_is_410(client: Any, create_video: Any) -> None:
    from chalicelib.services.preview import issue_preview_link

    hidden = create_video(published=False)
    token = issue_preview_link(hidden["id"], now=1_000_000).token
    response = client.http.get(f"/api/embed/{hidden['id']}?preview={token}")
    assert response.status_code == 410


@pytest.mark.parametrize(("path", "status"), [("/api/embed/0", 400), ("/api/embed/abc", 400), ("/api/embed/99", 404)])
def test_unknown_embed_pages(client: Any, path: str, status: int) -> None:
    response = client.http.get(path)
    assert response.status_code == status
    assert response.json_body["error"] in ("BadRequest", "NotFound")


# --- oEmbed ----------------------------------------------------------------------------------


def _oembed(client: Any, url: str, extra: str = "") -> Any:
    return client.http.get(f"/api/oembed?url={quote(url, safe='')}{extra}")


def test_oembed_answers_a_video_iframe_sized_by_the_aspect(client: Any, create_video: Any) -> None:
    video = create_video(published=True, title='Say "hi"', width=1920, height=1080, thumbnailUrl=None)
    response = _oembed(client, f"{EMBED}{video['id']}")
    assert response.status_code == 200, response.body
    answer = response.json_body
    assert (answer["version"], answer["type"], answer["title"]) == ("1.0", "video", 'Say "hi"')
    assert (answer["width"], answer["height"]) == (640, 360)
    assert answer["provider_url"] == "http://media.test"
    assert answer["html"] == (
        f'<iframe src="{EMBED}{video["id"]}" width="640" height="360" title="Say &quot;hi&quot;" frameborder="0" '
        'allow="autoplay; fullscreen; picture-in-picture" allowfullscreen></iframe>'
    )
    assert answer["thumbnail_url"] is None and answer["thumbnail_width"] is None  # no poster frame yet
    assert response.headers["Cache-Control"] == f"public, max-age={answer['cache_age']}"


@pytest.mark.parametrize(
    ("size", "query", "expected"),
    [
        ((1920, 1080), "&maxwidth=320", (320, 180)),
        ((1920, 1080), "&maxheight=180", (320, 180)),
        ((1080, 1920), "", (640, 1138)),
        ((1080, 1920), "&maxheight=400", (225, 400)),
        ((1920, 1080), "&maxwidth=1000&maxheight=1000", (640, 360)),
    ],
)
def test_oembed_sizes_fit_the_bounds(
    client: Any, create_video: Any, size: tuple[int, int], query: str, expected: tuple[int, int]
) -> None:
    video = create_video(published=True, width=size[0], height=size[1])
    answer = _oembed(client, f"{EMBED}{video['id']}", query).json_body
    assert (answer["width"], answer["height"]) == expected
    assert f'width="{expected[0]}" height="{expected[1]}"' in answer["html"]


def test_oembed_gives_the_thumbnail_with_its_size(client: Any, create_video: Any) -> None:
    video = create_video(published=True, width=1920, height=1080, thumbnailUrl="https://img.example.test/t.jpg")
    answer = _oembed(client, f"{EMBED}{video['id']}").json_body
    assert (answer["thumbnail_url"], answer["thumbnail_width"], answer["thumbnail_height"]) == (
        "https://img.example.test/t.jpg",
        1280,
        720,
    )


def test_oembed_answers_the_same_fields_as_xml(client: Any, create_video: Any) -> None:
    from xml.etree import ElementTree

    video = create_video(published=True, title="Fish & <chips>", width=1920, height=1080, thumbnailUrl=None)
    as_json = _oembed(client, f"{EMBED}{video['id']}").json_body
    response = _oembed(client, f"{EMBED}{video['id']}", "&format=xml")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/xml")
    root = ElementTree.fromstring(response.body)
    assert root.tag == "oembed"
    as_xml = {child.tag: child.text for child in root}
    assert as_xml == {name: str(value) for name, value in as_json.items() if value is not None}
    assert as_xml["title"] == "Fish & <chips>"


def test_oembed_refuses_what_it_does_not_offer(client: Any, create_video: Any) -> None:
    published = create_video(published=True)
    hidden = create_video(published=False)
    assert _oembed(client, f"{EMBED}{hidden['id']}").status_code == 404
    assert _oembed(client, f"{EMBED}999999").status_code == 404
    assert _oembed(client, f"{EMBED}{published['id']}", "&format=yaml").status_code == 400
    for url in (
        f"https://elsewhere.example/api/embed/{published['id']}",
        f"http://media.test/api/videos/{published['id']}",
        f"http://media.test:81/api/embed/{published['id']}",
        f"{EMBED}{published['id']}/extra",
        "not a url",
        "http://[::1",
    ):
        response = _oembed(client, url)
        assert response.status_code == 400, url
        assert "embed pages" in response.json_body["message"]
    assert client.http.get("/api/oembed").status_code == 400  # url is required
    assert _oembed(client, f"{EMBED}{published['id']}", "&format=yaml").status_code == 400
