"""A link shared by a source's items is not an identity: a podcast whose every `<link>`
is its homepage, a Hugo taxonomy feed, a WordPress set-up that links every item to the
front page. Each item stays its own story; a genuine repost (the same title again, a
day later, with a new guid) still joins its story, and a story never keeps more than a
repost or two from one source. Real servers on 127.0.0.1, a real SQLite file, and the
published JSON Feed read back.
"""

from __future__ import annotations

import json
import sqlite3
import uuid
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

from pytest_httpserver import HTTPServer
from servers import LOOPBACK_YAML
from werkzeug import Request, Response

from feeds import config, pipeline
from feeds.store import open_store

REAL = Path(__file__).parent / "data" / "real"
NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


def _rss(items: list[tuple[str, str, str, datetime]]) -> bytes:
    """RSS of (guid, link, title, date) items."""
    body = "".join(
        f"<item><title>{title}</title><link>{link}</link><guid>{guid}</guid>"
        f"<pubDate>{format_datetime(when)}</pubDate><description>{title}: "
        "حلقة جديدة من البرنامج.</description></item>"
        for guid, link, title, when in items
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>'
        f"<title>t</title><link>https://pod.example/</link>{body}</channel></rss>"
    ).encode()


def _config(tmp_path: Path, urls: list[str]) -> config.Config:
    sources = "".join(f"  - url: {json.dumps(u)}\n    name: {json.dumps(u[-12:])}\n" for u in urls)
    path = tmp_path / "config.yaml"
    path.write_text(
        "title: t\nbase_url: https://example.org/feeds/\noutput_dir: out\n"
        f"database: data/feeds.db\n{LOOPBACK_YAML}\n"
        f"sources:\n{sources}feeds:\n  - slug: all\n    title: all\n    limit: 2000\n",
        encoding="utf-8",
    )
    return config.load(path)


def _published(cfg: config.Config) -> list[dict[str, object]]:
    doc = json.loads((Path(cfg.output_dir) / "all.json").read_text(encoding="utf-8"))
    items: list[dict[str, object]] = doc["items"]
    return items


def _pass(cfg: config.Config, now: datetime = NOW) -> None:
    with open_store(cfg.database) as store:
        pipeline.run_pass(cfg, store, every=True, now=lambda: now)


def test_episodes_sharing_the_homepage_link_are_each_a_story(
    tmp_path: Path, httpserver: HTTPServer
) -> None:
    episodes = [
        (f"https://pod.example/shows/{n}.mp3", "https://pod.example/", f"الحلقة {n}: موضوع {n}",
         NOW - timedelta(days=30 * n))
        for n in range(1, 41)
    ]  # fmt: skip
    httpserver.expect_request("/pod.rss").respond_with_data(_rss(episodes))
    cfg = _config(tmp_path, [httpserver.url_for("/pod.rss")])
    _pass(cfg)
    items = _published(cfg)
    assert len(items) == 40
    assert len({i["id"] for i in items}) == 40


def test_a_new_episode_on_a_later_pass_is_a_story_of_its_own(
    tmp_path: Path, httpserver: HTTPServer
) -> None:
    first = [("g1", "https://pod.example/", "الحلقة الأولى", NOW - timedelta(days=7))]
    later = [*first, ("g2", "https://pod.example/", "الحلقة الثانية", NOW)]
    httpserver.expect_request("/pod.rss").respond_with_data(_rss(first))
    cfg = _config(tmp_path, [httpserver.url_for("/pod.rss")])
    _pass(cfg, NOW - timedelta(days=7))
    ids = {i["id"] for i in _published(cfg)}
    httpserver.clear()
    httpserver.expect_request("/pod.rss").respond_with_data(_rss(later))
    _pass(cfg)
    items = _published(cfg)
    assert len(items) == 2
    assert ids < {i["id"] for i in items}  # the first episode's story keeps its id


def test_a_repost_joins_its_story_and_other_sources_join_by_link(
    tmp_path: Path, httpserver: HTTPServer
) -> None:
    link = "https://news.example/2026/11/ai-law"
    title = "البرلمان يقر قانون الذكاء الاصطناعي"
    own = [
        ("p1", link, title, NOW - timedelta(days=1)),
        ("p1-again", link, title, NOW - timedelta(hours=3)),  # re-posted with a new guid
    ]
    other = [("x9", link, "قانون جديد للذكاء الاصطناعي", NOW - timedelta(hours=20))]
    httpserver.expect_request("/own.rss").respond_with_data(_rss(own))
    httpserver.expect_request("/other.rss").respond_with_data(_rss(other))
    cfg = _config(tmp_path, [httpserver.url_for("/own.rss"), httpserver.url_for("/other.rss")])
    _pass(cfg)
    items = _published(cfg)
    assert len(items) == 1
    sources = items[0]["_feeds"]["sources"]  # type: ignore[index]
    assert len(sources) == 3


def test_a_story_keeps_at_most_two_reposts_from_one_source(
    tmp_path: Path, httpserver: HTTPServer
) -> None:
    link = "https://news.example/weekly"
    title = "النشرة الأسبوعية للتقنية"  # the same title and link, posted again and again
    posts = [(f"w{n}", link, title, NOW - timedelta(hours=5 * n)) for n in range(10)]
    httpserver.expect_request("/w.rss").respond_with_data(_rss(posts))
    cfg = _config(tmp_path, [httpserver.url_for("/w.rss")])
    _pass(cfg)
    with sqlite3.connect(cfg.database) as db:
        sizes = [n for (n,) in db.execute("SELECT count(*) FROM articles GROUP BY story_id")]
    assert sum(sizes) == 10
    assert max(sizes) <= 3


def _sizes(cfg: config.Config) -> tuple[int, list[int]]:
    """(articles stored, the largest count of one source's articles in one story first)."""
    with sqlite3.connect(cfg.database) as db:
        stored = db.execute("SELECT count(*) FROM articles").fetchone()[0]
        per_source = [
            n
            for (n,) in db.execute(
                "SELECT count(*) FROM articles GROUP BY story_id, source_url ORDER BY 1 DESC"
            )
        ]
    return stored, per_source


def test_items_sharing_one_guid_are_each_an_article_and_a_story(
    tmp_path: Path, httpserver: HTTPServer
) -> None:
    # A feed that gives every item its homepage as guid: read as the items' identity,
    # the twelve were one article (each overwrote the one before) in one story.
    posts = [
        ("https://site.example/", f"https://site.example/p/{n}", f"خبر رقم {n} عن موضوع {n}",
         NOW - timedelta(hours=3 * n))
        for n in range(12)
    ]  # fmt: skip
    httpserver.expect_request("/a.rss").respond_with_data(_rss(posts))
    cfg = _config(tmp_path, [httpserver.url_for("/a.rss")])
    _pass(cfg)
    stored, per_source = _sizes(cfg)
    assert stored == 12
    assert per_source == [1] * 12
    assert len(_published(cfg)) == 12


def test_items_sharing_one_link_and_no_guid_are_each_an_article(
    tmp_path: Path, httpserver: HTTPServer
) -> None:
    posts = [("", "https://pod.example/", f"الحلقة {n}: ضيف {n}", NOW - timedelta(days=n))
             for n in range(1, 9)]  # fmt: skip
    body = _rss(posts).replace(b"<guid></guid>", b"")
    assert b"<guid>" not in body
    httpserver.expect_request("/pod.rss").respond_with_data(body)
    cfg = _config(tmp_path, [httpserver.url_for("/pod.rss")])
    _pass(cfg)
    stored, per_source = _sizes(cfg)
    assert stored == 8
    assert per_source == [1] * 8


def test_a_title_two_sites_post_every_day_is_not_one_story(
    tmp_path: Path, httpserver: HTTPServer
) -> None:
    # Each issue of a daily digest joined the story of the day before by the other
    # site's copy of that title (the exact-title tier), and the story grew by two
    # articles a day: 20 days made one story of 40.
    title = "النشرة اليومية لأخبار التقنية"
    urls = []
    for site, late in (("a", 0), ("b", 3)):
        posts = [
            (f"{site}{n}", f"https://{site}.example/d/{n}", title,
             NOW - timedelta(hours=24 * n + late))
            for n in range(20)
        ]  # fmt: skip
        httpserver.expect_request(f"/{site}.rss").respond_with_data(_rss(posts))
        urls.append(httpserver.url_for(f"/{site}.rss"))
    cfg = _config(tmp_path, urls)
    _pass(cfg)
    stored, per_source = _sizes(cfg)
    assert stored == 40
    assert per_source[0] <= 1 + 2  # an article and a repost or two (REPOSTS), never dozens


def test_one_title_without_a_name_over_leads_of_other_companies_is_two_stories(
    tmp_path: Path, httpserver: HTTPServer
) -> None:
    # The exact-title tier made one story of two outlets' digests of the day: the title
    # names nothing, and their leads name other companies. A title without a name whose
    # leads name the same company is still one story.
    leads = {
        "a": ["أبل تطلق تحديثا، وسامسونج تخفض الأسعار، وإنتل تعلن معالجا.",
              "أعلنت سامسونج رفع أسعار هواتفها في الأسواق العربية بنسبة كبيرة."],
        "b": ["ميتا تختبر نظارات، ونتفليكس ترفع الاشتراك، وتسلا تستدعي سيارات.",
              "قالت سامسونج إنها سترفع أسعار هواتفها بسبب كلفة الذاكرة."],
    }  # fmt: skip
    titles = ["نشرة التقنية اليوم", "ارتفاع أسعار الهواتف الذكية"]
    urls = []
    for site, (digest, phones) in leads.items():
        items = "".join(
            f"<item><title>{title}</title><link>https://{site}.example/{n}</link>"
            f"<description>{lead}</description>"
            f"<pubDate>{format_datetime(NOW - timedelta(hours=n + 1))}</pubDate></item>"
            for n, (title, lead) in enumerate(zip(titles, (digest, phones), strict=True))
        )
        body = f'<rss version="2.0"><channel><title>{site}</title>{items}</channel></rss>'
        httpserver.expect_request(f"/{site}.rss").respond_with_data(body.encode())
        urls.append(httpserver.url_for(f"/{site}.rss"))
    cfg = _config(tmp_path, urls)
    _pass(cfg)
    told = sorted((str(i["title"]), len(i["_feeds"]["sources"])) for i in _published(cfg))  # type: ignore[index, arg-type]
    assert told == [(titles[1], 2), (titles[0], 1), (titles[0], 1)]


def test_an_aggregators_copy_joins_the_story_its_outlet_tells(
    tmp_path: Path, httpserver: HTTPServer
) -> None:
    # A Google News feed beside a site it links: its item's title carries the outlet's
    # name, and its excerpt is the headline linked. The story is told once, led by the
    # site's own article; a story only the aggregator tells has no empty excerpt block.
    earlier = NOW - timedelta(hours=1)  # the aggregator was first

    def gn_item(n: int, headline: str, outlet: str) -> str:
        link = f"https://news.google.com/rss/articles/CBMi{n}?oc=5"
        return (
            f"<item><title>{headline} - {outlet}</title><link>{link}</link>"
            f'<guid isPermaLink="false">CBMi{n}</guid><pubDate>{format_datetime(earlier)}</pubDate>'
            f'<description>&lt;a href="{link}"&gt;{headline}&lt;/a&gt;&amp;nbsp;&amp;nbsp;'
            f'&lt;font color="#6f6f6f"&gt;{outlet}&lt;/font&gt;</description>'
            f'<source url="https://{n}.example/">{outlet}</source></item>'
        )

    told, alone = "سامسونج تكشف عن جالاكسي S27 ألترا بمعالج جديد", "جوجل تعلن عن جيميناي 4 رسميا"
    gn = gn_item(1, told, "البوابة التقنية") + gn_item(2, alone, "سكاي نيوز عربية")
    site = (
        f"<item><title>{told}</title><link>https://1.example/s27</link>"
        f"<pubDate>{format_datetime(NOW)}</pubDate>"
        "<description>كشفت سامسونج اليوم عن هاتفها الجديد بمعالج أسرع.</description></item>"
    )
    for name, items in (("gn", gn), ("site", site)):
        body = f'<rss version="2.0"><channel><title>{name}</title>{items}</channel></rss>'
        httpserver.expect_request(f"/{name}.rss").respond_with_data(body.encode())
    cfg = _config(tmp_path, [httpserver.url_for("/gn.rss"), httpserver.url_for("/site.rss")])
    _pass(cfg)
    items = {str(i["title"]): i for i in _published(cfg)}
    assert sorted(items) == sorted([told, alone])
    assert items[told]["url"] == "https://1.example/s27"
    assert len(items[told]["_feeds"]["sources"]) == 2  # type: ignore[index]
    assert str(items[told]["content_html"]).startswith('<div dir="rtl" lang="ar">كشفت')
    assert items[alone]["content_html"] == ""


def test_an_aggregators_outlets_telling_one_story_are_one_item(
    tmp_path: Path, httpserver: HTTPServer
) -> None:
    # A Google News feed lists several outlets' takes on one story. As items of one
    # source they could never share a story ("a source does not publish one story
    # twice"), and the story came out three times. Each outlet it names is now a source
    # of its own to clustering, and is named as the story's other coverage; two stories
    # of one outlet stay two.
    def item(n: int, title: str, outlet: str) -> str:
        link = f"https://news.google.com/rss/articles/CBMi{n}?oc=5"
        when = format_datetime(NOW - timedelta(hours=n))
        return (
            f"<item><title>{title} - {outlet}</title><link>{link}</link>"
            f'<guid isPermaLink="false">CBMi{n}</guid><pubDate>{when}</pubDate>'
            f'<source url="https://o{len(outlet)}.example/">{outlet}</source></item>'
        )

    told = [
        ("سامسونج تكشف عن جالاكسي S27 ألترا بمعالج جديد", "البوابة التقنية"),
        ("سامسونج تعلن رسميا عن هاتف جالاكسي S27 ألترا", "سكاي نيوز عربية"),
        ("رسميا.. سامسونج تطلق Galaxy S27 Ultra بمعالج أسرع", "عالم التقنية"),
        ("أبل تطلق تحديث iOS 27 بميزات ذكاء اصطناعي", "عالم التقنية"),
    ]
    items = "".join(item(n, title, outlet) for n, (title, outlet) in enumerate(told, 1))
    body = f'<rss version="2.0"><channel><title>أخبار Google</title>{items}</channel></rss>'
    httpserver.expect_request("/gn.rss").respond_with_data(body.encode())
    cfg = _config(tmp_path, [httpserver.url_for("/gn.rss")])
    _pass(cfg)
    published = {str(i["title"]): i for i in _published(cfg)}
    assert sorted(published) == sorted([told[3][0], told[2][0]])  # the earliest title leads
    sources = published[told[2][0]]["_feeds"]["sources"]  # type: ignore[index]
    assert sorted(s["name"] for s in sources) == sorted(o for _, o in told[:3])
    also = str(published[told[2][0]]["content_html"]).split("<h4>")[1]
    assert "سكاي نيوز عربية" in also and "البوابة التقنية" in also


def test_an_aggregators_outlets_with_one_agency_headline_are_one_item(
    tmp_path: Path, httpserver: HTTPServer
) -> None:
    # Two outlets ran the agency's headline word for word: once their names and the
    # link-only excerpts were gone, the feed gave one title to two items of different
    # texts, which read as a label ("منشور جديد"), and each outlet was a story.
    headline, when = "أبل تطلق آيفون 18 برو بكاميرا جديدة", format_datetime(NOW)
    items = "".join(
        f"<item><title>{headline} - {outlet}</title><link>https://news.google.com/a/{n}</link>"
        f"<pubDate>{when}</pubDate><description>&lt;a href='https://news.google.com/a/{n}'"
        f"&gt;{headline}&lt;/a&gt;&amp;nbsp;&amp;nbsp;&lt;font&gt;{outlet}&lt;/font&gt;"
        f'</description><source url="https://o{n}.example/">{outlet}</source></item>'
        for n, outlet in enumerate(("سكاي نيوز عربية", "العربية"))
    )
    body = f'<rss version="2.0"><channel><title>أخبار Google</title>{items}</channel></rss>'
    httpserver.expect_request("/gn.rss").respond_with_data(body.encode())
    cfg = _config(tmp_path, [httpserver.url_for("/gn.rss")])
    _pass(cfg)
    (item,) = _published(cfg)
    names = sorted(s["name"] for s in item["_feeds"]["sources"])  # type: ignore[index]
    assert (item["title"], names) == (headline, ["العربية", "سكاي نيوز عربية"])


def test_the_real_corpus_publishes_every_entry(tmp_path: Path, httpserver: HTTPServer) -> None:
    files = sorted(p.name for p in REAL.iterdir() if p.name not in ("MANIFEST.tsv", "README.md"))
    for name in files:
        httpserver.expect_request(f"/{name}").respond_with_data((REAL / name).read_bytes())
    cfg = _config(tmp_path, [httpserver.url_for(f"/{n}") for n in files])
    _pass(cfg)
    with sqlite3.connect(cfg.database) as db:
        articles = db.execute("SELECT count(*) FROM articles").fetchone()[0]
        lumped = db.execute(
            "SELECT story_id, source_url, count(*) FROM articles "
            "GROUP BY story_id, source_url HAVING count(*) > 1"
        ).fetchall()
    assert lumped == []
    assert len(_published(cfg)) == articles


def test_a_store_that_lumped_episodes_together_is_split_keeping_the_story_id(
    tmp_path: Path, httpserver: HTTPServer
) -> None:
    """A store written before this rule holds one story of many episodes: the schema
    migration unfiles all but the first, and the next pass files each on its own."""
    episodes = [
        (f"ep{n}", "https://pod.example/", f"الحلقة رقم {n}", NOW - timedelta(days=n))
        for n in range(1, 6)
    ]
    httpserver.expect_request("/pod.rss").respond_with_data(_rss(episodes))
    cfg = _config(tmp_path, [httpserver.url_for("/pod.rss")])
    _pass(cfg)
    with sqlite3.connect(cfg.database) as db:  # as the old rule filed them: one story
        (first,) = db.execute(
            "SELECT story_id FROM articles ORDER BY published, id LIMIT 1"
        ).fetchone()
        db.execute("UPDATE articles SET story_id = ?", (first,))
        db.execute("DELETE FROM stories WHERE id != ?", (first,))
        db.execute("PRAGMA user_version = 5")
    _pass(cfg, NOW + timedelta(minutes=20))
    items = _published(cfg)
    assert len(items) == 5
    assert f"urn:feeds:story:{first}" in {i["id"] for i in items}
    with sqlite3.connect(cfg.database) as db:
        assert db.execute("SELECT count(DISTINCT story_id) FROM articles").fetchone() == (5,)


def test_two_sites_boilerplate_does_not_make_their_items_one_story(
    tmp_path: Path, httpserver: HTTPServer
) -> None:
    # Two sites of one network send each headline over the same long text. One item
    # each: neither feed shows the text as its own boilerplate, and the two texts are
    # nearly the same, a wire copy but for titles that name other companies.
    boiler = (
        "تابعوا آخر أخبار التقنية والهواتف الذكية والتطبيقات على موقعنا واشتركوا في "
        "نشرتنا البريدية لتصلكم أحدث المراجعات والتحليلات والمقارنات أولا بأول وتابعونا "
        "على حساباتنا في الشبكات الاجتماعية. اقرأ المزيد"
    )
    titles = {"a": "سامسونج تطلق هاتفا قابلا للطي", "b": "إنفيديا تكشف عن شريحة جديدة"}
    urls = []
    for site, title in titles.items():
        body = (
            '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>t</title>'
            f"<link>https://{site}.example/</link><item><title>{title}</title>"
            f"<link>https://{site}.example/1</link><guid>{site}1</guid>"
            f"<pubDate>{format_datetime(NOW - timedelta(hours=1))}</pubDate>"
            f"<description>{title}. {boiler}</description></item></channel></rss>"
        )
        httpserver.expect_request(f"/{site}.rss").respond_with_data(body.encode())
        urls.append(httpserver.url_for(f"/{site}.rss"))
    cfg = _config(tmp_path, urls)
    _pass(cfg)
    assert len(_published(cfg)) == 2


#: Eight posts on unrelated subjects, for the label-title tests.
_UNRELATED = (
    "شرح طريقة تثبيت تحديث أندرويد الجديد على الهواتف القديمة",
    "أسعار الذهب ترتفع في الأسواق المحلية اليوم",
    "مباراة نهائي الكأس تنتهي بالتعادل بعد وقت إضافي",
    "افتتاح معرض الكتاب الدولي بمشاركة واسعة من الناشرين",
    "تحذير من موجة حر شديدة تضرب المنطقة هذا الأسبوع",
    "وزارة التعليم تعلن موعد بدء العام الدراسي الجديد",
    "انخفاض أسعار تذاكر الطيران إلى أوروبا في الشتاء",
    "افتتاح مستشفى جديد للأطفال في العاصمة",
)


def test_two_feeds_that_give_every_item_one_title_are_not_paired_by_it(
    tmp_path: Path, httpserver: HTTPServer
) -> None:
    # Both sites title every post "منشور جديد على القناة" (a channel bridged to RSS):
    # the exact title tier paired their posts, whatever they said.
    urls = []
    for site, shift in (("a", 0), ("b", 4)):
        body = "".join(
            f"<item><title>منشور جديد على القناة</title><link>https://{site}.example/p/{n}</link>"
            f"<pubDate>{format_datetime(NOW - timedelta(hours=n, minutes=10 * shift))}</pubDate>"
            f"<description>{_UNRELATED[n + shift]}</description></item>"
            for n in range(4)
        )
        feed = f'<rss version="2.0"><channel><title>{site}</title>{body}</channel></rss>'
        httpserver.expect_request(f"/{site}.rss").respond_with_data(feed.encode())
        urls.append(httpserver.url_for(f"/{site}.rss"))
    cfg = _config(tmp_path, urls)
    _pass(cfg)
    items = _published(cfg)
    assert len(items) == 8
    assert all(len(i["_feeds"]["sources"]) == 1 for i in items)  # type: ignore[index]


def test_a_label_title_shown_one_item_at_a_time_is_not_a_headline(
    tmp_path: Path, httpserver: HTTPServer
) -> None:
    # Each feed shows only its latest post, so no one fetch shows the title twice; the
    # label is seen across passes, in the index.
    shown = {"a": 0, "b": 0}

    def feed(request: Request) -> Response:
        site = request.path[1]
        n = shown[site]
        item = (
            f"<item><title>منشور جديد على القناة</title><link>https://{site}.example/p/{n}"
            f"</link><pubDate>{format_datetime(NOW + timedelta(hours=n))}</pubDate>"
            f"<description>{_UNRELATED[n + 4 * (site == 'b')]}</description></item>"
        )
        body = f'<rss version="2.0"><channel><title>{site}</title>{item}</channel></rss>'
        return Response(body.encode(), content_type="application/rss+xml")

    for site in "ab":
        httpserver.expect_request(f"/{site}.rss").respond_with_handler(feed)
    cfg = _config(tmp_path, [httpserver.url_for("/a.rss"), httpserver.url_for("/b.rss")])
    for n in range(4):
        shown.update(a=n, b=n)
        _pass(cfg, NOW + timedelta(hours=n, minutes=5))
    # The first two posts were one story by their title, before any label showed;
    # every later one is a story of its own (before, each pass paired the two).
    sizes = sorted(len(i["_feeds"]["sources"]) for i in _published(cfg))  # type: ignore[index]
    assert sizes == [1, 1, 1, 1, 1, 1, 2]


def test_items_whose_guids_change_on_every_fetch_stay_one_article_each(
    tmp_path: Path, httpserver: HTTPServer
) -> None:
    # A feed that makes a new guid per item on every request (a random UUID): before,
    # every pass brought 4 new articles, and from the fourth pass on each item was
    # published again as a story of its own (REPOSTS copies of one source at most).
    titles = ["آبل تطلق هاتفا جديدا", "جوجل تعلن نموذجا للمطورين", "سامسونج تكشف هاتفا مطويا"]

    def feed(_request: Request) -> Response:
        items = [
            (str(uuid.uuid4()), f"https://news.example/a/{n}", t, NOW - timedelta(hours=n))
            for n, t in enumerate(titles)
        ]
        return Response(_rss(items), content_type="application/rss+xml")

    httpserver.expect_request("/news.rss").respond_with_handler(feed)
    cfg = _config(tmp_path, [httpserver.url_for("/news.rss")])
    _pass(cfg)
    first = {p.name: p.read_bytes() for p in Path(cfg.output_dir).iterdir() if p.is_file()}
    for hours in range(1, 6):
        _pass(cfg, NOW + timedelta(hours=hours))
    with sqlite3.connect(cfg.database) as db:
        assert db.execute("SELECT count(*), count(DISTINCT story_id) FROM articles").fetchone() == (
            3,
            3,
        )
    assert sorted(i["title"] for i in _published(cfg)) == sorted(titles)
    # Nothing new, so nothing rewritten.
    assert {p.name: p.read_bytes() for p in Path(cfg.output_dir).iterdir() if p.is_file()} == first


def test_an_item_under_a_new_guid_keeps_its_id_and_a_new_title_is_new(
    tmp_path: Path, httpserver: HTTPServer
) -> None:
    link = "https://news.example/a/1"
    when = NOW - timedelta(hours=2)
    httpserver.expect_ordered_request("/news.rss").respond_with_data(
        _rss([("g1", link, "آبل تطلق هاتفا جديدا", when)])
    )
    httpserver.expect_ordered_request("/news.rss").respond_with_data(
        _rss([("g2", link, "آبل تطلق هاتفا جديدا", when), ("g3", link, "خبر آخر تماما", when)])
    )
    cfg = _config(tmp_path, [httpserver.url_for("/news.rss")])
    _pass(cfg)
    with sqlite3.connect(cfg.database) as db:
        (first,) = db.execute("SELECT id, first_seen FROM articles").fetchall()
    _pass(cfg, NOW + timedelta(hours=1))
    with sqlite3.connect(cfg.database) as db:
        rows = db.execute("SELECT id, first_seen, title FROM articles ORDER BY title").fetchall()
    # The same link and title under g2 is the stored article, first seen when it was;
    # under another title the same link is a new article.
    assert rows[0] == (*first, "آبل تطلق هاتفا جديدا")
    assert rows[1][0] != first[0] and rows[1][2] == "خبر آخر تماما"
    assert len(rows) == 2


def test_a_new_episode_under_a_label_title_never_overwrites_one_that_left_the_feed(
    tmp_path: Path, httpserver: HTTPServer
) -> None:
    # Every episode links to the homepage and is titled "الحلقة الجديدة"; the feed shows
    # the last three. The fourth is new, with its own guid: not the first, which left.
    def episodes(numbers: range) -> bytes:
        body = "".join(
            f"<item><title>الحلقة الجديدة</title><link>https://pod.example/</link>"
            f"<guid>https://pod.example/e/{n}.mp3</guid>"
            f"<pubDate>{format_datetime(NOW - timedelta(days=10 - n))}</pubDate>"
            f"<description>{_UNRELATED[n]}</description></item>"
            for n in numbers
        )
        return f'<rss version="2.0"><channel><title>p</title>{body}</channel></rss>'.encode()

    httpserver.expect_ordered_request("/pod.rss").respond_with_data(episodes(range(1, 4)))
    httpserver.expect_ordered_request("/pod.rss").respond_with_data(episodes(range(2, 5)))
    cfg = _config(tmp_path, [httpserver.url_for("/pod.rss")])
    _pass(cfg)
    _pass(cfg, NOW + timedelta(hours=1))
    with sqlite3.connect(cfg.database) as db:
        texts = {t for (t,) in db.execute("SELECT summary_html FROM articles")}
    assert len(texts) == 4
    assert all(any(_UNRELATED[n] in t for t in texts) for n in range(1, 5))
