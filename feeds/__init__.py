"""feeds: merged Arabic tech-news feeds (RSS 2.0, Atom 1.0, JSON Feed 1.1).

Heavy modules (httpx, feedparser, feedgen, dateparser) are imported by the stages that
use them, not here, so `feeds --help` starts fast.
"""

import logging

__version__ = "0.1.0"
__all__ = ["__version__"]

logging.getLogger("feeds").addHandler(logging.NullHandler())
